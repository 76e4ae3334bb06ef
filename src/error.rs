//! One error type for the whole library, and the stable result codes the C ABI returns.
//!
//! Codes live in numeric blocks per area and are never renumbered: bindings map them to
//! exception classes, and operators grep logs for them. Messages say what is wrong and where
//! (a line and column, a field name), never patient data or key bytes.

use std::borrow::Cow;
use std::fmt;

/// Stable result codes. In C this is `medseal_result`; `MEDSEAL_OK` is 0.
///
/// Blocks: 1–99 general, 100–199 canonical JSON, 200–299 keys, 300–399 JWS, 400–499 sealed
/// envelopes, 500–599 certificates and trust lists, 600–699 signers (tokens, callbacks, clock),
/// 700–799 the outbox, 800–899 transport to the hub, 900–999 the ledger and receipts.
#[allow(non_camel_case_types)]
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// Success.
    MEDSEAL_OK = 0,
    /// A required pointer argument was NULL.
    MEDSEAL_NULL_ARGUMENT = 1,
    /// An argument has a value the function does not accept (unknown flag, format or algorithm).
    MEDSEAL_INVALID_ARGUMENT = 2,
    /// The caller's buffer is too small; the required size was written.
    MEDSEAL_BUFFER_TOO_SMALL = 3,
    /// A text argument (kid, commitment, ...) is not valid UTF-8.
    MEDSEAL_INVALID_UTF8_ARGUMENT = 4,
    /// A bug: medseal panicked. The message says where; please report it.
    MEDSEAL_PANIC = 5,
    /// The operation is recognised but not supported (yet).
    MEDSEAL_UNSUPPORTED = 6,
    /// The system random generator or another platform facility failed.
    MEDSEAL_SYSTEM_ERROR = 7,

    /// The input is not JSON (RFC 8259 syntax error); the message gives line and column.
    MEDSEAL_JSON_SYNTAX = 100,
    /// The input is not valid UTF-8.
    MEDSEAL_JSON_INVALID_UTF8 = 101,
    /// An object has the same key twice (I-JSON forbids it).
    MEDSEAL_JSON_DUPLICATE_KEY = 102,
    /// A string escapes a lone UTF-16 surrogate (I-JSON forbids it).
    MEDSEAL_JSON_LONE_SURROGATE = 103,
    /// A number is out of range: an integer beyond ±(2^53−1) or a value beyond a double.
    MEDSEAL_JSON_NUMBER_OUT_OF_RANGE = 104,
    /// A number's canonical text differs from its input text (`1.50`, `1e2`, `-0`): precision
    /// would be lost. Refused unless lossy numbers are allowed.
    MEDSEAL_JSON_LOSSY_NUMBER = 105,
    /// A string is not in Unicode NFC. Refused unless NFC normalization is asked for.
    MEDSEAL_JSON_NOT_NFC = 106,
    /// Nesting deeper than the limit.
    MEDSEAL_JSON_TOO_DEEP = 107,
    /// Input larger than the limit.
    MEDSEAL_JSON_TOO_LARGE = 108,
    /// A FHIR variant was asked for but the document is not a FHIR resource object.
    MEDSEAL_JSON_NOT_FHIR = 109,

    /// The key bytes are in no format medseal reads (PKCS#8, PKCS#1, SPKI, JWK; DER or PEM).
    MEDSEAL_KEY_FORMAT = 200,
    /// The key is of an algorithm or curve medseal does not sign or verify with.
    MEDSEAL_KEY_UNSUPPORTED = 201,
    /// The key is an encrypted PKCS#8 document; decrypt it first (not supported yet).
    MEDSEAL_KEY_ENCRYPTED = 202,
    /// The key is malformed or inconsistent (public part does not match, bad point, ...).
    MEDSEAL_KEY_INVALID = 203,
    /// RSA key size outside 2048..=4096 bits.
    MEDSEAL_KEY_SIZE = 204,
    /// A private key is needed but this key holds only the public part.
    MEDSEAL_KEY_NOT_PRIVATE = 205,

    /// The JWS is not a compact or JSON JWS.
    MEDSEAL_JWS_MALFORMED = 300,
    /// A JWS part is not strict base64url (no padding, no stray characters).
    MEDSEAL_JWS_BASE64 = 301,
    /// The protected header is not a valid JSON object or a member has the wrong form.
    MEDSEAL_JWS_HEADER = 302,
    /// The header asks for `none` or an HMAC algorithm: never accepted for records.
    MEDSEAL_JWS_ALG_FORBIDDEN = 303,
    /// The header `alg` is unknown to medseal.
    MEDSEAL_JWS_ALG_UNKNOWN = 304,
    /// The header `alg` does not fit any candidate key (algorithm confusion refused).
    MEDSEAL_JWS_ALG_MISMATCH = 305,
    /// `crit` names an extension medseal does not understand, or is malformed.
    MEDSEAL_JWS_CRIT_UNKNOWN = 306,
    /// No candidate key verifies the signature.
    MEDSEAL_JWS_SIGNATURE_INVALID = 307,
    /// The verifier holds no keys.
    MEDSEAL_JWS_NO_KEYS = 308,
    /// The JWS is detached but no payload was given (or the reverse).
    MEDSEAL_JWS_PAYLOAD_MISSING = 309,

    /// The envelope's JSON mapping is not valid (missing or unknown member, wrong type).
    MEDSEAL_SEAL_MALFORMED = 400,
    /// The bytes are neither the JSON mapping nor a protobuf `medseal.v1.SealedRecord`.
    MEDSEAL_SEAL_NOT_PROTOBUF = 401,
    /// A field is shorter than it must be (encapsulated key, ciphertext without its tag).
    MEDSEAL_SEAL_TRUNCATED = 402,
    /// The envelope names an HPKE suite medseal does not open.
    MEDSEAL_SEAL_UNKNOWN_SUITE = 403,
    /// The envelope is not addressed to this key (no recipient with its kid).
    MEDSEAL_SEAL_WRONG_RECIPIENT = 404,
    /// Authentication failed: meta, enc or ct was altered, or the key does not match.
    MEDSEAL_SEAL_DECRYPT_FAILED = 405,
    /// The envelope or plaintext is larger than the limit.
    MEDSEAL_SEAL_TOO_LARGE = 406,
    /// An X25519 public key of low order gave an all-zero shared secret: refused.
    MEDSEAL_SEAL_ZERO_SHARED_SECRET = 407,
    /// A routing metadata field is missing or out of range.
    MEDSEAL_SEAL_META_INVALID = 408,

    /// A certificate is malformed, uses an unsupported algorithm or carries an unknown critical extension.
    MEDSEAL_CERT_INVALID = 500,
    /// A CA certificate in the chain (intermediate or anchor) had expired at the signing time.
    MEDSEAL_CERT_EXPIRED = 501,
    /// A CA certificate in the chain (intermediate or anchor) was not yet valid at the signing time.
    MEDSEAL_CERT_NOT_YET_VALID = 502,
    /// The chain does not lead to any configured trust anchor.
    MEDSEAL_CERT_UNKNOWN_ISSUER = 503,
    /// A certificate is not allowed this use: the signer lacks digitalSignature/nonRepudiation, or an issuer is not a CA.
    MEDSEAL_CERT_KEY_USAGE = 504,
    /// The chain is broken: names do not link, an issuer's signature does not verify, or `x5t#S256` does not match.
    MEDSEAL_CERT_CHAIN_BROKEN = 505,
    /// The signing time lies outside the signer's certificate or trust-list validity window.
    MEDSEAL_SIGNED_OUTSIDE_VALIDITY = 506,
    /// The trust list is malformed or inconsistent (for example one key in two roles).
    MEDSEAL_TRUST_LIST_INVALID = 507,
    /// The trust list is past its expiry: fetch a current one.
    MEDSEAL_TRUST_LIST_EXPIRED = 508,
    /// The trust list's sequence number is lower than one already seen (rollback refused).
    MEDSEAL_TRUST_LIST_STALE = 509,
    /// The trust list is not signed by the configured trust-list key.
    MEDSEAL_TRUST_LIST_SIGNATURE = 510,
    /// No key in the trust list (for this role) matches the signature.
    MEDSEAL_TRUST_UNKNOWN_SIGNER = 511,

    /// The signing backend (token or host callback) reported a failure.
    MEDSEAL_SIGNER_FAILED = 600,
    /// The signing backend returned a signature that does not verify with its public key; nothing was emitted.
    MEDSEAL_SIGNER_BAD_SIGNATURE = 601,
    /// The certificate's public key is not the signer's key.
    MEDSEAL_SIGNER_CERT_MISMATCH = 602,
    /// The requested signing time is further from the clock than the configured skew.
    MEDSEAL_SIGNING_TIME_SKEW = 603,
    /// The PKCS#11 module could not be loaded or initialized.
    MEDSEAL_PKCS11_MODULE = 604,
    /// No PKCS#11 token has the given label.
    MEDSEAL_PKCS11_TOKEN_NOT_FOUND = 605,
    /// The token holds no usable key with the given label.
    MEDSEAL_PKCS11_KEY_NOT_FOUND = 606,
    /// The PIN was refused, or the token is locked.
    MEDSEAL_PKCS11_PIN = 607,
    /// The token failed an operation (removed, device error, unsupported mechanism).
    MEDSEAL_PKCS11_DEVICE = 608,

    /// The outbox database could not be opened, read or written (disk full, permissions, I/O error).
    MEDSEAL_OUTBOX_IO = 700,
    /// The outbox stayed locked by another process longer than the busy timeout.
    MEDSEAL_OUTBOX_BUSY = 701,
    /// The file is not a medseal outbox, or one of a newer schema version.
    MEDSEAL_OUTBOX_SCHEMA = 702,
    /// No record with this outbox id or record id.
    MEDSEAL_OUTBOX_NOT_FOUND = 703,
    /// The record is not in a state that allows this (e.g. requeue of a record that is not a dead letter).
    MEDSEAL_OUTBOX_STATE = 704,
    /// The record id is already in the outbox with other content.
    MEDSEAL_OUTBOX_DUPLICATE = 705,
    /// A pre-sealed envelope's source or sequence number is not the next one of this outbox.
    MEDSEAL_OUTBOX_SEQUENCE = 706,

    /// The hub could not be reached (refused, unreachable, DNS, proxy).
    MEDSEAL_TRANSPORT_CONNECT = 800,
    /// The hub did not answer within the timeout.
    MEDSEAL_TRANSPORT_TIMEOUT = 801,
    /// TLS failed: the hub's certificate is not the pinned CA's, the name does not match, a certificate expired, or the hub refused our client certificate.
    MEDSEAL_TRANSPORT_TLS = 802,
    /// The hub answered with an HTTP status that will be retried (408, 425, 429, 5xx).
    MEDSEAL_TRANSPORT_HTTP = 803,
    /// The hub refused the request for good (other 4xx); records go to dead letters with the reason.
    MEDSEAL_TRANSPORT_REJECTED = 804,
    /// The hub's answer is malformed or does not match the request.
    MEDSEAL_TRANSPORT_PROTOCOL = 805,
    /// The transport configuration is invalid (URL, client certificate or key, CA, proxy).
    MEDSEAL_TRANSPORT_CONFIG = 806,

    /// An inclusion or consistency proof does not lead to the signed root.
    MEDSEAL_LEDGER_PROOF_INVALID = 900,
    /// A signed tree head is malformed or not signed by the hub's tree-head key.
    MEDSEAL_LEDGER_TREE_HEAD_INVALID = 901,
    /// A receipt is malformed, not signed by the hub's receipt key, or not for this record.
    MEDSEAL_LEDGER_RECEIPT_INVALID = 902,
    /// A leaf index or tree size is out of range.
    MEDSEAL_LEDGER_RANGE = 903,
}

impl ResultCode {
    /// Every code, for tables in tests and bindings.
    pub const ALL: &'static [ResultCode] = &[
        Self::MEDSEAL_OK,
        Self::MEDSEAL_NULL_ARGUMENT,
        Self::MEDSEAL_INVALID_ARGUMENT,
        Self::MEDSEAL_BUFFER_TOO_SMALL,
        Self::MEDSEAL_INVALID_UTF8_ARGUMENT,
        Self::MEDSEAL_PANIC,
        Self::MEDSEAL_UNSUPPORTED,
        Self::MEDSEAL_SYSTEM_ERROR,
        Self::MEDSEAL_JSON_SYNTAX,
        Self::MEDSEAL_JSON_INVALID_UTF8,
        Self::MEDSEAL_JSON_DUPLICATE_KEY,
        Self::MEDSEAL_JSON_LONE_SURROGATE,
        Self::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE,
        Self::MEDSEAL_JSON_LOSSY_NUMBER,
        Self::MEDSEAL_JSON_NOT_NFC,
        Self::MEDSEAL_JSON_TOO_DEEP,
        Self::MEDSEAL_JSON_TOO_LARGE,
        Self::MEDSEAL_JSON_NOT_FHIR,
        Self::MEDSEAL_KEY_FORMAT,
        Self::MEDSEAL_KEY_UNSUPPORTED,
        Self::MEDSEAL_KEY_ENCRYPTED,
        Self::MEDSEAL_KEY_INVALID,
        Self::MEDSEAL_KEY_SIZE,
        Self::MEDSEAL_KEY_NOT_PRIVATE,
        Self::MEDSEAL_JWS_MALFORMED,
        Self::MEDSEAL_JWS_BASE64,
        Self::MEDSEAL_JWS_HEADER,
        Self::MEDSEAL_JWS_ALG_FORBIDDEN,
        Self::MEDSEAL_JWS_ALG_UNKNOWN,
        Self::MEDSEAL_JWS_ALG_MISMATCH,
        Self::MEDSEAL_JWS_CRIT_UNKNOWN,
        Self::MEDSEAL_JWS_SIGNATURE_INVALID,
        Self::MEDSEAL_JWS_NO_KEYS,
        Self::MEDSEAL_JWS_PAYLOAD_MISSING,
        Self::MEDSEAL_SEAL_MALFORMED,
        Self::MEDSEAL_SEAL_NOT_PROTOBUF,
        Self::MEDSEAL_SEAL_TRUNCATED,
        Self::MEDSEAL_SEAL_UNKNOWN_SUITE,
        Self::MEDSEAL_SEAL_WRONG_RECIPIENT,
        Self::MEDSEAL_SEAL_DECRYPT_FAILED,
        Self::MEDSEAL_SEAL_TOO_LARGE,
        Self::MEDSEAL_SEAL_ZERO_SHARED_SECRET,
        Self::MEDSEAL_SEAL_META_INVALID,
        Self::MEDSEAL_CERT_INVALID,
        Self::MEDSEAL_CERT_EXPIRED,
        Self::MEDSEAL_CERT_NOT_YET_VALID,
        Self::MEDSEAL_CERT_UNKNOWN_ISSUER,
        Self::MEDSEAL_CERT_KEY_USAGE,
        Self::MEDSEAL_CERT_CHAIN_BROKEN,
        Self::MEDSEAL_SIGNED_OUTSIDE_VALIDITY,
        Self::MEDSEAL_TRUST_LIST_INVALID,
        Self::MEDSEAL_TRUST_LIST_EXPIRED,
        Self::MEDSEAL_TRUST_LIST_STALE,
        Self::MEDSEAL_TRUST_LIST_SIGNATURE,
        Self::MEDSEAL_TRUST_UNKNOWN_SIGNER,
        Self::MEDSEAL_SIGNER_FAILED,
        Self::MEDSEAL_SIGNER_BAD_SIGNATURE,
        Self::MEDSEAL_SIGNER_CERT_MISMATCH,
        Self::MEDSEAL_SIGNING_TIME_SKEW,
        Self::MEDSEAL_PKCS11_MODULE,
        Self::MEDSEAL_PKCS11_TOKEN_NOT_FOUND,
        Self::MEDSEAL_PKCS11_KEY_NOT_FOUND,
        Self::MEDSEAL_PKCS11_PIN,
        Self::MEDSEAL_PKCS11_DEVICE,
        Self::MEDSEAL_OUTBOX_IO,
        Self::MEDSEAL_OUTBOX_BUSY,
        Self::MEDSEAL_OUTBOX_SCHEMA,
        Self::MEDSEAL_OUTBOX_NOT_FOUND,
        Self::MEDSEAL_OUTBOX_STATE,
        Self::MEDSEAL_OUTBOX_DUPLICATE,
        Self::MEDSEAL_OUTBOX_SEQUENCE,
        Self::MEDSEAL_TRANSPORT_CONNECT,
        Self::MEDSEAL_TRANSPORT_TIMEOUT,
        Self::MEDSEAL_TRANSPORT_TLS,
        Self::MEDSEAL_TRANSPORT_HTTP,
        Self::MEDSEAL_TRANSPORT_REJECTED,
        Self::MEDSEAL_TRANSPORT_PROTOCOL,
        Self::MEDSEAL_TRANSPORT_CONFIG,
        Self::MEDSEAL_LEDGER_PROOF_INVALID,
        Self::MEDSEAL_LEDGER_TREE_HEAD_INVALID,
        Self::MEDSEAL_LEDGER_RECEIPT_INVALID,
        Self::MEDSEAL_LEDGER_RANGE,
    ];

    /// The code for a raw number, if it is one of ours.
    pub fn from_i32(code: i32) -> Option<ResultCode> {
        Self::ALL.iter().copied().find(|c| *c as i32 == code)
    }

    /// The constant's name as it appears in `medseal.h`.
    pub fn name(self) -> &'static str {
        self.texts().0
    }

    /// A short static description, the same text `medseal_result_describe` returns.
    pub fn describe(self) -> &'static str {
        self.texts().1
    }

    fn texts(self) -> (&'static str, &'static str) {
        use ResultCode::*;
        match self {
            MEDSEAL_OK => ("MEDSEAL_OK", "success"),
            MEDSEAL_NULL_ARGUMENT => ("MEDSEAL_NULL_ARGUMENT", "a required pointer argument was NULL"),
            MEDSEAL_INVALID_ARGUMENT => ("MEDSEAL_INVALID_ARGUMENT", "an argument has a value the function does not accept"),
            MEDSEAL_BUFFER_TOO_SMALL => ("MEDSEAL_BUFFER_TOO_SMALL", "the output buffer is too small; the required size was written"),
            MEDSEAL_INVALID_UTF8_ARGUMENT => ("MEDSEAL_INVALID_UTF8_ARGUMENT", "a text argument is not valid UTF-8"),
            MEDSEAL_PANIC => ("MEDSEAL_PANIC", "internal error: medseal panicked (a bug; please report it)"),
            MEDSEAL_UNSUPPORTED => ("MEDSEAL_UNSUPPORTED", "the operation is not supported"),
            MEDSEAL_SYSTEM_ERROR => ("MEDSEAL_SYSTEM_ERROR", "a system facility (random generator) failed"),
            MEDSEAL_JSON_SYNTAX => ("MEDSEAL_JSON_SYNTAX", "the input is not valid JSON"),
            MEDSEAL_JSON_INVALID_UTF8 => ("MEDSEAL_JSON_INVALID_UTF8", "the input is not valid UTF-8"),
            MEDSEAL_JSON_DUPLICATE_KEY => ("MEDSEAL_JSON_DUPLICATE_KEY", "an object has a duplicate key"),
            MEDSEAL_JSON_LONE_SURROGATE => ("MEDSEAL_JSON_LONE_SURROGATE", "a string escapes a lone UTF-16 surrogate"),
            MEDSEAL_JSON_NUMBER_OUT_OF_RANGE => ("MEDSEAL_JSON_NUMBER_OUT_OF_RANGE", "a number is outside the range I-JSON allows"),
            MEDSEAL_JSON_LOSSY_NUMBER => {
                ("MEDSEAL_JSON_LOSSY_NUMBER", "a number would change its text when canonicalized (precision loss)")
            }
            MEDSEAL_JSON_NOT_NFC => ("MEDSEAL_JSON_NOT_NFC", "a string is not in Unicode NFC"),
            MEDSEAL_JSON_TOO_DEEP => ("MEDSEAL_JSON_TOO_DEEP", "the JSON nests deeper than the limit"),
            MEDSEAL_JSON_TOO_LARGE => ("MEDSEAL_JSON_TOO_LARGE", "the JSON input is larger than the limit"),
            MEDSEAL_JSON_NOT_FHIR => ("MEDSEAL_JSON_NOT_FHIR", "a FHIR variant needs a FHIR resource object"),
            MEDSEAL_KEY_FORMAT => ("MEDSEAL_KEY_FORMAT", "the key is in no format medseal reads"),
            MEDSEAL_KEY_UNSUPPORTED => ("MEDSEAL_KEY_UNSUPPORTED", "the key's algorithm or curve is not supported"),
            MEDSEAL_KEY_ENCRYPTED => ("MEDSEAL_KEY_ENCRYPTED", "the key is encrypted PKCS#8, which is not supported yet"),
            MEDSEAL_KEY_INVALID => ("MEDSEAL_KEY_INVALID", "the key is malformed or inconsistent"),
            MEDSEAL_KEY_SIZE => ("MEDSEAL_KEY_SIZE", "the RSA key size is outside 2048..4096 bits"),
            MEDSEAL_KEY_NOT_PRIVATE => ("MEDSEAL_KEY_NOT_PRIVATE", "a private key is needed but the key is public only"),
            MEDSEAL_JWS_MALFORMED => ("MEDSEAL_JWS_MALFORMED", "the input is not a compact or JSON JWS"),
            MEDSEAL_JWS_BASE64 => ("MEDSEAL_JWS_BASE64", "a JWS part is not strict base64url"),
            MEDSEAL_JWS_HEADER => ("MEDSEAL_JWS_HEADER", "the JWS protected header is invalid"),
            MEDSEAL_JWS_ALG_FORBIDDEN => ("MEDSEAL_JWS_ALG_FORBIDDEN", "the JWS algorithm is forbidden (none or HMAC)"),
            MEDSEAL_JWS_ALG_UNKNOWN => ("MEDSEAL_JWS_ALG_UNKNOWN", "the JWS algorithm is unknown"),
            MEDSEAL_JWS_ALG_MISMATCH => ("MEDSEAL_JWS_ALG_MISMATCH", "the JWS algorithm does not match the key"),
            MEDSEAL_JWS_CRIT_UNKNOWN => ("MEDSEAL_JWS_CRIT_UNKNOWN", "the JWS crit header names an unsupported extension"),
            MEDSEAL_JWS_SIGNATURE_INVALID => ("MEDSEAL_JWS_SIGNATURE_INVALID", "the signature does not verify"),
            MEDSEAL_JWS_NO_KEYS => ("MEDSEAL_JWS_NO_KEYS", "the verifier holds no keys"),
            MEDSEAL_JWS_PAYLOAD_MISSING => ("MEDSEAL_JWS_PAYLOAD_MISSING", "the detached payload is missing or was given twice"),
            MEDSEAL_SEAL_MALFORMED => ("MEDSEAL_SEAL_MALFORMED", "the sealed envelope's JSON is not valid"),
            MEDSEAL_SEAL_NOT_PROTOBUF => ("MEDSEAL_SEAL_NOT_PROTOBUF", "the bytes are not a sealed envelope (JSON or protobuf)"),
            MEDSEAL_SEAL_TRUNCATED => ("MEDSEAL_SEAL_TRUNCATED", "a field of the sealed envelope is truncated"),
            MEDSEAL_SEAL_UNKNOWN_SUITE => ("MEDSEAL_SEAL_UNKNOWN_SUITE", "the envelope's HPKE suite is not supported"),
            MEDSEAL_SEAL_WRONG_RECIPIENT => ("MEDSEAL_SEAL_WRONG_RECIPIENT", "the envelope is not addressed to this key"),
            MEDSEAL_SEAL_DECRYPT_FAILED => {
                ("MEDSEAL_SEAL_DECRYPT_FAILED", "the envelope failed authentication (altered, or the wrong key)")
            }
            MEDSEAL_SEAL_TOO_LARGE => ("MEDSEAL_SEAL_TOO_LARGE", "the envelope or record is larger than the limit"),
            MEDSEAL_SEAL_ZERO_SHARED_SECRET => ("MEDSEAL_SEAL_ZERO_SHARED_SECRET", "a low-order X25519 key gave an all-zero shared secret"),
            MEDSEAL_SEAL_META_INVALID => ("MEDSEAL_SEAL_META_INVALID", "a routing metadata field is missing or invalid"),
            MEDSEAL_CERT_INVALID => ("MEDSEAL_CERT_INVALID", "a certificate is malformed or unsupported"),
            MEDSEAL_CERT_EXPIRED => ("MEDSEAL_CERT_EXPIRED", "a certificate in the chain had expired at the signing time"),
            MEDSEAL_CERT_NOT_YET_VALID => {
                ("MEDSEAL_CERT_NOT_YET_VALID", "a certificate in the chain was not yet valid at the signing time")
            }
            MEDSEAL_CERT_UNKNOWN_ISSUER => ("MEDSEAL_CERT_UNKNOWN_ISSUER", "the certificate chain does not lead to a trusted anchor"),
            MEDSEAL_CERT_KEY_USAGE => ("MEDSEAL_CERT_KEY_USAGE", "a certificate's key usage does not allow this use"),
            MEDSEAL_CERT_CHAIN_BROKEN => ("MEDSEAL_CERT_CHAIN_BROKEN", "the certificate chain is broken"),
            MEDSEAL_SIGNED_OUTSIDE_VALIDITY => {
                ("MEDSEAL_SIGNED_OUTSIDE_VALIDITY", "the signature was made outside the signer's validity window")
            }
            MEDSEAL_TRUST_LIST_INVALID => ("MEDSEAL_TRUST_LIST_INVALID", "the trust list is malformed or inconsistent"),
            MEDSEAL_TRUST_LIST_EXPIRED => ("MEDSEAL_TRUST_LIST_EXPIRED", "the trust list has expired"),
            MEDSEAL_TRUST_LIST_STALE => ("MEDSEAL_TRUST_LIST_STALE", "the trust list is older than one already seen"),
            MEDSEAL_TRUST_LIST_SIGNATURE => ("MEDSEAL_TRUST_LIST_SIGNATURE", "the trust list's signature does not verify"),
            MEDSEAL_TRUST_UNKNOWN_SIGNER => ("MEDSEAL_TRUST_UNKNOWN_SIGNER", "no trusted key for this role matches the signature"),
            MEDSEAL_SIGNER_FAILED => ("MEDSEAL_SIGNER_FAILED", "the signing backend (token or host callback) failed"),
            MEDSEAL_SIGNER_BAD_SIGNATURE => {
                ("MEDSEAL_SIGNER_BAD_SIGNATURE", "the signing backend returned a signature that does not verify")
            }
            MEDSEAL_SIGNER_CERT_MISMATCH => ("MEDSEAL_SIGNER_CERT_MISMATCH", "the certificate does not belong to the signing key"),
            MEDSEAL_SIGNING_TIME_SKEW => ("MEDSEAL_SIGNING_TIME_SKEW", "the signing time is too far from the clock"),
            MEDSEAL_PKCS11_MODULE => ("MEDSEAL_PKCS11_MODULE", "the PKCS#11 module could not be loaded"),
            MEDSEAL_PKCS11_TOKEN_NOT_FOUND => ("MEDSEAL_PKCS11_TOKEN_NOT_FOUND", "no PKCS#11 token has this label"),
            MEDSEAL_PKCS11_KEY_NOT_FOUND => ("MEDSEAL_PKCS11_KEY_NOT_FOUND", "the PKCS#11 token holds no such key"),
            MEDSEAL_PKCS11_PIN => ("MEDSEAL_PKCS11_PIN", "the PKCS#11 PIN was refused or the token is locked"),
            MEDSEAL_PKCS11_DEVICE => ("MEDSEAL_PKCS11_DEVICE", "the PKCS#11 token failed the operation"),
            MEDSEAL_OUTBOX_IO => ("MEDSEAL_OUTBOX_IO", "the outbox database could not be read or written"),
            MEDSEAL_OUTBOX_BUSY => ("MEDSEAL_OUTBOX_BUSY", "the outbox is locked by another process"),
            MEDSEAL_OUTBOX_SCHEMA => ("MEDSEAL_OUTBOX_SCHEMA", "the file is not a medseal outbox of a known version"),
            MEDSEAL_OUTBOX_NOT_FOUND => ("MEDSEAL_OUTBOX_NOT_FOUND", "no such record in the outbox"),
            MEDSEAL_OUTBOX_STATE => ("MEDSEAL_OUTBOX_STATE", "the record's state does not allow this operation"),
            MEDSEAL_OUTBOX_DUPLICATE => ("MEDSEAL_OUTBOX_DUPLICATE", "the record id is already used for other content"),
            MEDSEAL_OUTBOX_SEQUENCE => ("MEDSEAL_OUTBOX_SEQUENCE", "the envelope's source or sequence is not the outbox's next"),
            MEDSEAL_TRANSPORT_CONNECT => ("MEDSEAL_TRANSPORT_CONNECT", "the hub could not be reached"),
            MEDSEAL_TRANSPORT_TIMEOUT => ("MEDSEAL_TRANSPORT_TIMEOUT", "the hub did not answer in time"),
            MEDSEAL_TRANSPORT_TLS => ("MEDSEAL_TRANSPORT_TLS", "the TLS connection to the hub failed"),
            MEDSEAL_TRANSPORT_HTTP => ("MEDSEAL_TRANSPORT_HTTP", "the hub answered with a status that will be retried"),
            MEDSEAL_TRANSPORT_REJECTED => ("MEDSEAL_TRANSPORT_REJECTED", "the hub refused the request for good"),
            MEDSEAL_TRANSPORT_PROTOCOL => ("MEDSEAL_TRANSPORT_PROTOCOL", "the hub's answer is malformed"),
            MEDSEAL_TRANSPORT_CONFIG => ("MEDSEAL_TRANSPORT_CONFIG", "the transport configuration is invalid"),
            MEDSEAL_LEDGER_PROOF_INVALID => ("MEDSEAL_LEDGER_PROOF_INVALID", "a ledger proof does not verify"),
            MEDSEAL_LEDGER_TREE_HEAD_INVALID => ("MEDSEAL_LEDGER_TREE_HEAD_INVALID", "a signed tree head does not verify"),
            MEDSEAL_LEDGER_RECEIPT_INVALID => ("MEDSEAL_LEDGER_RECEIPT_INVALID", "a receipt does not verify"),
            MEDSEAL_LEDGER_RANGE => ("MEDSEAL_LEDGER_RANGE", "a ledger index or size is out of range"),
        }
    }
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
    }
}
