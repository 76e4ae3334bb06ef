//! `medseal sign --pkcs11-*` against a real SoftHSM2 token, set up with `softhsm2-util` the
//! way an admin would: initialize a token, import the hospital's key, sign with the PIN from
//! `MEDSEAL_PKCS11_PIN`, verify with the public key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
];
const PIN: &str = "271828";
const RECORD: &str = r#"{"resourceType":"Observation","id":"o1","status":"final","valueQuantity":{"value":7.25,"unit":"mmol/L"}}"#;

fn module() -> &'static str {
    MODULES.iter().copied().find(|m| Path::new(m).exists()).expect("SoftHSM2 is not installed: run scripts/install-deps.sh")
}

/// A token directory of its own, a token labelled `ward-7`, and a P-256 key `doctor-an` imported
/// with softhsm2-util.
struct Token {
    dir: PathBuf,
    conf: PathBuf,
}

impl Token {
    fn new(name: &str) -> Token {
        let dir = std::env::temp_dir().join(format!("medseal-cli-pkcs11-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", dir.join("tokens").display()),
        )
        .unwrap();
        let token = Token { dir, conf };
        token.util(&["--init-token", "--free", "--label", "ward-7", "--so-pin", "123456", "--pin", PIN]);
        let key = medseal::Key::generate(medseal::Algorithm::ES256).unwrap();
        std::fs::write(token.path("doctor.pem"), &*key.export(medseal::KeyFormat::Pkcs8Pem).unwrap()).unwrap();
        std::fs::write(token.path("doctor.pub"), &*key.export(medseal::KeyFormat::SpkiPem).unwrap()).unwrap();
        let pem = token.path("doctor.pem");
        token.util(&["--import", pem.to_str().unwrap(), "--token", "ward-7", "--label", "doctor-an", "--id", "a1", "--pin", PIN]);
        token
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn util(&self, args: &[&str]) {
        let out = Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .expect("softhsm2-util is missing: run scripts/install-deps.sh");
        assert!(
            out.status.success(),
            "softhsm2-util {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn medseal(&self, args: &[&str], pin: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_medseal"));
        command.args(args).env("SOFTHSM2_CONF", &self.conf).env_remove("MEDSEAL_PKCS11_PIN");
        if let Some(pin) = pin {
            command.env("MEDSEAL_PKCS11_PIN", pin);
        }
        command.output().unwrap()
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn signs_on_the_token_with_the_pin_from_the_environment() {
    let token = Token::new("sign");
    std::fs::write(token.path("record.json"), RECORD).unwrap();
    let record = token.path("record.json");
    let sign_args =
        ["sign", "--pkcs11-module", module(), "--pkcs11-token", "ward-7", "--pkcs11-key", "doctor-an", record.to_str().unwrap()];
    let out = token.medseal(&sign_args, Some(PIN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let jws = out.stdout;
    assert!(!text(&jws).contains(PIN));
    std::fs::write(token.path("record.jws"), &jws).unwrap();

    let public = token.path("doctor.pub");
    let signed = token.path("record.jws");
    let out = token.medseal(&["verify", "--key", public.to_str().unwrap(), signed.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("valid: ES256 signature"), "{}", text(&out.stdout));
}

#[test]
fn token_errors_name_the_problem_and_never_the_pin() {
    let token = Token::new("errors");
    std::fs::write(token.path("record.json"), RECORD).unwrap();
    let record = token.path("record.json");
    let record = record.to_str().unwrap();
    let sign = |module: &str, token_label: &str, key: &str, pin: Option<&str>| {
        token.medseal(&["sign", "--pkcs11-module", module, "--pkcs11-token", token_label, "--pkcs11-key", key, record], pin)
    };

    let wrong_pin = "999999";
    let out = sign(module(), "ward-7", "doctor-an", Some(wrong_pin));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("MEDSEAL_PKCS11_PIN"), "{err}");
    assert!(!err.contains(wrong_pin) && !err.contains(PIN), "{err}");

    let out = sign(module(), "ward-9", "doctor-an", Some(PIN));
    let err = text(&out.stderr);
    assert!(err.contains("MEDSEAL_PKCS11_TOKEN_NOT_FOUND") && err.contains("ward-7"), "lists the labels found: {err}");

    let out = sign(module(), "ward-7", "nurse-binh", Some(PIN));
    let err = text(&out.stderr);
    assert!(err.contains("MEDSEAL_PKCS11_KEY_NOT_FOUND") && err.contains("doctor-an"), "lists the keys found: {err}");

    let out = sign("/nonexistent/libpkcs11.so", "ward-7", "doctor-an", Some(PIN));
    let err = text(&out.stderr);
    assert!(err.contains("MEDSEAL_PKCS11_MODULE") && err.contains("/nonexistent/libpkcs11.so"), "{err}");

    // A --key and a token at once, or a token without its labels: usage errors (exit 2).
    let out = token
        .medseal(&["sign", "--key", "x.pem", "--pkcs11-module", module(), "--pkcs11-token", "t", "--pkcs11-key", "k", record], Some(PIN));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = token.medseal(&["sign", "--pkcs11-module", module(), record], Some(PIN));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn facility_init_keeps_the_tls_key_on_the_token_and_deliver_signs_the_handshake_there() {
    // Issue 10, point 8: the hospital's TLS client key made on its token, the request signed
    // there, the hub enrolling only public parts, records delivered over mutual TLS.
    let token = Token::new("tls");
    let path = |name: &str| token.path(name).to_str().unwrap().to_owned();
    let (hub_dir, facility) = (path("hub"), path("facility"));
    let file = |name: &str| format!("{facility}/{name}");
    let succeeds = |args: &[&str], pin: Option<&str>| {
        let out = token.medseal(args, pin);
        assert!(out.status.success(), "{args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    };
    succeeds(&["hub", "init", "--dir", &hub_dir, "--listen", "127.0.0.1:0"], None);
    let tls = ["--tls-pkcs11-module", module(), "--tls-pkcs11-token", "ward-7", "--tls-key-label", "tls-client"];
    let made = succeeds(&[&["facility", "init", "--facility", "bv-ward-7", "--dir", &facility][..], &tls].concat(), Some(PIN));
    assert!(made.contains("key 'tls-client' on token 'ward-7'"), "{made}");
    assert!(!made.contains("client.key") && !Path::new(&file("client.key")).exists(), "{made}");
    let enrolled = succeeds(
        &[
            "hub",
            "enroll",
            "--dir",
            &hub_dir,
            "--facility",
            "bv-ward-7",
            "--signing-key",
            &file("signing.pub"),
            "--csr",
            &file("client.csr"),
            "--out",
            &facility,
        ],
        None,
    );
    assert!(enrolled.contains("bv-ward-7"), "{enrolled}");
    let hub = medseal_hub::start(Path::new(&hub_dir), "127.0.0.1:0".parse().unwrap()).unwrap();

    std::fs::write(token.path("record.json"), RECORD).unwrap();
    let jws = succeeds(&["sign", "--key", &file("signing.key"), &path("record.json")], None);
    std::fs::write(token.path("record.jws"), jws).unwrap();
    let outbox = path("outbox.sqlite");
    succeeds(
        &[
            "outbox",
            "enqueue",
            "--outbox",
            &outbox,
            "--source",
            "bv-ward-7",
            "--to",
            &file("hub-recipient.pub"),
            "--signing-key",
            &file("signing.pub"),
            "--record-id",
            "o1",
            &path("record.jws"),
        ],
        None,
    );
    let deliver = ["outbox", "deliver", "--outbox", &outbox, "--facility-dir", &facility, "--hub", hub.url()];

    // Without the token options there is no key to use.
    let out = token.medseal(&deliver, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("client.key"), "{}", text(&out.stderr));
    // A wrong PIN: the token's refusal, with its code, and no PIN in the message.
    let out = token.medseal(&[&deliver[..], &tls].concat(), Some("000000"));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("MEDSEAL_PKCS11_PIN") && err.contains("CKR_PIN_INCORRECT"), "{err}");
    assert!(!err.contains("000000") && !err.contains(PIN), "{err}");
    // With the token: delivered, the receipt verified.
    let delivered = succeeds(&[&deliver[..], &tls].concat(), Some(PIN));
    assert!(delivered.starts_with("delivered: 1 (duplicates: 0), dead letters: 0, retried: 0"), "{delivered}");
    hub.shutdown().unwrap();

    // Again with --force: the key already on the token is used (the request holds the same
    // public key, as openssl reads it), no second key is made.
    let request_key = || {
        let out = Command::new("openssl").args(["req", "-in", &file("client.csr"), "-noout", "-verify", "-pubkey"]).output().unwrap();
        assert!(out.status.success(), "openssl: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let before = request_key();
    assert!(before.contains("BEGIN PUBLIC KEY"), "{before}");
    let json = succeeds(
        &[&["facility", "init", "--facility", "bv-ward-7", "--dir", &facility, "--force", "--json"][..], &tls].concat(),
        Some(PIN),
    );
    assert!(json.contains(r#""tls_token":{"key":"tls-client","token":"ward-7"}"#), "{json}");
    assert_eq!(request_key(), before);
    // --tls-key-type belongs to the token options.
    let out = token.medseal(&["facility", "init", "--facility", "x", "--dir", &path("x"), "--tls-key-type", "rsa2048"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // Without them, the key is a file as before.
    succeeds(&["facility", "init", "--facility", "y", "--dir", &path("y")], None);
    assert!(Path::new(&path("y/client.key")).exists());
}
