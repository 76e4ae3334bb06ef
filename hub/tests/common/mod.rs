//! A pilot for the tests: a hub made with `init`, facilities made with `enroll`, the hub
//! running on 127.0.0.1:0, and real mutual-TLS clients (ureq on rustls).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use medseal::ledger::{verify_receipt_and_tree_head, Hash, Receipt, TreeHead};
use medseal::record::seal_signed;
use medseal::wire::{InclusionProof, RecordResult, RecordStatus, SubmitBatch, SubmitResponse, SubmittedRecord};
use medseal::{Aead, Key, Meta, RecipientKey, SignOptions, Signer, Verifier};
use medseal_hub::{EnrollOptions, FacilityInitOptions, HubHandle, InitOptions};
use prost::Message;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};

pub const PROTOBUF: &str = "application/x-protobuf";

/// A hub directory with two enrolled facilities, and the hub running.
pub struct Pilot {
    pub temp: tempfile::TempDir,
    pub hub_dir: PathBuf,
    pub hub: Option<HubHandle>,
    pub a: Facility,
    pub b: Facility,
    /// A client with an auditor's certificate (reads the whole ledger, submits nothing).
    pub auditor: ureq::Agent,
}

impl Pilot {
    /// A new pilot, hub started.
    pub fn new() -> Pilot {
        Pilot::with_config(|_| {})
    }

    /// A new pilot whose hub.json is changed by `edit` before the hub starts.
    pub fn with_config(edit: impl FnOnce(&mut medseal_hub::HubConfig)) -> Pilot {
        Pilot::with_hub_json(|json| {
            let mut config: medseal_hub::HubConfig = serde_json::from_value(json.clone()).unwrap();
            edit(&mut config);
            *json = serde_json::to_value(config).unwrap();
        })
    }

    /// A new pilot whose hub.json, as JSON, is changed by `edit` before the hub starts (for
    /// members such as `limits` that a test sets without naming the Rust types).
    pub fn with_hub_json(edit: impl FnOnce(&mut serde_json::Value)) -> Pilot {
        let temp = tempfile::tempdir().unwrap();
        let hub_dir = temp.path().join("hub");
        medseal_hub::init(&InitOptions::new(&hub_dir)).unwrap();
        let path = hub_dir.join("hub.json");
        let mut config: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        edit(&mut config);
        std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let a = Facility::enroll(&hub_dir, "hospital-a", &temp.path().join("a"));
        let b = Facility::enroll(&hub_dir, "hospital-b", &temp.path().join("b"));
        let auditor = enroll_auditor(&hub_dir, "city-auditor", &temp.path().join("auditor"));
        let hub = medseal_hub::start(&hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap();
        Pilot { temp, hub_dir, hub: Some(hub), a, b, auditor }
    }

    pub fn hub(&self) -> &HubHandle {
        self.hub.as_ref().expect("the hub runs")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub().url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.hub().local_addr()
    }

    /// Stops the hub and starts it again from its directory.
    pub fn restart(&mut self) {
        self.hub.take().unwrap().shutdown().unwrap();
        self.hub = Some(medseal_hub::start(&self.hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap());
    }

    /// The hub's receipt and tree-head public keys, from facility A's copies.
    pub fn receipt_keys(&self) -> Verifier {
        verifier(&self.a.dir.join("receipt.pub"))
    }

    pub fn tree_head_keys(&self) -> Verifier {
        verifier(&self.a.dir.join("tree-head.pub"))
    }

    /// Checks a receipt and its inclusion proof the way a hospital does.
    pub fn verify_receipt(&self, result: &RecordResult, record: &SubmittedRecord) -> (Receipt, TreeHead) {
        let digest: Hash = record.digest.as_slice().try_into().unwrap();
        verify_receipt_and_tree_head(
            result.receipt.as_bytes(),
            result.inclusion.as_ref().expect("an inclusion proof"),
            &self.receipt_keys(),
            &self.tree_head_keys(),
            Some(&record.record_id),
            Some(&digest),
        )
        .unwrap_or_else(|e| panic!("the receipt of {} does not verify: {e}", record.record_id))
    }

    /// GET `path` as facility A; status and body.
    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let mut response = self.a.agent.get(self.url(path)).call().unwrap();
        (response.status().as_u16(), response.body_mut().read_to_vec().unwrap())
    }

    /// GET `path` as the auditor; status and body.
    pub fn get_as_auditor(&self, path: &str) -> (u16, Vec<u8>) {
        let mut response = self.auditor.get(self.url(path)).call().unwrap();
        (response.status().as_u16(), response.body_mut().read_to_vec().unwrap())
    }

    /// GET a JSON document.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }

    /// The latest signed tree head, verified.
    pub fn tree_head(&self) -> (TreeHead, String) {
        let doc = self.get_json("/v1/tree-head");
        let jws = doc["tree_head"].as_str().unwrap().to_owned();
        (TreeHead::verify(jws.as_bytes(), &self.tree_head_keys()).unwrap(), jws)
    }
}

/// What a hospital and the hub do to enrol it: the hospital makes its keys and request in
/// `out` (`medseal facility init`), the hub enrols the public parts into the same directory.
pub fn enroll_facility(hub_dir: &Path, id: &str, out: &Path) -> medseal_hub::Enrolled {
    medseal_hub::pki::enroll_local(hub_dir, id, out).unwrap()
}

/// An auditor's certificate (no signing keys) and a client using it.
pub fn enroll_auditor(hub_dir: &Path, id: &str, out: &Path) -> ureq::Agent {
    medseal_hub::facility_init(&FacilityInitOptions {
        facility: id.to_owned(),
        dir: out.to_owned(),
        signing_algorithm: medseal::Algorithm::EdDSA,
        force: false,
        tls_token: None,
    })
    .unwrap();
    let mut options = enroll_options(hub_dir, id, out);
    options.signing_keys.clear();
    options.auditor = true;
    medseal_hub::enroll(&options).unwrap();
    agent(&out.join("hub-ca.pem"), Some((&out.join("client.pem"), &out.join("client.key"))))
}

/// Enrolment of the public parts `facility_init` wrote into `dir`.
pub fn enroll_options(hub_dir: &Path, id: &str, dir: &Path) -> EnrollOptions {
    EnrollOptions {
        hub_dir: hub_dir.to_owned(),
        facility: id.to_owned(),
        signing_keys: vec![std::fs::read(dir.join("signing.pub")).unwrap()],
        csr: std::fs::read(dir.join("client.csr")).unwrap(),
        out: dir.to_owned(),
        auditor: false,
        force: false,
    }
}

/// One enrolled facility: its files, its signer, the hub's recipient key and a client.
pub struct Facility {
    pub id: String,
    pub dir: PathBuf,
    pub signer: Signer,
    pub hub_recipient: RecipientKey,
    pub agent: ureq::Agent,
}

impl Facility {
    pub fn enroll(hub_dir: &Path, id: &str, out: &Path) -> Facility {
        enroll_facility(hub_dir, id, out);
        Facility::load(id, out)
    }

    pub fn load(id: &str, dir: &Path) -> Facility {
        let key = Key::import(&std::fs::read(dir.join("signing.key")).unwrap(), None).unwrap();
        let signer = Signer::new(Arc::new(key), SignOptions::default()).unwrap();
        let hub_recipient = RecipientKey::import(&std::fs::read(dir.join("hub-recipient.pub")).unwrap()).unwrap();
        let agent = agent(&dir.join("hub-ca.pem"), Some((&dir.join("client.pem"), &dir.join("client.key"))));
        Facility { id: id.to_owned(), dir: dir.to_owned(), signer, hub_recipient, agent }
    }

    /// A record from this facility, signed with its key and sealed to the hub.
    pub fn record(&self, record_id: &str, sequence: u64) -> SubmittedRecord {
        self.record_with(record_id, sequence, &self.id, &self.signer, &self.hub_recipient, "final")
    }

    /// A record with every part chosen.
    pub fn record_with(
        &self,
        record_id: &str,
        sequence: u64,
        source: &str,
        signer: &Signer,
        recipient: &RecipientKey,
        status: &str,
    ) -> SubmittedRecord {
        let document =
            format!(r#"{{"resourceType":"Observation","id":"{record_id}","status":"{status}","valueQuantity":{{"value":37.2}}}}"#);
        let envelope = seal_signed(signer, document.as_bytes(), Meta::new(record_id, source, sequence), &[recipient], Aead::Aes256Gcm)
            .unwrap()
            .to_protobuf()
            .unwrap();
        submitted(record_id, envelope)
    }

    /// POSTs a batch (protobuf); status, headers' Retry-After and body.
    pub fn post_raw(&self, url: &str, content_type: &str, body: &[u8]) -> (u16, Option<String>, Vec<u8>) {
        let mut response = self.agent.post(url).header("content-type", content_type).send(body).unwrap();
        let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let body = response.body_mut().with_config().limit(256 << 20).read_to_vec().unwrap();
        (response.status().as_u16(), retry, body)
    }

    /// POSTs a batch and decodes the 200 answer.
    pub fn submit(&self, pilot_url: &str, records: &[SubmittedRecord]) -> Vec<RecordResult> {
        let batch = SubmitBatch { records: records.to_vec() };
        let (status, _, body) = self.post_raw(pilot_url, PROTOBUF, &batch.encode_to_vec());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let response = SubmitResponse::decode(body.as_slice()).unwrap();
        assert_eq!(response.results.len(), records.len());
        for (result, record) in response.results.iter().zip(records) {
            assert_eq!(result.record_id, record.record_id);
        }
        response.results
    }
}

/// A submitted record with the right digest.
pub fn submitted(record_id: &str, envelope: Vec<u8>) -> SubmittedRecord {
    let digest = ring::digest::digest(&ring::digest::SHA256, &envelope).as_ref().to_vec();
    SubmittedRecord { record_id: record_id.to_owned(), envelope, digest }
}

/// A ureq agent pinning `ca`, with an optional client certificate and key.
pub fn agent(ca: &Path, client: Option<(&Path, &Path)>) -> ureq::Agent {
    let ca = Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    let mut tls = TlsConfig::builder().provider(TlsProvider::Rustls).root_certs(RootCerts::Specific(Arc::new(vec![ca])));
    if let Some((cert, key)) = client {
        let cert = Certificate::from_pem(&std::fs::read(cert).unwrap()).unwrap();
        let key = PrivateKey::from_pem(&std::fs::read(key).unwrap()).unwrap();
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&[cert], key)));
    }
    ureq::Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

pub fn verifier(public_key: &Path) -> Verifier {
    Verifier::new(vec![Arc::new(Key::import(&std::fs::read(public_key).unwrap(), None).unwrap())])
}

pub fn status(result: &RecordResult) -> RecordStatus {
    RecordStatus::try_from(result.status).unwrap()
}

/// Asserts a rejection with `code`.
pub fn assert_rejected(result: &RecordResult, code: &str) {
    assert_eq!(status(result), RecordStatus::Rejected, "{result:?}");
    assert_eq!(result.code, code, "{result:?}");
    assert!(!result.reason.is_empty());
    assert!(result.receipt.is_empty() && result.inclusion.is_none());
}

pub fn inclusion(result: &RecordResult) -> &InclusionProof {
    result.inclusion.as_ref().unwrap()
}

/// Issues a client certificate with the hub's CA by hand (not enrolled); `edit` changes the
/// parameters. Writes `client.pem` and `client.key` into `dir`.
pub fn issue_client_cert(hub_dir: &Path, cn: &str, dir: &Path, edit: impl FnOnce(&mut rcgen::CertificateParams)) {
    std::fs::create_dir_all(dir).unwrap();
    let ca_key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(hub_dir.join("ca.key")).unwrap()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(&std::fs::read_to_string(hub_dir.join("ca.pem")).unwrap(), ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    edit(&mut params);
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("client.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("client.key"), key.serialize_pem()).unwrap();
}

/// A's (or any facility's) record-signing entry for a trust list, valid `window`.
pub fn record_signing_entry(facility: &Facility, window: (i64, i64)) -> medseal::trust::TrustEntry {
    let key = Arc::new(facility.signer.key().to_public());
    medseal::trust::TrustEntry {
        facility: facility.id.clone(),
        kid: key.kid().to_owned(),
        alg: key.algorithm(),
        key,
        chain: None,
        role: medseal::trust::Role::RecordSigning,
        not_before: window.0,
        not_after: window.1,
    }
}

/// Signs a trust list of `entries` (sequence `sequence`, expiring at `expires`) with a new
/// department key, writes both into the hub directory and points hub.json at them.
pub fn configure_trust_list(
    pilot: &Pilot,
    entries: Vec<medseal::trust::TrustEntry>,
    sequence: u64,
    expires: i64,
) -> medseal_hub::HubConfig {
    let now = medseal::utc::now();
    let department = Arc::new(Key::generate(medseal::Algorithm::EdDSA).unwrap());
    let list = medseal::trust::TrustList::new("Department of Health", sequence, now - 60, expires, entries).unwrap();
    let signed = list.sign(&Signer::new(department.clone(), medseal::trust::sign_options()).unwrap()).unwrap();
    std::fs::write(pilot.hub_dir.join("trust-list.jws"), signed).unwrap();
    std::fs::write(pilot.hub_dir.join("department.pub"), department.export(medseal::KeyFormat::SpkiPem).unwrap()).unwrap();
    let paths = medseal_hub::files::HubPaths::new(&pilot.hub_dir);
    let mut config = medseal_hub::HubConfig::load(&paths).unwrap();
    config.trust_list = Some(medseal_hub::config::TrustListConfig {
        file: "trust-list.jws".into(),
        keys: vec!["department.pub".into()],
        min_sequence: sequence,
    });
    config.save(&paths).unwrap();
    config
}
