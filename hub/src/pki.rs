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
use medseal::{Algorithm, Key, RecipientKey, Signer};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SerialNumber, PKCS_ECDSA_P256_SHA256,
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

    let config = HubConfig::new(&options.hostname, options.listen);
    config.save(&paths)?;
    Ok(config)
}

/// What `enroll` issues.
#[derive(Clone, Debug)]
pub struct EnrollOptions {
    /// The hub directory.
    pub hub_dir: PathBuf,
    /// The facility id: the client certificate's CN and every record's `meta.source`.
    pub facility: String,
    /// Where the facility's files go (refused when it holds files, unless `force`).
    pub out: PathBuf,
    /// Write into a non-empty `out`, and enrol an already enrolled facility again (a new
    /// client certificate and one more signing key; the earlier keys stay valid).
    pub force: bool,
}

/// What `enroll` did.
#[derive(Clone, Debug)]
pub struct Enrolled {
    /// The facility id.
    pub facility: String,
    /// The kid (RFC 7638 thumbprint) of the new record-signing key.
    pub signing_kid: String,
    /// The URL the facility submits to.
    pub hub_url: String,
    /// The files written, in order.
    pub files: Vec<PathBuf>,
}

/// The files `enroll` writes into the facility directory.
pub const FACILITY_FILES: [&str; 9] = [
    "client.pem",
    "client.key",
    "signing.key",
    "signing.pub",
    "hub-ca.pem",
    "hub-recipient.pub",
    "receipt.pub",
    "tree-head.pub",
    "facility.json",
];

/// Enrols a facility: issues its client certificate (CN = facility id, clientAuth, 2 years)
/// and record-signing key (Ed25519), writes everything the facility needs into `options.out`,
/// then registers the signing key with the hub.
pub fn enroll(options: &EnrollOptions) -> Result<Enrolled> {
    let paths = HubPaths::new(&options.hub_dir);
    check_facility(&options.facility)?;
    let config = HubConfig::load(&paths)?;
    let mut conn = store::open(&paths.database(), false)?;
    if store::facility_enrolled(&conn, &options.facility)? && !options.force {
        return Err(Error::new(format!(
            "{} is already enrolled; use --force to enrol it again (a new client certificate and signing key; its earlier keys stay valid)",
            options.facility
        )));
    }
    if files::non_empty_dir(&options.out) && !options.force {
        return Err(Error::new(format!("{} already holds files; use --force to write into it", options.out.display())));
    }

    let ca_pem = String::from_utf8(files::read(&paths.ca_cert(), 1 << 20)?).map_err(|_| Error::new("ca.pem is not text"))?;
    let ca_key_pem = zeroize::Zeroizing::new(files::read(&paths.ca_key(), 1 << 20)?);
    let ca_key = KeyPair::from_pem(std::str::from_utf8(&ca_key_pem).map_err(|_| Error::new("ca.key is not PEM"))?)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;

    let now = system_time();
    let client_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut client = CertificateParams::new(Vec::<String>::new())?;
    client.distinguished_name = name(&options.facility);
    client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client.use_authority_key_identifier_extension = true;
    client.serial_number = Some(serial()?);
    client.not_before = now - BACKDATE;
    client.not_after = now + Duration::days(LEAF_VALIDITY_DAYS);
    let client_cert = client.signed_by(&client_key, &issuer)?;

    let signing = Key::generate(Algorithm::EdDSA)?;
    let signing_pub = signing.export(KeyFormat::SpkiPem)?;
    let facility_json = serde_json::json!({ "facility": options.facility, "hub_url": config.hub_url });
    let mut facility_json = serde_json::to_vec_pretty(&facility_json).expect("JSON");
    facility_json.push(b'\n');

    files::create_dir(&options.out)?;
    let out = |name: &str| options.out.join(name);
    let copy = |from: PathBuf| files::read(&from, 1 << 20);
    files::write_public(&out("client.pem"), client_cert.pem().as_bytes())?;
    files::write_private(&out("client.key"), client_key.serialize_pem().as_bytes())?;
    files::write_private(&out("signing.key"), &signing.export(KeyFormat::Pkcs8Pem)?)?;
    files::write_public(&out("signing.pub"), &signing_pub)?;
    files::write_public(&out("hub-ca.pem"), ca_pem.as_bytes())?;
    files::write_public(&out("hub-recipient.pub"), &copy(paths.recipient_pub())?)?;
    files::write_public(&out("receipt.pub"), &copy(paths.receipt_pub())?)?;
    files::write_public(&out("tree-head.pub"), &copy(paths.tree_head_pub())?)?;
    files::write_public(&out("facility.json"), &facility_json)?;

    let public_pem = String::from_utf8(signing_pub.to_vec()).expect("PEM is ASCII");
    store::enroll(&mut conn, &options.facility, now.unix_timestamp(), &client_cert.pem(), signing.kid(), &public_pem)?;
    Ok(Enrolled {
        facility: options.facility.clone(),
        signing_kid: signing.kid().to_owned(),
        hub_url: config.hub_url,
        files: FACILITY_FILES.iter().map(|f| out(f)).collect(),
    })
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
