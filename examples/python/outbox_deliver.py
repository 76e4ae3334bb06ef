#!/usr/bin/env python3
"""A hospital's outbox: records are signed, sealed to the hub and stored durably at once; a
background deliverer sends them to the hub over mutual TLS; every receipt is verified.

    python examples/python/outbox_deliver.py HUB_URL FACILITY_DIR [OUTBOX.sqlite]

HUB_URL: the hub, e.g. https://127.0.0.1:8443. FACILITY_DIR: the hospital's own keys, made
there by `medseal facility init --facility ID --dir DIR` (signing.key, its Ed25519 signing key;
client.key, its TLS key), and what the hub operator's `medseal hub enroll --facility ID
--signing-key DIR/signing.pub --csr DIR/client.csr --out DIR` wrote beside them: facility.json
(its id), client.pem (its TLS client certificate), hub-ca.pem (the hub's CA, pinned), hub-recipient.pub (the hub's X25519 key, to seal to),
receipt.pub and tree-head.pub (the hub's keys for receipts and the ledger). OUTBOX.sqlite:
the outbox file (default FACILITY_DIR/outbox.sqlite); records wait there while the hub is down,
across restarts, and are never lost or sent twice.
"""

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import medseal

# The records a hospital system produces (here two; in real life, as they are written).
RECORDS: List[Dict[str, Any]] = [
    {"resourceType": "Patient", "id": "hue-000451", "name": [{"text": "Trần Thị Mai", "family": "Trần"}],
     "gender": "female", "birthDate": "1978-09-02"},
    {"resourceType": "Observation", "id": "hue-obs-9912", "status": "final", "code": {"text": "Glucose"},
     "subject": {"reference": "Patient/hue-000451"}, "valueQuantity": {"value": 7, "unit": "mmol/L"}},
]


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print("usage: outbox_deliver.py HUB_URL FACILITY_DIR [OUTBOX.sqlite]", file=sys.stderr)
        return 2
    hub_url, facility = sys.argv[1], Path(sys.argv[2])
    outbox_path = Path(sys.argv[3]) if len(sys.argv) == 4 else facility / "outbox.sqlite"
    source = json.loads((facility / "facility.json").read_text(encoding="utf-8"))["facility"]

    # Once, at start-up: the signer, the hub's recipient key, the transport (mutual TLS with
    # the credentials of the facility directory) and the outbox. All are thread-safe.
    signer = medseal.Signer(medseal.Key.load((facility / "signing.key").read_bytes()))
    hub = medseal.RecipientKey.load((facility / "hub-recipient.pub").read_bytes())
    # The facility's public signing key: the outbox verifies each record with it before giving
    # it a sequence number, so a wrong file is refused without leaving a hole in the numbering.
    signing_pub = medseal.Key.load((facility / "signing.pub").read_bytes())
    transport = medseal.Transport(hub_url, facility_dir=facility, timeout=30)
    enqueued: Dict[str, medseal.LocalReceipt] = {}
    with medseal.Outbox(outbox_path, source, [hub], signing_keys=[signing_pub]) as outbox, \
            outbox.deliverer(transport, poll_interval=1.0) as deliverer:
        for record in RECORDS:
            # The record id is your system's unique id for this version of the record (the
            # hub's idempotency key); a UUID here.
            record_id = str(uuid.uuid4())
            # Sign, then enqueue: sealed to the hub and on disk (synchronous) when this returns.
            local = outbox.enqueue(record_id, signer.sign(record))
            enqueued[record_id] = local
            print("enqueued %s %s as %s (sequence %d)" % (record["resourceType"], record["id"], record_id, local.sequence))
            deliverer.notify()  # deliver now rather than at the next poll

        # The deliverer works in the background; a real system just carries on. Here we wait
        # until nothing is left to send (or give up after a minute: records stay queued).
        deadline = time.monotonic() + 60
        while True:
            status = outbox.status()
            if status.queued == 0 and status.in_flight == 0:
                break
            if time.monotonic() > deadline:
                report = deliverer.last_report()
                print("still queued after 60 s: %d (last error: %s)" % (status.queued, report.error), file=sys.stderr)
                return 1
            time.sleep(0.2)
    print("outbox: %d delivered, %d dead letters" % (status.delivered, status.dead_letter))
    if status.dead_letter:
        return 1

    # The deliverer marks a record delivered only once the hub's receipt verified. The outbox
    # keeps each receipt and inclusion proof (Outbox.receipt reads them back; the file can be
    # opened for this alone, without recipients); an auditor re-checks them against the hub's
    # receipt and tree-head keys, this facility, the record id and the digest of the envelope
    # the outbox sent.
    receipt_key = medseal.Key.load((facility / "receipt.pub").read_bytes())
    tree_head_key = medseal.Key.load((facility / "tree-head.pub").read_bytes())
    with medseal.Outbox(outbox_path, source) as outbox:
        for record_id, local in enqueued.items():
            receipt, proof = outbox.receipt(record_id)
            checked = medseal.Receipt.verify(receipt, proof, receipt_key=receipt_key, tree_head_key=tree_head_key,
                                             source=source, record_id=record_id, digest=local.digest)
            print("receipt verified: %s is entry %d of the hub's ledger (tree size %d), received %s" % (
                record_id, checked.ledger_index, checked.tree_size, checked.received.strftime("%Y-%m-%dT%H:%M:%SZ")))
    signer.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except medseal.MedsealError as error:
        print("%s: %s" % (error.name, error.message), file=sys.stderr)
        sys.exit(1)
