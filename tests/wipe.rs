//! Secret buffers are wiped when they are freed (docs/ARCHITECTURE.md, "Secrets"), read back
//! through the allocator: this test binary's `#[global_allocator]` forwards to the system
//! allocator and, for the one block it is told to watch, counts the non-zero bytes of the whole
//! block (its full capacity, spare room included) at the moment it is given back. The buffers
//! are made and freed through the C ABI exactly as a host does (`medseal_buffer_free`).
//!
//! Controls: public buffers (a key id, a public key, an envelope) are not wiped, and the watcher
//! sees their bytes still there when they are freed, so a watcher that saw nothing could not
//! pass the secret cases. A host-side test cannot do this with the C harness: Rust's allocator
//! is inside the library.
#![allow(non_camel_case_types)] // the C names of the handles

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use medseal::ffi::{medseal_aead, medseal_alg, medseal_envelope_encoding, medseal_jws_format, medseal_key_format};
use medseal::{Key, KeyFormat, ResultCode};

/// The address of the block to watch (0: none), and what was seen when it was freed.
static WATCHED: AtomicUsize = AtomicUsize::new(0);
static FREED_SIZE: AtomicUsize = AtomicUsize::new(0);
static FREED_NONZERO: AtomicUsize = AtomicUsize::new(usize::MAX);

struct Watcher;

// SAFETY: every call is forwarded to the system allocator unchanged; the watch only reads the
// block being freed, before it is freed, and allocates nothing.
unsafe impl GlobalAlloc for Watcher {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        assert!(ptr as usize != WATCHED.load(Ordering::SeqCst) || ptr.is_null(), "a watched buffer was reallocated");
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ptr as usize == WATCHED.load(Ordering::SeqCst) {
            let block = std::slice::from_raw_parts(ptr, layout.size());
            FREED_NONZERO.store(block.iter().filter(|&&b| b != 0).count(), Ordering::SeqCst);
            FREED_SIZE.store(layout.size(), Ordering::SeqCst);
            WATCHED.store(0, Ordering::SeqCst);
        }
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Watcher = Watcher;

/// One watch at a time (the tests of this binary run on several threads).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

// The handles are opaque to a host, as in C.
type medseal_buffer = std::ffi::c_void;
type medseal_key = std::ffi::c_void;
type medseal_signer_builder = std::ffi::c_void;
type medseal_signer = std::ffi::c_void;
type medseal_recipient_key = std::ffi::c_void;
type medseal_meta = std::ffi::c_void;
type medseal_envelope = std::ffi::c_void;

extern "C" {
    fn medseal_buffer_data(buf: *const medseal_buffer) -> *const u8;
    fn medseal_buffer_len(buf: *const medseal_buffer) -> usize;
    fn medseal_buffer_free(buf: *mut medseal_buffer);
    fn medseal_json_canonicalize(json: *const u8, len: usize, flags: u32, out: *mut *mut medseal_buffer) -> ResultCode;
    fn medseal_key_generate(alg: u32, out: *mut *mut medseal_key) -> ResultCode;
    fn medseal_key_export(key: *const medseal_key, format: u32, out: *mut *mut medseal_buffer) -> ResultCode;
    fn medseal_key_kid(key: *const medseal_key, out: *mut *mut medseal_buffer) -> ResultCode;
    fn medseal_key_free(key: *mut medseal_key);
    fn medseal_signer_builder_new(key: *const medseal_key, out: *mut *mut medseal_signer_builder) -> ResultCode;
    fn medseal_signer_builder_build(builder: *const medseal_signer_builder, out: *mut *mut medseal_signer) -> ResultCode;
    fn medseal_signer_builder_free(builder: *mut medseal_signer_builder);
    fn medseal_signer_sign(
        signer: *const medseal_signer,
        doc: *const u8,
        len: usize,
        format: u32,
        out: *mut *mut medseal_buffer,
    ) -> ResultCode;
    fn medseal_signer_free(signer: *mut medseal_signer);
    fn medseal_recipient_key_generate(out: *mut *mut medseal_recipient_key) -> ResultCode;
    fn medseal_recipient_key_free(key: *mut medseal_recipient_key);
    fn medseal_meta_new(
        id: *const u8,
        id_len: usize,
        source: *const u8,
        source_len: usize,
        sequence: u64,
        out: *mut *mut medseal_meta,
    ) -> ResultCode;
    fn medseal_meta_free(meta: *mut medseal_meta);
    fn medseal_envelope_seal(
        plaintext: *const u8,
        len: usize,
        meta: *const medseal_meta,
        recipients: *const *const medseal_recipient_key,
        recipients_len: usize,
        aead: u32,
        encoding: u32,
        out: *mut *mut medseal_buffer,
    ) -> ResultCode;
    fn medseal_envelope_decode(data: *const u8, len: usize, out: *mut *mut medseal_envelope) -> ResultCode;
    fn medseal_envelope_open(
        envelope: *const medseal_envelope,
        key: *const medseal_recipient_key,
        out: *mut *mut medseal_buffer,
    ) -> ResultCode;
    fn medseal_envelope_free(envelope: *mut medseal_envelope);
}

// The C numbers, from the library's own enums (as include/medseal.h has them).
const ALG_ED25519: u32 = medseal_alg::MEDSEAL_ALG_EDDSA as u32;
const ALG_ES256: u32 = medseal_alg::MEDSEAL_ALG_ES256 as u32;
const FORMAT_PKCS8_PEM: u32 = medseal_key_format::MEDSEAL_KEY_FORMAT_PKCS8_PEM as u32;
const FORMAT_SPKI_PEM: u32 = medseal_key_format::MEDSEAL_KEY_FORMAT_SPKI_PEM as u32;
const JWS_FLATTENED: u32 = medseal_jws_format::MEDSEAL_JWS_FLATTENED as u32;
const AEAD_AES_256_GCM: u32 = medseal_aead::MEDSEAL_AEAD_AES_256_GCM as u32;
const ENCODING_PROTOBUF: u32 = medseal_envelope_encoding::MEDSEAL_ENVELOPE_PROTOBUF as u32;

/// A record that is unmistakably patient data, a few kilobytes long.
fn record() -> Vec<u8> {
    let notes: Vec<String> = (0..40).map(|i| format!(r#"{{"text":"Bệnh nhân ổn định, ngày {i}"}}"#)).collect();
    format!(
        r#"{{"resourceType":"Patient","id":"nguyen-van-an","name":[{{"family":"Nguyễn","given":["Văn","An"]}}],"note":[{}]}}"#,
        notes.join(",")
    )
    .into_bytes()
}

fn ok(code: ResultCode) {
    assert_eq!(code, ResultCode::MEDSEAL_OK);
}

/// What the allocator saw when `buf` was freed with `medseal_buffer_free`: (block size, non-zero
/// bytes in it). Also returns the buffer's length before the free.
fn free_and_look(buf: *mut medseal_buffer) -> (usize, usize, usize) {
    // SAFETY: `buf` is a live buffer made by the library, freed exactly once here.
    unsafe {
        let len = medseal_buffer_len(buf);
        let data = medseal_buffer_data(buf);
        assert!(len > 0 && !data.is_null());
        FREED_NONZERO.store(usize::MAX, Ordering::SeqCst);
        WATCHED.store(data as usize, Ordering::SeqCst);
        medseal_buffer_free(buf);
        assert_eq!(WATCHED.load(Ordering::SeqCst), 0, "the buffer's bytes were not given back to the allocator by medseal_buffer_free");
        (len, FREED_SIZE.load(Ordering::SeqCst), FREED_NONZERO.load(Ordering::SeqCst))
    }
}

#[track_caller]
fn assert_wiped(what: &str, buf: *mut medseal_buffer) {
    let (len, size, nonzero) = free_and_look(buf);
    assert!(size >= len, "{what}: block of {size} bytes for {len}");
    assert_eq!(nonzero, 0, "{what}: {nonzero} of the {size} bytes freed were not zero");
}

#[track_caller]
fn assert_not_wiped(what: &str, buf: *mut medseal_buffer) {
    let (len, _, nonzero) = free_and_look(buf);
    // Public bytes are left as they were (at least most of them are not zero bytes).
    assert!(nonzero * 2 > len, "{what}: control failed, only {nonzero} of {len} bytes were non-zero when freed");
}

#[test]
fn canonical_json_and_signed_records_are_wiped() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let doc = record();
    unsafe {
        let mut canonical = std::ptr::null_mut();
        ok(medseal_json_canonicalize(doc.as_ptr(), doc.len(), 0, &mut canonical));
        assert!(std::slice::from_raw_parts(medseal_buffer_data(canonical), medseal_buffer_len(canonical)).starts_with(b"{\"id\":\"nguyen"));
        assert_wiped("canonical JSON", canonical);

        let mut key = std::ptr::null_mut();
        ok(medseal_key_generate(ALG_ED25519, &mut key));
        let mut builder = std::ptr::null_mut();
        ok(medseal_signer_builder_new(key, &mut builder));
        let mut signer = std::ptr::null_mut();
        ok(medseal_signer_builder_build(builder, &mut signer));
        let mut jws = std::ptr::null_mut();
        ok(medseal_signer_sign(signer, doc.as_ptr(), doc.len(), JWS_FLATTENED, &mut jws));
        assert_wiped("signed record (JWS)", jws);

        // Control: the key id is public and is not wiped; the watcher sees its bytes.
        let mut kid = std::ptr::null_mut();
        ok(medseal_key_kid(key, &mut kid));
        assert_not_wiped("key id", kid);
        medseal_signer_free(signer);
        medseal_signer_builder_free(builder);
        medseal_key_free(key);
    }
}

#[test]
fn exported_private_keys_are_wiped_public_ones_are_not() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    unsafe {
        for alg in [ALG_ED25519, ALG_ES256] {
            let mut key = std::ptr::null_mut();
            ok(medseal_key_generate(alg, &mut key));
            let mut private = std::ptr::null_mut();
            ok(medseal_key_export(key, FORMAT_PKCS8_PEM, &mut private));
            assert!(std::slice::from_raw_parts(medseal_buffer_data(private), medseal_buffer_len(private))
                .starts_with(b"-----BEGIN PRIVATE KEY-----"));
            assert_wiped("PKCS#8 private key", private);
            let mut public = std::ptr::null_mut();
            ok(medseal_key_export(key, FORMAT_SPKI_PEM, &mut public));
            assert_not_wiped("SPKI public key", public);
            medseal_key_free(key);
        }
    }
}

#[test]
fn opened_plaintext_is_wiped_the_envelope_is_not() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let doc = record();
    unsafe {
        let mut recipient = std::ptr::null_mut();
        ok(medseal_recipient_key_generate(&mut recipient));
        let mut meta = std::ptr::null_mut();
        let (id, source) = (b"rec-1", b"79-001");
        ok(medseal_meta_new(id.as_ptr(), id.len(), source.as_ptr(), source.len(), 1, &mut meta));
        let recipients = [recipient as *const medseal_recipient_key];
        let mut sealed = std::ptr::null_mut();
        ok(medseal_envelope_seal(doc.as_ptr(), doc.len(), meta, recipients.as_ptr(), 1, AEAD_AES_256_GCM, ENCODING_PROTOBUF, &mut sealed));
        let mut envelope = std::ptr::null_mut();
        ok(medseal_envelope_decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed), &mut envelope));
        let mut opened = std::ptr::null_mut();
        ok(medseal_envelope_open(envelope, recipient, &mut opened));
        assert_eq!(std::slice::from_raw_parts(medseal_buffer_data(opened), medseal_buffer_len(opened)), doc.as_slice());
        assert_wiped("opened plaintext", opened);
        // Control: the envelope is ciphertext and is not wiped (megabyte envelopes would pay for it).
        assert_not_wiped("envelope", sealed);
        medseal_envelope_free(envelope);
        medseal_meta_free(meta);
        medseal_recipient_key_free(recipient);
    }
}

#[test]
fn private_key_bytes_in_rust_are_zeroizing() {
    // The Rust API's exports of private keys are `Zeroizing`: wiped when dropped.
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let key = Key::generate(medseal::Algorithm::ES256).unwrap();
    let der = key.export(KeyFormat::Pkcs8Der).unwrap();
    assert!(der.iter().filter(|&&b| b != 0).count() > der.len() / 2);
    FREED_NONZERO.store(usize::MAX, Ordering::SeqCst);
    WATCHED.store(der.as_ptr() as usize, Ordering::SeqCst);
    drop(der);
    assert_eq!(WATCHED.load(Ordering::SeqCst), 0, "not freed");
    assert_eq!(FREED_NONZERO.load(Ordering::SeqCst), 0, "PKCS#8 DER not wiped");
}
