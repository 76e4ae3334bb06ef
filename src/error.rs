//! One error type for the whole library, and the stable result codes the C ABI returns.
//!
//! Codes live in numeric blocks per area and are never renumbered: bindings map them to
//! exception classes, and operators grep logs for them. Messages say what is wrong and where
//! (a line and column, a field name), never patient data or key bytes.

use std::borrow::Cow;
use std::fmt;

use medseal_macros::ResultCodes;

/// Stable result codes. In C this is `medseal_result`; `MEDSEAL_OK` is 0.
///
/// Blocks: 1–99 general, 100–199 canonical JSON, 200–299 keys, 300–399 JWS, 400–499 sealed
/// envelopes, 500–599 certificates and trust lists, 600–699 signers (tokens, callbacks, clock),
/// 700–799 the outbox, 800–899 transport to the hub, 900–999 the ledger and receipts.
///
/// Each code is written once, here: its number, its doc comment (copied into `medseal.h` by
/// cbindgen, which reads this enum as written) and its short description (`#[describe]`, the
/// text of `medseal_result_describe`); `#[derive(ResultCodes)]` makes `ALL`, `from_i32`,
/// `name` and `describe` from them.
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ResultCodes)]
pub enum ResultCode {
    /// Success.
    #[describe("success")]
    MEDSEAL_OK = 0,
    /// A required pointer argument was NULL.
    #[describe("a required pointer argument was NULL")]
    MEDSEAL_NULL_ARGUMENT = 1,
    /// An argument has a value the function does not accept (unknown flag, format or algorithm).
    #[describe("an argument has a value the function does not accept")]
    MEDSEAL_INVALID_ARGUMENT = 2,
    /// The caller's buffer is too small; the required size was written.
    #[describe("the output buffer is too small; the required size was written")]
    MEDSEAL_BUFFER_TOO_SMALL = 3,
    /// A text argument (kid, commitment, ...) is not valid UTF-8.
    #[describe("a text argument is not valid UTF-8")]
    MEDSEAL_INVALID_UTF8_ARGUMENT = 4,
    /// A bug: medseal panicked. The message says where; please report it.
    #[describe("internal error: medseal panicked (a bug; please report it)")]
    MEDSEAL_PANIC = 5,
    /// The operation is recognised but not supported (yet).
    #[describe("the operation is not supported")]
    MEDSEAL_UNSUPPORTED = 6,
    /// The system random generator or another platform facility failed.
    #[describe("a system facility (random generator) failed")]
    MEDSEAL_SYSTEM_ERROR = 7,

    /// The input is not JSON (RFC 8259 syntax error); the message gives line and column.
    #[describe("the input is not valid JSON")]
    MEDSEAL_JSON_SYNTAX = 100,
    /// The input is not valid UTF-8.
    #[describe("the input is not valid UTF-8")]
    MEDSEAL_JSON_INVALID_UTF8 = 101,
    /// An object has the same key twice (I-JSON forbids it).
    #[describe("an object has a duplicate key")]
    MEDSEAL_JSON_DUPLICATE_KEY = 102,
    /// A string escapes a lone UTF-16 surrogate (I-JSON forbids it).
    #[describe("a string escapes a lone UTF-16 surrogate")]
    MEDSEAL_JSON_LONE_SURROGATE = 103,
    /// A number is out of range: an integer beyond ±(2^53−1) or a value beyond a double.
    #[describe("a number is outside the range I-JSON allows")]
    MEDSEAL_JSON_NUMBER_OUT_OF_RANGE = 104,
    /// A number's canonical text differs from its input text (`1.50`, `1e2`, `-0`): precision
    /// would be lost. Refused unless lossy numbers are allowed.
    #[describe("a number would change its text when canonicalized (precision loss)")]
    MEDSEAL_JSON_LOSSY_NUMBER = 105,
    /// A string is not in Unicode NFC. Refused unless NFC normalization is asked for.
    #[describe("a string is not in Unicode NFC")]
    MEDSEAL_JSON_NOT_NFC = 106,
    /// Nesting deeper than the limit.
    #[describe("the JSON nests deeper than the limit")]
    MEDSEAL_JSON_TOO_DEEP = 107,
    /// A JSON document larger than the limit, or one whose JWS would exceed the signed-record
    /// limit (src/limits.rs).
    #[describe("the JSON document, or the JWS it would make, is larger than the limit")]
    MEDSEAL_JSON_TOO_LARGE = 108,
    /// A FHIR variant was asked for but the document is not a FHIR resource object.
    #[describe("a FHIR variant needs a FHIR resource object")]
    MEDSEAL_JSON_NOT_FHIR = 109,

    /// The key bytes are in no format medseal reads (PKCS#8, PKCS#1, SPKI, JWK; DER or PEM).
    #[describe("the key is in no format medseal reads")]
    MEDSEAL_KEY_FORMAT = 200,
    /// The key is of an algorithm or curve medseal does not sign or verify with.
    #[describe("the key's algorithm or curve is not supported")]
    MEDSEAL_KEY_UNSUPPORTED = 201,
    /// The key is an encrypted PKCS#8 document; decrypt it first (not supported yet).
    #[describe("the key is encrypted PKCS#8, which is not supported yet")]
    MEDSEAL_KEY_ENCRYPTED = 202,
    /// The key is malformed or inconsistent (public part does not match, bad point, ...).
    #[describe("the key is malformed or inconsistent")]
    MEDSEAL_KEY_INVALID = 203,
    /// RSA key size outside 2048..=4096 bits.
    #[describe("the RSA key size is outside 2048..4096 bits")]
    MEDSEAL_KEY_SIZE = 204,
    /// A private key is needed but this key holds only the public part.
    #[describe("a private key is needed but the key is public only")]
    MEDSEAL_KEY_NOT_PRIVATE = 205,

    /// The JWS is not a compact or JSON JWS.
    #[describe("the input is not a compact or JSON JWS")]
    MEDSEAL_JWS_MALFORMED = 300,
    /// A JWS part is not strict base64url (no padding, no stray characters).
    #[describe("a JWS part is not strict base64url")]
    MEDSEAL_JWS_BASE64 = 301,
    /// The protected header is not a valid JSON object or a member has the wrong form.
    #[describe("the JWS protected header is invalid")]
    MEDSEAL_JWS_HEADER = 302,
    /// The header asks for `none` or an HMAC algorithm: never accepted for records.
    #[describe("the JWS algorithm is forbidden (none or HMAC)")]
    MEDSEAL_JWS_ALG_FORBIDDEN = 303,
    /// The header `alg` is unknown to medseal.
    #[describe("the JWS algorithm is unknown")]
    MEDSEAL_JWS_ALG_UNKNOWN = 304,
    /// The header `alg` does not fit any candidate key (algorithm confusion refused).
    #[describe("the JWS algorithm does not match the key")]
    MEDSEAL_JWS_ALG_MISMATCH = 305,
    /// `crit` names an extension medseal does not understand, or is malformed.
    #[describe("the JWS crit header names an unsupported extension")]
    MEDSEAL_JWS_CRIT_UNKNOWN = 306,
    /// No candidate key verifies the signature.
    #[describe("the signature does not verify")]
    MEDSEAL_JWS_SIGNATURE_INVALID = 307,
    /// The verifier holds no keys.
    #[describe("the verifier holds no keys")]
    MEDSEAL_JWS_NO_KEYS = 308,
    /// The JWS is detached but no payload was given (or the reverse).
    #[describe("the detached payload is missing or was given twice")]
    MEDSEAL_JWS_PAYLOAD_MISSING = 309,
    /// A signed record whose payload is not canonical JSON (invalid UTF-8, not I-JSON, a
    /// duplicate key, or not byte-equal to its own RFC 8785 canonicalization): parsers could
    /// read it differently, so it is not a medseal record however valid its signature.
    #[describe("the signed record's payload is not canonical JSON")]
    MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL = 310,

    /// The envelope's JSON mapping is not valid (missing or unknown member, wrong type).
    #[describe("the sealed envelope's JSON is not valid")]
    MEDSEAL_SEAL_MALFORMED = 400,
    /// The bytes are neither the JSON mapping nor a protobuf `medseal.v1.SealedRecord`.
    #[describe("the bytes are not a sealed envelope (JSON or protobuf)")]
    MEDSEAL_SEAL_NOT_PROTOBUF = 401,
    /// A field is shorter than it must be (encapsulated key, ciphertext without its tag).
    #[describe("a field of the sealed envelope is truncated")]
    MEDSEAL_SEAL_TRUNCATED = 402,
    /// The envelope names an HPKE suite medseal does not open.
    #[describe("the envelope's HPKE suite is not supported")]
    MEDSEAL_SEAL_UNKNOWN_SUITE = 403,
    /// The envelope is not addressed to this key (no recipient with its kid).
    #[describe("the envelope is not addressed to this key")]
    MEDSEAL_SEAL_WRONG_RECIPIENT = 404,
    /// Authentication failed: meta, enc or ct was altered, or the key does not match. Decoding
    /// already refuses an envelope whose informative `info` copy is present and is not the
    /// meta's (the meta or the copy was altered).
    #[describe("the envelope failed authentication (altered, or the wrong key)")]
    MEDSEAL_SEAL_DECRYPT_FAILED = 405,
    /// The envelope or plaintext is larger than the limit.
    #[describe("the envelope or record is larger than the limit")]
    MEDSEAL_SEAL_TOO_LARGE = 406,
    /// An X25519 public key of low order gave an all-zero shared secret: refused.
    #[describe("a low-order X25519 key gave an all-zero shared secret")]
    MEDSEAL_SEAL_ZERO_SHARED_SECRET = 407,
    /// A routing metadata field is missing or out of range.
    #[describe("a routing metadata field is missing or invalid")]
    MEDSEAL_SEAL_META_INVALID = 408,

    /// A certificate is malformed, uses an unsupported algorithm or carries an unknown critical extension.
    #[describe("a certificate is malformed or unsupported")]
    MEDSEAL_CERT_INVALID = 500,
    /// A CA certificate in the chain (intermediate or anchor) had expired at the signing time.
    #[describe("a certificate in the chain had expired at the signing time")]
    MEDSEAL_CERT_EXPIRED = 501,
    /// A CA certificate in the chain (intermediate or anchor) was not yet valid at the signing time.
    #[describe("a certificate in the chain was not yet valid at the signing time")]
    MEDSEAL_CERT_NOT_YET_VALID = 502,
    /// The chain does not lead to any configured trust anchor.
    #[describe("the certificate chain does not lead to a trusted anchor")]
    MEDSEAL_CERT_UNKNOWN_ISSUER = 503,
    /// A certificate is not allowed this use: the signer lacks digitalSignature/nonRepudiation, or an issuer is not a CA.
    #[describe("a certificate's key usage does not allow this use")]
    MEDSEAL_CERT_KEY_USAGE = 504,
    /// The chain is broken: names do not link, an issuer's signature does not verify, or `x5t#S256` does not match.
    #[describe("the certificate chain is broken")]
    MEDSEAL_CERT_CHAIN_BROKEN = 505,
    /// The signing time lies outside the signer's certificate or trust-list validity window.
    #[describe("the signature was made outside the signer's validity window")]
    MEDSEAL_SIGNED_OUTSIDE_VALIDITY = 506,
    /// The trust list is malformed or inconsistent (for example one key in two roles).
    #[describe("the trust list is malformed or inconsistent")]
    MEDSEAL_TRUST_LIST_INVALID = 507,
    /// The trust list is past its expiry: fetch a current one.
    #[describe("the trust list has expired")]
    MEDSEAL_TRUST_LIST_EXPIRED = 508,
    /// The trust list's sequence number is lower than one already seen (rollback refused).
    #[describe("the trust list is older than one already seen")]
    MEDSEAL_TRUST_LIST_STALE = 509,
    /// The trust list is not signed by the configured trust-list key.
    #[describe("the trust list's signature does not verify")]
    MEDSEAL_TRUST_LIST_SIGNATURE = 510,
    /// No key in the trust list (for this role) matches the signature.
    #[describe("no trusted key for this role matches the signature")]
    MEDSEAL_TRUST_UNKNOWN_SIGNER = 511,

    /// The signing backend (token or host callback) reported a failure.
    #[describe("the signing backend (token or host callback) failed")]
    MEDSEAL_SIGNER_FAILED = 600,
    /// The signing backend returned a signature that does not verify with its public key; nothing was emitted.
    #[describe("the signing backend returned a signature that does not verify")]
    MEDSEAL_SIGNER_BAD_SIGNATURE = 601,
    /// The certificate's public key is not the signer's key.
    #[describe("the certificate does not belong to the signing key")]
    MEDSEAL_SIGNER_CERT_MISMATCH = 602,
    /// The requested signing time is further from the clock than the configured skew.
    #[describe("the signing time is too far from the clock")]
    MEDSEAL_SIGNING_TIME_SKEW = 603,
    /// The PKCS#11 module could not be loaded or initialized.
    #[describe("the PKCS#11 module could not be loaded")]
    MEDSEAL_PKCS11_MODULE = 604,
    /// No PKCS#11 token has the given label.
    #[describe("no PKCS#11 token has this label")]
    MEDSEAL_PKCS11_TOKEN_NOT_FOUND = 605,
    /// The token holds no usable key with the given label.
    #[describe("the PKCS#11 token holds no such key")]
    MEDSEAL_PKCS11_KEY_NOT_FOUND = 606,
    /// The PIN was refused, or the token is locked.
    #[describe("the PKCS#11 PIN was refused or the token is locked")]
    MEDSEAL_PKCS11_PIN = 607,
    /// The token failed an operation (removed, device error, unsupported mechanism).
    #[describe("the PKCS#11 token failed the operation")]
    MEDSEAL_PKCS11_DEVICE = 608,

    /// The outbox database could not be opened, read or written (disk full, permissions, I/O error).
    #[describe("the outbox database could not be read or written")]
    MEDSEAL_OUTBOX_IO = 700,
    /// The outbox stayed locked by another process longer than the busy timeout.
    #[describe("the outbox is locked by another process")]
    MEDSEAL_OUTBOX_BUSY = 701,
    /// The file is not a medseal outbox, or one of a newer schema version.
    #[describe("the file is not a medseal outbox of a known version")]
    MEDSEAL_OUTBOX_SCHEMA = 702,
    /// No record with this outbox id or record id.
    #[describe("no such record in the outbox")]
    MEDSEAL_OUTBOX_NOT_FOUND = 703,
    /// The record is not in a state that allows this (e.g. requeue of a record that is not a dead letter).
    #[describe("the record's state does not allow this operation")]
    MEDSEAL_OUTBOX_STATE = 704,
    /// The record id is already in the outbox with other content.
    #[describe("the record id is already used for other content")]
    MEDSEAL_OUTBOX_DUPLICATE = 705,
    /// A pre-sealed envelope's source or sequence number is not the next one of this outbox.
    #[describe("the envelope's source or sequence is not the outbox's next")]
    MEDSEAL_OUTBOX_SEQUENCE = 706,

    /// The hub could not be reached (refused, unreachable, DNS, proxy).
    #[describe("the hub could not be reached")]
    MEDSEAL_TRANSPORT_CONNECT = 800,
    /// The hub did not answer within the timeout.
    #[describe("the hub did not answer in time")]
    MEDSEAL_TRANSPORT_TIMEOUT = 801,
    /// TLS failed: the hub's certificate is not the pinned CA's, the name does not match, a certificate expired, or the hub refused our client certificate.
    #[describe("the TLS connection to the hub failed")]
    MEDSEAL_TRANSPORT_TLS = 802,
    /// The hub answered with an HTTP status that will be retried (408, 425, 429, 5xx).
    #[describe("the hub answered with a status that will be retried")]
    MEDSEAL_TRANSPORT_HTTP = 803,
    /// The hub refused the request for good (other 4xx); records go to dead letters with the reason.
    #[describe("the hub refused the request for good")]
    MEDSEAL_TRANSPORT_REJECTED = 804,
    /// The hub's answer is malformed or does not match the request.
    #[describe("the hub's answer is malformed")]
    MEDSEAL_TRANSPORT_PROTOCOL = 805,
    /// The transport configuration is invalid (URL, client certificate or key, CA, proxy).
    #[describe("the transport configuration is invalid")]
    MEDSEAL_TRANSPORT_CONFIG = 806,

    /// An inclusion or consistency proof does not lead to the signed root.
    #[describe("a ledger proof does not verify")]
    MEDSEAL_LEDGER_PROOF_INVALID = 900,
    /// A signed tree head is malformed or not signed by the hub's tree-head key.
    #[describe("a signed tree head does not verify")]
    MEDSEAL_LEDGER_TREE_HEAD_INVALID = 901,
    /// A receipt is malformed, not signed by the hub's receipt key, or not for this record.
    #[describe("a receipt does not verify")]
    MEDSEAL_LEDGER_RECEIPT_INVALID = 902,
    /// A leaf index or tree size is out of range.
    #[describe("a ledger index or size is out of range")]
    MEDSEAL_LEDGER_RANGE = 903,
    /// The hub showed two histories: a signed tree head that is not consistent with one this
    /// facility verified before (a rewritten, truncated or forked ledger). Delivery stops.
    #[describe("the hub's ledger forked: two signed tree heads disagree")]
    MEDSEAL_LEDGER_FORK = 904,
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A medseal error: a stable code and a message that explains it.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: ResultCode,
    message: Cow<'static, str>,
}

impl Error {
    /// An error with a specific message.
    pub fn new(code: ResultCode, message: impl Into<Cow<'static, str>>) -> Error {
        Error { code, message: message.into() }
    }

    /// The stable code.
    pub fn code(&self) -> ResultCode {
        self.code
    }

    /// The human-readable detail.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.name())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {})", self.code.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error`] with a formatted message: `err!(MEDSEAL_KEY_SIZE, "{} bits", n)`.
macro_rules! err {
    ($code:ident, $($fmt:tt)+) => {
        $crate::error::Error::new($crate::error::ResultCode::$code, format!($($fmt)+))
    };
}
pub(crate) use err;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in ResultCode::ALL {
            assert!(seen.insert(*code as i32), "duplicate value for {}", code.name());
            assert_eq!(ResultCode::from_i32(*code as i32), Some(*code));
            assert!(code.name().starts_with("MEDSEAL_"));
            assert_eq!(format!("{code:?}"), code.name());
        }
        assert_eq!(ResultCode::from_i32(99_999), None);
        assert_eq!(ResultCode::from_i32(-1), None);
    }

    #[test]
    fn every_code_has_its_own_description() {
        let mut seen = std::collections::HashSet::new();
        for code in ResultCode::ALL {
            let text = code.describe();
            assert!(seen.insert(text), "{} shares its description", code.name());
            assert!(!text.ends_with('.') && text.chars().next().is_some_and(char::is_lowercase), "{}: {text:?}", code.name());
        }
        assert_eq!(ResultCode::ALL.len(), 84);
        assert_eq!(ResultCode::ALL.first(), Some(&ResultCode::MEDSEAL_OK));
        assert_eq!(ResultCode::MEDSEAL_SEAL_META_INVALID.describe(), "a routing metadata field is missing or invalid");
        assert_eq!(ResultCode::from_i32(902), Some(ResultCode::MEDSEAL_LEDGER_RECEIPT_INVALID));
    }
}
