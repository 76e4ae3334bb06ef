//! A signer whose private key lives in the host: the host gets the exact bytes to sign and
//! returns the signature. medseal checks it before use (see [`super::sign_checked`]).

use std::fmt;
use std::sync::Arc;

use super::{ecdsa_der_to_raw, SigningBackend};
use crate::error::{err, Result};
use crate::keys::{Algorithm, Key};

/// The host's signing function: the bytes to sign in, the signature (or a failure message that
/// must not contain secrets) out.
pub type SignFn = dyn Fn(&[u8]) -> std::result::Result<Vec<u8>, String> + Send + Sync;

/// Most bytes a host signature may have (RSA-4096 is 512).
pub const MAX_SIGNATURE_BYTES: usize = 1024;

/// A signer backed by a host callback and the public key it must match.
pub struct CallbackKey {
    public: Key,
    sign: Arc<SignFn>,
}

impl fmt::Debug for CallbackKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackKey").field("alg", &self.public.algorithm()).field("kid", &self.public.kid()).finish()
    }
}

impl CallbackKey {
    /// A signer for `public` (its algorithm is the signer's: import RSA keys as PS256 to sign
    /// PS256) that calls `sign` for every signature.
    pub fn new(public: &Key, sign: Arc<SignFn>) -> CallbackKey {
        CallbackKey { public: public.to_public(), sign }
    }
}

impl SigningBackend for CallbackKey {
    fn algorithm(&self) -> Algorithm {
        self.public.algorithm()
    }

    fn public_key(&self) -> &Key {
        &self.public
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signature = (self.sign)(message).map_err(|why| err!(MEDSEAL_SIGNER_FAILED, "the host signer failed: {why}"))?;
        if signature.is_empty() || signature.len() > MAX_SIGNATURE_BYTES {
            return Err(err!(MEDSEAL_SIGNER_BAD_SIGNATURE, "the host signer returned {} bytes, not a signature", signature.len()));
        }
        Ok(match self.public.algorithm() {
            // Java and many keystores give DER; JWS wants r‖s.
            Algorithm::ES256 => ecdsa_der_to_raw(&signature),
            _ => signature,
        })
    }
}
