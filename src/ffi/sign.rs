//! Signer exports: a builder for the options, then an immutable signer. One signer type, three
//! kinds of key behind it: software (`medseal_signer_builder_new`), PKCS#11 token
//! (`medseal_signer_builder_from_pkcs11`) and host callback
//! (`medseal_signer_builder_from_callback`, or `medseal_signer_from_callback` in one call).

use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::Arc;

use medseal_macros::ffi_export;
use zeroize::Zeroizing;

use super::canon::options_from_flags;
use super::{bytes, free_box, handle, handle_mut, medseal_buffer, medseal_key, text, Out};
use crate::error::{err, Result, ResultCode};
use crate::jws::{check_commitment, Clock, SignOptions, Signer};
use crate::signers::callback::MAX_SIGNATURE_BYTES;
use crate::signers::{CallbackKey, Pkcs11Config, Pkcs11Key, SigningBackend};
use crate::x509::Certificate;

/// Collects signer options. One thread at a time; free with `medseal_signer_builder_free`.
pub struct medseal_signer_builder {
    backend: Arc<dyn SigningBackend>,
    chain: Option<Vec<Certificate>>,
    options: SignOptions,
}

impl medseal_signer_builder {
    fn new(backend: Arc<dyn SigningBackend>) -> medseal_signer_builder {
        medseal_signer_builder { backend, chain: None, options: SignOptions::default() }
    }

    fn build(&self) -> Result<Signer> {
        let signer = Signer::with_backend(self.backend.clone(), self.options.clone())?;
        match &self.chain {
            Some(chain) => signer.with_certificate_chain(chain.clone()),
            None => Ok(signer),
        }
    }
}

/// The host's signing function for `medseal_signer_from_callback`: sign the `message_len`
/// bytes at `message` exactly as given (they are the JWS signing input; hash them with SHA-256
/// as the algorithm says: RS256 = SHA256withRSA, PS256 = SHA256withRSA/PSS with MGF1-SHA256
/// and a 32-byte salt, ES256 = SHA256withECDSA, EdDSA = Ed25519), write the signature to
/// `signature` (room for `signature_cap` bytes, `MEDSEAL_MAX_SIGNATURE_BYTES`) and its length
/// to `*signature_len`, and return 0. Any other return value means failure. ES256 signatures
/// may be raw r‖s (64 bytes) or ASN.1 DER (as Java gives them). A nonzero return, or a length
/// over `signature_cap`, is `MEDSEAL_SIGNER_FAILED`; a signature that does not verify is
/// `MEDSEAL_SIGNER_BAD_SIGNATURE`. `ctx` is passed back as given; the callback may be called
/// from any thread that signs with the signer.
pub type medseal_sign_callback = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        message: *const u8,
        message_len: usize,
        signature: *mut u8,
        signature_cap: usize,
        signature_len: *mut usize,
    ) -> i32,
>;

/// A time source for the clock guard: returns the current time in Unix seconds.
pub type medseal_clock_callback = Option<unsafe extern "C" fn(ctx: *mut c_void) -> i64>;

/// A host pointer carried into callbacks. The host promises it may be used from any thread
/// (documented on the functions that take it).
#[derive(Clone, Copy)]
struct HostContext(*mut c_void);
// SAFETY: the documented contract of the functions taking a ctx: it is usable from any thread.
unsafe impl Send for HostContext {}
// SAFETY: as above.
unsafe impl Sync for HostContext {}

fn callback_backend(public_key: *const medseal_key, callback: medseal_sign_callback, ctx: *mut c_void) -> Result<Arc<dyn SigningBackend>> {
    let key = handle(public_key, "public_key")?;
    let callback = callback.ok_or_else(|| err!(MEDSEAL_NULL_ARGUMENT, "argument `callback` is NULL"))?;
    let ctx = HostContext(ctx);
    let sign = move |message: &[u8]| -> std::result::Result<Vec<u8>, String> {
        let ctx = ctx;
        let mut signature = vec![0u8; MAX_SIGNATURE_BYTES];
        let mut len = usize::MAX;
        // SAFETY: the host's function, called with valid pointers and the sizes they have.
        let rc = unsafe { callback(ctx.0, message.as_ptr(), message.len(), signature.as_mut_ptr(), signature.len(), &mut len) };
        if rc != 0 {
            return Err(format!("the callback returned {rc}"));
        }
        if len > signature.len() {
            return Err(format!("the callback wrote a length of {len}, over the {MAX_SIGNATURE_BYTES}-byte buffer"));
        }
        signature.truncate(len);
        Ok(signature)
    };
    Ok(Arc::new(CallbackKey::new(&key.key, Arc::new(sign))))
}

/// Signs records. Immutable: share it between threads freely.
pub struct medseal_signer {
    pub(crate) signer: Signer,
}

/// Starts a signer for `key` (which must hold a private key) with the medseal defaults:
/// kid = thumbprint, typ `medseal+jws`, the clock for `sigT`, strict canonicalization.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_new(key: *const medseal_key, out: *mut *mut medseal_signer_builder) -> ResultCode {
    let key = handle(key, "key")?;
    let out = Out::new(out, "out")?;
    if !key.key.has_private() {
        return Err(err!(MEDSEAL_KEY_NOT_PRIVATE, "a signer needs a private key; this key is public only"));
    }
    out.write_box(medseal_signer_builder::new(key.key.clone()));
    Ok(())
}

/// Starts a signer whose private key lives in the host (Java KeyStore, Windows certificate
/// store, a remote-signing service): `callback` signs, with `ctx` passed back. `public_key` is
/// the key the signatures must verify with, and its algorithm is the signer's (import an RSA
/// key with `MEDSEAL_ALG_PS256` to sign PS256). Every signature the host returns is verified
/// before a JWS is emitted: a wrong one fails with `MEDSEAL_SIGNER_BAD_SIGNATURE`, a callback
/// failure with `MEDSEAL_SIGNER_FAILED`. `ctx` must stay valid, and usable from any thread
/// that signs, until the signer and its builder are freed.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_from_callback(
    public_key: *const medseal_key,
    callback: medseal_sign_callback,
    ctx: *mut c_void,
    out: *mut *mut medseal_signer_builder,
) -> ResultCode {
    let out = Out::new(out, "out")?;
    out.write_box(medseal_signer_builder::new(callback_backend(public_key, callback, ctx)?));
    Ok(())
}

/// `medseal_signer_builder_from_callback` and `medseal_signer_builder_build` in one call, with
/// the default options.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_from_callback(
    public_key: *const medseal_key,
    callback: medseal_sign_callback,
    ctx: *mut c_void,
    out: *mut *mut medseal_signer,
) -> ResultCode {
    let out = Out::new(out, "out")?;
    let signer = medseal_signer_builder::new(callback_backend(public_key, callback, ctx)?).build()?;
    out.write_box(medseal_signer { signer });
    Ok(())
}

/// Starts a signer for a key on a PKCS#11 token: the module's path (UTF-8), the token's label,
/// the key's label (`CKA_LABEL`, unique on the token) and the user PIN (never logged, wiped
/// after use). `alg` is `MEDSEAL_ALG_FROM_KEY` (RS256 for RSA, ES256 for P-256) or
/// `MEDSEAL_ALG_PS256`/`MEDSEAL_ALG_RS256` for RSA keys. The session stays open until the
/// signer and builder are freed. Errors: `MEDSEAL_PKCS11_*`, `MEDSEAL_KEY_UNSUPPORTED`.
#[ffi_export]
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn medseal_signer_builder_from_pkcs11(
    module: *const u8,
    module_len: usize,
    token_label: *const u8,
    token_label_len: usize,
    key_label: *const u8,
    key_label_len: usize,
    pin: *const u8,
    pin_len: usize,
    alg: u32,
    out: *mut *mut medseal_signer_builder,
) -> ResultCode {
    let alg = match alg {
        0 => None,
        id => Some(super::key::algorithm(id)?),
    };
    let config = pkcs11_config((module, module_len), (token_label, token_label_len), (key_label, key_label_len), (pin, pin_len), alg)?;
    let out = Out::new(out, "out")?;
    let key = Pkcs11Key::open(&config)?;
    out.write_box(medseal_signer_builder::new(Arc::new(key)));
    Ok(())
}

/// A token key as the C ABI names it (module path, token label, key label, PIN, each UTF-8
/// pointer and length): one reading for the signer and the transport's TLS key.
pub(super) fn pkcs11_config(
    module: (*const u8, usize),
    token_label: (*const u8, usize),
    key_label: (*const u8, usize),
    pin: (*const u8, usize),
    alg: Option<crate::Algorithm>,
) -> Result<Pkcs11Config> {
    Ok(Pkcs11Config {
        module: PathBuf::from(text(module.0, module.1, "module")?),
        token_label: text(token_label.0, token_label.1, "token_label")?.to_owned(),
        key_label: text(key_label.0, key_label.1, "key_label")?.to_owned(),
        pin: Zeroizing::new(text(pin.0, pin.1, "pin")?.to_owned()),
        alg,
    })
}

/// Adds the signer's certificate chain: PEM (one or more certificates, the signer's first) or
/// one DER certificate. Signatures then carry `x5c` and `x5t#S256`, and the kid defaults to
/// `x5t#S256`. The first certificate must hold the signer's key
/// (`MEDSEAL_SIGNER_CERT_MISMATCH`) and allow digitalSignature or nonRepudiation
/// (`MEDSEAL_CERT_KEY_USAGE`); signing outside its validity fails with
/// `MEDSEAL_SIGNED_OUTSIDE_VALIDITY`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_certificate_chain(
    builder: *mut medseal_signer_builder,
    chain: *const u8,
    len: usize,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let chain = Certificate::read_chain(bytes(chain, len, "chain")?)?;
    // Checked now, so the error comes from the call that caused it.
    Signer::with_backend(builder.backend.clone(), SignOptions::default())?.with_certificate_chain(chain.clone())?;
    builder.chain = Some(chain);
    Ok(())
}

/// Turns the clock guard on: a fixed signing time (`medseal_signer_builder_set_signing_time`)
/// further than `seconds` from the clock is refused with `MEDSEAL_SIGNING_TIME_SKEW`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_max_clock_skew(builder: *mut medseal_signer_builder, seconds: u32) -> ResultCode {
    handle_mut(builder, "builder")?.options.max_clock_skew = Some(seconds);
    Ok(())
}

/// Replaces the system clock (for `sigT` and the clock guard) with `now(ctx)`, which returns
/// Unix seconds; for hosts with a trusted time source, and for tests. `ctx` must stay valid,
/// and usable from any thread that signs, until the signer and its builder are freed.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_clock(
    builder: *mut medseal_signer_builder,
    now: medseal_clock_callback,
    ctx: *mut c_void,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let now = now.ok_or_else(|| err!(MEDSEAL_NULL_ARGUMENT, "argument `now` is NULL"))?;
    let ctx = HostContext(ctx);
    builder.options.clock = Clock::from_fn(move || {
        let ctx = ctx;
        // SAFETY: the host's function with the host's pointer (documented contract).
        unsafe { now(ctx.0) }
    });
    Ok(())
}

/// Sets the `kid` header (UTF-8, 1 to 256 bytes) instead of the key's thumbprint.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_kid(builder: *mut medseal_signer_builder, kid: *const u8, len: usize) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let kid = text(kid, len, "kid")?;
    if kid.is_empty() || kid.len() > 256 {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "a kid has 1 to 256 bytes"));
    }
    builder.options.kid = Some(kid.to_owned());
    Ok(())
}

/// Sets the JAdES `srCms` commitment type: an ASTM E1762 purpose OID in dotted form, e.g.
/// "1.2.840.10065.1.12.1.1" (author's signature). Anything else is `MEDSEAL_INVALID_ARGUMENT`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_commitment(builder: *mut medseal_signer_builder, oid: *const u8, len: usize) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let oid = text(oid, len, "oid")?;
    check_commitment(oid)?;
    builder.options.commitment = Some(oid.to_owned());
    Ok(())
}

/// Fixes `sigT` to `unix_seconds` (UTC) for reproducible output; by default the clock is read
/// at each signature. A time outside years 0..=9999 is `MEDSEAL_INVALID_ARGUMENT`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_signing_time(builder: *mut medseal_signer_builder, unix_seconds: i64) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    crate::utc::format(unix_seconds)?;
    builder.options.signing_time = Some(unix_seconds);
    Ok(())
}

/// Sets the canonicalization flags (`MEDSEAL_CANON_*`) used on documents before signing.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_canon_flags(builder: *mut medseal_signer_builder, flags: u32) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.options.canon = options_from_flags(flags)?;
    Ok(())
}

/// Builds the signer. The builder stays valid (and must still be freed).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_build(builder: *const medseal_signer_builder, out: *mut *mut medseal_signer) -> ResultCode {
    let builder = handle(builder, "builder")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_signer { signer: builder.build()? });
    Ok(())
}

/// Frees a signer builder. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_free(builder: *mut medseal_signer_builder) {
    free_box(builder)
}

/// Canonicalizes the JSON `document` and signs it; writes the JWS in `format`
/// (`MEDSEAL_JWS_*`) into a new buffer.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_sign(
    signer: *const medseal_signer,
    document: *const u8,
    len: usize,
    format: u32,
    out: *mut *mut medseal_buffer,
) -> ResultCode {
    let signer = handle(signer, "signer")?;
    let document = bytes(document, len, "document")?;
    let out = Out::new(out, "out")?;
    let format = super::constants::serialization_from_c(format)
        .ok_or_else(|| err!(MEDSEAL_INVALID_ARGUMENT, "unknown JWS format {format} (use MEDSEAL_JWS_*)"))?;
    let jws = signer.signer.sign(document, format)?;
    out.write_box(medseal_buffer::new(jws));
    Ok(())
}

/// Writes a new public key handle for the key this signer's signatures verify with: how a host
/// using a token or a callback gets the public key (and its kid) to publish or to verify with.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_public_key(signer: *const medseal_signer, out: *mut *mut medseal_key) -> ResultCode {
    let signer = handle(signer, "signer")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_key { key: Arc::new(signer.signer.key().to_public()) });
    Ok(())
}

/// Frees a signer. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_free(signer: *mut medseal_signer) {
    free_box(signer)
}
