//! Trust lists (DESIGN 3.6): the health department's signed statement of which public keys it
//! trusts, for which facility, in which role and for how long.
//!
//! The list is canonical JSON (format in docs/TRUST_LISTS.md) signed as a flattened JWS with
//! `typ` `medseal-trust-list+jws`. Reading is strict: unknown members, private key material and
//! one key in two roles are refused, so what a verifier trusts is exactly what was signed.
//! Rollover is several entries for one facility; revocation is a newer list without the entry,
//! which is why verifiers refuse lists older than one they have seen (`min_sequence`).

mod json;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use unicode_normalization::is_nfc;

use crate::b64;
use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Error, Result, ResultCode};
use crate::jws::{DetachedPayload, SignOptions, Signer, Verifier};
use crate::keys::{Algorithm, Key};
use crate::untrusted::shown;
use crate::utc;
use crate::x509::{Certificate, MAX_CHAIN_LEN};
use crate::Serialization;

/// The JWS `typ` of a signed trust list. A record (`medseal+jws`) is never read as a list.
pub const TYP: &str = "medseal-trust-list+jws";

/// The `type` member of the list itself.
pub const LIST_TYPE: &str = "medseal-trust-list";

/// The format version this code reads and writes.
pub const VERSION: u64 = 1;

/// How far in the future `issued` may lie before a list is refused: clocks drift, but a list
/// issued tomorrow is a mistake or a replay of a pre-made list.
pub const MAX_CLOCK_SKEW: i64 = 300;

/// Longest issuer, facility id or kid, in bytes.
pub const MAX_TEXT_BYTES: usize = 256;

/// Largest sequence number: JSON numbers stay exact up to 2^53 − 1 (I-JSON).
pub const MAX_SEQUENCE: u64 = (1 << 53) - 1;

/// What a listed key may be used for. One key serves exactly one role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Signing records (JWS `medseal+jws`) for its facility.
    RecordSigning,
    /// The facility's client certificate key for mutual TLS to the hub.
    TlsClient,
    /// The hub's key for submission receipts.
    Receipt,
    /// The hub's key for signed ledger tree heads.
    TreeHead,
}

impl Role {
    /// Every role, in the order the format lists them.
    pub const ALL: [Role; 4] = [Role::RecordSigning, Role::TlsClient, Role::Receipt, Role::TreeHead];

    /// The name used in the list: `record-signing`, `tls-client`, `receipt`, `tree-head`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::RecordSigning => "record-signing",
            Role::TlsClient => "tls-client",
            Role::Receipt => "receipt",
            Role::TreeHead => "tree-head",
        }
    }

    /// The role a list name stands for (exact, case-sensitive).
    #[allow(clippy::should_implement_trait)] // an Option, like Algorithm::from_jws_name
    pub fn from_str(name: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One trusted key: whose it is, what it may do, and when.
#[derive(Clone, Debug)]
pub struct TrustEntry {
    /// The facility (or hub) the key belongs to.
    pub facility: String,
    /// The kid signatures by this key carry. Not unique: verifiers try every key with it.
    pub kid: String,
    /// The algorithm the key is bound to; a signature under any other `alg` is refused.
    pub alg: Algorithm,
    /// The public key, bound to `alg`.
    pub key: Arc<Key>,
    /// For `x5c` entries, the certificate chain (leaf first) whose leaf holds `key`.
    pub chain: Option<Vec<Certificate>>,
    /// What the key may be used for.
    pub role: Role,
    /// First second of validity (Unix seconds, inclusive).
    pub not_before: i64,
    /// Last second of validity (Unix seconds, inclusive).
    pub not_after: i64,
}

impl TrustEntry {
    /// Whether `t` (Unix seconds, normally a signature's `sigT`) lies in the entry's window.
    pub fn valid_at(&self, t: i64) -> bool {
        self.not_before <= t && t <= self.not_after
    }

    /// The RFC 7638 thumbprint of the public key: what "the same key" means across entries.
    pub fn key_thumbprint(&self) -> &str {
        self.key.kid()
    }
}

/// A checked trust list. Entries are private so that every list in hand has passed the
/// consistency checks; the header fields are public and re-checked by [`TrustList::sign`].
#[derive(Clone, Debug)]
pub struct TrustList {
    /// Who signs the list, e.g. `HCMC Department of Health`.
    pub issuer: String,
    /// Increases with every list published; verifiers refuse going back.
    pub sequence: u64,
    /// When the list was made (Unix seconds).
    pub issued: i64,
    /// After this second the list is no longer used (Unix seconds, inclusive).
    pub expires: i64,
    entries: Vec<TrustEntry>,
}

/// The options a trust-list [`Signer`] needs: medseal's defaults with `typ` set to [`TYP`].
pub fn sign_options() -> SignOptions {
    SignOptions { typ: Some(TYP.to_owned()), ..SignOptions::default() }
}

impl TrustList {
    /// A list from its parts, checked as [`TrustList::from_json`] checks a document. Private
    /// keys given in entries are reduced to their public half: a list never holds secrets.
    pub fn new(issuer: impl Into<String>, sequence: u64, issued: i64, expires: i64, mut entries: Vec<TrustEntry>) -> Result<TrustList> {
        for entry in &mut entries {
            if entry.key.has_private() {
                entry.key = Arc::new(entry.key.to_public());
            }
        }
        let list = TrustList { issuer: issuer.into(), sequence, issued, expires, entries };
        list.check()?;
        Ok(list)
    }

    /// Reads an unsigned list (JSON; whitespace and member order free, everything else strict).
    pub fn from_json(bytes: &[u8]) -> Result<TrustList> {
        json::read(bytes)
    }

    /// The canonical (RFC 8785) JSON of the list: the bytes that get signed. JWKs are written
    /// with their RFC 7638 members only, since `alg` and `kid` live in the entry.
    pub fn to_json(&self) -> Vec<u8> {
        json::write(self)
    }

    /// The entries, in list order.
    pub fn entries(&self) -> &[TrustEntry] {
        &self.entries
    }

    /// The same list holding only `facility`'s entries: a verifier made from it judges that
    /// facility's records against its own keys only (a hub checks each record against its
    /// source's keys, never against every facility's).
    pub fn restricted_to(&self, facility: &str) -> TrustList {
        let mut list = self.clone();
        list.entries.retain(|e| e.facility == facility);
        list
    }

    /// The entries of `role` whose kid is `kid` (every entry of the role for `None`). A kid
    /// shared by several keys gives all of them: the caller tries each.
    pub fn candidates(&self, role: Role, kid: Option<&str>) -> Vec<&TrustEntry> {
        self.entries.iter().filter(|e| e.role == role && kid.map_or(true, |k| e.kid == k)).collect()
    }

    /// Checks that the list may be used at `now`: not expired, not older than `min_sequence`
    /// (the highest sequence already seen: rollback refused), not issued in the future.
    pub fn check_fresh(&self, now: i64, min_sequence: u64) -> Result<()> {
        if now > self.expires {
            return Err(err!(
                MEDSEAL_TRUST_LIST_EXPIRED,
                "trust list #{} from {} expired at {}; fetch a current one",
                self.sequence,
                shown(&self.issuer),
                utc::show(self.expires)
            ));
        }
        if self.sequence < min_sequence {
            return Err(err!(
                MEDSEAL_TRUST_LIST_STALE,
                "trust list #{} is older than #{min_sequence}, already seen (a rollback is refused)",
                self.sequence
            ));
        }
        if self.issued > now.saturating_add(MAX_CLOCK_SKEW) {
            return Err(err!(
                MEDSEAL_TRUST_LIST_INVALID,
                "trust list #{} was issued at {}, more than {MAX_CLOCK_SKEW} seconds in the future; check the clock",
                self.sequence,
                utc::show(self.issued)
            ));
        }
        Ok(())
    }

    /// Signs the list as a flattened JWS. The signer must use [`sign_options`] (`typ`
    /// [`TYP`]): a list signed as anything else would not be read back as a list.
    pub fn sign(&self, signer: &Signer) -> Result<String> {
        if signer.options().typ.as_deref() != Some(TYP) {
            return Err(err!(
                MEDSEAL_INVALID_ARGUMENT,
                "a trust list is signed with typ \"{TYP}\" (use medseal::trust::sign_options()), not {}",
                signer.options().typ.as_deref().map_or("none".to_owned(), |t| format!("\"{}\"", shown(t)))
            ));
        }
        // The header fields are public and may have changed since the list was checked.
        self.check()?;
        signer.sign_payload(&self.to_json(), Serialization::Flattened)
    }

    /// Verifies a signed list: signed by one of `list_keys` (`MEDSEAL_TRUST_LIST_SIGNATURE`),
    /// `typ` [`TYP`], canonical and well-formed (`MEDSEAL_TRUST_LIST_INVALID`), then fresh at
    /// `now` against `min_sequence` ([`TrustList::check_fresh`]).
    pub fn verify(jws: &[u8], list_keys: &Verifier, now: i64, min_sequence: u64) -> Result<TrustList> {
        let verified = list_keys.verify(jws, DetachedPayload::None).map_err(jws_error)?;
        check_typ(verified.typ.as_deref())?;
        let list = from_payload(&verified.payload)?;
        // The list's own key in the list would let whoever holds it sign records, receipts or
        // tree heads as well as lists: one key, one role (DESIGN 3.6).
        if let Some(entry) = list.entries.iter().find(|e| e.key.kid() == verified.key_id) {
            return Err(err!(
                MEDSEAL_TRUST_LIST_INVALID,
                "the list's own signing key is listed as {}'s {} key; a trust-list key signs lists only",
                shown(&entry.facility),
                entry.role
            ));
        }
        list.check_fresh(now, min_sequence)?;
        Ok(list)
    }

    /// Reads a signed list WITHOUT checking its signature or freshness, for display only
    /// (`medseal trust show`). Never trust what this returns.
    pub fn from_jws_unverified(jws: &[u8]) -> Result<TrustList> {
        let (header, payload) = unverified_parts(jws)?;
        let header = canon::parse(&header, &CanonOptions::plain())
            .map_err(|e| err!(MEDSEAL_TRUST_LIST_INVALID, "the JWS header is not JSON: {}", e.message()))?;
        let typ = match header.get("typ") {
            None => None,
            Some(Value::String(s)) => Some(s.as_ref()),
            Some(_) => return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "the JWS header \"typ\" is not a string")),
        };
        check_typ(typ)?;
        from_payload(&payload)
    }

    /// Every consistency rule of the format (docs/TRUST_LISTS.md).
    fn check(&self) -> Result<()> {
        check_text("the issuer", &self.issuer)?;
        if !(1..=MAX_SEQUENCE).contains(&self.sequence) {
            return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "the sequence number must be 1 to {MAX_SEQUENCE}, not {}", self.sequence));
        }
        check_time("issued", self.issued)?;
        check_time("expires", self.expires)?;
        if self.issued >= self.expires {
            return Err(err!(
                MEDSEAL_TRUST_LIST_INVALID,
                "the list expires ({}) before it is issued ({})",
                utc::show(self.expires),
                utc::show(self.issued)
            ));
        }
        // First entry seen for each public key, to catch one key in two roles.
        let mut by_key: HashMap<&str, usize> = HashMap::new();
        let mut seen = HashSet::new();
        for (i, entry) in self.entries.iter().enumerate() {
            check_entry(i, entry)?;
            let first = *by_key.entry(entry.key_thumbprint()).or_insert(i);
            let other = &self.entries[first];
            if other.role != entry.role {
                return Err(err!(
                    MEDSEAL_TRUST_LIST_INVALID,
                    "{}: one key in two roles: the same public key is {} in entry {} (kid \"{}\") and {} here",
                    entry_name(i, Some(&entry.kid)),
                    other.role,
                    first + 1,
                    shown(&other.kid),
                    entry.role
                ));
            }
            let identity = (&entry.facility, &entry.kid, entry.alg, entry.key_thumbprint(), entry.role, entry.not_before, entry.not_after);
            if !seen.insert(identity) {
                return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "{}: the same entry is listed twice", entry_name(i, Some(&entry.kid))));
            }
        }
        Ok(())
    }
}

fn check_entry(i: usize, entry: &TrustEntry) -> Result<()> {
    let name = || entry_name(i, Some(&entry.kid));
    let prefixed = |e: Error| Error::new(ResultCode::MEDSEAL_TRUST_LIST_INVALID, format!("{}: {}", name(), e.message()));
    check_text("the kid", &entry.kid).map_err(|e| Error::new(e.code(), format!("{}: {}", entry_name(i, None), e.message())))?;
    check_text("the facility", &entry.facility).map_err(prefixed)?;
    check_time("not_before", entry.not_before).map_err(prefixed)?;
    check_time("not_after", entry.not_after).map_err(prefixed)?;
    if entry.not_before >= entry.not_after {
        return Err(err!(
            MEDSEAL_TRUST_LIST_INVALID,
            "{}: not_after ({}) is not after not_before ({})",
            name(),
            utc::show(entry.not_after),
            utc::show(entry.not_before)
        ));
    }
    if entry.key.algorithm() != entry.alg {
        return Err(err!(
            MEDSEAL_TRUST_LIST_INVALID,
            "{}: the key is bound to {}, but the entry says {}",
            name(),
            entry.key.algorithm(),
            entry.alg
        ));
    }
    if let Some(chain) = &entry.chain {
        let Some(leaf) = chain.first() else {
            return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "{}: x5c is empty", name()));
        };
        if chain.len() > MAX_CHAIN_LEN {
            return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "{}: x5c holds {} certificates; at most {MAX_CHAIN_LEN}", name(), chain.len()));
        }
        if !leaf.holds_key(&entry.key) {
            return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "{}: the first x5c certificate does not hold the entry's key", name()));
        }
        // A list may narrow a certificate's life, never extend it.
        if entry.not_before < leaf.not_before() || entry.not_after > leaf.not_after() {
            return Err(err!(
                MEDSEAL_TRUST_LIST_INVALID,
                "{}: the window {} to {} lies outside the certificate's validity ({} to {})",
                name(),
                utc::show(entry.not_before),
                utc::show(entry.not_after),
                utc::show(leaf.not_before()),
                utc::show(leaf.not_after())
            ));
        }
    }
    Ok(())
}

/// `entry 3 (kid "abc")`, 1-based as people count.
fn entry_name(i: usize, kid: Option<&str>) -> String {
    match kid {
        Some(kid) => format!("entry {} (kid \"{}\")", i + 1, shown(kid)),
        None => format!("entry {}", i + 1),
    }
}

/// Issuer, facility and kid: 1 to 256 bytes, no control characters (they are shown to
/// people), NFC (so that one name has one spelling, and the JSON reader accepts it back).
fn check_text(what: &str, text: &str) -> Result<()> {
    if text.is_empty() || text.len() > MAX_TEXT_BYTES {
        return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "{what} must have 1 to {MAX_TEXT_BYTES} bytes, not {}", text.len()));
    }
    if text.chars().any(char::is_control) {
        return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "{what} holds a control character"));
    }
    if !is_nfc(text) {
        return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "{what} is not in Unicode NFC"));
    }
    Ok(())
}

/// A time the format can write: RFC 3339 needs a four-digit year.
fn check_time(what: &str, t: i64) -> Result<()> {
    utc::format(t).map(drop).map_err(|_| err!(MEDSEAL_TRUST_LIST_INVALID, "{what} ({t}) is not a time between years 0000 and 9999"))
}

/// Parses a list time: RFC 3339 in exactly the form medseal writes, `YYYY-MM-DDThh:mm:ssZ`
/// (UTC, whole seconds), so that one instant has one spelling in signed lists.
pub fn parse_time(text: &str) -> Result<i64> {
    utc::parse_exact(text)
        .ok_or_else(|| err!(MEDSEAL_TRUST_LIST_INVALID, "\"{}\" is not an RFC 3339 UTC time like 2026-01-31T00:00:00Z", shown(text)))
}

/// JWS errors become trust-list errors: "not signed by a list key" and "not a JWS" apart.
fn jws_error(e: Error) -> Error {
    use ResultCode::*;
    let code = match e.code() {
        MEDSEAL_JWS_SIGNATURE_INVALID | MEDSEAL_JWS_ALG_MISMATCH | MEDSEAL_JWS_ALG_FORBIDDEN | MEDSEAL_JWS_ALG_UNKNOWN => {
            MEDSEAL_TRUST_LIST_SIGNATURE
        }
        // No list key configured is the caller's problem, not the list's.
        MEDSEAL_JWS_NO_KEYS => return e,
        _ => MEDSEAL_TRUST_LIST_INVALID,
    };
    let what = if code == MEDSEAL_TRUST_LIST_SIGNATURE { "is not signed by a trust-list key" } else { "is not a valid JWS" };
    Error::new(code, format!("the trust list {what}: {} [{}]", e.message(), e.code()))
}

/// RFC 7515 §4.1.9: `typ` compares case-insensitively, `application/` may be left out.
fn check_typ(typ: Option<&str>) -> Result<()> {
    let ok = typ.is_some_and(|t| {
        let bare = t.get(..12).filter(|p| p.eq_ignore_ascii_case("application/")).map_or(t, |_| &t[12..]);
        bare.eq_ignore_ascii_case(TYP)
    });
    if !ok {
        return Err(err!(
            MEDSEAL_TRUST_LIST_INVALID,
            "the JWS has typ {}, not \"{TYP}\": it is not a trust list",
            typ.map_or("none".to_owned(), |t| format!("\"{}\"", shown(t)))
        ));
    }
    Ok(())
}

/// A signed payload must be exactly the canonical JSON of a list.
fn from_payload(payload: &[u8]) -> Result<TrustList> {
    let canonical = canon::canonicalize(payload, &CanonOptions::default())
        .map_err(|e| err!(MEDSEAL_TRUST_LIST_INVALID, "the signed trust list is not valid JSON: {} [{}]", e.message(), e.code()))?;
    if canonical != payload {
        return Err(err!(MEDSEAL_TRUST_LIST_INVALID, "the signed trust list is not canonical (RFC 8785) JSON"));
    }
    TrustList::from_json(payload)
}

/// The decoded protected header and payload of a JWS, unverified.
fn unverified_parts(jws: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let malformed = || err!(MEDSEAL_TRUST_LIST_INVALID, "the trust list is not a JWS with a payload (flattened JSON or compact)");
    let start = jws.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(jws.len());
    let end = jws.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |p| p + 1);
    let jws = &jws[start..end];
    let decode = |part: &[u8]| b64::decode(part).ok_or_else(|| err!(MEDSEAL_TRUST_LIST_INVALID, "a JWS part is not strict base64url"));
    if jws.starts_with(b"{") {
        let doc = canon::parse(jws, &CanonOptions::plain())
            .map_err(|e| err!(MEDSEAL_TRUST_LIST_INVALID, "the JWS is not valid JSON: {}", e.message()))?;
        let signed = match doc.get("signatures") {
            Some(Value::Array(list)) if list.len() == 1 => &list[0],
            Some(_) => return Err(malformed()),
            None => &doc,
        };
        let (Some(Value::String(protected)), Some(Value::String(payload))) = (signed.get("protected"), doc.get("payload")) else {
            return Err(malformed());
        };
        Ok((decode(protected.as_bytes())?, decode(payload.as_bytes())?))
    } else {
        let parts: Vec<&[u8]> = jws.split(|&b| b == b'.').collect();
        match parts[..] {
            [protected, payload, _] if !payload.is_empty() => Ok((decode(protected)?, decode(payload)?)),
            _ => Err(malformed()),
        }
    }
}
