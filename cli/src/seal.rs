//! `medseal seal`: encrypt a record (usually a signed JWS) to one or more X25519 recipients as
//! a sealed envelope (HPKE, RFC 9180), with routing metadata in clear but bound to it.

use std::path::PathBuf;

use clap::ValueEnum;
use medseal::seal::MAX_ENVELOPE_BYTES;
use medseal::{Aead, Envelope, Meta, RecipientKey, ResultCode};

use crate::{io, key, usage_error, Failure};

/// The meta keys `--meta` accepts, in the order the help lists them.
const META_KEYS: [&str; 5] = ["record_id", "source", "sequence", "created", "content_type"];

/// Seal a record to one or more recipients (HPKE base mode, X25519, HKDF-SHA256).
///
/// Typical use: `medseal sign --key me.pem record.json | medseal seal --to hub.pub --meta
/// source=bv-cho-ray --meta sequence=42 > record.sealed.json`. The meta travels in clear and is
/// authenticated: changing any of it makes the envelope fail to open. Keys of --meta:
/// record_id (default: a random UUID), source (required), sequence (required, 1 to 2^53-1),
/// created (default: now, RFC 3339 UTC), content_type (default: application/jose for a compact
/// medseal JWS, else application/jose+json).
/// See docs/SEALED_ENVELOPES.md for the format.
#[derive(clap::Args)]
pub struct Args {
    /// A recipient's X25519 key (SPKI or PKCS#8, PEM or DER, or JWK; a private key is used for
    /// its public half). Repeat for several recipients: each can open the envelope alone.
    #[arg(long = "to", value_name = "PUBLIC_KEY", required = true)]
    to: Vec<PathBuf>,
    /// Routing metadata, KEY=VALUE (repeatable): record_id, source, sequence, created,
    /// content_type.
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    meta: Vec<String>,
    /// The AEAD of the HPKE suite.
    #[arg(long, value_enum, default_value_t = AeadArg::Aes256gcm)]
    aead: AeadArg,
    /// Output encoding: the JSON mapping (one line) or protobuf bytes (medseal.v1.SealedRecord).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// The record to seal (default: standard input; `-` also means stdin).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum AeadArg {
    /// AES-256-GCM (HPKE AEAD 0x0002).
    Aes256gcm,
    /// ChaCha20-Poly1305 (HPKE AEAD 0x0003).
    #[value(name = "chacha20poly1305")]
    ChaCha20Poly1305,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// JSON mapping, canonical, followed by a newline.
    Json,
    /// Protobuf bytes, exactly as the hub receives them.
    Proto,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let stdin_uses = args.to.iter().map(|p| Some(p.as_path())).chain([args.file.as_deref()]).filter(|p| io::is_stdin(*p)).count();
    if stdin_uses > 1 {
        usage_error("seal", "standard input can feed only one of the record and the keys");
    }
    let (mut meta, content_type_given) = parse_meta(&args.meta)?;
    let recipients = args.to.iter().map(|path| key::load_recipient(path).map(|k| k.to_public())).collect::<Result<Vec<_>, _>>()?;
    let recipients: Vec<&RecipientKey> = recipients.iter().collect();
    let path = args.file.as_deref();
    let plaintext = io::read_input(path, MAX_ENVELOPE_BYTES as u64 + 1)?;
    if plaintext.len() > MAX_ENVELOPE_BYTES {
        return Err(Failure::Medseal(medseal::Error::new(
            ResultCode::MEDSEAL_SEAL_TOO_LARGE,
            format!("{} is larger than the limit of {MAX_ENVELOPE_BYTES} bytes", io::name(path)),
        )));
    }
    if !content_type_given && medseal::record::check_unverified(&plaintext).is_ok() {
        // A signed medseal record: labelled by its form, as the outbox labels it.
        meta.content_type = medseal::record::content_type_of(&plaintext).to_owned();
    }
    let aead = match args.aead {
        AeadArg::Aes256gcm => Aead::Aes256Gcm,
        AeadArg::ChaCha20Poly1305 => Aead::ChaCha20Poly1305,
    };
    let envelope = Envelope::seal(&plaintext, meta, &recipients, aead)?;
    match args.format {
        Format::Json => {
            let mut json = envelope.to_json()?;
            json.push(b'\n');
            io::write_stdout(&json)
        }
        Format::Proto => io::write_stdout(&envelope.to_protobuf()?),
    }
}

/// Builds the meta from `--meta KEY=VALUE` arguments. Unknown, repeated or malformed keys and
/// missing required ones are usage errors; the values themselves are checked by the library.
/// Also says whether `content_type` was given (else the record's form decides it).
fn parse_meta(pairs: &[String]) -> Result<(Meta, bool), Failure> {
    let mut values: [Option<&str>; 5] = [None; 5];
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            usage_error("seal", &format!("--meta takes KEY=VALUE, not '{pair}'"));
        };
        let Some(index) = META_KEYS.iter().position(|k| *k == name) else {
            usage_error("seal", &format!("unknown meta key '{name}'; the keys are {}", META_KEYS.join(", ")));
        };
        if values[index].replace(value).is_some() {
            usage_error("seal", &format!("meta key '{name}' is given twice"));
        }
    }
    let [record_id, source, sequence, created, content_type] = values;
    let Some(source) = source else {
        usage_error("seal", "the meta key 'source' is required: --meta source=FACILITY");
    };
    let Some(sequence) = sequence else {
        usage_error("seal", "the meta key 'sequence' is required: --meta sequence=N (1, 2, 3, ... per source)");
    };
    let Ok(sequence) = sequence.parse::<u64>() else {
        usage_error("seal", &format!("meta sequence must be a whole number, not '{sequence}'"));
    };
    let record_id = match record_id {
        Some(id) => id.to_owned(),
        None => random_uuid()?,
    };
    let mut meta = Meta::new(record_id, source, sequence);
    if let Some(created) = created {
        meta.created = created.to_owned();
    }
    if let Some(content_type) = content_type {
        meta.content_type = content_type.to_owned();
    }
    Ok((meta, content_type.is_some()))
}

/// A random record id: 16 bytes from the system generator, written as an RFC 9562 version 4
/// UUID (lowercase hex, 8-4-4-4-12).
fn random_uuid() -> Result<String, Failure> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| medseal::Error::new(ResultCode::MEDSEAL_SYSTEM_ERROR, "the system random generator failed"))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}
