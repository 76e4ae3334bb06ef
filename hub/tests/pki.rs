//! `init` and `enroll`: what they write, with which permissions, and what they refuse.

use std::path::Path;

use medseal::keys::KeyFormat;
use medseal::{Algorithm, Key, RecipientKey};
use medseal_hub::{EnrollOptions, FacilityInitOptions, HubConfig, InitOptions};

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Enrolment of the public parts `facility_init` wrote into `dir`, issued files into `dir`.
fn enroll_options(hub: &Path, facility: &str, dir: &Path) -> EnrollOptions {
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_default();
    EnrollOptions {
        hub_dir: hub.to_owned(),
        facility: facility.to_owned(),
        signing_keys: vec![read("signing.pub")],
        csr: read("client.csr"),
        out: dir.to_owned(),
        auditor: false,
        force: false,
    }
}

fn certificate(path: &Path) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_file(path).unwrap().to_vec()
}

#[test]
fn init_writes_the_hub_and_refuses_to_overwrite_it() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("hub");
    let mut options = InitOptions::new(&dir);
    options.hostname = "hub.pilot.example".to_owned();
    options.listen = "127.0.0.1:9443".parse().unwrap();
    let config = medseal_hub::init(&options).unwrap();
    assert_eq!(config.hub_url, "https://hub.pilot.example:9443");
    assert_eq!(HubConfig::load(&medseal_hub::files::HubPaths::new(&dir)).unwrap(), config);

    for (name, private) in [
        ("ca.pem", false),
        ("ca.key", true),
        ("server.pem", false),
        ("server.key", true),
        ("receipt.key", true),
        ("receipt.pub", false),
        ("tree-head.key", true),
        ("tree-head.pub", false),
        ("recipient.key", true),
        ("recipient.pub", false),
        ("hub.sqlite", false),
        ("hub.json", false),
    ] {
        let path = dir.join(name);
        assert!(path.exists(), "{name}");
        if private {
            assert_eq!(mode(&path), 0o600, "{name} is owner-only");
        }
    }
    // Receipt and tree-head keys: Ed25519, two different keys.
    let receipt = Key::import(&std::fs::read(dir.join("receipt.key")).unwrap(), None).unwrap();
    let tree_head = Key::import(&std::fs::read(dir.join("tree-head.key")).unwrap(), None).unwrap();
    assert_eq!((receipt.algorithm(), tree_head.algorithm()), (Algorithm::EdDSA, Algorithm::EdDSA));
    assert_ne!(receipt.kid(), tree_head.kid());
    let recipient = RecipientKey::import(&std::fs::read(dir.join("recipient.key")).unwrap()).unwrap();
    assert_eq!(recipient.export(KeyFormat::SpkiPem).unwrap().as_slice(), std::fs::read(dir.join("recipient.pub")).unwrap());

    // The server certificate names the host and 127.0.0.1, and chains to the CA.
    let server = certificate(&dir.join("server.pem"));
    let (_, parsed) = x509_parser::parse_x509_certificate(&server).unwrap();
    let san = parsed.subject_alternative_name().unwrap().unwrap().value.general_names.iter().map(|n| format!("{n}")).collect::<Vec<_>>();
    assert!(san.iter().any(|n| n.contains("hub.pilot.example")), "{san:?}");
    assert!(san.iter().any(|n| n.contains("7f:00:00:01")), "{san:?}");
    let ca = certificate(&dir.join("ca.pem"));
    let (_, ca_parsed) = x509_parser::parse_x509_certificate(&ca).unwrap();
    assert!(ca_parsed.is_ca());
    assert_eq!(parsed.issuer(), ca_parsed.subject());
    let years = (ca_parsed.validity().not_after.timestamp() - ca_parsed.validity().not_before.timestamp()) / (365 * 86_400);
    assert_eq!(years, 10);

    // Again: refused; with force: a new hub (new CA).
    let error = medseal_hub::init(&options).unwrap_err();
    assert!(error.to_string().contains("--force"), "{error}");
    options.force = true;
    medseal_hub::init(&options).unwrap();
    assert_ne!(certificate(&dir.join("ca.pem")), ca);

    // ES256 keys on request; bad host names refused.
    let mut es = InitOptions::new(temp.path().join("es"));
    es.key_algorithm = Algorithm::ES256;
    medseal_hub::init(&es).unwrap();
    assert_eq!(Key::import(&std::fs::read(temp.path().join("es/receipt.key")).unwrap(), None).unwrap().algorithm(), Algorithm::ES256);
    let mut bad = InitOptions::new(temp.path().join("bad"));
    bad.hostname = "not a host".to_owned();
    assert!(medseal_hub::init(&bad).is_err());
}

fn facility_init(dir: &Path, facility: &str) -> Vec<std::path::PathBuf> {
    medseal_hub::facility_init(&FacilityInitOptions {
        facility: facility.to_owned(),
        dir: dir.to_owned(),
        signing_algorithm: Algorithm::EdDSA,
        force: false,
        tls_token: None,
    })
    .unwrap()
}

#[test]
fn a_hospital_makes_its_own_keys_and_the_hub_enrols_only_the_public_parts() {
    let temp = tempfile::tempdir().unwrap();
    let hub = temp.path().join("hub");
    medseal_hub::init(&InitOptions::new(&hub)).unwrap();
    let out = temp.path().join("hospital-a");

    // The hospital's side: four files, the private ones owner-only; again only with force.
    let made = facility_init(&out, "hospital-a");
    let names: Vec<String> = made.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, medseal_hub::pki::FACILITY_KEY_FILES);
    assert_eq!(mode(&out.join("client.key")), 0o600);
    assert_eq!(mode(&out.join("signing.key")), 0o600);
    let signing_key_before = std::fs::read(out.join("signing.key")).unwrap();
    let again = FacilityInitOptions {
        facility: "hospital-a".to_owned(),
        dir: out.clone(),
        signing_algorithm: Algorithm::EdDSA,
        force: false,
        tls_token: None,
    };
    assert!(medseal_hub::facility_init(&again).unwrap_err().to_string().contains("already exists"));
    assert_eq!(std::fs::read(out.join("signing.key")).unwrap(), signing_key_before, "a refused init changed a key");

    // The hub's side: public parts in, six public files out, into the hospital's directory.
    let enrolled = medseal_hub::enroll(&enroll_options(&hub, "hospital-a", &out)).unwrap();
    assert_eq!(enrolled.hub_url, "https://localhost:8443");
    let names: Vec<String> = enrolled.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, medseal_hub::pki::ENROLL_FILES);
    assert_eq!(std::fs::read(out.join("signing.key")).unwrap(), signing_key_before, "enrol touched the hospital's key");
    for name in &names {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{name} holds a private key");
    }

    // The client certificate: the requested key, CN = facility, clientAuth, from the hub CA, 2 years.
    let client = certificate(&out.join("client.pem"));
    let (_, parsed) = x509_parser::parse_x509_certificate(&client).unwrap();
    assert_eq!(parsed.subject().iter_common_name().next().unwrap().as_str().unwrap(), "hospital-a");
    assert!(parsed.extended_key_usage().unwrap().unwrap().value.client_auth);
    let days = (parsed.validity().not_after.timestamp() - parsed.validity().not_before.timestamp()) / 86_400;
    assert!((730..=732).contains(&days), "{days}");
    let client_key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(out.join("client.key")).unwrap()).unwrap();
    use rcgen::PublicKeyData;
    assert_eq!(
        parsed.public_key().subject_public_key.data.as_ref(),
        client_key.der_bytes(),
        "the certificate is not for the requested key"
    );
    assert_eq!(std::fs::read(out.join("hub-ca.pem")).unwrap(), std::fs::read(hub.join("ca.pem")).unwrap());
    assert_eq!(enrolled.certificate_fingerprint, medseal_hub::pki::fingerprint(&client));

    // The registered signing key is the hospital's public key.
    let signing = Key::import(&signing_key_before, None).unwrap();
    assert_eq!(enrolled.signing_kids, vec![signing.kid().to_owned()]);
    for (facility_file, hub_file) in
        [("hub-recipient.pub", "recipient.pub"), ("receipt.pub", "receipt.pub"), ("tree-head.pub", "tree-head.pub")]
    {
        assert_eq!(std::fs::read(out.join(facility_file)).unwrap(), std::fs::read(hub.join(hub_file)).unwrap(), "{facility_file}");
    }
    let facility: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("facility.json")).unwrap()).unwrap();
    assert_eq!(facility, serde_json::json!({"facility": "hospital-a", "hub_url": "https://localhost:8443"}));

    // Enrolled already; issued files already there; bad ids; not a hub directory.
    let error = medseal_hub::enroll(&enroll_options(&hub, "hospital-a", &out)).unwrap_err();
    assert!(error.to_string().contains("already enrolled"), "{error}");
    let b = temp.path().join("hospital-b");
    facility_init(&b, "hospital-b");
    std::fs::write(b.join("client.pem"), "old").unwrap();
    let error = medseal_hub::enroll(&enroll_options(&hub, "hospital-b", &b)).unwrap_err();
    assert!(error.to_string().contains("already exists"), "{error}");
    std::fs::remove_file(b.join("client.pem")).unwrap();
    for bad in ["", " padded", "line\nbreak", &"x".repeat(257)] {
        let mut options = enroll_options(&hub, "hospital-b", &b);
        options.facility = bad.to_owned();
        assert!(medseal_hub::enroll(&options).is_err(), "{bad:?}");
    }
    assert!(medseal_hub::enroll(&enroll_options(temp.path(), "hospital-b", &b)).is_err());

    // --force: a new certificate and a second key (a rollover); both keys count.
    let rollover = Key::generate(Algorithm::ES256).unwrap();
    let mut force = enroll_options(&hub, "hospital-a", &out);
    force.signing_keys.push(rollover.export(KeyFormat::SpkiPem).unwrap().to_vec());
    force.force = true;
    let again = medseal_hub::enroll(&force).unwrap();
    assert_eq!(again.signing_kids, vec![signing.kid().to_owned(), rollover.kid().to_owned()]);
    assert_ne!(again.certificate_fingerprint, enrolled.certificate_fingerprint);
}

#[test]
fn enrolment_refuses_private_keys_foreign_requests_and_borrowed_keys() {
    let temp = tempfile::tempdir().unwrap();
    let hub = temp.path().join("hub");
    medseal_hub::init(&InitOptions::new(&hub)).unwrap();
    let a = temp.path().join("a");
    facility_init(&a, "hospital-a");
    let refused = |options: &EnrollOptions, expected: &str| {
        let error = medseal_hub::enroll(options).unwrap_err().to_string();
        assert!(error.contains(expected), "expected {expected:?} in: {error}");
        for name in medseal_hub::pki::ENROLL_FILES {
            assert!(!options.out.join(name).exists(), "a refused enrolment wrote {name}");
        }
    };

    // A private signing key: the hub must never hold one.
    let mut options = enroll_options(&hub, "hospital-a", &a);
    options.signing_keys = vec![std::fs::read(a.join("signing.key")).unwrap()];
    refused(&options, "private key");
    // No signing key at all.
    let mut options = enroll_options(&hub, "hospital-a", &a);
    options.signing_keys.clear();
    refused(&options, "at least one");
    // A request for another facility's name.
    let other = temp.path().join("other");
    facility_init(&other, "hospital-b");
    let mut options = enroll_options(&hub, "hospital-a", &a);
    options.csr = std::fs::read(other.join("client.csr")).unwrap();
    refused(&options, "CN is hospital-b");
    // A request whose signature was tampered with (one byte of the signature flipped).
    let mut der = {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateSigningRequestDer::from_pem_file(a.join("client.csr")).unwrap().as_ref().to_vec()
    };
    let last = der.len() - 5;
    der[last] ^= 1;
    let mut options = enroll_options(&hub, "hospital-a", &a);
    options.csr = der;
    refused(&options, "signature does not verify");
    // Not a request at all.
    let mut options = enroll_options(&hub, "hospital-a", &a);
    options.csr = b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n".to_vec();
    refused(&options, "certificate request");
    // The TLS key and a signing key must be two keys.
    let shared = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "hospital-a");
    let csr = params.serialize_request(&shared).unwrap();
    let signing = Key::import(shared.serialize_pem().as_bytes(), None).unwrap();
    let mut options = enroll_options(&hub, "hospital-a", &a);
    options.csr = csr.pem().unwrap().into_bytes();
    options.signing_keys = vec![signing.export(KeyFormat::SpkiPem).unwrap().to_vec()];
    refused(&options, "different keys");

    // A key enrolled for A cannot be enrolled for B (B could then sign as A's key holder).
    medseal_hub::enroll(&enroll_options(&hub, "hospital-a", &a)).unwrap();
    let mut options = enroll_options(&hub, "hospital-b", &other);
    options.signing_keys = vec![std::fs::read(a.join("signing.pub")).unwrap()];
    refused(&options, "already enrolled for hospital-a");

    // An auditor has no signing keys; a facility name cannot become an auditor.
    let auditor = temp.path().join("auditor");
    facility_init(&auditor, "city-auditor");
    let mut options = enroll_options(&hub, "city-auditor", &auditor);
    options.auditor = true;
    refused(&options, "auditor signs no records");
    options.signing_keys.clear();
    medseal_hub::enroll(&options).unwrap();
    let mut options = enroll_options(&hub, "hospital-a", &temp.path().join("a-as-auditor"));
    options.signing_keys.clear();
    options.auditor = true;
    options.force = true;
    assert!(medseal_hub::enroll(&options).unwrap_err().to_string().contains("enrolled as a facility"));
}
