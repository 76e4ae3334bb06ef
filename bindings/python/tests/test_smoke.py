"""The shared smoke scenario (tests/smoke/README.md), as C runs it in tests/c/test_smoke.c:
the same fixed inputs and expected outputs in every language. canonicalize, sign (byte-identical
JWS: Ed25519 is deterministic and the signing time fixed), verify, sign and seal, open, open and
verify, and one refusal at each step."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Dict

import pytest

import medseal

SMOKE = Path(__file__).resolve().parents[3] / "tests" / "smoke"


def read(name: str) -> bytes:
    return (SMOKE / name).read_bytes()


def line(name: str) -> str:
    return read(name).decode("utf-8").strip()


def seal_meta() -> Dict[str, str]:
    pairs = (text.split("=", 1) for text in line("seal.txt").splitlines())
    return {key: value for key, value in pairs}


CANONICAL = read("patient.canonical.json")
SIGT = line("sigt.txt")
KID = line("kid.txt")


def signer() -> medseal.Signer:
    return medseal.Signer(medseal.Key.load(read("signer_ed25519.pem")), signing_time=int(line("sigt.unix")))


def verifier() -> medseal.Verifier:
    return medseal.Verifier([medseal.Key.load(read("signer_ed25519.pub.pem"))])


def check_verified(verified: medseal.Verified) -> None:
    assert verified.payload == CANONICAL
    assert verified.kid == KID
    assert verified.algorithm is medseal.Algorithm.EDDSA
    assert verified.signing_time_text == SIGT
    assert verified.signing_time == datetime.datetime(2025, 3, 1, 8, 30, tzinfo=datetime.timezone.utc)


def test_canonicalize() -> None:
    assert medseal.canonicalize(read("patient.json")) == CANONICAL
    # The same record as a Python value (it holds no floats) canonicalizes the same.
    assert medseal.canonicalize(json.loads(read("patient.json"))) == CANONICAL
    with pytest.raises(medseal.JsonError) as refused:
        medseal.canonicalize(read("patient_nfd.json"))
    assert refused.value.name == "MEDSEAL_JSON_NOT_NFC"
    assert medseal.canonicalize(read("patient_nfd.json"), normalize_nfc=True) == CANONICAL


def test_sign_byte_identical_and_verify() -> None:
    key = medseal.Key.load(read("signer_ed25519.pem"))
    assert key.kid == KID and len(KID) == medseal.kid_length()
    with signer() as s:
        flattened = s.sign(read("patient.json"))
        compact = s.sign(read("patient.json"), format="compact")
    assert flattened == read("patient.flattened.jws")
    assert compact == read("patient.compact.jws")
    # The same instant given as a datetime with an offset signs the same bytes.
    at = datetime.datetime(2025, 3, 1, 15, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
    with medseal.Signer(key, signing_time=at) as s:
        assert s.sign(read("patient.json")) == read("patient.flattened.jws")
    with verifier() as v:
        check_verified(v.verify(read("patient.flattened.jws")))
        check_verified(v.verify(read("patient.compact.jws")))
        # One signature character changed (not the last: its low bits are padding).
        text = read("patient.compact.jws").decode()
        tampered = text[:-2] + ("B" if text[-2] == "A" else "A") + text[-1]
        with pytest.raises(medseal.JwsError) as refused:
            v.verify(tampered)
        assert refused.value.name == "MEDSEAL_JWS_SIGNATURE_INVALID"


def test_sign_and_seal_open_verify() -> None:
    fields = seal_meta()
    meta = medseal.Meta(record_id=fields["record_id"], source=fields["source"], sequence=int(fields["sequence"]))
    hub_public = medseal.RecipientKey.load(read("recipient_x25519.pub.pem"))
    assert hub_public.kid == line("recipient_kid.txt")
    with signer() as s:
        sealed = s.sign_and_seal(read("patient.json"), meta, [hub_public], encoding="json")
    document = json.loads(sealed)
    assert [r["kid"] for r in document["recipients"]] == [line("recipient_kid.txt")]
    hub = medseal.RecipientKey.load(read("recipient_x25519.pem"))
    with medseal.Envelope(sealed) as envelope:
        got = envelope.meta
        assert (got.record_id, got.source, got.sequence) == (fields["record_id"], fields["source"], int(fields["sequence"]))
        assert got.content_type == "application/jose+json"
        assert isinstance(got.created, str) and got.created.endswith("Z")
        # The plaintext is the signed record: the expected JWS, byte for byte.
        assert envelope.open(hub) == read("patient.flattened.jws")
        with verifier() as v:
            check_verified(envelope.open_verified(hub, v))
    # The sequence number changed in the clear meta: the envelope no longer opens.
    changed = dict(document, meta=dict(document["meta"], sequence=int(fields["sequence"]) + 1))
    with pytest.raises(medseal.SealError) as refused:
        hub.open(json.dumps(changed).encode())
    assert refused.value.name == "MEDSEAL_SEAL_DECRYPT_FAILED"
    # The protobuf envelope carries the same record.
    with signer() as s:
        sealed_pb = s.sign_and_seal(read("patient.json"), meta, [hub_public])
    assert hub.open(sealed_pb) == read("patient.flattened.jws")
    payload = json.loads(read("patient.flattened.jws"))["payload"]
    assert base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)) == CANONICAL
