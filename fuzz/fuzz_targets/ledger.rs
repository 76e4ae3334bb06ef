//! libFuzzer target: receipts, tree heads, ledger entries and proofs against a fixed tree (see `medseal_fuzz::ledger`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    medseal_fuzz::ledger(data);
});
