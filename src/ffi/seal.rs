//! Sealed-envelope exports: X25519 recipient keys, routing metadata, sealing (plain and
//! sign-then-seal), and decoded envelopes that are opened (and verified) with a recipient key.

use medseal_macros::ffi_export;

use super::constants::{medseal_aead, medseal_envelope_encoding, MEDSEAL_MAX_RECIPIENTS};
use super::{
    bytes, fill_caller_buffer, free_box, handle, handle_mut, medseal_buffer, medseal_signer, medseal_verified, medseal_verifier, text, Out,
};
use crate::error::{err, Result, ResultCode};
use crate::keys::KeyFormat;
use crate::record;
use crate::seal::{Aead, EncodedEnvelope, Envelope, Meta, RecipientKey};

/// An HPKE recipient key (X25519): private (opens envelopes) or public only (envelopes are
/// sealed to it). Immutable: share it between threads freely.
pub struct medseal_recipient_key {
    pub(crate) key: RecipientKey,
}

/// Routing metadata of an envelope (record id, source, sequence, creation time, content
/// type). In clear, but bound to the ciphertext: any change fails opening. Not synchronized:
/// do not call a setter while another thread uses the same meta; otherwise it may be read by
/// several seal calls at once.
pub struct medseal_meta {
    meta: Meta,
}

/// A decoded sealed envelope. Immutable: share it between threads freely.
pub struct medseal_envelope {
    envelope: Envelope,
}

fn aead(id: u32) -> Result<Aead> {
    match id {
        x if x == medseal_aead::MEDSEAL_AEAD_AES_256_GCM as u32 => Ok(Aead::Aes256Gcm),
        x if x == medseal_aead::MEDSEAL_AEAD_CHACHA20_POLY1305 as u32 => Ok(Aead::ChaCha20Poly1305),
        other => Err(err!(MEDSEAL_INVALID_ARGUMENT, "unknown AEAD {other} (use MEDSEAL_AEAD_*)")),
    }
}

/// The checked `medseal_envelope_encoding`, before any work is done.
fn encoding(id: u32) -> Result<medseal_envelope_encoding> {
    match id {
        x if x == medseal_envelope_encoding::MEDSEAL_ENVELOPE_JSON as u32 => Ok(medseal_envelope_encoding::MEDSEAL_ENVELOPE_JSON),
        x if x == medseal_envelope_encoding::MEDSEAL_ENVELOPE_PROTOBUF as u32 => Ok(medseal_envelope_encoding::MEDSEAL_ENVELOPE_PROTOBUF),
        other => Err(err!(MEDSEAL_INVALID_ARGUMENT, "unknown envelope encoding {other} (use MEDSEAL_ENVELOPE_*)")),
    }
}

/// Seals and encodes; protobuf is written in one pass (one copy of the record).
fn seal_encoded(
    plaintext: &[u8],
    meta: Meta,
    recipients: &[&RecipientKey],
    aead: Aead,
    encoding: medseal_envelope_encoding,
) -> Result<Vec<u8>> {
    match encoding {
        medseal_envelope_encoding::MEDSEAL_ENVELOPE_JSON => Envelope::seal(plaintext, meta, recipients, aead)?.to_json(),
        medseal_envelope_encoding::MEDSEAL_ENVELOPE_PROTOBUF => Envelope::seal_to_protobuf(plaintext, meta, recipients, aead),
    }
}

/// Borrows the recipient keys of a C array: the array and every entry must be non-NULL, and
/// there are 1 to `MEDSEAL_MAX_RECIPIENTS` of them (checked before the array is read).
fn recipients<'a>(ptr: *const *const medseal_recipient_key, len: usize) -> Result<Vec<&'a RecipientKey>> {
    if ptr.is_null() {
        return Err(err!(MEDSEAL_NULL_ARGUMENT, "argument `recipients` is NULL"));
    }
    if len == 0 || len > MEDSEAL_MAX_RECIPIENTS {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "an envelope has 1 to {MEDSEAL_MAX_RECIPIENTS} recipients, not {len}"));
    }
    // SAFETY: the caller promises `ptr` points to `len` readable pointers (documented
    // contract); NULL was refused and `len` is at most MEDSEAL_MAX_RECIPIENTS.
    let entries = unsafe { std::slice::from_raw_parts(ptr, len) };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            // SAFETY: a non-NULL entry is a recipient key made by this library and not yet
            // freed (documented contract).
            unsafe { entry.as_ref() }.map(|r| &r.key).ok_or_else(|| err!(MEDSEAL_NULL_ARGUMENT, "`recipients[{i}]` is NULL"))
        })
        .collect()
}

/// Generates a new X25519 recipient key (private).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_recipient_key_generate(out: *mut *mut medseal_recipient_key) -> ResultCode {
    let out = Out::new(out, "out")?;
    out.write_box(medseal_recipient_key { key: RecipientKey::generate()? });
    Ok(())
}

/// Imports an X25519 recipient key from PEM (`PRIVATE KEY`, `PUBLIC KEY`), DER (PKCS#8 v1/v2,
/// SPKI) or JWK (`"kty":"OKP","crv":"X25519"`), detected from the bytes. Signing keys
/// (Ed25519, P-256, RSA) are `MEDSEAL_KEY_UNSUPPORTED`. Raw bytes: `medseal_recipient_key_from_raw`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_recipient_key_import(data: *const u8, len: usize, out: *mut *mut medseal_recipient_key) -> ResultCode {
    let data = bytes(data, len, "data")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_recipient_key { key: RecipientKey::import(data)? });
    Ok(())
}

/// Makes a recipient key from its 32 raw bytes: `kind` is `MEDSEAL_KEY_FORMAT_RAW_PRIVATE`
/// (the RFC 7748 scalar) or `MEDSEAL_KEY_FORMAT_RAW_PUBLIC` (the u-coordinate). Another length
/// is `MEDSEAL_KEY_INVALID`; another kind `MEDSEAL_INVALID_ARGUMENT`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_recipient_key_from_raw(
    data: *const u8,
    len: usize,
    kind: u32,
    out: *mut *mut medseal_recipient_key,
) -> ResultCode {
    let data = bytes(data, len, "data")?;
    let out = Out::new(out, "out")?;
    let key = match super::constants::key_format_from_c(kind) {
        Some(KeyFormat::RawPrivate) => RecipientKey::from_raw_private(data)?,
        Some(KeyFormat::RawPublic) => RecipientKey::from_raw_public(data)?,
        _ => {
            return Err(err!(
                MEDSEAL_INVALID_ARGUMENT,
                "raw key kind {kind} is neither MEDSEAL_KEY_FORMAT_RAW_PRIVATE nor MEDSEAL_KEY_FORMAT_RAW_PUBLIC"
            ))
        }
    };
    out.write_box(medseal_recipient_key { key });
    Ok(())
}

/// Writes the key in `format` (`MEDSEAL_KEY_FORMAT_*`, raw formats included) into a new
/// buffer; the JWK carries `kid` and `"use":"enc"`. Private formats on a public key give
/// `MEDSEAL_KEY_NOT_PRIVATE`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_recipient_key_export(
    key: *const medseal_recipient_key,
    format: u32,
    out: *mut *mut medseal_buffer,
) -> ResultCode {
    let key = handle(key, "key")?;
    let out = Out::new(out, "out")?;
    let format = super::key::key_format(format)?;
    let encoded = key.key.export(format)?;
    out.write_box(medseal_buffer::key_export(format, encoded));
    Ok(())
}

/// Writes the key id (RFC 7638 thumbprint of the public JWK, `MEDSEAL_KID_BYTES` ASCII bytes)
/// into a new buffer. Envelopes name their recipients by it.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_recipient_key_kid(key: *const medseal_recipient_key, out: *mut *mut medseal_buffer) -> ResultCode {
    let key = handle(key, "key")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_buffer::public(key.key.kid().as_bytes()));
    Ok(())
}

/// Writes 1 to `*has_private` if the key holds its private half (can open), else 0.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_recipient_key_has_private(key: *const medseal_recipient_key, has_private: *mut u32) -> ResultCode {
    let key = handle(key, "key")?;
    Out::new(has_private, "has_private")?.write(u32::from(key.key.has_private()));
    Ok(())
}

/// Frees a recipient key (its secret is zeroized). NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_recipient_key_free(key: *mut medseal_recipient_key) {
    free_box(key)
}

/// Makes routing metadata: `record_id` and `source` are UTF-8 text of 1 to 256 bytes without
/// control characters, `sequence` is 1 to 2^53 − 1; `created` is now (UTC) and the content
/// type `application/jose+json` (change them with the setters). Invalid values are
/// `MEDSEAL_SEAL_META_INVALID`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_meta_new(
    record_id: *const u8,
    record_id_len: usize,
    source: *const u8,
    source_len: usize,
    sequence: u64,
    out: *mut *mut medseal_meta,
) -> ResultCode {
    let record_id = text(record_id, record_id_len, "record_id")?;
    let source = text(source, source_len, "source")?;
    let out = Out::new(out, "out")?;
    let meta = Meta::new(record_id, source, sequence);
    meta.validate()?;
    out.write_box(medseal_meta { meta });
    Ok(())
}

/// Replaces a field after checking the whole meta; on error the meta is unchanged.
fn set_field(meta: &mut medseal_meta, set: impl FnOnce(&mut Meta)) -> Result<()> {
    let mut candidate = meta.meta.clone();
    set(&mut candidate);
    candidate.validate()?;
    meta.meta = candidate;
    Ok(())
}

/// Sets the creation time: an RFC 3339 time such as `2025-01-31T08:00:00Z`. Anything else is
/// `MEDSEAL_SEAL_META_INVALID` and leaves the meta unchanged.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_meta_set_created(meta: *mut medseal_meta, created: *const u8, len: usize) -> ResultCode {
    let meta = handle_mut(meta, "meta")?;
    let created = text(created, len, "created")?;
    set_field(meta, |m| m.created = created.to_owned())
}

/// Sets the media type of the plaintext (1 to 256 bytes of text without control characters,
/// else `MEDSEAL_SEAL_META_INVALID`, leaving the meta unchanged). `medseal_signer_sign_and_seal`
/// always uses `application/jose+json`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_meta_set_content_type(meta: *mut medseal_meta, content_type: *const u8, len: usize) -> ResultCode {
    let meta = handle_mut(meta, "meta")?;
    let content_type = text(content_type, len, "content_type")?;
    set_field(meta, |m| m.content_type = content_type.to_owned())
}

/// Frees routing metadata. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_meta_free(meta: *mut medseal_meta) {
    free_box(meta)
}

/// Seals like `medseal_envelope_seal` with `MEDSEAL_ENVELOPE_PROTOBUF`, into caller memory: the
/// envelope is written at the start of `out` (`cap` bytes) and its length to `*written`. Ask
/// for the size with `out = NULL, cap = 0`: `MEDSEAL_BUFFER_TOO_SMALL` with the exact envelope
/// length in `*written` (computed without any cryptography). The record is copied once, into
/// `out`, and encrypted there. `out` must not overlap `plaintext` (`MEDSEAL_INVALID_ARGUMENT`).
/// On any other failure `*written` is untouched and `out` holds no plaintext.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_envelope_seal_into(
    plaintext: *const u8,
    len: usize,
    meta: *const medseal_meta,
    recipients: *const *const medseal_recipient_key,
    recipients_len: usize,
    aead: u32,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> ResultCode {
    let plaintext = bytes(plaintext, len, "plaintext")?;
    let meta = handle(meta, "meta")?;
    let recipients = self::recipients(recipients, recipients_len)?;
    let aead = self::aead(aead)?;
    let needed = Envelope::protobuf_len(plaintext.len(), &meta.meta, &recipients, aead)?;
    fill_caller_buffer(plaintext, out, cap, written, needed, |buffer| {
        Envelope::seal_to_protobuf_into(plaintext, meta.meta.clone(), &recipients, aead, buffer)
    })
}

/// Seals `plaintext` to `recipients` (an array of `recipients_len` keys, 1 to
/// `MEDSEAL_MAX_RECIPIENTS`; public keys suffice; a NULL entry is `MEDSEAL_NULL_ARGUMENT`)
/// with `aead` (`MEDSEAL_AEAD_*`), binding `meta`; writes the envelope in `encoding`
/// (`MEDSEAL_ENVELOPE_*`) into a new buffer. Plaintexts above 64 MiB are `MEDSEAL_SEAL_TOO_LARGE`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_envelope_seal(
    plaintext: *const u8,
    len: usize,
    meta: *const medseal_meta,
    recipients: *const *const medseal_recipient_key,
    recipients_len: usize,
    aead: u32,
    encoding: u32,
    out: *mut *mut medseal_buffer,
) -> ResultCode {
    let plaintext = bytes(plaintext, len, "plaintext")?;
    let meta = handle(meta, "meta")?;
    let recipients = self::recipients(recipients, recipients_len)?;
    let out = Out::new(out, "out")?;
    let aead = self::aead(aead)?;
    let encoding = self::encoding(encoding)?;
    // Ciphertext: public bytes, not wiped on free.
    out.write_box(medseal_buffer::public(seal_encoded(plaintext, meta.meta.clone(), &recipients, aead, encoding)?));
    Ok(())
}

/// Signs then seals: canonicalizes the JSON `document` and signs it with `signer` (JWS JSON
/// flattened), then seals the JWS as `medseal_envelope_seal` does, with the content type
/// `application/jose+json` whatever `meta` says. The hub opens it with
/// `medseal_envelope_open_verified`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_sign_and_seal(
    signer: *const medseal_signer,
    document: *const u8,
    len: usize,
    meta: *const medseal_meta,
    recipients: *const *const medseal_recipient_key,
    recipients_len: usize,
    aead: u32,
    encoding: u32,
    out: *mut *mut medseal_buffer,
) -> ResultCode {
    let signer = handle(signer, "signer")?;
    let document = bytes(document, len, "document")?;
    let meta = handle(meta, "meta")?;
    let recipients = self::recipients(recipients, recipients_len)?;
    let out = Out::new(out, "out")?;
    let aead = self::aead(aead)?;
    let encoding = self::encoding(encoding)?;
    // Sign first, then seal (as record::seal_signed does), encoding in one pass.
    let (jws, meta) = record::sign(&signer.signer, document, meta.meta.clone())?;
    // Ciphertext: public bytes, not wiped on free.
    out.write_box(medseal_buffer::public(seal_encoded(jws.as_bytes(), meta, &recipients, aead, encoding)?));
    Ok(())
}

/// Decodes an envelope, JSON or protobuf (JSON when the first non-blank byte is `{`). Checks
/// the structure, suite and meta, not the ciphertext: that is `medseal_envelope_open`'s job.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_envelope_decode(data: *const u8, len: usize, out: *mut *mut medseal_envelope) -> ResultCode {
    let data = bytes(data, len, "data")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_envelope { envelope: Envelope::decode(data)? });
    Ok(())
}

/// Writes the envelope's routing metadata as canonical JSON into a new buffer (members
/// `content_type`, `created`, `record_id`, `sequence`, `source`). Needs no key, so a router
/// can read it; it is authenticated only when the envelope is opened.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_envelope_meta(envelope: *const medseal_envelope, out: *mut *mut medseal_buffer) -> ResultCode {
    let envelope = handle(envelope, "envelope")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_buffer::public(envelope.envelope.meta.to_value().to_canonical()));
    Ok(())
}

/// Decodes and opens an encoded envelope (`data`, JSON or protobuf) in one call, writing the
/// plaintext at the start of `out` (`cap` bytes) and its length to `*written`; a protobuf
/// envelope's ciphertext is read in place, never copied. Ask for the size with `out = NULL,
/// cap = 0`: `MEDSEAL_BUFFER_TOO_SMALL` with the plaintext length in `*written`. `out` must not
/// overlap `data` (`MEDSEAL_INVALID_ARGUMENT`). On any other failure `out` holds no plaintext
/// and `*written` is untouched. Codes as for `medseal_envelope_decode` and
/// `medseal_envelope_open`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_recipient_key_open_into(
    key: *const medseal_recipient_key,
    data: *const u8,
    len: usize,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> ResultCode {
    let key = handle(key, "key")?;
    let data = bytes(data, len, "data")?;
    let encoded = EncodedEnvelope::read(data)?;
    fill_caller_buffer(data, out, cap, written, encoded.plaintext_len(), |buffer| encoded.open_into(&key.key, buffer))
}

/// Opens the envelope into caller memory: the plaintext is written at the start of `out`
/// (`cap` bytes) and its length to `*written`. Ask for the size with `out = NULL, cap = 0`:
/// `MEDSEAL_BUFFER_TOO_SMALL` with the plaintext length in `*written`. For megabyte records
/// this avoids a library-allocated copy. On any other failure `out` holds no plaintext (it
/// may have been overwritten with zeros) and `*written` is untouched. Other codes as for
/// `medseal_envelope_open`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_envelope_open_into(
    envelope: *const medseal_envelope,
    key: *const medseal_recipient_key,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> ResultCode {
    let envelope = handle(envelope, "envelope")?;
    let key = handle(key, "key")?;
    let needed = envelope.envelope.plaintext_len();
    fill_caller_buffer(&[], out, cap, written, needed, |buffer| envelope.envelope.open_into(&key.key, buffer))
}

/// Opens the envelope with a private recipient key and writes the plaintext into a new
/// buffer. `MEDSEAL_KEY_NOT_PRIVATE` for a public key, `MEDSEAL_SEAL_WRONG_RECIPIENT` if the
/// envelope is not addressed to it, `MEDSEAL_SEAL_DECRYPT_FAILED` if anything was altered.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_envelope_open(
    envelope: *const medseal_envelope,
    key: *const medseal_recipient_key,
    out: *mut *mut medseal_buffer,
) -> ResultCode {
    let envelope = handle(envelope, "envelope")?;
    let key = handle(key, "key")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_buffer::from_secret(envelope.envelope.open(&key.key)?));
    Ok(())
}

/// Opens a signed record (content type `application/jose+json` for a JWS JSON flattened,
/// `application/jose` for a compact one, else `MEDSEAL_SEAL_META_INVALID`) with `key` and
/// verifies the JWS inside with `verifier`; it must be a medseal record (`typ` `medseal+jws`
/// with a `sigT`, else `MEDSEAL_JWS_HEADER`). The hub opens submitted records the same way.
/// The verified payload is the canonical record.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_envelope_open_verified(
    envelope: *const medseal_envelope,
    key: *const medseal_recipient_key,
    verifier: *const medseal_verifier,
    out: *mut *mut medseal_verified,
) -> ResultCode {
    let envelope = handle(envelope, "envelope")?;
    let key = handle(key, "key")?;
    let verifier = handle(verifier, "verifier")?;
    let out = Out::new(out, "out")?;
    let verified = record::open_verified(&envelope.envelope, &key.key, &verifier.verifier)?;
    out.write_box(medseal_verified { verified });
    Ok(())
}

/// Frees a decoded envelope. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_envelope_free(envelope: *mut medseal_envelope) {
    free_box(envelope)
}
