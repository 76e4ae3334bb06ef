//! libFuzzer target: certificates, chains, path validation and x5c (see `medseal_fuzz::x509`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    medseal_fuzz::x509(data);
});
