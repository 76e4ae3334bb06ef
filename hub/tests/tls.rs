//! The TLS layer: client certificates are required and must chain to the hub CA with
//! clientAuth, TLS 1.2 and 1.3 work, the server certificate names its host and 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use common::Pilot;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ProtocolVersion, RootCertStore, StreamOwned};

/// Sends a GET over a TLS connection made with `versions`, as `server_name`; the status line
/// and the negotiated version, or the TLS error.
fn raw_get(
    pilot: &Pilot,
    versions: &[&'static rustls::SupportedProtocolVersion],
    server_name: &str,
    client: Option<&Path>,
) -> Result<(String, ProtocolVersion), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(pilot.a.dir.join("hub-ca.pem")).unwrap()).unwrap();
    let builder = ClientConfig::builder_with_provider(provider).with_protocol_versions(versions).unwrap().with_root_certificates(roots);
    let config = match client {
        Some(dir) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(dir.join("client.pem")).unwrap()],
                PrivateKeyDer::from_pem_file(dir.join("client.key")).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let connection = ClientConnection::new(Arc::new(config), ServerName::try_from(server_name.to_owned()).unwrap()).unwrap();
    let mut stream = StreamOwned::new(connection, TcpStream::connect(pilot.addr()).unwrap());
    let request = format!("GET /v1/tree-head HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let version = stream.conn.protocol_version().unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    Ok((answer.lines().next().unwrap_or_default().to_owned(), version))
}

#[test]
fn tls_1_2_and_1_3_with_a_client_certificate() {
    let pilot = Pilot::new();
    let (status, version) = raw_get(&pilot, &[&rustls::version::TLS12], "localhost", Some(&pilot.a.dir)).unwrap();
    assert_eq!((status.as_str(), version), ("HTTP/1.1 200 OK", ProtocolVersion::TLSv1_2));
    let (status, version) = raw_get(&pilot, &[&rustls::version::TLS13], "127.0.0.1", Some(&pilot.a.dir)).unwrap();
    assert_eq!((status.as_str(), version), ("HTTP/1.1 200 OK", ProtocolVersion::TLSv1_3));
    // Preferred: 1.3.
    let (_, version) = raw_get(&pilot, &[&rustls::version::TLS13, &rustls::version::TLS12], "localhost", Some(&pilot.a.dir)).unwrap();
    assert_eq!(version, ProtocolVersion::TLSv1_3);
}

#[test]
fn the_server_certificate_names_its_host_only() {
    let pilot = Pilot::new();
    let error = raw_get(&pilot, &[&rustls::version::TLS13], "hub.example.org", Some(&pilot.a.dir)).unwrap_err();
    assert!(error.contains("NotValidForName") || error.contains("not valid for"), "{error}");
    // By name, with ureq.
    let url = format!("https://localhost:{}/v1/tree-head", pilot.addr().port());
    assert_eq!(pilot.a.agent.get(url).call().unwrap().status().as_u16(), 200);
}

#[test]
fn a_client_without_a_certificate_is_refused_at_tls() {
    let pilot = Pilot::new();
    let error = raw_get(&pilot, &[&rustls::version::TLS13], "localhost", None).unwrap_err();
    assert!(error.contains("CertificateRequired") || error.contains("certificate"), "{error}");
    let agent = common::agent(&pilot.a.dir.join("hub-ca.pem"), None);
    let error = agent.get(pilot.url("/v1/tree-head")).call().unwrap_err();
    assert!(!matches!(error, ureq::Error::StatusCode(_)), "no HTTP answer: {error}");
    // The hub still serves enrolled clients.
    assert_eq!(pilot.get("/v1/tree-head").0, 200);
}

#[test]
fn a_client_certificate_from_another_ca_is_refused_at_tls() {
    let pilot = Pilot::new();
    // A second hub, with its own CA, enrols a facility of the same name.
    let other = tempfile::tempdir().unwrap();
    medseal_hub::init(&medseal_hub::InitOptions::new(other.path().join("hub"))).unwrap();
    common::enroll_facility(&other.path().join("hub"), "hospital-a", &other.path().join("a"));
    let error = raw_get(&pilot, &[&rustls::version::TLS13], "localhost", Some(&other.path().join("a"))).unwrap_err();
    assert!(error.contains("UnknownCA"), "{error}");
    let agent =
        common::agent(&pilot.a.dir.join("hub-ca.pem"), Some((&other.path().join("a/client.pem"), &other.path().join("a/client.key"))));
    assert!(!matches!(agent.get(pilot.url("/v1/tree-head")).call().unwrap_err(), ureq::Error::StatusCode(_)));
}

#[test]
fn expired_and_server_only_certificates_from_the_hub_ca_are_refused() {
    let pilot = Pilot::new();
    let expired = pilot.temp.path().join("expired");
    common::issue_client_cert(&pilot.hub_dir, "hospital-a", &expired, |p| {
        p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(10);
        p.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    });
    let error = raw_get(&pilot, &[&rustls::version::TLS13], "localhost", Some(&expired)).unwrap_err();
    assert!(error.to_lowercase().contains("expired"), "{error}");

    let server_only = pilot.temp.path().join("server-only");
    common::issue_client_cert(&pilot.hub_dir, "hospital-a", &server_only, |p| {
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    });
    assert!(raw_get(&pilot, &[&rustls::version::TLS13], "localhost", Some(&server_only)).is_err());

    // A hub-CA certificate with clientAuth works, enrolled or not (enrolment is checked per batch).
    let valid = pilot.temp.path().join("valid");
    common::issue_client_cert(&pilot.hub_dir, "hospital-a", &valid, |_| {});
    let (status, _) = raw_get(&pilot, &[&rustls::version::TLS13], "localhost", Some(&valid)).unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
}
