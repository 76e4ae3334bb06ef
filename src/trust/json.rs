//! The list's JSON: a strict reader (unknown members, private key material and wrong types
//! refused, every problem named by entry and kid) and the canonical writer.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{entry_name, parse_time, shown, Role, TrustEntry, TrustList, LIST_TYPE, MAX_SEQUENCE, VERSION};
use crate::canon::{self, CanonOptions, Number, Value};
use crate::error::{Error, Result, ResultCode};
use crate::keys::{Algorithm, Key, KeyFormat};
use crate::utc;
use crate::x509::{Certificate, MAX_CHAIN_LEN};

const LIST_MEMBERS: &[&str] = &["entries", "expires", "issued", "issuer", "sequence", "type", "version"];
const ENTRY_MEMBERS: &[&str] = &["alg", "facility", "jwk", "kid", "not_after", "not_before", "roles", "x5c"];
/// JWK members that would carry a private or symmetric key (RFC 7518 §6).
const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// RFC 7638 members per key type: all a listed JWK needs.
const REQUIRED_JWK_MEMBERS: &[(&str, &[&str])] =
    &[("OKP", &["crv", "kty", "x"]), ("EC", &["crv", "kty", "x", "y"]), ("RSA", &["e", "kty", "n"])];

fn invalid(message: String) -> Error {
    Error::new(ResultCode::MEDSEAL_TRUST_LIST_INVALID, message)
}

/// An object being read, named for messages (`the trust list`, `entry 2 (kid "k1")`).
struct Object<'v, 'a> {
    value: &'v Value<'a>,
    name: String,
}

impl<'v, 'a> Object<'v, 'a> {
    /// Checks that `value` is an object holding only `allowed` members.
    fn new(value: &'v Value<'a>, name: String, allowed: &[&str]) -> Result<Self> {
        let Value::Object(members) = value else {
            return Err(invalid(format!("{name} is not a JSON object")));
        };
        if let Some((key, _)) = members.iter().find(|(k, _)| !allowed.contains(&k.as_ref())) {
            return Err(invalid(format!("{name} has an unknown member \"{}\"", shown(key))));
        }
        Ok(Object { value, name })
    }

    fn get(&self, member: &str) -> Result<&'v Value<'a>> {
        self.value.get(member).ok_or_else(|| invalid(format!("{} lacks \"{member}\"", self.name)))
    }

    fn text(&self, member: &str) -> Result<&'v str> {
        match self.get(member)? {
            Value::String(s) => Ok(s),
            _ => Err(invalid(format!("{}: \"{member}\" must be a string", self.name))),
        }
    }

    /// A non-negative integer up to 2^53 − 1.
    fn integer(&self, member: &str) -> Result<u64> {
        match self.get(member)? {
            Value::Number(n) if n.as_f64().fract() == 0.0 && (0.0..=MAX_SEQUENCE as f64).contains(&n.as_f64()) => Ok(n.as_f64() as u64),
            _ => Err(invalid(format!("{}: \"{member}\" must be an integer from 0 to {MAX_SEQUENCE}", self.name))),
        }
    }

    fn time(&self, member: &str) -> Result<i64> {
        parse_time(self.text(member)?).map_err(|e| invalid(format!("{}: \"{member}\": {}", self.name, e.message())))
    }

    fn array(&self, member: &str) -> Result<&'v [Value<'a>]> {
        match self.get(member)? {
            Value::Array(items) => Ok(items),
            _ => Err(invalid(format!("{}: \"{member}\" must be an array", self.name))),
        }
    }
}

/// Reads and checks a list document.
pub(super) fn read(bytes: &[u8]) -> Result<TrustList> {
    let doc = canon::parse(bytes, &CanonOptions::default())
        .map_err(|e| invalid(format!("the trust list is not valid JSON: {} [{}]", e.message(), e.code())))?;
    let list = Object::new(&doc, "the trust list".to_owned(), LIST_MEMBERS)?;
    let list_type = list.text("type")?;
    if list_type != LIST_TYPE {
        return Err(invalid(format!("\"type\" is \"{}\", not \"{LIST_TYPE}\"", shown(list_type))));
    }
    let version = list.integer("version")?;
    if version != VERSION {
        return Err(invalid(format!("trust list version {version} is not supported (this is version {VERSION})")));
    }
    let sequence = list.integer("sequence")?;
    let (issued, expires) = (list.time("issued")?, list.time("expires")?);
    let entries = list.array("entries")?.iter().enumerate().map(|(i, v)| entry(i, v)).collect::<Result<Vec<_>>>()?;
    TrustList::new(list.text("issuer")?, sequence, issued, expires, entries)
}

fn entry(i: usize, value: &Value) -> Result<TrustEntry> {
    let unnamed = Object::new(value, entry_name(i, None), ENTRY_MEMBERS)?;
    let kid = unnamed.text("kid")?;
    let entry = Object { name: entry_name(i, Some(kid)), ..unnamed };
    let alg_name = entry.text("alg")?;
    let alg = Algorithm::ALL
        .into_iter()
        .find(|a| a.jws_name() == alg_name)
        .ok_or_else(|| invalid(format!("{}: alg \"{}\" is not one of EdDSA, ES256, RS256, PS256", entry.name, shown(alg_name))))?;
    let roles = entry.array("roles")?;
    let role = match roles {
        [Value::String(name)] => {
            Role::from_str(name).ok_or_else(|| invalid(format!("{}: unknown role \"{}\"", entry.name, shown(name))))?
        }
        [_] => return Err(invalid(format!("{}: a role is a string", entry.name))),
        [] => return Err(invalid(format!("{}: \"roles\" is empty", entry.name))),
        _ => {
            return Err(invalid(format!(
                "{}: one key in two roles: the entry lists {} roles; give each role its own key",
                entry.name,
                roles.len()
            )))
        }
    };
    let (key, chain) = match (value.get("jwk"), value.get("x5c")) {
        (Some(jwk), None) => (jwk_key(&entry.name, jwk, alg, kid)?, None),
        (None, Some(x5c)) => {
            let chain = certificates(&entry.name, x5c)?;
            let key = chain[0].public_key(alg).map_err(|e| invalid(format!("{}: x5c: {}", entry.name, e.message())))?;
            (key, Some(chain))
        }
        _ => return Err(invalid(format!("{} must hold exactly one of \"jwk\" and \"x5c\"", entry.name))),
    };
    Ok(TrustEntry {
        facility: entry.text("facility")?.to_owned(),
        kid: kid.to_owned(),
        alg,
        key: Arc::new(key),
        chain,
        role,
        not_before: entry.time("not_before")?,
        not_after: entry.time("not_after")?,
    })
}

/// A public JWK: its RFC 7638 members, plus optionally `alg`, `kid` and `use` agreeing with
/// the entry (as `medseal key public --format jwk` writes them). Nothing private.
fn jwk_key(name: &str, jwk: &Value, alg: Algorithm, kid: &str) -> Result<Key> {
    let Value::Object(members) = jwk else {
        return Err(invalid(format!("{name}: \"jwk\" is not a JSON object")));
    };
    if let Some((member, _)) = members.iter().find(|(k, _)| PRIVATE_JWK_MEMBERS.contains(&k.as_ref())) {
        return Err(invalid(format!("{name}: the JWK holds private key material (\"{member}\"); a trust list carries public keys only")));
    }
    let kty = match jwk.get("kty") {
        Some(Value::String(kty)) => kty.as_ref(),
        _ => return Err(invalid(format!("{name}: the JWK lacks \"kty\""))),
    };
    let Some((_, required)) = REQUIRED_JWK_MEMBERS.iter().find(|(t, _)| *t == kty) else {
        return Err(invalid(format!("{name}: JWK kty \"{}\" is not a signing key type (OKP, EC, RSA)", shown(kty))));
    };
    let mut core = Vec::new();
    for (member, value) in members {
        let agrees = match member.as_ref() {
            m if required.contains(&m) => {
                core.push((member.clone(), value.clone()));
                true
            }
            "alg" => value.as_str() == Some(alg.jws_name()),
            "kid" => value.as_str() == Some(kid),
            "use" => value.as_str() == Some("sig"),
            other => return Err(invalid(format!("{name}: the JWK has an unknown member \"{}\"", shown(other)))),
        };
        if !agrees {
            return Err(invalid(format!("{name}: the JWK's \"{member}\" disagrees with the entry")));
        }
    }
    Key::import(&Value::Object(core).to_canonical(), Some(alg))
        .map_err(|e| invalid(format!("{name}: the JWK is not a {alg} public key: {} [{}]", e.message(), e.code())))
}

/// `x5c`: standard base64 (with padding, RFC 7515 §4.1.6) DER certificates, leaf first.
fn certificates(name: &str, x5c: &Value) -> Result<Vec<Certificate>> {
    let items = match x5c {
        Value::Array(items) if !items.is_empty() && items.len() <= MAX_CHAIN_LEN => items,
        _ => return Err(invalid(format!("{name}: \"x5c\" must be an array of 1 to {MAX_CHAIN_LEN} certificates"))),
    };
    items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let der = item
                .as_str()
                .and_then(|s| STANDARD.decode(s).ok())
                .ok_or_else(|| invalid(format!("{name}: x5c[{n}] is not standard base64")))?;
            Certificate::from_der(&der).map_err(|e| invalid(format!("{name}: x5c[{n}]: {}", e.message())))
        })
        .collect()
}

fn number(n: u64) -> Value<'static> {
    Number::new(n as f64).map_or(Value::Null, Value::Number)
}

/// Checked lists always format; a header field changed afterwards writes the bare number,
/// which no reader accepts (and [`TrustList::sign`] refuses it first).
fn time(t: i64) -> Value<'static> {
    Value::string(utc::format(t).unwrap_or_else(|_| t.to_string()))
}

/// The RFC 7638 members of the key's public JWK.
fn public_jwk(key: &Key) -> Value<'static> {
    let Ok(exported) = key.export(KeyFormat::Jwk) else { return Value::Null };
    let Ok(full) = canon::parse(&exported, &CanonOptions::plain()) else { return Value::Null };
    let members = ["crv", "e", "kty", "n", "x", "y"]
        .into_iter()
        .filter_map(|m| full.get(m).and_then(Value::as_str).map(|s| (m, Value::string(s.to_owned()))));
    Value::object(members)
}

/// The canonical JSON of a list.
pub(super) fn write(list: &TrustList) -> Vec<u8> {
    let entries = list
        .entries
        .iter()
        .map(|e| {
            let key = match &e.chain {
                Some(chain) => ("x5c", Value::Array(chain.iter().map(|c| Value::string(STANDARD.encode(c.der()))).collect())),
                None => ("jwk", public_jwk(&e.key)),
            };
            Value::object([
                ("facility", Value::string(e.facility.as_str())),
                ("kid", Value::string(e.kid.as_str())),
                ("alg", Value::string(e.alg.jws_name())),
                key,
                ("roles", Value::Array(vec![Value::string(e.role.as_str())])),
                ("not_before", time(e.not_before)),
                ("not_after", time(e.not_after)),
            ])
        })
        .collect();
    Value::object([
        ("type", Value::string(LIST_TYPE)),
        ("version", number(VERSION)),
        ("issuer", Value::string(list.issuer.as_str())),
        ("sequence", number(list.sequence)),
        ("issued", time(list.issued)),
        ("expires", time(list.expires)),
        ("entries", Value::Array(entries)),
    ])
    .to_canonical()
}
