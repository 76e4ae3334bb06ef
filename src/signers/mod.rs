//! Signers: where a signature comes from. One trait, three kinds:
//!
//! - software keys ([`Key`], from the foundation);
//! - PKCS#11 tokens ([`pkcs11::Pkcs11Key`]): USB tokens and HSMs through `cryptoki`;
//! - a host callback ([`callback::CallbackKey`]): Java KeyStore, the Windows certificate store,
//!   remote-signing services, anything medseal cannot open itself.
//!
//! A signature made outside medseal (token or host) is checked against the signer's public key
//! before any JWS is emitted ([`sign_checked`]), so a broken token or host code cannot produce a
//! bad record.

pub mod callback;
pub mod pkcs11;

use std::fmt;

use crate::error::{err, Result};
use crate::keys::{Algorithm, Key};

pub use callback::CallbackKey;
pub use pkcs11::{NewKeyKind, Pkcs11Config, Pkcs11Key};

/// Something that signs JWS signing inputs with one fixed algorithm.
pub trait SigningBackend: Send + Sync + fmt::Debug {
    /// The JWS algorithm, fixed for the backend's lifetime.
    fn algorithm(&self) -> Algorithm;

    /// The public key every signature must verify with (bound to [`Self::algorithm`]).
    fn public_key(&self) -> &Key;

    /// Signs the exact bytes given and returns the JWS signature (raw r‖s for ES256).
    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>>;

    /// Whether signatures come from outside medseal and so are checked before use.
    fn is_external(&self) -> bool {
        true
    }
}

/// A software key signs in-process with ring.
impl SigningBackend for Key {
    fn algorithm(&self) -> Algorithm {
        Key::algorithm(self)
    }

    fn public_key(&self) -> &Key {
        self
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.sign(message)
    }

    fn is_external(&self) -> bool {
        false
    }
}

/// Signs with `backend` and, for external backends, verifies the result with the backend's
/// public key: `MEDSEAL_SIGNER_BAD_SIGNATURE` if it does not verify.
pub fn sign_checked(backend: &dyn SigningBackend, message: &[u8]) -> Result<Vec<u8>> {
    let signature = backend.sign_raw(message)?;
    if backend.is_external() && !backend.public_key().verify(message, &signature) {
        return Err(err!(
            MEDSEAL_SIGNER_BAD_SIGNATURE,
            "the {} signer returned a {}-byte signature that does not verify with its public key {}; nothing was emitted",
            backend.algorithm(),
            signature.len(),
            backend.public_key().kid()
        ));
    }
    Ok(signature)
}

/// Converts an ASN.1 DER ECDSA signature (`SEQUENCE { r INTEGER, s INTEGER }`, what Java's
/// `SHA256withECDSA` and many tokens return) to the raw 64-byte r‖s that ES256 uses.
/// Only DER is converted: a negative integer (a missing leading zero), a needless leading zero
/// or a long-form length is not DER (Wycheproof's ecdsa_secp256r1_sha256_test.json, checked in
/// tests/signers.rs). Anything else is returned unchanged, to fail the signature check with its
/// own message.
pub(crate) fn ecdsa_der_to_raw(sig: &[u8]) -> Vec<u8> {
    fn integer(input: &[u8]) -> Option<(&[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let len = len as usize;
        if tag != 0x02 || len == 0 || len > 33 || rest.len() < len {
            return None;
        }
        let (value, rest) = rest.split_at(len);
        // r and s are positive: the first byte's high bit set is a negative number, and a
        // leading zero is there only to clear that bit (DER is minimal).
        if value[0] & 0x80 != 0 || (value.len() > 1 && value[0] == 0 && value[1] & 0x80 == 0) {
            return None;
        }
        let value = if value[0] == 0 && value.len() > 1 { &value[1..] } else { value };
        (value.len() <= 32).then_some((value, rest))
    }
    let parse = || -> Option<Vec<u8>> {
        let (&tag, rest) = sig.split_first()?;
        let (&len, body) = rest.split_first()?;
        if tag != 0x30 || len as usize != body.len() {
            return None;
        }
        let (r, rest) = integer(body)?;
        let (s, rest) = integer(rest)?;
        if !rest.is_empty() {
            return None;
        }
        let mut raw = vec![0u8; 64];
        raw[32 - r.len()..32].copy_from_slice(r);
        raw[64 - s.len()..].copy_from_slice(s);
        Some(raw)
    };
    match parse() {
        Some(raw) if sig.len() != 64 => raw,
        _ => sig.to_vec(),
    }
}

/// Converts a raw ES256 signature (r‖s, 64 bytes) to ASN.1 DER (`SEQUENCE { r INTEGER, s
/// INTEGER }`), what TLS and X.509 (a certificate request) carry. `None` if it is not 64 bytes.
pub fn ecdsa_raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() != 64 {
        return None;
    }
    let integer = |bytes: &[u8]| {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        let value = &bytes[start..];
        let mut out = vec![0x02];
        // A set high bit would read as negative: a zero byte goes in front.
        let pad = value[0] & 0x80 != 0;
        out.push((value.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(value);
        out
    };
    let (r, s) = (integer(&raw[..32]), integer(&raw[32..]));
    let mut der = vec![0x30, (r.len() + s.len()) as u8];
    der.extend(r);
    der.extend(s);
    Some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_ecdsa_signatures_become_raw() {
        // r = 1, s = 0x80 (needs a leading zero in DER).
        let der = [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80];
        let raw = ecdsa_der_to_raw(&der);
        assert_eq!(raw.len(), 64);
        assert_eq!(raw[31], 1);
        assert_eq!(raw[63], 0x80);
        assert!(raw[..31].iter().all(|&b| b == 0));
        // Not DER: s = 0x80 without its leading zero (negative), r = 1 with a needless one.
        for not_der in
            [[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x80].as_slice(), &[0x30, 0x08, 0x02, 0x02, 0x00, 0x01, 0x02, 0x02, 0x00, 0x80]]
        {
            assert_eq!(ecdsa_der_to_raw(not_der), not_der.to_vec());
        }
        // Raw input and garbage pass through unchanged.
        assert_eq!(ecdsa_der_to_raw(&[7u8; 64]), vec![7u8; 64]);
        assert_eq!(ecdsa_der_to_raw(&[0x30, 0x01]), vec![0x30, 0x01]);
    }

    #[test]
    fn raw_ecdsa_signatures_become_der_and_back() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[63] = 0x80;
        assert_eq!(ecdsa_raw_to_der(&raw).unwrap(), vec![0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80]);
        for fill in [0x00u8, 0x7f, 0x80, 0xff] {
            let raw = vec![fill; 64];
            assert_eq!(ecdsa_der_to_raw(&ecdsa_raw_to_der(&raw).unwrap()), raw, "{fill:#x}");
        }
        assert_eq!(ecdsa_raw_to_der(&[1; 63]), None);
    }
}
