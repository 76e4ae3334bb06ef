//! libFuzzer target: signing- and recipient-key import, export, re-import (see `medseal_fuzz::keys`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    medseal_fuzz::keys(data);
});
