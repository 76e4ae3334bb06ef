#!/usr/bin/env python3
"""The Python binding against the Python references, measured in ONE process and run.

    make bench-python        (builds the release library, installs the binding, runs this)

Prints one line per comparison:

    RATIO <name> medseal/reference = X (goal >= G)

X is how many times faster medseal is: the reference's time per operation divided by medseal's
(best of several interleaved rounds, so both sides see the same machine state). Every
measurement goes through the public `medseal` package unless said otherwise.

- canon-1k: canonicalize a 1 KB FHIR record from its JSON text. Reference: the `rfc8785`
  package (pure Python), which needs the text parsed first (`json.loads`, C-accelerated) and
  is timed with it; a second line times `rfc8785.dumps` alone on the already parsed object.
- sign-1k: sign a 1 KB record given as a Python dict: medseal canonicalizes (RFC 8785) and
  writes a JAdES JWS with EdDSA, compact. Reference: joserfc's EdDSA compact JWS over
  `json.dumps(record, sort_keys=True)` (the non-canonical shortcut, fewer header members).
  A second line gives medseal the record's JSON text instead of the dict (no Python-side
  JSON writing), for reference.
- seal/open 1 KB and 1 MB: medseal builds and parses the protobuf envelope, with the routing
  metadata in the HPKE info (JCS); reference: PyCA's `hpke.Suite` single shot with a
  precomputed info (the bare primitive). 1 KB uses the simple API (`medseal.seal`,
  `RecipientKey.open`); 1 MB the no-extra-copy API (`seal_into` / `open_into` into a
  bytearray allocated once).
- binding overhead: the same 1 KB sign through the package (`Signer.sign`) and through raw
  cffi calls on the same signer handle (`lib.medseal_signer_sign` + buffer copy + free):
  reported, no goal.
"""

import json
import os
import platform
import sys
import time
import warnings

import joserfc
import rfc8785
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519
from joserfc import jws as jose_jws
from joserfc.jwk import OKPKey

import medseal
from medseal import _native

warnings.filterwarnings("ignore", message="EdDSA is deprecated")  # joserfc on RFC 9864

ROUND_SECONDS = float(os.environ.get("MEDSEAL_BENCH_ROUND_SECONDS", "0.2"))
ROUNDS = int(os.environ.get("MEDSEAL_BENCH_ROUNDS", "7"))


def fhir_record_1k() -> dict:
    """A FHIR Observation of about 1 KB as JSON text, Vietnamese text in NFC, canonical numbers only."""
    record = {
        "resourceType": "Observation",
        "id": "bv-hue-obs-000981",
        "meta": {"versionId": "3", "lastUpdated": "2025-03-01T08:30:00+07:00"},
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}],
                 "text": "Huyết áp"},
        "subject": {"reference": "Patient/hue-000451", "display": "Trần Thị Mai"},
        "effectiveDateTime": "2025-03-01T08:15:00+07:00",
        "performer": [{"reference": "Practitioner/bs-nguyen-van-binh", "display": "BS. Nguyễn Văn Bình"}],
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6", "display": "Systolic"}]},
             "valueQuantity": {"value": 118, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4", "display": "Diastolic"}]},
             "valueQuantity": {"value": 76.5, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
        ],
        "note": [{"text": "Đo lúc nghỉ, tay trái, tư thế ngồi."}],
    }
    return record


def best_per_op(rounds):
    """rounds: {name: fn}. Calibrates each fn to ~ROUND_SECONDS per round, then runs the rounds
    interleaved (a, b, a, b, ...) and returns {name: best seconds per operation}."""
    counts = {}
    for name, fn in rounds.items():
        n, elapsed = 1, 0.0
        while True:
            start = time.perf_counter()
            for _ in range(n):
                fn()
            elapsed = time.perf_counter() - start
            if elapsed >= ROUND_SECONDS / 4 or n >= 1 << 24:
                break
            n *= 4
        counts[name] = max(1, int(n * ROUND_SECONDS / max(elapsed, 1e-9)))
    best = {name: float("inf") for name in rounds}
    for _ in range(ROUNDS):
        for name, fn in rounds.items():
            n = counts[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / n)
    return best


def ratio_line(name, ours, reference, goal=None, note=""):
    ratio = reference / ours
    verdict = "" if goal is None else (", met" if ratio >= goal else ", NOT met")
    goal_text = "report" if goal is None else "goal >= %g" % goal
    print("RATIO %s medseal/reference = %.2f (%s%s)  [medseal %s, reference %s%s]" % (
        name, ratio, goal_text, verdict, us(ours), us(reference), ("; " + note) if note else ""))
    sys.stdout.flush()


def us(seconds):
    return "%.1f us" % (seconds * 1e6) if seconds < 1e-2 else "%.2f ms" % (seconds * 1e3)


def bench_canon(record):
    text = json.dumps(record, ensure_ascii=False).encode("utf-8")  # as a FHIR server sends it
    parsed = json.loads(text)
    ours = medseal.canonicalize(text)
    assert ours == rfc8785.dumps(parsed), "medseal and rfc8785 disagree on the benchmark record"
    t = best_per_op({
        "medseal": lambda: medseal.canonicalize(text),
        "rfc8785": lambda: rfc8785.dumps(json.loads(text)),
        "rfc8785-dumps": lambda: rfc8785.dumps(parsed),
    })
    ratio_line("canon-1k", t["medseal"], t["rfc8785"], 30, "%d-byte record text, rfc8785 incl. json.loads" % len(text))
    ratio_line("canon-1k-vs-dumps-only", t["medseal"], t["rfc8785-dumps"], None, "rfc8785.dumps on the parsed object")


def bench_sign(record):
    key = medseal.Key.generate("EdDSA")
    signer = medseal.Signer(key)
    jwk = OKPKey.generate_key("Ed25519")
    protected = {"alg": "EdDSA"}
    # The record holds a float (76.5), as json.loads gives it: allow_floats=True writes it as
    # RFC 8785 does (the binding's documented float policy; the default refuses floats).
    jws = signer.sign(record, format="compact", allow_floats=True)
    assert medseal.Verifier([key]).verify(jws).payload == rfc8785.dumps(record)
    text = json.dumps(record, ensure_ascii=False).encode("utf-8")
    t = best_per_op({
        "medseal": lambda: signer.sign(record, format="compact", allow_floats=True),
        "medseal-text": lambda: signer.sign(text, format="compact"),
        "joserfc": lambda: jose_jws.serialize_compact(protected, json.dumps(record, sort_keys=True), jwk,
                                                      algorithms=["EdDSA"]),
    })
    size = len(rfc8785.dumps(record))
    ratio_line("sign-1k", t["medseal"], t["joserfc"], 1.0, "%d-byte canonical record, dict in" % size)
    ratio_line("sign-1k-text-in", t["medseal-text"], t["joserfc"], None,
               "medseal given the record's JSON text (as received), joserfc the dict")
    return signer


def bench_seal_open():
    hub = medseal.RecipientKey.generate()
    hub_public = hub.public_key()
    pyca_private = x25519.X25519PrivateKey.from_private_bytes(hub.export("raw-private"))
    pyca_public = pyca_private.public_key()
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    meta = medseal.Meta(record_id="bench-0001", source="bv-trung-uong-hue", sequence=1,
                        created="2025-03-01T08:30:00Z")
    info = b"medseal/v1\n" + rfc8785.dumps({"content_type": "application/jose+json", "created": "2025-03-01T08:30:00Z",
                                             "record_id": "bench-0001", "sequence": 1, "source": "bv-trung-uong-hue"})
    for size, label in ((1024, "1k"), (1 << 20, "1m")):
        plaintext = os.urandom(size)
        sealed_pyca = suite.encrypt(plaintext, pyca_public, info=info)
        assert suite.decrypt(sealed_pyca, pyca_private, info=info) == plaintext
        if size <= 1024:
            envelope = medseal.seal(plaintext, meta, [hub_public])
            assert hub.open(envelope) == plaintext
            seal_fn = lambda: medseal.seal(plaintext, meta, [hub_public])  # noqa: E731
            open_fn = lambda: hub.open(envelope)  # noqa: E731
            api = "medseal.seal / RecipientKey.open"
        else:
            out = bytearray(medseal.sealed_size(plaintext, meta, [hub_public]))
            n = medseal.seal_into(plaintext, meta, [hub_public], out)
            envelope = memoryview(out)[:n]
            opened = bytearray(hub.plaintext_size(envelope))
            assert hub.open_into(envelope, opened) == size and bytes(opened) == plaintext
            envelope_bytes = bytes(envelope)
            seal_fn = lambda: medseal.seal_into(plaintext, meta, [hub_public], out)  # noqa: E731
            open_fn = lambda: hub.open_into(envelope_bytes, opened)  # noqa: E731
            api = "medseal.seal_into / RecipientKey.open_into, caller's bytearray"
        # The info is precomputed for PyCA (the bare primitive); medseal computes it from meta.
        t = best_per_op({
            "medseal-seal": seal_fn,
            "pyca-seal": lambda: suite.encrypt(plaintext, pyca_public, info=info),
            "medseal-open": open_fn,
            "pyca-open": lambda: suite.decrypt(sealed_pyca, pyca_private, info=info),
        })
        ratio_line("seal-%s" % label, t["medseal-seal"], t["pyca-seal"], 1.0, api)
        ratio_line("open-%s" % label, t["medseal-open"], t["pyca-open"], 1.0, api)


def bench_binding_overhead(signer, record):
    ffi, lib = _native.ffi, _native.lib
    document = rfc8785.dumps(record)  # the same bytes both ways
    c_document = ffi.from_buffer("uint8_t[]", document)
    out = ffi.new("medseal_buffer **")
    compact = int(lib.MEDSEAL_JWS_COMPACT)
    handle = signer._p

    def raw_sign():
        rc = lib.medseal_signer_sign(handle, c_document, len(document), compact, out)
        if rc != 0:
            raise RuntimeError("medseal_signer_sign: %d" % rc)
        data = ffi.buffer(lib.medseal_buffer_data(out[0]), lib.medseal_buffer_len(out[0]))[:]
        lib.medseal_buffer_free(out[0])
        return data

    assert medseal.Verifier([signer.public_key]).verify(raw_sign()).payload == document
    t = best_per_op({"python-api": lambda: signer.sign(document, format="compact"), "raw-cffi": raw_sign})
    overhead = t["python-api"] - t["raw-cffi"]
    print("RATIO binding-overhead-sign raw-cffi/python-api = %.2f (report)  [Signer.sign %s, raw cffi calls %s: "
          "the package adds %s per call, %.1f%%]" % (t["raw-cffi"] / t["python-api"], us(t["python-api"]),
                                                    us(t["raw-cffi"]), us(max(overhead, 0.0)),
                                                    100 * overhead / t["raw-cffi"]))


def main():
    print("medseal %s (%s), %s %s, cryptography %s, joserfc %s, rfc8785 %s; best of %d rounds of ~%.1f s" % (
        medseal.library_version(), medseal.LIBRARY_PATH, platform.python_implementation(), platform.python_version(),
        __import__("cryptography").__version__, joserfc.__version__, getattr(rfc8785, "__version__", "?"),
        ROUNDS, ROUND_SECONDS))
    record = fhir_record_1k()
    bench_canon(record)
    signer = bench_sign(record)
    bench_seal_open()
    bench_binding_overhead(signer, record)


if __name__ == "__main__":
    main()
