//! `medseal trust`: make, sign, verify and show trust lists (DESIGN 3.6, docs/TRUST_LISTS.md).
//! The health department runs `create` and `sign`; facilities and auditors run `verify` and
//! `show`. Every rule about the list itself is the library's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use medseal::canon::{self as json, CanonOptions};
use medseal::trust::{self, Role, TrustEntry, TrustList};
use medseal::x509::Certificate;
use medseal::{Algorithm, Key, ResultCode, SignOptions, Signer, Verifier};

use crate::key::{self, RsaAlg};
use crate::{io, Failure};

/// Lists are JSON up to the library's 64 MiB limit; their JWS is a third larger.
const LIST_FILE_LIMIT: u64 = 96 << 20;

/// Certificate chain files are small; anything far larger is a wrong file.
const CERT_FILE_LIMIT: u64 = 1 << 20;

/// Make, sign, verify and show trust lists: the health department's signed list of the keys
/// it trusts, per facility and role.
#[derive(Subcommand)]
pub enum Command {
    Create(CreateArgs),
    Sign(SignArgs),
    Verify(VerifyArgs),
    Show(ShowArgs),
}

/// Create an unsigned trust list and print its canonical JSON
///
/// The JSON is followed by a newline. Each --entry is a comma-separated SPEC:
///   facility=ID,role=ROLE,key=FILE|cert=FILE[,alg=ALG][,kid=KID][,not-before=TIME][,not-after=TIME]
/// ROLE is record-signing, tls-client, receipt or tree-head; one key serves one role.
/// key=FILE is the facility's public key (PEM, DER or JWK): kid defaults to its RFC 7638
/// thumbprint, not-before to the list's issue time, and not-after is required.
/// cert=FILE is its certificate chain (PEM, leaf first, or one DER certificate): kid is the
/// leaf's x5t#S256, and the window defaults to the certificate's validity.
/// alg (EdDSA, ES256, RS256, PS256) chooses between RS256 and PS256 for RSA keys (default
/// RS256); other keys have one algorithm. TIME is RFC 3339 UTC, e.g. 2026-01-31T00:00:00Z.
/// File names cannot contain commas.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CreateArgs {
    /// Who signs the list, e.g. "HCMC Department of Health" (with --add-to: the existing issuer).
    #[arg(long, value_name = "TEXT", required_unless_present = "add_to")]
    issuer: Option<String>,
    /// The sequence number, at least 1 and higher than any list published before (with
    /// --add-to: the existing list's plus one).
    #[arg(long, value_name = "N", required_unless_present = "add_to", value_parser = clap::value_parser!(u64).range(1..))]
    sequence: Option<u64>,
    /// When the list stops being used (RFC 3339 UTC).
    #[arg(long, value_name = "TIME", value_parser = time_arg, required_unless_present = "valid_days", conflicts_with = "valid_days")]
    expires: Option<i64>,
    /// The list expires N days after it is issued.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36_600))]
    valid_days: Option<u32>,
    /// When the list is issued (RFC 3339 UTC; default: now).
    #[arg(long, value_name = "TIME", value_parser = time_arg)]
    issued: Option<i64>,
    /// An entry SPEC (see above). Repeat for several keys.
    #[arg(long = "entry", value_name = "SPEC", value_parser = spec_arg, required_unless_present = "add_to")]
    entries: Vec<EntrySpec>,
    /// Start from an existing list (JSON, or a signed list): keep its entries, add the --entry
    /// ones, and bump its sequence number.
    #[arg(long, value_name = "LIST")]
    add_to: Option<PathBuf>,
    /// With --add-to: drop every entry with this kid (revocation). Repeat for several.
    #[arg(long, value_name = "KID", requires = "add_to")]
    remove: Vec<String>,
    /// Write the list to FILE (atomically; owner-only) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long, requires = "out")]
    force: bool,
}

/// Sign a trust list (JSON) with the trust-list key.
///
/// Prints a flattened JWS with typ "medseal-trust-list+jws", followed by a newline. An expired
/// list is refused.
#[derive(clap::Args)]
pub struct SignArgs {
    /// The trust-list private key: PKCS#8 or PKCS#1 (PEM or DER), or a private JWK.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// For RSA keys: sign with RS256 (default) or PS256.
    #[arg(long, value_enum)]
    alg: Option<RsaAlg>,
    /// The kid header (default: the key's RFC 7638 thumbprint).
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Fixed signing time in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    signing_time: Option<i64>,
    /// Write the JWS to FILE (atomically; owner-only) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long, requires = "out")]
    force: bool,
    /// The list (JSON; default: standard input).
    #[arg(value_name = "LIST")]
    file: Option<PathBuf>,
}

/// Verify a signed trust list: its signature by a trust-list key, its form, expiry and
/// sequence number.
///
/// On success prints `valid: trust list <issuer> #<sequence>, <n> entries, expires <time>`;
/// otherwise `medseal: invalid: <reason> (<CODE>)` on stderr and exit code 1.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// A trust-list public key (PEM, DER or JWK). Repeat for several (key rollover).
    #[arg(long = "key", value_name = "KEY_FILE", required = true)]
    keys: Vec<PathBuf>,
    /// For RSA keys: verify as RS256 (default) or PS256.
    #[arg(long, value_enum)]
    alg: Option<RsaAlg>,
    /// Refuse lists with a lower sequence number (pass the highest one seen: no rollback).
    #[arg(long, value_name = "N", default_value_t = 0)]
    min_sequence: u64,
    /// Check expiry at this time, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    now: Option<i64>,
    /// The signed list (default: standard input).
    #[arg(value_name = "LIST")]
    file: Option<PathBuf>,
}

/// Show a trust list's header and entries as a table, without verifying it.
///
/// Does NOT check the signature, the expiry or the sequence number: use `medseal trust verify`
/// for that.
#[derive(clap::Args)]
pub struct ShowArgs {
    /// Print the list's canonical JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// A signed list (JWS) or an unsigned one (JSON; default: standard input).
    #[arg(value_name = "LIST")]
    file: Option<PathBuf>,
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Create(args) => create(args),
        Command::Sign(args) => sign(args),
        Command::Verify(args) => verify(args),
        Command::Show(args) => show(args),
    }
}

/// Where an entry's key comes from.
#[derive(Clone)]
enum Source {
    Key(PathBuf),
    Cert(PathBuf),
}

/// One `--entry`, parsed but not yet read.
#[derive(Clone)]
pub struct EntrySpec {
    facility: String,
    role: Role,
    source: Source,
    alg: Option<Algorithm>,
    kid: Option<String>,
    not_before: Option<i64>,
    not_after: Option<i64>,
}

fn time_arg(text: &str) -> Result<i64, String> {
    trust::parse_time(text).map_err(|e| e.message().to_owned())
}

fn spec_arg(text: &str) -> Result<EntrySpec, String> {
    const NAMES: [&str; 8] = ["facility", "role", "key", "cert", "alg", "kid", "not-before", "not-after"];
    let mut values: [Option<&str>; 8] = [None; 8];
    for part in text.split(',') {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("\"{part}\" is not name=value"));
        };
        let Some(slot) = NAMES.iter().position(|n| *n == name) else {
            return Err(format!("unknown field \"{name}\" (known: {})", NAMES.join(", ")));
        };
        if values[slot].replace(value).is_some() {
            return Err(format!("\"{name}\" is given twice"));
        }
        if value.is_empty() {
            return Err(format!("\"{name}\" is empty"));
        }
    }
    let [facility, role, key, cert, alg, kid, not_before, not_after] = values;
    let facility = facility.ok_or("facility=ID is required")?.to_owned();
    let role_name = role.ok_or("role=ROLE is required")?;
    let role = Role::from_str(role_name)
        .ok_or_else(|| format!("unknown role \"{role_name}\" (record-signing, tls-client, receipt or tree-head)"))?;
    let source = match (key, cert) {
        (Some(path), None) => Source::Key(path.into()),
        (None, Some(path)) => Source::Cert(path.into()),
        _ => return Err("give exactly one of key=FILE and cert=FILE".to_owned()),
    };
    let alg = alg
        .map(|name| Algorithm::from_jws_name(name).or_else(|| Algorithm::from_cli_name(name)).ok_or(format!("unknown alg \"{name}\"")))
        .transpose()?;
    let time = |t: Option<&str>| t.map(time_arg).transpose();
    let (not_before, not_after) = (time(not_before)?, time(not_after)?);
    if matches!(source, Source::Key(_)) && not_after.is_none() {
        return Err("not-after=TIME is required for key= entries (certificate entries default to the certificate's)".to_owned());
    }
    Ok(EntrySpec { facility, role, source, alg, kid: kid.map(str::to_owned), not_before, not_after })
}

/// Prefixes a library error with the file it is about (not for standard input).
fn in_file(path: Option<&Path>) -> impl Fn(medseal::Error) -> medseal::Error + '_ {
    move |e| if io::is_stdin(path) { e } else { medseal::Error::new(e.code(), format!("{}: {}", io::name(path), e.message())) }
}

fn error(code: ResultCode, message: String) -> Failure {
    Failure::Medseal(medseal::Error::new(code, message))
}

/// Reads an input of at most `limit` bytes.
fn read_limited(path: Option<&Path>, limit: u64, what: &str) -> Result<Vec<u8>, Failure> {
    let bytes = io::read_input(path, limit + 1)?;
    if bytes.len() as u64 > limit {
        return Err(error(
            ResultCode::MEDSEAL_TRUST_LIST_INVALID,
            format!("{} is larger than {limit} bytes; it is not {what}", io::name(path)),
        ));
    }
    Ok(bytes)
}

/// Whether the bytes are a JWS (compact, or JSON with `protected`/`signatures`) rather than
/// list JSON.
fn is_jws(bytes: &[u8]) -> bool {
    let text = bytes.trim_ascii();
    if !text.starts_with(b"{") {
        return true;
    }
    json::parse(text, &CanonOptions::plain()).is_ok_and(|v| v.get("protected").is_some() || v.get("signatures").is_some())
}

/// Reads a list without verifying it: JSON, or a signed list (the bool says which).
fn read_unverified(path: Option<&Path>) -> Result<(TrustList, bool), Failure> {
    let bytes = read_limited(path, LIST_FILE_LIMIT, "a trust list")?;
    let signed = is_jws(&bytes);
    let list = if signed { TrustList::from_jws_unverified(&bytes) } else { TrustList::from_json(&bytes) };
    Ok((list.map_err(in_file(path))?, signed))
}

/// Writes `bytes` to `--out` or stdout.
fn emit(bytes: &[u8], out: Option<&Path>, force: bool) -> Result<(), Failure> {
    match out {
        Some(path) => io::write_private_file(path, bytes, force),
        None => io::write_stdout(bytes),
    }
}

fn with_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.push(b'\n');
    bytes
}

fn create(args: CreateArgs) -> Result<(), Failure> {
    let base = args.add_to.as_deref().map(|path| read_unverified(Some(path)).map(|(list, _)| (path, list))).transpose()?;
    let issuer = match (args.issuer, &base) {
        (Some(issuer), _) => issuer,
        (None, Some((_, list))) => list.issuer.clone(),
        (None, None) => crate::nested_usage_error("trust", "create", "--issuer is required without --add-to"),
    };
    let sequence = match (args.sequence, &base) {
        (Some(n), Some((path, list))) if n <= list.sequence => {
            return Err(error(
                ResultCode::MEDSEAL_INVALID_ARGUMENT,
                format!("--sequence {n} must be higher than {}'s #{}", io::name(Some(path)), list.sequence),
            ))
        }
        (Some(n), _) => n,
        (None, Some((_, list))) => list.sequence.saturating_add(1),
        (None, None) => crate::nested_usage_error("trust", "create", "--sequence is required without --add-to"),
    };
    let issued = args.issued.unwrap_or_else(medseal::utc::now);
    let expires = match (args.expires, args.valid_days) {
        (Some(t), _) => t,
        (None, Some(days)) => issued.saturating_add(i64::from(days) * 86_400),
        (None, None) => crate::nested_usage_error("trust", "create", "--expires or --valid-days is required"),
    };
    let mut entries = Vec::new();
    if let Some((path, list)) = &base {
        entries.extend(list.entries().iter().filter(|e| !args.remove.contains(&e.kid)).cloned());
        if let Some(kid) = args.remove.iter().find(|kid| !list.entries().iter().any(|e| &&e.kid == kid)) {
            return Err(error(
                ResultCode::MEDSEAL_INVALID_ARGUMENT,
                format!("--remove {kid}: {} has no entry with that kid", io::name(Some(path))),
            ));
        }
    }
    for spec in &args.entries {
        entries.push(load_entry(spec, issued)?);
    }
    let list = TrustList::new(issuer, sequence, issued, expires, entries)?;
    emit(&with_newline(list.to_json()), args.out.as_deref(), args.force)
}

/// Reads an entry's key or certificate chain and applies the defaults.
fn load_entry(spec: &EntrySpec, issued: i64) -> Result<TrustEntry, Failure> {
    let rsa_alg = match spec.alg {
        Some(Algorithm::RS256) => Some(RsaAlg::Rs256),
        Some(Algorithm::PS256) => Some(RsaAlg::Ps256),
        _ => None,
    };
    let (key, chain, kid, window) = match &spec.source {
        Source::Key(path) => {
            let key = key::load(path, rsa_alg)?;
            if key.has_private() {
                return Err(error(
                    ResultCode::MEDSEAL_INVALID_ARGUMENT,
                    format!("{} holds a private key; list the facility's public key (medseal key public FILE)", io::name(Some(path))),
                ));
            }
            let kid = spec.kid.clone().unwrap_or_else(|| key.kid().to_owned());
            (key, None, kid, (issued, None))
        }
        Source::Cert(path) => {
            let bytes = read_limited(Some(path), CERT_FILE_LIMIT, "a certificate chain")?;
            let chain = Certificate::read_chain(&bytes).map_err(in_file(Some(path)))?;
            let leaf = &chain[0];
            let natural = Key::import(&leaf.spki_der().map_err(in_file(Some(path)))?, None).map_err(in_file(Some(path)))?.algorithm();
            let key = leaf.public_key(spec.alg.unwrap_or(natural)).map_err(in_file(Some(path)))?;
            let thumbprint = leaf.thumbprint_s256();
            if spec.kid.as_ref().is_some_and(|kid| kid != &thumbprint) {
                return Err(error(
                    ResultCode::MEDSEAL_INVALID_ARGUMENT,
                    format!("{}: the kid of a certificate entry is the leaf's x5t#S256, {thumbprint}", io::name(Some(path))),
                ));
            }
            let window = (leaf.not_before(), Some(leaf.not_after()));
            (key, Some(chain), thumbprint, window)
        }
    };
    let path = match &spec.source {
        Source::Key(p) | Source::Cert(p) => p,
    };
    if let Some(alg) = spec.alg {
        if key.algorithm() != alg {
            return Err(error(
                ResultCode::MEDSEAL_KEY_UNSUPPORTED,
                format!("{}: alg={alg} does not fit this {} key", io::name(Some(path)), key.algorithm()),
            ));
        }
    }
    let Some(not_after) = spec.not_after.or(window.1) else {
        crate::nested_usage_error("trust", "create", "not-after=TIME is required for key= entries");
    };
    Ok(TrustEntry {
        facility: spec.facility.clone(),
        kid,
        alg: key.algorithm(),
        key: Arc::new(key),
        chain,
        role: spec.role,
        not_before: spec.not_before.unwrap_or(window.0),
        not_after,
    })
}

fn sign(args: SignArgs) -> Result<(), Failure> {
    if io::is_stdin(Some(&args.key)) && io::is_stdin(args.file.as_deref()) {
        crate::nested_usage_error("trust", "sign", "standard input can feed the key or the list, not both");
    }
    let key = key::load_one(&args.key, args.alg)?;
    let options = SignOptions { kid: args.kid, signing_time: args.signing_time, ..trust::sign_options() };
    let signer = Signer::new(Arc::new(key), options).map_err(|e| match e.code() {
        ResultCode::MEDSEAL_KEY_NOT_PRIVATE => in_file(Some(&args.key))(e),
        _ => e,
    })?;
    let path = args.file.as_deref();
    let bytes = read_limited(path, LIST_FILE_LIMIT, "a trust list")?;
    if is_jws(&bytes) {
        return Err(error(ResultCode::MEDSEAL_TRUST_LIST_INVALID, format!("{} is already signed; sign the list's JSON", io::name(path))));
    }
    let list = TrustList::from_json(&bytes).map_err(in_file(path))?;
    let at = args.signing_time.unwrap_or_else(medseal::utc::now);
    if at > list.expires {
        return Err(Failure::Medseal(in_file(path)(medseal::Error::new(
            ResultCode::MEDSEAL_TRUST_LIST_EXPIRED,
            format!("the list expired at {}; make a new one (trust create --add-to)", medseal::utc::show(list.expires)),
        ))));
    }
    let jws = list.sign(&signer)?;
    emit(&with_newline(jws.into_bytes()), args.out.as_deref(), args.force)
}

fn verify(args: VerifyArgs) -> Result<(), Failure> {
    let stdin_uses = args.keys.iter().map(|k| Some(k.as_path())).chain([args.file.as_deref()]).filter(|p| io::is_stdin(*p)).count();
    if stdin_uses > 1 {
        crate::nested_usage_error("trust", "verify", "standard input can feed the list or a key, not both");
    }
    let keys = args.keys.iter().map(|path| key::load(path, args.alg).map(Arc::new)).collect::<Result<Vec<_>, _>>()?;
    let path = args.file.as_deref();
    let jws = read_limited(path, LIST_FILE_LIMIT, "a trust list")?;
    let list = TrustList::verify(&jws, &Verifier::new(keys), args.now.unwrap_or_else(medseal::utc::now), args.min_sequence)
        .map_err(|e| Failure::Invalid(in_file(path)(e)))?;
    let summary = format!(
        "valid: trust list {} #{}, {} entries, expires {}\n",
        list.issuer,
        list.sequence,
        list.entries().len(),
        medseal::utc::show(list.expires)
    );
    io::write_stdout(summary.as_bytes())
}

fn show(args: ShowArgs) -> Result<(), Failure> {
    crate::json::enable(args.json);
    let (list, signed) = read_unverified(args.file.as_deref())?;
    if args.json {
        if signed {
            eprintln!("medseal: note: the signature was not verified (use `medseal trust verify`)");
        }
        return io::write_stdout(&with_newline(list.to_json()));
    }
    let status = if signed { "signature NOT verified: use `medseal trust verify`" } else { "unsigned JSON: nothing verified" };
    let mut text = format!(
        "trust list ({status})\nissuer:   {}\nsequence: {}\nissued:   {}\nexpires:  {}\nentries:  {}\n",
        list.issuer,
        list.sequence,
        medseal::utc::show(list.issued),
        medseal::utc::show(list.expires),
        list.entries().len()
    );
    if !list.entries().is_empty() {
        let mut rows = vec![["FACILITY", "ROLE", "ALG", "NOT BEFORE", "NOT AFTER", "KEY", "KID"].map(String::from).to_vec()];
        for e in list.entries() {
            let key = match &e.chain {
                Some(chain) => format!("x5c: {}", chain[0].subject()),
                None => "jwk".to_owned(),
            };
            rows.push(vec![
                e.facility.clone(),
                e.role.to_string(),
                e.alg.to_string(),
                medseal::utc::show(e.not_before),
                medseal::utc::show(e.not_after),
                key,
                e.kid.clone(),
            ]);
        }
        text.push('\n');
        text.push_str(&io::table(&rows));
    }
    io::write_stdout(text.as_bytes())
}
