//! Delivery to a hub over real sockets: the reference hub (`medseal_hub::start` on 127.0.0.1)
//! with a pilot made by `medseal_hub::init`/`enroll`, and a fault-injecting HTTPS server written
//! here (std `TcpListener` + rustls `ServerConnection`, mutual TLS) that sits in front of the
//! hub or plays a broken one: down, slow, cut off mid-answer, 503 with `Retry-After`, 400,
//! wrong CA, wrong name, expired certificate, client certificate missing or refused, answers
//! that do not match the batch. Test PKIs for the fault server are made with rcgen.
//!
//! Every failure must be surfaced with its reason and leave the records queued (or dead letters
//! for a refusal), and no record may ever be at the hub twice.

use std::collections::{HashSet, VecDeque};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use medseal::ledger;
use medseal::outbox::{Outbox, OutboxConfig, State};
use medseal::transport::{deliver_all, deliver_once, Deliverer, DeliveryReport, Transport, TransportConfigBuilder};
use medseal::wire;
use medseal::{Key, RecipientKey, ResultCode, Serialization, SignOptions, Signer};
use prost::Message;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, ServerConnection, SignatureScheme, StreamOwned};
use tempfile::TempDir;

const FACILITY: &str = "bv-cho-ray";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

// ---------------------------------------------------------------------------------------------
// The pilot: a hub directory, an enrolled facility, its outbox and signer
// ---------------------------------------------------------------------------------------------

struct Pilot {
    tmp: TempDir,
    hub_dir: PathBuf,
    facility_dir: PathBuf,
    signer: Signer,
}

impl Pilot {
    fn new() -> Pilot {
        let tmp = tempfile::tempdir().unwrap();
        let hub_dir = tmp.path().join("hub");
        let mut init = medseal_hub::InitOptions::new(&hub_dir);
        init.listen = "127.0.0.1:0".parse().unwrap();
        medseal_hub::init(&init).unwrap();
        let facility_dir = tmp.path().join("facility");
        medseal_hub::pki::enroll_local(&hub_dir, FACILITY, &facility_dir).unwrap();
        let key = Key::import(&std::fs::read(facility_dir.join("signing.key")).unwrap(), None).unwrap();
        let signer = Signer::new(Arc::new(key), SignOptions::default()).unwrap();
        Pilot { tmp, hub_dir, facility_dir, signer }
    }

    fn start_hub(&self, addr: &str) -> medseal_hub::HubHandle {
        medseal_hub::start(&self.hub_dir, addr.parse().unwrap()).unwrap()
    }

    fn outbox(&self) -> Outbox {
        let recipient = RecipientKey::import(&std::fs::read(self.facility_dir.join("hub-recipient.pub")).unwrap()).unwrap();
        let mut config = OutboxConfig::new(self.tmp.path().join("outbox.sqlite"), FACILITY, vec![recipient]);
        config.busy_timeout = Duration::from_secs(10);
        Outbox::open(config).unwrap()
    }

    /// Enqueues `n` signed records with ids `<prefix>-<i>`.
    fn enqueue(&self, outbox: &Outbox, prefix: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let id = format!("{prefix}-{i}");
                let doc = format!(r#"{{"resourceType":"Observation","id":"{id}","status":"final","valueQuantity":{{"value":{i}}}}}"#);
                let jws = self.signer.sign(doc.as_bytes(), Serialization::Flattened).unwrap();
                outbox.enqueue_signed(&id, jws.as_bytes()).unwrap();
                id
            })
            .collect()
    }

    /// A transport configuration for `url` from the facility directory, with short timeouts.
    fn config(&self, url: &str) -> TransportConfigBuilder {
        let mut builder = TransportConfigBuilder::new(url).unwrap();
        builder.facility_dir(&self.facility_dir).unwrap();
        builder.connect_timeout(Duration::from_secs(3)).unwrap().timeout(Duration::from_secs(5)).unwrap();
        builder
    }

    fn transport(&self, url: &str) -> Transport {
        Transport::new(self.config(url).build().unwrap()).unwrap()
    }

    /// A plain mutual-TLS client to the real hub (what the fault server forwards with).
    fn hub_client(&self) -> ureq::Agent {
        let read = |name: &str| std::fs::read(self.facility_dir.join(name)).unwrap();
        let certs: Vec<ureq::tls::Certificate<'static>> = CertificateDer::pem_slice_iter(&read("client.pem"))
            .map(|c| ureq::tls::Certificate::from_der(c.unwrap().as_ref()).to_owned())
            .collect();
        let key = ureq::tls::PrivateKey::from_pem(&read("client.key")).unwrap().to_owned();
        let ca = ureq::tls::Certificate::from_pem(&read("hub-ca.pem")).unwrap();
        let tls = ureq::tls::TlsConfig::builder()
            .client_cert(Some(ureq::tls::ClientCert::new_with_certs(&certs, key)))
            .root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]))
            .build();
        ureq::Agent::config_builder().http_status_as_error(false).proxy(None).tls_config(tls).build().into()
    }

    /// What the hub's ledger holds: its size and its record ids (each must appear once).
    fn hub_ledger(&self, hub_url: &str) -> (u64, Vec<String>) {
        let agent = self.hub_client();
        let head: serde_json::Value =
            serde_json::from_slice(&agent.get(format!("{hub_url}/v1/tree-head")).call().unwrap().body_mut().read_to_vec().unwrap())
                .unwrap();
        let size = head["tree_size"].as_u64().unwrap();
        if size == 0 {
            return (0, Vec::new());
        }
        // A page at a time, following the hub's `Link: <…>; rel="next"` to the end.
        let mut lines = String::new();
        let mut next = Some(format!("/v1/ledger/entries?start=0&end={size}"));
        while let Some(path) = next.take() {
            let mut response = agent.get(format!("{hub_url}{path}")).call().unwrap();
            next = response.headers().get("link").map(|link| {
                let link = link.to_str().unwrap();
                link.strip_prefix('<').and_then(|l| l.strip_suffix(">; rel=\"next\"")).unwrap_or_else(|| panic!("{link}")).to_owned()
            });
            lines.push_str(&response.body_mut().read_to_string().unwrap());
        }
        let ids: Vec<String> = lines
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["record_id"].as_str().unwrap().to_owned())
            .collect();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "a record is in the hub's ledger twice: {ids:?}");
        (size, ids)
    }

    fn receipt_keys(&self) -> (medseal::Verifier, medseal::Verifier) {
        let key = |name: &str| Arc::new(Key::import(&std::fs::read(self.facility_dir.join(name)).unwrap(), None).unwrap());
        (medseal::Verifier::new(vec![key("receipt.pub")]), medseal::Verifier::new(vec![key("tree-head.pub")]))
    }
}

/// Every record is delivered, and its kept receipt verifies (receipt key, inclusion proof,
/// tree-head key) for its id and digest.
fn assert_all_delivered(pilot: &Pilot, outbox: &Outbox, ids: &[String]) {
    let (receipt_keys, tree_head_keys) = pilot.receipt_keys();
    for id in ids {
        let info = outbox.find(id).unwrap();
        assert_eq!(info.state, State::Delivered, "{id}: {info:?}");
        let proof = ledger::decode_inclusion_proof(info.inclusion.as_deref().unwrap()).unwrap();
        let receipt = ledger::verify_receipt(
            info.receipt.as_deref().unwrap().as_bytes(),
            &proof,
            &receipt_keys,
            &tree_head_keys,
            Some(id),
            Some(&info.digest),
        )
        .unwrap();
        assert_eq!(receipt.source, FACILITY);
        assert_eq!(receipt.sequence, info.sequence);
    }
}

fn assert_all_queued(outbox: &Outbox, ids: &[String]) {
    for id in ids {
        let info = outbox.find(id).unwrap();
        assert_eq!(info.state, State::Queued, "{id}: {info:?}");
    }
}

#[track_caller]
fn last_error(report: &DeliveryReport, code: ResultCode, needles: &[&str]) -> String {
    let error = report.last_error.as_ref().unwrap_or_else(|| panic!("no error in {report:?}"));
    assert_eq!(error.code(), code, "{error}");
    for needle in needles {
        assert!(error.message().contains(needle), "{error} does not mention {needle:?}");
    }
    error.message().to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------------
// Test PKI for the fault server
// ---------------------------------------------------------------------------------------------

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn dn(cn: &str) -> rcgen::DistinguishedName {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = dn(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).unwrap();
    Ca { pem: cert.pem(), issuer: Issuer::new(params, key) }
}

/// A leaf certificate by `ca`: a TLS server certificate for `names`, or a client certificate
/// with CN `names[0]`; valid `days` around now (negative: expired).
struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    cert_pem: String,
    key_pem: String,
}

fn leaf(ca: &Ca, names: &[&str], server: bool, window_days: (i64, i64)) -> Leaf {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let sans: Vec<String> = if server { names.iter().map(|n| n.to_string()).collect() } else { Vec::new() };
    let mut params = CertificateParams::new(sans).unwrap();
    params.distinguished_name = dn(names[0]);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![if server { ExtendedKeyUsagePurpose::ServerAuth } else { ExtendedKeyUsagePurpose::ClientAuth }];
    let t = time::OffsetDateTime::now_utc();
    params.not_before = t + time::Duration::days(window_days.0);
    params.not_after = t + time::Duration::days(window_days.1);
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    Leaf {
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn roots(pems: &[&str]) -> RootCertStore {
    let mut store = RootCertStore::empty();
    for pem in pems {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            store.add(cert.unwrap()).unwrap();
        }
    }
    store
}

/// Asks for client certificates with a signature scheme the facility's P-256 key cannot make:
/// the client then has no usable certificate and sends none (what a hub sees from a client
/// without a certificate).
#[derive(Debug)]
struct UnusableSchemes(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for UnusableSchemes {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.0.verify_client_cert(end_entity, intermediates, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::RSA_PSS_SHA512]
    }
}

// ---------------------------------------------------------------------------------------------
// The fault server
// ---------------------------------------------------------------------------------------------

/// What the fault server does with the next request.
#[derive(Clone, Debug)]
enum Act {
    /// Passes the batch to the real hub and its answer back.
    Forward,
    /// Passes the batch to the hub (which stores it), then cuts the answer off half-way.
    ForwardThenCut,
    /// Waits, then forwards (the client has given up by then).
    Slow(Duration),
    /// Answers this status, headers and body itself.
    Answer(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// Answers 200 with the hub's real answer changed by the function.
    Tamper(fn(&mut wire::SubmitResponse)),
}

struct Seen {
    idempotency_key: Option<String>,
    records: Vec<String>,
}

struct FaultServer {
    addr: SocketAddr,
    script: Arc<Mutex<VecDeque<Act>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Serves TLS with `server` (chain and key), asking for client certificates verified by
    /// `client_verifier`; forwards to `hub_url` with `agent`.
    fn start(
        server: &Leaf,
        client_verifier: Arc<dyn ClientCertVerifier>,
        hub: Option<(String, ureq::Agent)>,
        script: Vec<Act>,
    ) -> FaultServer {
        let config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .unwrap()
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(server.chain.clone(), server.key.clone_key())
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let workers = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (script, seen, stop, workers) = (script.clone(), seen.clone(), stop.clone(), workers.clone());
            let hub = Arc::new(hub);
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((tcp, _)) => {
                            tcp.set_nonblocking(false).unwrap();
                            let (config, script, seen, hub) = (config.clone(), script.clone(), seen.clone(), hub.clone());
                            let worker = std::thread::spawn(move || {
                                let _ = serve(tcp, config, &script, &seen, &hub);
                            });
                            workers.lock().unwrap().push(worker);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
                        Err(e) => panic!("accept: {e}"),
                    }
                }
            })
        };
        FaultServer { addr, script, seen, stop, workers, accept: Some(accept) }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn push(&self, act: Act) {
        self.script.lock().unwrap().push_back(act);
    }

    /// Waits for every connection handler (slow ones included) to finish.
    fn drain(&self) {
        let workers: Vec<_> = std::mem::take(&mut *self.workers.lock().unwrap());
        for w in workers {
            // A handler that panicked has failed its test already (the client sees the error).
            let _ = w.join();
        }
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        self.drain();
    }
}

fn verifier_for(ca_pem: &str) -> Arc<dyn ClientCertVerifier> {
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots(&[ca_pem])), provider()).build().unwrap()
}

/// One HTTP/1.1 request: request line, headers (lower-cased names), body.
type HttpRequest = (String, Vec<(String, String)>, Vec<u8>);

/// Reads one HTTP/1.1 request with a Content-Length body.
fn read_request(stream: &mut impl Read) -> io::Result<Option<HttpRequest>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let length: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = buf[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((request_line, headers, body)))
}

fn response_bytes(status: u16, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Passes the body to the hub; returns status, content type and body.
fn forward(hub: &Option<(String, ureq::Agent)>, headers: &[(String, String)], body: &[u8]) -> (u16, String, Vec<u8>) {
    let (url, agent) = hub.as_ref().expect("this fault server has no hub behind it");
    let key = headers.iter().find(|(k, _)| k == "idempotency-key").map(|(_, v)| v.clone()).unwrap_or_default();
    let mut response = agent
        .post(format!("{url}/v1/records"))
        .header("Content-Type", "application/x-protobuf")
        .header("Idempotency-Key", key)
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.body_mut().read_to_vec().unwrap())
}

fn serve(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    script: &Mutex<VecDeque<Act>>,
    seen: &Mutex<Vec<Seen>>,
    hub: &Option<(String, ureq::Agent)>,
) -> io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
    let conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    let Some((line, headers, body)) = read_request(&mut tls)? else { return Ok(()) };
    if let Some(target) = line.strip_prefix("GET ").and_then(|rest| rest.split(' ').next()) {
        // Reads (the consistency proofs an outbox asks for) go straight through: the script
        // and the count are about batches.
        let (url, agent) = hub.as_ref().expect("this fault server has no hub behind it");
        let mut response = agent.get(format!("{url}{target}")).call().unwrap();
        let status = response.status().as_u16();
        let answer = response.body_mut().read_to_vec().unwrap();
        tls.write_all(&response_bytes(status, &[("Content-Type", "application/json".into())], &answer))?;
        tls.conn.send_close_notify();
        tls.flush()?;
        return Ok(());
    }
    let batch = wire::SubmitBatch::decode(body.as_slice()).unwrap();
    seen.lock().unwrap().push(Seen {
        idempotency_key: headers.iter().find(|(k, _)| k == "idempotency-key").map(|(_, v)| v.clone()),
        records: batch.records.iter().map(|r| r.record_id.clone()).collect(),
    });
    let act = script.lock().unwrap().pop_front().unwrap_or(Act::Forward);
    match act {
        Act::Forward => {
            let (status, content_type, answer) = forward(hub, &headers, &body);
            tls.write_all(&response_bytes(status, &[("Content-Type", content_type)], &answer))?;
        }
        Act::ForwardThenCut => {
            let (status, content_type, answer) = forward(hub, &headers, &body);
            let full = response_bytes(status, &[("Content-Type", content_type)], &answer);
            tls.write_all(&full[..full.len() - answer.len() / 2])?;
            tls.flush()?;
            // No close_notify: the connection just ends.
            tls.sock.shutdown(std::net::Shutdown::Both)?;
            return Ok(());
        }
        Act::Slow(delay) => {
            std::thread::sleep(delay);
            let (status, content_type, answer) = forward(hub, &headers, &body);
            let _ = tls.write_all(&response_bytes(status, &[("Content-Type", content_type)], &answer));
        }
        Act::Answer(status, extra, answer) => {
            tls.write_all(&response_bytes(status, &extra, &answer))?;
        }
        Act::Tamper(change) => {
            let (status, content_type, answer) = forward(hub, &headers, &body);
            assert_eq!(status, 200);
            let mut response = wire::SubmitResponse::decode(answer.as_slice()).unwrap();
            change(&mut response);
            tls.write_all(&response_bytes(200, &[("Content-Type", content_type)], &response.encode_to_vec()))?;
        }
    }
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

/// A fault server in front of a running hub, with a server certificate for 127.0.0.1 from
/// `test_ca`, accepting client certificates of the hub's CA (the facility's).
fn fault_in_front(pilot: &Pilot, hub_url: &str, test_ca: &Ca, script: Vec<Act>) -> FaultServer {
    let server = leaf(test_ca, &["127.0.0.1", "localhost"], true, (-1, 30));
    let hub_ca = std::fs::read_to_string(pilot.facility_dir.join("hub-ca.pem")).unwrap();
    FaultServer::start(&server, verifier_for(&hub_ca), Some((hub_url.to_owned(), pilot.hub_client())), script)
}

/// A transport to the fault server, trusting `test_ca` instead of the hub's CA.
fn transport_to(pilot: &Pilot, fault: &FaultServer, test_ca: &Ca, timeout: Duration) -> Transport {
    let mut config = pilot.config(&fault.url());
    config.hub_ca_pem(test_ca.pem.as_bytes()).unwrap();
    config.connect_timeout(timeout.min(Duration::from_secs(2))).unwrap().timeout(timeout).unwrap();
    Transport::new(config.build().unwrap()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The happy path and the background deliverer
// ---------------------------------------------------------------------------------------------

#[test]
fn delivers_to_the_real_hub_and_keeps_verified_receipts() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "obs", 7);
    let mut config = pilot.config(hub.url());
    config.batch_size(3).unwrap();
    let transport = Transport::new(config.build().unwrap()).unwrap();

    let report = deliver_all(&outbox, &transport).unwrap();
    assert_eq!((report.delivered, report.duplicates, report.dead_letters, report.retried), (7, 0, 0, 0), "{report:?}");
    assert_eq!(report.last_error, None);
    assert_eq!(report.next_attempt_at, None);
    assert_all_delivered(&pilot, &outbox, &ids);
    let status = outbox.status().unwrap();
    assert_eq!((status.queued, status.in_flight, status.delivered), (0, 0, 7));
    assert_eq!(pilot.hub_ledger(hub.url()).0, 7);
    outbox.check_sequence().unwrap();

    // Nothing left: a second run does nothing and contacts nobody.
    let again = deliver_all(&outbox, &transport).unwrap();
    assert_eq!(again, DeliveryReport::default());

    // `submit` on its own: a re-sent record is a DUPLICATE with the original receipt.
    let info = outbox.find(&ids[0]).unwrap();
    let claimed = medseal::outbox::Claimed {
        outbox_id: info.outbox_id,
        record_id: info.record_id.clone(),
        sequence: info.sequence,
        envelope: outbox.envelope(info.outbox_id).unwrap(),
        digest: info.digest,
        attempts: 1,
    };
    let results = transport.submit(&[claimed]).unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].status, wire::RecordStatus::Duplicate as i32);
    assert_eq!(Some(&results[0].receipt), info.receipt.as_ref());
    assert_eq!(pilot.hub_ledger(hub.url()).0, 7);
    hub.shutdown().unwrap();
}

#[test]
fn the_deliverer_sends_on_notify_and_stops_cleanly() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let outbox = Arc::new(pilot.outbox());
    let transport = Arc::new(pilot.transport(hub.url()));
    // A long poll interval: only the start and notify() make it deliver quickly.
    let deliverer = Deliverer::start(outbox.clone(), transport.clone(), Duration::from_secs(3600)).unwrap();
    let wait_delivered = |n: u64| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while outbox.status().unwrap().delivered < n {
            assert!(Instant::now() < deadline, "not delivered in time: {:?}, {:?}", outbox.status(), deliverer.last_report());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let first = pilot.enqueue(&outbox, "a", 3);
    deliverer.notify();
    wait_delivered(3);
    let second = pilot.enqueue(&outbox, "b", 4);
    deliverer.notify();
    wait_delivered(7);
    assert!(deliverer.rounds() >= 2);
    deliverer.stop();
    deliverer.stop(); // idempotent
    let after_stop = pilot.enqueue(&outbox, "c", 1);
    deliverer.notify(); // no thread any more: nothing happens
    std::thread::sleep(Duration::from_millis(200));
    assert_all_queued(&outbox, &after_stop);
    assert_all_delivered(&pilot, &outbox, &[first, second].concat());
    drop(deliverer);
    hub.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Outages: hub down, slow, cut off, busy, refusing
// ---------------------------------------------------------------------------------------------

#[test]
fn batch_after_batch_until_one_fails_as_a_whole() {
    // While a batch's receipts are verified and recorded, the next batch is already claimed and
    // sent; a batch that fails as a whole still ends the run, and nothing goes after it.
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let test_ca = ca("fault test CA");
    let busy = Act::Answer(503, vec![("Retry-After", "120".into())], b"maintenance".to_vec());
    let fault = fault_in_front(&pilot, hub.url(), &test_ca, vec![Act::Forward, Act::Forward, busy]);
    let mut config = pilot.config(&fault.url());
    config.hub_ca_pem(test_ca.pem.as_bytes()).unwrap().batch_size(2).unwrap();
    let transport = Transport::new(config.build().unwrap()).unwrap();
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "run", 7);

    let t0 = now();
    let report = deliver_all(&outbox, &transport).unwrap();
    assert_eq!((report.delivered, report.duplicates, report.dead_letters, report.retried), (4, 0, 0, 2), "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_HTTP, &["HTTP 503"]);
    assert_eq!(fault.requests(), 3, "nothing is sent after the batch that failed");
    assert_all_delivered(&pilot, &outbox, &ids[..4]);
    assert_all_queued(&outbox, &ids[4..]);
    let retry_at = outbox.find(&ids[4]).unwrap().next_attempt_at.unwrap();
    assert!(retry_at >= t0 + 120 && retry_at <= now() + 120, "Retry-After: {retry_at} vs {t0}");
    for id in &ids[4..6] {
        let info = outbox.find(id).unwrap();
        assert_eq!((info.attempts, info.next_attempt_at), (1, Some(retry_at)), "{info:?}");
    }
    assert_eq!(outbox.find(&ids[6]).unwrap().attempts, 0, "the last record was never claimed");
    assert_eq!(outbox.status().unwrap().in_flight, 0);

    // Later, the rest goes (the hub is answering again).
    let report = deliver_once(&outbox, &transport, retry_at).unwrap();
    assert_eq!(report.delivered, 2, "{report:?}");
    let report = deliver_all(&outbox, &transport).unwrap();
    assert_eq!((report.delivered, report.retried), (1, 0), "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids);
    assert_eq!(pilot.hub_ledger(hub.url()).0, 7);
    hub.shutdown().unwrap();
}

#[test]
fn hub_down_at_enqueue_then_records_go_when_it_starts() {
    let pilot = Pilot::new();
    let port = free_port();
    let url = format!("https://127.0.0.1:{port}");
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "wait", 5);
    let transport = pilot.transport(&url);

    let t0 = now();
    let report = deliver_all(&outbox, &transport).unwrap();
    assert_eq!((report.delivered, report.retried), (0, 5), "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_CONNECT, &["refused the connection", &format!("127.0.0.1:{port}")]);
    let next = report.next_attempt_at.unwrap();
    assert!(next > t0 && next <= now() + 1, "first retry within the 1 s window: {next} vs {t0}");
    assert_all_queued(&outbox, &ids);
    let info = outbox.find(&ids[0]).unwrap();
    assert!(info.last_error.as_deref().unwrap().contains("MEDSEAL_TRANSPORT_CONNECT"), "{info:?}");
    assert_eq!(info.attempts, 1);

    // Still down at the next attempt: the window doubles (2 s).
    let report = deliver_once(&outbox, &transport, next).unwrap();
    assert_eq!(report.retried, 5);
    let second = report.next_attempt_at.unwrap();
    assert!(second > next && second <= next + 2, "{second} vs {next}");

    // The hub comes up on that port; at the next attempt everything goes.
    let hub = pilot.start_hub(&format!("127.0.0.1:{port}"));
    let early = deliver_once(&outbox, &transport, second - 1).unwrap();
    assert_eq!(early.delivered, 0, "nothing is due before its next attempt");
    let report = deliver_once(&outbox, &transport, second).unwrap();
    assert_eq!((report.delivered, report.retried), (5, 0), "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids);
    assert_eq!(outbox.find(&ids[0]).unwrap().attempts, 3);
    assert_eq!(pilot.hub_ledger(hub.url()).0, 5);
    hub.shutdown().unwrap();
}

#[test]
fn slow_hub_times_out_then_the_retry_succeeds_without_a_duplicate() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let test_ca = ca("fault test CA");
    let fault = fault_in_front(&pilot, hub.url(), &test_ca, vec![Act::Slow(Duration::from_millis(2500))]);
    let transport = transport_to(&pilot, &fault, &test_ca, Duration::from_secs(1));
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "slow", 4);

    let t0 = now();
    let started = Instant::now();
    let report = deliver_once(&outbox, &transport, t0).unwrap();
    assert!(started.elapsed() < Duration::from_millis(2400), "the total timeout (1 s) was not applied: {:?}", started.elapsed());
    assert_eq!(report.retried, 4, "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_TIMEOUT, &["did not answer within the timeout of 1 s"]);
    assert_all_queued(&outbox, &ids);

    // The slow answer arrives at the hub after the client gave up; the retry then gets the
    // hub's original receipts, and the hub holds each record once.
    fault.drain();
    let report = deliver_once(&outbox, &transport, report.next_attempt_at.unwrap()).unwrap();
    assert_eq!((report.delivered, report.duplicates), (4, 4), "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids);
    assert_eq!(pilot.hub_ledger(hub.url()).0, 4);
    hub.shutdown().unwrap();
}

#[test]
fn answer_cut_off_mid_response_then_duplicate_with_the_original_receipt() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let test_ca = ca("fault test CA");
    let fault = fault_in_front(&pilot, hub.url(), &test_ca, vec![Act::ForwardThenCut]);
    let transport = transport_to(&pilot, &fault, &test_ca, Duration::from_secs(5));
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "cut", 6);

    let t0 = now();
    let report = deliver_once(&outbox, &transport, t0).unwrap();
    assert_eq!((report.delivered, report.retried), (0, 6), "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_CONNECT, &["closed before its answer was complete"]);
    assert_all_queued(&outbox, &ids);
    let (size, at_hub) = pilot.hub_ledger(hub.url());
    assert_eq!(size, 6, "the hub stored the batch whose answer was lost");

    let report = deliver_once(&outbox, &transport, report.next_attempt_at.unwrap()).unwrap();
    assert_eq!((report.delivered, report.duplicates, report.retried), (6, 6, 0), "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids);
    // The original receipts: the ledger indexes the hub gave the first time, no new entries.
    let (size, again) = pilot.hub_ledger(hub.url());
    assert_eq!((size, &again), (6, &at_hub));
    for id in &ids {
        let info = outbox.find(id).unwrap();
        assert_eq!(info.duplicate, Some(true));
        let proof = ledger::decode_inclusion_proof(info.inclusion.as_deref().unwrap()).unwrap();
        assert_eq!(at_hub[proof.leaf_index as usize], *id);
    }
    // Both attempts carried the same Idempotency-Key (the batch's ids did not change).
    let seen = fault.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].idempotency_key, seen[1].idempotency_key);
    assert_eq!(seen[0].records, ids);
    drop(seen);
    hub.shutdown().unwrap();
}

#[test]
fn service_unavailable_with_retry_after_in_seconds_and_as_a_date() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let test_ca = ca("fault test CA");
    let busy = || {
        Act::Answer(
            503,
            vec![("Retry-After", "120".into()), ("Content-Type", "application/json".into())],
            br#"{"code":"OVERLOADED","reason":"maintenance"}"#.to_vec(),
        )
    };
    let fault = fault_in_front(&pilot, hub.url(), &test_ca, vec![busy()]);
    let transport = transport_to(&pilot, &fault, &test_ca, Duration::from_secs(5));
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "busy", 3);

    let t0 = now();
    let report = deliver_once(&outbox, &transport, t0).unwrap();
    assert_eq!(report.retried, 3);
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_HTTP, &["HTTP 503", "maintenance"]);
    assert_eq!(report.next_attempt_at, Some(t0 + 120), "Retry-After overrides the 1 s backoff");
    for id in &ids {
        assert_eq!(outbox.find(id).unwrap().next_attempt_at, Some(t0 + 120));
    }
    // Not before it: nothing is claimed, the hub is not contacted.
    let early = deliver_once(&outbox, &transport, t0 + 119).unwrap();
    assert_eq!(early.delivered + early.retried, 0);
    assert_eq!(early.next_attempt_at, Some(t0 + 120));
    assert_eq!(fault.requests(), 1);

    // An HTTP date, 200 s ahead of the attempt.
    let date = time::OffsetDateTime::from_unix_timestamp(t0 + 120 + 200).unwrap();
    let imf = date
        .format(
            &time::format_description::parse_borrowed::<2>(
                "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
            )
            .unwrap(),
        )
        .unwrap();
    fault.push(Act::Answer(429, vec![("Retry-After", imf)], Vec::new()));
    let report = deliver_once(&outbox, &transport, t0 + 120).unwrap();
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_HTTP, &["HTTP 429"]);
    assert_eq!(report.next_attempt_at, Some(t0 + 320));

    // A Retry-After shorter than the backoff does not shorten it; a bad one is ignored.
    fault.push(Act::Answer(500, vec![("Retry-After", "soon".into())], b"oops".to_vec()));
    let report = deliver_once(&outbox, &transport, t0 + 320).unwrap();
    let next = report.next_attempt_at.unwrap();
    assert!(next > t0 + 320 && next <= t0 + 320 + 4, "attempt 3: jitter in a 4 s window, got {}", next - t0 - 320);

    let report = deliver_once(&outbox, &transport, next).unwrap();
    assert_eq!(report.delivered, 3, "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids);
    hub.shutdown().unwrap();
}

#[test]
fn bad_request_moves_the_batch_to_dead_letters_with_the_reason() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let test_ca = ca("fault test CA");
    let refusal = Act::Answer(
        400,
        vec![("Content-Type", "application/json".into())],
        br#"{"code":"MALFORMED_BATCH","reason":"the body is not a protobuf SubmitBatch"}"#.to_vec(),
    );
    let fault = fault_in_front(&pilot, hub.url(), &test_ca, vec![refusal, Act::Answer(404, Vec::new(), b"no such endpoint\n".to_vec())]);
    let transport = transport_to(&pilot, &fault, &test_ca, Duration::from_secs(5));
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "bad", 3);

    let report = deliver_once(&outbox, &transport, now()).unwrap();
    assert_eq!((report.dead_letters, report.retried, report.delivered), (3, 0, 0), "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_REJECTED, &["HTTP 400", "MALFORMED_BATCH", "not a protobuf SubmitBatch"]);
    for id in &ids {
        let info = outbox.find(id).unwrap();
        assert_eq!(info.state, State::DeadLetter);
        assert_eq!(info.dead_code.as_deref(), Some("MALFORMED_BATCH"));
        assert_eq!(info.dead_reason.as_deref(), Some("HTTP 400: the body is not a protobuf SubmitBatch"));
    }
    // A plain-text refusal: the code is the status.
    let more = pilot.enqueue(&outbox, "bad2", 1);
    let report = deliver_once(&outbox, &transport, now()).unwrap();
    assert_eq!(report.dead_letters, 1);
    let info = outbox.find(&more[0]).unwrap();
    assert_eq!((info.dead_code.as_deref(), info.dead_reason.as_deref()), (Some("HTTP_404"), Some("HTTP 404: no such endpoint")));

    // A dead letter requeued by an operator goes through.
    outbox.requeue(outbox.find(&ids[0]).unwrap().outbox_id).unwrap();
    let report = deliver_once(&outbox, &transport, now()).unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids[..1]);

    // A refused batch stops the run: the other records are not fed to a refusing hub.
    fault.push(Act::Answer(403, Vec::new(), br#"{"code":"NOT_ENROLLED","reason":"who are you?"}"#.to_vec()));
    let mut config = pilot.config(&fault.url());
    config.hub_ca_pem(test_ca.pem.as_bytes()).unwrap().batch_size(2).unwrap();
    let small_batches = Transport::new(config.build().unwrap()).unwrap();
    let rest = pilot.enqueue(&outbox, "rest", 4);
    let report = deliver_all(&outbox, &small_batches).unwrap();
    assert_eq!((report.dead_letters, report.delivered, report.retried), (2, 0, 0), "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_REJECTED, &["HTTP 403", "NOT_ENROLLED", "who are you?"]);
    for id in &rest[2..] {
        let info = outbox.find(id).unwrap();
        assert_eq!((info.state, info.attempts), (State::Queued, 0), "{info:?}");
    }
    hub.shutdown().unwrap();
}

#[test]
fn records_the_hub_rejects_become_dead_letters_with_its_code() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "ok", 2);
    // A record signed by a key the hub does not know (same facility): SIGNATURE_INVALID or
    // SIGNER_MISMATCH, for that record only.
    let stranger = Signer::new(Arc::new(Key::generate(medseal::Algorithm::EdDSA).unwrap()), SignOptions::default()).unwrap();
    let jws = stranger.sign(br#"{"resourceType":"Observation","id":"forged"}"#, Serialization::Flattened).unwrap();
    outbox.enqueue_signed("forged", jws.as_bytes()).unwrap();
    let transport = pilot.transport(hub.url());
    let report = deliver_all(&outbox, &transport).unwrap();
    assert_eq!((report.delivered, report.dead_letters, report.retried), (2, 1, 0), "{report:?}");
    assert_eq!(report.last_error, None, "a per-record refusal is not a transport error");
    let info = outbox.find("forged").unwrap();
    assert_eq!(info.state, State::DeadLetter);
    assert!(matches!(info.dead_code.as_deref(), Some("SIGNATURE_INVALID" | "SIGNER_MISMATCH")), "{info:?}");
    assert!(!info.dead_reason.unwrap_or_default().is_empty());
    assert_all_delivered(&pilot, &outbox, &ids);
    hub.shutdown().unwrap();
}

/// Issue 10 point 10: a record the hub refused for good after it took a number (signed by a
/// key the hub does not know) is withdrawn with the facility's signed tombstone, which is
/// delivered in its place: the hub's ledger then holds that sequence as withdrawn, with the
/// reason, and its audit shows no gap; the outbox's own ledger of what it sealed is unchanged
/// and the record's receipt is the tombstone's.
#[test]
fn a_dead_letter_withdrawn_with_a_signed_tombstone_is_no_gap_in_the_ledger() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let outbox = pilot.outbox();
    let mut ids = pilot.enqueue(&outbox, "before", 1);
    let stranger = Signer::new(Arc::new(Key::generate(medseal::Algorithm::EdDSA).unwrap()), SignOptions::default()).unwrap();
    let jws = stranger.sign(br#"{"resourceType":"Observation","id":"forged"}"#, Serialization::Flattened).unwrap();
    let forged = outbox.enqueue_signed("forged", jws.as_bytes()).unwrap();
    ids.extend(pilot.enqueue(&outbox, "after", 1));
    let transport = pilot.transport(hub.url());
    let report = deliver_all(&outbox, &transport).unwrap();
    assert_eq!((report.delivered, report.dead_letters), (2, 1), "{report:?}");
    assert_eq!(outbox.get(forged.outbox_id).unwrap().state, State::DeadLetter);
    let summary = &medseal_hub::audit(&pilot.hub_dir).unwrap().sources[FACILITY];
    assert_eq!((summary.gaps.clone(), summary.withdrawn.clone()), (vec![2], vec![]), "before the withdrawal: a gap");

    let sealed = outbox.sealed_ledger(1, 10).unwrap();
    let key = Key::import(&std::fs::read(pilot.facility_dir.join("signing.key")).unwrap(), None).unwrap();
    let signer = Signer::new(Arc::new(key), medseal::record::withdrawal_sign_options()).unwrap();
    let reason = "signed with the test key by mistake; re-sent as record forged-2";
    outbox.withdraw_signed(forged.outbox_id, reason, &signer).unwrap();
    let info = outbox.get(forged.outbox_id).unwrap();
    assert_eq!(info.state, State::Queued);
    assert_ne!(info.withdrawal_digest, Some(forged.digest));
    let report = deliver_all(&outbox, &transport).unwrap();
    assert_eq!((report.delivered, report.dead_letters), (1, 0), "{report:?}");
    assert_eq!(outbox.sealed_ledger(1, 10).unwrap(), sealed, "the local ledger of what was sealed never changes");

    // The receipt is the tombstone's: its digest, the number, and the reason.
    let info = outbox.get(forged.outbox_id).unwrap();
    assert_eq!(info.state, State::Delivered);
    let (receipt_keys, tree_head_keys) = pilot.receipt_keys();
    let proof = ledger::decode_inclusion_proof(info.inclusion.as_deref().unwrap()).unwrap();
    let receipt = ledger::verify_receipt(
        info.receipt.as_deref().unwrap().as_bytes(),
        &proof,
        &receipt_keys,
        &tree_head_keys,
        Some("forged"),
        Some(&info.withdrawal_digest.unwrap()),
    )
    .unwrap();
    assert_eq!((receipt.sequence, receipt.withdrawn.as_deref()), (2, Some(reason)));
    assert_all_delivered(&pilot, &outbox, &ids);

    // The hub's ledger: sequence 2 is withdrawn, with the reason; no gap.
    let (size, _) = pilot.hub_ledger(hub.url());
    assert_eq!(size, 3);
    hub.shutdown().unwrap();
    let audit = medseal_hub::audit(&pilot.hub_dir).unwrap();
    let entry = audit.entries.iter().find(|e| e.sequence == 2).unwrap();
    assert_eq!((entry.record_id.as_str(), entry.withdrawn.as_deref()), ("forged", Some(reason)));
    let summary = &audit.sources[FACILITY];
    assert_eq!(summary.withdrawn, vec![(2, reason.to_owned())]);
    assert!(summary.gaps.is_empty(), "{summary:?}");
    assert_eq!((summary.records, summary.highest), (2, 3));
}

// ---------------------------------------------------------------------------------------------
// Answers that do not match, receipts that do not verify
// ---------------------------------------------------------------------------------------------

#[test]
fn answers_that_do_not_match_the_batch_are_protocol_errors_and_retried() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let test_ca = ca("fault test CA");
    let script = vec![
        Act::Tamper(|r| {
            r.results.pop();
        }),
        Act::Tamper(|r| r.results.swap(0, 1)),
        Act::Tamper(|r| r.results[1].status = 0),
        Act::Answer(200, vec![("Content-Type", "application/x-protobuf".into())], b"\xff\xff\xff not protobuf".to_vec()),
        Act::Answer(302, vec![("Location", "https://elsewhere.example/v1/records".into())], Vec::new()),
        // Receipts that do not verify: a signature byte changed, a proof hash changed.
        Act::Tamper(|r| {
            let receipt = &mut r.results[0].receipt;
            let last = receipt.pop().unwrap();
            receipt.push(if last == 'A' { 'B' } else { 'A' });
        }),
        Act::Tamper(|r| {
            let inclusion = r.results.last_mut().unwrap().inclusion.as_mut().unwrap();
            inclusion.audit_path[0][0] ^= 1;
        }),
    ];
    let fault = fault_in_front(&pilot, hub.url(), &test_ca, script);
    let transport = transport_to(&pilot, &fault, &test_ca, Duration::from_secs(5));
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "p", 3);

    let mut t = now();
    let expectations: [&[&str]; 5] = [
        &["2 results for a batch of 3"],
        &["result 0 is for record \"p-1\"", "no record is marked"],
        &["no known status"],
        &["not a protobuf SubmitResponse"],
        &["HTTP 302", "elsewhere.example", "does not follow redirects"],
    ];
    for needles in expectations {
        let report = deliver_once(&outbox, &transport, t).unwrap();
        assert_eq!((report.delivered, report.retried), (0, 3), "{needles:?}: {report:?}");
        last_error(&report, ResultCode::MEDSEAL_TRANSPORT_PROTOCOL, needles);
        assert_all_queued(&outbox, &ids);
        t = report.next_attempt_at.unwrap();
    }
    // One bad receipt in a batch: that record stays queued, the others are delivered.
    let report = deliver_once(&outbox, &transport, t).unwrap();
    assert_eq!((report.delivered, report.retried), (2, 1), "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_PROTOCOL, &["receipt for record \"p-0\" does not verify", "stays queued"]);
    assert_eq!(outbox.find("p-0").unwrap().state, State::Queued);
    // Alone now, p-0 comes back with an inclusion proof that does not lead to the signed root.
    let report = deliver_once(&outbox, &transport, report.next_attempt_at.unwrap()).unwrap();
    assert_eq!((report.delivered, report.retried), (0, 1), "{report:?}");
    last_error(
        &report,
        ResultCode::MEDSEAL_TRANSPORT_PROTOCOL,
        &["receipt for record \"p-0\" does not verify", "MEDSEAL_LEDGER_PROOF_INVALID"],
    );
    let report = deliver_once(&outbox, &transport, report.next_attempt_at.unwrap()).unwrap();
    assert_eq!((report.delivered, report.duplicates), (1, 1), "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids);
    assert_eq!(pilot.hub_ledger(hub.url()).0, 3);
    hub.shutdown().unwrap();
}

#[test]
fn receipts_signed_by_another_key_leave_records_queued() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "k", 2);
    let mut config = pilot.config(hub.url());
    config.receipt_key(Arc::new(Key::generate(medseal::Algorithm::EdDSA).unwrap().to_public()));
    let transport = Transport::new(config.build().unwrap()).unwrap();
    // One pass at a fixed time: `deliver_all` could pick the records up again if its run
    // crossed their (1 s) retry time, which made this test flaky under load.
    let report = deliver_once(&outbox, &transport, now()).unwrap();
    assert_eq!((report.delivered, report.retried), (0, 2), "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_PROTOCOL, &["does not verify", "not signed by a receipt key"]);
    assert_all_queued(&outbox, &ids);
    // With the right key, the retry is delivered (as duplicates: the hub had them).
    let report = deliver_once(&outbox, &pilot.transport(hub.url()), report.next_attempt_at.unwrap()).unwrap();
    assert_eq!((report.delivered, report.duplicates), (2, 2));
    hub.shutdown().unwrap();
}

#[test]
fn a_receipt_for_another_facility_leaves_the_record_queued() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "elsewhere", 1);
    let info = outbox.find(&ids[0]).unwrap();
    // What a hub that mixed up its facilities would answer: a receipt and an inclusion proof
    // signed with the hub's own receipt and tree-head keys, for this record id, sequence and
    // envelope digest, in a ledger entry of another facility.
    let signer = |file: &str, options: SignOptions| {
        let key = Key::import(&std::fs::read(pilot.hub_dir.join(file)).unwrap(), None).unwrap();
        Signer::new(Arc::new(key), options).unwrap()
    };
    let receipt = ledger::Receipt {
        record_id: ids[0].clone(),
        source: "another-facility".to_owned(),
        sequence: info.sequence,
        digest: info.digest,
        received: now(),
        ledger_index: 0,
        tree_size: 1,
        withdrawn: None,
    };
    let head = ledger::TreeHead { tree_size: 1, root_hash: receipt.entry().leaf_hash(), timestamp: now() };
    let inclusion = wire::InclusionProof {
        leaf_index: 0,
        tree_size: 1,
        audit_path: Vec::new(),
        tree_head: head.sign(&signer("tree-head.key", ledger::tree_head_sign_options())).unwrap(),
    };
    let receipt_jws = receipt.sign(&signer("receipt.key", ledger::receipt_sign_options())).unwrap();
    // It verifies with the keys the facility trusts, for this record and digest: only the
    // facility it names is wrong, so that check alone is what keeps the record queued.
    let (receipt_keys, tree_head_keys) = pilot.receipt_keys();
    let forged =
        ledger::verify_receipt(receipt_jws.as_bytes(), &inclusion, &receipt_keys, &tree_head_keys, Some(&ids[0]), Some(&info.digest))
            .unwrap();
    assert_eq!(forged.source, "another-facility");
    let answer = wire::SubmitResponse {
        results: vec![wire::RecordResult {
            record_id: ids[0].clone(),
            status: wire::RecordStatus::Accepted as i32,
            receipt: receipt_jws,
            inclusion: Some(inclusion),
            code: String::new(),
            reason: String::new(),
        }],
    };
    let test_ca = ca("fault test CA");
    let script = vec![Act::Answer(200, vec![("Content-Type", "application/x-protobuf".into())], answer.encode_to_vec())];
    let fault = fault_in_front(&pilot, hub.url(), &test_ca, script);
    let transport = transport_to(&pilot, &fault, &test_ca, Duration::from_secs(5));

    let report = deliver_once(&outbox, &transport, now()).unwrap();
    assert_eq!((report.delivered, report.retried, report.dead_letters), (0, 1, 0), "{report:?}");
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_PROTOCOL, &["names facility", "another-facility", FACILITY, "stays queued"]);
    assert_all_queued(&outbox, &ids);
    let kept = outbox.find(&ids[0]).unwrap();
    assert_eq!((kept.receipt, kept.inclusion), (None, None), "the foreign receipt is not kept");
    assert_eq!(outbox.delivery(&ids[0]).unwrap_err().code(), ResultCode::MEDSEAL_OUTBOX_STATE);

    // The retry reaches the real hub, whose receipt names this facility.
    let report = deliver_once(&outbox, &transport, report.next_attempt_at.unwrap()).unwrap();
    assert_eq!((report.delivered, report.duplicates), (1, 0), "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids);
    assert_eq!(fault.requests(), 2);
    hub.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Certificates: each refused, with its reason, records kept, backoff at the cap
// ---------------------------------------------------------------------------------------------

/// Delivers to a fault server that must fail the handshake; returns the error message.
fn refused(pilot: &Pilot, fault: &FaultServer, trusted_ca: &str, url: &str, needles: &[&str]) -> String {
    let outbox = pilot.outbox();
    let label = url.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let ids = pilot.enqueue(&outbox, &label, 2);
    let mut config = pilot.config(url);
    config.hub_ca_pem(trusted_ca.as_bytes()).unwrap();
    let transport = Transport::new(config.build().unwrap()).unwrap();
    let t0 = now();
    let report = deliver_all(&outbox, &transport).unwrap();
    let message = last_error(&report, ResultCode::MEDSEAL_TRANSPORT_TLS, needles);
    assert_eq!((report.delivered, report.retried), (0, 2), "{report:?}");
    assert_all_queued(&outbox, &ids);
    let info = outbox.find(&ids[0]).unwrap();
    let next = info.next_attempt_at.unwrap();
    assert!(next >= t0 + 300 && next <= now() + 300, "certificate errors back off at the cap: {info:?}");
    assert!(info.last_error.unwrap().contains("MEDSEAL_TRANSPORT_TLS"));
    assert_eq!(fault.requests(), 0, "no request may be sent over a refused connection");
    // A whole batch failed: deliver_all stopped at once (one attempt each).
    assert_eq!(info.attempts, 1);
    message
}

#[test]
fn a_server_certificate_of_another_ca_is_refused() {
    let pilot = Pilot::new();
    let (test_ca, other_ca) = (ca("fault test CA"), ca("someone else's CA"));
    let hub_ca = std::fs::read_to_string(pilot.facility_dir.join("hub-ca.pem")).unwrap();
    let server = leaf(&other_ca, &["127.0.0.1"], true, (-1, 30));
    let fault = FaultServer::start(&server, verifier_for(&hub_ca), None, Vec::new());
    refused(&pilot, &fault, &test_ca.pem, &fault.url(), &["not issued by the pinned hub CA", "unknown CA"]);
}

#[test]
fn a_server_certificate_for_another_name_is_refused() {
    let pilot = Pilot::new();
    let test_ca = ca("fault test CA");
    let hub_ca = std::fs::read_to_string(pilot.facility_dir.join("hub-ca.pem")).unwrap();
    let server = leaf(&test_ca, &["hub.other.example"], true, (-1, 30));
    let fault = FaultServer::start(&server, verifier_for(&hub_ca), None, Vec::new());
    let message = refused(&pilot, &fault, &test_ca.pem, &fault.url(), &["not valid for the name \"127.0.0.1\"", "name mismatch"]);
    assert!(message.contains("(it names hub.other.example)"), "{message}");
    // The same through "localhost".
    let url = format!("https://localhost:{}", fault.addr.port());
    refused(&pilot, &fault, &test_ca.pem, &url, &["not valid for the name \"localhost\"", "name mismatch"]);
}

#[test]
fn an_expired_server_certificate_is_refused() {
    let pilot = Pilot::new();
    let test_ca = ca("fault test CA");
    let hub_ca = std::fs::read_to_string(pilot.facility_dir.join("hub-ca.pem")).unwrap();
    let server = leaf(&test_ca, &["127.0.0.1"], true, (-30, -1));
    let fault = FaultServer::start(&server, verifier_for(&hub_ca), None, Vec::new());
    refused(&pilot, &fault, &test_ca.pem, &fault.url(), &["expired on", "expired certificate"]);
}

#[test]
fn a_hub_that_gets_no_usable_client_certificate_refuses() {
    let pilot = Pilot::new();
    let test_ca = ca("fault test CA");
    let hub_ca = std::fs::read_to_string(pilot.facility_dir.join("hub-ca.pem")).unwrap();
    let server = leaf(&test_ca, &["127.0.0.1"], true, (-1, 30));
    let fault = FaultServer::start(&server, Arc::new(UnusableSchemes(verifier_for(&hub_ca))), None, Vec::new());
    refused(&pilot, &fault, &test_ca.pem, &fault.url(), &["requires a client certificate", "client certificate refused"]);
}

#[test]
fn a_client_certificate_the_hub_does_not_know_is_refused() {
    let pilot = Pilot::new();
    let test_ca = ca("fault test CA");
    let server = leaf(&test_ca, &["127.0.0.1"], true, (-1, 30));
    // The server trusts only another CA for client certificates.
    let fault = FaultServer::start(&server, verifier_for(&ca("another hub's CA").pem), None, Vec::new());
    refused(&pilot, &fault, &test_ca.pem, &fault.url(), &["refused our client certificate", "client certificate refused", FACILITY]);
}

#[test]
fn the_real_hub_refuses_a_client_certificate_of_another_ca() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let stranger_ca = ca("not the hub's CA");
    let client = leaf(&stranger_ca, &[FACILITY], false, (-1, 30));
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "stranger", 2);
    let mut config = pilot.config(hub.url());
    config.client_certificate_pem(client.cert_pem.as_bytes()).unwrap().client_key_pem(client.key_pem.as_bytes()).unwrap();
    let transport = Transport::new(config.build().unwrap()).unwrap();
    let report = deliver_all(&outbox, &transport).unwrap();
    // With TLS 1.3 the hub's alert often comes after the request was written into the closed
    // connection ("broken pipe"); the transport then asks once more, without a request, and
    // reads the alert.
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_TLS, &["refused our client certificate", "client certificate refused"]);
    assert!(report.next_attempt_at.unwrap() >= now() + 299, "{report:?}");
    assert_eq!((report.delivered, report.retried), (0, 2));
    assert_all_queued(&outbox, &ids);
    assert_eq!(pilot.hub_ledger(hub.url()).0, 0);
    hub.shutdown().unwrap();
}

#[test]
fn an_expired_client_certificate_is_named_when_the_hub_refuses_it() {
    let pilot = Pilot::new();
    let test_ca = ca("fault test CA");
    let server = leaf(&test_ca, &["127.0.0.1"], true, (-1, 30));
    let client_ca = ca("client CA");
    let client = leaf(&client_ca, &[FACILITY], false, (-60, -2));
    let fault = FaultServer::start(&server, verifier_for(&client_ca.pem), None, Vec::new());
    let outbox = pilot.outbox();
    pilot.enqueue(&outbox, "old", 1);
    let mut config = pilot.config(&fault.url());
    config.hub_ca_pem(test_ca.pem.as_bytes()).unwrap();
    config.client_certificate_pem(client.cert_pem.as_bytes()).unwrap().client_key_pem(client.key_pem.as_bytes()).unwrap();
    let report = deliver_all(&outbox, &Transport::new(config.build().unwrap()).unwrap()).unwrap();
    last_error(&report, ResultCode::MEDSEAL_TRANSPORT_TLS, &["refused our client certificate", "is valid only from"]);
}

// ---------------------------------------------------------------------------------------------
// Proxies
// ---------------------------------------------------------------------------------------------

/// A minimal HTTP CONNECT proxy: records each CONNECT target and pipes bytes both ways.
struct ConnectProxy {
    addr: SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
}

fn connect_proxy() -> ConnectProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = targets.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let target = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
                seen.lock().unwrap().push(head.lines().next().unwrap_or_default().to_owned());
                let Ok(upstream) = TcpStream::connect(&target) else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                    return;
                };
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
                let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let (mut c1, mut u1) = (client, upstream);
                let up = std::thread::spawn(move || {
                    let _ = io::copy(&mut c1, &mut u1);
                    let _ = u1.shutdown(std::net::Shutdown::Write);
                });
                let _ = io::copy(&mut u2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
                let _ = up.join();
            });
        }
    });
    ConnectProxy { addr, targets }
}

#[test]
fn delivers_through_an_http_connect_proxy() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let proxy = connect_proxy();
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "px", 3);
    let mut config = pilot.config(hub.url());
    config.proxy(&format!("http://user:secret@{}", proxy.addr)).unwrap();
    let report = deliver_all(&outbox, &Transport::new(config.build().unwrap()).unwrap()).unwrap();
    assert_eq!(report.delivered, 3, "{report:?}");
    assert_all_delivered(&pilot, &outbox, &ids);
    let targets = proxy.targets.lock().unwrap().clone();
    assert!(!targets.is_empty());
    assert!(targets.iter().all(|t| t.starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", hub.local_addr().port()))), "{targets:?}");

    // A proxy that cannot reach the hub: a connect error naming the proxy (not its password).
    let more = pilot.enqueue(&outbox, "px2", 1);
    let mut config = TransportConfigBuilder::new(&format!("https://127.0.0.1:{}", free_port())).unwrap();
    config.facility_dir(&pilot.facility_dir).unwrap();
    config.proxy(&format!("http://user:secret@{}", proxy.addr)).unwrap();
    let report = deliver_all(&outbox, &Transport::new(config.build().unwrap()).unwrap()).unwrap();
    let message = last_error(&report, ResultCode::MEDSEAL_TRANSPORT_CONNECT, &["proxy"]);
    assert!(!message.contains("secret"), "{message}");
    assert_all_queued(&outbox, &more);
    hub.shutdown().unwrap();
}

#[test]
fn the_proxy_from_the_environment_and_no_proxy() {
    // The only test that touches the environment; every other transport is configured
    // explicitly (and ureq's own reading of the environment is replaced by ours).
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let proxy = connect_proxy();
    let outbox = pilot.outbox();
    std::env::set_var("HTTPS_PROXY", format!("http://{}", proxy.addr));
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let mut config = pilot.config(hub.url());
    config.proxy_from_env(true);
    let via_proxy = Transport::new(config.build().unwrap());
    std::env::set_var("NO_PROXY", "localhost, 127.0.0.1");
    let direct = Transport::new(config.build().unwrap());
    std::env::set_var("HTTPS_PROXY", "socks5://127.0.0.1:1");
    std::env::remove_var("NO_PROXY");
    let socks = Transport::new(config.build().unwrap());
    std::env::remove_var("HTTPS_PROXY");

    pilot.enqueue(&outbox, "env", 1);
    assert_eq!(deliver_all(&outbox, &via_proxy.unwrap()).unwrap().delivered, 1);
    assert_eq!(proxy.targets.lock().unwrap().len(), 1);
    pilot.enqueue(&outbox, "env2", 1);
    assert_eq!(deliver_all(&outbox, &direct.unwrap()).unwrap().delivered, 1);
    assert_eq!(proxy.targets.lock().unwrap().len(), 1, "NO_PROXY bypasses the proxy");
    let e = socks.unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_TRANSPORT_CONFIG);
    assert!(e.message().contains("HTTPS_PROXY") && e.message().contains("only HTTP CONNECT proxies"), "{e}");
    hub.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

#[test]
fn configuration_errors_say_what_is_wrong() {
    let pilot = Pilot::new();
    let config_error = |r: medseal::Result<()>, needle: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_TRANSPORT_CONFIG, "{e}");
        assert!(e.message().contains(needle), "{e} does not mention {needle:?}");
    };
    config_error(TransportConfigBuilder::new("http://127.0.0.1:8443").map(drop), "plain HTTP");
    config_error(TransportConfigBuilder::new("127.0.0.1:8443").map(drop), "not an https:// URL");
    let read = |name: &str| std::fs::read(pilot.facility_dir.join(name)).unwrap();
    let url = "https://127.0.0.1:8443";

    let mut b = TransportConfigBuilder::new(url).unwrap();
    config_error(b.build().map(drop), "no client certificate");
    b.client_certificate_pem(&read("client.pem")).unwrap();
    config_error(b.build().map(drop), "no client key");
    b.client_key_pem(&read("client.key")).unwrap();
    config_error(b.build().map(drop), "no hub CA");
    b.public_roots(true);
    config_error(b.build().map(drop), "no receipt key");
    b.hub_ca_pem(&read("hub-ca.pem")).unwrap();
    let receipt = Arc::new(Key::import(&read("receipt.pub"), None).unwrap());
    b.receipt_key(receipt);
    b.tree_head_key(Arc::new(Key::import(&read("tree-head.pub"), None).unwrap()));
    config_error(b.build().map(drop), "choose one");
    b.public_roots(false);
    Transport::new(b.build().unwrap()).unwrap();

    // Bytes that are not what they should be.
    config_error(b.client_certificate_pem(b"not a certificate").map(drop), "no PEM CERTIFICATE");
    config_error(b.client_key_pem(&read("client.pem")).map(drop), "no PEM PRIVATE KEY");
    config_error(
        b.client_key_pem(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n").map(drop),
        "encrypted",
    );
    config_error(b.hub_ca_pem(&read("client.key")).map(drop), "no PEM CERTIFICATE");
    config_error(b.proxy("socks5://127.0.0.1:1080").map(drop), "only HTTP CONNECT");
    config_error(b.batch_size(0).map(drop), "1 to 1000");
    config_error(b.batch_size(1001).map(drop), "1 to 1000");
    config_error(b.timeout(Duration::ZERO).map(drop), "between 1 ms and 1 hour");
    b.timeout(Duration::from_secs(1)).unwrap();
    config_error(b.build().map(drop), "longer than the total timeout");
    b.timeout(Duration::from_secs(30)).unwrap();

    // A key that is not the certificate's.
    let other = leaf(&ca("x"), &[FACILITY], false, (-1, 30));
    b.client_key_pem(other.key_pem.as_bytes()).unwrap();
    let e = Transport::new(b.build().unwrap()).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_TRANSPORT_CONFIG);
    assert!(e.message().contains("does not belong to the client certificate"), "{e}");
    assert!(e.message().contains(FACILITY), "{e}");

    // A facility directory without its files.
    let empty = tempfile::tempdir().unwrap();
    config_error(TransportConfigBuilder::new(url).unwrap().facility_dir(empty.path()).map(drop), "client.pem");
    // Debug never shows the key or the proxy password.
    b.proxy("http://user:secret@proxy.local:3128").unwrap();
    let shown = format!("{:?}", b.build().unwrap());
    assert!(!shown.contains("secret") && !shown.contains("BEGIN"), "{shown}");
}

#[test]
fn a_timeout_as_long_as_the_outbox_lease_is_refused() {
    let pilot = Pilot::new();
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "lease", 1);
    let mut config = pilot.config("https://127.0.0.1:1");
    config.timeout(Duration::from_secs(60)).unwrap();
    let transport = Transport::new(config.build().unwrap()).unwrap();
    for result in [deliver_all(&outbox, &transport), deliver_once(&outbox, &transport, now())] {
        let e = result.unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_TRANSPORT_CONFIG);
        assert!(e.message().contains("shorter than the outbox lease (60 s)"), "{e}");
    }
    // Nothing was claimed.
    assert_eq!(outbox.find(&ids[0]).unwrap().attempts, 0);
    assert_all_queued(&outbox, &ids);
}

#[test]
fn the_facility_dir_is_enough_to_reach_the_hub() {
    let pilot = Pilot::new();
    let hub = pilot.start_hub("127.0.0.1:0");
    let mut b = TransportConfigBuilder::new(hub.url()).unwrap();
    b.facility_dir(Path::new(&pilot.facility_dir)).unwrap();
    let config = b.build().unwrap();
    assert_eq!(config.batch_size(), 100);
    assert!(config.client_subject().contains(FACILITY));
    let outbox = pilot.outbox();
    let ids = pilot.enqueue(&outbox, "fd", 2);
    assert_eq!(deliver_all(&outbox, &Transport::new(config).unwrap()).unwrap().delivered, 2);
    assert_all_delivered(&pilot, &outbox, &ids);
    hub.shutdown().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Forks (issue 10, point 11)
// ---------------------------------------------------------------------------------------------

/// Another facility of the same pilot, with its own outbox, sending `n` records to `url`.
fn other_facility_sends(dir: &Path, url: &str, prefix: &str, n: usize) {
    let key = Key::import(&std::fs::read(dir.join("signing.key")).unwrap(), None).unwrap();
    let signer = Signer::new(Arc::new(key), SignOptions::default()).unwrap();
    let recipient = RecipientKey::import(&std::fs::read(dir.join("hub-recipient.pub")).unwrap()).unwrap();
    let outbox = Outbox::open(OutboxConfig::new(dir.join(format!("{prefix}.sqlite")), "bv-nhi-dong", vec![recipient])).unwrap();
    for i in 0..n {
        let doc = format!(r#"{{"resourceType":"Observation","id":"{prefix}-{i}","status":"final"}}"#);
        outbox.enqueue_signed(&format!("{prefix}-{i}"), signer.sign(doc.as_bytes(), Serialization::Flattened).unwrap().as_bytes()).unwrap();
    }
    let mut config = TransportConfigBuilder::new(url).unwrap();
    config.facility_dir(dir).unwrap();
    let report = deliver_all(&outbox, &Transport::new(config.build().unwrap()).unwrap()).unwrap();
    assert_eq!(report.delivered, n as u64, "{report:?}");
}

/// Enrols a second facility (its directory returned) in the pilot's hub.
fn enroll_other_facility(pilot: &Pilot) -> PathBuf {
    let dir = pilot.tmp.path().join("nhi-dong");
    medseal_hub::pki::enroll_local(&pilot.hub_dir, "bv-nhi-dong", &dir).unwrap();
    dir
}

/// A copy of the pilot's hub directory (what a dishonest operator forks the hub from).
fn copy_of_the_hub(pilot: &Pilot) -> PathBuf {
    let twin = pilot.tmp.path().join("twin");
    assert!(std::process::Command::new("cp").arg("-a").arg(&pilot.hub_dir).arg(&twin).status().unwrap().success());
    twin
}

#[test]
fn a_hub_that_shows_two_histories_is_caught_and_gets_nothing_more() {
    // Two hubs from one state (a copied directory) that then diverge: the facility checks each
    // new tree head against the one it holds (consistency proof) and stops at the first that
    // cannot be true, keeping both signed heads as evidence.
    let pilot = Pilot::new();
    let other_dir = enroll_other_facility(&pilot);
    let outbox = pilot.outbox();
    let hub = pilot.start_hub("127.0.0.1:0");
    let ids = pilot.enqueue(&outbox, "before", 2);
    assert_eq!(deliver_all(&outbox, &pilot.transport(hub.url())).unwrap().delivered, 2);
    assert_eq!(outbox.latest_tree_head().unwrap().unwrap().tree_size, 2);
    hub.shutdown().unwrap();

    // The operator copies the hub; each copy then goes its own way.
    let twin_dir = copy_of_the_hub(&pilot);
    let hub = pilot.start_hub("127.0.0.1:0");
    let twin = medseal_hub::start(&twin_dir, "127.0.0.1:0".parse().unwrap()).unwrap();
    other_facility_sends(&other_dir, hub.url(), "on-hub", 2);
    other_facility_sends(&other_dir, twin.url(), "on-twin", 1);

    // The twin extends what the facility holds: fine, its head (size 4) is kept.
    let third = pilot.enqueue(&outbox, "third", 1);
    let report = deliver_all(&outbox, &pilot.transport(twin.url())).unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(outbox.latest_tree_head().unwrap().unwrap().tree_size, 4);

    // The first hub's head (size 5) does not extend the twin's size 4: a fork.
    let fourth = pilot.enqueue(&outbox, "fourth", 1);
    let error = deliver_all(&outbox, &pilot.transport(hub.url())).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_LEDGER_FORK, "{error}");
    assert!(error.message().contains("two histories") && error.message().contains("not a prefix"), "{error}");
    assert_eq!(outbox.find(&fourth[0]).unwrap().state, State::Queued, "a record is not delivered into a forked history");
    let forks = outbox.forks().unwrap();
    assert_eq!(forks.len(), 1);
    let keys = medseal::Verifier::new(vec![Arc::new(
        Key::import(&std::fs::read(pilot.facility_dir.join("tree-head.pub")).unwrap(), None).unwrap(),
    )]);
    let held = ledger::TreeHead::verify(forks[0].held_jws.as_bytes(), &keys).unwrap();
    let shown = ledger::TreeHead::verify(forks[0].shown_jws.as_bytes(), &keys).unwrap();
    assert_eq!((held.tree_size, shown.tree_size), (4, 5), "both signed heads are kept as evidence");

    // Delivery stays stopped, to either hub.
    for url in [hub.url(), twin.url()] {
        assert_eq!(deliver_all(&outbox, &pilot.transport(url)).unwrap_err().code(), ResultCode::MEDSEAL_LEDGER_FORK);
    }
    // The heads the facility holds can be exported: sizes 2 and 4, each signed by the hub.
    let sizes: Vec<u64> = outbox.tree_heads().unwrap().iter().map(|h| h.tree_size).collect();
    assert_eq!(sizes, [2, 4]);
    let _ = (ids, third);
    hub.shutdown().unwrap();
    twin.shutdown().unwrap();
}

#[test]
fn two_roots_for_one_size_are_a_fork_too() {
    // The same size, different histories: caught without any proof.
    let pilot = Pilot::new();
    let other_dir = enroll_other_facility(&pilot);
    let outbox = pilot.outbox();
    let twin_dir = copy_of_the_hub(&pilot);
    let hub = pilot.start_hub("127.0.0.1:0");
    let twin = medseal_hub::start(&twin_dir, "127.0.0.1:0".parse().unwrap()).unwrap();
    other_facility_sends(&other_dir, hub.url(), "on-hub", 1);
    other_facility_sends(&other_dir, twin.url(), "on-twin", 1);
    pilot.enqueue(&outbox, "a", 1);
    assert_eq!(deliver_all(&outbox, &pilot.transport(hub.url())).unwrap().delivered, 1);
    let b = pilot.enqueue(&outbox, "b", 1);
    // Size 2 on the twin; the facility holds size 2 of the first hub, another root.
    let twin_size_two = &b;
    let error = deliver_all(&outbox, &pilot.transport(twin.url())).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_LEDGER_FORK, "{error}");
    assert!(error.message().contains("two different roots signed for tree size 2"), "{error}");
    assert_eq!(outbox.find(&twin_size_two[0]).unwrap().state, State::Queued);
    hub.shutdown().unwrap();
    twin.shutdown().unwrap();
}
