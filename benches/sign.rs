//! Signing and verifying a 1 KB record vs the raw ring Ed25519 primitive on the same bytes.
//! Goal (issue 2): sign (canonicalize + JWS EdDSA) ≥ 0.85× raw ring signing; verify likewise.

use std::sync::Arc;

use criterion::{black_box, Criterion};
use medseal::jws::Serialization;
use medseal::{canonicalize, Algorithm, CanonOptions, DetachedPayload, Key, SignOptions, Signer, Verifier};
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

#[path = "support/fhir_sample.rs"]
mod fhir_sample;

/// What both the criterion groups and the ratios use.
struct Setup {
    doc: Vec<u8>,
    pair: Ed25519KeyPair,
    signer: Signer,
    verifier: Verifier,
    canonical: Vec<u8>,
    jws: String,
    raw_sig: Vec<u8>,
    public: UnparsedPublicKey<Vec<u8>>,
    signing_input: String,
}

fn setup() -> Setup {
    let doc = fhir_sample::patient();
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let key = Arc::new(Key::import(pkcs8.as_ref(), None).unwrap());
    assert_eq!(key.algorithm(), Algorithm::EdDSA);
    let signer = Signer::new(key.clone(), SignOptions::default()).unwrap();
    let verifier = Verifier::new(vec![Arc::new(key.to_public())]);
    let canonical = canonicalize(&doc, &CanonOptions::default()).unwrap();
    let jws = signer.sign(&doc, Serialization::Compact).unwrap();
    let raw_sig = pair.sign(&canonical).as_ref().to_vec();
    let public = UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref().to_vec());
    // Where the time goes: the JWS alone over already-canonical bytes, and ring over the
    // JWS signing input (base64url payload + header, ~1.4x the bytes Ed25519 must hash).
    let signing_input = {
        let parts: Vec<&str> = jws.split('.').collect();
        format!("{}.{}", parts[0], parts[1])
    };
    Setup { doc, pair, signer, verifier, canonical, jws, raw_sig, public, signing_input }
}

fn bench(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("sign_1KB");
    group.bench_function("medseal", |b| b.iter(|| s.signer.sign(black_box(&s.doc), Serialization::Compact).unwrap()));
    group
        .bench_function("medseal_jws_only", |b| b.iter(|| s.signer.sign_payload(black_box(&s.canonical), Serialization::Compact).unwrap()));
    group.bench_function("ring", |b| b.iter(|| s.pair.sign(black_box(&s.canonical))));
    group.bench_function("ring_signing_input", |b| b.iter(|| s.pair.sign(black_box(s.signing_input.as_bytes()))));
    group.finish();

    let mut group = c.benchmark_group("verify_1KB");
    group.bench_function("medseal", |b| b.iter(|| s.verifier.verify(black_box(s.jws.as_bytes()), DetachedPayload::None).unwrap()));
    group.bench_function("ring", |b| b.iter(|| s.public.verify(black_box(&s.canonical), &s.raw_sig).unwrap()));
    group.finish();
}

fn main() {
    let s = setup();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &s);
    c.final_summary();
    // The ratios: both sides timed again here, in this process (fhir_sample::report).
    if std::env::args().any(|a| a == "--bench") {
        let ring_sign = || s.pair.sign(black_box(&s.canonical));
        fhir_sample::report(
            "sign 1KB (canonicalize + JWS EdDSA)",
            0.85,
            || s.signer.sign(black_box(&s.doc), Serialization::Compact).unwrap(),
            ring_sign,
        );
        fhir_sample::report(
            "  of which JWS only (canonical input)",
            0.85,
            || s.signer.sign_payload(black_box(&s.canonical), Serialization::Compact).unwrap(),
            ring_sign,
        );
        fhir_sample::report("  ring over the JWS signing input", 0.85, || s.pair.sign(black_box(s.signing_input.as_bytes())), ring_sign);
        fhir_sample::report(
            "verify 1KB (JWS EdDSA)",
            0.85,
            || s.verifier.verify(black_box(s.jws.as_bytes()), DetachedPayload::None).unwrap(),
            || s.public.verify(black_box(&s.canonical), &s.raw_sig).unwrap(),
        );
    }
}
