//! The pilot's setup: `init` makes a hub (CA, server certificate, receipt, tree-head and
//! recipient keys, database, configuration); `enroll` issues a facility what it needs to
//! submit (client certificate, record-signing key, the hub's public keys) and registers the
//! facility's signing key with the hub.
//!
//! Certificates are ECDSA P-256 (rcgen on ring): the CA for 10 years, server and client
//! certificates for 2 years.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use medseal::keys::KeyFormat;
use medseal::ledger::{empty_root, tree_head_sign_options, TreeHead};
use medseal::signers::{NewKeyKind, Pkcs11Config, Pkcs11Key};
use medseal::{Algorithm, Key, RecipientKey, Signer};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use time::{Duration, OffsetDateTime};

use crate::config::HubConfig;
use crate::error::{Error, Result};
use crate::files::{self, HubPaths};
use crate::store;

/// How long the hub CA is valid.
pub const CA_VALIDITY_DAYS: i64 = 3653;
/// How long server and facility client certificates are valid.
pub const LEAF_VALIDITY_DAYS: i64 = 731;
/// Certificates start this long before they are made (clocks differ a little).
const BACKDATE: Duration = Duration::hours(1);

/// What `init` makes.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// The hub directory (created; refused when it holds files, unless `force`).
    pub dir: PathBuf,
    /// The server certificate's host name (it also names 127.0.0.1).
    pub hostname: String,
    /// Where the hub listens.
    pub listen: SocketAddr,
    /// The algorithm of the receipt and tree-head keys: EdDSA (Ed25519) or ES256.
    pub key_algorithm: Algorithm,
    /// Replace an existing hub in `dir`, ledger included.
    pub force: bool,
    /// Auditor escrow public keys (X25519: PEM, DER or JWK), written as `escrow-N.pub` and
    /// named in hub.json's `escrow_keys`: `enroll` hands them to every facility.
    pub escrow_keys: Vec<Vec<u8>>,
}

impl InitOptions {
    /// Defaults: host name `localhost`, listening on 127.0.0.1:8443, Ed25519 keys.
    pub fn new(dir: impl Into<PathBuf>) -> InitOptions {
        InitOptions {
            dir: dir.into(),
            hostname: "localhost".to_owned(),
            listen: crate::config::DEFAULT_LISTEN.parse().expect("a socket address"),
            key_algorithm: Algorithm::EdDSA,
            force: false,
            escrow_keys: Vec::new(),
        }
    }
}

/// Creates a hub in `options.dir`. Private keys are written owner-only (0600).
pub fn init(options: &InitOptions) -> Result<HubConfig> {
    let paths = HubPaths::new(&options.dir);
    check_hostname(&options.hostname)?;
    if !matches!(options.key_algorithm, Algorithm::EdDSA | Algorithm::ES256) {
        return Err(Error::new(format!("receipt and tree-head keys are EdDSA or ES256, not {}", options.key_algorithm)));
    }
    if files::non_empty_dir(paths.dir()) && !options.force {
        return Err(Error::new(format!(
            "{} already holds files; use --force to replace that hub (keys, certificates and ledger)",
            paths.dir().display()
        )));
    }
    let escrow = escrow_keys(&options.escrow_keys)?;
    files::create_dir(paths.dir())?;
    if options.force {
        // The old ledger was signed with the old keys: it goes with them.
        for suffix in ["", "-wal", "-shm"] {
            let mut name = paths.database().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
    }
    let now = system_time();

    // The CA.
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    // Each hub's CA has its own name (its serial number in it), so that a certificate from
    // another pilot's CA is reported as from an unknown CA, not as a bad signature.
    let ca_serial = serial()?;
    let tag: String = ca_serial.to_bytes()[..4].iter().map(|b| format!("{b:02x}")).collect();
    ca.distinguished_name = name(&format!("medseal hub CA {tag} ({})", options.hostname));
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca.serial_number = Some(ca_serial);
    ca.not_before = now - BACKDATE;
    ca.not_after = now + Duration::days(CA_VALIDITY_DAYS);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    // The server certificate: the host name and 127.0.0.1.
    let server_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut names = vec![options.hostname.clone()];
    if options.hostname != "127.0.0.1" {
        names.push("127.0.0.1".to_owned());
    }
    let mut server = CertificateParams::new(names)?;
    server.distinguished_name = name(&options.hostname);
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    server.serial_number = Some(serial()?);
    server.not_before = now - BACKDATE;
    server.not_after = now + Duration::days(LEAF_VALIDITY_DAYS);
    let server_cert = server.signed_by(&server_key, &issuer)?;

    files::write_public(&paths.ca_cert(), ca_cert.pem().as_bytes())?;
    files::write_private(&paths.ca_key(), issuer.key().serialize_pem().as_bytes())?;
    files::write_public(&paths.server_cert(), format!("{}{}", server_cert.pem(), ca_cert.pem()).as_bytes())?;
    files::write_private(&paths.server_key(), server_key.serialize_pem().as_bytes())?;

    // One key, one role (DESIGN 3.6): receipts and tree heads are signed by different keys.
    let receipt = Key::generate(options.key_algorithm)?;
    let tree_head = Key::generate(options.key_algorithm)?;
    write_key_pair(&paths.receipt_key(), &paths.receipt_pub(), &receipt)?;
    write_key_pair(&paths.tree_head_key(), &paths.tree_head_pub(), &tree_head)?;
    let recipient = RecipientKey::generate()?;
    files::write_private(&paths.recipient_key(), &recipient.export(KeyFormat::Pkcs8Pem)?)?;
    files::write_public(&paths.recipient_pub(), &recipient.export(KeyFormat::SpkiPem)?)?;

    // The database, with the signed head of the empty ledger.
    let conn = store::open(&paths.database(), true)?;
    let signer = Signer::new(Arc::new(tree_head), tree_head_sign_options())?;
    let head = TreeHead { tree_size: 0, root_hash: empty_root(), timestamp: now.unix_timestamp() };
    store::insert_tree_head(&conn, 0, &head.root_hash, head.timestamp, &head.sign(&signer)?)?;
    drop(conn);

    let mut config = HubConfig::new(&options.hostname, options.listen);
    for (n, key) in escrow.iter().enumerate() {
        let name = escrow_file(n);
        files::write_public(&paths.dir().join(&name), &key.export(KeyFormat::SpkiPem)?)?;
        config.escrow_keys.push(name.into());
    }
    config.save(&paths)?;
    Ok(config)
}

/// The name of escrow key `n` (from 0) in the hub and facility directories: `escrow-1.pub`, ...
pub fn escrow_file(n: usize) -> String {
    format!("escrow-{}.pub", n + 1)
}

/// Escrow keys: X25519 public keys, no private key (the auditor keeps it), none twice.
fn escrow_keys(keys: &[Vec<u8>]) -> Result<Vec<RecipientKey>> {
    let mut read: Vec<RecipientKey> = Vec::new();
    for (n, bytes) in keys.iter().enumerate() {
        let key = RecipientKey::import(bytes).map_err(|e| Error::new(format!("escrow key {}: {}", n + 1, e.message())))?;
        if key.has_private() {
            return Err(Error::new(format!(
                "escrow key {} is a private key: give the auditor's public key; the auditor keeps the private one",
                n + 1
            )));
        }
        if read.iter().any(|k| k.kid() == key.kid()) {
            return Err(Error::new(format!("escrow key {} is given twice", key.kid())));
        }
        read.push(key);
    }
    Ok(read)
}

/// What a hospital makes for itself before it enrols ([`facility_init`]): its keys never
/// leave it; the hub gets only the public signing key and the certificate request.
#[derive(Clone, Debug)]
pub struct FacilityInitOptions {
    /// The facility id (the request's CN).
    pub facility: String,
    /// Where the keys go (refused when any of [`FACILITY_KEY_FILES`] is there, unless `force`).
    pub dir: PathBuf,
    /// The record-signing key's algorithm: EdDSA (Ed25519) or ES256.
    pub signing_algorithm: Algorithm,
    /// Replace keys already in `dir`.
    pub force: bool,
    /// Keep the TLS client key on a PKCS#11 token instead of in `client.key`.
    pub tls_token: Option<TlsTokenKey>,
}

/// Where [`facility_init`] keeps a TLS client key on a PKCS#11 token.
#[derive(Clone, Debug)]
pub struct TlsTokenKey {
    /// Module, token label, key label and PIN (`alg` is ignored).
    pub pkcs11: Pkcs11Config,
    /// The key pair generated on the token when it has no private key of that label (one
    /// that has is used as it is).
    pub new_key: NewKeyKind,
}

/// The files [`facility_init`] writes: the record-signing key pair, the TLS client key and
/// its PKCS#10 request.
pub const FACILITY_KEY_FILES: [&str; 4] = ["signing.key", "signing.pub", "client.key", "client.csr"];

/// Makes a hospital's own keys: a record-signing key (`signing.key`, owner-only, and
/// `signing.pub`), a TLS client key (`client.key`, P-256, owner-only) and a certificate request
/// for it (`client.csr`, CN = the facility id). The same can be made with openssl, or the keys
/// kept on a token: enrolment needs only `signing.pub` and `client.csr`.
///
/// With [`FacilityInitOptions::tls_token`], the TLS client key is on a PKCS#11 token (generated
/// there unless a key of that label is there already) and the request is signed by the token:
/// no `client.key` is written (with `force`, one left from before is removed, as it is
/// replaced), and the files returned are the other three.
pub fn facility_init(options: &FacilityInitOptions) -> Result<Vec<PathBuf>> {
    check_facility(&options.facility)?;
    if !matches!(options.signing_algorithm, Algorithm::EdDSA | Algorithm::ES256) {
        return Err(Error::new(format!("a record-signing key made here is EdDSA or ES256, not {}", options.signing_algorithm)));
    }
    let out = |name: &str| options.dir.join(name);
    if !options.force {
        if let Some(existing) = FACILITY_KEY_FILES.iter().map(|f| out(f)).find(|p| p.exists()) {
            return Err(Error::new(format!("{} already exists; use --force to replace the facility's keys", existing.display())));
        }
    }
    let signing = Key::generate(options.signing_algorithm)?;
    let mut request = CertificateParams::new(Vec::<String>::new())?;
    request.distinguished_name = name(&options.facility);
    let (client_key, csr) = match &options.tls_token {
        None => {
            let client_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
            let csr = request.serialize_request(&client_key)?;
            (Some(client_key), csr)
        }
        Some(token) => {
            let config = Pkcs11Config { alg: None, ..token.pkcs11.clone() };
            let (key, _generated) = Pkcs11Key::open_or_generate(&config, token.new_key)?;
            let request_key = TokenRequestKey::new(Arc::new(key))?;
            let csr = request.serialize_request(&request_key).map_err(|e| request_key.error(e))?;
            (None, csr)
        }
    };
    files::create_dir(&options.dir)?;
    files::write_private(&out("signing.key"), &signing.export(KeyFormat::Pkcs8Pem)?)?;
    files::write_public(&out("signing.pub"), &signing.export(KeyFormat::SpkiPem)?)?;
    match client_key {
        Some(client_key) => files::write_private(&out("client.key"), client_key.serialize_pem().as_bytes())?,
        None => match std::fs::remove_file(out("client.key")) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::new(format!("cannot remove the replaced {}: {e}", out("client.key").display()))),
        },
    }
    files::write_public(&out("client.csr"), csr.pem()?.as_bytes())?;
    Ok(FACILITY_KEY_FILES.iter().filter(|f| options.tls_token.is_none() || **f != "client.key").map(|f| out(f)).collect())
}

/// A TLS client key on a token, as rcgen signs a certificate request with it: the token signs
/// (RS256 for RSA, ES256 for P-256, each signature checked with the token's public key), and
/// the ECDSA signature goes into the request as DER.
struct TokenRequestKey {
    key: Arc<Pkcs11Key>,
    /// The subjectPublicKey bits of the token's public key.
    public: Vec<u8>,
    algorithm: &'static rcgen::SignatureAlgorithm,
    /// The token's error, which rcgen can only report as `RemoteKeyError`.
    failure: std::sync::Mutex<Option<medseal::Error>>,
}

impl TokenRequestKey {
    fn new(key: Arc<Pkcs11Key>) -> Result<TokenRequestKey> {
        use medseal::signers::SigningBackend;
        let algorithm = match key.algorithm() {
            Algorithm::ES256 => &PKCS_ECDSA_P256_SHA256,
            Algorithm::RS256 => &rcgen::PKCS_RSA_SHA256,
            other => return Err(Error::new(format!("a TLS client key on a token is P-256 or RSA, not {other}"))),
        };
        let public =
            spki_of(key.public_key()).ok_or_else(|| Error::new("the token key's public key cannot be put into a certificate request"))?;
        Ok(TokenRequestKey { key, public, algorithm, failure: std::sync::Mutex::new(None) })
    }

    /// The error behind a failed request: the token's, if it failed.
    fn error(&self, e: rcgen::Error) -> Error {
        match self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            Some(token) => Error::from(token),
            None => Error::from(e),
        }
    }
}

impl PublicKeyData for TokenRequestKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

impl rcgen::SigningKey for TokenRequestKey {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        let signed = medseal::signers::sign_checked(&*self.key, message).and_then(|signature| {
            if self.algorithm == &PKCS_ECDSA_P256_SHA256 {
                medseal::signers::ecdsa_raw_to_der(&signature).ok_or_else(|| {
                    medseal::Error::new(medseal::ResultCode::MEDSEAL_SIGNER_BAD_SIGNATURE, "an ES256 signature of a token is 64 bytes")
                })
            } else {
                Ok(signature)
            }
        });
        signed.map_err(|e| {
            *self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
            rcgen::Error::RemoteKeyError
        })
    }
}

/// What `enroll` registers and issues.
#[derive(Clone, Debug)]
pub struct EnrollOptions {
    /// The hub directory.
    pub hub_dir: PathBuf,
    /// The facility id: the client certificate's CN and every record's `meta.source` (or an
    /// auditor's name).
    pub facility: String,
    /// The facility's public record-signing keys (PEM, DER or JWK; never a private key). At
    /// least one for a facility; none for an auditor.
    pub signing_keys: Vec<Vec<u8>>,
    /// The PKCS#10 request for the TLS client certificate (PEM or DER), signed by the client
    /// key, whose subject CN is `facility`.
    pub csr: Vec<u8>,
    /// Where the issued files go (the facility's own directory is fine: only
    /// [`ENROLL_FILES`] are written, and refused when there, unless `force`).
    pub out: PathBuf,
    /// An auditor: reads the whole ledger, submits nothing.
    pub auditor: bool,
    /// Replace files in `out`, and enrol an enrolled name again (a new client certificate, and
    /// the keys given added; its earlier keys stay valid until revoked).
    pub force: bool,
}

/// What `enroll` did.
#[derive(Clone, Debug)]
pub struct Enrolled {
    /// The facility id.
    pub facility: String,
    /// The kids (RFC 7638 thumbprints) of the record-signing keys registered.
    pub signing_kids: Vec<String>,
    /// The SHA-256 fingerprint (hex) of the client certificate issued (what `revoke` takes).
    pub certificate_fingerprint: String,
    /// The URL the facility submits to.
    pub hub_url: String,
    /// The files written, in order.
    pub files: Vec<PathBuf>,
}

/// The files `enroll` always writes: the client certificate, the hub's public keys,
/// `facility.json`; then `escrow-N.pub` for each auditor escrow key hub.json names.
pub const ENROLL_FILES: [&str; 6] = ["client.pem", "hub-ca.pem", "hub-recipient.pub", "receipt.pub", "tree-head.pub", "facility.json"];

/// Enrols a facility from its public parts only: checks the certificate request (its own
/// signature, CN = the facility id, a key that is not one of the signing keys), issues the
/// client certificate (clientAuth, 2 years) for the requested key, registers the public
/// signing keys, and writes [`ENROLL_FILES`] into `options.out`. The hub never sees, and never
/// makes, a hospital's private key.
pub fn enroll(options: &EnrollOptions) -> Result<Enrolled> {
    let paths = HubPaths::new(&options.hub_dir);
    check_facility(&options.facility)?;
    let role = if options.auditor { store::Role::Auditor } else { store::Role::Facility };
    let config = HubConfig::load(&paths)?;
    let mut conn = store::open(&paths.database(), false)?;
    if let Some(existing) = store::role(&conn, &options.facility)?.filter(|r| *r != role) {
        return Err(Error::new(format!("{} is enrolled as a {}, not as a {}", options.facility, existing.as_str(), role.as_str())));
    }
    if store::role(&conn, &options.facility)?.is_some() && !options.force {
        return Err(Error::new(format!(
            "{} is already enrolled; use --force to enrol it again (a new client certificate and the keys given; its earlier keys stay valid until revoked)",
            options.facility
        )));
    }
    let out = |name: &str| options.out.join(name);
    if !options.force {
        if let Some(existing) = ENROLL_FILES.iter().map(|f| out(f)).find(|p| p.exists()) {
            return Err(Error::new(format!("{} already exists; use --force to replace it", existing.display())));
        }
    }
    let keys = signing_keys(options, role)?;
    let request = certificate_request(&options.csr, &options.facility)?;
    if let Some(key) = keys.iter().find(|k| spki_of(k).as_deref() == Some(request.public_key.der_bytes())) {
        return Err(Error::new(format!(
            "the certificate request's key is the signing key {}: the TLS client key and a record-signing key are different keys",
            key.kid()
        )));
    }

    let ca_pem = String::from_utf8(files::read(&paths.ca_cert(), 1 << 20)?).map_err(|_| Error::new("ca.pem is not text"))?;
    let ca_key_pem = zeroize::Zeroizing::new(files::read(&paths.ca_key(), 1 << 20)?);
    let ca_key = KeyPair::from_pem(std::str::from_utf8(&ca_key_pem).map_err(|_| Error::new("ca.key is not PEM"))?)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;
    let now = system_time();
    let mut client = CertificateParams::new(Vec::<String>::new())?;
    client.distinguished_name = name(&options.facility);
    client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client.use_authority_key_identifier_extension = true;
    client.serial_number = Some(serial()?);
    client.not_before = now - BACKDATE;
    client.not_after = now + Duration::days(LEAF_VALIDITY_DAYS);
    let client_cert = rcgen::CertificateSigningRequestParams { params: client, public_key: request.public_key }.signed_by(&issuer)?;

    // The auditor escrow keys the hub names, checked before anything is issued.
    let mut escrow = Vec::new();
    for (n, path) in config.escrow_key_paths(&paths).iter().enumerate() {
        let bytes = files::read(path, 1 << 20)?;
        let key = escrow_keys(&[bytes]).map_err(|e| e.context(path.display()))?.remove(0);
        escrow.push((escrow_file(n), key));
    }
    if !options.force {
        if let Some(existing) = escrow.iter().map(|(name, _)| out(name)).find(|p| p.exists()) {
            return Err(Error::new(format!("{} already exists; use --force to replace it", existing.display())));
        }
    }
    let mut facility_json = serde_json::json!({ "facility": options.facility, "hub_url": config.hub_url });
    if !escrow.is_empty() {
        facility_json["escrow_keys"] =
            escrow.iter().map(|(name, key)| serde_json::json!({ "file": name, "kid": key.kid() })).collect::<Vec<_>>().into();
    }
    let mut facility_json = serde_json::to_vec_pretty(&facility_json).expect("JSON");
    facility_json.push(b'\n');
    let pems: Vec<String> =
        keys.iter().map(|k| Ok(String::from_utf8(k.export(KeyFormat::SpkiPem)?.to_vec()).expect("PEM is ASCII"))).collect::<Result<_>>()?;
    let new_keys: Vec<store::NewKey<'_>> =
        keys.iter().zip(&pems).map(|(k, pem)| store::NewKey { kid: k.kid(), public_key_pem: pem }).collect();
    // Registered first: a key that belongs to another facility fails before any file is written.
    store::enroll(&mut conn, &options.facility, role, now.unix_timestamp(), &client_cert.pem(), &new_keys)?;

    files::create_dir(&options.out)?;
    let copy = |from: PathBuf| files::read(&from, 1 << 20);
    files::write_public(&out("client.pem"), client_cert.pem().as_bytes())?;
    files::write_public(&out("hub-ca.pem"), ca_pem.as_bytes())?;
    files::write_public(&out("hub-recipient.pub"), &copy(paths.recipient_pub())?)?;
    files::write_public(&out("receipt.pub"), &copy(paths.receipt_pub())?)?;
    files::write_public(&out("tree-head.pub"), &copy(paths.tree_head_pub())?)?;
    files::write_public(&out("facility.json"), &facility_json)?;
    for (name, key) in &escrow {
        files::write_public(&out(name), &key.export(KeyFormat::SpkiPem)?)?;
    }
    Ok(Enrolled {
        facility: options.facility.clone(),
        signing_kids: keys.iter().map(|k| k.kid().to_owned()).collect(),
        certificate_fingerprint: fingerprint(client_cert.der()),
        hub_url: config.hub_url,
        files: ENROLL_FILES.iter().map(|f| out(f)).chain(escrow.iter().map(|(name, _)| out(name))).collect(),
    })
}

/// The public signing keys of an enrolment: public only, at least one for a facility and none
/// for an auditor, no key twice.
fn signing_keys(options: &EnrollOptions, role: store::Role) -> Result<Vec<Key>> {
    let mut keys: Vec<Key> = Vec::new();
    for (n, bytes) in options.signing_keys.iter().enumerate() {
        let key = Key::import(bytes, None).map_err(|e| Error::new(format!("signing key {}: {}", n + 1, e.message())))?;
        if key.has_private() {
            return Err(Error::new(format!(
                "signing key {} is a private key: give the public key (signing.pub); a hospital's private key never leaves it",
                n + 1
            )));
        }
        if !keys.iter().any(|k| k.kid() == key.kid()) {
            keys.push(key);
        }
    }
    match role {
        store::Role::Facility if keys.is_empty() => {
            Err(Error::new("a facility is enrolled with at least one public record-signing key (--signing-key)"))
        }
        store::Role::Auditor if !keys.is_empty() => Err(Error::new("an auditor signs no records: enrol it without signing keys")),
        _ => Ok(keys),
    }
}

/// A certificate request whose signature verifies and whose subject is exactly CN = `facility`
/// (any organisation), with the requested key's algorithm one TLS client auth uses.
fn certificate_request(bytes: &[u8], facility: &str) -> Result<rcgen::CertificateSigningRequestParams> {
    use rustls_pki_types::pem::PemObject;
    let der = if bytes.starts_with(b"-----BEGIN") {
        rustls_pki_types::CertificateSigningRequestDer::from_pem_slice(bytes)
            .map_err(|e| Error::new(format!("the certificate request is not a PEM CERTIFICATE REQUEST: {e}")))?
    } else {
        rustls_pki_types::CertificateSigningRequestDer::from(bytes.to_vec())
    };
    let request = rcgen::CertificateSigningRequestParams::from_der(&der).map_err(|e| match e {
        rcgen::Error::InvalidCertificationRequestSignature => Error::new("the certificate request's signature does not verify"),
        e => Error::new(format!("the certificate request cannot be read: {e}")),
    })?;
    let names: Vec<String> = request
        .params
        .distinguished_name
        .iter()
        .filter(|(t, _)| **t == DnType::CommonName)
        .map(|(_, v)| match v {
            rcgen::DnValue::PrintableString(s) => s.to_string(),
            rcgen::DnValue::Utf8String(s) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    if names.len() != 1 || names[0] != facility {
        return Err(Error::new(format!(
            "the certificate request's subject CN is {}, not the facility id {}",
            names.iter().map(|n| medseal::untrusted::shown(n).to_string()).collect::<Vec<_>>().join(", "),
            medseal::untrusted::shown(facility)
        )));
    }
    Ok(request)
}

/// The subjectPublicKey bits of a key's SubjectPublicKeyInfo (what a certificate request holds).
fn spki_of(key: &Key) -> Option<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let der = key.export(KeyFormat::SpkiDer).ok()?;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&der).ok()?;
    Some(spki.subject_public_key.data.to_vec())
}

/// The hex SHA-256 of a DER certificate: how the hub names a client certificate.
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// [`fingerprint`] of the first certificate in a PEM text.
pub fn fingerprint_pem(pem: &str) -> Result<String> {
    use rustls_pki_types::pem::PemObject;
    let der =
        rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| Error::new(format!("a client certificate: {e}")))?;
    Ok(fingerprint(&der))
}

/// Both sides of an enrolment on one machine, for pilots that play hospital and hub at once
/// (tests, benchmarks): [`facility_init`] in `dir` (Ed25519), then [`enroll`] of its public
/// parts into `dir`. A real hospital runs `facility_init` on its own machine.
pub fn enroll_local(hub_dir: &Path, facility: &str, dir: &Path) -> Result<Enrolled> {
    facility_init(&FacilityInitOptions {
        facility: facility.to_owned(),
        dir: dir.to_owned(),
        signing_algorithm: Algorithm::EdDSA,
        force: false,
        tls_token: None,
    })?;
    enroll(&EnrollOptions {
        hub_dir: hub_dir.to_owned(),
        facility: facility.to_owned(),
        signing_keys: vec![files::read(&dir.join("signing.pub"), 1 << 20)?],
        csr: files::read(&dir.join("client.csr"), 1 << 20)?,
        out: dir.to_owned(),
        auditor: false,
        force: false,
    })
}

/// What `revoke` revokes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocable {
    /// A record-signing key, by its kid (RFC 7638 thumbprint).
    SigningKey(String),
    /// A client certificate, by its SHA-256 fingerprint (hex, as `enroll` reports it; colons
    /// and case are ignored).
    Certificate(String),
}

/// Revokes a facility's signing key or client certificate from `at` (Unix seconds) on: records
/// signed by the key that the hub receives from then on are refused (`KEY_REVOKED`), and the
/// certificate fails the TLS handshake from then on. The running hub sees it at its next
/// handshake or batch. Returns the facility it belonged to.
pub fn revoke(hub_dir: &Path, what: &Revocable, at: i64, reason: &str) -> Result<String> {
    let paths = HubPaths::new(hub_dir);
    let conn = store::open(&paths.database(), false)?;
    match what {
        Revocable::SigningKey(kid) => store::revoke_key(&conn, kid, at, reason),
        Revocable::Certificate(fingerprint) => {
            let normalized: String = fingerprint.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
            if normalized.len() != 64 || !normalized.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::new("a certificate fingerprint is the 64 hex digits of its SHA-256 (colons allowed)"));
            }
            store::revoke_certificate(&conn, &normalized, at, reason)
        }
    }
}

/// A facility id: what `meta.source` may hold (the id rule of a signed record,
/// `medseal::record::check_id`), and, at enrollment, no surrounding spaces: the id becomes the
/// certificate's CN, where a space at either end is invisible.
fn check_facility(facility: &str) -> Result<()> {
    medseal::record::check_id("a facility id", facility, medseal::ResultCode::MEDSEAL_INVALID_ARGUMENT)
        .map_err(|e| Error::new(e.message().to_owned()))?;
    if facility.trim() != facility {
        return Err(Error::new(format!("a facility id has no surrounding spaces: {:?}", medseal::untrusted::shown(facility))));
    }
    Ok(())
}

/// The system clock (`medseal::utc::now`) as the certificate builder wants it.
fn system_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(medseal::utc::now()).expect("the system clock is a valid time")
}

fn check_hostname(hostname: &str) -> Result<()> {
    let valid_dns = !hostname.is_empty()
        && hostname.len() <= 253
        && hostname.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if valid_dns || hostname.parse::<std::net::IpAddr>().is_ok() {
        Ok(())
    } else {
        Err(Error::new(format!("{hostname:?} is not a host name or IP address")))
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "medseal pilot");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A random positive 128-bit serial number.
fn serial() -> Result<SerialNumber> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| Error::new("the system random generator failed"))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

fn write_key_pair(private: &Path, public: &Path, key: &Key) -> Result<()> {
    files::write_private(private, &key.export(KeyFormat::Pkcs8Pem)?)?;
    files::write_public(public, &key.export(KeyFormat::SpkiPem)?)
}
