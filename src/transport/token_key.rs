//! A TLS client key held on a PKCS#11 token: a rustls [`SigningKey`] over the PKCS#11 signer
//! ([`Pkcs11Key`]: its session, shared login, PIN handling and error codes), so that the
//! facility's TLS private key never exists in a file.
//!
//! * P-256: the token signs the SHA-256 digest (`CKM_ECDSA`) and returns r‖s; TLS carries the
//!   DER `ECDSA-Sig-Value`, so the signature is converted.
//! * RSA: RSA-PSS with SHA-256 (`CKM_SHA256_RSA_PKCS_PSS`, salt 32), the only RSA scheme of TLS
//!   1.3, preferred in TLS 1.2 too; PKCS#1 v1.5 (`CKM_SHA256_RSA_PKCS`) only for a TLS 1.2
//!   server that offers no PSS.
//! * Ed25519 keys on tokens are refused when the key is opened (the PKCS#11 signer signs RSA
//!   and P-256 only).
//!
//! Every signature the token returns is verified with the token's public key before it is
//! sent (as every external signature is, `signers::sign_checked`).

use std::sync::Arc;

use rustls::pki_types::SubjectPublicKeyInfoDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

use crate::error::{err, Result};
use crate::keys::{Algorithm, Key, KeyFormat};
use crate::signers::{ecdsa_raw_to_der, Pkcs11Key, SigningBackend};

/// The token key as rustls sees it.
#[derive(Debug)]
pub(crate) struct TokenTlsKey {
    key: Arc<Pkcs11Key>,
    /// The token's public key, DER SubjectPublicKeyInfo.
    spki: Vec<u8>,
    /// The schemes this key signs, best first, each with the public key that checks it.
    schemes: Vec<(SignatureScheme, Algorithm, Arc<Key>)>,
}

impl TokenTlsKey {
    /// Wraps an opened token key. An RSA key must be able to sign RSA-PSS (TLS 1.3 has no
    /// other RSA scheme): a token without `CKM_SHA256_RSA_PKCS_PSS` is refused here, before any
    /// connection.
    pub(crate) fn new(key: Arc<Pkcs11Key>) -> Result<TokenTlsKey> {
        let public = key.public_key();
        let spki = public.export(KeyFormat::SpkiDer)?.to_vec();
        let bound = |alg: Algorithm| -> Result<Arc<Key>> { Ok(Arc::new(Key::import(&spki, Some(alg))?)) };
        let schemes = match public.algorithm() {
            Algorithm::ES256 => vec![(SignatureScheme::ECDSA_NISTP256_SHA256, Algorithm::ES256, bound(Algorithm::ES256)?)],
            Algorithm::RS256 | Algorithm::PS256 => {
                key.check_offers(Algorithm::PS256).map_err(|e| {
                    err!(
                        MEDSEAL_TRANSPORT_CONFIG,
                        "the TLS client key '{}' on token '{}' cannot sign RSA-PSS, which TLS 1.3 requires: {}",
                        key.key_label(),
                        key.token_label(),
                        e.message()
                    )
                })?;
                let mut schemes = vec![(SignatureScheme::RSA_PSS_SHA256, Algorithm::PS256, bound(Algorithm::PS256)?)];
                if key.check_offers(Algorithm::RS256).is_ok() {
                    schemes.push((SignatureScheme::RSA_PKCS1_SHA256, Algorithm::RS256, bound(Algorithm::RS256)?));
                }
                schemes
            }
            other => {
                return Err(err!(
                    MEDSEAL_TRANSPORT_CONFIG,
                    "the TLS client key '{}' on token '{}' is a {other} key; a token's TLS key is P-256 or RSA",
                    key.key_label(),
                    key.token_label()
                ))
            }
        };
        Ok(TokenTlsKey { key, spki, schemes })
    }
}

impl SigningKey for TokenTlsKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let (scheme, alg, public) = self.schemes.iter().find(|(scheme, _, _)| offered.contains(scheme))?;
        Some(Box::new(TokenSigner { key: self.key.clone(), scheme: *scheme, alg: *alg, public: public.clone() }))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.spki.as_slice()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key.public_key().algorithm() {
            Algorithm::ES256 => SignatureAlgorithm::ECDSA,
            _ => SignatureAlgorithm::RSA,
        }
    }
}

/// One handshake's signature, made by the token.
#[derive(Debug)]
struct TokenSigner {
    key: Arc<Pkcs11Key>,
    scheme: SignatureScheme,
    alg: Algorithm,
    public: Arc<Key>,
}

impl Signer for TokenSigner {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rustls::Error> {
        let failed = |why: String| rustls::Error::General(format!("the TLS client key on a PKCS#11 token: {why}"));
        let signature = self.key.sign_as(self.alg, message).map_err(|e| failed(format!("{} ({})", e.message(), e.code().name())))?;
        if !self.public.verify(message, &signature) {
            return Err(failed(format!(
                "token '{}' returned a {} signature that does not verify with key '{}' (MEDSEAL_SIGNER_BAD_SIGNATURE)",
                self.key.token_label(),
                self.alg,
                self.key.key_label()
            )));
        }
        match self.alg {
            Algorithm::ES256 => ecdsa_raw_to_der(&signature).ok_or_else(|| failed("an ES256 signature that is not 64 bytes".to_owned())),
            _ => Ok(signature),
        }
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}
