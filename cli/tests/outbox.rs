//! `medseal outbox`: the real binary, as hospital scripts and operators run it. Many
//! `medseal outbox enqueue` processes at once into one file (gapless numbers), the local
//! receipt in text and JSON, idempotency, pre-sealed envelopes, dead-letter handling, export,
//! the list of sealed records, and the refusals with their exit codes.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("medseal-cli-outbox-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_medseal"));
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn run(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "expected success, got {:?}\nstderr: {stderr}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

fn ok_bytes(out: Output) -> Vec<u8> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "expected success, got {:?}\nstderr: {stderr}", out.status);
    out.stdout
}

fn fails(out: Output, exit: i32, needle: &str) -> String {
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(exit), "stdout: {}\nstderr: {err}", String::from_utf8_lossy(&out.stdout));
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// A facility's files: the hub's X25519 key pair and a signed record.
struct Pilot {
    dir: TempDir,
    outbox: String,
    hub_private: String,
    hub_public: String,
    signing_public: String,
    record: String,
}

impl Pilot {
    fn new() -> Pilot {
        let dir = TempDir::new();
        let (hub_private, hub_public) = (dir.path("hub.pem"), dir.path("hub.pub.pem"));
        ok(run(&["key", "generate", "--alg", "x25519", "--out", &hub_private]));
        fs::write(&hub_public, ok(run(&["key", "public", &hub_private]))).unwrap();
        let signer = dir.path("signer.pem");
        ok(run(&["key", "generate", "--alg", "ed25519", "--out", &signer]));
        let signing_public = dir.path("signer.pub.pem");
        fs::write(&signing_public, ok(run(&["key", "public", &signer]))).unwrap();
        let doc = dir.path("patient.json");
        fs::write(&doc, r#"{"resourceType":"Patient","id":"p1","active":true}"#).unwrap();
        let record = dir.path("patient.jws");
        fs::write(&record, ok(run(&["sign", "--key", &signer, &doc]))).unwrap();
        let outbox = dir.path("outbox.sqlite");
        Pilot { dir, outbox, hub_private, hub_public, signing_public, record }
    }

    fn enqueue_args<'a>(&'a self, record_id: &'a str, file: &'a str) -> Vec<&'a str> {
        vec![
            "outbox",
            "enqueue",
            "--outbox",
            &self.outbox,
            "--source",
            "bv-cho-ray",
            "--to",
            &self.hub_public,
            "--signing-key",
            &self.signing_public,
            "--record-id",
            record_id,
            file,
        ]
    }

    fn outbox(&self, subcommand: &str, more: &[&str]) -> Output {
        let mut args = vec!["outbox", subcommand, "--outbox", &self.outbox];
        args.extend(more);
        run(&args)
    }
}

/// The value of `"name":` in a canonical JSON line (numbers and strings).
fn json_field(line: &str, name: &str) -> String {
    let at = line.find(&format!("\"{name}\":")).unwrap_or_else(|| panic!("no {name} in {line}")) + name.len() + 3;
    let rest = &line[at..];
    if let Some(text) = rest.strip_prefix('"') {
        text[..text.find('"').unwrap()].to_owned()
    } else {
        rest[..rest.find([',', '}']).unwrap()].to_owned()
    }
}

#[test]
fn enqueue_prints_the_local_receipt_and_is_idempotent() {
    let p = Pilot::new();
    let text = ok(run(&p.enqueue_args("rec-1", &p.record)));
    assert!(text.starts_with("queued: outbox id 1, record rec-1, source bv-cho-ray, sequence 1, digest "), "{text}");
    assert!(text.ends_with("Z\n") && text.lines().count() == 1, "{text}");
    let mut json_args = p.enqueue_args("rec-1", &p.record);
    json_args.insert(2, "--json");
    let json = ok(run(&json_args));
    assert!(json.starts_with(r#"{"already_queued":true,"digest":""#), "{json}");
    assert_eq!(json_field(&json, "sequence"), "1");
    assert!(text.contains(&json_field(&json, "digest")), "same digest in both forms");

    // Standard input, the next number; another record under a used id is refused.
    let mut child = command(&p.enqueue_args("rec-2", "-")).stdin(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &fs::read(&p.record).unwrap()).unwrap();
    assert!(ok(child.wait_with_output().unwrap()).contains("sequence 2,"));
    let other_doc = p.dir.path("other.json");
    fs::write(&other_doc, r#"{"resourceType":"Patient","id":"p9"}"#).unwrap();
    let other = p.dir.path("other.jws");
    fs::write(&other, ok(run(&["sign", "--key", &p.dir.path("signer.pem"), &other_doc]))).unwrap();
    fails(run(&p.enqueue_args("rec-1", &other)), 1, "MEDSEAL_OUTBOX_DUPLICATE");

    // The hub opens what was enqueued (written out by `inspect --envelope`): the signed record.
    let envelope = p.dir.path("rec-1.envelope");
    ok(p.outbox("inspect", &["1", "--envelope", &envelope]));
    assert_eq!(ok_bytes(run(&["open", "--key", &p.hub_private, &envelope])), fs::read(&p.record).unwrap());
    let meta = ok(run(&["open", "--meta-only", &envelope]));
    assert!(meta.contains(r#""record_id":"rec-1","sequence":1,"source":"bv-cho-ray""#), "{meta}");
    fails(p.outbox("inspect", &["1", "--envelope", &envelope]), 1, "already exists");

    let status = ok(p.outbox("status", &["--json"]));
    assert_eq!(
        status.trim_end(),
        format!(
            r#"{{"dead_letter":0,"delivered":0,"discarded":0,"in_flight":0,"next_attempt_at":"{t}","next_sequence":3,"oldest_queued_at":"{t}","queued":2,"source":"bv-cho-ray"}}"#,
            t = json_field(&json, "enqueued_at")
        )
    );
    let text = ok(p.outbox("status", &[]));
    assert!(text.contains("queued:        2\n") && text.contains("next sequence: 3\n"), "{text}");
}

#[test]
fn many_processes_enqueue_at_once_with_gapless_numbers() {
    let p = Pilot::new();
    let processes = 24;
    let ids: Vec<String> = (0..processes).map(|n| format!("rec-{n:02}")).collect();
    let mut children: Vec<(String, Child)> = Vec::new();
    for id in &ids {
        let mut args = p.enqueue_args(id, &p.record);
        args.insert(2, "--json");
        children.push((id.clone(), command(&args).spawn().unwrap()));
    }
    let mut numbers = Vec::new();
    for (id, child) in children {
        let json = ok(child.wait_with_output().unwrap());
        assert_eq!(json_field(&json, "record_id"), *id);
        assert_eq!(json_field(&json, "already_queued"), "false");
        numbers.push((json_field(&json, "sequence").parse::<u64>().unwrap(), id));
    }
    numbers.sort();
    assert_eq!(numbers.iter().map(|(n, _)| *n).collect::<Vec<_>>(), (1..=processes as u64).collect::<Vec<_>>());

    // The list of sealed records agrees with what each process printed, and checks the numbers itself.
    let ledger = ok(p.outbox("sealed", &[]));
    let lines: Vec<&str> = ledger.lines().collect();
    assert_eq!(lines.len(), processes);
    for (line, (n, id)) in lines.iter().zip(&numbers) {
        assert_eq!((json_field(line, "sequence"), json_field(line, "record_id")), (n.to_string(), id.to_string()));
    }
    assert_eq!(ok(p.outbox("sealed", &["--from", "20"])).lines().count(), processes - 19);
    let list = ok(p.outbox("list", &["--json", "--state", "queued"]));
    assert_eq!(list.lines().count(), processes);
}

#[test]
fn dead_letters_withdraw_requeue_discard_and_inspect() {
    let p = Pilot::new();
    for n in 1..=3 {
        ok(run(&p.enqueue_args(&format!("rec-{n}"), &p.record)));
    }
    assert_eq!(ok(p.outbox("dead-letters", &[])), "no dead letters\n");
    assert!(ok(p.outbox("withdraw", &["2", "--reason", "wrong patient"])).starts_with("withdrawn: outbox id 2"));
    fails(p.outbox("withdraw", &["2", "--reason", "again"]), 1, "MEDSEAL_OUTBOX_STATE");
    let dead = ok(p.outbox("dead-letters", &[]));
    assert!(dead.starts_with("ID  SEQUENCE  STATE        ATTEMPTS"), "{dead}");
    assert!(dead.lines().nth(1).unwrap().ends_with("rec-2      WITHDRAWN  wrong patient"), "{dead}");
    assert!(dead.lines().all(|l| !l.ends_with(' ')), "no trailing blanks: {dead:?}");

    fails(p.outbox("requeue", &["1"]), 1, "MEDSEAL_OUTBOX_STATE");
    fails(p.outbox("requeue", &["99"]), 1, "MEDSEAL_OUTBOX_NOT_FOUND");
    assert_eq!(ok(p.outbox("requeue", &["2"])), "requeued: outbox id 2\n");
    ok(p.outbox("withdraw", &["2", "--reason", "still the wrong patient"]));
    fails(p.outbox("discard", &["1", "--reason", "x"]), 1, "MEDSEAL_OUTBOX_STATE");
    fails(p.outbox("discard", &["2", "--reason", " "]), 1, "MEDSEAL_INVALID_ARGUMENT");
    fails(p.outbox("discard", &["2"]), 2, "--reason");
    assert_eq!(ok(p.outbox("discard", &["2", "--reason", "paper record kept instead"])), "discarded: outbox id 2\n");

    let text = ok(p.outbox("inspect", &["2"]));
    for needle in ["record id:    rec-2\n", "state:        discarded\n", "dead code:    WITHDRAWN\n", "history:\n"] {
        assert!(text.contains(needle), "{needle:?} in {text}");
    }
    let history: Vec<&str> = text.lines().skip_while(|l| *l != "history:").skip(1).collect();
    assert_eq!(history.len(), 4, "{text}");
    assert!(history[0].contains(" withdrawn by ") && history[0].ends_with("[WITHDRAWN]: wrong patient"), "{text}");
    assert!(history[1].contains(" requeued by "), "{text}");
    assert!(history[3].contains(" discarded by ") && history[3].ends_with(": paper record kept instead"), "{text}");
    let json = ok(p.outbox("inspect", &["--record-id", "rec-2", "--json"]));
    assert_eq!(json_field(&json, "state"), "discarded");
    assert!(json.contains(r#""history":[{"action":"withdrawn","#), "{json}");
    fails(p.outbox("inspect", &["--record-id", "nope"]), 1, "MEDSEAL_OUTBOX_NOT_FOUND");
    fails(p.outbox("inspect", &[]), 2, "ID");

    let list = ok(p.outbox("list", &[]));
    assert_eq!(list.lines().count(), 4, "{list}");
    assert!(list.contains("discarded") && list.contains("WITHDRAWN: still the wrong patient"), "{list}");
    assert_eq!(ok(p.outbox("list", &["--state", "discarded", "--json"])).lines().count(), 1);
    fails(p.outbox("list", &["--state", "lost"]), 2, "unknown state");
}

#[test]
fn pre_sealed_envelopes_need_the_next_number() {
    let p = Pilot::new();
    ok(run(&p.enqueue_args("rec-1", &p.record)));
    let seal = |sequence: &str, name: &str| {
        let path = p.dir.path(name);
        let out = ok_bytes(run(&[
            "seal",
            "--to",
            &p.hub_public,
            "--meta",
            "source=bv-cho-ray",
            "--meta",
            &format!("sequence={sequence}"),
            "--meta",
            &format!("record_id=sealed-{sequence}"),
            "--format",
            "proto",
            &p.record,
        ]));
        fs::write(&path, out).unwrap();
        path
    };
    let sealed = |file: &str| run(&["outbox", "enqueue", "--outbox", &p.outbox, "--source", "bv-cho-ray", "--sealed", file]);
    fails(sealed(&seal("3", "three.bin")), 1, "MEDSEAL_OUTBOX_SEQUENCE");
    let two = seal("2", "two.bin");
    assert!(ok(sealed(&two)).starts_with("queued: outbox id 2, record sealed-2, source bv-cho-ray, sequence 2,"));
    assert!(ok(sealed(&two)).starts_with("already queued: outbox id 2"));
    // Addressed to a key that is not the hub (--to names the hub): refused.
    let other = p.dir.path("other.pem");
    ok(run(&["key", "generate", "--alg", "x25519", "--out", &other]));
    let three = seal("3", "three.bin");
    let to_other = run(&["outbox", "enqueue", "--outbox", &p.outbox, "--source", "bv-cho-ray", "--to", &other, "--sealed", &three]);
    fails(to_other, 1, "MEDSEAL_SEAL_WRONG_RECIPIENT");
}

#[test]
fn export_is_a_usable_outbox_and_files_are_checked() {
    let p = Pilot::new();
    ok(run(&p.enqueue_args("rec-1", &p.record)));
    let backup = p.dir.path("backup.sqlite");
    assert_eq!(ok(p.outbox("export", &["--to", &backup])), format!("exported: 1 records to {backup}\n"));
    fails(p.outbox("export", &["--to", &backup]), 1, "already exists");
    let copy = ok(run(&["outbox", "status", "--outbox", &backup, "--json"]));
    assert_eq!(json_field(&copy, "queued"), "1");
    assert_eq!(ok(run(&["outbox", "sealed", "--outbox", &backup])), ok(p.outbox("sealed", &[])));

    // Administration never creates a file; enqueue refuses another facility and non-outboxes.
    let missing = p.dir.path("missing.sqlite");
    fails(run(&["outbox", "status", "--outbox", &missing]), 1, "MEDSEAL_OUTBOX_IO");
    assert!(!std::path::Path::new(&missing).exists());
    let mut other_source = p.enqueue_args("rec-2", &p.record);
    other_source[5] = "another-facility";
    fails(run(&other_source), 1, "belongs to source \"bv-cho-ray\"");
    fails(run(&["outbox", "status", "--outbox", &p.record]), 1, "MEDSEAL_OUTBOX_SCHEMA");
    fails(run(&["outbox", "enqueue", "--outbox", &p.outbox, "--source", "bv-cho-ray", "--record-id", "r", &p.record]), 2, "--to");
    fails(
        run(&[
            "outbox",
            "enqueue",
            "--outbox",
            &p.outbox,
            "--source",
            "bv-cho-ray",
            "--to",
            &p.record,
            "--signing-key",
            &p.signing_public,
            "--record-id",
            "r",
            &p.record,
        ]),
        1,
        "MEDSEAL_KEY",
    );
}

#[test]
fn a_record_not_signed_by_the_facility_takes_no_number() {
    // Issue 10, point 10: an unsigned file, another hospital's record and a record with a
    // forged signature are refused BEFORE a sequence number is taken: no hole in the numbering.
    let p = Pilot::new();
    let other_key = p.dir.path("other.pem");
    ok(run(&["key", "generate", "--alg", "ed25519", "--out", &other_key]));
    let doc = p.dir.path("other.json");
    fs::write(&doc, r#"{"resourceType":"Patient","id":"p2"}"#).unwrap();
    let other = p.dir.path("other.jws");
    fs::write(&other, ok(run(&["sign", "--key", &other_key, &doc]))).unwrap();
    let unsigned = p.dir.path("plain.json");
    fs::write(&unsigned, r#"{"resourceType":"Patient","id":"p3"}"#).unwrap();
    let mut forged: serde_json::Value = serde_json::from_slice(&fs::read(&p.record).unwrap()).unwrap();
    let signature = forged["signature"].as_str().unwrap().to_owned();
    forged["signature"] = serde_json::json!(format!("{}{}", if signature.starts_with('A') { "B" } else { "A" }, &signature[1..]));
    let forged_file = p.dir.path("forged.jws");
    fs::write(&forged_file, forged.to_string()).unwrap();
    for (file, code) in
        [(&other, "MEDSEAL_JWS_SIGNATURE_INVALID"), (&unsigned, "MEDSEAL_JWS_MALFORMED"), (&forged_file, "MEDSEAL_JWS_SIGNATURE_INVALID")]
    {
        let err = fails(run(&p.enqueue_args("refused", file)), 1, code);
        assert!(err.contains("bv-cho-ray's own keys"), "{err}");
    }
    let queued = ok(run(&p.enqueue_args("first", &p.record)));
    assert!(queued.contains("sequence 1,"), "a refused record used a number: {queued}");
}

#[test]
fn tree_heads_and_forks_are_listed_for_the_auditor() {
    let p = Pilot::new();
    ok(run(&p.enqueue_args("first", &p.record)));
    let empty = ok(run(&["outbox", "tree-heads", "--outbox", &p.outbox]));
    assert!(empty.ends_with("0 tree heads, 0 forks\n"), "{empty}");
    // A fork as delivery records it (the library's transport tests make real ones).
    let outbox = medseal::outbox::Outbox::open_existing(std::path::Path::new(&p.outbox)).unwrap();
    outbox.record_fork("held.head.jws", "shown.head.jws", "two different roots signed for tree size 2", 1_767_225_600).unwrap();
    drop(outbox);
    let out = run(&["outbox", "tree-heads", "--outbox", &p.outbox, "--json"]);
    assert_eq!(out.status.code(), Some(1), "a fork is a finding");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["source"], "bv-cho-ray");
    assert_eq!(json["forks"][0]["held_tree_head"], "held.head.jws");
    assert_eq!(json["forks"][0]["detected_at"], "2026-01-01T00:00:00Z");
    assert!(String::from_utf8_lossy(&out.stderr).contains("MEDSEAL_LEDGER_FORK"));
}

#[test]
fn withdraw_with_the_signing_key_queues_a_signed_withdrawal_in_the_records_place() {
    // Issue 10, point 10: with --key the number is withdrawn at the hub by a signed tombstone;
    // without it the record only stops locally and the output says its number stays a gap.
    let p = Pilot::new();
    for n in 1..=3 {
        ok(run(&p.enqueue_args(&format!("rec-{n}"), &p.record)));
    }
    let sealed = ok(p.outbox("sealed", &[]));
    let local = ok(p.outbox("withdraw", &["1", "--reason", "wrong patient"]));
    assert!(local.contains("not sent: its sequence number 1 stays a gap at the hub"), "{local}");

    let key = p.dir.path("signer.pem");
    let other = p.dir.path("other.pem");
    ok(run(&["key", "generate", "--alg", "ed25519", "--out", &other]));
    let with = |id: &'static str, key: &str, reason: &str| {
        p.outbox("withdraw", &[id, "--reason", reason, "--key", key, "--to", &p.hub_public, "--signing-key", &p.signing_public])
    };
    fails(p.outbox("withdraw", &["2", "--reason", "x", "--key", &key]), 2, "--to");
    let err = fails(with("2", &other, "abandoned"), 1, "MEDSEAL_INVALID_ARGUMENT");
    assert!(err.contains("bv-cho-ray's own keys"), "{err}");
    fails(with("2", &key, "two\nlines"), 1, "MEDSEAL_INVALID_ARGUMENT");
    assert!(ok(p.outbox("inspect", &["2"])).contains("state:        queued\n"));
    assert!(!ok(p.outbox("inspect", &["2"])).contains("withdrawal:"), "refusals store nothing");

    let out = ok(with("2", &key, "sealed to the wrong hub"));
    assert!(out.starts_with("withdrawn: outbox id 2, record rec-2, sequence 2: a signed withdrawal (digest "), "{out}");
    assert!(out.contains("the hub's ledger shows sequence 2 as withdrawn"), "{out}");
    fails(with("2", &key, "again"), 1, "MEDSEAL_OUTBOX_STATE");
    // The dead letter of the local withdrawal can be withdrawn at the hub too.
    ok(with("1", &key, "wrong patient"));
    let text = ok(p.outbox("inspect", &["1"]));
    assert!(text.contains("state:        queued\n") && text.contains("withdrawal:   signed, digest "), "{text}");
    assert!(text.lines().last().unwrap().ends_with("[WITHDRAWN]: wrong patient"), "{text}");
    let json = ok(p.outbox("inspect", &["2", "--json"]));
    assert_eq!(json_field(&json, "state"), "queued");
    assert_eq!(json_field(&json, "withdrawal_digest").len(), 43, "{json}");
    assert_eq!(ok(p.outbox("sealed", &[])), sealed, "what was sealed never changes");
}

#[test]
fn a_dead_letter_withdrawn_from_the_shell_is_ledgered_as_withdrawn_not_a_gap() {
    // Issue 10, point 10, end to end with the real binary and a real hub over mutual TLS: a
    // record the hub refuses (signed by a key it does not know) is withdrawn with the
    // facility's key; `hub audit` then shows its number as withdrawn, with the reason.
    let dir = TempDir::new();
    let hub_dir = dir.0.join("hub");
    let mut init = medseal_hub::InitOptions::new(&hub_dir);
    init.listen = "127.0.0.1:0".parse().unwrap();
    medseal_hub::init(&init).unwrap();
    let facility = dir.0.join("facility");
    medseal_hub::pki::enroll_local(&hub_dir, "bv-cho-ray", &facility).unwrap();
    let hub = medseal_hub::start(&hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap();
    let file = |name: &str| facility.join(name).to_str().unwrap().to_owned();
    let (outbox, hub_url, hub_dir_text) = (dir.path("outbox.sqlite"), hub.url().to_owned(), hub_dir.to_str().unwrap().to_owned());

    let stranger = dir.path("stranger.pem");
    ok(run(&["key", "generate", "--alg", "ed25519", "--out", &stranger]));
    let stranger_public = dir.path("stranger.pub.pem");
    fs::write(&stranger_public, ok(run(&["key", "public", &stranger]))).unwrap();
    for (id, key, public) in [
        ("rec-1", file("signing.key"), file("signing.pub")),
        ("forged", stranger.clone(), stranger_public.clone()),
        ("rec-3", file("signing.key"), file("signing.pub")),
    ] {
        let doc = dir.path(&format!("{id}.json"));
        fs::write(&doc, format!(r#"{{"resourceType":"Observation","id":"{id}","status":"final"}}"#)).unwrap();
        let jws = dir.path(&format!("{id}.jws"));
        fs::write(&jws, ok(run(&["sign", "--key", &key, &doc]))).unwrap();
        let to = file("hub-recipient.pub");
        let args = ["outbox", "enqueue", "--outbox", &outbox, "--source", "bv-cho-ray", "--to", &to, "--signing-key", &public];
        ok(run(&[&args[..], &["--record-id", id, &jws]].concat()));
    }
    let facility_dir = file("");
    let deliver = || run(&["outbox", "deliver", "--outbox", &outbox, "--facility-dir", &facility_dir, "--hub", &hub_url]);
    let out = deliver();
    assert_eq!(out.status.code(), Some(1), "a dead letter: {}", String::from_utf8_lossy(&out.stdout));
    let audit = ok(run(&["hub", "audit", "--dir", &hub_dir_text]));
    assert!(audit.contains("bv-cho-ray: 2 records, sequence up to 3, MISSING [2]"), "{audit}");

    let reason = "signed with a test key by mistake; re-sent as rec-4";
    let withdrawn = ok(run(&[
        "outbox",
        "withdraw",
        "--outbox",
        &outbox,
        "2",
        "--reason",
        reason,
        "--key",
        &file("signing.key"),
        "--to",
        &file("hub-recipient.pub"),
        "--signing-key",
        &file("signing.pub"),
    ]));
    assert!(withdrawn.contains("sequence 2: a signed withdrawal"), "{withdrawn}");
    assert!(ok(deliver()).starts_with("delivered: 1 "));
    let receipts = ok(run(&["outbox", "receipts", "--outbox", &outbox, "--facility-dir", &facility_dir]));
    assert!(receipts.contains("valid: forged (sequence 2)") && receipts.ends_with("3 receipts verified, 0 invalid\n"), "{receipts}");
    hub.shutdown().unwrap();
    let audit = ok(run(&["hub", "audit", "--dir", &hub_dir_text]));
    assert!(audit.contains("bv-cho-ray: 2 records, 1 withdrawn, sequence up to 3, no gaps"), "{audit}");
    assert!(audit.contains(&format!("    withdrawn 2: {reason}\n")), "{audit}");
}
