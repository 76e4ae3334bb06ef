//! Size limits, in one place, chosen so that what medseal signs, medseal verifies, seals and
//! opens: a record [`canon`](crate::canon) accepts and [`Signer`](crate::jws::Signer) signs
//! gives a JWS that [`Verifier`](crate::jws::Verifier) reads, [`Envelope::seal`] seals and
//! [`Envelope`]'s decoders and `open` take back. Each limit is derived from the one after it,
//! and the relations are checked at compile time below.
//!
//! | limit | value | where |
//! | --- | --- | --- |
//! | [`MAX_JSON_BYTES`] | 64 MiB | JSON input to canonicalization (`CanonOptions::max_bytes` default) |
//! | [`MAX_RECORD_BYTES`] | 47 MiB | canonical payload a signer signs (`SignOptions::max_record_bytes`) |
//! | [`MAX_PROTECTED_HEADER_BYTES`] | 768 KiB | allowance for the protected header (8 certificates of 64 KiB in `x5c`) |
//! | [`MAX_JWS_BYTES`] | 64 MiB | a JWS a signer writes (`SignOptions::max_jws_bytes`) and a verifier reads |
//! | [`MAX_PLAINTEXT_BYTES`] | 64 MiB | plaintext sealed into, and opened from, an envelope |
//! | [`MAX_ENVELOPE_PROTOBUF_BYTES`] | 65 MiB | protobuf envelope decoded |
//! | [`MAX_ENVELOPE_JSON_BYTES`] | 4/3 × 64 MiB + 1 MiB | JSON-mapping envelope decoded |
//!
//! [`Envelope::seal`]: crate::seal::Envelope::seal
//! [`Envelope`]: crate::seal::Envelope

use crate::signers::callback::MAX_SIGNATURE_BYTES;
use crate::x509::{MAX_CERT_BYTES, MAX_CHAIN_LEN};

/// Largest JSON document canonicalization reads, by default (64 MiB). Larger than
/// [`MAX_RECORD_BYTES`]: canonicalizing is not signing, and a canonical record of
/// [`MAX_RECORD_BYTES`] must re-canonicalize (verification of a detached document).
pub const MAX_JSON_BYTES: usize = 64 << 20;

/// Largest sealed plaintext (64 MiB): [`crate::seal::Envelope::seal`] refuses more
/// (`MEDSEAL_SEAL_TOO_LARGE`), and the envelope decoders are sized for it.
pub const MAX_PLAINTEXT_BYTES: usize = 64 << 20;

/// Largest JWS medseal writes or reads (64 MiB): every JWS a verifier accepts can be sealed,
/// and every sealed signed record can be verified after opening.
pub const MAX_JWS_BYTES: usize = MAX_PLAINTEXT_BYTES;

/// The protected header (JSON, before base64url) that the record limit leaves room for: a
/// full `x5c` chain of [`MAX_CHAIN_LEN`] certificates of [`MAX_CERT_BYTES`] plus the other
/// members. A signer still checks the real JWS length against [`MAX_JWS_BYTES`], so a
/// larger header (a very long `typ`) gives an error, never a JWS that verify refuses.
pub const MAX_PROTECTED_HEADER_BYTES: usize = 768 << 10;

/// Largest canonical record (payload) a signer signs: 47 MiB, so that its JWS (base64url,
/// 4/3 as long, plus header and signature) stays within [`MAX_JWS_BYTES`].
pub const MAX_RECORD_BYTES: usize = 47 << 20;

/// Largest protobuf envelope decoded: the plaintext limit plus 1 MiB for the AEAD tag,
/// recipients and meta.
pub const MAX_ENVELOPE_PROTOBUF_BYTES: usize = MAX_PLAINTEXT_BYTES + (1 << 20);

/// Largest JSON-mapping envelope decoded: the ciphertext in base64url plus 1 MiB.
pub const MAX_ENVELOPE_JSON_BYTES: usize = MAX_PLAINTEXT_BYTES / 3 * 4 + (1 << 20);

/// Characters of `n` bytes in unpadded base64url.
pub const fn base64url_len(n: usize) -> usize {
    n / 3 * 4 + [0, 2, 3][n % 3]
}

/// Characters of `n` bytes in padded standard base64 (as in `x5c`).
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Bytes of a flattened JWS JSON around its three base64url parts:
/// `{"payload":"","protected":"","signature":""}` is 44; compact JWS has 2 dots.
const JWS_FRAMING_BYTES: usize = 44;

/// The longest JWS (compact or flattened) for a payload of `payload` bytes, a protected
/// header of `header` bytes and a signature of `signature` bytes.
pub const fn max_jws_len(payload: usize, header: usize, signature: usize) -> usize {
    base64url_len(header) + base64url_len(payload) + base64url_len(signature) + JWS_FRAMING_BYTES
}

// The chain of limits: record → JWS → sealed plaintext → envelope encodings.
const _: () = assert!(MAX_CHAIN_LEN * (base64_len(MAX_CERT_BYTES) + 3) + (16 << 10) <= MAX_PROTECTED_HEADER_BYTES);
const _: () = assert!(max_jws_len(MAX_RECORD_BYTES, MAX_PROTECTED_HEADER_BYTES, MAX_SIGNATURE_BYTES) <= MAX_JWS_BYTES);
const _: () = assert!(MAX_JWS_BYTES <= MAX_PLAINTEXT_BYTES);
const _: () = assert!(MAX_RECORD_BYTES <= MAX_JSON_BYTES);
// A JSON-form JWS is read by the JSON parser, whose default input limit must take it.
const _: () = assert!(MAX_JWS_BYTES <= MAX_JSON_BYTES);
// Ciphertext = plaintext + 16-byte tag; its base64url and the rest fit the JSON mapping.
const _: () = assert!(base64url_len(MAX_PLAINTEXT_BYTES + 16) + (64 << 10) <= MAX_ENVELOPE_JSON_BYTES);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_lengths() {
        for n in 0..64 {
            let encoded = crate::b64::encode(&vec![0xa5; n]);
            assert_eq!(encoded.len(), base64url_len(n), "{n}");
        }
    }
}
