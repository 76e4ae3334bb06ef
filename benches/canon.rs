//! Canonicalization throughput vs serde_json parse + serialize of the same document.
//! Goal (issue 2): medseal ≥ 0.7× serde_json. Ratios are printed at the end of the run, both
//! sides timed again in this process (`fhir_sample::report`).

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use medseal::{canonicalize, CanonOptions};

#[path = "support/fhir_sample.rs"]
mod fhir_sample;

const SIZES: [(&str, usize); 3] = [("1KB", 1 << 10), ("100KB", 100 << 10), ("10MB", 10 << 20)];

fn bench(c: &mut Criterion) {
    for (label, size) in SIZES {
        let doc = if size <= 1 << 10 { fhir_sample::patient() } else { fhir_sample::bundle(size) };
        let strict = CanonOptions::default();
        canonicalize(&doc, &strict).expect("the sample is strict-valid");
        let mut group = c.benchmark_group(format!("canon_{label}"));
        group.throughput(Throughput::Bytes(doc.len() as u64));
        if size > 1 << 20 {
            group.sample_size(10);
        }
        group.bench_function(BenchmarkId::from_parameter("medseal"), |b| b.iter(|| canonicalize(black_box(&doc), &strict).unwrap()));
        // The same without the medseal policies (NFC check, lossy-number check): their cost.
        let plain = CanonOptions::plain();
        group.bench_function(BenchmarkId::from_parameter("medseal_plain"), |b| b.iter(|| canonicalize(black_box(&doc), &plain).unwrap()));
        group.bench_function(BenchmarkId::from_parameter("serde_json"), |b| {
            b.iter(|| {
                let v: serde_json::Value = serde_json::from_slice(black_box(&doc)).unwrap();
                serde_json::to_vec(&v).unwrap()
            })
        });
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    // The ratios: both sides timed again here, in this process (never criterion's files, which
    // a filtered run or another CRITERION_HOME leaves from an older run).
    if std::env::args().any(|a| a == "--bench") {
        for (label, size) in SIZES {
            let doc = if size <= 1 << 10 { fhir_sample::patient() } else { fhir_sample::bundle(size) };
            let serde = || {
                let v: serde_json::Value = serde_json::from_slice(black_box(&doc)).unwrap();
                serde_json::to_vec(&v).unwrap()
            };
            let (strict, plain) = (CanonOptions::default(), CanonOptions::plain());
            fhir_sample::report(&format!("canonicalize {label}"), 0.7, || canonicalize(black_box(&doc), &strict).unwrap(), serde);
            fhir_sample::report(
                &format!("canonicalize {label}, plain RFC 8785"),
                0.7,
                || canonicalize(black_box(&doc), &plain).unwrap(),
                serde,
            );
        }
    }
}
