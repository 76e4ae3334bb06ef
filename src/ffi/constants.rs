//! Constant sets of the C ABI. They are C enums (not macros) so that the macro-free header
//! used by PHP FFI and cffi still carries them; functions take them as `uint32_t`, because a
//! Rust enum must never be built from an unchecked C integer.

/// JWS algorithms (`medseal_key_generate`, `medseal_key_import`, `medseal_key_algorithm`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_alg {
    /// Let the key decide (import only).
    MEDSEAL_ALG_FROM_KEY = 0,
    /// Ed25519.
    MEDSEAL_ALG_EDDSA = 1,
    /// ECDSA P-256 SHA-256.
    MEDSEAL_ALG_ES256 = 2,
    /// RSASSA-PKCS1-v1_5 SHA-256.
    MEDSEAL_ALG_RS256 = 3,
    /// RSASSA-PSS SHA-256.
    MEDSEAL_ALG_PS256 = 4,
}

/// Key encodings for `medseal_key_export`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_key_format {
    MEDSEAL_KEY_FORMAT_PKCS8_DER = 1,
    MEDSEAL_KEY_FORMAT_PKCS8_PEM = 2,
    MEDSEAL_KEY_FORMAT_PKCS8_V2_DER = 3,
    MEDSEAL_KEY_FORMAT_PKCS8_V2_PEM = 4,
    MEDSEAL_KEY_FORMAT_SPKI_DER = 5,
    MEDSEAL_KEY_FORMAT_SPKI_PEM = 6,
    MEDSEAL_KEY_FORMAT_JWK = 7,
    /// Raw private key bytes (Ed25519 seed, P-256 scalar, X25519 scalar; not RSA).
    MEDSEAL_KEY_FORMAT_RAW_PRIVATE = 8,
    /// Raw public key bytes (32 bytes for Ed25519/X25519, the 65-byte point for P-256).
    MEDSEAL_KEY_FORMAT_RAW_PUBLIC = 9,
}

/// JWS serializations for `medseal_signer_sign`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_jws_format {
    /// `{"payload","protected","signature"}`.
    MEDSEAL_JWS_FLATTENED = 1,
    /// `header.payload.signature`.
    MEDSEAL_JWS_COMPACT = 2,
    /// `header..signature` (FHIR `Signature.data`).
    MEDSEAL_JWS_DETACHED_COMPACT = 3,
    /// `{"protected","signature"}`.
    MEDSEAL_JWS_DETACHED_FLATTENED = 4,
}

/// Canonicalization flags, OR-ed together; 0 is the strict medseal default.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_canon_flag {
    /// Exactly RFC 8785: lossy numbers accepted, no NFC check.
    MEDSEAL_CANON_PLAIN = 1,
    /// Accept numbers whose canonical text differs (`1.50` → `1.5`).
    MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS = 2,
    /// Normalize strings to NFC instead of refusing them.
    MEDSEAL_CANON_NORMALIZE_NFC = 4,
    /// FHIR `#data`: drop `text`.
    MEDSEAL_CANON_FHIR_DATA = 8,
    /// FHIR `#static`: drop `text` and `meta`.
    MEDSEAL_CANON_FHIR_STATIC = 16,
    /// FHIR `#document`: drop the root `id` and `meta`.
    MEDSEAL_CANON_FHIR_DOCUMENT = 32,
}

/// How `medseal_verifier_verify_detached` reads the payload it is given.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_payload_kind {
    /// The exact signed bytes.
    MEDSEAL_PAYLOAD_BYTES = 1,
    /// A JSON document, canonicalized with the verifier's flags.
    MEDSEAL_PAYLOAD_DOCUMENT = 2,
}

/// AEADs for sealed envelopes (`medseal_seal`, `medseal_seal_signed`): the RFC 9180 registry
/// values. The KEM is always DHKEM(X25519, HKDF-SHA256) and the KDF HKDF-SHA256.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_aead {
    /// AES-256-GCM (0x0002), the medseal default.
    MEDSEAL_AEAD_AES_256_GCM = 2,
    /// ChaCha20-Poly1305 (0x0003), for hosts without AES instructions.
    MEDSEAL_AEAD_CHACHA20_POLY1305 = 3,
}

/// Encodings of a sealed envelope written by `medseal_seal` and `medseal_seal_signed`.
/// `medseal_envelope_decode` reads both.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_envelope_encoding {
    /// The JSON mapping (canonical JSON, bytes as base64url).
    MEDSEAL_ENVELOPE_JSON = 1,
    /// Protobuf `medseal.v1.SealedRecord`.
    MEDSEAL_ENVELOPE_PROTOBUF = 2,
}

/// Most recipients one envelope may be sealed to.
pub const MEDSEAL_MAX_RECIPIENTS: usize = 16;
const _: () = assert!(MEDSEAL_MAX_RECIPIENTS == crate::seal::MAX_RECIPIENTS);

/// Length of a key id (RFC 7638 thumbprint, base64url of SHA-256), without terminator.
pub const MEDSEAL_KID_BYTES: usize = 43;

/// Most bytes a signature from a host callback may have (`medseal_sign_callback`'s buffer).
pub const MEDSEAL_MAX_SIGNATURE_BYTES: usize = 1024;
const _: () = assert!(MEDSEAL_MAX_SIGNATURE_BYTES == crate::signers::callback::MAX_SIGNATURE_BYTES);

/// What made a verified signer trusted (`medseal_verified_trusted_by`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_trusted_by {
    /// A key added with `medseal_verifier_builder_add_key`.
    MEDSEAL_TRUSTED_BY_KEY = 1,
    /// An `x5c` certificate chain that validated to a trust anchor at `sigT`.
    MEDSEAL_TRUSTED_BY_CERTIFICATE = 2,
    /// A trust-list entry whose window contains `sigT`.
    MEDSEAL_TRUSTED_BY_TRUST_LIST = 3,
}
