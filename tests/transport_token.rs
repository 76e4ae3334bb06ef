//! A facility whose TLS client key lives on a PKCS#11 token (a real SoftHSM2, installed by
//! `scripts/install-deps.sh`; missing SoftHSM2 fails these tests, it never skips them): the key
//! is generated on the token, the certificate request is signed there, the hub enrols only
//! public parts, and records are delivered to the real hub (started in-process on 127.0.0.1)
//! over mutual TLS whose handshake the token signs.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` once per process (medseal keeps one initialized module), so
//! every test of this file shares one token directory, set up once; each test has its own
//! token, so that logins do not meet.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use medseal::ledger;
use medseal::outbox::{Outbox, OutboxConfig, State};
use medseal::signers::{NewKeyKind, Pkcs11Config, Pkcs11Key, SigningBackend};
use medseal::transport::{deliver_all, deliver_once, Transport, TransportConfigBuilder};
use medseal::{Key, KeyFormat, RecipientKey, ResultCode, Serialization, SignOptions, Signer};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use zeroize::Zeroizing;

const MODULE_PATHS: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];
const SO_PIN: &str = "so-pin-5150";
const USER_PIN: &str = "tls-pin-3141x";
const WRONG_PIN: &str = "not-the-pin-2718";
/// One token per test.
const TOKENS: &[&str] = &["tls-ec", "tls-rsa", "tls-mismatch", "tls-pin", "tls-crossed", "tls-schemes", "tls-ed"];

struct Fixture {
    module: PathBuf,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let module =
            MODULE_PATHS.iter().map(Path::new).find(|p| p.exists()).unwrap_or_else(|| {
                panic!("SoftHSM2 is not installed (no libsofthsm2.so in {MODULE_PATHS:?}): run scripts/install-deps.sh")
            });
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(&conf, format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()))
            .unwrap();
        // Before anything loads the module; other tests wait on the OnceLock meanwhile.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        for label in TOKENS {
            let out = Command::new("softhsm2-util")
                .args(["--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", USER_PIN])
                .output()
                .expect("softhsm2-util is missing: run scripts/install-deps.sh");
            assert!(out.status.success(), "softhsm2-util: {}", String::from_utf8_lossy(&out.stderr));
        }
        Fixture { module: module.to_path_buf(), _dir: dir }
    })
}

fn token_config(token: &str, label: &str, pin: &str) -> Pkcs11Config {
    Pkcs11Config {
        module: fixture().module.clone(),
        token_label: token.to_owned(),
        key_label: label.to_owned(),
        pin: Zeroizing::new(pin.to_owned()),
        alg: None,
    }
}

/// A hub, and a facility made with its TLS key on `token` (generated there as `kind`) and
/// enrolled from its public parts.
struct Pilot {
    tmp: tempfile::TempDir,
    hub_dir: PathBuf,
    facility_dir: PathBuf,
    facility: String,
    tls: Pkcs11Config,
}

impl Pilot {
    fn new(token: &str, kind: NewKeyKind) -> Pilot {
        let tmp = tempfile::tempdir().unwrap();
        let hub_dir = tmp.path().join("hub");
        let mut init = medseal_hub::InitOptions::new(&hub_dir);
        init.listen = "127.0.0.1:0".parse().unwrap();
        medseal_hub::init(&init).unwrap();
        let facility = format!("facility-{token}");
        let facility_dir = tmp.path().join("facility");
        let tls = token_config(token, "tls-client", USER_PIN);
        let files = medseal_hub::facility_init(&medseal_hub::FacilityInitOptions {
            facility: facility.clone(),
            dir: facility_dir.clone(),
            signing_algorithm: medseal::Algorithm::EdDSA,
            force: false,
            tls_token: Some(medseal_hub::TlsTokenKey { pkcs11: tls.clone(), new_key: kind }),
        })
        .unwrap();
        let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["signing.key", "signing.pub", "client.csr"]);
        Pilot { tmp, hub_dir, facility_dir, facility, tls }
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.facility_dir.join(name)).unwrap()
    }

    fn enroll_options(&self, signing_key: Vec<u8>) -> medseal_hub::EnrollOptions {
        medseal_hub::EnrollOptions {
            hub_dir: self.hub_dir.clone(),
            facility: self.facility.clone(),
            signing_keys: vec![signing_key],
            csr: self.read("client.csr"),
            out: self.facility_dir.clone(),
            auditor: false,
            force: false,
        }
    }

    fn enroll(&self) {
        medseal_hub::enroll(&self.enroll_options(self.read("signing.pub"))).unwrap();
    }

    fn outbox(&self) -> Outbox {
        self.outbox_at("outbox.sqlite")
    }

    fn outbox_at(&self, name: &str) -> Outbox {
        let recipient = RecipientKey::import(&self.read("hub-recipient.pub")).unwrap();
        let mut config = OutboxConfig::new(self.tmp.path().join(name), &self.facility, vec![recipient]);
        config.busy_timeout = Duration::from_secs(10);
        Outbox::open(config).unwrap()
    }

    fn enqueue(&self, outbox: &Outbox, n: usize) -> Vec<String> {
        let key = Key::import(&self.read("signing.key"), None).unwrap();
        let signer = Signer::new(Arc::new(key), SignOptions::default()).unwrap();
        (0..n)
            .map(|i| {
                let id = format!("obs-{i}");
                let doc = format!(r#"{{"resourceType":"Observation","id":"{id}","status":"final","valueQuantity":{{"value":{i}}}}}"#);
                outbox.enqueue_signed(&id, signer.sign(doc.as_bytes(), Serialization::Flattened).unwrap().as_bytes()).unwrap();
                id
            })
            .collect()
    }

    /// The transport with the token key set first, then the facility directory.
    fn config(&self, url: &str, tls: &Pkcs11Config) -> medseal::Result<TransportConfigBuilder> {
        let mut builder = TransportConfigBuilder::new(url)?;
        builder.client_key_pkcs11(tls)?;
        builder.facility_dir(&self.facility_dir)?;
        builder.connect_timeout(Duration::from_secs(5))?.timeout(Duration::from_secs(20))?;
        Ok(builder)
    }
}

/// The private key on the token is sensitive and cannot be extracted: it exists nowhere else.
fn assert_key_stays_on_the_token(token: &str, label: &str) {
    let ctx = Pkcs11::new(&fixture().module).unwrap();
    // Already initialized by medseal in this process.
    let _ = ctx.initialize(cryptoki::context::CInitializeArgs::new(cryptoki::context::CInitializeFlags::OS_LOCKING_OK));
    let slot = ctx.get_slots_with_token().unwrap().into_iter().find(|s| ctx.get_token_info(*s).unwrap().label() == token).unwrap();
    let session = ctx.open_ro_session(slot).unwrap();
    let ours = match session.login(UserType::User, Some(&AuthPin::from(USER_PIN))) {
        Ok(()) => true,
        Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => false,
        Err(e) => panic!("login: {e}"),
    };
    let keys = session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(label.as_bytes().to_vec())]).unwrap();
    assert_eq!(keys.len(), 1);
    let attrs = session.get_attributes(keys[0], &[AttributeType::Sensitive, AttributeType::Extractable, AttributeType::Token]).unwrap();
    assert!(attrs.contains(&Attribute::Sensitive(true)), "{attrs:?}");
    assert!(attrs.contains(&Attribute::Extractable(false)), "{attrs:?}");
    assert!(attrs.contains(&Attribute::Token(true)), "{attrs:?}");
    if ours {
        session.logout().unwrap();
    }
}

/// No file of the facility's or the hub's holds a private key other than the facility's
/// record-signing key and the hub's own keys.
fn assert_no_tls_private_key_file(pilot: &Pilot) {
    assert!(!pilot.facility_dir.join("client.key").exists());
    let mut private = Vec::new();
    for dir in [&pilot.facility_dir, &pilot.hub_dir] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if std::fs::read(&path).unwrap().windows(11).any(|w| w == b"PRIVATE KEY") {
                private.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    private.sort();
    assert_eq!(private, ["ca.key", "receipt.key", "recipient.key", "server.key", "signing.key", "tree-head.key"]);
}

fn delivers_with_the_token_key(token: &str, kind: NewKeyKind, expected_alg: medseal::Algorithm) {
    let pilot = Pilot::new(token, kind);
    pilot.enroll();
    let hub = medseal_hub::start(&pilot.hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap();
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, 5);
    let mut config = pilot.config(hub.url(), &pilot.tls).unwrap();
    config.batch_size(2).unwrap();
    let transport = Transport::new(config.build().unwrap()).unwrap();
    assert!(transport.config().client_subject().contains(&pilot.facility));

    let report = deliver_all(&outbox, &transport).unwrap();
    assert_eq!((report.delivered, report.dead_letters, report.retried), (5, 0, 0), "{report:?}");
    assert_eq!(report.last_error, None);
    let key = |name: &str| medseal::Verifier::new(vec![Arc::new(Key::import(&pilot.read(name), None).unwrap())]);
    for id in &ids {
        let info = outbox.find(id).unwrap();
        assert_eq!(info.state, State::Delivered, "{id}: {info:?}");
        let proof = ledger::decode_inclusion_proof(info.inclusion.as_deref().unwrap()).unwrap();
        let receipt = ledger::verify_receipt(
            info.receipt.as_deref().unwrap().as_bytes(),
            &proof,
            &key("receipt.pub"),
            &key("tree-head.pub"),
            Some(id),
            Some(&info.digest),
        )
        .unwrap();
        assert_eq!(receipt.source, pilot.facility);
    }
    hub.shutdown().unwrap();

    // The key is the token's, of the kind asked for, and never left it.
    let opened = Pkcs11Key::open(&pilot.tls).unwrap();
    assert_eq!(opened.algorithm(), expected_alg);
    let certificate = medseal::x509::Certificate::read_chain(&pilot.read("client.pem")).unwrap().remove(0);
    assert_eq!(Key::import(&certificate.spki_der().unwrap(), None).unwrap().kid(), opened.public_key().kid());
    assert_key_stays_on_the_token(token, "tls-client");
    assert_no_tls_private_key_file(&pilot);
}

#[test]
fn a_p256_tls_key_on_a_token_enrols_and_delivers_over_mutual_tls() {
    delivers_with_the_token_key("tls-ec", NewKeyKind::P256, medseal::Algorithm::ES256);
}

#[test]
fn an_rsa_tls_key_on_a_token_enrols_and_delivers_over_mutual_tls() {
    delivers_with_the_token_key("tls-rsa", NewKeyKind::Rsa(2048), medseal::Algorithm::RS256);
}

#[test]
fn a_token_key_that_is_not_the_certificates_is_refused_before_connecting() {
    let pilot = Pilot::new("tls-mismatch", NewKeyKind::P256);
    pilot.enroll();
    // Another key on the same token, and a listener that counts connections.
    let other = token_config("tls-mismatch", "other-key", USER_PIN);
    Pkcs11Key::open_or_generate(&other, NewKeyKind::P256).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let error = Transport::new(pilot.config(&url, &other).unwrap().build().unwrap()).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_TRANSPORT_CONFIG, "{error}");
    for needle in ["other-key", "tls-mismatch", "does not belong to the client certificate", &pilot.facility] {
        assert!(error.message().contains(needle), "{error} does not say {needle:?}");
    }
    assert_eq!(listener.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock, "a connection was made");

    // The right key works with the same directory; a client.key file beside a token key is
    // refused (which one would be meant?).
    Transport::new(pilot.config(&url, &pilot.tls).unwrap().build().unwrap()).unwrap();
    std::fs::write(pilot.facility_dir.join("client.key"), b"left over").unwrap();
    let error = pilot.config(&url, &pilot.tls).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_TRANSPORT_CONFIG, "{error}");
    assert!(error.message().contains("client.key file too"), "{error}");
    assert_eq!(listener.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock, "a connection was made");
}

#[test]
fn a_wrong_pin_gives_the_pkcs11_error_code() {
    fixture();
    // A key on a token no key of this process is logged in to: the token itself judges the PIN.
    drop(Pkcs11Key::open_or_generate(&token_config("tls-pin", "tls-client", USER_PIN), NewKeyKind::P256).unwrap());
    let mut builder = TransportConfigBuilder::new("https://127.0.0.1:9").unwrap();
    let error = builder.client_key_pkcs11(&token_config("tls-pin", "tls-client", WRONG_PIN)).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_PKCS11_PIN, "{error}");
    assert!(error.message().contains("CKR_PIN_INCORRECT"), "{error}");
    assert!(!error.message().contains(WRONG_PIN) && !format!("{builder:?}").contains(WRONG_PIN));
    // A key that is not there is the signer's code too.
    let error = builder.client_key_pkcs11(&token_config("tls-pin", "no-such-key", USER_PIN)).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_PKCS11_KEY_NOT_FOUND, "{error}");
}

#[test]
fn a_token_tls_key_that_is_also_a_signing_key_is_not_enrolled() {
    let pilot = Pilot::new("tls-crossed", NewKeyKind::P256);
    // The operator is handed the token key's public key as the record-signing key.
    let token_key = Pkcs11Key::open(&pilot.tls).unwrap();
    let error =
        medseal_hub::enroll(&pilot.enroll_options(token_key.public_key().export(KeyFormat::SpkiPem).unwrap().to_vec())).unwrap_err();
    assert!(error.to_string().contains("the TLS client key and a record-signing key are different keys"), "{error}");
    assert!(!pilot.facility_dir.join("client.pem").exists());
}

/// Asks for client certificates of the hub's CA with only the schemes given, and records the
/// scheme each handshake signature came with.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn ClientCertVerifier>,
    schemes: Vec<SignatureScheme>,
    seen: Arc<Mutex<Vec<SignatureScheme>>>,
}

impl ClientCertVerifier for Recording {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner.verify_client_cert(end_entity, intermediates, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.seen.lock().unwrap().push(dss.scheme);
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.seen.lock().unwrap().push(dss.scheme);
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// One delivery attempt to a TLS server with the hub's certificate that offers only `version`
/// and `schemes` for the client's signature and answers 503 after reading the request: the
/// scheme the token signed with, and whether the handshake and request got through.
fn scheme_used(pilot: &Pilot, version: &'static rustls::SupportedProtocolVersion, schemes: &[SignatureScheme]) -> Vec<SignatureScheme> {
    let hub_file = |name: &str| std::fs::read(pilot.hub_dir.join(name)).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(&hub_file("ca.pem")).unwrap()).unwrap();
    let inner = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let verifier = Recording { inner, schemes: schemes.to_vec(), seen: seen.clone() };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&hub_file("server.pem")).map(|c| c.unwrap()).collect();
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(chain, PrivateKeyDer::from_pem_slice(&hub_file("server.key")).unwrap())
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let served = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut tls = rustls::StreamOwned::new(rustls::ServerConnection::new(Arc::new(server)).unwrap(), tcp);
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tls.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed before its request");
            request.extend_from_slice(&buf[..n]);
        }
        tls.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        tls.conn.send_close_notify();
        let _ = tls.flush();
        String::from_utf8_lossy(&request).starts_with("POST /v1/records ")
    });
    // An outbox of its own each time: a record due now.
    let outbox = pilot.outbox_at(&format!("outbox-{}.sqlite", url.rsplit(':').next().unwrap()));
    pilot.enqueue(&outbox, 1);
    let transport = Transport::new(pilot.config(&url, &pilot.tls).unwrap().build().unwrap()).unwrap();
    let report = deliver_once(&outbox, &transport, medseal::utc::now()).unwrap();
    let error = report.last_error.clone().unwrap_or_else(|| panic!("the server answers 503: {report:?}"));
    assert_eq!(error.code(), ResultCode::MEDSEAL_TRANSPORT_HTTP, "the request got through the handshake: {error}");
    assert!(served.join().unwrap(), "the server read the request");
    let seen = seen.lock().unwrap().clone();
    seen
}

#[test]
fn an_rsa_token_key_signs_pss_and_pkcs1_only_for_a_tls12_server_that_asks_for_it() {
    let pilot = Pilot::new("tls-schemes", NewKeyKind::Rsa(2048));
    pilot.enroll();
    use SignatureScheme::{ECDSA_NISTP256_SHA256 as EC, RSA_PKCS1_SHA256 as PKCS1, RSA_PSS_SHA256 as PSS};
    // TLS 1.3 has only PSS for RSA; TLS 1.2 servers that offer it get PSS too.
    assert_eq!(scheme_used(&pilot, &rustls::version::TLS13, &[PKCS1, PSS, EC]), [PSS]);
    assert_eq!(scheme_used(&pilot, &rustls::version::TLS12, &[PKCS1, PSS, EC]), [PSS]);
    // A TLS 1.2 server that takes PKCS#1 v1.5 only.
    assert_eq!(scheme_used(&pilot, &rustls::version::TLS12, &[PKCS1, EC]), [PKCS1]);
}

#[test]
fn an_ed25519_key_on_a_token_is_refused_clearly() {
    let module = &fixture().module;
    let ctx = Pkcs11::new(module).unwrap();
    let _ = ctx.initialize(cryptoki::context::CInitializeArgs::new(cryptoki::context::CInitializeFlags::OS_LOCKING_OK));
    let slot = ctx.get_slots_with_token().unwrap().into_iter().find(|s| ctx.get_token_info(*s).unwrap().label() == "tls-ed").unwrap();
    let session = ctx.open_rw_session(slot).unwrap();
    session.login(UserType::User, Some(&AuthPin::from(USER_PIN))).unwrap();
    // The curve as SoftHSM2 names it: the OID 1.3.101.112 (id-Ed25519).
    let public = [
        Attribute::Token(true),
        Attribute::Verify(true),
        Attribute::Label(b"ed".to_vec()),
        Attribute::EcParams(vec![0x06, 0x03, 0x2b, 0x65, 0x70]),
    ];
    let private = [Attribute::Token(true), Attribute::Private(true), Attribute::Sign(true), Attribute::Label(b"ed".to_vec())];
    session.generate_key_pair(&cryptoki::mechanism::Mechanism::EccEdwardsKeyPairGen, &public, &private).unwrap();
    session.logout().unwrap();

    let error =
        TransportConfigBuilder::new("https://127.0.0.1:9").unwrap().client_key_pkcs11(&token_config("tls-ed", "ed", USER_PIN)).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_KEY_UNSUPPORTED, "{error}");
    assert!(error.message().contains("RSA or P-256"), "{error}");
}
