#!/usr/bin/env python3
"""Sign a FHIR record with medseal and check the signature, as the receiving system would.

    python examples/python/sign_verify.py [RECORD.json [PRIVATE_KEY.pem]]

Reads a FHIR resource (JSON) from RECORD.json, or uses the sample Patient below; signs it with
the PKCS#8 PEM key in PRIVATE_KEY.pem (Ed25519, P-256 or RSA) or a fresh Ed25519 key; prints the
JWS; verifies it with the public half and prints what was verified. Needs only the `medseal`
package (`pip install bindings/python`).
"""

import sys

import medseal

# A Patient with a Vietnamese name. medseal requires strings in Unicode NFC (precomposed "ễ"),
# because the same name typed decomposed (NFD) would give a different signature: NFD input is
# refused with MEDSEAL_JSON_NOT_NFC unless you ask for normalize_nfc=True.
SAMPLE_PATIENT = {
    "resourceType": "Patient",
    "id": "vn-hcm-000123",
    "identifier": [{"system": "urn:oid:1.2.704.99.1", "value": "079085001234"}],
    "name": [{"use": "official", "text": "Nguyễn Văn An", "family": "Nguyễn", "given": ["Văn", "An"]}],
    "gender": "male",
    "birthDate": "1985-04-12",
}

# ASTM E1762 purpose of signature: "author's signature", recorded in the JAdES header.
AUTHOR_SIGNATURE = "1.2.840.10065.1.12.1.1"


def main() -> int:
    if len(sys.argv) > 3:
        print("usage: sign_verify.py [RECORD.json [PRIVATE_KEY.pem]]", file=sys.stderr)
        return 2
    # The record: JSON bytes from a file (signed exactly as canonicalized), or a Python dict.
    record = open(sys.argv[1], "rb").read() if len(sys.argv) > 1 else SAMPLE_PATIENT

    # The key. In production it comes from your key store (or a PKCS#11 token:
    # medseal.Signer.from_pkcs11), never generated per run: verifiers must already trust it.
    if len(sys.argv) > 2:
        key = medseal.Key.load(open(sys.argv[2], "rb").read())
    else:
        key = medseal.Key.generate("EdDSA")
    print("key id:", key.kid)

    # What gets signed: the canonical bytes (RFC 8785). Shown here; sign() does it itself.
    print("canonical:", medseal.canonicalize(record).decode())

    # A signer: build it once and share it between threads for as many records as you sign.
    with medseal.Signer(key, commitment=AUTHOR_SIGNATURE) as signer:
        jws = signer.sign(record)  # JWS JSON flattened; format="compact" or "detached" also
    print("jws:", jws.decode())

    # The receiving side trusts only the public half (it would load it from SPKI PEM or JWK).
    public_key = medseal.Key.load(key.export("spki-pem"))
    with medseal.Verifier([public_key]) as verifier:
        try:
            verified = verifier.verify(jws)
        except medseal.JwsError as error:  # e.g. MEDSEAL_JWS_SIGNATURE_INVALID for a changed record
            print("not verified: %s: %s" % (error.name, error.message), file=sys.stderr)
            return 1
    print("verified: yes")
    print("algorithm:", verified.algorithm.value)
    print("signed by:", verified.kid)
    print("signed at:", verified.signing_time_text)
    print("record:", verified.payload.decode())
    # The verified payload is exactly the canonical record.
    if verified.payload != medseal.canonicalize(record):
        print("the verified payload differs from the canonical record", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except medseal.MedsealError as error:  # e.g. MEDSEAL_JSON_NOT_NFC for a record in NFD
        print("%s: %s" % (error.name, error.message), file=sys.stderr)
        sys.exit(1)
