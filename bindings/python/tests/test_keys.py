"""Keys and recipient keys: generate, import, export, kid, errors, closing."""

from __future__ import annotations

import json

import pytest

import medseal

from conftest import Pki, repo_file


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", medseal.Algorithm.EDDSA])
def test_generate_export_import(alg: object) -> None:
    key = medseal.Key.generate(alg)  # type: ignore[arg-type]
    assert key.has_private
    assert key.algorithm == medseal.Algorithm.parse(alg)  # type: ignore[arg-type]
    assert len(key.kid) == medseal.kid_length() == 43
    for fmt in ("pkcs8-pem", "pkcs8-der", "spki-pem", "spki-der", "jwk"):
        data = key.export(fmt)
        again = medseal.Key.load(data)
        assert again.kid == key.kid
        assert again.has_private == fmt.startswith("pkcs8")
    public = key.public_key()
    assert not public.has_private and public.kid == key.kid and public.algorithm == key.algorithm
    assert json.loads(key.export("jwk"))["kty"] in ("OKP", "EC")
    assert "private" in repr(key) and key.kid in repr(key)


def test_load_files_and_rsa_scheme(pki: Pki) -> None:
    ed = medseal.Key.load(repo_file("tests", "c", "data", "ed25519_pkcs8.pem").read_bytes())
    assert ed.algorithm == medseal.Algorithm.EDDSA
    rsa = medseal.Key.load(pki.read("signer-rsa.key"))
    assert rsa.algorithm == medseal.Algorithm.RS256
    pss = medseal.Key.load(pki.read("signer-rsa.key"), alg="PS256")
    assert pss.algorithm == medseal.Algorithm.PS256
    pem_text = pki.read("signer-ec.pub.pem").decode()
    assert medseal.Key.load(pem_text).algorithm == medseal.Algorithm.ES256


def test_key_errors() -> None:
    with pytest.raises(medseal.MedsealKeyError) as caught:
        medseal.Key.load(b"not a key")
    assert caught.value.name == "MEDSEAL_KEY_FORMAT"
    public = medseal.Key.generate().public_key()
    with pytest.raises(medseal.MedsealKeyError) as caught:
        public.export("pkcs8-pem")
    assert caught.value.name == "MEDSEAL_KEY_NOT_PRIVATE"
    with pytest.raises(medseal.GeneralError) as general:
        medseal.Key.generate("RS256")
    assert general.value.code < 100
    with pytest.raises(ValueError, match="unknown algorithm"):
        medseal.Key.generate("HS256")
    with pytest.raises(ValueError, match="unknown key format"):
        public.export("pem")
    with pytest.raises(TypeError):
        medseal.Key.load(12345)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        medseal.Key.generate(1)  # type: ignore[arg-type]
    x25519 = medseal.RecipientKey.generate().export("pkcs8-pem")
    with pytest.raises(medseal.MedsealKeyError) as caught:
        medseal.Key.load(x25519)
    assert caught.value.name == "MEDSEAL_KEY_UNSUPPORTED"


def test_recipient_keys() -> None:
    key = medseal.RecipientKey.generate()
    assert key.has_private and len(key.kid) == 43
    for fmt in ("pkcs8-pem", "pkcs8-der", "spki-pem", "spki-der", "jwk"):
        again = medseal.RecipientKey.load(key.export(fmt))
        assert again.kid == key.kid and again.has_private == fmt.startswith("pkcs8")
    raw_private = key.export("raw-private")
    raw_public = key.export("raw-public")
    assert len(raw_private) == len(raw_public) == 32
    assert medseal.RecipientKey.from_raw(raw_private, private=True).kid == key.kid
    public = medseal.RecipientKey.from_raw(raw_public, private=False)
    assert public.kid == key.kid and not public.has_private
    assert key.public_key().kid == key.kid
    jwk = json.loads(key.export("jwk"))
    assert jwk["use"] == "enc" and jwk["kid"] == key.kid


def test_recipient_key_errors() -> None:
    with pytest.raises(medseal.MedsealKeyError) as caught:
        medseal.RecipientKey.from_raw(b"\x01" * 31, private=True)
    assert caught.value.name == "MEDSEAL_KEY_INVALID"
    with pytest.raises(medseal.MedsealKeyError) as caught:
        medseal.RecipientKey.load(medseal.Key.generate().export("pkcs8-pem"))
    assert caught.value.name == "MEDSEAL_KEY_UNSUPPORTED"
    with pytest.raises(medseal.MedsealKeyError) as caught:
        medseal.RecipientKey.generate().public_key().export("raw-private")
    assert caught.value.name == "MEDSEAL_KEY_NOT_PRIVATE"
    with pytest.raises(TypeError):
        medseal.RecipientKey.from_raw("x" * 32, private=True)  # type: ignore[arg-type]


def test_closed_keys() -> None:
    key = medseal.Key.generate()
    with key as same:
        assert same is key
        kid = key.kid
    assert key.closed
    with pytest.raises(medseal.HandleClosedError, match="Key is closed"):
        key.export()
    with pytest.raises(medseal.HandleClosedError):
        medseal.Signer(key)
    key.close()  # a second close does nothing
    assert kid and "closed" in repr(key)
    rkey = medseal.RecipientKey.generate()
    rkey.close()
    with pytest.raises(medseal.HandleClosedError):
        rkey.has_private
    with pytest.raises(medseal.HandleClosedError):
        with rkey:
            pass
