//! `records::check` on bundles written through `BundleWriter`: records signed with medseal
//! (Ed25519 and P-256) and sealed to a hub key and an auditor's escrow key, then judged at their
//! trusted time (the entry's `received`), never at today's date.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use medseal::ledger::LedgerEntry;
use medseal::record::{self, Withdrawal};
use medseal::trust::{self, Role, TrustEntry, TrustList};
use medseal::{Aead, Algorithm, Envelope, Key, KeyFormat, Meta, RecipientKey, SignOptions, Signer};
use medseal_audit::bundle::{self, Bundle, BundleWriter, EntryLine, Facility, FacilityKey, Manifest, Selection};
use medseal_audit::records::{self, Checked, RecordOptions};
use medseal_audit::report::{self, finding, sub, Finding, Status};

/// 2026-01-10T00:00:00Z: records are signed around then.
const T0: i64 = 1_768_003_200;
const DAY: i64 = 86_400;
const TEN_YEARS: i64 = 3_652 * DAY;

fn rfc3339(t: i64) -> String {
    medseal::utc::format(t).unwrap()
}

fn signer(key: &Arc<Key>, at: i64, options: SignOptions) -> Signer {
    Signer::new(key.clone(), SignOptions { signing_time: Some(at), ..options }).unwrap()
}

/// One facility: its id and its keys with their enrolment history.
struct Fac {
    id: String,
    keys: Vec<(Arc<Key>, i64, Option<i64>)>,
    next: u64,
}

/// A ledger entry, its envelope and its opened record, as the bundle will hold them.
type Stored = (LedgerEntry, Option<Vec<u8>>, Option<Vec<u8>>);

/// A hub's worth of ledger entries, envelopes and keys, written out as a bundle.
struct Pilot {
    dir: tempfile::TempDir,
    hub: RecipientKey,
    escrow: RecipientKey,
    facilities: Vec<Fac>,
    entries: Vec<Stored>,
    lists: Vec<(u64, String)>,
    list_keys: Vec<(String, Vec<u8>)>,
    selection: Selection,
}

impl Pilot {
    fn new() -> Pilot {
        Pilot {
            dir: tempfile::tempdir().unwrap(),
            hub: RecipientKey::generate().unwrap(),
            escrow: RecipientKey::generate().unwrap(),
            facilities: Vec::new(),
            entries: Vec::new(),
            lists: Vec::new(),
            list_keys: Vec::new(),
            selection: Selection::default(),
        }
    }

    /// A facility with one key of `alg`, enrolled a year before T0. Returns its position.
    fn facility(&mut self, id: &str, alg: Algorithm) -> usize {
        let key = Arc::new(Key::generate(alg).unwrap());
        self.facilities.push(Fac { id: id.into(), keys: vec![(key, T0 - 365 * DAY, None)], next: 1 });
        self.facilities.len() - 1
    }

    fn key(&self, facility: usize, n: usize) -> Arc<Key> {
        self.facilities[facility].keys[n].0.clone()
    }

    fn sequence(&mut self, facility: usize) -> u64 {
        let fac = &mut self.facilities[facility];
        fac.next += 1;
        fac.next - 1
    }

    /// A record of `facility` signed by `key` at `signed`, received at `received`, sealed to
    /// the hub and the escrow key. Returns its ledger index.
    fn record_with(&mut self, facility: usize, key: &Arc<Key>, signed: i64, received: i64) -> u64 {
        let sequence = self.sequence(facility);
        let source = self.facilities[facility].id.clone();
        let document = format!(r#"{{"resourceType":"Patient","id":"p{sequence}","name":[{{"family":"Nguyễn"}}]}}"#);
        let (jws, meta) = record::sign(
            &signer(key, signed, SignOptions::default()),
            document.as_bytes(),
            Meta::new(format!("r{sequence}"), source, sequence),
        )
        .unwrap();
        self.seal(jws.as_bytes(), meta, received, None)
    }

    fn record(&mut self, facility: usize, signed: i64) -> u64 {
        let key = self.key(facility, 0);
        self.record_with(facility, &key, signed, signed + 60)
    }

    /// Seals `jws` with `meta` to the hub and the escrow key and adds its ledger entry.
    fn seal(&mut self, jws: &[u8], mut meta: Meta, received: i64, withdrawn: Option<&str>) -> u64 {
        meta.content_type = record::content_type_of(jws).into();
        meta.created = rfc3339(received - 30);
        let envelope = Envelope::seal(jws, meta.clone(), &[&self.hub.to_public(), &self.escrow.to_public()], Aead::Aes256Gcm).unwrap();
        let bytes = envelope.to_protobuf().unwrap();
        self.push(&meta, &bytes, received, withdrawn)
    }

    /// Adds a ledger entry naming `meta` for the envelope `bytes`.
    fn push(&mut self, meta: &Meta, bytes: &[u8], received: i64, withdrawn: Option<&str>) -> u64 {
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().try_into().unwrap();
        let entry = LedgerEntry {
            record_id: meta.record_id.clone(),
            source: meta.source.clone(),
            sequence: meta.sequence,
            digest,
            received,
            withdrawn: withdrawn.map(str::to_owned),
        };
        self.entries.push((entry, Some(bytes.to_vec()), None));
        self.entries.len() as u64 - 1
    }

    /// The facility's signed withdrawal of a fresh sequence number.
    fn withdrawal(&mut self, facility: usize, signed: i64, reason: &str, ledger_reason: &str) -> u64 {
        let sequence = self.sequence(facility);
        let source = self.facilities[facility].id.clone();
        let w = Withdrawal { source: source.clone(), record_id: format!("r{sequence}"), sequence, reason: reason.into() };
        let jws = w.sign(&signer(&self.key(facility, 0), signed, record::withdrawal_sign_options())).unwrap();
        self.seal(jws.as_bytes(), Meta::new(format!("r{sequence}"), source, sequence), signed + 60, Some(ledger_reason))
    }

    /// A signed trust list of every facility's first key, valid at sigT in `window`, the list
    /// itself current from `issued` to `expires`, signed by a department key written to
    /// `trust-lists/keys/`.
    fn trust_list(&mut self, sequence: u64, issued: i64, expires: i64, window: (i64, i64)) {
        let department = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
        let entries = self
            .facilities
            .iter()
            .map(|f| TrustEntry {
                facility: f.id.clone(),
                kid: f.keys[0].0.kid().to_owned(),
                alg: f.keys[0].0.algorithm(),
                key: Arc::new(f.keys[0].0.to_public()),
                chain: None,
                role: Role::RecordSigning,
                not_before: window.0,
                not_after: window.1,
            })
            .collect();
        let list = TrustList::new("HCMC Department of Health", sequence, issued, expires, entries).unwrap();
        let jws = list.sign(&signer(&department, issued, trust::sign_options())).unwrap();
        self.lists.push((sequence, jws));
        self.list_keys.push((format!("doh-{sequence}.pub"), department.export(KeyFormat::SpkiPem).unwrap().to_vec()));
    }

    fn write(&self, name: &str) -> PathBuf {
        let out = self.dir.path().join(name);
        let mut writer = BundleWriter::create(&out).unwrap();
        let mut file = writer.file(bundle::ENTRIES).unwrap();
        for (entry, _, _) in &self.entries {
            file.write_all(&EntryLine::Entry(entry.clone()).to_line()).unwrap();
            file.write_all(b"\n").unwrap();
        }
        writer.close(file).unwrap();
        for (index, (_, envelope, opened)) in self.entries.iter().enumerate() {
            if let Some(envelope) = envelope {
                writer.write(&bundle::envelope_path(index as u64), envelope).unwrap();
            }
            if let Some(opened) = opened {
                writer.write(&bundle::opened_path(index as u64), opened).unwrap();
            }
        }
        let facilities: Vec<Facility> = self
            .facilities
            .iter()
            .map(|f| Facility {
                facility: f.id.clone(),
                role: "facility".into(),
                enrolled: rfc3339(T0 - 365 * DAY),
                keys: f
                    .keys
                    .iter()
                    .map(|(key, added, revoked)| FacilityKey {
                        kid: key.kid().into(),
                        public_key: String::from_utf8(key.export(KeyFormat::SpkiPem).unwrap().to_vec()).unwrap(),
                        added: rfc3339(*added),
                        revoked: revoked.map(rfc3339),
                        revoked_reason: revoked.map(|_| "lost".into()),
                    })
                    .collect(),
                client_certificates: Vec::new(),
            })
            .collect();
        writer.write(bundle::FACILITIES, &serde_json::to_vec_pretty(&facilities).unwrap()).unwrap();
        for (sequence, jws) in &self.lists {
            writer.write(&bundle::trust_list_path(*sequence), jws.as_bytes()).unwrap();
        }
        for (name, key) in &self.list_keys {
            writer.write(&format!("{}/{name}", bundle::TRUST_LIST_KEYS), key).unwrap();
        }
        let opened = self.entries.iter().any(|(_, _, opened)| opened.is_some());
        let manifest = Manifest {
            format: bundle::FORMAT.into(),
            version: bundle::VERSION,
            exported: rfc3339(T0 + 30 * DAY),
            tool: "test".into(),
            selection: Selection { opened, ..self.selection.clone() },
            ledger: Default::default(),
            files: BTreeMap::new(),
        };
        writer.finish(manifest).unwrap()
    }

    fn options(&self, escrow: bool) -> RecordOptions {
        RecordOptions { escrow_key: escrow.then(|| self.escrow.clone()), at: T0 + 60 * DAY, ..RecordOptions::default() }
    }
}

fn run(path: &Path, options: &RecordOptions) -> (Checked, Vec<Finding>) {
    let bundle = Bundle::open(path).unwrap();
    let mut findings = Vec::new();
    let checked = records::check(&bundle, options, &mut findings).unwrap();
    (checked, findings)
}

fn status(checked: &Checked, index: u64) -> (Status, Option<&'static str>) {
    checked.status(index).unwrap_or_else(|| panic!("entry {index} was not checked"))
}

fn failed(code: &'static str) -> (Status, Option<&'static str>) {
    (Status::Failed, Some(code))
}

const PASSED: (Status, Option<&str>) = (Status::Passed, None);

fn reason(checked: &Checked, path: &Path, index: u64) -> String {
    let bundle = Bundle::open(path).unwrap();
    let result = checked.results(&bundle).unwrap().map(Result::unwrap).find(|r| r.index == index).unwrap();
    result.reason.unwrap_or_default()
}

#[test]
fn records_sealed_to_the_escrow_key_pass_and_are_indeterminate_without_it() {
    let mut pilot = Pilot::new();
    let ed = pilot.facility("79001", Algorithm::EdDSA);
    let p256 = pilot.facility("Bệnh viện 79002", Algorithm::ES256);
    for i in 0..3 {
        pilot.record(ed, T0 + i * 3600);
        pilot.record(p256, T0 + i * 3600 + 1);
    }
    let path = pilot.write("bundle");

    // Ten years ahead, as at the export: the same verdicts.
    for at in [T0 + 60 * DAY, T0 + TEN_YEARS] {
        let (checked, findings) = run(&path, &RecordOptions { at, ..pilot.options(true) });
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!((checked.counts.records, checked.counts.passed), (6, 6));
        assert_eq!(checked.facilities["Bệnh viện 79002"].passed, 3);
        let bundle = Bundle::open(&path).unwrap();
        let results: Vec<_> = checked.results(&bundle).unwrap().map(Result::unwrap).collect();
        assert_eq!(results.len(), 6);
        assert_eq!(results[1].kid.as_deref(), Some(pilot.key(p256, 0).kid()));
        assert_eq!(results[1].signed.as_deref(), Some("2026-01-10T00:00:01Z"));
        assert_eq!(results[1].received, "2026-01-10T00:01:01Z");
        assert!(results.iter().all(|r| r.status == Status::Passed && r.sub_indication.is_none()));
        let mut json = Vec::new();
        report::write_json(&report::Report::default(), results, &mut json).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["records"][5]["status"], "PASSED");
    }

    let (checked, findings) = run(&path, &pilot.options(false));
    assert_eq!((checked.counts.records, checked.counts.indeterminate), (6, 6));
    for index in 0..6 {
        assert_eq!(status(&checked, index), (Status::Indeterminate, Some(sub::NO_KEY_TO_OPEN)));
    }
    assert_eq!(findings.len(), 2, "one finding per facility and sub-indication: {findings:?}");
    assert!(findings.iter().all(|f| f.code == finding::RECORD_INDETERMINATE && f.message.starts_with("3 entries of")));

    // Another auditor's key opens nothing either.
    let other = RecordOptions { escrow_key: Some(RecipientKey::generate().unwrap()), ..pilot.options(true) };
    let (checked, _) = run(&path, &other);
    assert_eq!(status(&checked, 0), (Status::Indeterminate, Some(sub::NO_KEY_TO_OPEN)));
    assert!(reason(&checked, &path, 0).contains("not sealed to the escrow key"));
}

#[test]
fn an_altered_envelope_or_a_meta_that_is_not_the_entry_s_fails() {
    let mut pilot = Pilot::new();
    let f = pilot.facility("79001", Algorithm::EdDSA);
    pilot.record(f, T0);
    let altered = pilot.record(f, T0 + 10);
    // The envelope is the one the entry's digest pins, but its meta says sequence 9.
    let key = pilot.key(f, 0);
    let (jws, meta) = record::sign(&signer(&key, T0 + 20, SignOptions::default()), b"{\"a\":1}", Meta::new("r3", "79001", 9)).unwrap();
    let sealed =
        Envelope::seal(jws.as_bytes(), Meta { created: rfc3339(T0), ..meta.clone() }, &[&pilot.escrow.to_public()], Aead::Aes256Gcm)
            .unwrap()
            .to_protobuf()
            .unwrap();
    let mismatch = pilot.push(&Meta { sequence: 3, ..meta }, &sealed, T0 + 80, None);
    let path = pilot.write("bundle");
    let file = path.join(bundle::envelope_path(altered));
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, bytes).unwrap();

    let (checked, findings) = run(&path, &pilot.options(true));
    assert_eq!(status(&checked, 0), PASSED);
    assert_eq!(status(&checked, altered), failed(sub::HASH_FAILURE));
    assert_eq!(status(&checked, mismatch), failed(sub::HASH_FAILURE));
    assert!(reason(&checked, &path, mismatch).contains("sequence 9"), "{}", reason(&checked, &path, mismatch));
    let failed_at: Vec<_> = findings.iter().filter(|f| f.code == finding::RECORD_FAILED).map(|f| f.index.unwrap()).collect();
    assert_eq!(failed_at.len(), 2);
    assert!(failed_at.contains(&altered) && failed_at.contains(&mismatch));
    assert_eq!(checked.counts.failed, 2);
}

#[test]
fn keys_are_judged_at_the_trusted_time_revoked_foreign_late_or_not_yet_enrolled() {
    let mut pilot = Pilot::new();
    let a = pilot.facility("79001", Algorithm::EdDSA);
    let b = pilot.facility("79002", Algorithm::ES256);
    // 79001's second key: enrolled at T0 + 1 day, revoked at T0 + 3 days.
    let second = Arc::new(Key::generate(Algorithm::ES256).unwrap());
    pilot.facilities[a].keys.push((second.clone(), T0 + DAY, Some(T0 + 3 * DAY)));
    let before_enrolment = pilot.record_with(a, &second, T0 + 3600, T0 + 3660);
    let in_window = pilot.record_with(a, &second, T0 + 2 * DAY, T0 + 2 * DAY + 60);
    // Signed in the window, but received after the revocation.
    let after_revocation = pilot.record_with(a, &second, T0 + 3 * DAY - 60, T0 + 3 * DAY + 10);
    let foreign = {
        let key = pilot.key(b, 0);
        pilot.record_with(a, &key, T0, T0 + 60)
    };
    let first = pilot.key(a, 0);
    let future = pilot.record_with(a, &first, T0 + DAY, T0 + DAY - 3600);
    let stale = pilot.record_with(a, &first, T0 - 91 * DAY, T0);
    let skewed = pilot.record_with(a, &first, T0 + 200, T0);
    let path = pilot.write("bundle");

    let (checked, findings) = run(&path, &pilot.options(true));
    assert_eq!(status(&checked, before_enrolment), failed(sub::OUT_OF_BOUNDS_NO_POE));
    assert!(reason(&checked, &path, before_enrolment).contains("enrolled at"));
    assert_eq!(status(&checked, in_window), PASSED);
    assert_eq!(status(&checked, after_revocation), failed(sub::REVOKED));
    assert_eq!(status(&checked, foreign), failed(sub::NO_SIGNING_CERTIFICATE_FOUND));
    assert!(reason(&checked, &path, foreign).contains("a key of 79002"), "{}", reason(&checked, &path, foreign));
    assert_eq!(status(&checked, future), failed(sub::OUT_OF_BOUNDS_NO_POE));
    assert_eq!(status(&checked, stale), failed(sub::OUT_OF_BOUNDS_NO_POE));
    assert_eq!(status(&checked, skewed), PASSED, "300 s of clock skew are allowed");
    assert_eq!(findings.len(), 5, "{findings:?}");
    assert_eq!(checked.facilities["79001"].failed, 5);
}

#[test]
fn malformed_jws_and_jws_that_are_not_records_fail() {
    let mut pilot = Pilot::new();
    let f = pilot.facility("79001", Algorithm::EdDSA);
    let key = pilot.key(f, 0);
    let bad = pilot.seal(b"not a JWS", Meta::new("r1", "79001", 1), T0 + 60, None);
    // Signed by the facility's key, but as another kind of JWS.
    let other = signer(&key, T0, SignOptions { typ: Some("example+jws".into()), ..SignOptions::default() });
    let not_record = {
        let jws = other.sign(b"{\"a\":1}", medseal::Serialization::Flattened).unwrap();
        pilot.seal(jws.as_bytes(), Meta::new("r2", "79001", 2), T0 + 60, None)
    };
    let path = pilot.write("bundle");
    let (checked, _) = run(&path, &pilot.options(true));
    assert_eq!(status(&checked, bad), failed(sub::FORMAT_FAILURE));
    assert_eq!(status(&checked, not_record), failed(sub::SIG_CONSTRAINTS_FAILURE));
}

#[test]
fn a_signature_that_does_not_verify_with_the_named_key_is_a_crypto_failure() {
    let mut pilot = Pilot::new();
    let f = pilot.facility("79001", Algorithm::EdDSA);
    let key = pilot.key(f, 0);
    let (jws, meta) = record::sign(&signer(&key, T0, SignOptions::default()), b"{\"a\":1}", Meta::new("r1", "79001", 1)).unwrap();
    // Swap in the signature of another record by the same key: valid base64url, wrong bytes.
    let (other, _) = record::sign(&signer(&key, T0, SignOptions::default()), b"{\"a\":2}", Meta::new("r2", "79001", 2)).unwrap();
    let signature = |jws: &str| serde_json::from_str::<serde_json::Value>(jws).unwrap()["signature"].as_str().unwrap().to_owned();
    let forged = jws.replace(&signature(&jws), &signature(&other));
    let index = pilot.seal(forged.as_bytes(), meta, T0 + 60, None);
    let path = pilot.write("bundle");
    let (checked, _) = run(&path, &pilot.options(true));
    assert_eq!(status(&checked, index), failed(sub::SIG_CRYPTO_FAILURE));
}

#[test]
fn trust_lists_are_judged_at_the_record_s_time_even_years_after_they_expired() {
    let mut pilot = Pilot::new();
    let a = pilot.facility("79001", Algorithm::EdDSA);
    let b = pilot.facility("79002", Algorithm::ES256);
    // List 1: current for 90 days from T0 - 1 day, long expired by the audit; keys valid a year.
    pilot.trust_list(1, T0 - DAY, T0 + 89 * DAY, (T0 - DAY, T0 + 365 * DAY));
    // List 2: from T0 + 100 days, with windows that end at T0 + 120 days.
    pilot.trust_list(2, T0 + 100 * DAY, T0 + 190 * DAY, (T0 - DAY, T0 + 120 * DAY));
    let honest_a = pilot.record(a, T0 + 3600);
    let honest_b = pilot.record(b, T0 + 7200);
    // Received between the lists: no list was current.
    let uncovered = {
        let key = pilot.key(a, 0);
        pilot.record_with(a, &key, T0 + 95 * DAY, T0 + 95 * DAY + 60)
    };
    // sigT before the key's window in list 1.
    let outside = {
        let key = pilot.key(b, 0);
        pilot.record_with(b, &key, T0 - 2 * DAY, T0 + 60)
    };
    // Under list 2: signed inside the window, received within the 72 h grace after it: passes;
    // received a week after it ended: retired.
    let key = pilot.key(a, 0);
    let in_grace = pilot.record_with(a, &key, T0 + 120 * DAY - 60, T0 + 122 * DAY);
    let retired = pilot.record_with(a, &key, T0 + 120 * DAY - 60, T0 + 127 * DAY);
    let foreign = {
        let key = pilot.key(b, 0);
        pilot.record_with(a, &key, T0 + 3600, T0 + 3700)
    };
    let path = pilot.write("bundle");

    for at in [T0 + 200 * DAY, T0 + TEN_YEARS] {
        let (checked, findings) = run(&path, &RecordOptions { at, ..pilot.options(true) });
        assert!(checked.trust_lists);
        assert_eq!(status(&checked, honest_a), PASSED);
        assert_eq!(status(&checked, honest_b), PASSED);
        assert_eq!(status(&checked, in_grace), PASSED);
        assert_eq!(status(&checked, uncovered), (Status::Indeterminate, Some(sub::NO_TRUST_LIST)));
        assert_eq!(status(&checked, outside), failed(sub::OUT_OF_BOUNDS_NO_POE));
        assert_eq!(status(&checked, retired), failed(sub::OUT_OF_BOUNDS_NO_POE));
        assert_eq!(status(&checked, foreign), failed(sub::NO_SIGNING_CERTIFICATE_FOUND));
        assert!(!findings.iter().any(|f| f.code == finding::TRUST_LIST_INVALID), "{findings:?}");
    }

    // A list signed by a key that is not a trust-list key is not used, and is a finding...
    let mut forged = Pilot { dir: tempfile::tempdir().unwrap(), ..pilot };
    let (_, removed) = forged.list_keys.remove(0);
    let path = forged.write("forged");
    let (checked, findings) = run(&path, &forged.options(true));
    assert_eq!(status(&checked, honest_a), (Status::Indeterminate, Some(sub::NO_TRUST_LIST)));
    assert_eq!(findings.iter().filter(|f| f.code == finding::TRUST_LIST_INVALID).count(), 1, "{findings:?}");
    // ... unless the auditor gives that key (and the other list's).
    let key_of = |bytes: &[u8]| Arc::new(Key::import(bytes, None).unwrap());
    let department = vec![key_of(&removed), key_of(&forged.list_keys[0].1)];
    let given = RecordOptions { trust_list_keys: department.clone(), ..forged.options(true) };
    let (checked, findings) = run(&path, &given);
    assert_eq!(status(&checked, honest_a), PASSED);
    assert!(!findings.iter().any(|f| f.code == finding::TRUST_LIST_INVALID), "{findings:?}");

    // With the department's keys given, the bundle's own list keys are the hub's word and not
    // used: a list the hub signed with a key it put into the bundle is a finding, and judges nothing.
    let given_one = RecordOptions { trust_list_keys: vec![department[0].clone()], ..forged.options(true) };
    let (checked, findings) = run(&path, &given_one);
    assert_eq!(status(&checked, honest_a), PASSED, "list 1 is the department's");
    assert_eq!(status(&checked, in_grace).0, Status::Indeterminate, "list 2 is not: list 1 had expired when it was received");
    assert_eq!(findings.iter().filter(|f| f.code == finding::TRUST_LIST_INVALID).count(), 1, "{findings:?}");

    // A hub that drops trust-lists/ does not get its records judged by its own enrolment
    // history when the auditor gave the department's keys.
    let mut dropped = Pilot { dir: tempfile::tempdir().unwrap(), ..forged };
    dropped.lists.clear();
    dropped.list_keys.clear();
    let path = dropped.write("no-lists");
    let (checked, findings) = run(&path, &dropped.options(true));
    assert_eq!(status(&checked, honest_a), PASSED, "without the auditor's keys: enrolled keys, as documented");
    let (checked, findings_given) = run(&path, &RecordOptions { trust_list_keys: department.clone(), ..dropped.options(true) });
    assert!(checked.trust_lists);
    assert_eq!(status(&checked, honest_a), (Status::Indeterminate, Some(sub::NO_TRUST_LIST)));
    assert!(!findings.iter().any(|f| f.code == finding::TRUST_LIST_INVALID), "{findings:?}");
    assert!(
        findings_given.iter().any(|f| f.code == finding::TRUST_LIST_INVALID && f.message.contains("no trust list")),
        "{findings_given:?}"
    );
}

#[test]
fn a_trust_list_left_out_of_the_sequence_is_a_finding() {
    let mut pilot = Pilot::new();
    let a = pilot.facility("79001", Algorithm::EdDSA);
    for sequence in [1, 2, 3, 4, 5] {
        pilot.trust_list(sequence, T0 - DAY + sequence as i64, T0 + 89 * DAY, (T0 - DAY, T0 + 365 * DAY));
    }
    let record = pilot.record(a, T0 + 3600);
    let complete = pilot.write("complete");
    let (checked, findings) = run(&complete, &pilot.options(true));
    assert_eq!(status(&checked, record), PASSED);
    assert!(!findings.iter().any(|f| f.code == finding::TRUST_LIST_INVALID), "{findings:?}");
    // The hub leaves out lists 2 to 4, keeping 1 and 5.
    let mut holed = Pilot { dir: tempfile::tempdir().unwrap(), ..pilot };
    holed.lists.retain(|(sequence, _)| ![2, 3, 4].contains(sequence));
    let path = holed.write("holed");
    let (_, findings) = run(&path, &holed.options(true));
    let missing: Vec<&str> = findings.iter().filter(|f| f.code == finding::TRUST_LIST_INVALID).map(|f| f.message.as_str()).collect();
    assert_eq!(missing, ["trust lists 2 to 4 are missing between 1 and 5"], "{findings:?}");
}

#[test]
fn withdrawals_are_verified_and_counted_apart_from_records() {
    let mut pilot = Pilot::new();
    let f = pilot.facility("79001", Algorithm::EdDSA);
    pilot.record(f, T0);
    let withdrawn = pilot.withdrawal(f, T0 + 100, "queued by mistake", "queued by mistake");
    let lying = pilot.withdrawal(f, T0 + 200, "queued by mistake", "the patient asked");
    // A record whose entry says it is a withdrawal.
    let record = pilot.record(f, T0 + 300);
    pilot.entries[record as usize].0.withdrawn = Some("gone".into());
    let path = pilot.write("bundle");

    let (checked, findings) = run(&path, &pilot.options(true));
    assert_eq!(status(&checked, withdrawn), PASSED);
    assert!(checked.is_withdrawal(withdrawn) && !checked.is_withdrawal(0));
    assert_eq!(status(&checked, lying), failed(sub::SIG_CONSTRAINTS_FAILURE));
    assert_eq!(status(&checked, record), failed(sub::SIG_CONSTRAINTS_FAILURE));
    assert_eq!(checked.counts.records, 1);
    assert_eq!(checked.counts.passed, 1);
    assert_eq!((checked.counts.withdrawals, checked.counts.withdrawals_passed), (3, 1));
    assert_eq!(findings.len(), 2);
    assert!(findings.iter().all(|f| f.message.starts_with("the withdrawal of")));
}

#[test]
fn opened_records_are_used_when_the_bundle_has_them() {
    let mut pilot = Pilot::new();
    let f = pilot.facility("79001", Algorithm::EdDSA);
    let key = pilot.key(f, 0);
    let mut opened = Vec::new();
    for i in 0..3 {
        let (jws, meta) =
            record::sign(&signer(&key, T0 + i, SignOptions::default()), b"{\"b\":2}", Meta::new(format!("r{i}"), "79001", i as u64 + 1))
                .unwrap();
        // Sealed to the hub only: the escrow key cannot open them.
        let envelope =
            Envelope::seal(jws.as_bytes(), Meta { created: rfc3339(T0), ..meta.clone() }, &[&pilot.hub.to_public()], Aead::Aes256Gcm)
                .unwrap()
                .to_protobuf()
                .unwrap();
        let index = pilot.push(&meta, &envelope, T0 + 60, None);
        pilot.entries[index as usize].2 = Some(jws.as_bytes().to_vec());
        opened.push(index);
    }
    // An opened record that is not the envelope's: caught when the escrow key opens it.
    let sealed = pilot.record(f, T0 + 10);
    pilot.entries[sealed as usize].2 = pilot.entries[0].2.clone();
    let path = pilot.write("bundle");
    // An opened record altered after the export: its signature no longer verifies.
    let file = path.join(bundle::opened_path(2));
    let text = std::fs::read_to_string(&file).unwrap();
    let payload = serde_json::from_str::<serde_json::Value>(&text).unwrap()["payload"].as_str().unwrap().to_owned();
    std::fs::write(&file, text.replace(&payload, "eyJiIjozfQ")).unwrap(); // {"b":3}

    for escrow in [false, true] {
        let (checked, _) = run(&path, &pilot.options(escrow));
        assert_eq!(status(&checked, opened[0]), PASSED);
        assert_eq!(status(&checked, opened[1]), PASSED);
        assert_eq!(status(&checked, opened[2]), failed(sub::SIG_CRYPTO_FAILURE));
        let expected = if escrow { failed(sub::HASH_FAILURE) } else { PASSED };
        assert_eq!(status(&checked, sealed), expected, "escrow key given: {escrow}");
    }
}

#[test]
fn missing_envelopes_are_indeterminate_only_where_the_export_selected_them() {
    let mut pilot = Pilot::new();
    let a = pilot.facility("79001", Algorithm::EdDSA);
    let b = pilot.facility("79002", Algorithm::EdDSA);
    let kept = pilot.record(a, T0);
    let lost = pilot.record(a, T0 + 10);
    let other = pilot.record(b, T0 + 20);
    pilot.entries[lost as usize].1 = None;
    pilot.entries[other as usize].1 = None;
    pilot.selection.facilities = vec!["79001".into()];
    let path = pilot.write("bundle");
    let (checked, _) = run(&path, &pilot.options(true));
    assert_eq!(status(&checked, kept), PASSED);
    assert_eq!(status(&checked, lost), (Status::Indeterminate, Some(sub::SIGNED_DATA_NOT_FOUND)));
    assert_eq!(checked.status(other), None, "79002 was not exported");
    assert_eq!(checked.len(), 2);
}

#[test]
fn more_threads_give_the_same_results_and_findings_and_progress_reaches_the_total() {
    let mut pilot = Pilot::new();
    let a = pilot.facility("79001", Algorithm::EdDSA);
    let b = pilot.facility("79002", Algorithm::ES256);
    for i in 0..150 {
        pilot.record(if i % 3 == 0 { b } else { a }, T0 + i * 60);
    }
    // A few failures among them, and records nobody can open (in ledger order, the first
    // one names the group).
    for i in [7usize, 70, 140] {
        let digest = &mut pilot.entries[i].0.digest;
        digest[0] ^= 1;
    }
    for i in [20usize, 90, 130] {
        pilot.entries[i].2 = None;
        let key = pilot.key(a, 0);
        let (jws, meta) =
            record::sign(&signer(&key, T0, SignOptions::default()), b"{}", Meta::new(format!("x{i}"), "79001", 1000 + i as u64)).unwrap();
        let envelope =
            Envelope::seal(jws.as_bytes(), Meta { created: rfc3339(T0), ..meta.clone() }, &[&pilot.hub.to_public()], Aead::Aes256Gcm)
                .unwrap()
                .to_protobuf()
                .unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, &envelope).as_ref().try_into().unwrap();
        pilot.entries[i] = (
            LedgerEntry {
                record_id: meta.record_id,
                source: meta.source,
                sequence: meta.sequence,
                digest,
                received: T0 + 60,
                withdrawn: None,
            },
            Some(envelope),
            None,
        );
    }
    let path = pilot.write("bundle");
    let bundle = Bundle::open(&path).unwrap();
    let mut seen = Vec::new();
    for threads in [1, 2, 4, 7] {
        let done = Arc::new(AtomicU64::new(0));
        let progress = done.clone();
        let options = RecordOptions {
            threads,
            progress: Some(Arc::new(move |n| {
                progress.fetch_max(n, Ordering::SeqCst);
            })),
            ..pilot.options(true)
        };
        let mut findings = Vec::new();
        let checked = records::check(&bundle, &options, &mut findings).unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 150);
        assert_eq!((checked.counts.failed, checked.counts.indeterminate), (3, 3));
        let indeterminate: Vec<_> = findings.iter().filter(|f| f.code == finding::RECORD_INDETERMINATE).collect();
        assert_eq!(indeterminate.len(), 1);
        assert_eq!(indeterminate[0].index, Some(20));
        assert!(indeterminate[0].message.starts_with("3 entries of 79001"), "{}", indeterminate[0].message);
        let results: Vec<_> = checked.results(&bundle).unwrap().map(Result::unwrap).collect();
        seen.push((results, findings));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn an_unreadable_envelope_stops_the_check_with_an_error() {
    let mut pilot = Pilot::new();
    let f = pilot.facility("79001", Algorithm::EdDSA);
    let first = pilot.record(f, T0);
    // Many more entries than the channel holds, none with an envelope (and not selected).
    let template = pilot.entries[0].0.clone();
    for sequence in 2..600 {
        pilot.entries.push((LedgerEntry { sequence, record_id: format!("r{sequence}"), ..template.clone() }, None, None));
    }
    pilot.selection.facilities = vec!["another".into()];
    let path = pilot.write("bundle");
    let file = path.join(bundle::envelope_path(first));
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    let bundle = Bundle::open(&path).unwrap();
    let error = records::check(&bundle, &RecordOptions { threads: 1, ..pilot.options(true) }, &mut Vec::new()).unwrap_err();
    assert_eq!(error.code, "BUNDLE_UNREADABLE", "{error}");
}

/// The record id and sequence are not signed: a hub holding a record's plaintext could seal it
/// again under a missing number. The same signed record under two entries is a finding.
#[test]
fn one_signed_record_under_two_numbers_is_a_copy() {
    let mut pilot = Pilot::new();
    let a = pilot.facility("79001", Algorithm::EdDSA);
    let before = pilot.record(a, T0 + 60);
    let key = pilot.key(a, 0);
    let sequence = pilot.sequence(a);
    let (jws, meta) = record::sign(
        &signer(&key, T0 + 120, SignOptions::default()),
        br#"{"resourceType":"Patient","id":"copied"}"#,
        Meta::new("r-original".to_owned(), "79001".to_owned(), sequence),
    )
    .unwrap();
    let original = pilot.seal(jws.as_bytes(), meta, T0 + 180, None);
    let after = pilot.record(a, T0 + 200);
    let sequence = pilot.sequence(a);
    let copy = pilot.seal(jws.as_bytes(), Meta::new("r-copy".to_owned(), "79001".to_owned(), sequence), T0 + 300, None);
    let path = pilot.write("copied");
    for threads in [1, 3] {
        let (checked, findings) = run(&path, &RecordOptions { threads, ..pilot.options(true) });
        for index in [before, original, after, copy] {
            assert_eq!(status(&checked, index), PASSED, "the signature itself verifies");
        }
        let copies: Vec<&Finding> = findings.iter().filter(|f| f.code == finding::RECORD_COPIED).collect();
        assert_eq!(copies.len(), 1, "{findings:?}");
        assert_eq!((copies[0].index, copies[0].sequence, copies[0].facility.as_deref()), (Some(copy), Some(sequence), Some("79001")));
        assert!(copies[0].message.contains(&format!("entry at index {original}")), "{}", copies[0].message);
    }
}
