#!/usr/bin/env python3
"""A hospital signs and seals a record to the hub; the hub opens it and verifies the signature.

    python examples/python/seal_open.py [json|protobuf]

Both sides run in this one script to keep it short; in real life they share only public keys
(each side's public half, as SPKI PEM here) and the sealed envelope bytes.

  hospital: canonicalize + sign the record (JWS, its Ed25519 key), then seal the JWS with HPKE
            (RFC 9180) to the hub's X25519 public key, routing metadata in clear but bound to it;
  hub:      decode the envelope, read the metadata (no key needed: routing, deduplication),
            open it with its X25519 private key and verify the signature inside.

Large records: medseal.seal_into / RecipientKey.open_into work in memory you allocate
(a bytearray), without extra copies; see the end of this script.
"""

import sys
from decimal import Decimal

import medseal

RECORD = {
    "resourceType": "Observation",
    "id": "obs-8841",
    "status": "final",
    "code": {"text": "HbA1c"},
    # A FHIR decimal: a Decimal is written exactly as its text; a float is refused unless
    # allow_floats=True (json.dumps would write 6.0 for 6, which canonical JSON writes as 6).
    "valueQuantity": {"value": Decimal("6.1"), "unit": "%"},
}


def main() -> int:
    encoding = sys.argv[1] if len(sys.argv) > 1 else "json"
    if len(sys.argv) > 2 or encoding not in ("json", "protobuf"):
        print("usage: seal_open.py [json|protobuf]", file=sys.stderr)
        return 2

    # 1. Set-up, once. The hub makes its X25519 key pair and publishes the public key; the
    #    hospital has its signing key and publishes the public half. (Keys come from key stores
    #    in production; they are generated here so the example runs anywhere.)
    hub_key = medseal.RecipientKey.generate()
    hub_public_pem = hub_key.export("spki-pem")
    hospital_key = medseal.Key.generate("EdDSA")
    hospital_public_pem = hospital_key.export("spki-pem")

    # 2. Hospital: a signer (built once, shared by threads) and the hub's public key.
    signer = medseal.Signer(hospital_key)
    hub = medseal.RecipientKey.load(hub_public_pem)

    # 3. Hospital, per record: routing metadata (record id, sending facility, the source's
    #    sequence number; created = now), then sign and seal in one call. More recipients (an
    #    insurer, a registry) go in the same list: each opens the envelope with its own key.
    meta = medseal.Meta(record_id="rec-2025-000123", source="bv-cho-ray", sequence=42)
    sealed = signer.sign_and_seal(RECORD, meta, [hub], encoding=encoding)
    if encoding == "json":
        print("envelope:", sealed.decode())
    else:
        print("envelope: %d bytes of protobuf medseal.v1.SealedRecord" % len(sealed))

    # --- the envelope travels to the hub: only `sealed` crosses the wire ---

    # 4. Hub: decode (JSON or protobuf, detected) and read the metadata without any key. It is
    #    authenticated only by opening: any change to it makes opening fail.
    with medseal.Envelope(sealed) as envelope:
        print("meta:", envelope.meta_json.decode())

        # 5. Hub: a verifier trusting the hospital's published key, then open + verify.
        #    Errors: SealError MEDSEAL_SEAL_WRONG_RECIPIENT (not for this hub),
        #    MEDSEAL_SEAL_DECRYPT_FAILED (altered on the way); JwsError
        #    MEDSEAL_JWS_SIGNATURE_INVALID (not signed by a trusted key).
        verifier = medseal.Verifier([medseal.Key.load(hospital_public_pem)])
        verified = envelope.open_verified(hub_key, verifier)
    print("verified: yes")
    print("signed by:", verified.kid, "at", verified.signing_time_text)
    print("record:", verified.payload.decode())
    if verified.payload != medseal.canonicalize(RECORD):
        print("the opened record differs from the canonical record sent", file=sys.stderr)
        return 1

    # 6. Large records (imaging reports, bundles of megabytes): seal into and open into memory
    #    you own. sealed_size/plaintext_size say how much; nothing is copied twice.
    big = b"x" * (1 << 20)
    out = bytearray(medseal.sealed_size(big, meta, [hub]))
    n = medseal.seal_into(big, meta, [hub], out)
    opened = bytearray(hub_key.plaintext_size(memoryview(out)[:n]))
    m = hub_key.open_into(memoryview(out)[:n], opened)
    print("1 MiB sealed into %d bytes and opened into %d bytes: %s" % (n, m, "same" if opened[:m] == big else "DIFFERENT"))
    signer.close()
    return 0 if opened[:m] == big else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except medseal.MedsealError as error:
        print("%s: %s" % (error.name, error.message), file=sys.stderr)
        sys.exit(1)
