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
