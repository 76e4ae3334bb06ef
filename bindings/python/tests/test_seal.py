"""Sealed envelopes: seal, open, caller-memory variants, Envelope, signed records, errors."""

from __future__ import annotations

import datetime
import json

import pytest

import medseal

from conftest import PATIENT

META = medseal.Meta("rec-0001", "hospital-a", 1)


def test_seal_open_encodings_and_aeads() -> None:
    hub, other = medseal.RecipientKey.generate(), medseal.RecipientKey.generate()
    plaintext = medseal.canonicalize(PATIENT)
    for encoding in ("protobuf", "json"):
        for aead in ("aes-256-gcm", "chacha20-poly1305"):
            envelope = medseal.seal(plaintext, META, [hub.public_key(), other.public_key()], aead=aead, encoding=encoding)
            assert (envelope[:1] == b"{") == (encoding == "json")
            assert hub.open(envelope) == plaintext
            assert other.open(envelope) == plaintext
    assert hub.open(medseal.seal("text é", META, hub)) == "text é".encode()  # one key alone, str plaintext
    assert hub.open(medseal.seal(b"", META, [hub])) == b""



def test_seal_when_the_guessed_room_is_too_small(monkeypatch: pytest.MonkeyPatch) -> None:
    # seal() guesses the envelope's size; a guess too small must cost a second call, not an error.
    from medseal import _seal

    monkeypatch.setattr(_seal, "_SEAL_ROOM", 0)
    monkeypatch.setattr(_seal, "_SEAL_ROOM_PER_RECIPIENT", 0)
    hub = medseal.RecipientKey.generate()
    for plaintext in (b"", b"x" * 5000):
        envelope = medseal.seal(plaintext, META, [hub.public_key()])
        assert len(envelope) == medseal.sealed_size(plaintext, META, [hub.public_key()])
        assert hub.open(envelope) == plaintext

def test_envelope_meta_and_open() -> None:
    hub = medseal.RecipientKey.generate()
    created = datetime.datetime(2026, 1, 31, 8, 0, tzinfo=datetime.timezone.utc)
    meta = medseal.Meta("rec-9", "hospital-b", 42, created=created, content_type="application/fhir+json")
    envelope = medseal.seal(b'{"a":1}', meta, [hub])
    with medseal.Envelope(envelope) as decoded:
        got = decoded.meta
        assert (got.record_id, got.source, got.sequence) == ("rec-9", "hospital-b", 42)
        assert got.created == "2026-01-31T08:00:00Z" and got.content_type == "application/fhir+json"
        assert json.loads(decoded.meta_json)["sequence"] == 42
        assert decoded.open(hub) == b'{"a":1}'
        assert hub.open(decoded) == b'{"a":1}'
    assert medseal.Envelope.decode(envelope).meta.record_id == "rec-9"
    default = medseal.Envelope(medseal.seal(b"x", META, [hub])).meta
    assert default.content_type == "application/jose+json" and default.created


def test_seal_into_and_open_into() -> None:
    hub = medseal.RecipientKey.generate()
    plaintext = bytes(range(256)) * 4096  # 1 MiB
    size = medseal.sealed_size(plaintext, META, [hub])
    out = bytearray(size)
    written = medseal.seal_into(plaintext, META, [hub], out)
    assert written == size
    envelope = bytes(out[:written])
    assert hub.plaintext_size(envelope) == len(plaintext) == medseal.plaintext_size(hub, envelope)
    target = bytearray(len(plaintext) + 10)
    n = hub.open_into(envelope, target)
    assert n == len(plaintext) and target[:n] == plaintext
    view = memoryview(bytearray(len(plaintext)))
    assert medseal.open_into(hub, memoryview(envelope), view) == len(plaintext) and view.tobytes() == plaintext
    with medseal.Envelope(envelope) as decoded:
        again = bytearray(len(plaintext))
        assert decoded.open_into(hub, again) == len(plaintext) and again == plaintext
    with pytest.raises(medseal.GeneralError) as caught:
        hub.open_into(envelope, bytearray(10))
    assert caught.value.name == "MEDSEAL_BUFFER_TOO_SMALL"
    with pytest.raises(medseal.GeneralError) as caught:
        medseal.seal_into(plaintext, META, [hub], bytearray(size - 1))
    assert caught.value.name == "MEDSEAL_BUFFER_TOO_SMALL"
    with pytest.raises(TypeError, match="bytearray"):
        hub.open_into(envelope, bytes(len(plaintext)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="writable"):
        medseal.seal_into(plaintext, META, [hub], memoryview(bytes(size)))


def test_open_errors() -> None:
    hub, stranger = medseal.RecipientKey.generate(), medseal.RecipientKey.generate()
    envelope = medseal.seal(b'{"secret":1}', META, [hub])
    with pytest.raises(medseal.SealError) as caught:
        stranger.open(envelope)
    assert caught.value.name == "MEDSEAL_SEAL_WRONG_RECIPIENT"
    with pytest.raises(medseal.SealError) as caught:
        hub.open(envelope[: len(envelope) - 20])
    assert caught.value.name in ("MEDSEAL_SEAL_TRUNCATED", "MEDSEAL_SEAL_NOT_PROTOBUF", "MEDSEAL_SEAL_MALFORMED")
    ct = envelope.index(medseal.Envelope(envelope).meta_json[:20]) // 4  # inside enc/ct, before the clear meta
    tampered = bytearray(envelope)
    tampered[ct] ^= 0x01
    with pytest.raises(medseal.SealError) as caught:
        hub.open(bytes(tampered))
    assert caught.value.name in ("MEDSEAL_SEAL_DECRYPT_FAILED", "MEDSEAL_SEAL_MALFORMED", "MEDSEAL_SEAL_NOT_PROTOBUF")
    with pytest.raises(medseal.SealError):
        medseal.Envelope(b"garbage")
    json_envelope = json.loads(medseal.seal(b"x", META, [hub], encoding="json"))
    json_envelope["meta"]["sequence"] = 2
    with pytest.raises(medseal.SealError) as caught:
        hub.open(json.dumps(json_envelope).encode())
    assert caught.value.name == "MEDSEAL_SEAL_DECRYPT_FAILED"
    with pytest.raises(medseal.MedsealKeyError) as key_error:
        hub.public_key().open(envelope)
    assert key_error.value.name == "MEDSEAL_KEY_NOT_PRIVATE"


def test_seal_argument_errors() -> None:
    hub = medseal.RecipientKey.generate()
    with pytest.raises(medseal.SealError) as caught:
        medseal.seal(b"x", medseal.Meta("", "hospital-a", 1), [hub])
    assert caught.value.name == "MEDSEAL_SEAL_META_INVALID"
    with pytest.raises(medseal.SealError):
        medseal.seal(b"x", medseal.Meta("r", "hospital-a", 0), [hub])
    with pytest.raises(medseal.SealError):
        medseal.seal(b"x", medseal.Meta("r", "hospital-a", 1, created="yesterday"), [hub])
    with pytest.raises(medseal.GeneralError):
        medseal.seal(b"x", META, [])
    with pytest.raises(ValueError, match="AEAD"):
        medseal.seal(b"x", META, [hub], aead="aes-128-cbc")
    with pytest.raises(ValueError, match="encoding"):
        medseal.seal(b"x", META, [hub], encoding="xml")
    with pytest.raises(TypeError):
        medseal.seal(b"x", {"record_id": "r"}, [hub])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        medseal.seal(b"x", META, ["key"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        medseal.seal(12, META, [hub])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        medseal.seal(b"x", medseal.Meta("r", "s", "1"), [hub])  # type: ignore[arg-type]
    with pytest.raises(medseal.GeneralError):
        medseal.seal(b"x", META, [medseal.RecipientKey.generate() for _ in range(17)])


def test_sign_and_seal_open_verified() -> None:
    key, hub = medseal.Key.generate(), medseal.RecipientKey.generate()
    signer = medseal.Signer(key)
    verifier = medseal.Verifier([key])
    for encoding in ("protobuf", "json"):
        envelope = signer.sign_and_seal(PATIENT, META, [hub.public_key()], encoding=encoding)
        verified = hub.open_verified(envelope, verifier)
        assert verified.payload == medseal.canonicalize(PATIENT) and verified.kid == key.kid
        with medseal.Envelope(envelope) as decoded:
            assert decoded.meta.content_type == "application/jose+json"
            assert decoded.open_verified(hub, verifier).payload == verified.payload
    with pytest.raises(medseal.JwsError):
        hub.open_verified(signer.sign_and_seal(PATIENT, META, [hub]), medseal.Verifier([medseal.Key.generate()]))
    # A plain envelope holding a JWS, sealed separately, opens verified too (compact JWS).
    compact = signer.sign(PATIENT, format="compact")
    plain = medseal.seal(compact, medseal.Meta("r", "s", 1, content_type="application/jose"), [hub])
    assert hub.open(plain) == compact
    with pytest.raises(medseal.SealError) as caught:
        hub.open_verified(medseal.seal(b"{}", medseal.Meta("r", "s", 1, content_type="application/json"), [hub]), verifier)
    assert caught.value.name == "MEDSEAL_SEAL_META_INVALID"
    with pytest.raises(TypeError):
        hub.open_verified(plain, key)  # type: ignore[arg-type]
