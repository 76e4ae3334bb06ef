//! libFuzzer target: RFC 8785 canonicalization (see `medseal_fuzz::canon`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    medseal_fuzz::canon(data);
});
