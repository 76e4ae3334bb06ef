"""PKCS#11 signers and TLS client keys on a SoftHSM2 token (made by tests/c/fixtures.sh; never skipped)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import medseal

from conftest import PATIENT, Hub, Pki


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


def test_tls_client_key_on_the_token_delivers_over_mutual_tls(pki: Pki, hub: Hub, tmp_path: Path) -> None:
    """The hospital's TLS client key made on its token (``medseal facility init
    --tls-pkcs11-...``), the hub enrolling its request, and :class:`medseal.Transport` signing
    each handshake there through :class:`medseal.Pkcs11Key`: no client.key anywhere."""
    module, token, _, pin = _args(pki, "MEDSEAL_TEST_PKCS11_EC_KEY")
    facility, facility_dir = "py-token-tls", tmp_path / "facility"
    env = dict(os.environ, MEDSEAL_PKCS11_PIN=pin)
    for args in (
        ["facility", "init", "--facility", facility, "--dir", str(facility_dir), "--tls-pkcs11-module", module,
         "--tls-pkcs11-token", token, "--tls-key-label", "py-tls-client"],
        ["hub", "enroll", "--dir", str(hub.dir), "--facility", facility, "--signing-key", str(facility_dir / "signing.pub"),
         "--csr", str(facility_dir / "client.csr"), "--out", str(facility_dir)],
    ):
        done = subprocess.run([str(hub.cli)] + args, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert not (facility_dir / "client.key").exists()
    key = medseal.Pkcs11Key(module, token, "py-tls-client", pin)
    assert pin not in repr(key)

    # Without the token key there is no client key to use; a wrong PIN is the token's refusal.
    with pytest.raises(medseal.TransportError) as caught:
        medseal.Transport(hub.url, facility_dir=facility_dir)
    assert "client.key" in str(caught.value)
    with pytest.raises(medseal.SignerError) as refused:
        medseal.Transport(hub.url, facility_dir=facility_dir, client_key=medseal.Pkcs11Key(module, token, "py-tls-client", "000000"))
    assert refused.value.name == "MEDSEAL_PKCS11_PIN" and pin not in str(refused.value)
    with pytest.raises(medseal.SignerError) as missing:
        medseal.Transport(hub.url, facility_dir=facility_dir, client_key=medseal.Pkcs11Key(module, token, "no-such-key", pin))
    assert missing.value.name == "MEDSEAL_PKCS11_KEY_NOT_FOUND"
    # The token's other key is not the certificate's: refused before any connection.
    with pytest.raises(medseal.TransportError):
        medseal.Transport(hub.url, facility_dir=facility_dir, client_key=medseal.Pkcs11Key(*_args(pki, "MEDSEAL_TEST_PKCS11_EC_KEY")))

    signer = medseal.Signer(medseal.Key.load((facility_dir / "signing.key").read_bytes()))
    recipient = medseal.RecipientKey.load((facility_dir / "hub-recipient.pub").read_bytes())
    with medseal.Outbox(tmp_path / "token.db", facility, [recipient]) as outbox, \
            medseal.Transport(hub.url, facility_dir=facility_dir, client_key=key) as transport:
        local = outbox.enqueue("py-token-1", signer.sign(PATIENT))
        report = outbox.deliver(transport)
        assert report.error is None, report.error
        assert report.delivered == 1 and report.dead_letters == 0
        kept = outbox.receipt("py-token-1")
        checked = medseal.Receipt.verify(kept.receipt, kept.inclusion_proof,
                                         receipt_key=medseal.Key.load((facility_dir / "receipt.pub").read_bytes()),
                                         tree_head_key=medseal.Key.load((facility_dir / "tree-head.pub").read_bytes()),
                                         source=facility, record_id="py-token-1", digest=local.digest)
        assert checked.sequence == 1
