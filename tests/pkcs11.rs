//! PKCS#11 signing against a real SoftHSM2 (installed by `scripts/install-deps.sh`; missing
//! SoftHSM2 fails these tests, it never skips them).
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` once, when the module is initialized, and medseal keeps one
//! initialized module per process: so the whole test process shares one token directory, set up
//! once (`fixture`) before any test touches the module. Tests run in parallel on the shared
//! tokens, which also exercises the shared login.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use medseal::signers::{self, Pkcs11Config, Pkcs11Key, SigningBackend};
use medseal::{Algorithm, DetachedPayload, Key, KeyFormat, ResultCode, Serialization, SignOptions, Signer, Verifier};
use x509_cert::der::{Decode, Encode};
use zeroize::Zeroizing;

/// Where Debian, Ubuntu, Fedora and source builds put the module.
const MODULE_PATHS: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

const SO_PIN: &str = "so-pin-90210";
/// Distinctive, so a test can look for it in messages.
const USER_PIN: &str = "user-pin-4711x";
const WRONG_PIN: &str = "wrong-pin-8642y";

/// The keys live here; most tests share it.
const MAIN: &str = "medseal-main";
/// No keys: wrong-PIN attempts hit the token itself, as no other test is logged in to it.
const OTHER: &str = "medseal-other";
/// Its login is broken on purpose by `relogin_after_an_outside_logout`.
const RELOGIN: &str = "medseal-relogin";
/// A second token with a key, for keys on two tokens at once.
const SECOND: &str = "medseal-second";

/// DER namedCurve OIDs, as `CKA_EC_PARAMS` holds them.
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

const RECORD: &str = r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Muster","given":["Erika"]}],"birthDate":"1964-08-12"}"#;

struct Fixture {
    module: PathBuf,
    /// The software key imported as "imported" and "imported-cert-only".
    software: Key,
    /// Its self-signed certificate, stored with both labels.
    certificate: Vec<u8>,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(set_up)
}

fn softhsm_module() -> PathBuf {
    match MODULE_PATHS.iter().map(Path::new).find(|p| p.exists()) {
        Some(path) => path.to_path_buf(),
        None => panic!(
            "SoftHSM2 is not installed (no libsofthsm2.so in {MODULE_PATHS:?}); the PKCS#11 tests need it: run scripts/install-deps.sh"
        ),
    }
}

fn set_up() -> Fixture {
    let module = softhsm_module();
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(&conf, format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display())).unwrap();
    // Before anything loads the module; other tests wait on the OnceLock meanwhile.
    std::env::set_var("SOFTHSM2_CONF", &conf);

    let ctx = Pkcs11::new(&module).unwrap();
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => panic!("SoftHSM2 did not initialize: {e}"),
    }
    for label in [MAIN, OTHER, RELOGIN, SECOND] {
        init_token(&ctx, label);
    }

    let software = Key::generate(Algorithm::ES256).unwrap();
    let certificate = self_signed(&software);
    {
        let session = user_session(&ctx, MAIN);
        generate_rsa(&session, "rsa", &[1]);
        generate_ec(&session, "ec", &[2], &P256);
        generate_ec(&session, "ec-p384", &[3], &P384);
        generate_ec(&session, "dup", &[4], &P256);
        generate_ec(&session, "dup", &[5], &P256);
        // Without its public-key object: the modulus and exponent come from the private key.
        let (public, _) = generate_rsa(&session, "rsa-no-pub", &[6]);
        session.destroy_object(public).unwrap();
        import_ec(&session, &software, "imported", &[7], true, &certificate);
        // Without a public-key object: the public key comes from the certificate.
        import_ec(&session, &software, "imported-cert-only", &[8], false, &certificate);
        session.logout().unwrap();
    }
    for label in [RELOGIN, SECOND] {
        let session = user_session(&ctx, label);
        generate_ec(&session, "ec", &[1], &P256);
        session.logout().unwrap();
    }
    Fixture { module, software, certificate, _dir: dir }
}

fn slot_of(ctx: &Pkcs11, label: &str) -> Slot {
    // SoftHSM2 renumbers a slot when its token is initialized: always look it up by label.
    ctx.get_slots_with_token().unwrap().into_iter().find(|s| ctx.get_token_info(*s).unwrap().label() == label).unwrap()
}

fn init_token(ctx: &Pkcs11, label: &str) {
    let free = ctx.get_slots_with_token().unwrap().into_iter().find(|s| !ctx.get_token_info(*s).unwrap().token_initialized()).unwrap();
    ctx.init_token(free, &AuthPin::from(SO_PIN), label).unwrap();
    let session = ctx.open_rw_session(slot_of(ctx, label)).unwrap();
    session.login(UserType::So, Some(&AuthPin::from(SO_PIN))).unwrap();
    session.init_pin(&AuthPin::from(USER_PIN)).unwrap();
    session.logout().unwrap();
}

fn user_session(ctx: &Pkcs11, label: &str) -> Session {
    let session = ctx.open_rw_session(slot_of(ctx, label)).unwrap();
    session.login(UserType::User, Some(&AuthPin::from(USER_PIN))).unwrap();
    session
}

fn private_template(label: &str, id: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
        Attribute::Label(label.into()),
        Attribute::Id(id.into()),
    ]
}

fn generate_rsa(session: &Session, label: &str, id: &[u8]) -> (ObjectHandle, ObjectHandle) {
    let public = [
        Attribute::Token(true),
        Attribute::ModulusBits(2048u64.into()),
        Attribute::PublicExponent(vec![1, 0, 1]),
        Attribute::Verify(true),
        Attribute::Label(label.into()),
        Attribute::Id(id.into()),
    ];
    session.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private_template(label, id)).unwrap()
}

fn generate_ec(session: &Session, label: &str, id: &[u8], curve: &[u8]) {
    let public = [
        Attribute::Token(true),
        Attribute::EcParams(curve.into()),
        Attribute::Verify(true),
        Attribute::Label(label.into()),
        Attribute::Id(id.into()),
    ];
    session.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private_template(label, id)).unwrap();
}

/// Stores a software P-256 key on the token (as an enrolment tool would), with its certificate
/// and, if asked, its public-key object.
fn import_ec(session: &Session, key: &Key, label: &str, id: &[u8], public_object: bool, certificate: &[u8]) {
    let d = key.export(KeyFormat::RawPrivate).unwrap();
    let point = key.export(KeyFormat::RawPublic).unwrap();
    let mut private = private_template(label, id);
    private.extend([
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(KeyType::EC),
        Attribute::EcParams(P256.to_vec()),
        Attribute::Value(d.to_vec()),
    ]);
    session.create_object(&private).unwrap();
    if public_object {
        let wrapped = x509_cert::der::asn1::OctetString::new(point.to_vec()).unwrap().to_der().unwrap();
        session
            .create_object(&[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::Label(label.into()),
                Attribute::Id(id.into()),
                Attribute::EcParams(P256.to_vec()),
                Attribute::EcPoint(wrapped),
            ])
            .unwrap();
    }
    let subject = x509_cert::Certificate::from_der(certificate).unwrap().tbs_certificate.subject.to_der().unwrap();
    session
        .create_object(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Label(label.into()),
            Attribute::Id(id.into()),
            Attribute::Subject(subject),
            Attribute::Value(certificate.to_vec()),
        ])
        .unwrap();
}

fn self_signed(key: &Key) -> Vec<u8> {
    let pkcs8 = key.export(KeyFormat::Pkcs8Der).unwrap();
    let pair = rcgen::KeyPair::try_from(pkcs8.as_slice()).unwrap();
    let params = rcgen::CertificateParams::new(vec!["signer.medseal.test".to_owned()]).unwrap();
    params.self_signed(&pair).unwrap().der().to_vec()
}

fn config(token: &str, key: &str, alg: Option<Algorithm>) -> Pkcs11Config {
    Pkcs11Config {
        module: fixture().module.clone(),
        token_label: token.to_owned(),
        key_label: key.to_owned(),
        pin: Zeroizing::new(USER_PIN.to_owned()),
        alg,
    }
}

fn open(token: &str, key: &str, alg: Option<Algorithm>) -> Pkcs11Key {
    Pkcs11Key::open(&config(token, key, alg)).unwrap_or_else(|e| panic!("opening {token}/{key}: {e}"))
}

fn open_err(config: &Pkcs11Config) -> medseal::Error {
    match Pkcs11Key::open(config) {
        Ok(key) => panic!("expected an error, opened {key:?}"),
        Err(e) => e,
    }
}

/// Signs a record through `Signer` and checks it with `Verifier` and the token's public key.
fn sign_and_verify_jws(key: Arc<Pkcs11Key>) {
    let public = Arc::new(key.public_key().to_public());
    let alg = key.algorithm();
    let signer = Signer::with_backend(key, SignOptions::default()).unwrap();
    for serialization in [Serialization::Compact, Serialization::Flattened] {
        let jws = signer.sign(RECORD.as_bytes(), serialization).unwrap();
        let verified = Verifier::new(vec![public.clone()]).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
        assert_eq!(verified.algorithm, alg);
        assert_eq!(verified.key_id, public.kid());
        assert_eq!(verified.payload, medseal::canonicalize(RECORD.as_bytes(), &Default::default()).unwrap());
    }
}

#[test]
fn rs256_ps256_es256_on_the_token() {
    let message = b"eyJhbGciOiJ0ZXN0In0.cGF5bG9hZA";
    for (label, asked, alg, len) in [
        ("rsa", None, Algorithm::RS256, 256),
        ("rsa", Some(Algorithm::RS256), Algorithm::RS256, 256),
        ("rsa", Some(Algorithm::PS256), Algorithm::PS256, 256),
        ("ec", None, Algorithm::ES256, 64),
        ("ec", Some(Algorithm::ES256), Algorithm::ES256, 64),
    ] {
        let key = open(MAIN, label, asked);
        assert_eq!(key.algorithm(), alg);
        assert_eq!(key.public_key().algorithm(), alg);
        assert!(key.is_external());
        let signature = key.sign_raw(message).unwrap();
        assert_eq!(signature.len(), len, "{label} {alg}");
        assert!(key.public_key().verify(message, &signature), "{label} {alg}: the token's signature does not verify");
        assert!(!key.public_key().verify(b"another message", &signature));
        let checked = signers::sign_checked(&key, message).unwrap();
        assert!(key.public_key().verify(message, &checked));
        sign_and_verify_jws(Arc::new(key));
    }
}

#[test]
fn the_mechanism_is_the_one_asked_for() {
    let message = b"mechanism";
    let rs = open(MAIN, "rsa", Some(Algorithm::RS256));
    let ps = open(MAIN, "rsa", Some(Algorithm::PS256));
    let spki = rs.public_key().export(KeyFormat::SpkiDer).unwrap();
    let as_rs256 = Key::import(&spki, Some(Algorithm::RS256)).unwrap();
    let as_ps256 = Key::import(&spki, Some(Algorithm::PS256)).unwrap();
    // PKCS#1 v1.5 is deterministic, PSS salted (32 bytes): two signatures differ.
    let (rs1, rs2) = (rs.sign_raw(message).unwrap(), rs.sign_raw(message).unwrap());
    assert_eq!(rs1, rs2);
    assert!(as_rs256.verify(message, &rs1) && !as_ps256.verify(message, &rs1));
    let (ps1, ps2) = (ps.sign_raw(message).unwrap(), ps.sign_raw(message).unwrap());
    assert_ne!(ps1, ps2);
    assert!(as_ps256.verify(message, &ps1) && as_ps256.verify(message, &ps2) && !as_rs256.verify(message, &ps1));
    assert_eq!(rs.public_key().kid(), ps.public_key().kid());
}

#[test]
fn an_imported_software_key_and_its_certificate() {
    let f = fixture();
    for label in ["imported", "imported-cert-only"] {
        let key = open(MAIN, label, None);
        assert_eq!(key.public_key().kid(), f.software.kid(), "{label}");
        assert_eq!(key.certificate_der(), Some(f.certificate.as_slice()), "{label}");
        let signature = key.sign_raw(b"imported").unwrap();
        assert!(f.software.verify(b"imported", &signature), "{label}");
        sign_and_verify_jws(Arc::new(key));
    }
    // A generated key has no certificate.
    assert_eq!(open(MAIN, "ec", None).certificate_der(), None);
}

#[test]
fn rsa_public_key_from_the_private_key_attributes() {
    let key = open(MAIN, "rsa-no-pub", None);
    assert_eq!(key.algorithm(), Algorithm::RS256);
    let signature = key.sign_raw(b"no public object").unwrap();
    assert!(key.public_key().verify(b"no public object", &signature));
}

#[test]
fn module_errors() {
    let mut c = config(MAIN, "rsa", None);
    c.module = PathBuf::from("/nonexistent/medseal/libnothing.so");
    let e = open_err(&c);
    assert_eq!(e.code(), ResultCode::MEDSEAL_PKCS11_MODULE);
    assert!(e.message().contains("/nonexistent/medseal/libnothing.so"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let not_a_library = dir.path().join("libfake.so");
    std::fs::write(&not_a_library, b"not a shared object").unwrap();
    c.module = not_a_library.clone();
    let e = open_err(&c);
    assert_eq!(e.code(), ResultCode::MEDSEAL_PKCS11_MODULE);
    assert!(e.message().contains(&*not_a_library.to_string_lossy()), "{e}");
}

#[test]
fn unknown_token_lists_the_labels() {
    let e = open_err(&config("no-such-token", "rsa", None));
    assert_eq!(e.code(), ResultCode::MEDSEAL_PKCS11_TOKEN_NOT_FOUND);
    for label in ["no-such-token", MAIN, OTHER, RELOGIN, SECOND] {
        assert!(e.message().contains(&format!("'{label}'")), "{label} missing from: {e}");
    }
    let labels = medseal::signers::pkcs11::token_labels(&fixture().module).unwrap();
    for label in [MAIN, OTHER, RELOGIN, SECOND] {
        assert!(labels.iter().any(|l| l == label), "{labels:?}");
    }
}

#[test]
fn wrong_pin() {
    fn check(e: &medseal::Error, config: &Pkcs11Config) {
        assert_eq!(e.code(), ResultCode::MEDSEAL_PKCS11_PIN, "{e}");
        for shown in [e.message().to_owned(), e.to_string(), format!("{e:?}"), format!("{config:?}")] {
            assert!(!shown.contains(WRONG_PIN) && !shown.contains(USER_PIN), "a PIN shows in: {shown}");
        }
    }
    // No key of this process is logged in to OTHER: the token itself refuses the PIN.
    let mut c = config(OTHER, "any", None);
    c.pin = Zeroizing::new(WRONG_PIN.to_owned());
    let e = open_err(&c);
    check(&e, &c);
    assert!(e.message().contains("CKR_PIN_INCORRECT"), "{e}");
    // Logged in to MAIN by a live key: the PIN is checked against that login's.
    let live = open(MAIN, "ec", None);
    let mut c = config(MAIN, "ec", None);
    c.pin = Zeroizing::new(WRONG_PIN.to_owned());
    check(&open_err(&c), &c);
    assert!(!format!("{live:?}").contains(USER_PIN));
    assert!(live.sign_raw(b"still logged in").is_ok());
}

#[test]
fn key_errors() {
    let e = open_err(&config(MAIN, "no-such-key", None));
    assert_eq!(e.code(), ResultCode::MEDSEAL_PKCS11_KEY_NOT_FOUND);
    assert!(e.message().contains("'no-such-key'") && e.message().contains("'rsa'"), "{e}");

    let e = open_err(&config(MAIN, "dup", None));
    assert_eq!(e.code(), ResultCode::MEDSEAL_PKCS11_KEY_NOT_FOUND);
    assert!(e.message().contains("unique"), "{e}");

    let e = open_err(&config(MAIN, "ec-p384", None));
    assert_eq!(e.code(), ResultCode::MEDSEAL_KEY_UNSUPPORTED);
    assert!(e.message().contains("P-384"), "{e}");

    for (label, alg) in [("ec", Algorithm::PS256), ("ec", Algorithm::RS256), ("ec", Algorithm::EdDSA), ("rsa", Algorithm::ES256)] {
        let e = open_err(&config(MAIN, label, Some(alg)));
        assert_eq!(e.code(), ResultCode::MEDSEAL_KEY_UNSUPPORTED, "{label} as {alg}: {e}");
    }
}

#[test]
fn two_keys_from_one_module() {
    let rsa = open(MAIN, "rsa", None);
    let ec = open(MAIN, "ec", None);
    let other_token = open(SECOND, "ec", None);
    for key in [&rsa, &ec, &other_token] {
        let signature = key.sign_raw(b"two keys").unwrap();
        assert!(key.public_key().verify(b"two keys", &signature));
    }
    // Dropping one key keeps the login of the others on the same token.
    drop(rsa);
    let signature = ec.sign_raw(b"after drop").unwrap();
    assert!(ec.public_key().verify(b"after drop", &signature));
    let debug = format!("{ec:?}");
    assert!(
        debug.contains("ES256") && debug.contains(ec.public_key().kid()) && debug.contains(MAIN) && debug.contains("\"ec\""),
        "{debug}"
    );
}

#[test]
fn concurrent_signing() {
    let keys = [Arc::new(open(MAIN, "ec", None)), Arc::new(open(MAIN, "rsa", Some(Algorithm::PS256)))];
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let key = keys[t % 2].clone();
            std::thread::spawn(move || {
                for i in 0..8 {
                    let message = format!("thread {t} message {i}");
                    let signature = signers::sign_checked(&*key, message.as_bytes()).unwrap();
                    assert!(key.public_key().verify(message.as_bytes(), &signature));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn relogin_after_an_outside_logout() {
    let key = open(RELOGIN, "ec", None);
    assert!(key.sign_raw(b"before").is_ok());
    // Another part of the process logs the token out (login state is per application and token).
    let ctx = Pkcs11::new(&fixture().module).unwrap();
    let session = ctx.open_ro_session(slot_of(&ctx, RELOGIN)).unwrap();
    session.logout().unwrap();
    drop(session);
    let signature = key.sign_raw(b"after").unwrap();
    assert!(key.public_key().verify(b"after", &signature));
}
