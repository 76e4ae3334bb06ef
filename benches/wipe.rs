//! The cost of wiping secret buffers on free (docs/ARCHITECTURE.md, "Secrets"): freeing a
//! `medseal_buffer` of patient data (wiped with one `write_bytes` kept by `black_box`) next to
//! the same buffer marked public (not wiped), and next to the `zeroize` crate's volatile
//! byte-by-byte wipe of the same bytes, at 1 KB, 64 KB, 1 MB and 16 MB. Each case makes a fresh
//! buffer (allocation and fill, the same work on every side) and frees it; the difference is
//! the wipe. Run with `make bench-wipe` (= `cargo bench -j2 --bench wipe`).
//!
//! Printed at the end, all measured in this process now (`fhir_sample::measure_pair`):
//! `COST wipe <size>: free secret X µs, free public Y µs: the wipe adds Z µs (W µs per MB), R x`
//! and the same for `zeroize`, so the claim that zeroize costs about a millisecond per megabyte
//! and the wipe a fraction of that is a measurement of this machine, not a statement.

use criterion::{black_box, BatchSize, BenchmarkId, Criterion, Throughput};
use medseal::ffi::medseal_buffer;
use zeroize::Zeroize;

#[path = "support/fhir_sample.rs"]
mod fhir_sample;

const SIZES: [(&str, usize); 4] = [("1KB", 1 << 10), ("64KB", 64 << 10), ("1MB", 1 << 20), ("16MB", 16 << 20)];

/// Bytes that are not zero (a wipe of zeros could be skipped by a clever allocator).
fn bytes(size: usize) -> Vec<u8> {
    vec![0x5a; size]
}

fn bench(c: &mut Criterion) {
    for (label, size) in SIZES {
        let mut group = c.benchmark_group(format!("free_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size > 1 << 20 {
            group.sample_size(10);
        }
        for (name, secret) in [("secret_wiped", true), ("public", false)] {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_batched(|| medseal_buffer::for_benchmark(bytes(size), secret), drop, BatchSize::PerIteration)
            });
        }
        group.bench_function(BenchmarkId::from_parameter("zeroize"), |b| {
            b.iter_batched(
                || bytes(size),
                |mut v| {
                    v.zeroize();
                    drop(black_box(v))
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        for (label, size) in SIZES {
            let public = || drop(black_box(medseal_buffer::for_benchmark(bytes(size), false)));
            let (secret_ns, public_ns) =
                fhir_sample::measure_pair(|| drop(black_box(medseal_buffer::for_benchmark(bytes(size), true))), public);
            let (zeroize_ns, public2_ns) = fhir_sample::measure_pair(
                || {
                    let mut v = bytes(size);
                    v.zeroize();
                    drop(black_box(v))
                },
                public,
            );
            let mb = size as f64 / (1 << 20) as f64;
            for (what, ours, base) in [("wipe (medseal_buffer_free)", secret_ns, public_ns), ("zeroize crate", zeroize_ns, public2_ns)] {
                let extra = (ours - base).max(0.0);
                println!(
                    "COST {what} {label}: make + free {:.2} µs, without wiping {:.2} µs: the wipe adds {:.2} µs ({:.0} µs per MB), {:.2}x (both measured now, in this process)",
                    ours / 1e3,
                    base / 1e3,
                    extra / 1e3,
                    extra / 1e3 / mb,
                    ours / base
                );
            }
        }
    }
}
