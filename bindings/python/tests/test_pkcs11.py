"""PKCS#11 signers on a SoftHSM2 token (made by tests/c/fixtures.sh; never skipped)."""

from __future__ import annotations

import pytest

import medseal

from conftest import PATIENT, Pki


def _args(pki: Pki, key_label: str) -> tuple:  # type: ignore[type-arg]
    env = pki.env
    return (env["MEDSEAL_TEST_PKCS11_MODULE"], env["MEDSEAL_TEST_PKCS11_TOKEN"], env[key_label], env["MEDSEAL_TEST_PKCS11_PIN"])


def test_ec_key_on_token(pki: Pki) -> None:
    with medseal.Signer.from_pkcs11(*_args(pki, "MEDSEAL_TEST_PKCS11_EC_KEY")) as signer:
        public = medseal.Key.load(pki.read("signer-ec.pub.pem"))
        assert signer.public_key.kid == public.kid
        verified = medseal.Verifier([public]).verify(signer.sign(PATIENT))
        assert verified.algorithm == medseal.Algorithm.ES256 and verified.payload == medseal.canonicalize(PATIENT)


@pytest.mark.parametrize("alg", [None, "RS256", "PS256"])
def test_rsa_key_on_token(pki: Pki, alg: object) -> None:
    signer = medseal.Signer.from_pkcs11(*_args(pki, "MEDSEAL_TEST_PKCS11_RSA_KEY"), alg=alg)  # type: ignore[arg-type]
    want = "RS256" if alg is None else alg
    public = medseal.Key.load(pki.read("signer-rsa.pub.pem"), alg=want)  # type: ignore[arg-type]
    verified = medseal.Verifier([public]).verify(signer.sign(PATIENT, format="compact"))
    assert verified.algorithm.value == want
    signer.close()


def test_token_with_certificate_chain(pki: Pki) -> None:
    signer = medseal.Signer.from_pkcs11(
        *_args(pki, "MEDSEAL_TEST_PKCS11_EC_KEY"), certificate_chain=pki.read("signer-ec-chain.pem"), kid="token-ec"
    )
    verified = medseal.Verifier(trust_anchors=pki.read("root.pem")).verify(signer.sign(PATIENT))
    assert verified.trusted_by == medseal.TrustedBy.CERTIFICATE
    assert verified.signer.startswith("CN=medseal test signer EC")
    assert verified.header["kid"] == "token-ec"


def test_token_errors(pki: Pki) -> None:
    module, token, key, pin = _args(pki, "MEDSEAL_TEST_PKCS11_EC_KEY")
    with pytest.raises(medseal.SignerError) as caught:
        medseal.Signer.from_pkcs11(module, token, key, "86420975")
    assert caught.value.name == "MEDSEAL_PKCS11_PIN"
    assert "86420975" not in str(caught.value) and pin not in str(caught.value)
    with pytest.raises(medseal.SignerError) as caught:
        medseal.Signer.from_pkcs11(module, "no-such-token", key, pin)
    assert caught.value.name == "MEDSEAL_PKCS11_TOKEN_NOT_FOUND"
    with pytest.raises(medseal.SignerError) as caught:
        medseal.Signer.from_pkcs11(module, token, "no-such-key", pin)
    assert caught.value.name == "MEDSEAL_PKCS11_KEY_NOT_FOUND"
    with pytest.raises(medseal.SignerError) as caught:
        medseal.Signer.from_pkcs11("/nonexistent/libpkcs11.so", token, key, pin)
    assert caught.value.name == "MEDSEAL_PKCS11_MODULE"
    with pytest.raises(TypeError):
        medseal.Signer.from_pkcs11(module, token, key, 246810)  # type: ignore[arg-type]
