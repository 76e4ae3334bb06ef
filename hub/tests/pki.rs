//! `init` and `enroll`: what they write, with which permissions, and what they refuse.

use std::path::Path;

use medseal::keys::KeyFormat;
use medseal::{Algorithm, Key, RecipientKey};
use medseal_hub::{EnrollOptions, HubConfig, InitOptions};

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn enroll_options(hub: &Path, facility: &str, out: &Path) -> EnrollOptions {
    EnrollOptions { hub_dir: hub.to_owned(), facility: facility.to_owned(), out: out.to_owned(), force: false }
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

#[test]
fn enroll_writes_what_the_facility_needs() {
    let temp = tempfile::tempdir().unwrap();
    let hub = temp.path().join("hub");
    medseal_hub::init(&InitOptions::new(&hub)).unwrap();
    let out = temp.path().join("hospital-a");
    let enrolled = medseal_hub::enroll(&enroll_options(&hub, "hospital-a", &out)).unwrap();
    assert_eq!(enrolled.hub_url, "https://localhost:8443");
    let names: Vec<String> = enrolled.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, medseal_hub::pki::FACILITY_FILES);
    for name in &names {
        assert!(out.join(name).exists(), "{name}");
    }
    assert_eq!(mode(&out.join("client.key")), 0o600);
    assert_eq!(mode(&out.join("signing.key")), 0o600);

    // The client certificate: CN = facility, clientAuth, from the hub CA, 2 years.
    let client = certificate(&out.join("client.pem"));
    let (_, parsed) = x509_parser::parse_x509_certificate(&client).unwrap();
    assert_eq!(parsed.subject().iter_common_name().next().unwrap().as_str().unwrap(), "hospital-a");
    assert!(parsed.extended_key_usage().unwrap().unwrap().value.client_auth);
    let days = (parsed.validity().not_after.timestamp() - parsed.validity().not_before.timestamp()) / 86_400;
    assert!((730..=732).contains(&days), "{days}");
    assert_eq!(std::fs::read(out.join("hub-ca.pem")).unwrap(), std::fs::read(hub.join("ca.pem")).unwrap());

    // The signing key (Ed25519) matches its public half and the kid reported.
    let signing = Key::import(&std::fs::read(out.join("signing.key")).unwrap(), None).unwrap();
    assert_eq!(signing.algorithm(), Algorithm::EdDSA);
    assert_eq!(signing.kid(), enrolled.signing_kid);
    assert_eq!(Key::import(&std::fs::read(out.join("signing.pub")).unwrap(), None).unwrap().kid(), signing.kid());
    // The hub's public keys.
    for (facility_file, hub_file) in
        [("hub-recipient.pub", "recipient.pub"), ("receipt.pub", "receipt.pub"), ("tree-head.pub", "tree-head.pub")]
    {
        assert_eq!(std::fs::read(out.join(facility_file)).unwrap(), std::fs::read(hub.join(hub_file)).unwrap(), "{facility_file}");
    }
    let facility: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("facility.json")).unwrap()).unwrap();
    assert_eq!(facility, serde_json::json!({"facility": "hospital-a", "hub_url": "https://localhost:8443"}));
    // No private hub key leaves the hub.
    for name in &names {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        for hub_key in ["ca.key", "server.key", "receipt.key", "tree-head.key", "recipient.key"] {
            assert_ne!(text, std::fs::read_to_string(hub.join(hub_key)).unwrap());
        }
    }

    // Refusals: enrolled already, non-empty out, bad ids; --force re-enrols.
    let error = medseal_hub::enroll(&enroll_options(&hub, "hospital-a", &temp.path().join("again"))).unwrap_err();
    assert!(error.to_string().contains("already enrolled"), "{error}");
    let error = medseal_hub::enroll(&enroll_options(&hub, "hospital-b", &out)).unwrap_err();
    assert!(error.to_string().contains("already holds files"), "{error}");
    for bad in ["", " padded", "line\nbreak", &"x".repeat(257)] {
        assert!(medseal_hub::enroll(&enroll_options(&hub, bad, &temp.path().join("bad"))).is_err(), "{bad:?}");
    }
    let mut force = enroll_options(&hub, "hospital-a", &out);
    force.force = true;
    let again = medseal_hub::enroll(&force).unwrap();
    assert_ne!(again.signing_kid, enrolled.signing_kid);
    // Not a hub directory.
    assert!(medseal_hub::enroll(&enroll_options(temp.path(), "hospital-c", &temp.path().join("c"))).is_err());
}
