"""Signers (key, callback, certificate chain, options) and verifiers (keys, anchors, trust lists)."""

from __future__ import annotations

import base64
import datetime
import json
import threading
import unicodedata
from typing import Any, List

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding

import medseal

from conftest import PATIENT, Pki


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def protected_header(jws: bytes) -> Any:
    return json.loads(b64url_decode(json.loads(jws)["protected"]))


def test_sign_verify_formats() -> None:
    key = medseal.Key.generate("EdDSA")
    signer = medseal.Signer(key)
    verifier = medseal.Verifier([key.public_key()])
    canonical = medseal.canonicalize(PATIENT)
    for fmt in ("flattened", "compact"):
        jws = signer.sign(PATIENT, format=fmt)
        verified = verifier.verify(jws)
        assert verified.payload == canonical
        assert verified.json() == json.loads(canonical)
        assert verified.kid == key.kid
        assert verified.algorithm == medseal.Algorithm.EDDSA
        assert verified.trusted_by == medseal.TrustedBy.KEY
        assert verified.signer == ""
        assert verified.header["typ"] == "medseal+jws" and verified.header["alg"] == "EdDSA"
        assert verified.signing_time is not None
        age = datetime.datetime.now(datetime.timezone.utc) - verified.signing_time
        assert abs(age.total_seconds()) < 120
    assert signer.sign(PATIENT, format="compact").count(b".") == 2
    assert verifier.verify(signer.sign(PATIENT, format="compact").decode()).payload == canonical
    for fmt in ("detached", "detached-compact", "detached-flattened"):
        jws = signer.sign(PATIENT, format=fmt)
        assert verifier.verify_detached(jws, canonical).payload == canonical
        assert verifier.verify_detached(jws, PATIENT, document=True).payload == canonical
        with pytest.raises(medseal.JwsError) as caught:
            verifier.verify(jws)
        assert caught.value.name == "MEDSEAL_JWS_PAYLOAD_MISSING"
    assert signer.public_key.kid == key.kid == signer.kid


def test_signer_options() -> None:
    key = medseal.Key.generate("ES256")
    when = datetime.datetime(2026, 1, 31, 8, 0, 0, tzinfo=datetime.timezone.utc)
    signer = medseal.Signer(key, kid="hospital-key-7", signing_time=when, commitment="1.2.840.10065.1.12.1.1")
    jws = signer.sign(b'{"a":1}')
    header = protected_header(jws)
    assert header["kid"] == "hospital-key-7"
    assert header["sigT"] == "2026-01-31T08:00:00Z"
    assert "srCms" in header
    verified = medseal.Verifier([key]).verify(jws)
    assert verified.signing_time == when and verified.signing_time_text == "2026-01-31T08:00:00Z"
    assert verified.algorithm == medseal.Algorithm.ES256
    # Fixed times give identical headers; the naive datetime is UTC; Unix seconds work too.
    naive = medseal.Signer(key, signing_time=when.replace(tzinfo=None))
    assert protected_header(naive.sign(b"{}"))["sigT"] == "2026-01-31T08:00:00Z"
    seconds = medseal.Signer(key, signing_time=int(when.timestamp()))
    assert protected_header(seconds.sign(b"{}"))["sigT"] == "2026-01-31T08:00:00Z"


def test_clock_skew_and_clock() -> None:
    key = medseal.Key.generate()
    far = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    guarded = medseal.Signer(key, signing_time=far, max_clock_skew=300)
    with pytest.raises(medseal.SignerError) as caught:
        guarded.sign(b"{}")
    assert caught.value.name == "MEDSEAL_SIGNING_TIME_SKEW"
    clocked = medseal.Signer(key, clock=lambda: far)
    assert protected_header(clocked.sign(b"{}"))["sigT"] == "2001-01-01T00:00:00Z"
    ok = medseal.Signer(key, signing_time=far, max_clock_skew=300, clock=lambda: int(far.timestamp()) + 10)
    assert protected_header(ok.sign(b"{}"))["sigT"] == "2001-01-01T00:00:00Z"

    class ClockBroke(Exception):
        pass

    def broken() -> int:
        raise ClockBroke("no time source")

    with pytest.raises(ClockBroke):
        medseal.Signer(key, clock=broken).sign(b"{}")
    with pytest.raises(TypeError, match="datetime or Unix seconds"):
        medseal.Signer(key, clock=lambda: "now").sign(b"{}")  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="callable"):
        medseal.Signer(key, clock=5)  # type: ignore[arg-type]


def test_signer_option_errors() -> None:
    key = medseal.Key.generate()
    with pytest.raises(medseal.GeneralError) as caught:
        medseal.Signer(key, commitment="not an oid")
    assert caught.value.name == "MEDSEAL_INVALID_ARGUMENT"
    with pytest.raises(medseal.GeneralError):
        medseal.Signer(key, kid="")
    with pytest.raises(medseal.MedsealKeyError) as key_error:
        medseal.Signer(key.public_key())
    assert key_error.value.name == "MEDSEAL_KEY_NOT_PRIVATE"
    with pytest.raises(TypeError):
        medseal.Signer("key")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        medseal.Signer(key, signing_time="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="JWS format"):
        medseal.Signer(key).sign(b"{}", format="jwt")
    with pytest.raises(medseal.JsonError) as json_error:
        medseal.Signer(key).sign(b'{"a":1,"a":1}')
    assert json_error.value.name == "MEDSEAL_JSON_DUPLICATE_KEY"
    nfd = {"family": unicodedata.normalize("NFD", "Nguyễn")}
    with pytest.raises(medseal.JsonError) as nfc_error:
        medseal.Signer(key).sign(nfd)
    assert nfc_error.value.name == "MEDSEAL_JSON_NOT_NFC"
    signed = medseal.Signer(key, normalize_nfc=True).sign(nfd)
    assert medseal.Verifier([key]).verify(signed).json() == {"family": "Nguyễn"}


def test_verify_errors() -> None:
    key, other = medseal.Key.generate(), medseal.Key.generate()
    jws = medseal.Signer(key).sign(PATIENT, format="compact")
    verifier = medseal.Verifier([key])
    head, payload, signature = jws.split(b".")
    tampered_payload = base64.urlsafe_b64encode(b'{"id":"pat-002"}').rstrip(b"=")
    with pytest.raises(medseal.JwsError) as caught:
        verifier.verify(b".".join([head, tampered_payload, signature]))
    assert caught.value.name == "MEDSEAL_JWS_SIGNATURE_INVALID"
    flipped = signature[:-2] + (b"A" if signature[-2:-1] != b"A" else b"B") + signature[-1:]
    with pytest.raises(medseal.JwsError):
        verifier.verify(b".".join([head, payload, flipped]))
    with pytest.raises(medseal.JwsError) as caught:
        medseal.Verifier([other]).verify(jws)
    assert caught.value.name in ("MEDSEAL_JWS_SIGNATURE_INVALID", "MEDSEAL_JWS_ALG_MISMATCH")
    with pytest.raises(medseal.JwsError) as caught:
        verifier.verify(b"not a jws")
    assert caught.value.name == "MEDSEAL_JWS_MALFORMED"
    with pytest.raises(medseal.JwsError) as caught:
        medseal.Verifier([])
    assert caught.value.name == "MEDSEAL_JWS_NO_KEYS"
    with pytest.raises(medseal.JwsError):
        verifier.verify_detached(medseal.Signer(key).sign(PATIENT, format="detached"), b'{"other":1}')
    with pytest.raises(TypeError):
        verifier.verify(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        medseal.Verifier(["key"])  # type: ignore[list-item]
    assert medseal.Verifier(key).verify(jws).kid == key.kid  # one Key alone is accepted


def test_verify_record_takes_records_only() -> None:
    """Issue 10 point 6: a trust list signed by a trusted key verifies as a JWS, but is not a
    record (its typ is not medseal+jws); neither is a JWS without sigT."""
    key = medseal.Key.generate()
    verifier = medseal.Verifier([key.public_key()])
    record = medseal.Signer(key).sign(PATIENT)
    verified = verifier.verify_record(record)
    assert verified.kid == key.kid and verified.json() == PATIENT and verified.signing_time is not None
    assert verifier.verify_record(medseal.Signer(key).sign(PATIENT, format="compact")).kid == key.kid
    trust_list = medseal.TrustList.sign({
        "type": "medseal-trust-list", "version": 1, "issuer": "T", "sequence": 1,
        "issued": "2026-01-01T00:00:00Z", "expires": "2027-01-01T00:00:00Z", "entries": [],
    }, key)
    assert verifier.verify(trust_list).kid == key.kid  # a valid JWS by a trusted key...
    with pytest.raises(medseal.JwsError) as caught:
        verifier.verify_record(trust_list)  # ...but not a record
    assert caught.value.name == "MEDSEAL_JWS_HEADER"
    # Hand-made JWS by a trusted key (cryptography signs): without sigT, then over a payload
    # that is not canonical JSON (a duplicate key).
    private = ed25519.Ed25519PrivateKey.generate()
    own = medseal.Key.load(private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    own_verifier = medseal.Verifier([own])

    def hand_made(header: bytes, payload: bytes) -> bytes:
        head, body = (base64.urlsafe_b64encode(part).rstrip(b"=") for part in (header, payload))
        return b".".join([head, body, base64.urlsafe_b64encode(private.sign(head + b"." + body)).rstrip(b"=")])

    no_sigt = hand_made(b'{"alg":"EdDSA","typ":"medseal+jws"}', b'{"id":"1"}')
    assert own_verifier.verify(no_sigt).signing_time is None
    with pytest.raises(medseal.JwsError) as caught:
        own_verifier.verify_record(no_sigt)
    assert caught.value.name == "MEDSEAL_JWS_HEADER"
    duplicate = hand_made(b'{"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"medseal+jws"}', b'{"a":1,"a":2}')
    assert own_verifier.verify(duplicate).kid == own.kid
    with pytest.raises(medseal.JwsError) as caught:
        own_verifier.verify_record(duplicate)
    assert caught.value.name == "MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL"
    with pytest.raises(medseal.JwsError) as caught:
        medseal.Verifier([medseal.Key.generate()]).verify_record(record)
    assert caught.value.name == "MEDSEAL_JWS_SIGNATURE_INVALID"
    with pytest.raises(medseal.JwsError) as caught:
        verifier.verify_record(b"not a jws")
    assert caught.value.name == "MEDSEAL_JWS_MALFORMED"
    with pytest.raises(TypeError):
        verifier.verify_record(None)  # type: ignore[arg-type]


# ---- callback signers --------------------------------------------------------------------------

def test_callback_signer_ed25519() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public = medseal.Key.load(pem)
    seen: List[bytes] = []

    def sign(message: bytes) -> bytes:
        seen.append(message)
        return private.sign(message)

    signer = medseal.Signer.from_callback(public, sign, kid="from-host")
    jws = signer.sign(PATIENT, format="compact")
    assert seen and jws.startswith(seen[-1] + b".")
    verified = medseal.Verifier([public]).verify(jws)
    assert verified.payload == medseal.canonicalize(PATIENT)
    assert verified.header["kid"] == "from-host"
    assert signer.public_key.kid == public.kid


@pytest.mark.parametrize("scheme", ["ES256", "RS256", "PS256"])
def test_callback_signer_ec_rsa(pki: Pki, scheme: str) -> None:
    name = "signer-ec" if scheme == "ES256" else "signer-rsa"
    private: Any = serialization.load_pem_private_key(pki.read(name + ".key"), password=None)
    public = medseal.Key.load(pki.read(name + ".pub.pem"), alg=scheme if scheme != "ES256" else None)

    def sign(message: bytes) -> bytes:
        if scheme == "ES256":
            return bytes(private.sign(message, ec.ECDSA(hashes.SHA256())))  # DER, as Java gives it
        if scheme == "RS256":
            return bytes(private.sign(message, padding.PKCS1v15(), hashes.SHA256()))
        return bytes(private.sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()))

    jws = medseal.Signer.from_callback(public, sign).sign(PATIENT)
    verified = medseal.Verifier([public]).verify(jws)
    assert verified.algorithm.value == scheme


def test_callback_exception_comes_back_as_itself() -> None:
    public = medseal.Key.generate().public_key()

    class TokenUnplugged(RuntimeError):
        pass

    error = TokenUnplugged("the token was removed")

    def sign(message: bytes) -> bytes:
        raise error

    signer = medseal.Signer.from_callback(public, sign)
    for _ in range(3):  # and again: nothing stays stuck
        with pytest.raises(TokenUnplugged) as caught:
            signer.sign(PATIENT)
        assert caught.value is error
    recipient = medseal.RecipientKey.generate()
    with pytest.raises(TokenUnplugged):
        signer.sign_and_seal(PATIENT, medseal.Meta("r-1", "hospital-a", 1), [recipient])


def test_callback_wrong_results() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    public = medseal.Key.load(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(TypeError, match="must return the signature as bytes"):
        medseal.Signer.from_callback(public, lambda m: "text").sign(PATIENT)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="must return the signature as bytes"):
        medseal.Signer.from_callback(public, lambda m: None).sign(PATIENT)  # type: ignore[arg-type, return-value]
    too_long = b"\x00" * (medseal.Signer.max_signature_bytes() + 1)
    with pytest.raises(ValueError, match="at most"):
        medseal.Signer.from_callback(public, lambda m: too_long).sign(PATIENT)
    with pytest.raises(medseal.SignerError) as caught:
        medseal.Signer.from_callback(public, lambda m: b"\x00" * 64).sign(PATIENT)
    assert caught.value.name == "MEDSEAL_SIGNER_BAD_SIGNATURE"
    with pytest.raises(TypeError, match="callable"):
        medseal.Signer.from_callback(public, b"not callable")  # type: ignore[arg-type]
    # bytearray and memoryview results are fine
    assert medseal.Signer.from_callback(public, lambda m: bytearray(private.sign(m))).sign(PATIENT)
    assert medseal.Signer.from_callback(public, lambda m: memoryview(private.sign(m))).sign(PATIENT)


def test_callback_from_threads() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    public = medseal.Key.load(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    calls: List[int] = []

    def sign(message: bytes) -> bytes:
        calls.append(threading.get_ident())
        if b"fail" in base64.urlsafe_b64decode(message.split(b".")[1] + b"=="):
            raise KeyError("refused " + str(threading.get_ident()))
        return private.sign(message)

    signer = medseal.Signer.from_callback(public, sign)
    verifier = medseal.Verifier([public])
    errors: List[BaseException] = []
    together = threading.Barrier(8, timeout=30)

    def work(n: int) -> None:
        try:
            together.wait()  # all eight alive at once: distinct thread idents
            for i in range(20):
                if (n + i) % 5 == 0:
                    with pytest.raises(KeyError, match="refused %d" % threading.get_ident()):
                        signer.sign({"fail": True, "n": n})
                else:
                    assert verifier.verify(signer.sign({"n": n, "i": i})).json() == {"n": n, "i": i}
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        together.wait()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(calls)) == 8


# ---- certificates and trust lists --------------------------------------------------------------

def test_certificate_chain_and_anchors(pki: Pki) -> None:
    key = medseal.Key.load(pki.read("signer-ec.key"))
    signer = medseal.Signer(key, certificate_chain=pki.read("signer-ec-chain.pem"))
    jws = signer.sign(PATIENT)
    header = protected_header(jws)
    assert len(header["x5c"]) == 2 and "x5t#S256" in header
    verified = medseal.Verifier(trust_anchors=pki.read("root.pem")).verify(jws)
    assert verified.trusted_by == medseal.TrustedBy.CERTIFICATE
    assert verified.signer.startswith("CN=medseal test signer EC")
    # A list of PEM certificates works too.
    chain_list = [pki.read("signer-ec.pem"), pki.read("intermediate.pem").decode()]
    assert medseal.Verifier(trust_anchors=pki.read("root.pem").decode()).verify(
        medseal.Signer(key, certificate_chain=chain_list).sign(PATIENT)).trusted_by == medseal.TrustedBy.CERTIFICATE
    with pytest.raises(medseal.TrustError) as caught:
        medseal.Verifier(trust_anchors=pki.read("other-root.pem")).verify(jws)
    assert caught.value.name == "MEDSEAL_CERT_UNKNOWN_ISSUER"
    with pytest.raises(medseal.SignerError) as mismatch:
        medseal.Signer(medseal.Key.generate("ES256"), certificate_chain=pki.read("signer-ec-chain.pem"))
    assert mismatch.value.name == "MEDSEAL_SIGNER_CERT_MISMATCH"
    with pytest.raises(medseal.TrustError) as usage:
        medseal.Signer(medseal.Key.load(pki.read("signer-nosig.key")), certificate_chain=pki.read("signer-nosig-chain.pem"))
    assert usage.value.name == "MEDSEAL_CERT_KEY_USAGE"
    past = medseal.Signer(medseal.Key.load(pki.read("signer-past.key")), certificate_chain=pki.read("signer-past-chain.pem"))
    with pytest.raises(medseal.TrustError) as outside:
        past.sign(PATIENT)
    assert outside.value.name == "MEDSEAL_SIGNED_OUTSIDE_VALIDITY"
    with pytest.raises(ValueError):
        medseal.Signer(key, certificate_chain=[])
    with pytest.raises(medseal.TrustError):
        medseal.Verifier(trust_anchors=b"garbage")


def _trust_list(list_key: medseal.Key, record_key: medseal.Key, sequence: int, expires: str) -> bytes:
    jwk = json.loads(record_key.public_key().export("jwk"))
    jwk = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}
    document = {
        "type": "medseal-trust-list",
        "version": 1,
        "issuer": "Sở Y tế TP.HCM",
        "sequence": sequence,
        "issued": "2026-01-01T00:00:00Z",
        "expires": expires,
        "entries": [{
            "facility": "79001",
            "kid": record_key.kid,
            "alg": record_key.algorithm.value,
            "jwk": jwk,
            "roles": ["record-signing"],
            "not_before": "2026-01-01T00:00:00Z",
            "not_after": "2027-12-31T00:00:00Z",
        }],
    }
    return medseal.TrustList.sign(document, list_key)


def test_trust_lists() -> None:
    list_key, record_key = medseal.Key.generate(), medseal.Key.generate()
    signed = _trust_list(list_key, record_key, 12, "2027-06-01T00:00:00Z")
    now = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
    trust = medseal.TrustList.verify(signed, list_key.public_key(), now=now)
    assert trust.sequence == 12 and trust.entry_count == 1
    assert trust.expires == datetime.datetime(2027, 6, 1, tzinfo=datetime.timezone.utc)
    verifier = medseal.Verifier(trust_list=trust)
    jws = medseal.Signer(record_key, signing_time=now).sign(PATIENT)
    verified = verifier.verify(jws)
    assert verified.trusted_by == medseal.TrustedBy.TRUST_LIST and verified.signer == "79001"
    with pytest.raises(medseal.TrustError) as caught:
        verifier.verify(medseal.Signer(record_key, signing_time=datetime.datetime(2025, 6, 1)).sign(PATIENT))
    assert caught.value.code // 100 == 5
    with pytest.raises(medseal.TrustError) as caught:
        verifier.verify(medseal.Signer(medseal.Key.generate(), signing_time=now).sign(PATIENT))
    assert caught.value.name == "MEDSEAL_TRUST_UNKNOWN_SIGNER"
    with pytest.raises(medseal.TrustError) as caught:
        medseal.TrustList.verify(signed, medseal.Key.generate(), now=now)
    assert caught.value.name == "MEDSEAL_TRUST_LIST_SIGNATURE"
    with pytest.raises(medseal.TrustError) as caught:
        medseal.TrustList.verify(signed, list_key, now=datetime.datetime(2028, 1, 1))
    assert caught.value.name == "MEDSEAL_TRUST_LIST_EXPIRED"
    with pytest.raises(medseal.TrustError) as caught:
        medseal.TrustList.verify(signed, list_key, now=now, min_sequence=13)
    assert caught.value.name == "MEDSEAL_TRUST_LIST_STALE"
    with pytest.raises(medseal.TrustError) as caught:
        medseal.TrustList.sign(b'{"type":"medseal-trust-list"}', list_key)
    assert caught.value.name == "MEDSEAL_TRUST_LIST_INVALID"
    with pytest.raises(TypeError):
        medseal.Verifier(trust_list=b"jws")  # type: ignore[arg-type]
    trust.close()
    with pytest.raises(medseal.HandleClosedError):
        trust.sequence
