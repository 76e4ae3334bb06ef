"""Interop of certificate-based signatures (x5c, x5t#S256, sigT) between the `medseal` command,
PyCA cryptography and joserfc, both directions.

PyCA builds the test PKIs (root CA -> intermediate CA -> signer). medseal signs with
--cert-chain, and PyCA checks the result on its own: the x5c chain link by link (names,
signatures, windows at sigT, and its own path validator), x5t#S256, the JWS signature with the
leaf key and the RFC 8785 payload; joserfc verifies it too. The other way, joserfc signs JAdES
headers (x5c, typ, kid, sigT listed in crit) with the PyCA-made keys and `medseal verify
--trust-anchor` accepts or refuses them with exact result codes. The binary is $MEDSEAL_BIN, by
default target/debug/medseal (run `cargo build -j2 -p medseal-cli` first).
"""
import base64
import datetime
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

ROOT = Path(__file__).resolve().parents[2]
MEDSEAL = Path(os.environ.get("MEDSEAL_BIN", ROOT / "target" / "debug" / "medseal"))
UTC = datetime.timezone.utc

# A FHIR record with non-ASCII text and a decimal, so canonicalization has something to do.
RECORD = (
    '{"resourceType":"Observation","id":"obs-1","status":"final",'
    '"subject":{"reference":"Patient/p1","display":"Nguyễn Văn An"},'
    '"code":{"text":"Nhiệt độ cơ thể"},"valueQuantity":{"value":38.5,"unit":"Cel"}}'
)


def when(year, month=1, day=1, hour=0, minute=0, second=0):
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# The windows of the default PKI, and the signing time everything is checked at.
ROOT_WINDOW = (when(2020), when(2045))
INTERMEDIATE_WINDOW = (when(2021), when(2040))
LEAF_WINDOW = (when(2024), when(2027))
SIG_TIME = when(2025, 3, 14, 9, 26, 53)


def unix(moment):
    return int(moment.timestamp())


def sig_t(moment):
    """A JAdES sigT: RFC 3339, UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    assert re.fullmatch(r"[A-Za-z0-9_-]*", text), f"not unpadded base64url: {text[:40]}"
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jcs(value):
    """RFC 8785 for what RECORD holds (ASCII keys, text, integers and short decimals whose
    Python repr is the ECMAScript form): sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def medseal(*args, input=None, ok=True):
    """Runs the medseal binary; with ok=True asserts success. Returns the CompletedProcess."""
    if not MEDSEAL.is_file():
        pytest.fail(f"{MEDSEAL} not found: run `cargo build -j2 -p medseal-cli` or set MEDSEAL_BIN")
    done = subprocess.run([str(MEDSEAL), *map(str, args)], input=input, capture_output=True)
    if ok:
        assert done.returncode == 0, f"medseal {' '.join(map(str, args))}: {done.stderr.decode()}"
    return done


def refused(done, code):
    """Asserts that medseal refused with exactly `code`: exit status 1 and the one-line
    `medseal: <...> (<CODE>)` message on stderr. Returns the message."""
    message = done.stderr.decode()
    assert done.returncode == 1, f"expected {code}, got exit {done.returncode}: {done.stdout.decode()} {message}"
    codes = re.findall(r"\((MEDSEAL_[A-Z0-9_]+)\)", message)
    assert codes == [code], f"expected {code}, got {message!r}"
    assert message.startswith("medseal: ") and message.rstrip("\n").endswith(f"({code})"), message
    return message


# --- The test PKI, made by PyCA -----------------------------------------------------------------

def new_key(kind):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def name(common_name, organization="Bệnh viện Chợ Rẫy"):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


SIGNER_USAGE = {"digital_signature": True, "content_commitment": True}
CA_USAGE = {"key_cert_sign": True, "crl_sign": True}


def key_usage(**allowed):
    flags = dict.fromkeys(["digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                           "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"], False)
    flags.update(allowed)
    return x509.KeyUsage(**flags)


def issue(subject, subject_key, issuer_cert, issuer_key, window, ca, path_length=None, usage=None):
    """A v3 certificate for subject_key, signed by issuer_key (SHA-256). issuer_cert None means
    self-signed. usage: the KeyUsage flags, or False for no KeyUsage extension at all."""
    public = subject_key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    if issuer_cert is None:
        issuer_name, aki = subject, x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    else:
        issuer_ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        issuer_name, aki = issuer_cert.subject, x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(window[0])
        .not_valid_after(window[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(aki, critical=False)
    )
    if usage is None:
        usage = CA_USAGE if ca else SIGNER_USAGE
    if usage is not False:
        builder = builder.add_extension(key_usage(**usage), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def pem(*certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def pkcs8(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def x5t_s256(cert):
    return b64url_encode(hashlib.sha256(der(cert)).digest())


class Pki:
    """Root CA -> intermediate CA -> signer, all of one key kind ("rsa" or "p256"), written to
    `directory`: root.pem, chain.pem (signer then intermediate, no root) and signer.pem (the
    signer's PKCS#8 private key)."""

    def __init__(self, directory, kind="rsa", label="", intermediate_window=INTERMEDIATE_WINDOW,
                 leaf_window=LEAF_WINDOW, leaf_usage=None, root_name=None, root_key=None):
        directory.mkdir(parents=True, exist_ok=True)
        self.kind = kind
        self.root_key = root_key or new_key(kind)
        self.intermediate_key = new_key(kind)
        self.leaf_key = new_key(kind)
        self.root = issue(root_name or name(f"MedSeal Test Root CA{label}", "Bộ Y tế (test)"), self.root_key, None,
                          self.root_key, ROOT_WINDOW, ca=True, path_length=1)
        self.intermediate = issue(name(f"MedSeal Test Issuing CA{label}"), self.intermediate_key, self.root,
                                  self.root_key, intermediate_window, ca=True, path_length=0)
        self.leaf = issue(name(f"BS. Nguyễn Văn An{label}"), self.leaf_key, self.intermediate, self.intermediate_key,
                          leaf_window, ca=False, usage=leaf_usage)
        self.root_path = directory / "root.pem"
        self.chain_path = directory / "chain.pem"
        self.key_path = directory / "signer.pem"
        self.root_path.write_bytes(pem(self.root))
        self.chain_path.write_bytes(pem(self.leaf, self.intermediate))
        self.key_path.write_bytes(pkcs8(self.leaf_key))

    @property
    def x5c(self):
        """The x5c value of the chain (signer first, without the root): standard base64 DER."""
        return [base64.b64encode(der(c)).decode() for c in (self.leaf, self.intermediate)]


@pytest.fixture(scope="module")
def rsa_pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("rsa"), "rsa")


@pytest.fixture(scope="module")
def p256_pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("p256"), "p256")


@pytest.fixture(scope="module")
def record_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("record") / "observation.json"
    path.write_text(RECORD, encoding="utf-8")
    return path


# --- PyCA's own checks of a medseal signature ---------------------------------------------------

def check_link_with_pyca(child, issuer, at):
    """What a path validator checks for one link, done by hand with PyCA: names, the issuer's
    signature over the TBSCertificate bytes, and both windows at `at`."""
    assert child.issuer == issuer.subject
    public = issuer.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), child.signature_hash_algorithm)
    else:
        public.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm))
    for cert in (child, issuer):
        assert cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def pyca_path_validation(chain, root, at):
    """PyCA's RFC 5280 path validator (x509.verification) at `at`, with the web PKI rules for
    the CAs and no extended-key-usage demands on the signer (it signs records, not TLS)."""
    verifier = (
        PolicyBuilder()
        .store(Store([root]))
        .time(at)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    return verifier.verify(chain[0], chain[1:])


def check_jws_signature_with_pyca(alg, public, signature, signing_input):
    if alg == "RS256":
        public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        # Salt of the hash length (RFC 7518 3.5); OpenSSL checks the recovered salt length.
        public.verify(signature, signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    elif alg == "ES256":
        # JWS carries raw r || s (RFC 7518 3.4); PyCA wants DER.
        assert len(signature) == 64
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        public.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    else:
        raise AssertionError(f"unexpected alg {alg}")


def audit_medseal_jws(flattened, pki, alg):
    """Checks a flattened JWS medseal made with pki's chain, using PyCA only. Returns the header."""
    assert set(flattened) == {"protected", "payload", "signature"}
    header = json.loads(b64url_decode(flattened["protected"]))
    assert header["alg"] == alg
    assert header["typ"] == "medseal+jws"
    assert header["sigT"] == sig_t(SIG_TIME)
    assert header["crit"] == ["sigT"]
    # x5c: standard base64 (RFC 7515 4.1.6, not base64url), signer first, as in chain.pem.
    assert all(re.fullmatch(r"[A-Za-z0-9+/]+=*", item) for item in header["x5c"])
    chain = [x509.load_der_x509_certificate(base64.b64decode(item, validate=True)) for item in header["x5c"]]
    assert [der(c) for c in chain] == [der(pki.leaf), der(pki.intermediate)]
    # x5t#S256 = base64url(SHA-256(leaf DER)), and the kid is that thumbprint.
    thumbprint = b64url_encode(hashlib.sha256(base64.b64decode(header["x5c"][0])).digest())
    assert header["x5t#S256"] == thumbprint == header["kid"]
    # The chain, link by link, then PyCA's own path validator, at sigT.
    at = datetime.datetime.strptime(header["sigT"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    for child, issuer in zip(chain, [*chain[1:], pki.root]):
        check_link_with_pyca(child, issuer, at)
    verified = pyca_path_validation(chain, pki.root, at)
    assert [der(c) for c in verified.chain] == [der(pki.leaf), der(pki.intermediate), der(pki.root)]
    with pytest.raises(VerificationError, match="not valid at validation time"):
        pyca_path_validation(chain, pki.root, pki.leaf.not_valid_after_utc + datetime.timedelta(seconds=1))
    # The signer certificate may sign records.
    usage = chain[0].extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature or usage.content_commitment
    # The JWS signature with the leaf's key, over ASCII(protected '.' payload).
    signing_input = f"{flattened['protected']}.{flattened['payload']}".encode()
    signature = b64url_decode(flattened["signature"])
    check_jws_signature_with_pyca(alg, chain[0].public_key(), signature, signing_input)
    with pytest.raises(InvalidSignature):
        check_jws_signature_with_pyca(alg, chain[0].public_key(), signature, signing_input + b"x")
    # The payload is the RFC 8785 form of the record.
    assert b64url_decode(flattened["payload"]) == jcs(json.loads(RECORD))
    return header


SIGN_CASES = [("rsa", None, "RS256"), ("rsa", "ps256", "PS256"), ("p256", None, "ES256")]


@pytest.mark.parametrize("kind,alg_option,alg", SIGN_CASES)
def test_medseal_signs_with_a_chain_and_pyca_checks_everything(request, record_path, kind, alg_option, alg):
    pki = request.getfixturevalue(f"{kind}_pki")
    args = ["sign", "--key", pki.key_path, "--cert-chain", pki.chain_path, "--signing-time", unix(SIG_TIME)]
    if alg_option:
        args += ["--alg", alg_option]
    out = medseal(*args, record_path).stdout
    assert out.endswith(b"\n") and out.count(b"\n") == 1
    flattened = json.loads(out)
    audit_medseal_jws(flattened, pki, alg)
    assert b64url_decode(flattened["payload"]) == medseal("canon", record_path).stdout
    # A forged payload under the same signature fails the PyCA check.
    header_b64, signature = flattened["protected"], b64url_decode(flattened["signature"])
    forged = b64url_encode(jcs(dict(json.loads(RECORD), id="obs-2")))
    with pytest.raises(InvalidSignature):
        check_jws_signature_with_pyca(alg, pki.leaf.public_key(), signature, f"{header_b64}.{forged}".encode())
    if alg == "PS256":
        signing_input = f"{header_b64}.{flattened['payload']}".encode()
        # Really PSS: the same signature is not a PKCS#1 v1.5 one, and its salt is exactly 32
        # bytes (OpenSSL compares the recovered salt length: 20 bytes does not verify).
        with pytest.raises(InvalidSignature):
            check_jws_signature_with_pyca("RS256", pki.leaf.public_key(), signature, signing_input)
        with pytest.raises(InvalidSignature):
            pki.leaf.public_key().verify(signature, signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), 20),
                                         hashes.SHA256())


@pytest.mark.parametrize("kind,alg_option,alg", SIGN_CASES)
def test_joserfc_verifies_medseal_signatures_with_the_leaf_key(request, record_path, kind, alg_option, alg):
    pki = request.getfixturevalue(f"{kind}_pki")
    args = ["sign", "--key", pki.key_path, "--cert-chain", pki.chain_path, "--signing-time", unix(SIG_TIME)]
    if alg_option:
        args += ["--alg", alg_option]
    registry = jades_registry(alg)
    leaf_public = pki.leaf.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
    key = (RSAKey if kind == "rsa" else ECKey).import_key(leaf_public)
    flattened = json.loads(medseal(*args, record_path).stdout)
    verified = jws.deserialize_json(flattened, key, registry=registry)
    assert verified.payload == jcs(json.loads(RECORD))
    assert verified.headers()["x5c"] == pki.x5c and verified.headers()["sigT"] == sig_t(SIG_TIME)
    compact = medseal(*args, "--compact", record_path).stdout.decode().strip()
    assert jws.deserialize_compact(compact, key, registry=registry).payload == jcs(json.loads(RECORD))


@pytest.mark.parametrize("kind,alg_option,alg", SIGN_CASES)
def test_medseal_verifies_its_own_chain_signature(request, record_path, kind, alg_option, alg):
    pki = request.getfixturevalue(f"{kind}_pki")
    args = ["sign", "--key", pki.key_path, "--cert-chain", pki.chain_path, "--signing-time", unix(SIG_TIME)]
    if alg_option:
        args += ["--alg", alg_option]
    signed = medseal(*args, record_path).stdout
    summary = medseal("verify", "--trust-anchor", pki.root_path, input=signed).stdout.decode()
    assert summary.startswith(f"valid: {alg} signature by kid ")
    # The kid of a certificate signer is its x5t#S256: shown with the certificate, not as a mismatch.
    assert f"(x5t#S256 {x5t_s256(pki.leaf)})" in summary
    assert "(header kid" not in summary
    assert f'certificate "{pki.leaf.subject.rfc4514_string()}" (x5t#S256 {x5t_s256(pki.leaf)}) under "{pki.root.subject.rfc4514_string()}"' in summary
    assert medseal("verify", "--trust-anchor", pki.root_path, "--print-payload", input=signed).stdout == jcs(json.loads(RECORD))
    # Detached (as FHIR Signature.data carries it): the record supplied separately.
    detached = medseal(*args, "--detached", record_path).stdout
    assert detached.count(b"..") == 1
    summary = medseal("verify", "--trust-anchor", pki.root_path, "--payload", record_path, "--payload-document",
                      input=detached).stdout.decode()
    assert summary.endswith(f'certificate "{pki.leaf.subject.rfc4514_string()}" (x5t#S256 {x5t_s256(pki.leaf)}) under "{pki.root.subject.rfc4514_string()}"\n')


# --- joserfc signs, medseal verifies ------------------------------------------------------------

def jades_registry(alg, extra=()):
    """A joserfc registry that knows the JAdES sigT header (so it may be listed in crit) and
    allows the chain-sized headers x5c makes."""
    parameters = {"sigT": HeaderParameter("JAdES claimed signing time", "str")}
    parameters.update({n: HeaderParameter(f"test extension {n}", "str") for n in extra})
    registry = JWSRegistry(header_registry=parameters, algorithms=[alg])
    registry.max_header_length = 16384
    return registry


def joserfc_jws(pki, alg, at=SIG_TIME, x5c=None, compact=True, header_extra=None, crit=("sigT",), key=None):
    """A JWS joserfc makes with the PyCA signer key (or `key`), its protected header carrying
    x5c, typ, kid (the x5t#S256), sigT and crit."""
    header = {
        "alg": alg,
        "typ": "medseal+jws",
        "kid": x5t_s256(pki.leaf),
        "x5c": pki.x5c if x5c is None else x5c,
        "sigT": sig_t(at),
    }
    if crit:
        header["crit"] = list(crit)
    header.update(header_extra or {})
    extra = [n for n in header if n not in {"alg", "typ", "kid", "x5c", "sigT", "crit", "x5t#S256"}]
    registry = jades_registry(alg, extra)
    private = key or pki.leaf_key
    jwk = (RSAKey if isinstance(private, rsa.RSAPrivateKey) else ECKey).import_key(pkcs8(private))
    payload = jcs(json.loads(RECORD))
    if compact:
        return jws.serialize_compact(header, payload, jwk, registry=registry).encode()
    return json.dumps(jws.serialize_json({"protected": header}, payload, jwk, registry=registry)).encode()


def test_joserfc_puts_sigt_in_crit(rsa_pki):
    """joserfc accepts crit naming sigT once sigT is registered, and writes it as given."""
    token = joserfc_jws(rsa_pki, "RS256").decode()
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["crit"] == ["sigT"] and header["sigT"] == sig_t(SIG_TIME) and header["x5c"] == rsa_pki.x5c
    # Without the registration joserfc refuses crit: sigT is then an unknown critical header.
    with pytest.raises(Exception, match="sigT"):
        jws.serialize_compact(header, b"{}", RSAKey.import_key(pkcs8(rsa_pki.leaf_key)), algorithms=["RS256"])


JOSE_CASES = [("rsa", "RS256"), ("rsa", "PS256"), ("p256", "ES256")]


@pytest.mark.parametrize("compact", [True, False], ids=["compact", "flattened"])
@pytest.mark.parametrize("kind,alg", JOSE_CASES)
def test_medseal_accepts_joserfc_jws_under_the_root(request, kind, alg, compact):
    pki = request.getfixturevalue(f"{kind}_pki")
    token = joserfc_jws(pki, alg, compact=compact)
    summary = medseal("verify", "--trust-anchor", pki.root_path, input=token).stdout.decode()
    assert summary.startswith(f"valid: {alg} signature by kid "), summary
    assert f", sigT {sig_t(SIG_TIME)}, typ medseal+jws, " in summary
    subject, anchor = pki.leaf.subject.rfc4514_string(), pki.root.subject.rfc4514_string()
    assert subject == "CN=BS. Nguyễn Văn An,O=Bệnh viện Chợ Rẫy,C=VN"
    assert re.search(rf', certificate "{re.escape(subject)}" \(x5t#S256 [A-Za-z0-9_-]{{43}}\) under "{re.escape(anchor)}"\n$', summary), summary
    printed = medseal("verify", "--trust-anchor", pki.root_path, "--print-payload", input=token).stdout
    assert printed == jcs(json.loads(RECORD))


def test_anchor_file_with_several_roots(tmp_path, rsa_pki):
    other = Pki(tmp_path / "other", "rsa", label=" (other)")
    both = tmp_path / "roots.pem"
    both.write_bytes(pem(other.root, rsa_pki.root))
    token = joserfc_jws(rsa_pki, "RS256")
    assert medseal("verify", "--trust-anchor", both, input=token).returncode == 0
    # Two --trust-anchor options work as well as one file holding both.
    assert medseal("verify", "--trust-anchor", other.root_path, "--trust-anchor", rsa_pki.root_path, input=token).returncode == 0
    refused(medseal("verify", "--trust-anchor", other.root_path, input=token, ok=False), "MEDSEAL_CERT_UNKNOWN_ISSUER")


@pytest.mark.parametrize("kind,alg", JOSE_CASES)
def test_another_root_is_an_unknown_issuer(tmp_path, request, kind, alg):
    pki = request.getfixturevalue(f"{kind}_pki")
    token = joserfc_jws(pki, alg)
    other = Pki(tmp_path / "other", kind, label=" (other)")
    refused(medseal("verify", "--trust-anchor", other.root_path, input=token, ok=False), "MEDSEAL_CERT_UNKNOWN_ISSUER")
    # A root with the very same name but another key (an impostor, or a rekeyed root) does not
    # vouch for the chain either.
    impostor = Pki(tmp_path / "impostor", kind, root_name=pki.root.subject)
    assert impostor.root.subject == pki.root.subject
    message = refused(medseal("verify", "--trust-anchor", impostor.root_path, input=token, ok=False),
                      "MEDSEAL_CERT_UNKNOWN_ISSUER")
    assert "none verifies it" in message


@pytest.mark.parametrize("kind,alg", JOSE_CASES)
def test_sigt_outside_the_signer_window(request, kind, alg):
    pki = request.getfixturevalue(f"{kind}_pki")
    not_before, not_after = pki.leaf.not_valid_before_utc, pki.leaf.not_valid_after_utc
    for at in [not_before - datetime.timedelta(seconds=1), not_after + datetime.timedelta(seconds=1), when(2030)]:
        token = joserfc_jws(pki, alg, at=at)
        message = refused(medseal("verify", "--trust-anchor", pki.root_path, input=token, ok=False),
                          "MEDSEAL_SIGNED_OUTSIDE_VALIDITY")
        assert sig_t(at) in message
    # Both ends of the window are inside it (RFC 5280 4.1.2.5: inclusive).
    for at in [not_before, not_after]:
        assert medseal("verify", "--trust-anchor", pki.root_path, input=joserfc_jws(pki, alg, at=at)).returncode == 0


@pytest.mark.parametrize("kind,alg", [("rsa", "RS256"), ("p256", "ES256")])
def test_expired_or_not_yet_valid_intermediate(tmp_path, kind, alg):
    # The signer's own window holds sigT; only the intermediate's does not.
    expired = Pki(tmp_path / "expired", kind, intermediate_window=(when(2021), when(2024, 12, 31)))
    assert expired.leaf.not_valid_before_utc <= SIG_TIME <= expired.leaf.not_valid_after_utc
    assert SIG_TIME > expired.intermediate.not_valid_after_utc
    refused(medseal("verify", "--trust-anchor", expired.root_path, input=joserfc_jws(expired, alg), ok=False),
            "MEDSEAL_CERT_EXPIRED")
    with pytest.raises(VerificationError, match="not valid at validation time"):
        pyca_path_validation([expired.leaf, expired.intermediate], expired.root, SIG_TIME)
    # Signed while the intermediate was still valid: accepted, although it has expired since.
    inside = joserfc_jws(expired, alg, at=when(2024, 6, 1))
    assert medseal("verify", "--trust-anchor", expired.root_path, input=inside).returncode == 0
    early = Pki(tmp_path / "early", kind, intermediate_window=(when(2025, 6, 1), when(2040)))
    refused(medseal("verify", "--trust-anchor", early.root_path, input=joserfc_jws(early, alg), ok=False),
            "MEDSEAL_CERT_NOT_YET_VALID")


def flip_last_byte(der_bytes):
    """The certificate with the last byte of its signature value changed: still parseable."""
    return der_bytes[:-1] + bytes([der_bytes[-1] ^ 0x01])


def b64(der_bytes):
    return base64.b64encode(der_bytes).decode()


@pytest.mark.parametrize("kind,alg", JOSE_CASES)
def test_tampered_x5c(request, kind, alg):
    pki = request.getfixturevalue(f"{kind}_pki")
    anchor = ["verify", "--trust-anchor", pki.root_path]
    leaf, intermediate, root = der(pki.leaf), der(pki.intermediate), der(pki.root)
    # The tampered certificates still parse for PyCA, and their signatures no longer verify.
    bad_leaf = x509.load_der_x509_certificate(flip_last_byte(leaf))
    with pytest.raises(InvalidSignature):
        check_link_with_pyca(bad_leaf, pki.intermediate, SIG_TIME)
    # Signer certificate's signature changed (the JWS re-signed over the new header): the link
    # to the intermediate breaks.
    token = joserfc_jws(pki, alg, x5c=[b64(flip_last_byte(leaf)), b64(intermediate)])
    refused(medseal(*anchor, input=token, ok=False), "MEDSEAL_CERT_CHAIN_BROKEN")
    # The same with an x5t#S256 of the genuine certificate: a mismatch, also a broken chain.
    token = joserfc_jws(pki, alg, x5c=[b64(flip_last_byte(leaf)), b64(intermediate)],
                        header_extra={"x5t#S256": x5t_s256(pki.leaf)})
    refused(medseal(*anchor, input=token, ok=False), "MEDSEAL_CERT_CHAIN_BROKEN")
    # Intermediate changed, with the root sent along in x5c: the intermediate-root link breaks.
    token = joserfc_jws(pki, alg, x5c=[b64(leaf), b64(flip_last_byte(intermediate)), b64(root)])
    refused(medseal(*anchor, input=token, ok=False), "MEDSEAL_CERT_CHAIN_BROKEN")
    # The untampered chain with the root sent along verifies.
    assert medseal(*anchor, input=joserfc_jws(pki, alg, x5c=[b64(leaf), b64(intermediate), b64(root)])).returncode == 0
    # Intermediate changed, root not sent: the anchor of that name does not verify it.
    token = joserfc_jws(pki, alg, x5c=[b64(leaf), b64(flip_last_byte(intermediate))])
    message = refused(medseal(*anchor, input=token, ok=False), "MEDSEAL_CERT_UNKNOWN_ISSUER")
    assert "none verifies it" in message
    # Chain out of order (intermediate first): the first certificate, taken as the signer's,
    # is a CA certificate without digitalSignature or nonRepudiation.
    token = joserfc_jws(pki, alg, x5c=[b64(intermediate), b64(leaf)])
    refused(medseal(*anchor, input=token, ok=False), "MEDSEAL_CERT_KEY_USAGE")
    # A certificate cut short no longer parses.
    token = joserfc_jws(pki, alg, x5c=[b64(leaf[:-10]), b64(intermediate)])
    refused(medseal(*anchor, input=token, ok=False), "MEDSEAL_CERT_INVALID")
    token = joserfc_jws(pki, alg, x5c=[b64(leaf), b64(intermediate[:200])])
    refused(medseal(*anchor, input=token, ok=False), "MEDSEAL_CERT_INVALID")


@pytest.mark.parametrize("kind,alg", [("rsa", "RS256"), ("p256", "ES256")])
def test_signature_by_another_key_under_a_good_chain(tmp_path, request, kind, alg):
    pki = request.getfixturevalue(f"{kind}_pki")
    token = joserfc_jws(pki, alg, key=new_key(kind))
    refused(medseal("verify", "--trust-anchor", pki.root_path, input=token, ok=False), "MEDSEAL_JWS_SIGNATURE_INVALID")


def test_crit_is_honoured(rsa_pki):
    anchor = ["verify", "--trust-anchor", rsa_pki.root_path]
    # sigT not listed in crit is still a sigT (JAdES makes it critical, but RFC 7515 lets a
    # verifier that understands a parameter use it anyway): the window check applies either way.
    for crit in [(), ("sigT",)]:
        inside = joserfc_jws(rsa_pki, "RS256", crit=crit)
        assert ("crit" in json.loads(b64url_decode(inside.decode().split(".")[0]))) == bool(crit)
        assert medseal(*anchor, input=inside).returncode == 0
        outside = joserfc_jws(rsa_pki, "RS256", at=when(2030), crit=crit)
        refused(medseal(*anchor, input=outside, ok=False), "MEDSEAL_SIGNED_OUTSIDE_VALIDITY")
    # An extension medseal does not understand, listed in crit, is refused (RFC 7515 4.1.11).
    token = joserfc_jws(rsa_pki, "RS256", header_extra={"urn:example:policy": "x"}, crit=("sigT", "urn:example:policy"))
    refused(medseal(*anchor, input=token, ok=False), "MEDSEAL_JWS_CRIT_UNKNOWN")
    # The same parameter outside crit may be ignored.
    token = joserfc_jws(rsa_pki, "RS256", header_extra={"urn:example:policy": "x"})
    assert medseal(*anchor, input=token).returncode == 0


def test_x5c_without_sigt_is_refused(rsa_pki):
    """The chain is judged at sigT, so a JWS carrying x5c without sigT cannot be judged."""
    header = {"alg": "RS256", "typ": "medseal+jws", "kid": x5t_s256(rsa_pki.leaf), "x5c": rsa_pki.x5c}
    registry = jades_registry("RS256")
    token = jws.serialize_compact(header, jcs(json.loads(RECORD)), RSAKey.import_key(pkcs8(rsa_pki.leaf_key)),
                                  registry=registry).encode()
    message = refused(medseal("verify", "--trust-anchor", rsa_pki.root_path, input=token, ok=False), "MEDSEAL_JWS_HEADER")
    assert "sigT" in message


# --- medseal sign refuses unusable chains -------------------------------------------------------

@pytest.mark.parametrize("usage", [{"key_encipherment": True}, {"key_agreement": True, "key_encipherment": True}, False],
                         ids=["keyEncipherment", "keyAgreement", "no-key-usage"])
def test_sign_refuses_a_signer_certificate_without_signing_usage(tmp_path, record_path, usage):
    pki = Pki(tmp_path, "rsa", leaf_usage=usage)
    done = medseal("sign", "--key", pki.key_path, "--cert-chain", pki.chain_path, "--signing-time", unix(SIG_TIME),
                   record_path, ok=False)
    refused(done, "MEDSEAL_CERT_KEY_USAGE")
    assert done.stdout == b""
    # The verifier refuses it the same way when another tool signed it anyway.
    refused(medseal("verify", "--trust-anchor", pki.root_path, input=joserfc_jws(pki, "RS256"), ok=False),
            "MEDSEAL_CERT_KEY_USAGE")


@pytest.mark.parametrize("usage", [{"digital_signature": True}, {"content_commitment": True}],
                         ids=["digitalSignature", "nonRepudiation"])
def test_either_signing_usage_is_enough(tmp_path, record_path, usage):
    pki = Pki(tmp_path, "p256", leaf_usage=usage)
    signed = medseal("sign", "--key", pki.key_path, "--cert-chain", pki.chain_path, "--signing-time", unix(SIG_TIME),
                     record_path).stdout
    audit_medseal_jws(json.loads(signed), pki, "ES256")


@pytest.mark.parametrize("kind", ["rsa", "p256"])
def test_sign_refuses_a_chain_for_another_key(tmp_path, request, record_path, kind):
    pki = request.getfixturevalue(f"{kind}_pki")
    other_key = tmp_path / "other.pem"
    other_key.write_bytes(pkcs8(new_key(kind)))
    done = medseal("sign", "--key", other_key, "--cert-chain", pki.chain_path, "--signing-time", unix(SIG_TIME),
                   record_path, ok=False)
    refused(done, "MEDSEAL_SIGNER_CERT_MISMATCH")
    assert done.stdout == b""
    # Signer certificate not first (intermediate, then signer): also a mismatch.
    reversed_chain = tmp_path / "reversed.pem"
    reversed_chain.write_bytes(pem(pki.intermediate, pki.leaf))
    refused(medseal("sign", "--key", pki.key_path, "--cert-chain", reversed_chain, record_path, ok=False),
            "MEDSEAL_SIGNER_CERT_MISMATCH")


def test_sign_refuses_a_signing_time_outside_the_signer_window(rsa_pki, record_path):
    for at in [rsa_pki.leaf.not_valid_before_utc - datetime.timedelta(seconds=1), when(2030)]:
        done = medseal("sign", "--key", rsa_pki.key_path, "--cert-chain", rsa_pki.chain_path, "--signing-time", unix(at),
                       record_path, ok=False)
        refused(done, "MEDSEAL_SIGNED_OUTSIDE_VALIDITY")
