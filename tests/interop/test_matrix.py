"""The interop matrix (../shared/INTEROP.md): every language's driver against every other's.

Drivers are `examples/<lang>/interop` for the languages in LANGUAGES. C and Python must be there
(the test fails, never shrinks, without them); Java, .NET and PHP join as soon as their driver
exists. For every ordered pair (A, B), A included:
- keys A generates (EdDSA, ES256, X25519) are read by B and by PyCA `cryptography`;
- A signs (flattened, compact, detached; EdDSA and ES256) and B verifies, printing the same
  `valid kid=... alg=... sigT=...` line, whose kid is the RFC 7638 thumbprint joserfc computes;
  keys PyCA makes (RSA, P-256, Ed25519 PKCS#8) sign in A and verify in B, and a JWK verifies;
- A signs and seals to B's X25519 key and a second recipient, B opens it (and opens and verifies);
- every language signs the smoke record with the smoke key at the smoke sigT byte for byte as
  tests/smoke expects (Ed25519 is deterministic), so does A's key in A and B (and a PyCA RSA
  key: RS256 is deterministic too), and every language canonicalizes identically;
- the same bad input gives the same MEDSEAL_ code name in every language (tampered signature,
  wrong key, NFD name, duplicate key, truncated envelope, a valid JWS that is not a medseal record:
  `verify` verifies records), exit 1, no traceback; usage errors
  exit 2;
- what each driver writes is read independently: PyCA opens the envelope (hpke.Suite with
  info = b"medseal/v1\\n" + JCS(meta), JCS by the `rfc8785` package) and checks the Ed25519 JWS
  over its signing input; joserfc verifies the JWS (EdDSA and ES256).
Run by tests/interop/run.sh (which builds the drivers with `make bindings` and puts the venv
with the Python binding first on PATH).
"""

import base64
import hashlib
import itertools
import json
import os
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils, x25519
from cryptography.hazmat.primitives.hashes import SHA256
from joserfc import jws as jose_jws
from joserfc.jwk import ECKey, OKPKey
from joserfc.registry import HeaderParameter

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "tests" / "smoke"
# Every language INTEROP.md names, in its order; REQUIRED ones must be present.
LANGUAGES = ["c", "python", "java", "csharp", "php"]
REQUIRED = ["c", "python"]
DRIVERS = {lang: ROOT / "examples" / lang / "interop" for lang in LANGUAGES}
PRESENT = [lang for lang in LANGUAGES if DRIVERS[lang].is_file() and os.access(DRIVERS[lang], os.X_OK)]
PAIRS = list(itertools.product(PRESENT, PRESENT))
SIGT = "2025-03-01T08:30:00Z"
INFO_PREFIX = b"medseal/v1\n"

# joserfc warns that RFC 9864 deprecates "EdDSA"; medseal writes it, as JAdES profiles do.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def run(lang, *args, expect=0):
    """Runs `examples/<lang>/interop ARGS` from the repository root; checks the exit status."""
    result = subprocess.run([str(DRIVERS[lang]), *map(str, args)], cwd=ROOT, capture_output=True, timeout=120)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == expect, "%s interop %s: exit %d, want %d\nstdout: %s\nstderr: %s" % (
        lang, " ".join(map(str, args)), result.returncode, expect, result.stdout.decode("utf-8", "replace"), stderr)
    assert "Traceback" not in stderr and "panicked" not in stderr, stderr
    return result


def medseal_error(lang, *args):
    """Runs a command that must fail with a medseal error; returns the code name it printed."""
    stderr = run(lang, *args, expect=1).stderr.decode("utf-8", "replace")
    first = stderr.splitlines()[0] if stderr else ""
    found = re.match(r"(MEDSEAL_[A-Z0-9_]+): \S", first)
    assert found, "%s: stderr's first line is not 'MEDSEAL_<NAME>: message': %r" % (lang, stderr)
    return found.group(1)


def valid_line(kid, alg, sigt):
    return "valid kid=%s alg=%s sigT=%s\n" % (kid, alg, sigt)


def thumbprint(public_pem: bytes) -> str:
    """RFC 7638 kid computed by joserfc (OKP for Ed25519, EC for P-256)."""
    key = serialization.load_pem_public_key(public_pem)
    jwk = ECKey.import_key(public_pem) if isinstance(key, ec.EllipticCurvePublicKey) else OKPKey.import_key(public_pem)
    return jwk.thumbprint()


def thumbprint_any(public_pem: bytes) -> str:
    """thumbprint() for RSA keys too."""
    from joserfc.jwk import RSAKey

    key = serialization.load_pem_public_key(public_pem)
    if isinstance(key, (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)):
        return thumbprint(public_pem)
    return RSAKey.import_key(public_pem).thumbprint()


# ---- the drivers are there ---------------------------------------------------------------------

def test_required_drivers_present():
    missing = [lang for lang in REQUIRED if lang not in PRESENT]
    assert not missing, "no executable driver for %s (%s); run `make bindings`" % (
        missing, ", ".join(str(DRIVERS[lang]) for lang in missing))


@pytest.mark.parametrize("lang", PRESENT)
def test_version(lang):
    line = run(lang, "version").stdout.decode()
    found = re.fullmatch(r"medseal (\S+) abi (\d+) (\S+) (\S.*)\n", line)
    assert found, line
    assert found.group(3) == lang
    # Every driver loads the same library, ABI 1.
    assert found.group(2) == "1"
    c_line = run("c", "version").stdout.decode()
    assert found.group(1) == c_line.split()[1]


def test_usage_errors_exit_2():
    for lang in PRESENT:
        run(lang, expect=2)
        run(lang, "no-such-command", expect=2)
        run(lang, "sign", "only-one-argument", expect=2)
        run(lang, "canon", "--plain", "--nfc", "a", "b", expect=2)
        run(lang, "key-generate", "RSA", "a", "b", expect=2)
        run(lang, "sign", SMOKE / "signer_ed25519.pem", SMOKE / "patient.json", "out", "--sigt", "yesterday", expect=2)
        run(lang, "seal", "--to", SMOKE / "recipient_x25519.pub.pem", "--source", "s", "--sequence", "-1", "a", "b",
            expect=2)
        run(lang, "sign", SMOKE / "signer_ed25519.pem", SMOKE / "patient.json", "out", "--compact", "--detached",
            expect=2)


# ---- keys each language generates ---------------------------------------------------------------

@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    """keys[lang][alg] = (private_path, public_path), made by that language's driver."""
    made = {}
    for lang in PRESENT:
        folder = tmp_path_factory.mktemp("keys-" + lang)
        made[lang] = {}
        for alg in ("EdDSA", "ES256", "X25519"):
            private, public = folder / (alg + ".pem"), folder / (alg + ".pub.pem")
            run(lang, "key-generate", alg, private, public)
            made[lang][alg] = (private, public)
    return made


@pytest.mark.parametrize("lang", PRESENT)
def test_generated_keys_read_by_pyca(lang, keys):
    types = {"EdDSA": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
             "ES256": (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey),
             "X25519": (x25519.X25519PrivateKey, x25519.X25519PublicKey)}
    for alg, (private_path, public_path) in keys[lang].items():
        private_pem = private_path.read_bytes()
        assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8
        assert public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")  # SPKI
        assert (private_path.stat().st_mode & 0o077) == 0, "%s: private key readable by others" % private_path
        private = serialization.load_pem_private_key(private_pem, password=None)
        public = serialization.load_pem_public_key(public_path.read_bytes())
        assert isinstance(private, types[alg][0]) and isinstance(public, types[alg][1])
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert private.public_key().public_bytes(*spki) == public.public_bytes(*spki)
        if alg == "ES256":
            assert isinstance(public.curve, ec.SECP256R1)


# ---- A signs, B verifies ------------------------------------------------------------------------

FORMS = {"flattened": [], "compact": ["--compact"], "detached": ["--detached"]}


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("signer,verifier", PAIRS)
def test_a_signs_b_verifies(signer, verifier, form, alg, keys, tmp_path):
    private, public = keys[signer][alg]
    jws = tmp_path / "record.jws"
    run(signer, "sign", private, SMOKE / "patient.json", jws, *FORMS[form], "--sigt", SIGT)
    payload = ["--payload", SMOKE / "patient.json"] if form == "detached" else []
    out = run(verifier, "verify", public, jws, *payload).stdout.decode()
    assert out == valid_line(thumbprint(public.read_bytes()), alg, SIGT)
    # The signer's own key is the only one trusted: another language's key of the same
    # algorithm does not verify it.
    other = next(keys[lang][alg][1] for lang in PRESENT if lang != signer) if len(PRESENT) > 1 else None
    if other is not None:
        assert medseal_error(verifier, "verify", other, jws, *payload) == "MEDSEAL_JWS_SIGNATURE_INVALID"


@pytest.mark.parametrize("a,b", [(a, b) for a, b in PAIRS if a < b])
def test_same_key_same_bytes_across_languages(a, b, keys, tmp_path):
    """Ed25519 is deterministic: A's key in A's and in B's driver gives the same JWS, every form."""
    for flags in ([], ["--compact"], ["--detached"]):
        outputs = []
        for lang in (a, b):
            out = tmp_path / ("%s.jws" % lang)
            run(lang, "sign", keys[a]["EdDSA"][0], SMOKE / "patient.json", out, *flags, "--sigt", SIGT)
            outputs.append(out.read_bytes())
        assert outputs[0] == outputs[1], flags


@pytest.fixture(scope="session")
def pyca_keys(tmp_path_factory):
    """Keys PyCA makes (PKCS#8 PEM private, SPKI PEM public), and the Ed25519 smoke key as a JWK."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder = tmp_path_factory.mktemp("pyca-keys")
    made = {}
    for alg, private in (("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                         ("ES256", ec.generate_private_key(ec.SECP256R1())),
                         ("EdDSA", ed25519.Ed25519PrivateKey.generate())):
        (folder / (alg + ".pem")).write_bytes(private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (folder / (alg + ".pub.pem")).write_bytes(private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        made[alg] = (folder / (alg + ".pem"), folder / (alg + ".pub.pem"))
    jwk = OKPKey.import_key((SMOKE / "signer_ed25519.pub.pem").read_bytes()).as_dict(private=False)
    (folder / "smoke.jwk").write_text(json.dumps(jwk))
    made["jwk"] = folder / "smoke.jwk"
    return made


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
@pytest.mark.parametrize("signer,verifier", PAIRS)
def test_keys_made_by_pyca(signer, verifier, alg, pyca_keys, tmp_path):
    """PKCS#8 keys from another implementation sign (RSA too); RS256 and EdDSA are deterministic."""
    private, public = pyca_keys[alg]
    mine, theirs = tmp_path / "a.jws", tmp_path / "b.jws"
    run(signer, "sign", private, SMOKE / "patient.json", mine, "--sigt", SIGT)
    out = run(verifier, "verify", public, mine).stdout.decode()
    assert out == valid_line(thumbprint_any(public.read_bytes()), alg, SIGT)
    if alg != "ES256":  # ECDSA signatures are randomized
        run(verifier, "sign", private, SMOKE / "patient.json", theirs, "--sigt", SIGT)
        assert mine.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("lang", PRESENT)
def test_verify_with_a_jwk(lang, pyca_keys):
    out = run(lang, "verify", pyca_keys["jwk"], SMOKE / "patient.compact.jws").stdout.decode()
    assert out == valid_line((SMOKE / "kid.txt").read_text().strip(), "EdDSA", SIGT)


@pytest.mark.parametrize("signer,verifier", PAIRS)
def test_sign_without_sigt_uses_the_clock(signer, verifier, keys, tmp_path):
    private, public = keys[signer]["EdDSA"]
    run(signer, "sign", private, SMOKE / "patient.json", tmp_path / "now.jws")
    line = run(verifier, "verify", public, tmp_path / "now.jws").stdout.decode()
    assert re.fullmatch(r"valid kid=\S{43} alg=EdDSA sigT=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", line), line
    assert line.split("sigT=")[1].strip() != SIGT


# ---- A seals, B opens -----------------------------------------------------------------------------

@pytest.mark.parametrize("sealer,opener", PAIRS)
def test_a_seals_b_opens(sealer, opener, keys, tmp_path):
    signing_private, signing_public = keys[sealer]["EdDSA"]
    jws, envelope = tmp_path / "record.jws", tmp_path / "record.sealed.json"
    run(sealer, "sign", signing_private, SMOKE / "patient.json", jws, "--sigt", SIGT)
    run(sealer, "seal", "--to", keys[opener]["X25519"][1], "--to", SMOKE / "recipient_x25519.pub.pem",
        "--source", "bv-trung-uong-hue", "--sequence", "9007199254740991", "--record-id", "rec-%s-%s" % (sealer, opener),
        jws, envelope)
    meta = json.loads(envelope.read_bytes())["meta"]
    assert {k: meta[k] for k in ("record_id", "source", "sequence", "content_type")} == {
        "record_id": "rec-%s-%s" % (sealer, opener), "source": "bv-trung-uong-hue", "sequence": 2**53 - 1,
        "content_type": "application/jose+json"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["created"])

    # B opens with its own key: the plaintext is A's JWS, byte for byte.
    run(opener, "open", keys[opener]["X25519"][0], envelope, tmp_path / "plain")
    assert (tmp_path / "plain").read_bytes() == jws.read_bytes()
    # B opens and verifies; the second recipient (the smoke key) opens it too.
    out = run(opener, "open", SMOKE / "recipient_x25519.pem", envelope, tmp_path / "verified", "--verify",
              signing_public).stdout.decode()
    assert out == valid_line(thumbprint(signing_public.read_bytes()), "EdDSA", SIGT)
    assert (tmp_path / "verified").read_bytes() == jws.read_bytes()


@pytest.mark.parametrize("lang", PRESENT)
def test_seal_without_record_id_makes_a_uuid(lang, keys, tmp_path):
    run(lang, "seal", "--to", keys[lang]["X25519"][1], "--source", "s", "--sequence", "1",
        SMOKE / "patient.flattened.jws", tmp_path / "e.json")
    meta = json.loads((tmp_path / "e.json").read_bytes())["meta"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", meta["record_id"])


# ---- byte-identical output ----------------------------------------------------------------------

@pytest.mark.parametrize("lang", PRESENT)
def test_same_key_same_sigt_same_bytes(lang, tmp_path):
    """Every language's JWS of the smoke record is the one tests/smoke expects."""
    for flags, expected in (([], "patient.flattened.jws"), (["--compact"], "patient.compact.jws")):
        out = tmp_path / expected
        # The same instant written with an offset gives the same sigT.
        for sigt in (SIGT, "2025-03-01T15:30:00+07:00"):
            run(lang, "sign", SMOKE / "signer_ed25519.pem", SMOKE / "patient.json", out, *flags, "--sigt", sigt)
            assert out.read_bytes() == (SMOKE / expected).read_bytes(), (lang, expected, sigt)


@pytest.mark.parametrize("lang", PRESENT)
def test_canon_matches_rfc8785(lang, tmp_path):
    out = tmp_path / "out.json"
    run(lang, "canon", SMOKE / "patient.json", out)
    assert out.read_bytes() == (SMOKE / "patient.canonical.json").read_bytes()
    run(lang, "canon", "--nfc", SMOKE / "patient_nfd.json", out)
    assert out.read_bytes() == (SMOKE / "patient.canonical.json").read_bytes()
    # --plain is exactly RFC 8785: lossy numbers written canonically, as the rfc8785 package does.
    lossy = {"valueQuantity": {"value": 1.50, "unit": "%"}, "b": [1e2, -0.0, 10.0, 0.1, 1e-7, 1e21], "a": "Huế"}
    source = tmp_path / "lossy.json"
    source.write_text('{"valueQuantity": {"value": 1.50, "unit": "%"}, "b": [1e2, -0.0, 10.0, 0.1, 1e-7, 1e21], '
                      '"a": "Hu\u1ebf"}', encoding="utf-8")
    run(lang, "canon", "--plain", source, out)
    assert out.read_bytes() == rfc8785.dumps(lossy)
    assert medseal_error(lang, "canon", source, out) == "MEDSEAL_JSON_LOSSY_NUMBER"


# ---- the same bad input, the same code in every language -----------------------------------------

@pytest.fixture(scope="session")
def bad(tmp_path_factory, keys):
    """Bad inputs, made once and shared by every language."""
    folder = tmp_path_factory.mktemp("bad")
    flattened = json.loads((SMOKE / "patient.flattened.jws").read_bytes())
    signature = unb64url(flattened["signature"])
    tampered = dict(flattened, signature=b64url(bytes([signature[0] ^ 1]) + signature[1:]))
    (folder / "tampered.jws").write_text(json.dumps(tampered))
    # The record changed after signing (payload re-encoded with another birth date).
    payload = unb64url(flattened["payload"]).replace(b"1990-04-30", b"1991-04-30")
    (folder / "changed.jws").write_text(json.dumps(dict(flattened, payload=b64url(payload))))
    protected, _, signature_text = (SMOKE / "patient.compact.jws").read_text().split(".")
    (folder / "detached.jws").write_text(protected + ".." + signature_text)
    (folder / "other.json").write_text('{"resourceType": "Patient", "id": "someone-else"}')
    (folder / "duplicate.json").write_bytes(b'{"resourceType": "Patient", "id": "a", "gender": "female", "id": "b"}')
    # Valid JWS by the smoke signer key (PyCA signs) that are not medseal records: `verify` verifies
    # records (issue 10 point 6), so each is refused although its signature is good.
    smoke_key = serialization.load_pem_private_key((SMOKE / "signer_ed25519.pem").read_bytes(), password=None)

    def jws_by_smoke_key(header: bytes, payload: bytes) -> str:
        signing_input = b64url(header) + "." + b64url(payload)
        return signing_input + "." + b64url(smoke_key.sign(signing_input.encode()))

    canonical = (SMOKE / "patient.canonical.json").read_bytes()
    (folder / "not-a-record.jws").write_text(jws_by_smoke_key(
        ('{"alg":"EdDSA","sigT":"%s","typ":"medseal-trust-list+jws"}' % SIGT).encode(), canonical))
    (folder / "no-sigt.jws").write_text(jws_by_smoke_key(b'{"alg":"EdDSA","typ":"medseal+jws"}', canonical))
    (folder / "duplicate-payload.jws").write_text(jws_by_smoke_key(
        ('{"alg":"EdDSA","sigT":"%s","typ":"medseal+jws"}' % SIGT).encode(), b'{"id":"a","id":"b"}'))
    lang = PRESENT[0]
    envelope = folder / "envelope.json"
    run(lang, "seal", "--to", SMOKE / "recipient_x25519.pub.pem", "--source", "s", "--sequence", "3", "--record-id", "r",
        SMOKE / "patient.flattened.jws", envelope)
    data = envelope.read_bytes()
    (folder / "cut.json").write_bytes(data[: len(data) // 2])
    doc = json.loads(data)
    (folder / "short-ct.json").write_text(json.dumps(dict(doc, ct=b64url(unb64url(doc["ct"])[:8]))))
    (folder / "cut-ct.json").write_text(json.dumps(dict(doc, ct=b64url(unb64url(doc["ct"])[:-4]))))
    recipient = dict(doc["recipients"][0], enc=b64url(unb64url(doc["recipients"][0]["enc"])[:16]))
    (folder / "short-enc.json").write_text(json.dumps(dict(doc, recipients=[recipient])))
    (folder / "changed-meta.json").write_text(json.dumps(dict(doc, meta=dict(doc["meta"], sequence=4))))
    return folder


def bad_cases(folder, keys):
    smoke = SMOKE
    other_ed = keys[PRESENT[-1]]["EdDSA"]
    other_x = keys[PRESENT[-1]]["X25519"]
    out = folder / "out"
    return {
        "tampered signature": (["verify", smoke / "signer_ed25519.pub.pem", folder / "tampered.jws"],
                               "MEDSEAL_JWS_SIGNATURE_INVALID"),
        "changed payload": (["verify", smoke / "signer_ed25519.pub.pem", folder / "changed.jws"],
                            "MEDSEAL_JWS_SIGNATURE_INVALID"),
        "wrong verification key": (["verify", other_ed[1], smoke / "patient.flattened.jws"],
                                   "MEDSEAL_JWS_SIGNATURE_INVALID"),
        "wrong algorithm's key": (["verify", keys[PRESENT[-1]]["ES256"][1], smoke / "patient.flattened.jws"],
                                  "MEDSEAL_JWS_ALG_MISMATCH"),
        "detached without payload": (["verify", smoke / "signer_ed25519.pub.pem", folder / "detached.jws"],
                                     "MEDSEAL_JWS_PAYLOAD_MISSING"),
        "another typ than a record's": (["verify", smoke / "signer_ed25519.pub.pem", folder / "not-a-record.jws"],
                                        "MEDSEAL_JWS_HEADER"),
        "record without sigT": (["verify", smoke / "signer_ed25519.pub.pem", folder / "no-sigt.jws"], "MEDSEAL_JWS_HEADER"),
        "signed payload not canonical": (["verify", smoke / "signer_ed25519.pub.pem", folder / "duplicate-payload.jws"],
                                         "MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL"),
        "detached with another record": (["verify", smoke / "signer_ed25519.pub.pem", folder / "detached.jws",
                                          "--payload", folder / "other.json"], "MEDSEAL_JWS_SIGNATURE_INVALID"),
        "NFD name signed": (["sign", smoke / "signer_ed25519.pem", smoke / "patient_nfd.json", out],
                            "MEDSEAL_JSON_NOT_NFC"),
        "NFD name canonicalized": (["canon", smoke / "patient_nfd.json", out], "MEDSEAL_JSON_NOT_NFC"),
        "duplicate key signed": (["sign", smoke / "signer_ed25519.pem", folder / "duplicate.json", out],
                                 "MEDSEAL_JSON_DUPLICATE_KEY"),
        "duplicate key canonicalized": (["canon", folder / "duplicate.json", out], "MEDSEAL_JSON_DUPLICATE_KEY"),
        "public key to sign": (["sign", smoke / "signer_ed25519.pub.pem", smoke / "patient.json", out],
                               "MEDSEAL_KEY_NOT_PRIVATE"),
        "not a key": (["sign", smoke / "sigt.txt", smoke / "patient.json", out], "MEDSEAL_KEY_FORMAT"),
        "a JSON record as the key": (["sign", smoke / "patient.json", smoke / "patient.json", out], "MEDSEAL_KEY_INVALID"),
        "truncated envelope file": (["open", smoke / "recipient_x25519.pem", folder / "cut.json", out],
                                    "MEDSEAL_SEAL_MALFORMED"),
        "ciphertext shorter than its tag": (["open", smoke / "recipient_x25519.pem", folder / "short-ct.json", out],
                                            "MEDSEAL_SEAL_TRUNCATED"),
        "truncated encapsulated key": (["open", smoke / "recipient_x25519.pem", folder / "short-enc.json", out],
                                       "MEDSEAL_SEAL_TRUNCATED"),
        "ciphertext cut": (["open", smoke / "recipient_x25519.pem", folder / "cut-ct.json", out],
                           "MEDSEAL_SEAL_DECRYPT_FAILED"),
        "changed meta": (["open", smoke / "recipient_x25519.pem", folder / "changed-meta.json", out],
                         "MEDSEAL_SEAL_DECRYPT_FAILED"),
        "wrong recipient key": (["open", other_x[0], folder / "envelope.json", out], "MEDSEAL_SEAL_WRONG_RECIPIENT"),
        "open and verify with the wrong key": (["open", smoke / "recipient_x25519.pem", folder / "envelope.json", out,
                                                "--verify", other_ed[1]], "MEDSEAL_JWS_SIGNATURE_INVALID"),
        "sequence 0": (["seal", "--to", smoke / "recipient_x25519.pub.pem", "--source", "s", "--sequence", "0",
                        smoke / "patient.flattened.jws", out], "MEDSEAL_SEAL_META_INVALID"),
    }


CASES = ["tampered signature", "changed payload", "wrong verification key", "wrong algorithm's key",
         "detached without payload", "another typ than a record's", "record without sigT", "signed payload not canonical",
         "detached with another record", "NFD name signed", "NFD name canonicalized", "duplicate key signed",
         "duplicate key canonicalized", "public key to sign", "not a key", "a JSON record as the key", "truncated envelope file",
         "ciphertext shorter than its tag", "truncated encapsulated key", "ciphertext cut", "changed meta",
         "wrong recipient key", "open and verify with the wrong key", "sequence 0"]


@pytest.mark.parametrize("case", CASES)
def test_same_bad_input_same_code(case, bad, keys):
    args, expected = bad_cases(bad, keys)[case]
    names = {lang: medseal_error(lang, *args) for lang in PRESENT}
    assert set(names.values()) == {expected}, names
    assert not (bad / "out").exists(), "a failed command wrote its output"


def test_bad_cases_listed():
    """CASES (the parametrization) and bad_cases() name the same cases."""
    assert sorted(CASES) == sorted(bad_cases(Path("/nonexistent"), {PRESENT[-1]: {a: ("k", "p") for a in
                                                                                  ("EdDSA", "ES256", "X25519")}}))


# ---- independent readers: PyCA and joserfc ---------------------------------------------------------

def jades_registry(alg):
    """joserfc must know the JAdES sigT header to accept it in crit."""
    return jose_jws.JWSRegistry(header_registry={"sigT": HeaderParameter("JAdES signing time", "str")},
                                algorithms=[alg])


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
@pytest.mark.parametrize("lang", PRESENT)
def test_jws_read_by_pyca_and_joserfc(lang, alg, keys, tmp_path):
    private, public = keys[lang][alg]
    canonical = rfc8785.dumps(json.loads((SMOKE / "patient.json").read_text(encoding="utf-8")))
    for flags in ([], ["--compact"]):
        out = tmp_path / "record.jws"
        run(lang, "sign", private, SMOKE / "patient.json", out, *flags, "--sigt", SIGT)
        text = out.read_text()
        if flags:
            protected, payload, signature = text.split(".")
        else:
            parsed = json.loads(text)
            assert sorted(parsed) == ["payload", "protected", "signature"]
            protected, payload, signature = parsed["protected"], parsed["payload"], parsed["signature"]
        assert unb64url(payload) == canonical
        header = json.loads(unb64url(protected))
        assert header == {"alg": alg, "crit": ["sigT"], "kid": thumbprint(public.read_bytes()), "sigT": SIGT,
                          "typ": "medseal+jws"}
        # PyCA: the signature over the JWS signing input (ES256: raw r || s, 64 bytes).
        key = serialization.load_pem_public_key(public.read_bytes())
        signing_input, raw = (protected + "." + payload).encode(), unb64url(signature)
        if alg == "EdDSA":
            key.verify(raw, signing_input)
        else:
            assert len(raw) == 64
            der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            key.verify(der, signing_input, ec.ECDSA(SHA256()))
        # joserfc
        jwk = (OKPKey if alg == "EdDSA" else ECKey).import_key(public.read_bytes())
        if flags:
            obj = jose_jws.deserialize_compact(text, jwk, registry=jades_registry(alg))
        else:
            obj = jose_jws.deserialize_json(json.loads(text), jwk, registry=jades_registry(alg))
        assert obj.payload == canonical


@pytest.mark.parametrize("lang", PRESENT)
def test_detached_jws_read_by_pyca(lang, keys, tmp_path):
    private, public = keys[lang]["EdDSA"]
    out = tmp_path / "detached.jws"
    run(lang, "sign", private, SMOKE / "patient.json", out, "--detached", "--sigt", SIGT)
    protected, empty, signature = out.read_text().split(".")
    assert empty == ""
    canonical = (SMOKE / "patient.canonical.json").read_bytes()
    key = serialization.load_pem_public_key(public.read_bytes())
    key.verify(unb64url(signature), (protected + "." + b64url(canonical)).encode())


@pytest.mark.parametrize("lang", PRESENT)
def test_envelope_opened_by_pyca_hpke(lang, keys, tmp_path):
    """RFC 9180 single-shot: enc || ct opens with PyCA's hpke.Suite, info recomputed from meta."""
    private, public = keys[lang]["X25519"]
    envelope = tmp_path / "sealed.json"
    plaintext = (SMOKE / "patient.flattened.jws").read_bytes()
    record_id = unicodedata.normalize("NFC", "bệnh-án-001")  # UTF-8 through the command line
    run(lang, "seal", "--to", public, "--source", "bv-trung-uong-hue", "--sequence", "77", "--record-id",
        record_id, SMOKE / "patient.flattened.jws", envelope)
    doc = json.loads(envelope.read_bytes())
    assert doc["suite"] == {"aead": 2, "kdf": 1, "kem": 32}
    info = INFO_PREFIX + rfc8785.dumps(doc["meta"])
    assert unb64url(doc["info"]) == info  # the informative copy
    assert doc["meta"]["record_id"] == record_id
    [recipient] = doc["recipients"]
    pyca_private = serialization.load_pem_private_key(private.read_bytes(), password=None)
    raw_public = pyca_private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = b64url(hashlib.sha256(('{"crv":"X25519","kty":"OKP","x":"%s"}' % b64url(raw_public)).encode()).digest())
    assert recipient["kid"] == kid
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    opened = suite.decrypt(unb64url(recipient["enc"]) + unb64url(doc["ct"]), pyca_private, info=info)
    assert opened == plaintext
    # The meta is bound: PyCA with a changed meta's info fails too.
    with pytest.raises(Exception):
        suite.decrypt(unb64url(recipient["enc"]) + unb64url(doc["ct"]), pyca_private,
                      info=INFO_PREFIX + rfc8785.dumps(dict(doc["meta"], sequence=78)))


@pytest.mark.parametrize("lang", PRESENT)
def test_opens_what_pyca_seals(lang, tmp_path):
    """The other direction: PyCA seals (RFC 9180 single shot, the JSON mapping), the driver opens and verifies."""
    meta = {"content_type": "application/jose+json", "created": "2025-03-01T08:31:00Z", "record_id": "pyca-1",
            "sequence": 5, "source": "bv-trung-uong-hue"}
    info = INFO_PREFIX + rfc8785.dumps(meta)
    public = serialization.load_pem_public_key((SMOKE / "recipient_x25519.pub.pem").read_bytes())
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    plaintext = (SMOKE / "patient.flattened.jws").read_bytes()
    sealed = suite.encrypt(plaintext, public, info=info)
    kid = (SMOKE / "recipient_kid.txt").read_text().strip()
    envelope = {"ct": b64url(sealed[32:]), "info": b64url(info), "meta": meta,
                "recipients": [{"enc": b64url(sealed[:32]), "kid": kid}],
                "suite": {"aead": 2, "kdf": 1, "kem": 32}}  # RFC 9180 ids: AES-256-GCM, HKDF-SHA256, DHKEM(X25519)
    (tmp_path / "pyca.json").write_text(json.dumps(envelope))
    out = run(lang, "open", SMOKE / "recipient_x25519.pem", tmp_path / "pyca.json", tmp_path / "plain", "--verify",
              SMOKE / "signer_ed25519.pub.pem").stdout.decode()
    assert out == valid_line((SMOKE / "kid.txt").read_text().strip(), "EdDSA", SIGT)
    assert (tmp_path / "plain").read_bytes() == plaintext

