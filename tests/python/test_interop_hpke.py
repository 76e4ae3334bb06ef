"""Interop between the `medseal` command and PyCA cryptography's HPKE, both directions.

PyCA opens what medseal seals using only the documented recipe (medseal_audit.py, which
docs/SEALED_ENVELOPES.md quotes verbatim), and medseal opens envelopes PyCA builds from that
recipe. The binary is $MEDSEAL_BIN, by default target/debug/medseal (run `cargo build` first).
"""
import json
import os
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

import medseal_audit as audit

ROOT = Path(__file__).resolve().parents[2]
MEDSEAL = Path(os.environ.get("MEDSEAL_BIN", ROOT / "target" / "debug" / "medseal"))
DOC = ROOT / "docs" / "SEALED_ENVELOPES.md"
AEADS = {"aes256gcm": 0x0002, "chacha20poly1305": 0x0003}
RECORD = '{"resourceType":"Patient","id":"p1","name":[{"family":"Nguyễn","given":["Văn","An"]}]}'
# A source in Vietnamese (NFC), so the info really is UTF-8 and not escaped ASCII.
SOURCE = "BV Chợ Rẫy"


def medseal(*args, input=None, ok=True):
    """Runs the medseal binary; with ok=True asserts success. Returns the CompletedProcess."""
    if not MEDSEAL.is_file():
        pytest.fail(f"{MEDSEAL} not found: run `cargo build -j2 --workspace` or set MEDSEAL_BIN")
    done = subprocess.run([str(MEDSEAL), *map(str, args)], input=input, capture_output=True)
    if ok:
        assert done.returncode == 0, f"medseal {' '.join(map(str, args))}: {done.stderr.decode()}"
    return done


def seal_args(*recipients, aead="aes256gcm", fmt="json", sequence=7):
    args = ["seal", "--aead", aead, "--format", fmt, "--meta", f"source={SOURCE}", "--meta", f"sequence={sequence}"]
    for r in recipients:
        args += ["--to", r]
    return args


def decode(encoded):
    """The JSON mapping of medseal's output in either encoding."""
    return json.loads(encoded) if encoded.startswith(b"{") else audit.from_protobuf(encoded)


class Recipient:
    """An X25519 recipient key made by medseal, loaded into PyCA from its PKCS#8 PEM."""

    def __init__(self, directory, name):
        self.private_path = directory / f"{name}.pem"
        out = medseal("key", "generate", "--alg", "x25519", "--out", self.private_path).stdout.decode()
        self.kid = out.strip().removeprefix("kid: ")
        self.public_path = directory / f"{name}.pub"
        self.public_path.write_bytes(medseal("key", "public", self.private_path).stdout)
        self.private_key = serialization.load_pem_private_key(self.private_path.read_bytes(), password=None)
        assert isinstance(self.private_key, X25519PrivateKey)


@pytest.fixture
def hub(tmp_path):
    return Recipient(tmp_path, "hub")


@pytest.fixture
def insurers(tmp_path):
    return [Recipient(tmp_path, f"insurer{i}") for i in range(2)]


def test_the_doc_quotes_the_helper_verbatim():
    source = (Path(__file__).parent / "medseal_audit.py").read_text(encoding="utf-8")
    assert "```python\n" + source + "```\n" in DOC.read_text(encoding="utf-8"), (
        "docs/SEALED_ENVELOPES.md must contain tests/python/medseal_audit.py verbatim in a ```python block"
    )


def python_blocks(markdown):
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.S | re.M)


def proto_that_looks_like_json(hub, plaintext):
    """A protobuf envelope whose first bytes are "\\n{": field 1 (0x0a) and a 123-byte meta."""
    def seal(record_id):
        args = seal_args(hub.public_path, fmt="proto") + ["--meta", f"record_id={record_id}"]
        return medseal(*args, input=plaintext).stdout
    meta_length = seal("x")[1]
    encoded = seal("x" * (1 + 123 - meta_length))
    assert encoded[:2] == b"\n{"
    return encoded


@pytest.mark.parametrize("fmt", ["json", "proto", "proto-starting-with-newline-brace"])
def test_the_doc_usage_example_runs(tmp_path, monkeypatch, capsys, fmt):
    """The "Using it" example of the doc, executed as written on files medseal made."""
    [example] = [b for b in python_blocks(DOC.read_text(encoding="utf-8")) if "from medseal_audit import" in b]
    hub = Recipient(tmp_path, "hub")
    medseal("key", "generate", "--alg", "ed25519", "--out", tmp_path / "clinic.pem")
    (tmp_path / "clinic.jwk").write_bytes(medseal("key", "public", "--format", "jwk", tmp_path / "clinic.pem").stdout)
    jws = medseal("sign", "--key", tmp_path / "clinic.pem", input=RECORD.encode()).stdout
    if fmt == "proto-starting-with-newline-brace":
        sealed = proto_that_looks_like_json(hub, jws)
    else:
        sealed = medseal(*seal_args(hub.public_path, fmt=fmt), input=jws).stdout
    (tmp_path / "record.sealed").write_bytes(sealed)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(example, str(DOC), "exec"), namespace)
    assert namespace["record"] == json.loads(RECORD)
    assert capsys.readouterr().out == f"{SOURCE} 7 Patient\n"


def test_kids_and_keys_agree(hub):
    assert audit.kid_of(hub.private_key.public_key()) == hub.kid
    jwk = json.loads(medseal("key", "public", "--format", "jwk", hub.private_path).stdout)
    assert jwk["kid"] == hub.kid and jwk["crv"] == "X25519" and "d" not in jwk
    assert audit.b64url_decode(jwk["x"]) == hub.private_key.public_key().public_bytes_raw()
    public = serialization.load_pem_public_key(hub.public_path.read_bytes())
    assert isinstance(public, X25519PublicKey) and audit.kid_of(public) == hub.kid


@pytest.mark.parametrize("fmt", ["json", "proto"])
@pytest.mark.parametrize("aead", sorted(AEADS))
def test_medseal_seals_to_one_recipient_and_pyca_opens(hub, aead, fmt):
    plaintext = RECORD.encode()
    encoded = medseal(*seal_args(hub.public_path, aead=aead, fmt=fmt), input=plaintext).stdout
    envelope = decode(encoded)
    assert envelope["suite"] == {"kem": 0x0020, "kdf": 0x0001, "aead": AEADS[aead]}
    assert envelope["meta"]["source"] == SOURCE and envelope["meta"]["sequence"] == 7
    assert [r["kid"] for r in envelope["recipients"]] == [hub.kid]
    assert "wrapped_key" not in envelope["recipients"][0]
    # The informative copy of the info is what the recipe recomputes.
    info = audit.info_of(envelope["meta"])
    assert audit.b64url_decode(envelope["info"]) == info
    assert info.startswith(b"medseal/v1\n{\"content_type\":\"application/jose+json\",\"created\":\"")
    # enc || ct is exactly RFC 9180 single-shot output: PyCA's own Suite opens it directly.
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, audit.AEADS[AEADS[aead]][0])
    enc_ct = audit.b64url_decode(envelope["recipients"][0]["enc"]) + audit.b64url_decode(envelope["ct"])
    assert suite.decrypt(enc_ct, hub.private_key, info=info) == plaintext
    assert audit.open_envelope(envelope, hub.private_key) == plaintext


@pytest.mark.parametrize("fmt", ["json", "proto"])
@pytest.mark.parametrize("aead", sorted(AEADS))
def test_medseal_seals_to_several_recipients_and_pyca_opens(hub, insurers, aead, fmt):
    plaintext = os.urandom(1000)
    everyone = [hub, *insurers]
    encoded = medseal(*seal_args(*(r.public_path for r in everyone), aead=aead, fmt=fmt), input=plaintext).stdout
    envelope = decode(encoded)
    assert [r["kid"] for r in envelope["recipients"]] == [r.kid for r in everyone]
    for recipient in everyone:
        assert audit.open_envelope(envelope, recipient.private_key) == plaintext
    # The body alone is the suite's AEAD under the content key, zero nonce, info as AAD.
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, audit.AEADS[AEADS[aead]][0])
    entry = envelope["recipients"][1]
    wrapped = audit.b64url_decode(entry["enc"]) + audit.b64url_decode(entry["wrapped_key"])
    content_key = suite.decrypt(wrapped, insurers[0].private_key, info=audit.info_of(envelope["meta"]))
    body = audit.AEADS[AEADS[aead]][1](content_key)
    assert body.decrypt(bytes(12), audit.b64url_decode(envelope["ct"]), audit.info_of(envelope["meta"])) == plaintext
    outsider = X25519PrivateKey.generate()
    with pytest.raises(LookupError):
        audit.open_envelope(envelope, outsider)


def test_protobuf_starting_with_newline_brace_opens(hub):
    encoded = proto_that_looks_like_json(hub, b"x")
    assert medseal("open", "--key", hub.private_path, input=encoded).stdout == b"x"
    assert audit.open_envelope(audit.from_protobuf(encoded), hub.private_key) == b"x"


def test_the_protobuf_reader_agrees_with_medseal(hub):
    encoded = medseal(*seal_args(hub.public_path, fmt="proto", sequence=2**53 - 1), input=b"x").stdout
    meta_json = medseal("open", "--meta-only", input=encoded).stdout
    assert json.loads(meta_json) == audit.from_protobuf(encoded)["meta"]
    assert audit.from_protobuf(encoded)["meta"]["sequence"] == 2**53 - 1
    # Unknown fields are skipped: one of each wire type appended still opens.
    extra = bytes([15 << 3 | 0, 1, 16 << 3 | 1, *bytes(8), 17 << 3 | 5, *bytes(4), 18 << 3 | 2, 1, 0])
    assert audit.open_envelope(audit.from_protobuf(encoded + extra), hub.private_key) == b"x"


def pyca_seal(plaintext, meta, public_keys, aead_id=0x0002):
    """Builds the JSON mapping of an envelope with PyCA, from docs/SEALED_ENVELOPES.md alone."""
    hpke_aead, body_aead = audit.AEADS[aead_id]
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke_aead)
    info = audit.info_of(meta)
    if len(public_keys) == 1:
        sealed = suite.encrypt(plaintext, public_keys[0], info=info)
        recipients = [{"kid": audit.kid_of(public_keys[0]), "enc": audit.b64url_encode(sealed[:32])}]
        ct = sealed[32:]
    else:
        content_key = os.urandom(32)
        recipients = []
        for key in public_keys:
            sealed = suite.encrypt(content_key, key, info=info)
            recipients.append({
                "kid": audit.kid_of(key),
                "enc": audit.b64url_encode(sealed[:32]),
                "wrapped_key": audit.b64url_encode(sealed[32:]),
            })
        ct = body_aead(content_key).encrypt(bytes(12), plaintext, info)
    return {
        "meta": meta,
        "suite": {"kem": 0x0020, "kdf": 0x0001, "aead": aead_id},
        "recipients": recipients,
        "ct": audit.b64url_encode(ct),
        "info": audit.b64url_encode(info),
    }


def new_meta(sequence=1):
    return {
        "record_id": "rec-0001",
        "source": SOURCE,
        "sequence": sequence,
        "created": "2024-05-01T08:00:00Z",
        "content_type": "application/octet-stream",
    }


@pytest.mark.parametrize("aead", sorted(AEADS))
@pytest.mark.parametrize("count", [1, 3])
def test_pyca_seals_and_medseal_opens(tmp_path, hub, aead, count):
    # Recipients: one medseal-made key, the others made by PyCA and handed to medseal as PKCS#8.
    pyca_keys = [X25519PrivateKey.generate() for _ in range(count - 1)]
    pyca_paths = []
    for i, key in enumerate(pyca_keys):
        path = tmp_path / f"pyca{i}.pem"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        assert medseal("key", "info", path).stdout.decode() == f"algorithm: X25519\nkid: {audit.kid_of(key.public_key())}\ntype: private\n"
        pyca_paths.append(path)
    hub_public = serialization.load_pem_public_key(hub.public_path.read_bytes())
    plaintext = RECORD.encode()
    envelope = pyca_seal(plaintext, new_meta(), [hub_public, *(k.public_key() for k in pyca_keys)], AEADS[aead])
    encoded = json.dumps(envelope, ensure_ascii=False).encode()
    for key_path in [hub.private_path, *pyca_paths]:
        assert medseal("open", "--key", key_path, input=encoded).stdout == plaintext
    assert json.loads(medseal("open", "--meta-only", input=encoded).stdout) == envelope["meta"]


def test_tampered_meta_is_refused_both_ways(tmp_path, hub):
    # A second recipient (medseal refuses the same key listed twice).
    other_private, other_public = tmp_path / "other.pem", tmp_path / "other.pub"
    medseal("key", "generate", "--alg", "x25519", "--out", other_private)
    other_public.write_bytes(medseal("key", "public", other_private).stdout)
    # medseal seals, PyCA opens with one meta field changed: the recomputed info differs.
    for fmt in ["json", "proto"]:
        for recipients in [[hub.public_path], [hub.public_path, other_public]]:
            envelope = decode(medseal(*seal_args(*recipients, fmt=fmt), input=b"secret").stdout)
            assert audit.open_envelope(envelope, hub.private_key) == b"secret"
            changed = json.loads(json.dumps(envelope))
            changed["meta"]["sequence"] += 1
            with pytest.raises(InvalidTag):
                audit.open_envelope(changed, hub.private_key)
    # PyCA seals, medseal opens with a changed meta: refused, whatever the "info" copy says.
    hub_public = serialization.load_pem_public_key(hub.public_path.read_bytes())
    for keys in [[hub_public], [hub_public, X25519PrivateKey.generate().public_key()]]:
        envelope = pyca_seal(b"secret", new_meta(), keys)
        for field, value in [("sequence", 2), ("source", "BV Chợ Rẩy"), ("created", "2024-05-01T08:00:01Z")]:
            changed = json.loads(json.dumps(envelope))
            changed["meta"][field] = value
            done = medseal("open", "--key", hub.private_path, input=json.dumps(changed).encode(), ok=False)
            assert done.returncode == 1 and b"MEDSEAL_SEAL_DECRYPT_FAILED" in done.stderr, done.stderr
        # The "info" member is informative: nobody opens with it, but medseal refuses a copy that
        # is not the meta's (the envelope was altered) and accepts an envelope without one.
        wrong_info = dict(envelope, info=audit.b64url_encode(b"medseal/v1\n{}"))
        done = medseal("open", "--key", hub.private_path, input=json.dumps(wrong_info).encode(), ok=False)
        assert done.returncode == 1 and b"MEDSEAL_SEAL_DECRYPT_FAILED" in done.stderr and b"informative" in done.stderr, done.stderr
        assert audit.open_envelope(wrong_info, hub.private_key) == b"secret"  # the auditor's reader ignores it
        no_info = dict(envelope, info="")
        assert medseal("open", "--key", hub.private_path, input=json.dumps(no_info).encode()).stdout == b"secret"


def test_signed_record_inside_is_an_eddsa_jws_pyca_verifies(tmp_path, hub):
    signer = tmp_path / "signer.pem"
    signer_kid = medseal("key", "generate", "--alg", "ed25519", "--out", signer).stdout.decode().strip().removeprefix("kid: ")
    jwk = json.loads(medseal("key", "public", "--format", "jwk", signer).stdout)
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"] == signer_kid and "d" not in jwk
    signer_public = Ed25519PublicKey.from_public_bytes(audit.b64url_decode(jwk["x"]))
    record = tmp_path / "record.json"
    record.write_text(RECORD, encoding="utf-8")
    jws = medseal("sign", "--key", signer, record).stdout
    for fmt in ["json", "proto"]:
        encoded = medseal(*seal_args(hub.public_path, fmt=fmt), input=jws).stdout
        opened = audit.open_envelope(decode(encoded), hub.private_key)
        assert opened == jws
        flattened = json.loads(opened)
        payload = audit.verify_eddsa_jws(flattened, signer_public)
        # The payload is the canonical record (RFC 8785), in NFC.
        assert payload == medseal("canon", record).stdout
        assert json.loads(payload) == json.loads(RECORD)
        assert unicodedata.is_normalized("NFC", payload.decode())
        header = json.loads(audit.b64url_decode(flattened["protected"]))
        assert header["alg"] == "EdDSA" and header["kid"] == signer_kid and header["typ"] == "medseal+jws"
        # medseal agrees, and prints its summary to stderr.
        done = medseal("open", "--key", hub.private_path, "--verify-key", signer, input=encoded)
        assert done.stdout == jws and done.stderr.decode().startswith(f"valid: EdDSA signature by kid {signer_kid}")
    # Another payload under the same signature does not verify.
    forged = dict(flattened, payload=audit.b64url_encode(b'{"resourceType":"Patient","id":"p2"}'))
    with pytest.raises(InvalidSignature):
        audit.verify_eddsa_jws(forged, signer_public)
    with pytest.raises(InvalidSignature):
        audit.verify_eddsa_jws(flattened, Ed25519PrivateKey.generate().public_key())
