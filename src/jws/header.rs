//! The JAdES-B-B protected header: building it when signing, checking it when verifying.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Result};
use crate::keys::Algorithm;

/// `crit` extensions medseal understands (JAdES, ETSI TS 119 182-1). Anything else in `crit`
/// is refused, as RFC 7515 §4.1.11 requires.
pub const CRIT_UNDERSTOOD: &[&str] = &["sigT", "srCms"];

/// Header parameters defined by RFC 7515/7518 themselves, which must never appear in `crit`.
const REGISTERED: &[&str] = &["alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc", "zip"];

/// The current time as a JAdES `sigT`: UTC, whole seconds, `YYYY-MM-DDThh:mm:ssZ`.
pub fn sig_time_now() -> String {
    format_sig_time(OffsetDateTime::now_utc().unix_timestamp()).expect("the clock is within year 9999")
}

/// Formats Unix seconds as a `sigT` value.
pub fn format_sig_time(unix_seconds: i64) -> Result<String> {
    let time = OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map_err(|_| err!(MEDSEAL_INVALID_ARGUMENT, "signing time {unix_seconds} is out of range"))?;
    time.format(&Rfc3339).map_err(|_| err!(MEDSEAL_INVALID_ARGUMENT, "signing time {unix_seconds} cannot be written as RFC 3339"))
}

/// Builds the protected header for a medseal signature.
pub(crate) fn build<'a>(alg: Algorithm, kid: &'a str, typ: Option<&'a str>, sig_time: &'a str, commitment: Option<&str>) -> Value<'a> {
    let mut members = vec![("alg", Value::string(alg.jws_name())), ("kid", Value::string(kid)), ("sigT", Value::string(sig_time))];
    let mut crit = vec![Value::string("sigT")];
    if let Some(typ) = typ {
        members.push(("typ", Value::string(typ)));
    }
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
    pub json: Vec<u8>,
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
            return Err(err!(MEDSEAL_JWS_ALG_FORBIDDEN, "algorithm \"{}\" is never accepted for signed records", short(&alg_name)))
        }
        None => return Err(err!(MEDSEAL_JWS_ALG_UNKNOWN, "algorithm \"{}\" is not supported", short(&alg_name))),
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
        if !t.ends_with('Z') || OffsetDateTime::parse(t, &Rfc3339).is_err() {
            return Err(err!(MEDSEAL_JWS_HEADER, "\"sigT\" is not an RFC 3339 UTC time"));
        }
    }
    Ok(Parsed { alg, kid: text("kid")?, typ: text("typ")?, sig_time, json: header.to_canonical() })
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
            return Err(err!(MEDSEAL_JWS_CRIT_UNKNOWN, "\"crit\" lists \"{}\", an extension medseal does not understand", short(name)));
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

fn short(s: &str) -> String {
    s.chars().take(32).collect()
}
