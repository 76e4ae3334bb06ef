//! Not a benchmark of record: a quick figure of the hub's own rate over mutual TLS, to know it
//! is not the bottleneck of the end-to-end benchmark. Run with
//! `cargo test --release -p medseal-hub --test throughput -- --ignored --nocapture`.

mod common;

use std::time::Instant;

use common::{status, Pilot};
use medseal::wire::RecordStatus;

#[test]
#[ignore = "a measurement; run it on purpose"]
fn records_per_second() {
    const TOTAL: usize = 10_000;
    const BATCH: usize = 500;
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let records: Vec<_> = (0..TOTAL).map(|i| pilot.a.record(&format!("tp-{i}"), i as u64 + 1)).collect();
    let started = Instant::now();
    for batch in records.chunks(BATCH) {
        for result in pilot.a.submit(&url, batch) {
            assert_eq!(status(&result), RecordStatus::Accepted);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("RATE hub: {TOTAL} records in batches of {BATCH} in {seconds:.2} s: {:.0} records/s", TOTAL as f64 / seconds);
}
