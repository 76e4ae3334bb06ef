//! libFuzzer target: trust lists, read and verified with a fixed list key (see `medseal_fuzz::trust`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    medseal_fuzz::trust(data);
});
