//! PKCS#11 tokens. INTERIM STUB: being written (issue 4).

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::SigningBackend;
use crate::error::{err, Result};
use crate::keys::{Algorithm, Key};

/// Where the key is: module, token label, key label, PIN, and the algorithm to sign with.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (`.so`/`.dll`).
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The key's label (`CKA_LABEL` of the private key; the public key or certificate has the same).
    pub key_label: String,
    /// The user PIN; wiped on drop, never logged.
    pub pin: Zeroizing<String>,
    /// RS256 or PS256 for RSA keys; `None` takes the key's natural algorithm (RS256 for RSA).
    pub alg: Option<Algorithm>,
}

/// A private key on a token.
#[derive(Debug)]
pub struct Pkcs11Key {
    public: Key,
}

impl Pkcs11Key {
    /// Opens the token, logs in and finds the key.
    pub fn open(config: &Pkcs11Config) -> Result<Pkcs11Key> {
        let _ = config;
        Err(err!(MEDSEAL_UNSUPPORTED, "PKCS#11 is not written yet"))
    }
}

impl SigningBackend for Pkcs11Key {
    fn algorithm(&self) -> Algorithm {
        self.public.algorithm()
    }

    fn public_key(&self) -> &Key {
        &self.public
    }

    fn sign_raw(&self, _message: &[u8]) -> Result<Vec<u8>> {
        Err(err!(MEDSEAL_UNSUPPORTED, "PKCS#11 is not written yet"))
    }
}
