//! Certification path validation (`medseal::x509::validate`) at a signature's `sigT`, against
//! test PKIs built with rcgen (tests/support/pki.rs): RSA-2048 and P-256, the root carried in
//! the chain or not, every result code with a message that names the certificate at fault,
//! several anchors sharing a name, the other signature algorithms (P-384, Ed25519, RSA with
//! SHA-384/512), refused ones, malformed input, and mutated certificates that must never
//! panic or pass.
//!
//! Needs the `openssl` command (3.x) for RSA keys; a missing `openssl` fails the tests.

#[path = "support/pki.rs"]
mod pki;

use std::process::Command;

use medseal::x509::{self, Certificate, TrustAnchors, ValidatedChain, MAX_CHAIN_LEN};
use medseal::{Error, ResultCode};
use pki::{KeyKind, Pki, Usage, SIGN_TIME, Y2021, Y2024, Y2027, Y2040};
use proptest::prelude::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

const KINDS: [KeyKind; 2] = [KeyKind::Rsa, KeyKind::P256];
const DAY: i64 = 86_400;

/// The error `result` must be, with its message (for further checks).
#[track_caller]
fn expect_code(result: Result<ValidatedChain, Error>, code: ResultCode) -> String {
    match result {
        Ok(v) => panic!("expected {code}, got a valid chain to {}", v.anchor.subject()),
        Err(e) => {
            assert_eq!(e.code(), code, "unexpected error: {}", e.message());
            e.message().to_string()
        }
    }
}

#[track_caller]
fn assert_mentions(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(message.contains(needle), "message {message:?} does not mention {needle:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Valid chains
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_chain_with_and_without_the_root() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        for chain in [pki.chain(), pki.chain_with_root()] {
            let v = x509::validate(&chain, &pki.anchors(), SIGN_TIME).unwrap_or_else(|e| panic!("{kind:?}, {} certs: {e}", chain.len()));
            assert_eq!(v.leaf, pki.leaf);
            assert_eq!(v.anchor, pki.root);
        }
    }
}

#[test]
fn valid_chain_read_from_pem_and_der() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        let anchors = TrustAnchors::from_pem_or_der(pki.root_pem.as_bytes()).unwrap();
        assert_eq!(anchors.certificates(), std::slice::from_ref(&pki.root));
        let der_anchors = TrustAnchors::from_pem_or_der(pki.root.der()).unwrap();
        assert_eq!(der_anchors.certificates(), std::slice::from_ref(&pki.root));
        for pem in [&pki.chain_pem, &pki.full_chain_pem] {
            let chain = Certificate::read_chain(pem.as_bytes()).unwrap();
            assert_eq!(chain[0], pki.leaf);
            for anchors in [&anchors, &der_anchors] {
                let v = x509::validate(&chain, anchors, SIGN_TIME).unwrap();
                assert_eq!(v.anchor, pki.root);
            }
        }
    }
}

#[test]
fn the_signer_key_belongs_to_the_leaf() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        assert!(pki.leaf.holds_key(&pki.leaf_key));
        assert!(!pki.intermediate.holds_key(&pki.leaf_key));
        let sig = pki.leaf_key.sign(b"record").unwrap();
        assert!(pki.leaf.public_key(pki.leaf_key.algorithm()).unwrap().verify(b"record", &sig));
    }
}

#[test]
fn window_edges_are_inclusive() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        for at in [Y2024, Y2027] {
            x509::validate(&pki.chain(), &pki.anchors(), at).unwrap_or_else(|e| panic!("{kind:?} at {at}: {e}"));
        }
    }
}

#[test]
fn non_repudiation_alone_or_digital_signature_alone_is_enough() {
    for kind in KINDS {
        for usages in [&[Usage::ContentCommitment][..], &[Usage::DigitalSignature], &[Usage::ContentCommitment, Usage::KeyEncipherment]] {
            let pki = Pki::builder(kind).leaf_usages(usages).build();
            x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME).unwrap_or_else(|e| panic!("{kind:?} {usages:?}: {e}"));
        }
    }
}

#[test]
fn an_intermediate_without_key_usage_extension_is_accepted() {
    let pki = Pki::builder(KeyKind::P256).intermediate_usages(&[]).build();
    x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME).unwrap();
}

#[test]
fn a_directly_trusted_signer_certificate_is_accepted() {
    let pki = Pki::new(KeyKind::P256);
    let anchors = TrustAnchors::new(vec![pki.leaf.clone()]).unwrap();
    let v = x509::validate(std::slice::from_ref(&pki.leaf), &anchors, SIGN_TIME).unwrap();
    assert_eq!(v.anchor, pki.leaf);
    let err =
        expect_code(x509::validate(std::slice::from_ref(&pki.leaf), &anchors, Y2027 + 1), ResultCode::MEDSEAL_SIGNED_OUTSIDE_VALIDITY);
    assert_mentions(&err, &["2027-01-01"]);
}

// ---------------------------------------------------------------------------------------------
// Validity windows, all at sigT
// ---------------------------------------------------------------------------------------------

#[test]
fn expired_intermediate() {
    for kind in KINDS {
        let pki = Pki::builder(kind).intermediate_window(Y2021, Y2024 + 30 * DAY).build();
        for chain in [pki.chain(), pki.chain_with_root()] {
            let msg = expect_code(x509::validate(&chain, &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_EXPIRED);
            assert_mentions(&msg, &["Test Intermediate CA", "2024-01-31", "2025-06-01"]);
        }
        // Signed while it was still valid: fine, even though it has expired since.
        x509::validate(&pki.chain(), &pki.anchors(), Y2024 + DAY).unwrap();
    }
}

#[test]
fn not_yet_valid_intermediate() {
    for kind in KINDS {
        let pki = Pki::builder(kind).intermediate_window(SIGN_TIME + 30 * DAY, Y2040).build();
        let msg = expect_code(x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_NOT_YET_VALID);
        assert_mentions(&msg, &["Test Intermediate CA", "2025-07-01", "2040-01-01"]);
    }
}

#[test]
fn expired_anchor() {
    for kind in KINDS {
        let pki = Pki::builder(kind).root_window(pki::Y2020, Y2024 + 365 * DAY).build();
        for chain in [pki.chain(), pki.chain_with_root()] {
            let msg = expect_code(x509::validate(&chain, &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_EXPIRED);
            assert_mentions(&msg, &["Test Root CA", "2024-12-31"]);
        }
    }
}

#[test]
fn not_yet_valid_anchor() {
    let pki = Pki::builder(KeyKind::P256).root_window(SIGN_TIME + DAY, Y2040).build();
    let msg = expect_code(x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_NOT_YET_VALID);
    assert_mentions(&msg, &["Test Root CA"]);
}

#[test]
fn signing_time_outside_the_leaf_window() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        for at in [Y2024 - 1, Y2027 + 1, 0, i64::MIN, i64::MAX] {
            let msg = expect_code(x509::validate(&pki.chain(), &pki.anchors(), at), ResultCode::MEDSEAL_SIGNED_OUTSIDE_VALIDITY);
            assert_mentions(&msg, &["2024-01-01", "2027-01-01"]);
        }
    }
}

#[test]
fn an_expired_intermediate_is_reported_as_expired_not_as_a_broken_link() {
    // The intermediate is both expired and not the leaf's issuer (same names, other key).
    let a = Pki::new(KeyKind::P256);
    let b = Pki::builder(KeyKind::P256).intermediate_window(Y2021, Y2024 + DAY).build();
    let chain = vec![a.leaf.clone(), b.intermediate.clone()];
    expect_code(x509::validate(&chain, &a.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_EXPIRED);
}

// ---------------------------------------------------------------------------------------------
// Anchors
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_issuer_other_root() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        let other = Pki::builder(kind).names("Other").key_set(1).build();
        for chain in [pki.chain(), pki.chain_with_root()] {
            let msg = expect_code(x509::validate(&chain, &other.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_UNKNOWN_ISSUER);
            assert_mentions(&msg, &["Test Root CA"]);
        }
    }
}

#[test]
fn unknown_issuer_look_alike_root() {
    // Same names, different keys: the name matches an anchor, the signature does not.
    for kind in KINDS {
        let pki = Pki::new(kind);
        let look_alike = Pki::builder(kind).key_set(1).build();
        for chain in [pki.chain(), pki.chain_with_root()] {
            let msg = expect_code(x509::validate(&chain, &look_alike.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_UNKNOWN_ISSUER);
            assert_mentions(&msg, &["Test Root CA", "verif"]);
        }
    }
}

#[test]
fn missing_intermediate_is_an_unknown_issuer() {
    let pki = Pki::new(KeyKind::P256);
    let msg =
        expect_code(x509::validate(std::slice::from_ref(&pki.leaf), &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_UNKNOWN_ISSUER);
    assert_mentions(&msg, &["Test Signer", "Test Intermediate CA"]);
}

#[test]
fn anchors_sharing_a_name_are_each_tried() {
    let pki = Pki::new(KeyKind::P256);
    // A renewed root (same name and key): the expired old one is listed first.
    let old = pki.reissue_root((pki::Y2020, Y2024));
    let renewed = pki.reissue_root((Y2024, Y2040));
    let anchors = TrustAnchors::new(vec![old.clone(), renewed.clone()]).unwrap();
    let v = x509::validate(&pki.chain(), &anchors, SIGN_TIME).unwrap();
    assert_eq!(v.anchor, renewed);
    // Only the old one: its expiry is what is wrong, not an unknown issuer.
    let msg =
        expect_code(x509::validate(&pki.chain(), &TrustAnchors::new(vec![old]).unwrap(), SIGN_TIME), ResultCode::MEDSEAL_CERT_EXPIRED);
    assert_mentions(&msg, &["Test Root CA"]);
    // A look-alike root (same name, other key) listed before the real one.
    let look_alike = Pki::new(KeyKind::P256);
    let anchors = TrustAnchors::new(vec![look_alike.root.clone(), pki.root.clone()]).unwrap();
    assert_eq!(x509::validate(&pki.chain(), &anchors, SIGN_TIME).unwrap().anchor, pki.root);
}

#[test]
fn no_anchors_is_refused() {
    assert_eq!(TrustAnchors::new(vec![]).unwrap_err().code(), ResultCode::MEDSEAL_INVALID_ARGUMENT);
}

// ---------------------------------------------------------------------------------------------
// Key usage and CA constraints
// ---------------------------------------------------------------------------------------------

#[test]
fn leaf_without_a_signing_usage() {
    for kind in KINDS {
        for usages in [&[Usage::KeyEncipherment][..], &[Usage::KeyAgreement, Usage::DataEncipherment], &[]] {
            let pki = Pki::builder(kind).leaf_usages(usages).build();
            let msg = expect_code(x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_KEY_USAGE);
            assert_mentions(&msg, &["Test Signer"]);
        }
    }
}

#[test]
fn intermediate_not_a_ca() {
    for kind in KINDS {
        let pki = Pki::builder(kind).intermediate_not_ca().build();
        let msg = expect_code(x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_KEY_USAGE);
        assert_mentions(&msg, &["Test Intermediate CA", "not a CA"]);
    }
}

#[test]
fn intermediate_without_key_cert_sign() {
    let pki = Pki::builder(KeyKind::P256).intermediate_usages(&[Usage::DigitalSignature, Usage::CrlSign]).build();
    let msg = expect_code(x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_KEY_USAGE);
    assert_mentions(&msg, &["Test Intermediate CA", "keyCertSign"]);
}

#[test]
fn path_length_constraint() {
    let strict = Pki::builder(KeyKind::P256).root_path_len(0).build();
    for chain in [strict.chain(), strict.chain_with_root()] {
        let msg = expect_code(x509::validate(&chain, &strict.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_KEY_USAGE);
        assert_mentions(&msg, &["Test Root CA", "pathLenConstraint"]);
    }
    let enough = Pki::builder(KeyKind::P256).root_path_len(1).build();
    x509::validate(&enough.chain_with_root(), &enough.anchors(), SIGN_TIME).unwrap();
}

#[test]
fn an_unknown_critical_extension_is_refused() {
    let pki = Pki::builder(KeyKind::P256).leaf_critical_extension(&[1, 3, 6, 1, 4, 1, 99999, 1]).build();
    let msg = expect_code(x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_INVALID);
    assert_mentions(&msg, &["Test Signer", "1.3.6.1.4.1.99999.1"]);
}

#[test]
fn name_constraints_are_refused() {
    let pki = Pki::builder(KeyKind::P256).intermediate_name_constraints().build();
    let msg = expect_code(x509::validate(&pki.chain(), &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_INVALID);
    assert_mentions(&msg, &["Test Intermediate CA", "name constraints"]);
}

// ---------------------------------------------------------------------------------------------
// Broken chains
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_order_breaks_the_chain() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        let chain = vec![pki.leaf.clone(), pki.root.clone(), pki.intermediate.clone()];
        let msg = expect_code(x509::validate(&chain, &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_CHAIN_BROKEN);
        assert_mentions(&msg, &["Test Signer", "Test Intermediate CA", "Test Root CA"]);
    }
}

#[test]
fn intermediate_of_another_pki_with_the_same_name() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        let look_alike = Pki::builder(kind).key_set(1).build();
        let chain = vec![pki.leaf.clone(), look_alike.intermediate.clone()];
        let msg = expect_code(x509::validate(&chain, &look_alike.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_CHAIN_BROKEN);
        assert_mentions(&msg, &["Test Signer", "does not verify"]);
    }
}

/// `der` with one byte changed.
fn flipped(der: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut out = der.to_vec();
    out[at] ^= mask;
    out
}

#[test]
fn tampered_signature_byte() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        // The last byte of a certificate is inside its signature.
        let leaf = Certificate::from_der(&flipped(pki.leaf.der(), pki.leaf.der().len() - 1, 0x01)).unwrap();
        let msg = expect_code(
            x509::validate(&[leaf, pki.intermediate.clone()], &pki.anchors(), SIGN_TIME),
            ResultCode::MEDSEAL_CERT_CHAIN_BROKEN,
        );
        assert_mentions(&msg, &["Test Signer", "Test Intermediate CA"]);

        // The intermediate's signature is checked against the root in the chain (broken link)
        // or against the anchors (no anchor verifies it).
        let inter = Certificate::from_der(&flipped(pki.intermediate.der(), pki.intermediate.der().len() - 1, 0x80)).unwrap();
        let with_root = vec![pki.leaf.clone(), inter.clone(), pki.root.clone()];
        expect_code(x509::validate(&with_root, &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_CHAIN_BROKEN);
        let msg =
            expect_code(x509::validate(&[pki.leaf.clone(), inter], &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_UNKNOWN_ISSUER);
        assert_mentions(&msg, &["Test Intermediate CA", "Test Root CA"]);
    }
}

#[test]
fn tampered_signed_field() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        // "Signer" -> "Sigoer" in the leaf's subject: still a parsable certificate.
        let der = pki.leaf.der();
        let at = der.windows(6).position(|w| w == b"Signer").expect("subject in DER") + 3;
        let forged = Certificate::from_der(&flipped(der, at, b'n' ^ b'o')).unwrap();
        assert!(forged.subject().contains("Test Sigoer"));
        let msg = expect_code(
            x509::validate(&[forged, pki.intermediate.clone()], &pki.anchors(), SIGN_TIME),
            ResultCode::MEDSEAL_CERT_CHAIN_BROKEN,
        );
        assert_mentions(&msg, &["Test Sigoer"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Signature algorithms
// ---------------------------------------------------------------------------------------------

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![Usage::KeyCertSign];
    params
}

fn leaf_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![Usage::DigitalSignature];
    params
}

fn parse(cert: &rcgen::Certificate) -> Certificate {
    Certificate::from_der(cert.der()).unwrap()
}

#[test]
fn p384_and_ed25519_issuers() {
    // P-384 root (ecdsa-with-SHA384) → Ed25519 intermediate → P-256 leaf signed with Ed25519.
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let inter_key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let root_params = ca_params("P-384 Root");
    let inter_params = ca_params("Ed25519 Intermediate");
    let root = root_params.self_signed(&root_key).unwrap();
    let inter = inter_params.signed_by(&inter_key, &Issuer::from_params(&root_params, &root_key)).unwrap();
    let leaf = leaf_params("P-256 Signer").signed_by(&leaf_key, &Issuer::from_params(&inter_params, &inter_key)).unwrap();
    let anchors = TrustAnchors::new(vec![parse(&root)]).unwrap();
    for chain in [vec![parse(&leaf), parse(&inter)], vec![parse(&leaf), parse(&inter), parse(&root)]] {
        x509::validate(&chain, &anchors, SIGN_TIME).unwrap();
    }
}

#[test]
fn rsa_sha384_and_sha512() {
    let root_key = KeyPair::from_pkcs8_pem_and_sign_algo(&pki::rsa_pem(0), &rcgen::PKCS_RSA_SHA384).unwrap();
    let inter_key = KeyPair::from_pkcs8_pem_and_sign_algo(&pki::rsa_pem(1), &rcgen::PKCS_RSA_SHA512).unwrap();
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let root_params = ca_params("RSA Root");
    let inter_params = ca_params("RSA Intermediate");
    let root = root_params.self_signed(&root_key).unwrap();
    let inter = inter_params.signed_by(&inter_key, &Issuer::from_params(&root_params, &root_key)).unwrap();
    let leaf = leaf_params("Signer").signed_by(&leaf_key, &Issuer::from_params(&inter_params, &inter_key)).unwrap();
    let anchors = TrustAnchors::new(vec![parse(&root)]).unwrap();
    x509::validate(&[parse(&leaf), parse(&inter)], &anchors, SIGN_TIME).unwrap();
}

fn openssl(args: &[&str], dir: &std::path::Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `openssl` ({e}); these tests need the openssl command line"));
    assert!(out.status.success(), "openssl {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

/// A root made by openssl from `ca_key` (`genpkey` arguments) and a P-256 signer it issued,
/// both signed with `digest`; and a signing time inside their windows (which start now).
fn openssl_root_and_leaf(ca_key: &[&str], digest: &str) -> (Certificate, Certificate, i64) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(&[&["genpkey"][..], ca_key, &["-out", "ca.pem"]].concat(), d);
    openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf.pem"], d);
    openssl(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.pem",
            digest,
            "-subj",
            "/CN=OpenSSL Root",
            "-days",
            "3650",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-out",
            "ca.crt",
        ],
        d,
    );
    openssl(&["req", "-new", "-key", "leaf.pem", "-subj", "/CN=OpenSSL Signer", "-out", "leaf.csr"], d);
    std::fs::write(d.join("ext.cnf"), "keyUsage=critical,nonRepudiation\n").unwrap();
    openssl(
        &[
            "x509", "-req", digest, "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.pem", "-days", "365", "-extfile", "ext.cnf", "-out",
            "leaf.crt",
        ],
        d,
    );
    let read = |name: &str| Certificate::from_der(&pem_to_der(&std::fs::read(d.join(name)).unwrap())).unwrap();
    let leaf = read("leaf.crt");
    let at = leaf.not_before() + 3600;
    (read("ca.crt"), leaf, at)
}

fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    let mut chain = Certificate::read_chain(pem).unwrap();
    chain.remove(0).der().to_vec()
}

#[test]
fn p256_issuer_signing_with_sha384() {
    // rcgen cannot make this combination; openssl can.
    let (root, leaf, at) = openssl_root_and_leaf(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "-sha384");
    let anchors = TrustAnchors::new(vec![root.clone()]).unwrap();
    x509::validate(std::slice::from_ref(&leaf), &anchors, at).unwrap();
    x509::validate(&[leaf, root], &anchors, at).unwrap();
}

#[test]
fn unsupported_issuer_keys_are_named() {
    let cases: [(&[&str], &str); 2] = [
        (&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"], "secp521r1"),
        (&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], "1024-bit RSA"),
    ];
    for (ca_key, named) in cases {
        let (root, leaf, at) = openssl_root_and_leaf(ca_key, "-sha256");
        let anchors = TrustAnchors::new(vec![root.clone()]).unwrap();
        // Whether the root is found among the anchors or in the chain.
        for chain in [vec![leaf.clone()], vec![leaf.clone(), root.clone()]] {
            let msg = expect_code(x509::validate(&chain, &anchors, at), ResultCode::MEDSEAL_CERT_INVALID);
            assert_mentions(&msg, &["OpenSSL Root", named]);
        }
    }
}

#[test]
fn rsa_pss_signed_certificate_is_refused_naming_the_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key.pem"), pki::rsa_pem(0)).unwrap();
    openssl(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            "/CN=PSS Signer",
            "-days",
            "36500",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-out",
            "pss.pem",
        ],
        dir.path(),
    );
    let chain = Certificate::read_chain(&std::fs::read(dir.path().join("pss.pem")).unwrap()).unwrap();
    let anchors = TrustAnchors::new(chain.clone()).unwrap();
    let at = chain[0].not_before() + 3600;
    let msg = expect_code(x509::validate(&chain, &anchors, at), ResultCode::MEDSEAL_CERT_INVALID);
    assert_mentions(&msg, &["PSS Signer", "1.2.840.113549.1.1.10"]);
}

#[test]
fn a_v1_issuer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key.pem"), pki::rsa_pem(0)).unwrap();
    std::fs::write(dir.path().join("leaf.pem"), pki::rsa_pem(1)).unwrap();
    // openssl x509 -req without extensions writes a v1 certificate.
    openssl(&["req", "-new", "-key", "key.pem", "-subj", "/CN=V1 Root", "-out", "root.csr"], dir.path());
    openssl(&["x509", "-req", "-in", "root.csr", "-key", "key.pem", "-days", "36500", "-out", "root.pem"], dir.path());
    openssl(&["req", "-new", "-key", "leaf.pem", "-subj", "/CN=V1 Child", "-out", "leaf.csr"], dir.path());
    std::fs::write(dir.path().join("ext.cnf"), "keyUsage=critical,digitalSignature\n").unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "key.pem",
            "-days",
            "36500",
            "-extfile",
            "ext.cnf",
            "-out",
            "leaf.pem.crt",
        ],
        dir.path(),
    );
    let root = Certificate::read_chain(&std::fs::read(dir.path().join("root.pem")).unwrap()).unwrap();
    let leaf = Certificate::read_chain(&std::fs::read(dir.path().join("leaf.pem.crt")).unwrap()).unwrap();
    let anchors = TrustAnchors::new(root.clone()).unwrap();
    // openssl's windows start now, so validate an hour from now.
    let at = leaf[0].not_before() + 3600;
    let msg = expect_code(x509::validate(&[leaf[0].clone(), root[0].clone()], &anchors, at), ResultCode::MEDSEAL_CERT_INVALID);
    assert_mentions(&msg, &["V1 Root", "v3"]);
}

// ---------------------------------------------------------------------------------------------
// Malformed input and limits
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_chain() {
    let pki = Pki::new(KeyKind::P256);
    expect_code(x509::validate(&[], &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_INVALID);
}

#[test]
fn chain_over_the_limit() {
    let pki = Pki::new(KeyKind::P256);
    let mut chain = pki.chain();
    chain.extend(std::iter::repeat(pki.intermediate.clone()).take(MAX_CHAIN_LEN + 1 - chain.len()));
    assert_eq!(chain.len(), MAX_CHAIN_LEN + 1);
    let msg = expect_code(x509::validate(&chain, &pki.anchors(), SIGN_TIME), ResultCode::MEDSEAL_CERT_INVALID);
    assert_mentions(&msg, &[&MAX_CHAIN_LEN.to_string()]);
    // The same through PEM.
    let pem = pki.chain_pem.repeat(MAX_CHAIN_LEN / 2 + 1);
    assert_eq!(Certificate::read_chain(pem.as_bytes()).unwrap_err().code(), ResultCode::MEDSEAL_CERT_INVALID);
}

#[test]
fn garbage_der() {
    for bytes in [&b""[..], b"garbage", &[0x30, 0x03, 0x02, 0x01, 0x00], &[0x30, 0x82, 0xff, 0xff], &[0u8; 100]] {
        assert_eq!(Certificate::from_der(bytes).unwrap_err().code(), ResultCode::MEDSEAL_CERT_INVALID, "{bytes:?}");
        assert_eq!(Certificate::read_chain(bytes).unwrap_err().code(), ResultCode::MEDSEAL_CERT_INVALID, "{bytes:?}");
        assert_eq!(TrustAnchors::from_pem_or_der(bytes).unwrap_err().code(), ResultCode::MEDSEAL_CERT_INVALID, "{bytes:?}");
    }
    // Trailing bytes after a certificate.
    let pki = Pki::new(KeyKind::P256);
    let mut der = pki.leaf.der().to_vec();
    der.push(0);
    assert_eq!(Certificate::from_der(&der).unwrap_err().code(), ResultCode::MEDSEAL_CERT_INVALID);
    // Over the size limit.
    assert_eq!(Certificate::from_der(&vec![0x30; x509::MAX_CERT_BYTES + 1]).unwrap_err().code(), ResultCode::MEDSEAL_CERT_INVALID);
}

#[test]
fn pem_with_junk() {
    let pki = Pki::new(KeyKind::P256);
    let bad_base64 = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n".to_string();
    let wrong_label = pki.chain_pem.replace("CERTIFICATE", "PRIVATE KEY");
    let unterminated = pki.chain_pem.trim_end().trim_end_matches("-----END CERTIFICATE-----").to_string();
    let not_a_cert = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", "QUJD");
    for pem in [bad_base64, wrong_label, unterminated, not_a_cert] {
        let e = Certificate::read_chain(pem.as_bytes()).unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_CERT_INVALID, "{pem:?}: {e}");
        assert_eq!(TrustAnchors::from_pem_or_der(pem.as_bytes()).unwrap_err().code(), ResultCode::MEDSEAL_CERT_INVALID);
    }
    // Text before and between blocks is tolerated (as openssl writes bundles), and changes nothing.
    let junk_before = format!("subject=CN=Test Signer\nissuer=CN=Test Intermediate\n{}", pki.chain_pem);
    assert_eq!(Certificate::read_chain(junk_before.as_bytes()).unwrap(), pki.chain());
    let text_between = pki.full_chain_pem.replacen("-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----\nsubject=CN=Test\n", 1);
    assert_eq!(Certificate::read_chain(text_between.as_bytes()).unwrap(), pki.chain_with_root());
    // Leading whitespace is fine.
    let chain = Certificate::read_chain(format!("\n  {}", pki.chain_pem).as_bytes()).unwrap();
    x509::validate(&chain, &pki.anchors(), SIGN_TIME).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Mutations: never a panic, never a pass
// ---------------------------------------------------------------------------------------------

/// Validates `chain` where one certificate is replaced by `mutant` (if it parses): it must fail,
/// and a panic fails the test. Returns the failure's code when the mutant reached validation,
/// `None` when it did not parse.
#[track_caller]
fn mutant_must_fail(pki: &Pki, index: usize, mutant: &[u8], with_root: bool) -> Option<ResultCode> {
    let cert = Certificate::from_der(mutant).ok()?;
    let mut chain = if with_root { pki.chain_with_root() } else { pki.chain() };
    chain[index] = cert;
    match x509::validate(&chain, &pki.anchors(), SIGN_TIME) {
        Ok(v) => panic!("a mutated certificate {index} ({} bytes) validated, anchor {}", mutant.len(), v.anchor.subject()),
        Err(e) => Some(e.code()),
    }
}

#[test]
fn mutated_certificates_never_panic_and_never_pass() {
    for kind in KINDS {
        let pki = Pki::new(kind);
        for (index, original) in [pki.leaf.der(), pki.intermediate.der()].into_iter().enumerate() {
            let mut truncations_reached = 0;
            for len in 0..original.len() {
                truncations_reached += usize::from(mutant_must_fail(&pki, index, &original[..len], false).is_some());
            }
            // A truncated certificate is never a certificate: DER lengths are exact.
            assert_eq!(truncations_reached, 0, "{kind:?} certificate {index}: a truncation parsed");
            let (mut flips, mut reached) = (0usize, 0usize);
            let mut codes = std::collections::BTreeMap::<String, usize>::new();
            for at in 0..original.len() {
                for mask in [0x01, 0x80, 0xff] {
                    flips += 1;
                    if let Some(code) = mutant_must_fail(&pki, index, &flipped(original, at, mask), index == 1 && mask == 0x80) {
                        reached += 1;
                        *codes.entry(format!("{code:?}")).or_default() += 1;
                    }
                }
            }
            // Most single-byte changes (70 to 85% here) leave the DER well formed (names, serial, key and
            // signature bytes): a parser that refused them all would make this test vacuous.
            println!("{kind:?} certificate {index}: {reached} of {flips} mutants reached validation, refused as {codes:?}");
            assert!(reached * 10 >= flips * 6, "{kind:?} certificate {index}: only {reached} of {flips} mutants reached validation");
            // And validation refused them for what changed: at least a broken signature and
            // another reason (names that no longer chain, key usage, windows).
            assert!(codes.contains_key("MEDSEAL_CERT_CHAIN_BROKEN") && codes.len() >= 2, "{kind:?} certificate {index}: {codes:?}");
        }
        // A mutated root, in the chain and as the anchor: never a panic. It may pass: an anchor
        // is trusted as configured and its self-signature is not checked, so a change to its
        // serial, its window (still around SIGN_TIME) or its signature leaves it usable.
        let root = pki.root.der();
        let (mut tried, mut reached) = (0usize, 0usize);
        for at in (0..root.len()).step_by(3) {
            tried += 1;
            let Ok(mutant) = Certificate::from_der(&flipped(root, at, 0x20)) else { continue };
            reached += 1;
            let anchors = TrustAnchors::new(vec![mutant.clone()]).unwrap();
            let result = x509::validate(&[pki.leaf.clone(), pki.intermediate.clone(), mutant.clone()], &anchors, SIGN_TIME);
            if let Ok(v) = result {
                assert_eq!(v.anchor, mutant);
                assert_eq!(v.leaf, pki.leaf);
            }
            let _ = x509::validate(&pki.chain(), &anchors, SIGN_TIME);
        }
        println!("{kind:?} root: {reached} of {tried} mutants reached validation");
        assert!(reached * 10 >= tried * 6, "{kind:?} root: only {reached} of {tried} mutants reached validation");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Certificate::from_der(&bytes);
        let _ = Certificate::read_chain(&bytes);
        let _ = TrustAnchors::from_pem_or_der(&bytes);
    }

    #[test]
    fn random_multi_byte_mutations_of_the_leaf_never_pass(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), 1u8..=255), 1..6),
    ) {
        let pki = shared_p256();
        let mut der = pki.leaf.der().to_vec();
        for (index, mask) in edits {
            let at = index.index(der.len());
            der[at] ^= mask;
        }
        if der != pki.leaf.der() {
            let _ = mutant_must_fail(pki, 0, &der, false);
        }
    }
}

fn shared_p256() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| Pki::new(KeyKind::P256))
}
