//! libFuzzer target: JWS verification with one fixed Ed25519 key (see `medseal_fuzz::jws`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    medseal_fuzz::jws(data);
});
