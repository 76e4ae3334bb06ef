#!/usr/bin/env python3
"""Seal and open 1 KB and 1 MB records: medseal (C ABI through ctypes) vs PyCA's hpke.Suite,
measured in the same process and run. Prints RATIO lines (PyCA time / medseal time, so 1.0
means as fast as PyCA; the issue's goal is >= 1.0).

medseal does more than PyCA here: it also writes the routing metadata into the HPKE info
(JCS) and encodes the protobuf envelope, and decodes it again before opening.

Two ways of getting results out of medseal are measured:
  * "buffer": medseal_envelope_seal / medseal_envelope_open return a medseal_buffer that Python copies
    into bytes (the simple API; for a megabyte record that is an extra megabyte allocation);
  * "into": medseal_envelope_seal_into / medseal_recipient_key_open_into write into a bytearray Python allocated
    after asking for the size (the API for large records; the one-call open reads the
    protobuf ciphertext in place).
With glibc's default thresholds every fresh megabyte allocation page-faults anew, so
make bench-seal also runs once with the thresholds raised, for both libraries.

Usage: python3 benches/seal_vs_pyca.py [path/to/libmedseal.so]   (make bench-seal builds it)
"""
import ctypes
import os
import sys
import time

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "libmedseal.so")

ms = ctypes.CDLL(LIB)
P = ctypes.c_void_p
ms.medseal_recipient_key_generate.argtypes = [ctypes.POINTER(P)]
ms.medseal_recipient_key_export.argtypes = [P, ctypes.c_uint32, ctypes.POINTER(P)]
ms.medseal_meta_new.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64, ctypes.POINTER(P)]
ms.medseal_envelope_seal.argtypes = [ctypes.c_char_p, ctypes.c_size_t, P, ctypes.POINTER(P), ctypes.c_size_t, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(P)]
ms.medseal_envelope_decode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(P)]
ms.medseal_envelope_open.argtypes = [P, P, ctypes.POINTER(P)]
ms.medseal_envelope_seal_into.argtypes = [ctypes.c_char_p, ctypes.c_size_t, P, ctypes.POINTER(P), ctypes.c_size_t, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
ms.medseal_recipient_key_open_into.argtypes = [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
ms.medseal_buffer_data.argtypes = [P]
ms.medseal_buffer_data.restype = ctypes.POINTER(ctypes.c_uint8)
ms.medseal_buffer_len.argtypes = [P]
ms.medseal_buffer_len.restype = ctypes.c_size_t
for name in ("medseal_buffer_free", "medseal_envelope_free", "medseal_meta_free", "medseal_recipient_key_free"):
    getattr(ms, name).argtypes = [P]

AES_256_GCM, PROTOBUF, BUFFER_TOO_SMALL = 2, 2, 3


def check(rc, what):
    if rc != 0:
        raise SystemExit(f"{what} failed with medseal result {rc}")


def take(buf):
    data = ctypes.string_at(ms.medseal_buffer_data(buf), ms.medseal_buffer_len(buf))
    ms.medseal_buffer_free(buf)
    return data


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main():
    key = P()
    check(ms.medseal_recipient_key_generate(ctypes.byref(key)), "generate")
    meta = P()
    check(ms.medseal_meta_new(b"rec-1", 5, b"bv-cho-ray", 10, 1, ctypes.byref(meta)), "meta")
    recipients = (P * 1)(key)
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    py_key = x25519.X25519PrivateKey.generate()
    py_pub = py_key.public_key()
    info = b"medseal/v1\n" + b'{"content_type":"application/jose+json","created":"2026-11-26T00:00:00Z","record_id":"rec-1","sequence":1,"source":"bv-cho-ray"}'

    for label, size, repeat in (("1KB", 1 << 10, 2000), ("1MB", 1 << 20, 20)):
        plaintext = os.urandom(size)

        def ours_seal():
            out = P()
            check(ms.medseal_envelope_seal(plaintext, len(plaintext), meta, recipients, 1, AES_256_GCM, PROTOBUF, ctypes.byref(out)), "seal")
            return take(out)

        envelope = ours_seal()

        def ours_open():
            env, out = P(), P()
            check(ms.medseal_envelope_decode(envelope, len(envelope), ctypes.byref(env)), "decode")
            check(ms.medseal_envelope_open(env, key, ctypes.byref(out)), "open")
            ms.medseal_envelope_free(env)
            return take(out)

        def into(call):
            """Asks for the size, then lets medseal write into a bytearray Python owns."""
            size = ctypes.c_size_t()
            rc = call(None, 0, size)
            if rc != BUFFER_TOO_SMALL:
                check(rc, "size query")
            out = bytearray(size.value)
            view = (ctypes.c_char * len(out)).from_buffer(out) if out else None
            check(call(view, len(out), size), "into")
            return out

        def ours_seal_into():
            return into(lambda out, cap, size: ms.medseal_envelope_seal_into(
                plaintext, len(plaintext), meta, recipients, 1, AES_256_GCM, out, cap, ctypes.byref(size)))

        def ours_open_into():
            return into(lambda out, cap, size: ms.medseal_recipient_key_open_into(key, envelope, len(envelope), out, cap, ctypes.byref(size)))

        assert ours_open() == plaintext and ours_open_into() == plaintext
        assert len(ours_seal_into()) == len(envelope)
        sealed = suite.encrypt(plaintext, py_pub, info=info)
        assert suite.decrypt(sealed, py_key, info=info) == plaintext

        for op, api, ours, theirs in (
            ("seal", "buffer", ours_seal, lambda: suite.encrypt(plaintext, py_pub, info=info)),
            ("seal", "into", ours_seal_into, lambda: suite.encrypt(plaintext, py_pub, info=info)),
            ("open", "buffer", ours_open, lambda: suite.decrypt(sealed, py_key, info=info)),
            ("open", "into", ours_open_into, lambda: suite.decrypt(sealed, py_key, info=info)),
        ):
            t_ours, t_theirs = best_time(ours, repeat), best_time(theirs, repeat)
            ratio = t_theirs / t_ours
            verdict = "meets" if ratio >= 1.0 else "BELOW"
            print(f"RATIO {op} {label} ({api}): medseal {t_ours * 1e6:.1f} us, PyCA {t_theirs * 1e6:.1f} us, speed ratio {ratio:.2f}x ({verdict} goal >= 1.0x)")

    ms.medseal_meta_free(meta)
    ms.medseal_recipient_key_free(key)


if __name__ == "__main__":
    main()
