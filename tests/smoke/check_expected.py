"""Checks the smoke scenario's expected outputs with independent implementations (no medseal).

    python tests/smoke/check_expected.py        (needs cryptography, rfc8785 and joserfc)

Run when the files were made (see README.md) and by tests/interop/run.sh: the expected bytes
must be what RFC 8785, RFC 7515 and RFC 7638 say, not merely what medseal wrote once.
- patient.canonical.json is the `rfc8785` package's canonical form of patient.json, and the
  NFC normalization of patient_nfd.json gives the same bytes;
- patient.flattened.jws and patient.compact.jws are one JWS in two serializations: payload =
  the canonical bytes, the protected header {alg EdDSA, kid, typ medseal+jws, sigT, crit [sigT]},
  an Ed25519 signature over the JWS signing input that PyCA `cryptography` verifies with
  signer_ed25519.pub.pem, and the same check passes through joserfc;
- kid.txt and recipient_kid.txt are the RFC 7638 thumbprints of the two public keys.
"""

import base64
import hashlib
import json
import sys
import unicodedata
import warnings
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from joserfc import jws as jose_jws
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

HERE = Path(__file__).resolve().parent
# joserfc flags "EdDSA" (RFC 9864 prefers "Ed25519"); medseal writes EdDSA, as JAdES profiles do.
warnings.filterwarnings("ignore", message="EdDSA is deprecated")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def okp_thumbprint(crv: str, raw_public: bytes) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace."""
    members = '{"crv":"%s","kty":"OKP","x":"%s"}' % (crv, b64url(raw_public))
    return b64url(hashlib.sha256(members.encode()).digest())


def main() -> int:
    read = lambda name: (HERE / name).read_bytes()  # noqa: E731
    failures = []
    passed = [0]

    def check(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if ok:
            passed[0] += 1
        else:
            failures.append(what)

    patient = read("patient.json")
    canonical = read("patient.canonical.json")
    sigt = read("sigt.txt").decode().strip()
    kid = read("kid.txt").decode().strip()
    text = patient.decode("utf-8")
    check(unicodedata.is_normalized("NFC", text), "patient.json is in NFC")
    check(not unicodedata.is_normalized("NFC", read("patient_nfd.json").decode()), "patient_nfd.json is not in NFC")
    check(unicodedata.normalize("NFC", read("patient_nfd.json").decode()) == text, "patient_nfd.json is patient.json in NFD")
    check(rfc8785.dumps(json.loads(text)) == canonical, "patient.canonical.json == rfc8785(patient.json)")

    signer_pub = serialization.load_pem_public_key(read("signer_ed25519.pub.pem"))
    signer_priv = serialization.load_pem_private_key(read("signer_ed25519.pem"), password=None)
    assert isinstance(signer_pub, ed25519.Ed25519PublicKey) and isinstance(signer_priv, ed25519.Ed25519PrivateKey)
    raw = lambda k: k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)  # noqa: E731
    check(raw(signer_priv.public_key()) == raw(signer_pub), "signer_ed25519.pub.pem is the public half of signer_ed25519.pem")
    check(okp_thumbprint("Ed25519", raw(signer_pub)) == kid, "kid.txt is the RFC 7638 thumbprint of the signer key")
    recipient_pub = serialization.load_pem_public_key(read("recipient_x25519.pub.pem"))
    recipient_priv = serialization.load_pem_private_key(read("recipient_x25519.pem"), password=None)
    assert isinstance(recipient_pub, x25519.X25519PublicKey) and isinstance(recipient_priv, x25519.X25519PrivateKey)
    check(raw(recipient_priv.public_key()) == raw(recipient_pub), "recipient_x25519.pub.pem matches recipient_x25519.pem")
    check(
        okp_thumbprint("X25519", raw(recipient_pub)) == read("recipient_kid.txt").decode().strip(),
        "recipient_kid.txt is the RFC 7638 thumbprint of the recipient key",
    )

    flattened = json.loads(read("patient.flattened.jws"))
    check(sorted(flattened) == ["payload", "protected", "signature"], "flattened JWS has exactly payload, protected, signature")
    compact = read("patient.compact.jws").decode()
    check(compact == "%s.%s.%s" % (flattened["protected"], flattened["payload"], flattened["signature"]),
          "patient.compact.jws is the same JWS as patient.flattened.jws")
    check(unb64url(flattened["payload"]) == canonical, "the payload is the canonical bytes")
    header = json.loads(unb64url(flattened["protected"]))
    check(header == {"alg": "EdDSA", "crit": ["sigT"], "kid": kid, "sigT": sigt, "typ": "medseal+jws"},
          "protected header is {alg, crit [sigT], kid, sigT, typ medseal+jws}: %s" % header)
    signing_input = (flattened["protected"] + "." + flattened["payload"]).encode()
    signature = unb64url(flattened["signature"])
    try:
        signer_pub.verify(signature, signing_input)
        check(True, "PyCA Ed25519 verifies the signature over the JWS signing input")
    except Exception as exc:  # cryptography raises InvalidSignature
        check(False, "PyCA Ed25519 verifies the signature: %r" % exc)
    check(signer_priv.sign(signing_input) == signature, "PyCA signing the same input gives the same signature (Ed25519 is deterministic)")
    jwk = OKPKey.import_key(read("signer_ed25519.pub.pem"))
    # joserfc must know the JAdES sigT header to accept it in crit.
    registry = jose_jws.JWSRegistry(header_registry={"sigT": HeaderParameter("JAdES signing time", "str")}, algorithms=["EdDSA"])
    obj = jose_jws.deserialize_compact(compact, jwk, registry=registry)
    check(obj.payload == canonical, "joserfc verifies the compact JWS and reads the canonical payload")
    obj = jose_jws.deserialize_json(flattened, jwk, registry=registry)
    check(obj.payload == canonical and obj.headers()["kid"] == kid, "joserfc verifies the flattened JWS")

    print("smoke-expected: %d passed, %d failed" % (passed[0], len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
