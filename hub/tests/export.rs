//! `hub export` (issue 11, point 1): the audit bundle of a real hub that received records over
//! mutual TLS from three facilities (one sealing to an auditor escrow key as well), a
//! withdrawal, and two trust lists in turn. Each bundle is read back with the audit crate's
//! reader, and held to what the hub signed.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{status, submitted, Facility, Pilot};
use medseal::ledger::{LedgerEntry, MerkleTree, TreeHead};
use medseal::record::{seal_signed, withdrawal_sign_options, Withdrawal};
use medseal::wire::{RecordStatus, SubmittedRecord};
use medseal::{Aead, DetachedPayload, Envelope, Key, Meta, RecipientKey, Signer, Verifier};
use medseal_audit::bundle::{self, Bundle, EntryLine};
use medseal_hub::{export, ExportOptions};

/// A pilot after its records: the hub stopped, the auditor's escrow key, what was sent.
struct Built {
    pilot: Pilot,
    escrow: RecipientKey,
    c: Facility,
    /// The trust lists the hub was given, in order (signed bytes).
    lists: Vec<Vec<u8>>,
    /// The ledger's size after each of the three phases (a second apart).
    phases: Vec<u64>,
}

fn now() -> i64 {
    medseal::utc::now()
}

/// A record of `facility` sealed to the hub and to each of `more`.
fn record_to(facility: &Facility, record_id: &str, sequence: u64, more: &[&RecipientKey]) -> SubmittedRecord {
    let document = format!(r#"{{"resourceType":"Observation","id":"{record_id}","status":"final"}}"#);
    let mut recipients = vec![&facility.hub_recipient];
    recipients.extend_from_slice(more);
    let meta = Meta::new(record_id, facility.id.as_str(), sequence);
    let envelope = seal_signed(&facility.signer, document.as_bytes(), meta, &recipients, Aead::Aes256Gcm).unwrap().to_protobuf().unwrap();
    submitted(record_id, envelope)
}

/// A's signed withdrawal of `sequence`.
fn withdrawal(facility: &Facility, record_id: &str, sequence: u64) -> SubmittedRecord {
    let key = Key::import(&std::fs::read(facility.dir.join("signing.key")).unwrap(), None).unwrap();
    let signer = Signer::new(Arc::new(key), withdrawal_sign_options()).unwrap();
    let payload =
        Withdrawal { source: facility.id.clone(), record_id: record_id.into(), sequence, reason: "sealed to the wrong hub".into() };
    let jws = payload.sign(&signer).unwrap();
    let meta = Meta::new(record_id, facility.id.as_str(), sequence);
    let envelope = Envelope::seal(jws.as_bytes(), meta, &[&facility.hub_recipient], Aead::Aes256Gcm).unwrap().to_protobuf().unwrap();
    submitted(record_id, envelope)
}

fn accept(facility: &Facility, pilot: &Pilot, records: &[SubmittedRecord]) {
    for result in facility.submit(&pilot.url("/v1/records"), records) {
        assert_eq!(status(&result), RecordStatus::Accepted, "{result:?}");
    }
}

/// The pilot: an escrow key named in hub.json before hospital C enrols (so C is handed it);
/// phase 1 with enrolled keys (A's records and withdrawal, B's record, C's record sealed to
/// the escrow key too); phase 2 with trust list #7, phase 3 with trust list #8 (another
/// department key), each a second later. Then the hub stops.
fn build() -> Built {
    let mut pilot = Pilot::new();
    let escrow = RecipientKey::generate().unwrap();
    std::fs::write(pilot.hub_dir.join("escrow-1.pub"), escrow.to_public().export(medseal::KeyFormat::SpkiPem).unwrap()).unwrap();
    let paths = medseal_hub::files::HubPaths::new(&pilot.hub_dir);
    let mut config = medseal_hub::HubConfig::load(&paths).unwrap();
    config.escrow_keys = vec!["escrow-1.pub".into()];
    config.save(&paths).unwrap();
    let c = Facility::enroll(&pilot.hub_dir, "hospital-c", &pilot.temp.path().join("c"));
    let handed = RecipientKey::import(&std::fs::read(c.dir.join("escrow-1.pub")).unwrap()).unwrap();
    assert_eq!(handed.kid(), escrow.kid(), "enroll hands out the escrow key");
    let facility_json: serde_json::Value = serde_json::from_slice(&std::fs::read(c.dir.join("facility.json")).unwrap()).unwrap();
    assert_eq!(facility_json["escrow_keys"], serde_json::json!([{"file": "escrow-1.pub", "kid": escrow.kid()}]));

    let mut phases = Vec::new();
    accept(&pilot.a, &pilot, &[record_to(&pilot.a, "a-1", 1, &[]), record_to(&pilot.a, "a-2", 2, &[])]);
    accept(&pilot.a, &pilot, &[withdrawal(&pilot.a, "a-3", 3)]);
    accept(&pilot.b, &pilot, &[record_to(&pilot.b, "b-1", 1, &[])]);
    accept(&c, &pilot, &[record_to(&c, "c-1", 1, &[&handed])]);
    phases.push(pilot.tree_head().0.tree_size);

    let mut lists = Vec::new();
    for (sequence, records) in [(7u64, [("a-4", 4u64), ("b-2", 2)]), (8, [("a-5", 5), ("b-3", 3)])] {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let window = (now() - 3600, now() + 3600);
        let entries = [&pilot.a, &pilot.b, &c].iter().map(|f| common::record_signing_entry(f, window)).collect();
        common::configure_trust_list(&pilot, entries, sequence, now() + 86_400);
        lists.push(std::fs::read(pilot.hub_dir.join("trust-list.jws")).unwrap());
        pilot.restart();
        accept(&pilot.a, &pilot, &[record_to(&pilot.a, records[0].0, records[0].1, &[])]);
        accept(&pilot.b, &pilot, &[record_to(&pilot.b, records[1].0, records[1].1, &[])]);
        accept(&c, &pilot, &[record_to(&c, &format!("c-{sequence}"), sequence, &[&handed])]);
        phases.push(pilot.tree_head().0.tree_size);
    }
    pilot.hub.take().unwrap().shutdown().unwrap();
    Built { pilot, escrow, c, lists, phases }
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for item in std::fs::read_dir(&folder).unwrap() {
            let path = item.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.strip_prefix(dir).unwrap().to_owned(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn export_to(built: &Built, name: &str, edit: impl FnOnce(&mut ExportOptions)) -> Bundle {
    let mut options = ExportOptions::new(&built.pilot.hub_dir, built.pilot.temp.path().join(name));
    edit(&mut options);
    let exported = export(&options, &mut |_| {}).unwrap();
    let bundle = Bundle::open(&exported.path).unwrap();
    assert!(bundle.check_files().is_empty(), "{:?}", bundle.check_files());
    assert_eq!(&exported.manifest, bundle.manifest());
    bundle
}

/// The lines of the bundle's ledger, and the tree they rebuild, checked against every signed
/// tree head of the bundle (verified with the bundle's tree-head key): the latest covers them all.
fn rebuild(bundle: &Bundle) -> (Vec<EntryLine>, TreeHead) {
    let lines: Vec<EntryLine> = bundle.entries().unwrap().map(|r| r.unwrap().1.unwrap()).collect();
    let mut tree = MerkleTree::new();
    for line in &lines {
        tree.push(line.leaf_hash());
    }
    let keys = Verifier::new(vec![Arc::new(Key::import(&bundle.tree_head_key().unwrap(), None).unwrap())]);
    let heads: Vec<TreeHead> = bundle.tree_heads().unwrap().iter().map(|jws| TreeHead::verify(jws.as_bytes(), &keys).unwrap()).collect();
    assert!(heads.windows(2).all(|w| w[0].tree_size < w[1].tree_size), "tree heads by increasing size");
    for head in &heads {
        assert_eq!(tree.root(head.tree_size).unwrap(), head.root_hash, "the head of size {}", head.tree_size);
    }
    let latest = *heads.last().unwrap();
    assert_eq!(latest.tree_size, lines.len() as u64);
    assert_eq!(bundle.manifest().ledger.tree_heads, heads.len() as u64);
    (lines, latest)
}

fn full(line: &EntryLine) -> Option<&LedgerEntry> {
    match line {
        EntryLine::Entry(entry) => Some(entry),
        EntryLine::Redacted(_) => None,
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().try_into().unwrap()
}

#[test]
fn an_export_holds_every_file_and_rebuilds_the_hubs_signed_root() {
    let built = build();
    let hub_dir = &built.pilot.hub_dir;
    // A revocation with its reason, to be found in facilities.json.
    let b_certificate = medseal_hub::pki::fingerprint_pem(&std::fs::read_to_string(built.pilot.b.dir.join("client.pem")).unwrap()).unwrap();
    let revoked_at = now() + 3600;
    medseal_hub::revoke(hub_dir, &medseal_hub::Revocable::Certificate(b_certificate.clone()), revoked_at, "laptop stolen").unwrap();
    let before = snapshot(hub_dir);

    let bundle = export_to(&built, "all", |_| {});
    assert_eq!(snapshot(hub_dir), before, "the export changed or added a file in the hub directory");

    // The ledger rebuilds the latest root the hub signed (its own tree-head key, from its dir).
    let (lines, latest) = rebuild(&bundle);
    let hub_keys = common::verifier(&hub_dir.join("tree-head.pub"));
    let db = rusqlite::Connection::open_with_flags(hub_dir.join("hub.sqlite"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let hub_latest: String = db.query_row("SELECT jws FROM tree_heads ORDER BY tree_size DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    let heads: i64 = db.query_row("SELECT COUNT(*) FROM tree_heads", [], |r| r.get(0)).unwrap();
    drop(db);
    assert_eq!(TreeHead::verify(hub_latest.as_bytes(), &hub_keys).unwrap(), latest);
    assert_eq!(lines.len() as u64, *built.phases.last().unwrap());
    let manifest = bundle.manifest();
    let size = lines.len() as u64;
    assert_eq!(
        (manifest.ledger.size, manifest.ledger.entries, manifest.ledger.redacted, manifest.ledger.envelopes, manifest.ledger.opened),
        (size, size, 0, size, 0)
    );
    assert_eq!(manifest.ledger.tree_heads, heads as u64);
    assert_eq!((manifest.format.as_str(), manifest.version), (bundle::FORMAT, bundle::VERSION));
    assert!(manifest.tool.starts_with("medseal ") && medseal::utc::parse(&manifest.exported).is_some());
    assert_eq!(manifest.selection, bundle::Selection::default());

    // Every envelope is there, as received: its SHA-256 is its entry's digest. The withdrawal
    // is an entry like the others, with its envelope.
    for (index, line) in lines.iter().enumerate() {
        let entry = full(line).expect("nothing is redacted");
        let envelope = bundle.envelope(index as u64).unwrap().unwrap_or_else(|| panic!("no envelope for {index}"));
        assert_eq!(sha256(&envelope), entry.digest, "entry {index}");
    }
    let withdrawn: Vec<&LedgerEntry> = lines.iter().filter_map(full).filter(|e| e.withdrawn.is_some()).collect();
    assert_eq!(withdrawn.len(), 1);
    assert_eq!((withdrawn[0].source.as_str(), withdrawn[0].sequence), ("hospital-a", 3));

    // C's envelopes name the escrow key as a recipient, and the auditor opens them with it.
    let c_key = Verifier::new(vec![Arc::new(built.c.signer.key().to_public())]);
    let mut escrowed = 0;
    for (index, line) in lines.iter().enumerate() {
        let envelope = Envelope::from_protobuf(&bundle.envelope(index as u64).unwrap().unwrap()).unwrap();
        let kids: Vec<&str> = envelope.recipients.iter().map(|r| r.kid.as_str()).collect();
        if full(line).unwrap().source == "hospital-c" {
            assert_eq!(kids.len(), 2, "{kids:?}");
            assert!(kids.contains(&built.escrow.kid()));
            let record = envelope.open(&built.escrow).unwrap();
            c_key.verify(&record, DetachedPayload::None).unwrap();
            escrowed += 1;
        } else {
            assert!(!kids.contains(&built.escrow.kid()));
            assert_eq!(envelope.open(&built.escrow).unwrap_err().code(), medseal::ResultCode::MEDSEAL_SEAL_WRONG_RECIPIENT);
        }
    }
    assert_eq!(escrowed, 3);

    // The hub's public keys and CA, as in its directory.
    for (name, file) in [(bundle::TREE_HEAD_KEY, "tree-head.pub"), (bundle::RECEIPT_KEY, "receipt.pub"), (bundle::HUB_CA, "ca.pem")] {
        assert_eq!(std::fs::read(bundle.path(name)).unwrap(), before[Path::new(file)], "{name}");
    }

    // Every enrolled name, auditors included, with keys and certificates and their history.
    let facilities = bundle.facilities().unwrap();
    let names: Vec<(&str, &str)> = facilities.iter().map(|f| (f.facility.as_str(), f.role.as_str())).collect();
    assert_eq!(names, [("city-auditor", "auditor"), ("hospital-a", "facility"), ("hospital-b", "facility"), ("hospital-c", "facility")]);
    let a = &facilities[1];
    assert_eq!(a.keys.len(), 1);
    assert_eq!(a.keys[0].kid, built.pilot.a.signer.key().kid());
    assert_eq!(Key::import(a.keys[0].public_key.as_bytes(), None).unwrap().kid(), a.keys[0].kid);
    assert!(medseal::utc::parse(&a.keys[0].added).is_some() && a.keys[0].revoked.is_none());
    assert!(facilities[0].keys.is_empty() && facilities[0].client_certificates.len() == 1);
    let b = &facilities[2];
    assert_eq!(b.client_certificates.len(), 1);
    let certificate = &b.client_certificates[0];
    assert_eq!(certificate.fingerprint, b_certificate);
    assert_eq!(medseal_hub::pki::fingerprint_pem(&certificate.certificate).unwrap(), b_certificate);
    assert_eq!(certificate.revoked.as_deref(), Some(medseal::utc::format(revoked_at).unwrap().as_str()));
    assert_eq!(certificate.revoked_reason.as_deref(), Some("laptop stolen"));

    // Both trust lists the hub verified records with, byte for byte, and both department keys.
    let lists = bundle.trust_lists().unwrap();
    let expected: Vec<(String, Vec<u8>)> = [7u64, 8]
        .iter()
        .zip(&built.lists)
        .map(|(sequence, bytes)| (bundle::trust_list_path(*sequence).rsplit('/').next().unwrap().to_owned(), bytes.clone()))
        .collect();
    assert_eq!(lists, expected);
    let keys = bundle.trust_list_keys().unwrap();
    assert_eq!(keys.len(), 2, "one department key per list in this test");
    for (name, pem) in &keys {
        assert_eq!(format!("{}.pub", Key::import(pem, None).unwrap().kid()), *name);
    }
}

#[test]
fn a_facility_selection_redacts_the_others_but_the_root_still_rebuilds() {
    let built = build();
    let bundle = export_to(&built, "only-a", |o| o.facilities = vec!["hospital-a".into()]);
    let (lines, _) = rebuild(&bundle);
    let mut redacted = 0;
    for (index, line) in lines.iter().enumerate() {
        match full(line) {
            Some(entry) => {
                assert_eq!(entry.source, "hospital-a");
                assert_eq!(sha256(&bundle.envelope(index as u64).unwrap().unwrap()), entry.digest);
            }
            None => {
                redacted += 1;
                assert_eq!(bundle.envelope(index as u64).unwrap(), None, "no envelope of another facility ({index})");
            }
        }
    }
    let a_entries = lines.len() as u64 - redacted;
    assert_eq!(a_entries, 5, "A's four records and its withdrawal");
    let manifest = bundle.manifest();
    assert_eq!((manifest.ledger.entries, manifest.ledger.redacted, manifest.ledger.envelopes), (a_entries, redacted, a_entries));
    assert_eq!(manifest.selection.facilities, ["hospital-a"]);
    // The other facilities' entries are in the bundle's text as leaf hashes only.
    let text = std::fs::read_to_string(bundle.path(bundle::ENTRIES)).unwrap();
    assert!(!text.contains("hospital-b") && !text.contains("hospital-c"));
}

#[test]
fn from_and_to_select_the_envelopes_of_records_received_in_between() {
    let built = build();
    // The whole ledger, to read when each entry was received.
    let all = export_to(&built, "all", |_| {});
    let entries: Vec<LedgerEntry> = all.entries().unwrap().map(|r| full(&r.unwrap().1.unwrap()).unwrap().clone()).collect();
    let (first, second) = (built.phases[0] as usize, built.phases[1] as usize);
    let middle = &entries[first..second];
    let (from, to) = (middle.iter().map(|e| e.received).min().unwrap(), middle.iter().map(|e| e.received).max().unwrap());
    assert!(entries[first - 1].received < from && entries[second].received > to, "the phases are a second apart");

    let bundle = export_to(&built, "middle", |o| {
        o.from = Some(from);
        o.to = Some(to);
    });
    let (lines, _) = rebuild(&bundle);
    assert!(lines.iter().all(|l| full(l).is_some()), "--from/--to select envelopes, not entries");
    for index in 0..lines.len() {
        let inside = (first..second).contains(&index);
        assert_eq!(bundle.envelope(index as u64).unwrap().is_some(), inside, "entry {index}");
    }
    let selection = &bundle.manifest().selection;
    assert_eq!(selection.from.as_deref(), Some(medseal::utc::format(from).unwrap().as_str()));
    assert_eq!(selection.to.as_deref(), Some(medseal::utc::format(to).unwrap().as_str()));
    assert_eq!(bundle.manifest().ledger.envelopes, (second - first) as u64);

    // Only --from: the later phases.
    let bundle = export_to(&built, "later", |o| o.from = Some(from));
    assert_eq!(bundle.manifest().ledger.envelopes, (entries.len() - first) as u64);
}

#[test]
fn opened_records_are_the_signed_records_and_withdrawals_and_verify() {
    let built = build();
    let bundle = export_to(&built, "opened", |o| {
        o.opened = true;
        o.facilities = vec!["hospital-a".into(), "hospital-c".into()];
    });
    let (lines, _) = rebuild(&bundle);
    let key_of = |source: &str| {
        let facility = match source {
            "hospital-a" => &built.pilot.a,
            "hospital-c" => &built.c,
            other => panic!("{other} was not selected"),
        };
        Verifier::new(vec![Arc::new(facility.signer.key().to_public())])
    };
    let mut opened = 0;
    for (index, line) in lines.iter().enumerate() {
        let Some(entry) = full(line) else {
            assert_eq!(bundle.opened(index as u64).unwrap(), None);
            continue;
        };
        let jws = bundle.opened(index as u64).unwrap().unwrap();
        let verifier = key_of(&entry.source);
        if entry.withdrawn.is_some() {
            let w = medseal::record::verify_withdrawal(&verifier, &jws).unwrap();
            assert_eq!((w.source.as_str(), w.sequence), (entry.source.as_str(), entry.sequence));
        } else {
            medseal::record::verify(&verifier, &jws).unwrap();
            let envelope = Envelope::from_protobuf(&bundle.envelope(index as u64).unwrap().unwrap()).unwrap();
            assert_eq!((envelope.meta.record_id.as_str(), envelope.meta.sequence), (entry.record_id.as_str(), entry.sequence));
        }
        opened += 1;
    }
    assert_eq!(opened, 8);
    let manifest = bundle.manifest();
    assert!(manifest.selection.opened);
    assert_eq!((manifest.ledger.opened, manifest.ledger.envelopes), (8, 8));
    assert!(!manifest.files.keys().any(|f| f.starts_with("opened/") || f.starts_with("envelopes/")));
}

#[test]
fn refusals_leave_nothing_behind_and_a_running_hub_can_be_exported() {
    let mut built = build();
    let hub_dir = built.pilot.hub_dir.clone();
    let out_dir = built.pilot.temp.path().join("exports");
    std::fs::create_dir(&out_dir).unwrap();
    let options = |name: &str| ExportOptions::new(&hub_dir, out_dir.join(name));
    let fails = |options: &ExportOptions| export(options, &mut |_| {}).unwrap_err();

    // An existing output is refused and left as it was.
    std::fs::create_dir(out_dir.join("taken")).unwrap();
    std::fs::write(out_dir.join("taken/notes.txt"), "mine").unwrap();
    assert_eq!(fails(&options("taken")).code, "BUNDLE_EXISTS");
    assert_eq!(std::fs::read(out_dir.join("taken/notes.txt")).unwrap(), b"mine");
    // An unknown facility, a directory that is not a hub.
    let error = fails(&ExportOptions { facilities: vec!["hospital-z".into()], ..options("z") });
    assert_eq!(error.code, "UNKNOWN_FACILITY");
    assert!(error.message.contains("hospital-z") && error.message.contains("hospital-a"), "{}", error.message);
    assert_eq!(fails(&ExportOptions::new(built.pilot.temp.path(), out_dir.join("x"))).code, "NOT_A_HUB");

    // An export that fails halfway (an envelope altered in a copy of the hub, which --opened
    // cannot open) leaves no bundle and no temporary folder.
    let copy = built.pilot.temp.path().join("hub-copy");
    std::fs::create_dir(&copy).unwrap();
    for (name, bytes) in snapshot(&hub_dir) {
        std::fs::write(copy.join(name), bytes).unwrap();
    }
    let db = rusqlite::Connection::open(copy.join("hub.sqlite")).unwrap();
    let last: i64 = db.query_row("SELECT MAX(ledger_index) FROM records", [], |r| r.get(0)).unwrap();
    db.execute("UPDATE records SET envelope = x'00' WHERE ledger_index = ?1", [last]).unwrap();
    drop(db);
    let error = fails(&ExportOptions { opened: true, ..ExportOptions::new(&copy, out_dir.join("broken")) });
    assert_eq!(error.code, "EXPORT_FAILED");
    assert!(error.message.contains(&format!("ledger entry {last}")), "{}", error.message);
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["taken"], "a refused or failed export left something");

    // A running hub is exported as it stands (through its write-ahead log), and the bundle
    // matches the one made once it stopped.
    let stopped = export_to(&built, "stopped", |_| {});
    built.pilot.hub = Some(medseal_hub::start(&hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap());
    let running = export_to(&built, "running", |_| {});
    assert_eq!(std::fs::read(running.path(bundle::ENTRIES)).unwrap(), std::fs::read(stopped.path(bundle::ENTRIES)).unwrap());
    assert_eq!(running.manifest().ledger, stopped.manifest().ledger);
}

#[test]
fn a_version_2_database_is_exported_then_upgraded_to_keep_trust_lists() {
    let mut pilot = Pilot::new();
    assert_eq!(status(&pilot.a.submit(&pilot.url("/v1/records"), &[pilot.a.record("v2-1", 1)])[0]), RecordStatus::Accepted);
    pilot.hub.take().unwrap().shutdown().unwrap();
    let db_path = pilot.hub_dir.join("hub.sqlite");
    let db = rusqlite::Connection::open(&db_path).unwrap();
    db.execute_batch("DROP TABLE trust_lists; DROP TABLE trust_list_keys; PRAGMA user_version = 2;").unwrap();
    drop(db);

    // Read as it is: no trust lists, nothing changed.
    let before = snapshot(&pilot.hub_dir);
    let out = pilot.temp.path().join("v2");
    export(&ExportOptions::new(&pilot.hub_dir, &out), &mut |_| {}).unwrap();
    assert_eq!(snapshot(&pilot.hub_dir), before);
    let bundle = Bundle::open(&out).unwrap();
    assert!(bundle.trust_lists().unwrap().is_empty() && bundle.manifest().ledger.envelopes == 1);

    // The hub upgrades it in place, and from then on keeps the lists it uses.
    let window = (now() - 3600, now() + 3600);
    common::configure_trust_list(&pilot, vec![common::record_signing_entry(&pilot.a, window)], 3, now() + 86_400);
    pilot.hub = Some(medseal_hub::start(&pilot.hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap());
    let db = rusqlite::Connection::open_with_flags(&db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    assert_eq!(db.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), 3);
    let kept: (i64, Vec<u8>) = db.query_row("SELECT sequence, jws FROM trust_lists", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(kept, (3, std::fs::read(pilot.hub_dir.join("trust-list.jws")).unwrap()));
    drop(db);
    assert_eq!(status(&pilot.a.submit(&pilot.url("/v1/records"), &[pilot.a.record("v2-2", 2)])[0]), RecordStatus::Accepted);

    // A changed list under a number already used is refused: the audit keeps one per number.
    pilot.hub.take().unwrap().shutdown().unwrap();
    common::configure_trust_list(&pilot, vec![common::record_signing_entry(&pilot.a, window)], 3, now() + 86_400);
    let error = medseal_hub::start(&pilot.hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap_err();
    assert!(error.to_string().contains("trust list #3"), "{error}");
}
