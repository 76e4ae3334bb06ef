//! libFuzzer target: sealed-envelope decoding and opening (see `medseal_fuzz::envelope`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    medseal_fuzz::envelope(data);
});
