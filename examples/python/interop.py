#!/usr/bin/env python3
"""The medseal interop driver for Python: one command line, every language.

    interop version
    interop canon [--plain | --nfc] IN OUT
    interop key-generate EdDSA|ES256|X25519 PRIVATE_OUT PUBLIC_OUT
    interop sign KEY IN OUT [--compact | --detached] [--sigt RFC3339]
    interop verify PUBLIC IN [--payload FILE]
    interop seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT
    interop open KEY IN OUT [--verify PUBLIC]

The same commands exist for every binding (examples/<lang>/interop; ../shared/INTEROP.md is the
specification), so what one language signs or seals, any other verifies or opens. It uses only
the `medseal` package (`pip install bindings/python`; `make bindings` installs it into
build/venv-binding). `examples/python/interop` runs this file with that venv's Python.

Errors: a medseal error exits 1 with "MEDSEAL_<NAME>: message" on stderr (from the exception's
`name` and `message`, never parsed from text); a usage error exits 2 (argparse); a file that
cannot be read or written exits 1 with the system's reason.
"""

import argparse
import os
import platform
import re
import sys
import uuid
from datetime import datetime, timezone
from typing import Union

import medseal


# ---- files ------------------------------------------------------------------------------------

def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def write(path: str, data: bytes, mode: int = 0o644) -> None:
    """Writes `data` to `path`, created with `mode` (0600 for private keys and plaintexts)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def print_valid(verified: medseal.Verified) -> None:
    """The line every driver prints for a verified record."""
    print("valid kid=%s alg=%s sigT=%s" % (verified.kid, verified.algorithm.value, verified.signing_time_text))


def verifier_for(public_key_path: str) -> medseal.Verifier:
    """A verifier trusting the one public key (SPKI PEM or JWK) in the file."""
    return medseal.Verifier([medseal.Key.load(read(public_key_path))])


# ---- commands ---------------------------------------------------------------------------------

def version(args: argparse.Namespace) -> None:
    # ABI_VERSION is the binding's; importing medseal checked that the library reports the same.
    print("medseal %s abi %d python %s %s" % (medseal.library_version(), medseal.ABI_VERSION,
                                               platform.python_implementation(), platform.python_version()))


def canon(args: argparse.Namespace) -> None:
    # The strict medseal default: strings in NFC, numbers written canonically (no "1.50").
    canonical = medseal.canonicalize(read(args.input), plain=args.plain, normalize_nfc=args.nfc)
    write(args.output, canonical)


def key_generate(args: argparse.Namespace) -> None:
    key: Union[medseal.RecipientKey, medseal.Key]
    if args.alg == "X25519":  # a recipient key, to receive sealed envelopes
        key = medseal.RecipientKey.generate()
    else:  # a signing key
        key = medseal.Key.generate(args.alg)
    with key:
        write(args.private_out, key.export("pkcs8-pem"), 0o600)
        write(args.public_out, key.export("spki-pem"))


def sign(args: argparse.Namespace) -> None:
    # PKCS#8 PEM: Ed25519 (EdDSA), P-256 (ES256) or RSA (RS256). No --sigt: the clock's time.
    with medseal.Key.load(read(args.key)) as key, medseal.Signer(key, signing_time=args.sigt) as signer:
        # The record is canonicalized (strict policy), then the canonical bytes are signed.
        jws = signer.sign(read(args.input), format=args.format)
    write(args.output, jws)


def verify(args: argparse.Namespace) -> None:
    with verifier_for(args.public) as verifier:
        if args.payload is None:  # a medseal record: typ medseal+jws, a sigT, a canonical payload
            verified = verifier.verify_record(read(args.input))
        else:  # a detached JWS: the payload file is the JSON record, canonicalized as when signing
            verified = verifier.verify_detached(read(args.input), read(args.payload), document=True)
    print_valid(verified)


def seal(args: argparse.Namespace) -> None:
    recipients = [medseal.RecipientKey.load(read(path)) for path in args.to]  # SPKI PEM, DER or JWK
    # Routing metadata, in clear but bound to the ciphertext; created = now.
    meta = medseal.Meta(record_id=args.record_id or str(uuid.uuid4()), source=args.source, sequence=args.sequence)
    envelope = medseal.seal(read(args.input), meta, recipients, encoding="json")
    write(args.output, envelope)


def open_envelope(args: argparse.Namespace) -> None:
    with medseal.RecipientKey.load(read(args.key)) as key, medseal.Envelope(read(args.input)) as envelope:
        verified = None
        if args.verify is not None:
            # Open and verify the signed record inside, exactly as the hub does.
            with verifier_for(args.verify) as verifier:
                verified = envelope.open_verified(key, verifier)
        # OUT is the plaintext itself (the signed record), so open it (again, if verified).
        write(args.output, envelope.open(key), 0o600)
    if verified is not None:
        print_valid(verified)


# ---- the command line -------------------------------------------------------------------------

def sequence_number(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text) or int(text) >= 2**64:
        raise argparse.ArgumentTypeError("takes a decimal number")
    return int(text)


def rfc3339(text: str) -> datetime:
    """RFC 3339 with whole seconds: 2025-03-01T08:30:00Z or 2025-03-01T15:30:00+07:00."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})", text):
        raise argparse.ArgumentTypeError("takes an RFC 3339 date-time such as 2025-03-01T08:30:00Z")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="interop", description="The medseal interop driver (Python).", allow_abbrev=False)
    commands = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, run, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, allow_abbrev=False)
        sub.set_defaults(run=run)
        return sub

    command("version", version, "print the library, ABI and runtime versions")

    c = command("canon", canon, "canonicalize JSON (RFC 8785; strict medseal policy by default)")
    policy = c.add_mutually_exclusive_group()
    policy.add_argument("--plain", action="store_true", help="exactly RFC 8785: no NFC or lossy-number checks")
    policy.add_argument("--nfc", action="store_true", help="normalize strings to NFC instead of refusing them")
    c.add_argument("input", metavar="IN")
    c.add_argument("output", metavar="OUT")

    k = command("key-generate", key_generate, "generate a key pair (PKCS#8 PEM, SPKI PEM)")
    k.add_argument("alg", metavar="ALG", choices=["EdDSA", "ES256", "X25519"])
    k.add_argument("private_out", metavar="PRIVATE_OUT")
    k.add_argument("public_out", metavar="PUBLIC_OUT")

    s = command("sign", sign, "sign a JSON record (JWS, JSON flattened by default)")
    s.add_argument("key", metavar="KEY")
    s.add_argument("input", metavar="IN")
    s.add_argument("output", metavar="OUT")
    form = s.add_mutually_exclusive_group()
    form.add_argument("--compact", dest="format", action="store_const", const="compact", default="flattened")
    form.add_argument("--detached", dest="format", action="store_const", const="detached")
    s.add_argument("--sigt", type=rfc3339, metavar="RFC3339", help="fixed signing time (default: now)")

    v = command("verify", verify, "verify a JWS with a public key")
    v.add_argument("public", metavar="PUBLIC")
    v.add_argument("input", metavar="IN")
    v.add_argument("--payload", metavar="FILE", help="the JSON record of a detached JWS")

    e = command("seal", seal, "seal a file to X25519 recipients (JSON envelope)")
    e.add_argument("--to", action="append", required=True, metavar="PUBLIC")
    e.add_argument("--source", required=True, metavar="ID")
    e.add_argument("--sequence", required=True, type=sequence_number, metavar="N")
    e.add_argument("--record-id", metavar="ID", help="default: a random UUID")
    e.add_argument("input", metavar="IN")
    e.add_argument("output", metavar="OUT")

    o = command("open", open_envelope, "open an envelope (and verify the signed record inside)")
    o.add_argument("key", metavar="KEY")
    o.add_argument("input", metavar="IN")
    o.add_argument("output", metavar="OUT")
    o.add_argument("--verify", metavar="PUBLIC")
    return p


def main() -> int:
    args = parser().parse_args()  # a usage error exits 2
    try:
        args.run(args)
    except medseal.MedsealError as error:
        print("%s: %s" % (error.name, error.message), file=sys.stderr)
        return 1
    except OSError as error:
        print("interop: %s: %s" % (error.filename, error.strerror), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
