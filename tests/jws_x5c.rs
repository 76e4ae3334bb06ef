//! Records signed with a certificate chain (`x5c`, `x5t#S256`) and verified against trust
//! anchors at their `sigT`: what a hospital's RSA-2048 or P-256 certificate from a licensed CA
//! gives, and what an auditor checks years later.

#[path = "support/pki.rs"]
mod pki;

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use medseal::jws::TrustedBy;
use medseal::x509::{Certificate, TrustAnchors};
use medseal::{Algorithm, DetachedPayload, Key, ResultCode, Serialization, SignOptions, Signer, Verifier};
use pki::{KeyKind, Pki, Usage, LEAF_WINDOW, SIGN_TIME};

/// Already canonical (RFC 8785), so the signed payload is these exact bytes.
const RECORD: &[u8] = br#"{"id":"glucose-1","resourceType":"Observation","status":"final","valueQuantity":{"unit":"mmol/L","value":5.4}}"#;

/// Signs at `SIGN_TIME`, inside every window of the test PKI.
fn lenient() -> SignOptions {
    SignOptions { signing_time: Some(SIGN_TIME), ..SignOptions::default() }
}

fn record() -> Vec<u8> {
    RECORD.to_vec()
}

fn signer(pki: &Pki, alg: Option<Algorithm>) -> Signer {
    let key = match alg {
        Some(alg) => Key::import(&pki.leaf_key.export(medseal::KeyFormat::Pkcs8Pem).unwrap(), Some(alg)).unwrap(),
        None => Key::import(&pki.leaf_key.export(medseal::KeyFormat::Pkcs8Pem).unwrap(), None).unwrap(),
    };
    Signer::new(Arc::new(key), lenient()).unwrap().with_certificate_chain(pki.chain()).unwrap()
}

fn verifier(pki: &Pki) -> Verifier {
    Verifier::new(Vec::new()).with_trust_anchors(Arc::new(pki.anchors()))
}

fn header_of(jws: &str) -> serde_json::Value {
    let protected = jws.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap()
}

fn code(result: medseal::Result<medseal::Verified>) -> ResultCode {
    result.expect_err("must fail").code()
}

#[test]
fn chains_are_written_into_the_header_and_verify_to_the_anchor() {
    for (kind, algs) in [(KeyKind::Rsa, vec![Algorithm::RS256, Algorithm::PS256]), (KeyKind::P256, vec![Algorithm::ES256])] {
        let pki = Pki::new(kind);
        for alg in algs {
            let jws = signer(&pki, Some(alg)).sign(&record(), Serialization::Compact).unwrap();
            let header = header_of(&jws);
            let x5c: Vec<Vec<u8>> =
                header["x5c"].as_array().unwrap().iter().map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap()).collect();
            assert_eq!(
                x5c,
                pki.chain().iter().map(|c| c.der().to_vec()).collect::<Vec<_>>(),
                "x5c is the chain, leaf first, standard base64"
            );
            assert_eq!(header["x5t#S256"], pki.leaf.thumbprint_s256());
            assert_eq!(header["kid"], pki.leaf.thumbprint_s256(), "the kid of a certificate signer is its x5t#S256");
            assert_eq!(header["alg"], alg.jws_name());
            assert_eq!(header["crit"], serde_json::json!(["sigT"]), "x5c and x5t#S256 are RFC 7515 names: never in crit");

            let verified = verifier(&pki).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
            assert_eq!(verified.algorithm, alg);
            assert_eq!(verified.payload, record());
            match &verified.trusted_by {
                TrustedBy::Certificate { thumbprint, subject, anchor } => {
                    assert_eq!(thumbprint, &pki.leaf.thumbprint_s256());
                    assert_eq!(subject, &pki.leaf.subject());
                    assert_eq!(anchor, &pki.root.subject());
                }
                other => panic!("trusted by {other:?}"),
            }
        }
    }
}

#[test]
fn records_verify_years_later_after_every_certificate_expired() {
    // The leaf expires an hour after signing; verification happens whenever (the chain model).
    let pki = Pki::builder(KeyKind::P256).leaf_window(LEAF_WINDOW.0, SIGN_TIME + 3600).build();
    let jws = signer(&pki, None).sign(&record(), Serialization::Flattened).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!(now > pki.leaf.not_after());
    let verified = verifier(&pki).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
    // Trusted by the expired chain, judged at sigT: the leaf and the anchor that made it trusted.
    assert_eq!(
        verified.trusted_by,
        TrustedBy::Certificate { thumbprint: pki.leaf.thumbprint_s256(), subject: pki.leaf.subject(), anchor: pki.root.subject() }
    );
    assert_eq!(verified.key_id, pki.leaf_key.kid(), "the key that verified is the leaf's");
    assert_eq!(verified.signing_time.as_deref(), Some(medseal::utc::format(SIGN_TIME).unwrap().as_str()));
    assert_eq!(verified.payload, record());
}

#[test]
fn signing_refuses_times_and_chains_that_would_not_verify() {
    let pki = Pki::new(KeyKind::P256);
    // sigT after the signer certificate expired: refused when signing, not only when verifying.
    let late = SignOptions { signing_time: Some(pki.leaf.not_after() + 1), ..SignOptions::default() };
    let s = Signer::new(Arc::new(pki.leaf_key.clone_private()), late).unwrap().with_certificate_chain(pki.chain()).unwrap();
    let e = s.sign(&record(), Serialization::Compact).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNED_OUTSIDE_VALIDITY, "{e}");

    // A chain for somebody else's key.
    let other = Key::generate(Algorithm::ES256).unwrap();
    let e = Signer::new(Arc::new(other), lenient()).unwrap().with_certificate_chain(pki.chain()).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNER_CERT_MISMATCH, "{e}");
    // The chain in the wrong order (the signer's certificate must come first).
    let mut reversed = pki.chain();
    reversed.reverse();
    let e = Signer::new(Arc::new(pki.leaf_key.clone_private()), lenient()).unwrap().with_certificate_chain(reversed).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNER_CERT_MISMATCH, "{e}");
    // A certificate that does not allow signing.
    let encipher_only = Pki::builder(KeyKind::P256).leaf_usages(&[Usage::KeyEncipherment]).build();
    let e = Signer::new(Arc::new(encipher_only.leaf_key.clone_private()), lenient())
        .unwrap()
        .with_certificate_chain(encipher_only.chain())
        .unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_CERT_KEY_USAGE, "{e}");
    // An empty chain.
    let e = Signer::new(Arc::new(pki.leaf_key.clone_private()), lenient()).unwrap().with_certificate_chain(Vec::new()).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_CERT_INVALID);
}

#[test]
fn verification_errors_have_their_own_codes() {
    let pki = Pki::new(KeyKind::P256);
    let jws = signer(&pki, None).sign(&record(), Serialization::Compact).unwrap();

    // Another CA.
    let stranger = Pki::builder(KeyKind::P256).names("Stranger").key_set(1).build();
    assert_eq!(code(verifier(&stranger).verify(jws.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_CERT_UNKNOWN_ISSUER);

    // An intermediate that had expired when the record was signed.
    let expired = Pki::builder(KeyKind::P256).intermediate_window(pki::Y2021, SIGN_TIME - 1).leaf_window(pki::Y2021, LEAF_WINDOW.1).build();
    let at_sign = SignOptions { signing_time: Some(SIGN_TIME), ..SignOptions::default() };
    let s = Signer::new(Arc::new(expired.leaf_key.clone_private()), at_sign).unwrap().with_certificate_chain(expired.chain()).unwrap();
    let late_jws = s.sign(&record(), Serialization::Compact).unwrap();
    assert_eq!(code(verifier(&expired).verify(late_jws.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_CERT_EXPIRED);

    // x5t#S256 that does not match the leaf, and a forged x5c: rebuild the header, re-sign with
    // the real key so only the header claim is wrong.
    let forge = |edit: &dyn Fn(&mut serde_json::Value)| -> String {
        let mut header = header_of(&jws);
        edit(&mut header);
        let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        let payload = jws.split('.').nth(1).unwrap();
        let input = format!("{protected}.{payload}");
        let sig = pki.leaf_key.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    };
    let wrong_x5t = forge(&|h| h["x5t#S256"] = serde_json::json!(stranger.leaf.thumbprint_s256()));
    assert_eq!(code(verifier(&pki).verify(wrong_x5t.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_CERT_CHAIN_BROKEN);
    let strangers_chain = forge(&|h| {
        h["x5c"] = serde_json::json!(stranger.chain().iter().map(|c| STANDARD.encode(c.der())).collect::<Vec<_>>());
        h.as_object_mut().unwrap().remove("x5t#S256");
    });
    // The stranger's chain validates to the stranger's root, but not with this signature's key.
    let both =
        Verifier::new(Vec::new()).with_trust_anchors(Arc::new(TrustAnchors::new(vec![pki.root.clone(), stranger.root.clone()]).unwrap()));
    assert_eq!(code(both.verify(strangers_chain.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_JWS_SIGNATURE_INVALID);
    let not_base64 = forge(&|h| h["x5c"] = serde_json::json!(["***"]));
    assert_eq!(code(verifier(&pki).verify(not_base64.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_JWS_HEADER);
    let not_a_cert = forge(&|h| h["x5c"] = serde_json::json!([STANDARD.encode(b"not a certificate")]));
    assert_eq!(code(verifier(&pki).verify(not_a_cert.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_CERT_INVALID);
    let empty = forge(&|h| h["x5c"] = serde_json::json!([]));
    assert_eq!(code(verifier(&pki).verify(empty.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_JWS_HEADER);
    // Without sigT the chain cannot be judged.
    let no_sigt = forge(&|h| {
        let o = h.as_object_mut().unwrap();
        o.remove("sigT");
        o.remove("crit");
    });
    let e = verifier(&pki).verify(no_sigt.as_bytes(), DetachedPayload::None).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_JWS_HEADER);
    assert!(e.message().contains("sigT"), "{e}");
    // A header alg the certificate's key cannot have.
    let eddsa = forge(&|h| h["alg"] = serde_json::json!("RS256"));
    assert_eq!(code(verifier(&pki).verify(eddsa.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_JWS_ALG_MISMATCH);
    // A tampered payload.
    let mut parts: Vec<&str> = jws.split('.').collect();
    let other_payload = URL_SAFE_NO_PAD
        .encode(br#"{"resourceType":"Observation","id":"glucose-1","status":"final","valueQuantity":{"value":9.4,"unit":"mmol/L"}}"#);
    parts[1] = &other_payload;
    assert_eq!(code(verifier(&pki).verify(parts.join(".").as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_JWS_SIGNATURE_INVALID);
    // A verifier with anchors only, and a record without x5c.
    let bare = Signer::new(Arc::new(pki.leaf_key.clone_private()), lenient()).unwrap().sign(&record(), Serialization::Compact).unwrap();
    assert_eq!(code(verifier(&pki).verify(bare.as_bytes(), DetachedPayload::None)), ResultCode::MEDSEAL_CERT_UNKNOWN_ISSUER);
    // ... which a verifier holding the bare key still accepts.
    let with_key = Verifier::new(vec![Arc::new(pki.leaf_key.to_public())]).with_trust_anchors(Arc::new(pki.anchors()));
    assert_eq!(with_key.verify(bare.as_bytes(), DetachedPayload::None).unwrap().trusted_by, TrustedBy::Key);
}

#[test]
fn certificates_read_from_pem_sign_like_parsed_ones() {
    let pki = Pki::new(KeyKind::Rsa);
    let chain = Certificate::read_chain(pki.chain_pem.as_bytes()).unwrap();
    assert_eq!(chain, pki.chain());
    let anchors = TrustAnchors::from_pem_or_der(pki.root_pem.as_bytes()).unwrap();
    let s = Signer::new(Arc::new(pki.leaf_key.clone_private()), lenient()).unwrap().with_certificate_chain(chain).unwrap();
    let jws = s.sign(&record(), Serialization::DetachedCompact).unwrap();
    let v = Verifier::new(Vec::new()).with_trust_anchors(Arc::new(anchors));
    let verified = v.verify(jws.as_bytes(), DetachedPayload::Bytes(&record())).unwrap();
    assert_eq!(verified.algorithm, Algorithm::RS256);
}

/// A private key has no Clone (secrets are not copied casually); tests re-import it.
trait ClonePrivate {
    fn clone_private(&self) -> Key;
}

impl ClonePrivate for Key {
    fn clone_private(&self) -> Key {
        Key::import(&self.export(medseal::KeyFormat::Pkcs8Der).unwrap(), Some(self.algorithm())).unwrap()
    }
}

/// A compact JWS over `RECORD` whose header carries `pki`'s chain, signed with the leaf key
/// directly: what an attacker holding a certificate medseal's signer refuses could still send.
fn hand_made_x5c_jws(pki: &Pki) -> String {
    let x5c: Vec<String> = pki.chain().iter().map(|c| STANDARD.encode(c.der())).collect();
    let header = serde_json::json!({
        "alg": "ES256",
        "crit": ["sigT"],
        "sigT": medseal::utc::format(SIGN_TIME).unwrap(),
        "typ": "medseal+jws",
        "x5c": x5c,
    });
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(RECORD));
    let signature = pki.leaf_key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[test]
fn tls_certificates_do_not_sign_records() {
    // Issue 10, point 6: a TLS client or server certificate (extended key usage clientAuth or
    // serverAuth only) is refused as a record signer, when signing and when verifying.
    use rcgen::ExtendedKeyUsagePurpose as Eku;
    for purposes in [vec![Eku::ClientAuth], vec![Eku::ServerAuth], vec![Eku::ClientAuth, Eku::ServerAuth]] {
        let tls = Pki::builder(KeyKind::P256).leaf_extended_usages(&purposes).build();
        let e = Signer::new(Arc::new(tls.leaf_key.clone_private()), lenient()).unwrap().with_certificate_chain(tls.chain()).unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_CERT_KEY_USAGE, "{e}");
        assert!(e.message().contains("not for signing documents"), "{e}");
        let e = verifier(&tls).verify(hand_made_x5c_jws(&tls).as_bytes(), DetachedPayload::None).unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_CERT_KEY_USAGE, "{purposes:?}: {e}");
    }
    // Document signing (RFC 9336), S/MIME, or a TLS purpose beside a signing one are fine, as is
    // no extended key usage at all; the hand-made JWS then verifies like a signed one.
    let document_signing = Eku::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 36]);
    for purposes in [vec![document_signing], vec![Eku::EmailProtection], vec![Eku::ClientAuth, Eku::EmailProtection], vec![]] {
        let pki = Pki::builder(KeyKind::P256).leaf_extended_usages(&purposes).build();
        let signed = signer(&pki, None).sign(&record(), Serialization::Compact).unwrap();
        assert!(verifier(&pki).verify(signed.as_bytes(), DetachedPayload::None).is_ok(), "{purposes:?}");
        assert!(verifier(&pki).verify(hand_made_x5c_jws(&pki).as_bytes(), DetachedPayload::None).is_ok(), "{purposes:?}");
    }
}

#[test]
fn with_a_trust_list_a_certificate_does_not_bring_back_a_dropped_key() {
    // Issue 10, point 6: anchors and a trust list together. The chain proves the certificate;
    // the list decides who signs. A key the list no longer holds is refused, chain or not.
    use medseal::trust::{Role, TrustEntry, TrustList};
    let pki = Pki::new(KeyKind::P256);
    let signed = signer(&pki, None).sign(&record(), Serialization::Compact).unwrap();
    let key = Arc::new(pki.leaf_key.to_public());
    let listed = TrustEntry {
        facility: "cho-ray".to_owned(),
        kid: key.kid().to_owned(),
        alg: Algorithm::ES256,
        key,
        chain: None,
        role: Role::RecordSigning,
        not_before: LEAF_WINDOW.0,
        not_after: LEAF_WINDOW.1,
    };
    let other = Arc::new(Key::generate(Algorithm::ES256).unwrap().to_public());
    let unrelated = TrustEntry { facility: "binh-dan".to_owned(), kid: other.kid().to_owned(), key: other, ..listed.clone() };
    let both = |entries: Vec<TrustEntry>| {
        let list = TrustList::new("Department of Health", 2, LEAF_WINDOW.0, LEAF_WINDOW.1, entries).unwrap();
        verifier(&pki).with_trust_list(Arc::new(list))
    };
    assert!(both(vec![listed.clone(), unrelated.clone()]).verify(signed.as_bytes(), DetachedPayload::None).is_ok());
    let dropped = both(vec![unrelated.clone()]).verify(signed.as_bytes(), DetachedPayload::None).unwrap_err();
    assert_eq!(dropped.code(), ResultCode::MEDSEAL_TRUST_UNKNOWN_SIGNER, "{dropped}");
    // Listed, but its window in the list ended before sigT: refused as well.
    let ended = TrustEntry { not_after: SIGN_TIME - 1, ..listed };
    let error = both(vec![ended, unrelated]).verify(signed.as_bytes(), DetachedPayload::None).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_TRUST_UNKNOWN_SIGNER, "{error}");
    // Anchors alone still judge by the chain.
    assert!(verifier(&pki).verify(signed.as_bytes(), DetachedPayload::None).is_ok());
}
