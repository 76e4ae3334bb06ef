//! A test PKI: root CA → intermediate CA → signer, built with rcgen, with chosen validity
//! windows, key usages and CA flags, so tests can produce each path-validation failure.
//!
//! Include it with `#[path = "support/pki.rs"] mod pki;`. Two flavours: RSA-2048 (keys made by
//! the `openssl` command line, since neither ring nor medseal generates RSA keys; cached per
//! process because RSA key generation is slow) and P-256 (fresh keys from rcgen every time).
//!
//! All windows are fixed dates, not "now": validation happens at a signature's `sigT`, and
//! [`SIGN_TIME`] lies inside every default window.
#![allow(dead_code)]

use std::process::Command;
use std::sync::{Mutex, OnceLock};

use medseal::x509::{Certificate, TrustAnchors};
use medseal::{Algorithm, Key};
pub use rcgen::KeyUsagePurpose as Usage;
use rcgen::{BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair, SignatureAlgorithm};

/// 2020-01-01T00:00:00Z.
pub const Y2020: i64 = 1_577_836_800;
/// 2021-01-01T00:00:00Z.
pub const Y2021: i64 = 1_609_459_200;
/// 2024-01-01T00:00:00Z.
pub const Y2024: i64 = 1_704_067_200;
/// 2027-01-01T00:00:00Z.
pub const Y2027: i64 = 1_798_761_600;
/// 2040-01-01T00:00:00Z.
pub const Y2040: i64 = 2_208_988_800;
/// 2045-01-01T00:00:00Z.
pub const Y2045: i64 = 2_366_841_600;
/// 2025-06-01T12:00:00Z: a signing time inside every default window.
pub const SIGN_TIME: i64 = 1_748_779_200;

/// Default windows (Unix seconds, both ends inclusive).
pub const ROOT_WINDOW: (i64, i64) = (Y2020, Y2045);
pub const INTERMEDIATE_WINDOW: (i64, i64) = (Y2021, Y2040);
pub const LEAF_WINDOW: (i64, i64) = (Y2024, Y2027);

/// The key type of every certificate in one PKI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA-2048, certificates signed sha256WithRSAEncryption, signer key bound to RS256.
    Rsa,
    /// P-256, certificates signed ecdsa-with-SHA256, signer key ES256.
    P256,
}

/// A built PKI. `leaf_key` is the signer's private key.
pub struct Pki {
    pub kind: KeyKind,
    pub root: Certificate,
    pub intermediate: Certificate,
    pub leaf: Certificate,
    pub leaf_key: Key,
    /// Leaf then intermediate, PEM.
    pub chain_pem: String,
    /// Leaf, intermediate, root, PEM.
    pub full_chain_pem: String,
    pub root_pem: String,
    /// What the root was made from, to issue more certificates under the same name and key.
    root_params: CertificateParams,
    root_key: KeyPair,
}

impl Pki {
    /// The default PKI of `kind`: every window contains [`SIGN_TIME`], the signer allows
    /// digitalSignature and nonRepudiation.
    pub fn new(kind: KeyKind) -> Pki {
        Pki::builder(kind).build()
    }

    pub fn builder(kind: KeyKind) -> PkiBuilder {
        PkiBuilder {
            kind,
            prefix: "Test".to_string(),
            key_set: 0,
            root_window: ROOT_WINDOW,
            intermediate_window: INTERMEDIATE_WINDOW,
            leaf_window: LEAF_WINDOW,
            leaf_usages: vec![Usage::DigitalSignature, Usage::ContentCommitment],
            intermediate_usages: vec![Usage::KeyCertSign, Usage::CrlSign],
            intermediate_ca: true,
            root_path_len: None,
            intermediate_name_constraints: false,
            leaf_critical_extension: None,
            leaf_extended_usages: Vec::new(),
        }
    }

    /// Leaf and intermediate, as an `x5c` without the root.
    pub fn chain(&self) -> Vec<Certificate> {
        vec![self.leaf.clone(), self.intermediate.clone()]
    }

    /// Leaf, intermediate and root.
    pub fn chain_with_root(&self) -> Vec<Certificate> {
        vec![self.leaf.clone(), self.intermediate.clone(), self.root.clone()]
    }

    /// The root as the only trust anchor.
    pub fn anchors(&self) -> TrustAnchors {
        TrustAnchors::new(vec![self.root.clone()]).expect("one anchor")
    }

    /// Another self-signed root with this root's name and key but the window `window`: what a
    /// CA publishes when it renews its root.
    pub fn reissue_root(&self, window: (i64, i64)) -> Certificate {
        let mut params = self.root_params.clone();
        set_window(&mut params, window);
        let cert = params.self_signed(&self.root_key).expect("self-signed root");
        Certificate::from_der(cert.der()).expect("rcgen root parses")
    }
}

/// Knobs for [`Pki::builder`].
pub struct PkiBuilder {
    kind: KeyKind,
    prefix: String,
    key_set: usize,
    root_window: (i64, i64),
    intermediate_window: (i64, i64),
    leaf_window: (i64, i64),
    leaf_usages: Vec<Usage>,
    intermediate_usages: Vec<Usage>,
    intermediate_ca: bool,
    root_path_len: Option<u8>,
    intermediate_name_constraints: bool,
    leaf_critical_extension: Option<Vec<u64>>,
    leaf_extended_usages: Vec<rcgen::ExtendedKeyUsagePurpose>,
}

impl PkiBuilder {
    /// Names become "<prefix> Root CA", "<prefix> Intermediate CA", "<prefix> Signer".
    pub fn names(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// RSA only: another set of cached keys (P-256 keys are always fresh). Two PKIs with the
    /// same names and different key sets have look-alike but unrelated roots.
    pub fn key_set(mut self, set: usize) -> Self {
        self.key_set = set;
        self
    }

    pub fn root_window(mut self, not_before: i64, not_after: i64) -> Self {
        self.root_window = (not_before, not_after);
        self
    }

    pub fn intermediate_window(mut self, not_before: i64, not_after: i64) -> Self {
        self.intermediate_window = (not_before, not_after);
        self
    }

    pub fn leaf_window(mut self, not_before: i64, not_after: i64) -> Self {
        self.leaf_window = (not_before, not_after);
        self
    }

    /// The signer's key usages; empty leaves the extension out.
    pub fn leaf_usages(mut self, usages: &[Usage]) -> Self {
        self.leaf_usages = usages.to_vec();
        self
    }

    /// The intermediate's key usages; empty leaves the extension out.
    pub fn intermediate_usages(mut self, usages: &[Usage]) -> Self {
        self.intermediate_usages = usages.to_vec();
        self
    }

    /// The intermediate gets basicConstraints cA=false (its key usage still says keyCertSign).
    pub fn intermediate_not_ca(mut self) -> Self {
        self.intermediate_ca = false;
        self
    }

    pub fn root_path_len(mut self, limit: u8) -> Self {
        self.root_path_len = Some(limit);
        self
    }

    /// The intermediate carries a (critical) nameConstraints extension.
    pub fn intermediate_name_constraints(mut self) -> Self {
        self.intermediate_name_constraints = true;
        self
    }

    /// The signer's extended key usages; empty (the default) leaves the extension out.
    pub fn leaf_extended_usages(mut self, purposes: &[rcgen::ExtendedKeyUsagePurpose]) -> Self {
        self.leaf_extended_usages = purposes.to_vec();
        self
    }

    /// The signer carries a critical extension of this OID (its value a DER NULL).
    pub fn leaf_critical_extension(mut self, oid: &[u64]) -> Self {
        self.leaf_critical_extension = Some(oid.to_vec());
        self
    }

    pub fn build(self) -> Pki {
        let (root_key, intermediate_key, leaf_key) = match self.kind {
            KeyKind::Rsa => (rsa_key_pair(self.key_set * 3), rsa_key_pair(self.key_set * 3 + 1), rsa_key_pair(self.key_set * 3 + 2)),
            KeyKind::P256 => (p256_key_pair(), p256_key_pair(), p256_key_pair()),
        };

        let mut root_params = params(&format!("{} Root CA", self.prefix), self.root_window);
        root_params.is_ca = IsCa::Ca(match self.root_path_len {
            Some(limit) => BasicConstraints::Constrained(limit),
            None => BasicConstraints::Unconstrained,
        });
        root_params.key_usages = vec![Usage::KeyCertSign, Usage::CrlSign];
        let root = root_params.self_signed(&root_key).expect("root");

        let mut intermediate_params = params(&format!("{} Intermediate CA", self.prefix), self.intermediate_window);
        intermediate_params.is_ca = if self.intermediate_ca { IsCa::Ca(BasicConstraints::Unconstrained) } else { IsCa::ExplicitNoCa };
        intermediate_params.key_usages = self.intermediate_usages.clone();
        if self.intermediate_name_constraints {
            intermediate_params.name_constraints = Some(rcgen::NameConstraints {
                permitted_subtrees: vec![rcgen::GeneralSubtree::DnsName("hospital.example".to_string())],
                excluded_subtrees: vec![],
            });
        }
        let intermediate =
            intermediate_params.signed_by(&intermediate_key, &Issuer::from_params(&root_params, &root_key)).expect("intermediate");

        let mut leaf_params = params(&format!("{} Signer", self.prefix), self.leaf_window);
        leaf_params.key_usages = self.leaf_usages.clone();
        leaf_params.extended_key_usages = self.leaf_extended_usages.clone();
        if let Some(oid) = &self.leaf_critical_extension {
            let mut ext = CustomExtension::from_oid_content(oid, vec![0x05, 0x00]);
            ext.set_criticality(true);
            leaf_params.custom_extensions.push(ext);
        }
        let leaf = leaf_params.signed_by(&leaf_key, &Issuer::from_params(&intermediate_params, &intermediate_key)).expect("leaf");

        let medseal_leaf_key = match self.kind {
            KeyKind::Rsa => Key::import(leaf_key.serialize_pem().as_bytes(), Some(Algorithm::RS256)),
            KeyKind::P256 => Key::import(leaf_key.serialize_pem().as_bytes(), None),
        }
        .expect("medseal imports the signer key");

        let parse = |der: &[u8]| Certificate::from_der(der).expect("rcgen certificates parse");
        Pki {
            kind: self.kind,
            root: parse(root.der()),
            intermediate: parse(intermediate.der()),
            leaf: parse(leaf.der()),
            leaf_key: medseal_leaf_key,
            chain_pem: format!("{}{}", leaf.pem(), intermediate.pem()),
            full_chain_pem: format!("{}{}{}", leaf.pem(), intermediate.pem(), root.pem()),
            root_pem: root.pem(),
            root_params,
            root_key,
        }
    }
}

fn params(common_name: &str, window: (i64, i64)) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::OrganizationName, "Medseal Test Hospital");
    params.distinguished_name.push(DnType::CommonName, common_name);
    set_window(&mut params, window);
    params
}

fn set_window(params: &mut CertificateParams, (not_before, not_after): (i64, i64)) {
    params.not_before = time::OffsetDateTime::from_unix_timestamp(not_before).expect("not_before in range");
    params.not_after = time::OffsetDateTime::from_unix_timestamp(not_after).expect("not_after in range");
}

fn p256_key_pair() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key")
}

static RSA_SIGNING: &SignatureAlgorithm = &rcgen::PKCS_RSA_SHA256;

/// The RSA key in `slot`, made by `openssl genpkey` the first time it is asked for.
fn rsa_key_pair(slot: usize) -> KeyPair {
    KeyPair::from_pkcs8_pem_and_sign_algo(&rsa_pem(slot), RSA_SIGNING).expect("rcgen takes the openssl RSA key")
}

/// PKCS#8 PEM of the RSA-2048 key in `slot`, cached for the whole test process.
pub fn rsa_pem(slot: usize) -> String {
    static POOL: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let mut pool = POOL.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    while pool.len() <= slot {
        pool.push(openssl_rsa_2048());
    }
    pool[slot].clone()
}

fn openssl_rsa_2048() -> String {
    let out = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `openssl` ({e}); these tests need the openssl command line"));
    assert!(out.status.success(), "openssl genpkey failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("PEM is ASCII")
}
