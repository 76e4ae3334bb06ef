"""The outbox (enqueue, status, dead letters, requeue, discard, withdraw, backup) and delivery
to the real reference hub on 127.0.0.1, with the receipts checked."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

import medseal

from conftest import PATIENT, Hub


def record(n: int) -> dict:  # type: ignore[type-arg]
    return dict(PATIENT, id="pat-%04d" % n)


def test_enqueue_status_and_admin(tmp_path: Path) -> None:
    hub_key = medseal.RecipientKey.generate()
    signer = medseal.Signer(medseal.Key.generate())
    path = tmp_path / "outbox.db"
    with medseal.Outbox(path, "hospital-a", [hub_key.public_key()]) as outbox:
        empty = outbox.status()
        assert (empty.queued, empty.delivered, empty.next_sequence) == (0, 0, 1)
        assert empty.oldest_queued_at is None and empty.next_attempt_at is None
        jws = signer.sign(record(1))
        first = outbox.enqueue("rec-1", jws)
        assert first.sequence == 1 and not first.already_queued and len(first.digest) == 32
        assert first.outbox_id > 0
        again = outbox.enqueue("rec-1", jws)
        assert again.already_queued and again.outbox_id == first.outbox_id and again.digest == first.digest
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.enqueue("rec-1", signer.sign(record(99)))
        assert caught.value.name == "MEDSEAL_OUTBOX_DUPLICATE"
        second = outbox.enqueue("rec-2", signer.sign(record(2), format="compact").decode())
        assert second.sequence == 2
        status = outbox.status()
        assert status.queued == 2 and status.next_sequence == 3 and status.oldest_queued_at is not None
        assert abs(status.oldest_queued_at.timestamp() - time.time()) < 120

        # A pre-sealed envelope must carry the next sequence number.
        sealed = signer.sign_and_seal(record(3), medseal.Meta("rec-3", "hospital-a", 3), [hub_key])
        third = outbox.enqueue_sealed(sealed)
        assert third.sequence == 3 and third.digest == hashlib.sha256(sealed).digest()
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.enqueue_sealed(signer.sign_and_seal(record(5), medseal.Meta("rec-5", "hospital-a", 9), [hub_key]))
        assert caught.value.name == "MEDSEAL_OUTBOX_SEQUENCE"
        with pytest.raises(medseal.SealError) as wrong:
            outbox.enqueue_sealed(signer.sign_and_seal(
                record(4), medseal.Meta("rec-4", "hospital-a", 4), [medseal.RecipientKey.generate()]))
        assert wrong.value.name == "MEDSEAL_SEAL_WRONG_RECIPIENT"

        # Withdraw -> dead letter -> requeue; withdraw again -> discard.
        assert outbox.dead_letters() == [] and outbox.dead_letter_count() == 0
        outbox.withdraw(second.outbox_id, "enqueued by mistake")
        assert outbox.dead_letters() == [second.outbox_id] and outbox.dead_letter_count() == 1
        assert outbox.status().dead_letter == 1
        outbox.requeue(second.outbox_id)
        assert outbox.dead_letters() == [] and outbox.status().queued == 3
        outbox.withdraw(second.outbox_id, "wrong patient")
        outbox.discard(second.outbox_id, "the ward confirmed")
        assert outbox.status().discarded == 1 and outbox.dead_letters() == []
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.requeue(second.outbox_id)
        assert caught.value.name == "MEDSEAL_OUTBOX_STATE"
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.requeue(987654)
        assert caught.value.name == "MEDSEAL_OUTBOX_NOT_FOUND"
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.discard(first.outbox_id, "not a dead letter")
        assert caught.value.name == "MEDSEAL_OUTBOX_STATE"
        with pytest.raises(medseal.GeneralError):
            outbox.withdraw(first.outbox_id, "")
        with pytest.raises(TypeError):
            outbox.requeue("1")  # type: ignore[arg-type]

        backup = tmp_path / "backup.db"
        outbox.backup(backup)
        assert backup.stat().st_size > 0
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.backup(backup)  # never replaced
        assert caught.value.name == "MEDSEAL_OUTBOX_IO"
    with medseal.Outbox(backup, "hospital-a") as copy:
        assert copy.status().queued == 2
        with pytest.raises(medseal.MedsealError):
            copy.enqueue("rec-9", signer.sign(record(9)))  # no recipients: administration only


def test_outbox_errors(tmp_path: Path) -> None:
    hub_key = medseal.RecipientKey.generate()
    path = tmp_path / "o.db"
    medseal.Outbox(path, "hospital-a", [hub_key]).close()
    with pytest.raises(medseal.GeneralError) as caught:
        medseal.Outbox(path, "hospital-b", [hub_key])
    assert caught.value.name == "MEDSEAL_INVALID_ARGUMENT"
    not_outbox = tmp_path / "not.db"
    not_outbox.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(medseal.OutboxError) as caught:
        medseal.Outbox(not_outbox, "hospital-a", [hub_key])
    assert caught.value.name in ("MEDSEAL_OUTBOX_SCHEMA", "MEDSEAL_OUTBOX_IO")
    with pytest.raises(medseal.OutboxError):
        medseal.Outbox(tmp_path / "missing-dir" / "o.db", "hospital-a", [hub_key])
    with pytest.raises(TypeError):
        medseal.Outbox(123, "hospital-a", [hub_key])  # type: ignore[arg-type]
    with medseal.Outbox(path, "hospital-a", [hub_key]) as outbox:
        with pytest.raises(medseal.MedsealError):
            outbox.enqueue("", b"{}")
        with pytest.raises(TypeError):
            outbox.enqueue("rec-1", 42)  # type: ignore[arg-type]
        # Only signed records are sealed (the outbox cannot verify them: it has no key).
        signer = medseal.Signer(medseal.Key.generate())

        def jws(header: bytes) -> bytes:  # a made-up signature: the outbox cannot check it
            return b".".join(base64.urlsafe_b64encode(part).rstrip(b"=") for part in (header, b'{"id":"1"}', b"sig"))

        cases = [
            (b"not a jws", "MEDSEAL_JWS_MALFORMED"),
            (b"{}", "MEDSEAL_JWS_MALFORMED"),
            (b'{"resourceType":"Patient","id":"p1"}', "MEDSEAL_JWS_MALFORMED"),
            (signer.sign(record(1), format="detached"), "MEDSEAL_JWS_PAYLOAD_MISSING"),
            (jws(b'{"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"JWT"}'), "MEDSEAL_JWS_HEADER"),
            (jws(b'{"alg":"EdDSA","typ":"medseal+jws"}'), "MEDSEAL_JWS_HEADER"),
        ]
        for bad, name in cases:
            with pytest.raises(medseal.JwsError) as caught:
                outbox.enqueue("rec-1", bad)
            assert caught.value.name == name, (bad, caught.value)
        with pytest.raises(medseal.OutboxError) as missing:
            outbox.receipt("rec-1")
        assert missing.value.name == "MEDSEAL_OUTBOX_NOT_FOUND"  # nothing was stored
        assert outbox.status().next_sequence == 1  # and no number used
        first = outbox.enqueue("rec-1", signer.sign(record(1)))
        assert first.sequence == 1
        made_up = jws(b'{"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"medseal+jws"}')
        assert outbox.enqueue("rec-2", made_up).sequence == 2  # record-shaped: sealed (the hub verifies)
        with pytest.raises(medseal.OutboxError) as state:
            outbox.receipt("rec-1")
        assert state.value.name == "MEDSEAL_OUTBOX_STATE"
        with pytest.raises(medseal.GeneralError):
            outbox.receipt("")
        with pytest.raises(TypeError):
            outbox.receipt(7)  # type: ignore[arg-type]


def test_outbox_with_signing_keys_refuses_before_numbering(tmp_path: Path) -> None:
    """Issue 10 point 10: with the facility's signing keys, the outbox verifies each record before
    it takes a sequence number; another key's record, a made-up signature and an unsigned
    document are refused and use none, so the next good record is number 1."""
    hub_key = medseal.RecipientKey.generate()
    own, other = medseal.Key.generate(), medseal.Key.generate()
    path = tmp_path / "checked.db"
    with medseal.Outbox(path, "hospital-a", [hub_key], signing_keys=[other.public_key(), own.public_key()]) as outbox:
        made_up = b".".join(base64.urlsafe_b64encode(part).rstrip(b"=") for part in (
            b'{"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"medseal+jws"}', b'{"id":"1"}', b"sig"))
        cases = [
            (medseal.Signer(medseal.Key.generate()).sign(record(1)), "MEDSEAL_JWS_SIGNATURE_INVALID"),  # another hospital's
            (made_up, "MEDSEAL_JWS_SIGNATURE_INVALID"),
            (b'{"resourceType":"Patient","id":"p1"}', "MEDSEAL_JWS_MALFORMED"),  # an unsigned document
        ]
        for bad, name in cases:
            with pytest.raises(medseal.JwsError) as caught:
                outbox.enqueue("rec-bad", bad)
            assert caught.value.name == name, (bad, caught.value)
        assert outbox.status().next_sequence == 1
        assert outbox.enqueue("rec-1", medseal.Signer(own).sign(record(1))).sequence == 1  # no number was used
        assert outbox.enqueue("rec-2", medseal.Signer(other).sign(record(2))).sequence == 2  # any of its keys
    # The same file opened without keys does not verify (the hub would): a foreign record takes number 3.
    with medseal.Outbox(path, "hospital-a", [hub_key]) as unchecked:
        assert unchecked.enqueue("rec-3", medseal.Signer(medseal.Key.generate()).sign(record(3))).sequence == 3
    # One Key alone is accepted; a private key is used for its public half.
    with medseal.Outbox(path, "hospital-a", [hub_key], signing_keys=own) as outbox:  # type: ignore[arg-type]
        assert outbox.enqueue("rec-4", medseal.Signer(own).sign(record(4))).sequence == 4
    with pytest.raises(ValueError, match="1 to 64"):
        medseal.Outbox(path, "hospital-a", [hub_key], signing_keys=[])
    with pytest.raises(ValueError, match="1 to 64"):
        medseal.Outbox(path, "hospital-a", [hub_key], signing_keys=[own] * 65)
    with pytest.raises(TypeError):
        medseal.Outbox(path, "hospital-a", [hub_key], signing_keys=[None])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        medseal.Outbox(path, "hospital-a", [hub_key], signing_keys=[hub_key])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        medseal.Outbox(path, "hospital-a", [hub_key], signing_keys=b"signing.pub")  # type: ignore[arg-type]


def test_transport_config_errors(hub: Hub) -> None:
    with pytest.raises(medseal.TransportError) as caught:
        medseal.Transport("http://127.0.0.1:1", facility_dir=hub.facility_dir)
    assert caught.value.name == "MEDSEAL_TRANSPORT_CONFIG" and "plain HTTP" in caught.value.message
    with pytest.raises(medseal.TransportError) as caught:
        medseal.Transport(hub.url)
    assert "no client certificate" in caught.value.message
    with pytest.raises(medseal.TransportError):
        medseal.Transport(hub.url, facility_dir=hub.facility_dir, batch_size=0)
    with pytest.raises(medseal.TransportError):
        medseal.Transport(hub.url, facility_dir=hub.facility_dir, proxy="socks5://127.0.0.1:1080")
    with pytest.raises(medseal.TransportError):
        medseal.Transport(hub.url, facility_dir=hub.facility_dir / "nope")
    with pytest.raises(medseal.TransportError):
        medseal.Transport(hub.url, client_certificate=b"garbage")
    with pytest.raises(TypeError):
        medseal.Transport(hub.url, facility_dir=hub.facility_dir, receipt_key=b"pem")  # type: ignore[arg-type]
    # Credentials one by one build as well as the directory.
    d = hub.facility_dir
    explicit = medseal.Transport(
        hub.url,
        client_certificate=(d / "client.pem").read_bytes(),
        client_key=(d / "client.key").read_text(),
        hub_ca=(d / "hub-ca.pem").read_bytes(),
        receipt_key=hub.key("receipt.pub"),
        tree_head_key=hub.key("tree-head.pub"),
        connect_timeout=5,
        timeout=20.0,
        batch_size=50,
        proxy_from_env=False,
    )
    explicit.close()


def _wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_deliver_to_the_hub_and_check_receipts(hub: Hub, tmp_path: Path) -> None:
    hub = hub.enrol("py-deliver")  # a new outbox numbers from 1: its own facility
    signer = medseal.Signer(hub.signing_key())
    path = tmp_path / "deliver.db"
    with medseal.Outbox(path, hub.facility, [hub.recipient()]) as outbox, hub.transport(batch_size=10) as transport:
        receipts = [outbox.enqueue("py-deliver-%d" % n, signer.sign(record(n))) for n in range(25)]
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.receipt("py-deliver-7")  # not delivered yet
        assert caught.value.name == "MEDSEAL_OUTBOX_STATE" and "only a delivered record" in caught.value.message
        report = outbox.deliver(transport)
        assert report.error is None, report.error
        assert report.delivered == 25 and report.dead_letters == 0 and report.retried == 0
        assert outbox.status().delivered == 25 and outbox.status().queued == 0
        assert outbox.deliver(transport).delivered == 0  # nothing due any more
        kept = outbox.receipt("py-deliver-7")
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.receipt("py-deliver-99")
        assert caught.value.name == "MEDSEAL_OUTBOX_NOT_FOUND"
    # The same from the file opened later for administration (no recipients).
    with medseal.Outbox(path, hub.facility) as admin:
        assert admin.receipt("py-deliver-7") == kept

    receipt_key, tree_head_key = hub.key("receipt.pub"), hub.key("tree-head.pub")
    local = receipts[7]
    assert isinstance(kept, medseal.HubReceipt) and kept.receipt.startswith(b"eyJ") and kept.inclusion_proof
    receipt_jws, proof = kept
    checked = medseal.Receipt.verify(
        receipt_jws, proof, receipt_key=receipt_key, tree_head_key=tree_head_key,
        source=hub.facility, record_id="py-deliver-7", digest=local.digest,
    )
    assert checked.record_id == "py-deliver-7" and checked.source == hub.facility
    assert checked.sequence == local.sequence and checked.digest == local.digest
    assert checked.ledger_index < checked.tree_size and abs(checked.received.timestamp() - time.time()) < 300
    # The receipt of another record, facility or envelope is refused.
    for field, value in (("record_id", "py-deliver-8"), ("source", "another-facility"), ("digest", receipts[8].digest)):
        arguments = dict(source=hub.facility, record_id="py-deliver-7", digest=local.digest)
        arguments[field] = value
        with pytest.raises(medseal.LedgerError) as caught:
            medseal.Receipt.verify(receipt_jws, proof, receipt_key=receipt_key, tree_head_key=tree_head_key, **arguments)  # type: ignore[arg-type]
        assert caught.value.name == "MEDSEAL_LEDGER_RECEIPT_INVALID"
    with pytest.raises(medseal.LedgerError):
        medseal.Receipt.verify(receipt_jws, proof, receipt_key=tree_head_key, tree_head_key=tree_head_key,
                               source=hub.facility, record_id="py-deliver-7", digest=local.digest)
    with pytest.raises(medseal.GeneralError):
        medseal.Receipt.verify(receipt_jws, proof, receipt_key=receipt_key, tree_head_key=tree_head_key,
                               source=hub.facility, record_id="py-deliver-7", digest="not-a-digest")
    with pytest.raises(ValueError):
        medseal.Receipt.verify(receipt_jws, proof, receipt_key=receipt_key, tree_head_key=tree_head_key,
                               source=hub.facility, record_id="py-deliver-7", digest=b"short")


def test_background_deliverer(hub: Hub, tmp_path: Path) -> None:
    hub = hub.enrol("py-background")
    signer = medseal.Signer(hub.signing_key())
    with medseal.Outbox(tmp_path / "bg.db", hub.facility, [hub.recipient()]) as outbox:
        with outbox.deliverer(hub.transport(), poll_interval=0.2) as deliverer:
            for n in range(10):
                outbox.enqueue("py-bg-%d" % n, signer.sign(record(n)))
                deliverer.notify()
            assert _wait_for(lambda: outbox.status().delivered == 10), outbox.status()
            report = deliverer.last_report()
            assert report.error is None
        assert deliverer.closed
        with pytest.raises(medseal.HandleClosedError):
            deliverer.notify()
        status = outbox.status()
        assert status.delivered == 10 and status.queued == 0 and status.in_flight == 0


def test_hub_down_keeps_records_queued(hub: Hub, tmp_path: Path) -> None:
    signer = medseal.Signer(hub.signing_key())
    with medseal.Outbox(tmp_path / "down.db", hub.facility, [hub.recipient()]) as outbox:
        outbox.enqueue("py-down-1", signer.sign(record(1)))
        down = medseal.Transport("https://127.0.0.1:9", facility_dir=hub.facility_dir, connect_timeout=2, timeout=5)
        report = outbox.deliver(down)
        assert report.delivered == 0 and report.retried == 1
        assert isinstance(report.error, medseal.TransportError)
        assert report.error.name == "MEDSEAL_TRANSPORT_CONNECT" and report.error.message
        assert report.next_attempt_at is not None
        assert outbox.status().queued == 1
        with outbox.deliverer(down, poll_interval=0.05) as deliverer:
            deliverer.stop()
            deliverer.stop()  # later stops do nothing


def test_refused_record_becomes_a_dead_letter(hub: Hub, tmp_path: Path) -> None:
    hub = hub.enrol("py-dead-letter")  # refused for its key, not for a sequence number another outbox used
    stranger = medseal.Signer(medseal.Key.generate())  # a key the hub does not know
    with medseal.Outbox(tmp_path / "dead.db", hub.facility, [hub.recipient()]) as outbox:
        local = outbox.enqueue("py-dead-1", stranger.sign(record(1)))
        report = outbox.deliver(hub.transport())
        assert report.dead_letters == 1 and report.delivered == 0
        assert outbox.dead_letters() == [local.outbox_id]
        outbox.discard(local.outbox_id, "signed with an unregistered key")
        assert outbox.status().discarded == 1


def test_keys_made_with_openssl_enrol_and_deliver(hub: Hub, tmp_path: Path) -> None:
    """The openssl route of docs/SUBMISSION.md ("Enrolment: hospital-held keys"): the hospital
    makes its keys with openssl, the hub enrols signing.pub and client.csr, and the facility
    delivers over mutual TLS with them; the hub holds neither private key."""
    hub = hub.enrol("py-openssl", openssl=True)
    for name in ("signing.key", "client.key"):
        assert (hub.facility_dir / name).stat().st_mode & 0o077 == 0, name  # openssl writes them owner-only
    signing_pub = hub.key("signing.pub")
    signer = medseal.Signer(hub.signing_key())
    with medseal.Outbox(tmp_path / "openssl.db", hub.facility, [hub.recipient()]) as outbox, hub.transport() as transport:
        local = [outbox.enqueue("py-openssl-%d" % n, signer.sign(record(n))) for n in range(2)]
        report = outbox.deliver(transport)
        assert report.error is None, report.error
        assert report.delivered == 2 and report.dead_letters == 0 and report.retried == 0
        for n, receipt in enumerate(local):
            kept = outbox.receipt("py-openssl-%d" % n)
            checked = medseal.Receipt.verify(kept.receipt, kept.inclusion_proof, receipt_key=hub.key("receipt.pub"),
                                             tree_head_key=hub.key("tree-head.pub"), source=hub.facility,
                                             record_id="py-openssl-%d" % n, digest=receipt.digest)
            assert checked.sequence == n + 1
    # The records verify with the public key the hub enrolled, and the hub never saw a private key.
    assert medseal.Verifier([signing_pub]).verify(signer.sign(record(9))).kid == signing_pub.kid
    private = [base64.b64decode(b"".join((hub.facility_dir / name).read_bytes().splitlines()[1:-1]))
               for name in ("signing.key", "client.key")]
    for path in hub.dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for key in private:
                assert key not in data and base64.b64encode(key) not in data, path


def test_a_dead_letter_withdrawn_with_a_signed_tombstone_is_no_gap(hub: Hub, tmp_path: Path) -> None:
    """A record the hub refused keeps its number; withdrawing it with the facility's key sends
    a signed tombstone in its place, which the hub ledgers as withdrawn with the reason."""
    hub = hub.enrol("py-withdrawn")
    signer = medseal.Signer(hub.signing_key())
    stranger = medseal.Signer(medseal.Key.generate())  # a key the hub does not know
    with medseal.Outbox(tmp_path / "w.db", hub.facility, [hub.recipient()]) as outbox, hub.transport() as transport:
        outbox.enqueue("py-w-1", signer.sign(record(1)))
        refused = outbox.enqueue("py-w-2", stranger.sign(record(2)))
        report = outbox.deliver(transport)
        assert (report.delivered, report.dead_letters) == (1, 1)
        with pytest.raises(TypeError):
            outbox.withdraw_signed(refused.outbox_id, "entered twice", "not a signer")  # type: ignore[arg-type]
        with pytest.raises(medseal.GeneralError) as caught:
            outbox.withdraw_signed(refused.outbox_id, "", signer)
        assert caught.value.name == "MEDSEAL_INVALID_ARGUMENT"
        outbox.withdraw_signed(refused.outbox_id, "signed with a key the hub does not know", signer)
        with pytest.raises(medseal.OutboxError) as caught:
            outbox.withdraw_signed(refused.outbox_id, "again", signer)
        assert caught.value.name == "MEDSEAL_OUTBOX_STATE"
        report = outbox.deliver(transport)
        assert (report.delivered, report.dead_letters) == (1, 0), report.error
        assert outbox.receipt("py-w-2").receipt  # the tombstone's receipt
    audit = subprocess.run([str(hub.cli), "hub", "audit", "--dir", str(hub.dir)], capture_output=True, text=True, check=True).stdout
    assert "withdrawn 2: signed with a key the hub does not know" in audit, audit
    assert "no gaps" in audit, audit
