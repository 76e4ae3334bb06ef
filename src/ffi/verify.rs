//! Verifier exports: a builder collecting trusted keys, an immutable verifier, and the
//! verified result with borrowed accessors.

use std::sync::Arc;

use medseal_macros::ffi_export;

use super::canon::options_from_flags;
use super::constants::{medseal_payload_kind, medseal_trusted_by};
use super::trust::medseal_trust_list;
use super::{bytes, free_box, handle, handle_mut, lend, medseal_key, Out};
use crate::canon::CanonOptions;
use crate::error::{err, ResultCode};
use crate::jws::{DetachedPayload, TrustedBy, Verified, Verifier};
use crate::keys::Key;
use crate::trust::TrustList;
use crate::x509::{Certificate, TrustAnchors};

/// Collects trusted keys, certificate anchors and a trust list. One thread at a time; free
/// with `medseal_verifier_builder_free`.
pub struct medseal_verifier_builder {
    keys: Vec<Arc<Key>>,
    anchors: Vec<Certificate>,
    trust_list: Option<Arc<TrustList>>,
    canon: CanonOptions,
}

/// Verifies JWS against its trusted keys. Immutable: share it between threads freely.
pub struct medseal_verifier {
    pub(crate) verifier: Verifier,
    canon: CanonOptions,
}

/// The result of a successful verification. Read with the `medseal_verified_*` accessors;
/// pointers they return stay valid until `medseal_verified_free`.
pub struct medseal_verified {
    pub(crate) verified: Verified,
}

/// Starts an empty verifier builder.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_builder_new(out: *mut *mut medseal_verifier_builder) -> ResultCode {
    Out::new(out, "out")?.write_box(medseal_verifier_builder {
        keys: Vec::new(),
        anchors: Vec::new(),
        trust_list: None,
        canon: CanonOptions::default(),
    });
    Ok(())
}

/// Trusts `key` (its public half). The algorithm used to verify is the key's own.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_builder_add_key(builder: *mut medseal_verifier_builder, key: *const medseal_key) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let key = handle(key, "key")?;
    builder.keys.push(Arc::new(key.key.to_public()));
    Ok(())
}

/// Trusts the CA certificates in `anchors` (PEM, one or more; or one DER certificate): a JWS
/// carrying `x5c` verifies when its chain leads to one of them and every certificate was valid
/// at the signature's `sigT` (errors `MEDSEAL_CERT_*`, `MEDSEAL_SIGNED_OUTSIDE_VALIDITY`).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_builder_add_trust_anchors(
    builder: *mut medseal_verifier_builder,
    anchors: *const u8,
    len: usize,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let anchors = Certificate::read_chain(bytes(anchors, len, "anchors")?)?;
    builder.anchors.extend(anchors);
    Ok(())
}

/// Trusts the record-signing keys of `list` (verified with `medseal_trust_list_verify`), each
/// only for signatures whose `sigT` lies in its window. The list may be freed afterwards.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_builder_set_trust_list(
    builder: *mut medseal_verifier_builder,
    list: *const medseal_trust_list,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.trust_list = Some(handle(list, "list")?.list.clone());
    Ok(())
}

/// Sets the canonicalization flags (`MEDSEAL_CANON_*`) for detached payloads given as
/// documents (`MEDSEAL_PAYLOAD_DOCUMENT`).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_builder_set_canon_flags(builder: *mut medseal_verifier_builder, flags: u32) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.canon = options_from_flags(flags)?;
    Ok(())
}

/// Builds the verifier; fails with `MEDSEAL_JWS_NO_KEYS` if no key, anchor or trust list was
/// added. The builder stays valid (and must still be freed).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_builder_build(builder: *const medseal_verifier_builder, out: *mut *mut medseal_verifier) -> ResultCode {
    let builder = handle(builder, "builder")?;
    let out = Out::new(out, "out")?;
    if builder.keys.is_empty() && builder.anchors.is_empty() && builder.trust_list.is_none() {
        return Err(err!(MEDSEAL_JWS_NO_KEYS, "add a key, trust anchors or a trust list before building a verifier"));
    }
    let mut verifier = Verifier::new(builder.keys.clone());
    if !builder.anchors.is_empty() {
        verifier = verifier.with_trust_anchors(Arc::new(TrustAnchors::new(builder.anchors.clone())?));
    }
    if let Some(list) = &builder.trust_list {
        verifier = verifier.with_trust_list(list.clone());
    }
    out.write_box(medseal_verifier { verifier, canon: builder.canon });
    Ok(())
}

/// Frees a verifier builder. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_builder_free(builder: *mut medseal_verifier_builder) {
    free_box(builder)
}

/// Verifies a compact or JSON JWS that carries its payload: any JWS (its `typ` and `sigT` are
/// reported, not required). For medseal records use `medseal_verifier_verify_record`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_verify(
    verifier: *const medseal_verifier,
    jws: *const u8,
    len: usize,
    out: *mut *mut medseal_verified,
) -> ResultCode {
    let verifier = handle(verifier, "verifier")?;
    let jws = bytes(jws, len, "jws")?;
    let out = Out::new(out, "out")?;
    let verified = verifier.verifier.verify(jws, DetachedPayload::None)?;
    out.write_box(medseal_verified { verified });
    Ok(())
}

/// Verifies a detached JWS against `payload`, read as `kind` (`MEDSEAL_PAYLOAD_BYTES`: the
/// exact signed bytes; `MEDSEAL_PAYLOAD_DOCUMENT`: JSON canonicalized with the verifier's
/// flags).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_verify_detached(
    verifier: *const medseal_verifier,
    jws: *const u8,
    len: usize,
    payload: *const u8,
    payload_len: usize,
    kind: u32,
    out: *mut *mut medseal_verified,
) -> ResultCode {
    let verifier = handle(verifier, "verifier")?;
    let jws = bytes(jws, len, "jws")?;
    let payload = bytes(payload, payload_len, "payload")?;
    let out = Out::new(out, "out")?;
    let detached = match kind {
        k if k == medseal_payload_kind::MEDSEAL_PAYLOAD_BYTES as u32 => DetachedPayload::Bytes(payload),
        k if k == medseal_payload_kind::MEDSEAL_PAYLOAD_DOCUMENT as u32 => DetachedPayload::Document(payload, &verifier.canon),
        other => return Err(err!(MEDSEAL_INVALID_ARGUMENT, "unknown payload kind {other} (use MEDSEAL_PAYLOAD_*)")),
    };
    let verified = verifier.verifier.verify(jws, detached)?;
    out.write_box(medseal_verified { verified });
    Ok(())
}

/// Verifies a medseal record: a JWS that carries its payload, verified as by
/// `medseal_verifier_verify`, that must also be a record: `typ` `medseal+jws`, a `sigT`, and
/// a canonical JSON payload (else `MEDSEAL_JWS_HEADER` or
/// `MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL`). A receipt, a tree head or a trust list is not a
/// record, whoever signed it. Use this for records; `medseal_verifier_verify` checks any JWS.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_verify_record(
    verifier: *const medseal_verifier,
    jws: *const u8,
    len: usize,
    out: *mut *mut medseal_verified,
) -> ResultCode {
    let verifier = handle(verifier, "verifier")?;
    let jws = bytes(jws, len, "jws")?;
    let out = Out::new(out, "out")?;
    let verified = crate::record::verify(&verifier.verifier, jws)?;
    out.write_box(medseal_verified { verified });
    Ok(())
}

/// Frees a verifier. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verifier_free(verifier: *mut medseal_verifier) {
    free_box(verifier)
}

/// Borrows the verified payload (for medseal records: the canonical JSON).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verified_payload(verified: *const medseal_verified, data: *mut *const u8, len: *mut usize) -> ResultCode {
    lend(&handle(verified, "verified")?.verified.payload, data, len)
}

/// Borrows the thumbprint (kid) of the key that verified (`MEDSEAL_KID_BYTES` ASCII bytes).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verified_key_id(verified: *const medseal_verified, data: *mut *const u8, len: *mut usize) -> ResultCode {
    lend(handle(verified, "verified")?.verified.key_id.as_bytes(), data, len)
}

/// Borrows the JAdES `sigT` (RFC 3339 UTC); length 0 if the JWS has none.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verified_signing_time(verified: *const medseal_verified, data: *mut *const u8, len: *mut usize) -> ResultCode {
    lend(handle(verified, "verified")?.verified.signing_time.as_deref().unwrap_or("").as_bytes(), data, len)
}

/// Borrows the protected header as canonical JSON.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verified_header(verified: *const medseal_verified, data: *mut *const u8, len: *mut usize) -> ResultCode {
    lend(&handle(verified, "verified")?.verified.protected_header, data, len)
}

/// Writes the algorithm that verified (`MEDSEAL_ALG_*`) to `*alg`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verified_algorithm(verified: *const medseal_verified, alg: *mut u32) -> ResultCode {
    let verified = handle(verified, "verified")?;
    Out::new(alg, "alg")?.write(super::constants::algorithm_to_c(verified.verified.algorithm));
    Ok(())
}

/// Writes what made the signer trusted (`MEDSEAL_TRUSTED_BY_*`) to `*kind`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verified_trusted_by(verified: *const medseal_verified, kind: *mut u32) -> ResultCode {
    let verified = handle(verified, "verified")?;
    let value = match verified.verified.trusted_by {
        TrustedBy::Key => medseal_trusted_by::MEDSEAL_TRUSTED_BY_KEY,
        TrustedBy::Certificate { .. } => medseal_trusted_by::MEDSEAL_TRUSTED_BY_CERTIFICATE,
        TrustedBy::TrustList { .. } => medseal_trusted_by::MEDSEAL_TRUSTED_BY_TRUST_LIST,
    };
    Out::new(kind, "kind")?.write(value as u32);
    Ok(())
}

/// Borrows who signed, as trusted: the signer certificate's subject (RFC 4514) or the
/// trust-list facility; length 0 when a configured key verified.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verified_signer(verified: *const medseal_verified, data: *mut *const u8, len: *mut usize) -> ResultCode {
    let verified = handle(verified, "verified")?;
    let name = match &verified.verified.trusted_by {
        TrustedBy::Key => "",
        TrustedBy::Certificate { subject, .. } => subject,
        TrustedBy::TrustList { facility } => facility,
    };
    lend(name.as_bytes(), data, len)
}

/// Frees a verified result (the payload is zeroized). NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_verified_free(verified: *mut medseal_verified) {
    if !verified.is_null() {
        // SAFETY: made by Box::into_raw in this library, freed once (contract).
        let mut boxed = unsafe { Box::from_raw(verified) };
        zeroize::Zeroize::zeroize(&mut boxed.verified.payload);
    }
}
