//! The audit benchmark's program (`make bench-audit`, driven by benches/audit.sh, which says
//! how to read its lines). Three commands:
//!
//! * `make DIR N [--opened]`: writes `DIR/bundle` through `BundleWriter`: N Ed25519 records
//!   (a ~400-byte FHIR Patient each) from 10 facilities, signed with medseal, sealed to a hub
//!   key and to an escrow key (`DIR/escrow.key`), their ledger entries and one signed tree
//!   head over them. With `--opened`, also `DIR/bundle-opened`: the same, plus `opened/` (the
//!   signed records in clear, as `hub export --opened` writes them).
//! * `check BUNDLE THREADS [ESCROW_KEY]`: times `records::check` (0 threads: every core) and
//!   prints `CHECK` with the rate, the raw Ed25519 verify rate of one thread measured for a
//!   second just before and just after (same process, same CPUs: the machine may be shared),
//!   and the process's peak RSS (VmHWM) at the end.
//! * `parts BUNDLE ESCROW_KEY`: where one thread's time goes, step by step, over the bundle's
//!   first 2,000 records (`PART` lines, microseconds per record).
//! * `raw-verify SECONDS`: the raw Ed25519 verify rate of ring on one thread, over the signing
//!   input of one such record, and the raw X25519 rate (x25519-dalek, as medseal's HPKE uses
//!   it): the two public-key operations an escrowed record costs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use medseal::ledger::{LedgerEntry, MerkleTree, TreeHead};
use medseal::{Aead, Algorithm, Envelope, Key, KeyFormat, Meta, RecipientKey, SignOptions, Signer};
use medseal_audit::bundle::{self, Bundle, BundleWriter, EntryLine, Facility, FacilityKey, Manifest, Selection};
use medseal_audit::records::{self, RecordOptions};

/// 2026-01-10T00:00:00Z.
const T0: i64 = 1_768_003_200;
const FACILITIES: usize = 10;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["make", dir, n] => make(Path::new(dir), n.parse().expect("N"), false),
        ["make", dir, n, "--opened"] => make(Path::new(dir), n.parse().expect("N"), true),
        ["check", bundle, threads] => check(Path::new(bundle), threads.parse().expect("THREADS"), None),
        ["check", bundle, threads, key] => check(Path::new(bundle), threads.parse().expect("THREADS"), Some(Path::new(key))),
        ["raw-verify", seconds] => raw_verify(seconds.parse().expect("SECONDS")),
        ["parts", bundle, key] => parts(Path::new(bundle), Path::new(key)),
        _ => {
            eprintln!("usage: audit_bench make DIR N [--opened] | check BUNDLE THREADS [ESCROW_KEY] | raw-verify SECONDS");
            std::process::exit(2);
        }
    }
}

fn document(sequence: u64) -> String {
    format!(
        r#"{{"birthDate":"1970-01-01","gender":"female","id":"p{sequence}","identifier":[{{"system":"urn:oid:2.16.704.1","value":"{sequence:012}"}}],"name":[{{"family":"Nguyễn","given":["Thị","Minh"]}}],"resourceType":"Patient","telecom":[{{"system":"phone","value":"+84 28 3855 4137"}}],"address":[{{"city":"Hồ Chí Minh","line":["201B Nguyễn Chí Thanh"]}}]}}"#
    )
}

struct Made {
    entry: LedgerEntry,
    envelope: Vec<u8>,
    jws: Vec<u8>,
}

fn make(dir: &Path, n: u64, opened: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let hub = RecipientKey::generate().unwrap();
    let escrow = RecipientKey::generate().unwrap();
    std::fs::write(dir.join("escrow.key"), escrow.export(KeyFormat::Pkcs8Pem).unwrap()).unwrap();
    let keys: Vec<Arc<Key>> = (0..FACILITIES).map(|_| Arc::new(Key::generate(Algorithm::EdDSA).unwrap())).collect();
    let tree_head_key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());

    // Signing and sealing on every core, in ledger order.
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let made: Vec<Made> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (keys, hub, escrow) = (&keys, &hub, &escrow);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for index in (t..n).step_by(threads as usize) {
                        let facility = (index as usize) % FACILITIES;
                        let sequence = index / FACILITIES as u64 + 1;
                        let source = format!("790{facility:02}");
                        let signed = T0 + index as i64;
                        let signer =
                            Signer::new(keys[facility].clone(), SignOptions { signing_time: Some(signed), ..SignOptions::default() })
                                .unwrap();
                        let mut meta = Meta::new(format!("{source}-{sequence:08}"), source, sequence);
                        meta.created = medseal::utc::format(signed).unwrap();
                        let (jws, meta) = medseal::record::sign(&signer, document(sequence).as_bytes(), meta).unwrap();
                        let envelope =
                            Envelope::seal(jws.as_bytes(), meta.clone(), &[&hub.to_public(), &escrow.to_public()], Aead::Aes256Gcm)
                                .unwrap()
                                .to_protobuf()
                                .unwrap();
                        let entry = LedgerEntry {
                            record_id: meta.record_id,
                            source: meta.source,
                            sequence,
                            digest: ring::digest::digest(&ring::digest::SHA256, &envelope).as_ref().try_into().unwrap(),
                            received: signed + 30,
                            withdrawn: None,
                        };
                        out.push((index, Made { entry, envelope, jws: jws.as_bytes().to_vec() }));
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<(u64, Made)> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
        all.sort_unstable_by_key(|(index, _)| *index);
        all.into_iter().map(|(_, made)| made).collect()
    });
    println!("MADE {n} records signed and sealed in {:.1} s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    write(&dir.join("bundle"), &made, &keys, &tree_head_key, false);
    if opened {
        write(&dir.join("bundle-opened"), &made, &keys, &tree_head_key, true);
    }
    println!("MADE bundle(s) written in {:.1} s", started.elapsed().as_secs_f64());
}

fn write(out: &Path, made: &[Made], keys: &[Arc<Key>], tree_head_key: &Arc<Key>, opened: bool) {
    let mut writer = BundleWriter::create(out).unwrap();
    let mut file = writer.file(bundle::ENTRIES).unwrap();
    let mut tree = MerkleTree::new();
    for m in made {
        let line = EntryLine::Entry(m.entry.clone());
        tree.push(line.leaf_hash());
        file.write_all(&line.to_line()).unwrap();
        file.write_all(b"\n").unwrap();
    }
    writer.close(file).unwrap();
    let size = made.len() as u64;
    let head = TreeHead { tree_size: size, root_hash: tree.root(size).unwrap(), timestamp: T0 + size as i64 + 60 };
    let signer = Signer::new(tree_head_key.clone(), medseal::ledger::tree_head_sign_options()).unwrap();
    writer.write(bundle::TREE_HEADS, format!("{}\n", head.sign(&signer).unwrap()).as_bytes()).unwrap();
    writer.write(bundle::TREE_HEAD_KEY, &tree_head_key.export(KeyFormat::SpkiPem).unwrap()).unwrap();
    for (index, m) in made.iter().enumerate() {
        writer.write(&bundle::envelope_path(index as u64), &m.envelope).unwrap();
        if opened {
            writer.write(&bundle::opened_path(index as u64), &m.jws).unwrap();
        }
    }
    let facilities: Vec<Facility> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| Facility {
            facility: format!("790{i:02}"),
            role: "facility".into(),
            enrolled: medseal::utc::format(T0 - 86_400).unwrap(),
            keys: vec![FacilityKey {
                kid: key.kid().into(),
                public_key: String::from_utf8(key.export(KeyFormat::SpkiPem).unwrap().to_vec()).unwrap(),
                added: medseal::utc::format(T0 - 86_400).unwrap(),
                revoked: None,
                revoked_reason: None,
            }],
            client_certificates: Vec::new(),
        })
        .collect();
    writer.write(bundle::FACILITIES, &serde_json::to_vec_pretty(&facilities).unwrap()).unwrap();
    let manifest = Manifest {
        format: bundle::FORMAT.into(),
        version: bundle::VERSION,
        exported: medseal::utc::format(T0 + size as i64 + 120).unwrap(),
        tool: "audit_bench".into(),
        selection: Selection { opened, ..Selection::default() },
        ledger: bundle::LedgerCounts {
            size,
            entries: size,
            redacted: 0,
            tree_heads: 1,
            envelopes: size,
            opened: if opened { size } else { 0 },
        },
        files: BTreeMap::new(),
    };
    writer.finish(manifest).unwrap();
}

fn check(path: &Path, threads: usize, key: Option<&Path>) {
    let bundle = Bundle::open(path).unwrap();
    let escrow_key = key.map(|k| RecipientKey::import(&std::fs::read(k).unwrap()).unwrap());
    let options = RecordOptions { escrow_key, threads, at: T0 + 400 * 86_400, ..RecordOptions::default() };
    let mut findings = Vec::new();
    let raw_before = verify_rate(1.0);
    let started = Instant::now();
    let checked = records::check(&bundle, &options, &mut findings).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let raw_after = verify_rate(1.0);
    assert!(findings.is_empty(), "the benchmark's bundle is honest: {:?}", findings.first());
    assert_eq!(checked.counts.passed, checked.counts.records);
    println!(
        "CHECK records={} threads={} seconds={seconds:.3} rate={:.0} raw_before={raw_before:.0} raw_after={raw_after:.0} peak_rss_kb={}",
        checked.counts.records,
        threads,
        checked.counts.records as f64 / seconds,
        peak_rss_kb()
    );
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn raw_verify(seconds: f64) {
    let x25519 = {
        let secret = x25519_dalek::StaticSecret::from([7u8; 32]);
        let public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from([9u8; 32]));
        rate(seconds, || drop(std::hint::black_box(secret.diffie_hellman(std::hint::black_box(&public)))))
    };
    println!("RAW ed25519_verify rate={:.0} x25519={x25519:.0}", verify_rate(seconds));
}

/// Ring's Ed25519 verify rate on this thread, over the signing input of one benchmark record.
fn verify_rate(seconds: f64) -> f64 {
    let key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
    let signer = Signer::new(key, SignOptions { signing_time: Some(T0), ..SignOptions::default() }).unwrap();
    let jws = signer.sign(document(1).as_bytes(), medseal::Serialization::Compact).unwrap();
    let input = &jws.as_bytes()[..jws.rfind('.').unwrap()];
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let signature = pair.sign(input);
    use ring::signature::KeyPair;
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, pair.public_key().as_ref().to_vec());
    rate(seconds, || public.verify(std::hint::black_box(input), std::hint::black_box(signature.as_ref())).unwrap())
}

/// How many times per second `f` runs, over `seconds`.
fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..50 {
            f();
        }
        count += 50;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// Each step of one record's check, timed alone over the first records of the bundle.
fn parts(path: &Path, key: &Path) {
    let bundle = Bundle::open(path).unwrap();
    let escrow = RecipientKey::import(&std::fs::read(key).unwrap()).unwrap();
    let keys: Vec<Arc<Key>> = bundle
        .facilities()
        .unwrap()
        .iter()
        .flat_map(|f| f.keys.iter().map(|k| Arc::new(Key::import(k.public_key.as_bytes(), None).unwrap())))
        .collect();
    let verifier = medseal::Verifier::new(keys);
    let n = 2000u64.min(bundle.manifest().ledger.entries);
    let time = |name: &str, f: &mut dyn FnMut(u64)| {
        let started = Instant::now();
        for index in 0..n {
            f(index);
        }
        println!("PART {name:<40} {:>7.1} us", started.elapsed().as_secs_f64() * 1e6 / n as f64);
    };
    let envelopes: Vec<Vec<u8>> = (0..n).map(|i| bundle.envelope(i).unwrap().unwrap()).collect();
    let parsed: Vec<Envelope> = envelopes.iter().map(|e| Envelope::from_protobuf(e).unwrap()).collect();
    let jws: Vec<_> = parsed.iter().map(|e| e.open(&escrow).unwrap()).collect();
    time("read the envelope file", &mut |i| drop(std::hint::black_box(bundle.envelope(i).unwrap())));
    time("SHA-256 of the envelope", &mut |i| {
        std::hint::black_box(ring::digest::digest(&ring::digest::SHA256, &envelopes[i as usize]));
    });
    time("decode the envelope (protobuf)", &mut |i| drop(std::hint::black_box(Envelope::from_protobuf(&envelopes[i as usize]).unwrap())));
    time("open with the escrow key (HPKE)", &mut |i| drop(std::hint::black_box(parsed[i as usize].open(&escrow).unwrap())));
    time("medseal record::verify (Ed25519 + rules)", &mut |i| {
        drop(std::hint::black_box(medseal::record::verify(&verifier, &jws[i as usize]).unwrap()))
    });
}
