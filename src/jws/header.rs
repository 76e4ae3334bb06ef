//! The JAdES-B-B protected header: building it when signing, checking it when verifying.

use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Result};
use crate::keys::Algorithm;
use crate::untrusted::shown;
use crate::x509::MAX_CHAIN_LEN;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// `crit` extensions medseal understands (JAdES, ETSI TS 119 182-1). Anything else in `crit`
/// is refused, as RFC 7515 §4.1.11 requires.
pub const CRIT_UNDERSTOOD: &[&str] = &["sigT", "srCms"];

/// Header parameters defined by RFC 7515/7518 themselves, which must never appear in `crit`.
const REGISTERED: &[&str] = &["alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc", "zip"];

/// What goes into a protected header besides the algorithm.
pub(crate) struct Fields<'a> {
    pub kid: &'a str,
    pub typ: Option<&'a str>,
    pub sig_time: &'a str,
    pub commitment: Option<&'a str>,
    /// The signer's certificate chain as `x5c` values (standard base64 DER, leaf first) and the
    /// leaf's `x5t#S256`, computed once per signer.
    pub x5c: Option<(&'a [String], &'a str)>,
}

/// Builds the protected header for a medseal signature.
pub(crate) fn build<'a>(alg: Algorithm, fields: &Fields<'a>) -> Value<'a> {
    let mut members =
        vec![("alg", Value::string(alg.jws_name())), ("kid", Value::string(fields.kid)), ("sigT", Value::string(fields.sig_time))];
    let mut crit = vec![Value::string("sigT")];
    if let Some(typ) = fields.typ {
        members.push(("typ", Value::string(typ)));
    }
    if let Some((x5c, x5t)) = fields.x5c {
        members.push(("x5c", Value::Array(x5c.iter().map(|c| Value::string(c.as_str())).collect())));
        members.push(("x5t#S256", Value::string(x5t)));
    }
    let commitment = fields.commitment;
    if let Some(oid) = commitment {
        // JAdES srCms: the commitment type (ASTM E1762 purpose of signature) as a URN OID.
        let comm_id = Value::object([("id", Value::string(format!("urn:oid:{oid}")))]);
        members.push(("srCms", Value::Array(vec![Value::object([("commId", comm_id)])])));
        crit.push(Value::string("srCms"));
    }
    members.push(("crit", Value::Array(crit)));
    Value::object(members)
}

/// What verification needs from a protected header, checked.
pub(crate) struct Parsed {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub sig_time: Option<String>,
    /// `x5c`, decoded (DER, leaf first).
    pub x5c: Option<Vec<Vec<u8>>>,
    /// `x5t#S256`, as written.
    pub x5t_s256: Option<String>,
    pub json: Vec<u8>,
}

impl Parsed {
    /// `sigT` as Unix seconds; required when the verdict depends on when the signature was made.
    pub fn sig_time_unix(&self, why: &str) -> Result<i64> {
        let t = self.sig_time.as_deref().ok_or_else(|| err!(MEDSEAL_JWS_HEADER, "the header has no \"sigT\", which {why} needs"))?;
        crate::utc::parse(t).ok_or_else(|| err!(MEDSEAL_JWS_HEADER, "\"sigT\" is not an RFC 3339 UTC time"))
    }
}

/// Parses and checks a decoded protected header.
pub(crate) fn parse(json: &[u8]) -> Result<Parsed> {
    let header = canon::parse(json, &CanonOptions::plain())
        .map_err(|e| err!(MEDSEAL_JWS_HEADER, "the protected header is not valid I-JSON: {}", e.message()))?;
    if !matches!(header, Value::Object(_)) {
        return Err(err!(MEDSEAL_JWS_HEADER, "the protected header is not a JSON object"));
    }
    let text = |name: &str| -> Result<Option<String>> {
        match header.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.to_string())),
            Some(_) => Err(err!(MEDSEAL_JWS_HEADER, "header parameter \"{name}\" must be a string")),
        }
    };
    let alg_name = text("alg")?.ok_or_else(|| err!(MEDSEAL_JWS_HEADER, "the protected header has no \"alg\""))?;
    let alg = match Algorithm::from_jws_name(&alg_name) {
        Some(alg) => alg,
        None if alg_name.eq_ignore_ascii_case("none") || alg_name.starts_with("HS") => {
            return Err(err!(MEDSEAL_JWS_ALG_FORBIDDEN, "algorithm \"{}\" is never accepted for signed records", shown(&alg_name)))
        }
        None => return Err(err!(MEDSEAL_JWS_ALG_UNKNOWN, "algorithm \"{}\" is not supported", shown(&alg_name))),
    };
    check_crit(&header)?;
    if let Some(b64) = header.get("b64") {
        if b64 != &Value::Bool(true) {
            return Err(err!(MEDSEAL_JWS_HEADER, "unencoded payloads (\"b64\": false) are not supported"));
        }
    }
    let sig_time = text("sigT")?;
    if let Some(t) = &sig_time {
        // JAdES sigT is UTC ("Z"), which is also what keeps it comparable as text.
        if crate::utc::parse(t).is_none() {
            return Err(err!(MEDSEAL_JWS_HEADER, "\"sigT\" is not an RFC 3339 UTC time"));
        }
    }
    Ok(Parsed {
        alg,
        kid: text("kid")?,
        typ: text("typ")?,
        sig_time,
        x5c: x5c(&header)?,
        x5t_s256: text("x5t#S256")?,
        json: header.to_canonical(),
    })
}

/// Reads `x5c`: a non-empty array of standard base64 DER certificates (RFC 7515 4.1.6).
fn x5c(header: &Value) -> Result<Option<Vec<Vec<u8>>>> {
    let Some(value) = header.get("x5c") else { return Ok(None) };
    let Value::Array(items) = value else {
        return Err(err!(MEDSEAL_JWS_HEADER, "\"x5c\" must be an array of base64 certificates"));
    };
    if items.is_empty() || items.len() > MAX_CHAIN_LEN {
        return Err(err!(MEDSEAL_JWS_HEADER, "\"x5c\" must hold 1 to {MAX_CHAIN_LEN} certificates, not {}", items.len()));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => STANDARD.decode(s.as_bytes()).map_err(|_| err!(MEDSEAL_JWS_HEADER, "\"x5c\"[{i}] is not standard base64")),
            _ => Err(err!(MEDSEAL_JWS_HEADER, "\"x5c\"[{i}] must be a string")),
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn check_crit(header: &Value) -> Result<()> {
    let Some(crit) = header.get("crit") else { return Ok(()) };
    let Value::Array(names) = crit else {
        return Err(err!(MEDSEAL_JWS_CRIT_UNKNOWN, "\"crit\" must be an array of header names"));
    };
    if names.is_empty() {
        return Err(err!(MEDSEAL_JWS_CRIT_UNKNOWN, "\"crit\" must not be empty"));
    }
    let mut seen = Vec::new();
    for name in names {
        let Value::String(name) = name else {
            return Err(err!(MEDSEAL_JWS_CRIT_UNKNOWN, "\"crit\" must hold strings only"));
        };
        if REGISTERED.contains(&name.as_ref()) {
            return Err(err!(MEDSEAL_JWS_CRIT_UNKNOWN, "\"crit\" must not list the RFC 7515 parameter \"{name}\""));
        }
        if !CRIT_UNDERSTOOD.contains(&name.as_ref()) {
            return Err(err!(MEDSEAL_JWS_CRIT_UNKNOWN, "\"crit\" lists \"{}\", an extension medseal does not understand", shown(name)));
        }
        if header.get(name).is_none() {
            return Err(err!(MEDSEAL_JWS_CRIT_UNKNOWN, "\"crit\" lists \"{name}\" but the header does not carry it"));
        }
        if seen.contains(&name) {
            return Err(err!(MEDSEAL_JWS_CRIT_UNKNOWN, "\"crit\" lists \"{name}\" twice"));
        }
        seen.push(name);
    }
    Ok(())
}
