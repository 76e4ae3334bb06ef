//! The auditor's toolkit end to end (issue 11): a real pilot (the `medseal hub serve` process,
//! two hospitals delivering a few thousand records over mutual TLS, a key rollover, a withdrawn
//! record), exported with `medseal hub export` and audited with `medseal audit`. Clean, it
//! passes (exit 0), today and ten years ahead; then each trick of a dishonest hub operator gives
//! exit 1 with its finding: an envelope altered, entries deleted and the log re-signed (caught by
//! a hospital's outbox and tree heads), a sequence removed, a record let in under a revoked key,
//! and a forked log (two hubs from one state showing two hospitals different histories).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use medseal::ledger::{tree_head_sign_options, LedgerEntry, MerkleTree, TreeHead};
use medseal::outbox::{Outbox, OutboxConfig, State};
use medseal::{Key, RecipientKey, Serialization, SignOptions, Signer};
use medseal_audit::bundle::{self, Bundle, BundleWriter, EntryLine};
use serde_json::{json, Value};
use support::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_medseal");
const DAY: i64 = 86_400;

fn s(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

fn medseal(args: &[&str]) -> Output {
    Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = medseal(args);
    assert!(out.status.success(), "medseal {args:?}: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn now() -> i64 {
    medseal::utc::now()
}

/// A hospital: its directory (facility init + hub enroll), its outbox and its signing keys.
struct Hospital {
    id: &'static str,
    dir: PathBuf,
    outbox: PathBuf,
    keys: Vec<Arc<Key>>,
    next: u64,
}

impl Hospital {
    fn config(&self) -> OutboxConfig {
        // Sealed to the hub and to the auditors' escrow key that enrolment handed out.
        let hub = RecipientKey::import(&fs::read(self.dir.join("hub-recipient.pub")).unwrap()).unwrap();
        let escrow = RecipientKey::import(&fs::read(self.dir.join("escrow-1.pub")).unwrap()).unwrap();
        let mut config = OutboxConfig::new(&self.outbox, self.id, vec![hub, escrow]);
        config.signing_keys = self.keys.iter().map(|k| Arc::new(k.to_public())).collect();
        config
    }

    /// A record signer with key `key`, its `sigT` `signed_at` (or now).
    fn signer(&self, key: usize, signed_at: Option<i64>) -> Signer {
        Signer::new(self.keys[key].clone(), SignOptions { signing_time: signed_at, ..SignOptions::default() }).unwrap()
    }

    /// Signs and enqueues `n` records with signing key `key` (sigT = `signed_at`, or now).
    fn enqueue(&mut self, n: u64, key: usize, signed_at: Option<i64>) -> Vec<String> {
        let outbox = Outbox::open(self.config()).unwrap();
        let signer = self.signer(key, signed_at);
        let mut ids = Vec::new();
        let mut records = Vec::new();
        for _ in 0..n {
            self.next += 1;
            let id = format!("{}-2026-{:06}", self.id, self.next);
            let document = format!(
                r#"{{"id":"{id}","resourceType":"Observation","status":"final","valueQuantity":{{"unit":"mmol/L","value":{}}}}}"#,
                self.next % 97
            );
            records.push((id.clone(), signer.sign(document.as_bytes(), Serialization::Flattened).unwrap()));
            ids.push(id);
        }
        for chunk in records.chunks(500) {
            let batch: Vec<(&str, &[u8])> = chunk.iter().map(|(id, jws)| (id.as_str(), jws.as_bytes())).collect();
            outbox.enqueue_signed_batch(&batch).unwrap();
        }
        ids
    }

    fn deliver(&self, url: &str) -> Output {
        medseal(&[
            "outbox",
            "deliver",
            "--outbox",
            &s(&self.outbox),
            "--facility-dir",
            &s(&self.dir),
            "--hub",
            url,
            "--until-empty",
            "--batch-size",
            "200",
        ])
    }

    fn tree_heads(&self, out: &Path) -> String {
        fs::write(out, ok(&["outbox", "tree-heads", "--outbox", &s(&self.outbox), "--json"])).unwrap();
        s(out)
    }
}

/// `medseal hub serve`, stopped when dropped.
struct HubProcess {
    child: Child,
    url: String,
}

impl HubProcess {
    fn start(dir: &Path, log: &Path) -> HubProcess {
        let out_path = log.with_extension("out");
        let mut child = Command::new(BIN)
            .args(["hub", "serve", "--dir", &s(dir), "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out_path).unwrap())
            .stderr(fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = fs::read_to_string(&out_path).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.starts_with("listening on https://")).filter(|_| text.ends_with('\n')) {
                let url = line.trim_start_matches("listening on ").to_owned();
                return HubProcess { child, url };
            }
            assert!(child.try_wait().unwrap().is_none(), "the hub exited: {}", fs::read_to_string(log).unwrap_or_default());
            assert!(Instant::now() < deadline, "the hub did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one `medseal audit` run said.
struct Audit {
    code: i32,
    path: String,
    report: Value,
    stderr: String,
}

impl Audit {
    fn findings(&self) -> Vec<String> {
        self.report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_owned()).collect()
    }

    fn has(&self, code: &str) -> bool {
        self.findings().iter().any(|c| c == code)
    }
}

fn audit(tmp: &TempDir, bundle: &Path, extra: &[&str]) -> Audit {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let report = tmp.0.join(format!("report-{n}.json"));
    let mut args = vec!["audit".to_owned(), s(bundle), "--json".into(), s(&report)];
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = medseal(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = serde_json::from_slice(&fs::read(&report).unwrap_or_else(|e| panic!("no report ({e}): {stderr}"))).unwrap();
    Audit { code: out.status.code().unwrap(), path: s(&tmp.0.join(format!("report-{n}.json"))), report, stderr }
}

/// The operator's export: the envelopes as received (the auditor opens them with the escrow
/// key), or with `opened` the records opened by the hub.
fn export(hub_dir: &Path, out: &Path, opened: bool) {
    let mut args = vec!["hub", "export", "--dir", hub_dir.to_str().unwrap(), "--out", out.to_str().unwrap()];
    if opened {
        args.push("--opened");
    }
    ok(&args);
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for item in fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            fs::copy(item.path(), target).unwrap();
        }
    }
}

/// A dishonest operator's rewrite of a bundle: only the entries `keep` keeps, renumbered, every
/// file re-pinned, and one new tree head over the new log signed with the hub's own key. The
/// bundle alone is then self-consistent.
fn rewrite(from: &Path, to: &Path, hub_dir: &Path, keep: impl Fn(&LedgerEntry) -> bool) {
    let old = Bundle::open(from).unwrap();
    let mut writer = BundleWriter::create(to).unwrap();
    let mut tree = MerkleTree::new();
    let mut lines = Vec::new();
    let mut envelopes = 0;
    let mut opened = 0;
    for item in old.entries().unwrap() {
        let (index, line) = item.unwrap();
        let line = line.unwrap();
        if let EntryLine::Entry(entry) = &line {
            if !keep(entry) {
                continue;
            }
        }
        let new_index = tree.len();
        tree.push(line.leaf_hash());
        lines.extend(line.to_line());
        lines.push(b'\n');
        if let Some(envelope) = old.envelope(index).unwrap() {
            writer.write(&bundle::envelope_path(new_index), &envelope).unwrap();
            envelopes += 1;
        }
        if let Some(record) = old.opened(index).unwrap() {
            writer.write(&bundle::opened_path(new_index), &record).unwrap();
            opened += 1;
        }
    }
    writer.write(bundle::ENTRIES, &lines).unwrap();
    let key = Key::import(&fs::read(hub_dir.join("tree-head.key")).unwrap(), None).unwrap();
    let signer = Signer::new(Arc::new(key), tree_head_sign_options()).unwrap();
    let head = TreeHead { tree_size: tree.len(), root_hash: tree.root(tree.len()).unwrap(), timestamp: now() };
    writer.write(bundle::TREE_HEADS, format!("{}\n", head.sign(&signer).unwrap()).as_bytes()).unwrap();
    for name in old.manifest().files.keys().filter(|n| *n != bundle::ENTRIES && *n != bundle::TREE_HEADS) {
        writer.write(name, &fs::read(old.path(name)).unwrap()).unwrap();
    }
    let mut manifest = old.manifest().clone();
    manifest.ledger.size = tree.len();
    manifest.ledger.entries = tree.len();
    manifest.ledger.tree_heads = 1;
    manifest.ledger.envelopes = envelopes;
    manifest.ledger.opened = opened;
    writer.finish(manifest).unwrap();
}

/// The pilot: a hub and two hospitals, A (with a key rollover) and B (with a withdrawn record).
struct Pilot {
    tmp: TempDir,
    hub_dir: PathBuf,
    hub: Option<HubProcess>,
    escrow: String,
    a: Hospital,
    b: Hospital,
}

impl Pilot {
    fn new() -> Pilot {
        let tmp = TempDir::new("audit");
        let hub_dir = tmp.0.join("hub");
        // The auditors' escrow key: its private half stays with them; the hub hands out the
        // public half at enrolment.
        let (escrow, escrow_public) = (tmp.path("escrow.key"), tmp.path("escrow.pub"));
        ok(&["key", "generate", "--alg", "x25519", "--out", &escrow]);
        fs::write(&escrow_public, ok(&["key", "public", &escrow])).unwrap();
        ok(&["hub", "init", "--dir", &s(&hub_dir), "--escrow-key", &escrow_public]);
        let mut hospitals = Vec::new();
        for id in ["79001", "79002"] {
            let dir = tmp.0.join(id);
            ok(&["facility", "init", "--facility", id, "--dir", &s(&dir)]);
            ok(&[
                "hub",
                "enroll",
                "--dir",
                &s(&hub_dir),
                "--facility",
                id,
                "--signing-key",
                &s(&dir.join("signing.pub")),
                "--csr",
                &s(&dir.join("client.csr")),
                "--out",
                &s(&dir),
            ]);
            let key = Arc::new(Key::import(&fs::read(dir.join("signing.key")).unwrap(), None).unwrap());
            hospitals.push(Hospital { id, outbox: tmp.0.join(format!("{id}-outbox.sqlite")), dir, keys: vec![key], next: 0 });
        }
        let b = hospitals.pop().unwrap();
        let a = hospitals.pop().unwrap();
        let hub = Some(HubProcess::start(&hub_dir, &tmp.0.join("hub.log")));
        Pilot { tmp, hub_dir, hub, escrow, a, b }
    }

    fn url(&self) -> String {
        self.hub.as_ref().unwrap().url.clone()
    }

    /// A rolls its signing key over: a new key, enrolled next to the old one (`--force` keeps
    /// the earlier keys), used from now on.
    fn roll_over_a(&mut self) -> String {
        let key_path = self.a.dir.join("signing-2.key");
        let public = self.a.dir.join("signing-2.pub");
        ok(&["key", "generate", "--alg", "ed25519", "--out", &s(&key_path)]);
        fs::write(&public, ok(&["key", "public", &s(&key_path)])).unwrap();
        let dir = s(&self.a.dir);
        ok(&[
            "hub",
            "enroll",
            "--dir",
            &s(&self.hub_dir),
            "--facility",
            self.a.id,
            "--signing-key",
            &public.to_string_lossy(),
            "--csr",
            &s(&self.a.dir.join("client.csr")),
            "--out",
            &dir,
            "--force",
        ]);
        self.a.keys.push(Arc::new(Key::import(&fs::read(&key_path).unwrap(), None).unwrap()));
        self.a.keys[0].kid().to_owned()
    }
}

#[test]
fn an_honest_pilot_passes_and_each_trick_of_a_dishonest_hub_is_found() {
    let mut pilot = Pilot::new();
    let url = pilot.url();

    // A: 1,200 records, a key rollover, 600 more with the new key.
    pilot.a.enqueue(1_200, 0, None);
    assert!(pilot.a.deliver(&url).status.success());
    let old_kid = pilot.roll_over_a();
    pilot.a.enqueue(600, 1, None);
    assert!(pilot.a.deliver(&url).status.success());

    // B: 900 records, one of them signed 200 days ago: the hub refuses it (signing time), the
    // hospital withdraws its number with a signed tombstone, which the hub ledgers.
    pilot.b.enqueue(450, 0, None);
    pilot.b.enqueue(1, 0, Some(now() - 200 * DAY));
    pilot.b.enqueue(449, 0, None);
    let _ = pilot.b.deliver(&url);
    let outbox = Outbox::open(pilot.b.config()).unwrap();
    let dead = outbox.list(Some(State::DeadLetter), 10).unwrap();
    assert_eq!(dead.len(), 1, "the backdated record is a dead letter");
    let tombstones = Signer::new(pilot.b.keys[0].clone(), medseal::record::withdrawal_sign_options()).unwrap();
    outbox.withdraw_signed(dead[0].outbox_id, "signed with a wrong clock", &tombstones).unwrap();
    drop(outbox);
    assert!(pilot.b.deliver(&url).status.success());

    // The honest export passes, today and ten years ahead.
    let clean = pilot.tmp.0.join("clean");
    export(&pilot.hub_dir, &clean, false);
    let key = pilot.escrow.clone();
    let b_heads = pilot.b.tree_heads(&pilot.tmp.0.join("b-heads.json"));
    let html = pilot.tmp.0.join("clean.html");
    let (report_key, report_public) = (pilot.tmp.path("auditor.key"), pilot.tmp.path("auditor.pub"));
    ok(&["key", "generate", "--alg", "ed25519", "--out", &report_key]);
    fs::write(&report_public, ok(&["key", "public", &report_key])).unwrap();
    let evidence = ["--key", &key, "--outbox", &s(&pilot.a.outbox), "--outbox", &s(&pilot.b.outbox), "--tree-head", &b_heads];
    let mut args = evidence.to_vec();
    args.extend(["--html", html.to_str().unwrap(), "--sign-report", &report_key]);
    let run = audit(&pilot.tmp, &clean, &args);
    assert_eq!(run.code, 0, "findings: {:?}\n{}", run.findings(), run.stderr);
    let summary = &run.report["summary"];
    assert_eq!(summary["records"], 2_699);
    assert_eq!(summary["passed"], 2_699);
    assert_eq!(summary["withdrawn"], 1);
    assert_eq!(summary["facilities"], 2);
    assert_eq!(run.report["records"].as_array().unwrap().len(), 2_700, "one result per entry, the withdrawal included");
    let b = run.report["facilities"].as_array().unwrap().iter().find(|f| f["facility"] == "79002").unwrap();
    assert_eq!(b["withdrawn"][0]["sequence"], 451);
    assert_eq!(b["gaps"].as_array().unwrap().len(), 0, "a withdrawn number is not a gap");
    assert!(run.report["log"]["receipts_matched"].as_u64().unwrap() >= 2_700);
    assert_eq!((&run.report["summary"]["not_checked"], &run.report["selection"]["facilities"]), (&json!(0), &json!([])));
    let dom = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", &format!("file://{}", html.display())])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("Everything verified") && dom.contains("79002"), "the filed page renders the clean result");
    // The signed report verifies with the auditor's key over the report's exact bytes, and
    // not once a byte of it changed.
    let (report, signature) = (run.path.clone(), format!("{}.jws", run.path));
    ok(&["verify", "--any-jws", "--key", &report_public, "--payload", &report, &signature]);
    let mut bytes = fs::read(&report).unwrap();
    bytes[10] ^= 1;
    fs::write(&report, bytes).unwrap();
    assert_eq!(medseal(&["verify", "--any-jws", "--key", &report_public, "--payload", &report, &signature]).status.code(), Some(1));
    // Without the escrow key the records cannot be opened: indeterminate, a finding.
    let unopened = audit(&pilot.tmp, &clean, &[]);
    assert_eq!(unopened.code, 1);
    assert_eq!(unopened.report["summary"]["indeterminate"], 2_699);
    assert!(unopened.has("RECORD_INDETERMINATE"));
    let later = audit(&pilot.tmp, &clean, &["--key", &key, "--at", "2036-12-05T00:00:00Z"]);
    assert_eq!(later.code, 0, "ten years ahead the honest records still pass: {:?}", later.findings());
    assert_eq!(later.report["at"], "2036-12-05T00:00:00Z");

    // 1. An envelope altered.
    let altered = pilot.tmp.0.join("altered");
    copy_dir(&clean, &altered);
    let envelope = altered.join(bundle::envelope_path(10));
    let mut bytes = fs::read(&envelope).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&envelope, bytes).unwrap();
    let run = audit(&pilot.tmp, &altered, &["--key", &key]);
    assert_eq!(run.code, 1);
    assert!(run.has("RECORD_FAILED"), "{:?}", run.findings());
    let record = &run.report["records"].as_array().unwrap()[10];
    assert_eq!((record["status"].as_str(), record["sub_indication"].as_str()), (Some("FAILED"), Some("HASH_FAILURE")));

    // 2. B's last 300 entries deleted and the log re-signed: self-consistent on its own (B's
    // numbers simply end earlier), caught by B's outbox and the tree heads B kept.
    let truncated = pilot.tmp.0.join("truncated");
    rewrite(&clean, &truncated, &pilot.hub_dir, |e| e.source != "79002" || e.sequence <= 600);
    let alone = audit(&pilot.tmp, &truncated, &["--key", &key]);
    assert_eq!(alone.code, 0, "the bundle alone cannot show a clean cut: {:?}", alone.findings());
    let caught = audit(&pilot.tmp, &truncated, &["--outbox", &s(&pilot.b.outbox)]);
    assert_eq!(caught.code, 1);
    assert!(caught.has("RECEIPTED_RECORD_MISSING"), "{:?}", caught.findings());
    let caught = audit(&pilot.tmp, &truncated, &["--tree-head", &b_heads]);
    assert_eq!(caught.code, 1);
    assert!(caught.has("LOG_FORKED") || caught.has("LOG_TRUNCATED"), "{:?}", caught.findings());

    // 3. One sequence removed and the log re-signed: a gap, from the bundle alone.
    let gap = pilot.tmp.0.join("gap");
    rewrite(&clean, &gap, &pilot.hub_dir, |e| !(e.source == "79001" && e.sequence == 77));
    let run = audit(&pilot.tmp, &gap, &["--key", &key]);
    assert_eq!(run.code, 1);
    assert!(run.has("SEQUENCE_GAP"), "{:?}", run.findings());
    let a = run.report["facilities"].as_array().unwrap().iter().find(|f| f["facility"] == "79001").unwrap();
    assert_eq!(a["gaps"][0], serde_json::json!({"first": 77, "last": 77}));

    // 4. A record let in under a revoked key: the operator lifts A's revocation of its old key
    // for one record and puts it back.
    ok(&["hub", "revoke", "--dir", &s(&pilot.hub_dir), "--signing-key", &old_kid, "--reason", "rolled over"]);
    let database = rusqlite::Connection::open(pilot.hub_dir.join("hub.sqlite")).unwrap();
    let revoked: i64 = database.query_row("SELECT revoked FROM facility_keys WHERE kid = ?1", [&old_kid], |r| r.get(0)).unwrap();
    std::thread::sleep(Duration::from_millis(1_100));
    database.execute("UPDATE facility_keys SET revoked = NULL WHERE kid = ?1", [&old_kid]).unwrap();
    pilot.a.enqueue(1, 0, None);
    assert!(pilot.a.deliver(&url).status.success(), "the operator let the record in");
    database.execute("UPDATE facility_keys SET revoked = ?1 WHERE kid = ?2", rusqlite::params![revoked, old_kid]).unwrap();
    drop(database);
    let sneaked = pilot.tmp.0.join("sneaked");
    export(&pilot.hub_dir, &sneaked, true);
    let run = audit(&pilot.tmp, &sneaked, &[]);
    assert_eq!(run.code, 1);
    let last = run.report["records"].as_array().unwrap().iter().find(|r| r["record_id"] == "79001-2026-001801").unwrap();
    assert_eq!((last["status"].as_str(), last["sub_indication"].as_str()), (Some("FAILED"), Some("REVOKED")), "{last}");

    // 5. A fork: the operator copies the hub and runs both; A delivers to one, B to the other.
    // Each hospital's outbox finds nothing wrong (each history is consistent in itself), but
    // the audit of either hub's export, held to the other hospital's evidence, shows the fork.
    pilot.hub = None;
    let twin_dir = pilot.tmp.0.join("hub-twin");
    copy_dir(&pilot.hub_dir, &twin_dir);
    pilot.hub = Some(HubProcess::start(&pilot.hub_dir, &pilot.tmp.0.join("hub-2.log")));
    let twin = HubProcess::start(&twin_dir, &pilot.tmp.0.join("twin.log"));
    pilot.a.enqueue(5, 1, None);
    assert!(pilot.a.deliver(&pilot.url()).status.success());
    pilot.b.enqueue(5, 0, None);
    assert!(pilot.b.deliver(&twin.url).status.success(), "B sees nothing wrong on its own");
    drop(twin);
    let forked = pilot.tmp.0.join("forked");
    export(&pilot.hub_dir, &forked, false);
    let b_heads = pilot.b.tree_heads(&pilot.tmp.0.join("b-heads-2.json"));
    let run = audit(&pilot.tmp, &forked, &["--tree-head", &b_heads, "--outbox", &s(&pilot.b.outbox)]);
    assert_eq!(run.code, 1);
    assert!(run.has("LOG_FORKED"), "{:?}", run.findings());
    let html = pilot.tmp.0.join("forked.html");
    let run = audit(&pilot.tmp, &forked, &["--tree-head", &b_heads, "--html", html.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    let dom = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", &format!("file://{}", html.display())])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&dom.stdout).contains("LOG_FORKED"), "the filed page shows the fork");
}

#[test]
fn audit_exit_codes_for_usage_and_unreadable_bundles() {
    let tmp = TempDir::new("audit-usage");
    let out = medseal(&["audit"]);
    assert_eq!(out.status.code(), Some(2));
    let out = medseal(&["audit", &tmp.path("missing"), "--at", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    for threads in ["5000", "-1", "many"] {
        let out = medseal(&["audit", &tmp.path("missing"), "--threads", threads]);
        assert_eq!(out.status.code(), Some(2), "--threads {threads}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = medseal(&["audit", &tmp.path("missing")]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BUNDLE_UNREADABLE"));
    fs::create_dir(tmp.0.join("not-a-bundle")).unwrap();
    fs::write(tmp.0.join("not-a-bundle/manifest.json"), br#"{"format":"something else"}"#).unwrap();
    let out = medseal(&["audit", &tmp.path("not-a-bundle")]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BUNDLE_INVALID"));
}
