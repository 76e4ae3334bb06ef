//! Constant sets of the C ABI. They are C enums (not macros) so that the macro-free header
//! used by PHP FFI and cffi still carries them; functions take them as `uint32_t`, because a
//! Rust enum must never be built from an unchecked C integer.
//!
//! The numbers are the C ABI's alone: the core's enums (`Algorithm`, `KeyFormat`,
//! `Serialization`) do not know them, and the mappings below are the only place that does.

use crate::jws::Serialization;
use crate::keys::{Algorithm, KeyFormat};

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
    /// Exactly RFC 8785: no NFC check, and numbers that only lose digits a double cannot hold
    /// (`1.50`, `1e2`) are accepted; an integer literal that a double would change is still
    /// refused (DESIGN 3.1).
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

/// AEADs for sealed envelopes (`medseal_envelope_seal`, `medseal_signer_sign_and_seal`): the RFC 9180 registry
/// values. The KEM is always DHKEM(X25519, HKDF-SHA256) and the KDF HKDF-SHA256.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum medseal_aead {
    /// AES-256-GCM (0x0002), the medseal default.
    MEDSEAL_AEAD_AES_256_GCM = 2,
    /// ChaCha20-Poly1305 (0x0003), for hosts without AES instructions.
    MEDSEAL_AEAD_CHACHA20_POLY1305 = 3,
}

/// Encodings of a sealed envelope written by `medseal_envelope_seal` and `medseal_signer_sign_and_seal`.
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

/// The `MEDSEAL_ALG_*` number of an algorithm.
pub(crate) fn algorithm_to_c(alg: Algorithm) -> u32 {
    let id = match alg {
        Algorithm::EdDSA => medseal_alg::MEDSEAL_ALG_EDDSA,
        Algorithm::ES256 => medseal_alg::MEDSEAL_ALG_ES256,
        Algorithm::RS256 => medseal_alg::MEDSEAL_ALG_RS256,
        Algorithm::PS256 => medseal_alg::MEDSEAL_ALG_PS256,
    };
    id as u32
}

/// The algorithm of a `MEDSEAL_ALG_*` number (`MEDSEAL_ALG_FROM_KEY` is none: callers that
/// accept it check it first).
pub(crate) fn algorithm_from_c(id: u32) -> Option<Algorithm> {
    Algorithm::ALL.into_iter().find(|alg| algorithm_to_c(*alg) == id)
}

/// The `MEDSEAL_KEY_FORMAT_*` number of a key format.
pub(crate) fn key_format_to_c(format: KeyFormat) -> u32 {
    use medseal_key_format::*;
    let id = match format {
        KeyFormat::Pkcs8Der => MEDSEAL_KEY_FORMAT_PKCS8_DER,
        KeyFormat::Pkcs8Pem => MEDSEAL_KEY_FORMAT_PKCS8_PEM,
        KeyFormat::Pkcs8V2Der => MEDSEAL_KEY_FORMAT_PKCS8_V2_DER,
        KeyFormat::Pkcs8V2Pem => MEDSEAL_KEY_FORMAT_PKCS8_V2_PEM,
        KeyFormat::SpkiDer => MEDSEAL_KEY_FORMAT_SPKI_DER,
        KeyFormat::SpkiPem => MEDSEAL_KEY_FORMAT_SPKI_PEM,
        KeyFormat::Jwk => MEDSEAL_KEY_FORMAT_JWK,
        KeyFormat::RawPrivate => MEDSEAL_KEY_FORMAT_RAW_PRIVATE,
        KeyFormat::RawPublic => MEDSEAL_KEY_FORMAT_RAW_PUBLIC,
    };
    id as u32
}

/// The key format of a `MEDSEAL_KEY_FORMAT_*` number.
pub(crate) fn key_format_from_c(id: u32) -> Option<KeyFormat> {
    KeyFormat::ALL.into_iter().find(|format| key_format_to_c(*format) == id)
}

/// The `MEDSEAL_JWS_*` number of a JWS serialization.
pub(crate) fn serialization_to_c(serialization: Serialization) -> u32 {
    let id = match serialization {
        Serialization::Flattened => medseal_jws_format::MEDSEAL_JWS_FLATTENED,
        Serialization::Compact => medseal_jws_format::MEDSEAL_JWS_COMPACT,
        Serialization::DetachedCompact => medseal_jws_format::MEDSEAL_JWS_DETACHED_COMPACT,
        Serialization::DetachedFlattened => medseal_jws_format::MEDSEAL_JWS_DETACHED_FLATTENED,
    };
    id as u32
}

/// The JWS serialization of a `MEDSEAL_JWS_*` number.
pub(crate) fn serialization_from_c(id: u32) -> Option<Serialization> {
    Serialization::ALL.into_iter().find(|serialization| serialization_to_c(*serialization) == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value of the core has one C number, distinct, that maps back to it; numbers
    /// outside the enums map to nothing.
    #[test]
    fn c_numbers_round_trip() {
        let algs: Vec<u32> = Algorithm::ALL.into_iter().map(algorithm_to_c).collect();
        assert_eq!(algs, [1, 2, 3, 4]);
        for alg in Algorithm::ALL {
            assert_eq!(algorithm_from_c(algorithm_to_c(alg)), Some(alg));
        }
        let formats: Vec<u32> = KeyFormat::ALL.into_iter().map(key_format_to_c).collect();
        assert_eq!(formats, (1..=9).collect::<Vec<u32>>());
        for format in KeyFormat::ALL {
            assert_eq!(key_format_from_c(key_format_to_c(format)), Some(format));
        }
        let serializations: Vec<u32> = Serialization::ALL.into_iter().map(serialization_to_c).collect();
        assert_eq!(serializations, [1, 2, 3, 4]);
        for serialization in Serialization::ALL {
            assert_eq!(serialization_from_c(serialization_to_c(serialization)), Some(serialization));
        }
        for id in [0, 5, 10, u32::MAX] {
            assert_eq!(algorithm_from_c(id), None);
            assert_eq!(serialization_from_c(id), None);
        }
        assert_eq!(key_format_from_c(0), None);
        assert_eq!(key_format_from_c(10), None);
    }
}
