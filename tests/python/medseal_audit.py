"""Open medseal sealed envelopes and check the signed records inside, with PyCA cryptography
(>= 50) and the standard library only: no medseal code, just docs/SEALED_ENVELOPES.md."""
import base64
import hashlib
import json

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

INFO_PREFIX = b"medseal/v1\n"
KEM_X25519_HKDF_SHA256, KDF_HKDF_SHA256 = 0x0020, 0x0001
AEADS = {0x0002: (hpke.AEAD.AES_256_GCM, AESGCM), 0x0003: (hpke.AEAD.CHACHA20_POLY1305, ChaCha20Poly1305)}


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def info_of(meta):
    """The HPKE info: "medseal/v1\\n" || JCS(meta). For this flat object of text and one integer,
    JCS is sorted, compact JSON in UTF-8."""
    return INFO_PREFIX + json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def kid_of(x25519_public_key):
    """The RFC 7638 thumbprint of an X25519 public key: the kid recipients are listed under."""
    jwk = '{"crv":"X25519","kty":"OKP","x":"%s"}' % b64url_encode(x25519_public_key.public_bytes_raw())
    return b64url_encode(hashlib.sha256(jwk.encode()).digest())


def open_envelope(envelope, private_key):
    """The plaintext of a sealed envelope (the JSON mapping, as a dict) for an X25519 private key.
    Raises on any change to meta, recipients or ct (cryptography.exceptions.InvalidTag)."""
    suite = envelope["suite"]
    if (suite["kem"], suite["kdf"]) != (KEM_X25519_HKDF_SHA256, KDF_HKDF_SHA256) or suite["aead"] not in AEADS:
        raise ValueError(f"unsupported HPKE suite {suite}")
    hpke_aead, body_aead = AEADS[suite["aead"]]
    hpke_suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke_aead)
    info = info_of(envelope["meta"])  # recomputed: the envelope's "info" copy is never trusted
    kid = kid_of(private_key.public_key())
    mine = [r for r in envelope["recipients"] if r["kid"] == kid]
    if not mine:
        raise LookupError(f"the envelope is not addressed to kid {kid}")
    enc, ct = b64url_decode(mine[0]["enc"]), b64url_decode(envelope["ct"])
    if len(envelope["recipients"]) == 1:  # plain RFC 9180 single-shot, empty AAD
        return hpke_suite.decrypt(enc + ct, private_key, info=info)
    content_key = hpke_suite.decrypt(enc + b64url_decode(mine[0]["wrapped_key"]), private_key, info=info)
    if len(content_key) != 32:
        raise ValueError("the content key must have 32 bytes")
    return body_aead(content_key).decrypt(bytes(12), ct, info)  # zero nonce, info as AAD


def from_protobuf(data):
    """The JSON mapping (a dict) of a protobuf medseal.v1.SealedRecord, without a protobuf library."""
    def fields(message):
        i = 0
        while i < len(message):
            key, i = varint(message, i)
            wire_type = key & 7
            if wire_type == 0:
                value, i = varint(message, i)
            else:
                if wire_type == 2:  # length-delimited: bytes, strings, messages
                    size, i = varint(message, i)
                elif wire_type in (1, 5):  # fixed64, fixed32
                    size = 8 if wire_type == 1 else 4
                else:
                    raise ValueError(f"unexpected protobuf wire type {wire_type}")
                value, i = message[i:i + size], i + size
                if i > len(message):
                    raise ValueError("truncated protobuf")
            yield key >> 3, value

    def varint(message, i):
        value = shift = 0
        while True:
            byte = message[i]
            value, shift, i = value | (byte & 0x7F) << shift, shift + 7, i + 1
            if byte < 0x80:
                return value, i

    meta = {"record_id": "", "source": "", "sequence": 0, "created": "", "content_type": ""}
    suite = {"kem": 0, "kdf": 0, "aead": 0}
    envelope = {"meta": meta, "suite": suite, "recipients": [], "ct": "", "info": ""}
    for number, value in fields(data):  # unknown fields are skipped, as protobuf requires
        if number == 1:  # Meta
            names = {1: "record_id", 2: "source", 3: "sequence", 4: "created", 5: "content_type"}
            for n, v in fields(value):
                if n in names:
                    meta[names[n]] = v if n == 3 else v.decode()
        elif number == 2:  # Suite
            for n, v in fields(value):
                if n in (1, 2, 3):
                    suite[("kem", "kdf", "aead")[n - 1]] = v
        elif number == 3:  # Recipient; wrapped_key only with several recipients
            recipient = {"kid": "", "enc": ""}
            for n, v in fields(value):
                if n == 1:
                    recipient["kid"] = v.decode()
                elif n in (2, 3):
                    recipient[("enc", "wrapped_key")[n - 2]] = b64url_encode(v)
            envelope["recipients"].append(recipient)
        elif number in (4, 5):
            envelope[("ct", "info")[number - 4]] = b64url_encode(value)
    return envelope


def verify_eddsa_jws(flattened_jws, ed25519_public_key):
    """The payload of a JSON-flattened EdDSA JWS (as medseal signs records), after checking the
    signature with an Ed25519 public key. Raises cryptography.exceptions.InvalidSignature."""
    header = json.loads(b64url_decode(flattened_jws["protected"]))
    if header.get("alg") != "EdDSA" or not set(header.get("crit", [])) <= {"sigT", "srCms"}:
        raise ValueError(f"not a medseal EdDSA header: {header}")
    signing_input = (flattened_jws["protected"] + "." + flattened_jws["payload"]).encode()
    ed25519_public_key.verify(b64url_decode(flattened_jws["signature"]), signing_input)
    return b64url_decode(flattened_jws["payload"])
