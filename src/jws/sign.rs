//! Signing: canonicalize the record, build the JAdES header, sign, serialize.

use std::fmt;
use std::sync::Arc;

use super::header;
use super::Serialization;
use crate::b64;
use crate::canon::{self, CanonOptions};
use crate::error::{err, Result};
use crate::keys::Key;
use crate::limits;
use crate::signers::{sign_checked, SigningBackend};
use crate::utc;
use crate::x509::Certificate;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Where signing reads the time: the system clock, or one a test or host supplies.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The system clock (UTC Unix seconds). One shared instance, so default options compare equal.
    pub fn system() -> Clock {
        static SYSTEM: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();
        SYSTEM.get_or_init(|| Clock(Arc::new(crate::utc::now))).clone()
    }

    /// A clock that reads `now` (Unix seconds) from a function.
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// The current time, Unix seconds.
    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Two clocks are equal when they are the same clock.
impl PartialEq for Clock {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Clock {}

/// The `typ` a [`Signer`] writes by default: a medseal record's ([`crate::record::RECORD_TYP`]).
pub const DEFAULT_TYP: &str = crate::record::RECORD_TYP;

/// What goes into the protected header besides the algorithm, and how records are
/// canonicalized. `SignOptions::default()` is what medseal records use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignOptions {
    /// The `kid` header; `None` uses the key's RFC 7638 thumbprint.
    pub kid: Option<String>,
    /// The `typ` header; `None` leaves it out. Default `medseal+jws`.
    pub typ: Option<String>,
    /// JAdES `srCms` commitment type: an ASTM E1762 purpose OID such as
    /// `1.2.840.10065.1.12.1.1` (author's signature).
    pub commitment: Option<String>,
    /// A fixed signing time (Unix seconds) for reproducible output; `None` uses the clock.
    pub signing_time: Option<i64>,
    /// The clock guard: with `Some(seconds)`, a fixed `signing_time` further than this from
    /// `clock` is refused (`MEDSEAL_SIGNING_TIME_SKEW`), so a host cannot backdate a record
    /// into a window its key or certificate no longer has.
    pub max_clock_skew: Option<u32>,
    /// The time source for `sigT` and for the clock guard.
    pub clock: Clock,
    /// How documents are canonicalized before signing.
    pub canon: CanonOptions,
    /// Largest payload (canonical record) signed; default [`limits::MAX_RECORD_BYTES`]
    /// (47 MiB). A larger one is refused with `MEDSEAL_JSON_TOO_LARGE`.
    pub max_record_bytes: usize,
    /// Largest JWS written; default [`limits::MAX_JWS_BYTES`] (64 MiB, what a verifier reads
    /// and an envelope seals). A JWS that would be longer is refused with
    /// `MEDSEAL_JSON_TOO_LARGE` instead of being written.
    pub max_jws_bytes: usize,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            kid: None,
            typ: Some(DEFAULT_TYP.to_owned()),
            commitment: None,
            signing_time: None,
            max_clock_skew: None,
            clock: Clock::system(),
            canon: CanonOptions::default(),
            max_record_bytes: limits::MAX_RECORD_BYTES,
            max_jws_bytes: limits::MAX_JWS_BYTES,
        }
    }
}

/// Checks a JAdES commitment type: an OID in dotted form, at most 128 bytes.
pub fn check_commitment(oid: &str) -> Result<()> {
    let valid = !oid.is_empty() && oid.len() <= 128 && oid.split('.').all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "the commitment type must be an OID in dotted form (e.g. 1.2.840.10065.1.12.1.1)"));
    }
    Ok(())
}

/// A signer's certificate chain with its header values (`x5c`, `x5t#S256`) encoded once.
#[derive(Debug)]
struct SignerChain {
    certificates: Vec<Certificate>,
    x5c: Vec<String>,
    x5t: String,
}

/// Signs records with one key (software, token or host callback), optionally with its
/// certificate chain. Immutable and shareable between threads.
#[derive(Debug, Clone)]
pub struct Signer {
    backend: Arc<dyn SigningBackend>,
    chain: Option<Arc<SignerChain>>,
    options: SignOptions,
}

impl Signer {
    /// A signer for the software `key` (which must hold its private half) with `options`.
    pub fn new(key: Arc<Key>, options: SignOptions) -> Result<Signer> {
        if !key.has_private() {
            return Err(err!(MEDSEAL_KEY_NOT_PRIVATE, "a signer needs a private key; this key is public only"));
        }
        Signer::with_backend(key, options)
    }

    /// A signer for any backend: a software [`Key`], a PKCS#11 token key or a host callback.
    pub fn with_backend(backend: Arc<dyn SigningBackend>, options: SignOptions) -> Result<Signer> {
        if let Some(kid) = &options.kid {
            if kid.is_empty() || kid.len() > 256 {
                return Err(err!(MEDSEAL_INVALID_ARGUMENT, "a kid has 1 to 256 bytes"));
            }
        }
        if let Some(oid) = &options.commitment {
            check_commitment(oid)?;
        }
        if let Some(t) = options.signing_time {
            utc::format(t)?;
        }
        Ok(Signer { backend, chain: None, options })
    }

    /// Adds the signer's certificate chain (leaf first), written into every signature as
    /// `x5c` and `x5t#S256`. The leaf must hold this signer's key and allow digitalSignature
    /// or nonRepudiation; without an explicit kid, the kid becomes the leaf's `x5t#S256`.
    pub fn with_certificate_chain(mut self, chain: Vec<Certificate>) -> Result<Signer> {
        let leaf = chain.first().ok_or_else(|| err!(MEDSEAL_CERT_INVALID, "the certificate chain is empty"))?;
        if chain.len() > crate::x509::MAX_CHAIN_LEN {
            return Err(err!(
                MEDSEAL_CERT_INVALID,
                "a chain of {} certificates is over the limit of {}",
                chain.len(),
                crate::x509::MAX_CHAIN_LEN
            ));
        }
        if !leaf.holds_key(self.backend.public_key()) {
            return Err(err!(
                MEDSEAL_SIGNER_CERT_MISMATCH,
                "the first certificate ({}) is not for the signing key {}; put the signer's certificate first",
                leaf.subject(),
                self.backend.public_key().kid()
            ));
        }
        leaf.check_signer_usage()?;
        // Encoded once here, not at every signature.
        let x5c = chain.iter().map(|c| STANDARD.encode(c.der())).collect();
        let x5t = leaf.thumbprint_s256();
        self.chain = Some(Arc::new(SignerChain { certificates: chain, x5c, x5t }));
        Ok(self)
    }

    /// The same key, chain, clock and options, signing with another `typ`: how a facility's
    /// record signer signs its withdrawals (`record::WITHDRAWAL_TYP`), whatever the key's
    /// backend (software, token, host callback).
    pub fn with_typ(&self, typ: &str) -> Signer {
        Signer {
            backend: self.backend.clone(),
            chain: self.chain.clone(),
            options: SignOptions { typ: Some(typ.to_owned()), ..self.options.clone() },
        }
    }

    /// The key signatures verify with (for a software signer, the key itself).
    pub fn key(&self) -> &Key {
        self.backend.public_key()
    }

    /// The certificate chain, if one was given.
    pub fn certificate_chain(&self) -> Option<&[Certificate]> {
        self.chain.as_deref().map(|c| c.certificates.as_slice())
    }

    /// The options in force.
    pub fn options(&self) -> &SignOptions {
        &self.options
    }

    /// Canonicalizes `document` under the signer's canonicalization options and signs the
    /// canonical bytes.
    pub fn sign(&self, document: &[u8], serialization: Serialization) -> Result<String> {
        let canonical = zeroize::Zeroizing::new(canon::canonicalize(document, &self.options.canon)?);
        self.sign_payload(&canonical, serialization)
    }

    /// Signs `payload` as given. Use [`Signer::sign`] for records: a payload that is not
    /// canonical JSON will not survive a round trip through other systems.
    pub fn sign_payload(&self, payload: &[u8], serialization: Serialization) -> Result<String> {
        self.check_record_size(payload.len())?;
        let time = self.signing_time()?;
        let sig_time = utc::format(time).map_err(|_| {
            err!(MEDSEAL_SYSTEM_ERROR, "the clock gave {time}, which is not a time between years 0 and 9999 (check the clock source)")
        })?;
        if let Some(leaf) = self.certificate_chain().and_then(<[Certificate]>::first) {
            leaf.check_signing_time(time, &sig_time)?;
        }
        let chain = self.chain.as_deref();
        let kid = self.options.kid.as_deref().or(chain.map(|c| c.x5t.as_str())).unwrap_or(self.key().kid());
        let fields = header::Fields {
            kid,
            typ: self.options.typ.as_deref(),
            sig_time: &sig_time,
            commitment: self.options.commitment.as_deref(),
            x5c: chain.map(|c| (c.x5c.as_slice(), c.x5t.as_str())),
        };
        let protected = header::build(self.backend.algorithm(), &fields);
        // One buffer for the signing input; the compact forms are cut from it, never rebuilt.
        // Wiped on drop: it holds the record (base64url), and only the compact forms hand it on.
        let protected_json = protected.to_canonical();
        let header_json_len = protected_json.len();
        let mut signing_input = zeroize::Zeroizing::new(b64::encode(&protected_json));
        let header_len = signing_input.len();
        signing_input.push('.');
        b64::encode_into(payload, &mut signing_input);
        let signature = sign_checked(self.backend.as_ref(), signing_input.as_bytes())?;
        let mut jws = zeroize::Zeroizing::new(match serialization {
            Serialization::Compact => {
                signing_input.push('.');
                b64::encode_into(&signature, &mut signing_input);
                std::mem::take(&mut *signing_input)
            }
            Serialization::DetachedCompact => {
                // A fresh string: truncating would leave the payload in the spare capacity.
                format!("{}.{}", &signing_input[..=header_len], b64::encode(&signature))
            }
            Serialization::Flattened | Serialization::DetachedFlattened => {
                // RFC 8785 JSON written directly: the members in key order, and base64url text
                // needs no escaping. One exact allocation, so no partial copies of the record
                // are left behind by a growing buffer (and a 60 MB record is not re-scanned).
                let (protected_b64, payload_b64) = (&signing_input[..header_len], &signing_input[header_len + 1..]);
                let signature_b64 = b64::encode(&signature);
                let payload = (serialization == Serialization::Flattened).then_some(payload_b64);
                let mut json = String::with_capacity(44 + header_len + payload.map_or(0, str::len) + signature_b64.len());
                if let Some(payload) = payload {
                    json.push_str("{\"payload\":\"");
                    json.push_str(payload);
                    json.push_str("\",\"protected\":\"");
                } else {
                    json.push_str("{\"protected\":\"");
                }
                json.push_str(protected_b64);
                json.push_str("\",\"signature\":\"");
                json.push_str(&signature_b64);
                json.push_str("\"}");
                json
            }
        });
        if jws.len() > self.options.max_jws_bytes {
            return Err(err!(
                MEDSEAL_JSON_TOO_LARGE,
                "the JWS would be {} bytes (record {} bytes, protected header {} bytes); verify and seal accept at most {}, so it is not written",
                jws.len(),
                payload.len(),
                header_json_len,
                show_size(self.options.max_jws_bytes)
            ));
        }
        Ok(std::mem::take(&mut *jws))
    }

    /// Refuses a payload whose JWS would not fit what verify and seal accept.
    fn check_record_size(&self, len: usize) -> Result<()> {
        if len > self.options.max_record_bytes {
            return Err(err!(
                MEDSEAL_JSON_TOO_LARGE,
                "the canonical record is {len} bytes; medseal signs records of at most {}, so that the JWS (base64url, a third longer, plus the header) stays within the {} that verify and seal accept",
                show_size(self.options.max_record_bytes),
                show_size(self.options.max_jws_bytes)
            ));
        }
        Ok(())
    }

    /// The `sigT` to write: the fixed time (checked against the clock when the guard is on)
    /// or the clock's.
    fn signing_time(&self) -> Result<i64> {
        let Some(fixed) = self.options.signing_time else { return Ok(self.options.clock.now()) };
        if let Some(skew) = self.options.max_clock_skew {
            let now = self.options.clock.now();
            if fixed.abs_diff(now) > u64::from(skew) {
                return Err(err!(
                    MEDSEAL_SIGNING_TIME_SKEW,
                    "the signing time {} is {} s from the clock ({}); at most {skew} s is allowed",
                    utc::format(fixed)?,
                    fixed.abs_diff(now),
                    utc::show(now)
                ));
            }
        }
        Ok(fixed)
    }
}

/// `n` bytes, with MiB when that is how the limits are written.
fn show_size(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{n} bytes ({} MiB)", n >> 20)
    } else {
        format!("{n} bytes")
    }
}
