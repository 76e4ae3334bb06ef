"""The durable outbox, the transport to the hub, and delivery."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple, Union

from ._keys import Key, RecipientKey
from ._native import (
    BytesLike,
    Handle,
    MedsealError,
    as_bytes,
    as_int,
    as_path,
    as_text,
    check,
    ffi,
    get_i64,
    get_optional_time,
    get_u32,
    get_u64,
    in_buffer,
    lib,
    make_error,
    new_out,
    take_buffer,
)
from ._seal import recipient_array
from ._sign import Signer, utc

_BUFFER_TOO_SMALL = int(lib.MEDSEAL_BUFFER_TOO_SMALL)
_OK = int(lib.MEDSEAL_OK)


def _optional_utc(seconds: Optional[int]) -> Optional[datetime.datetime]:
    return utc(seconds) if seconds is not None else None


@dataclass(frozen=True)
class LocalReceipt:
    """What an enqueue returns once the record is on disk: ``outbox_id`` (its row in this
    outbox), ``sequence`` (the source's number for it), ``enqueued_at`` (UTC), ``digest``
    (SHA-256 of the protobuf envelope, as the hub receives it) and ``already_queued`` (True
    if the same record was enqueued before: this is the original receipt)."""

    outbox_id: int
    sequence: int
    enqueued_at: datetime.datetime
    digest: bytes
    already_queued: bool


def _take_local_receipt(pointer: Any) -> LocalReceipt:
    try:
        digest = ffi.new("uint8_t[]", 64)
        written = ffi.new("size_t *")
        check(lib.medseal_local_receipt_digest(pointer, digest, 64, written))
        return LocalReceipt(
            outbox_id=get_i64(lib.medseal_local_receipt_outbox_id, pointer),
            sequence=get_u64(lib.medseal_local_receipt_sequence, pointer),
            enqueued_at=utc(get_i64(lib.medseal_local_receipt_enqueued_at, pointer)),
            digest=ffi.buffer(digest, written[0])[:],
            already_queued=get_u32(lib.medseal_local_receipt_already_queued, pointer) == 1,
        )
    finally:
        lib.medseal_local_receipt_free(pointer)


class HubReceipt(NamedTuple):
    """The hub's receipt of a delivered record, as the outbox kept it (:meth:`Outbox.receipt`):
    ``receipt``, the compact JWS signed by the hub's receipt key (ASCII bytes), and
    ``inclusion_proof``, the protobuf ``medseal.v1.InclusionProof`` that came with it. Both go
    as they are to :meth:`medseal.Receipt.verify`. A pair: ``receipt, proof = outbox.receipt(id)``."""

    receipt: bytes
    inclusion_proof: bytes


@dataclass(frozen=True)
class OutboxStatus:
    """A snapshot of an outbox: counts per state, the next sequence number, when the oldest
    undelivered record was enqueued and when the next one is due (UTC datetimes or None)."""

    queued: int
    in_flight: int
    delivered: int
    dead_letter: int
    discarded: int
    next_sequence: int
    oldest_queued_at: Optional[datetime.datetime]
    next_attempt_at: Optional[datetime.datetime]


@dataclass(frozen=True)
class DeliveryReport:
    """What a delivery run did: records ``delivered`` (receipt verified; ``duplicates``
    among them were already at the hub), moved to ``dead_letters``, ``retried`` later;
    ``next_attempt_at`` (when a waiting record is due, or None); ``error``: the last transport
    or protocol error of the run as a :class:`MedsealError` (not raised), or None."""

    delivered: int
    duplicates: int
    dead_letters: int
    retried: int
    next_attempt_at: Optional[datetime.datetime]
    error: Optional[MedsealError]


def _take_report(pointer: Any) -> DeliveryReport:
    try:
        code = ffi.new("medseal_result *")
        message = ffi.new("uint8_t **")
        length = ffi.new("size_t *")
        check(lib.medseal_delivery_report_last_error(pointer, code, message, length))
        error: Optional[MedsealError] = None
        if code[0] != _OK:
            text = ffi.buffer(message[0], length[0])[:].decode("utf-8", "replace") if length[0] else ""
            error = make_error(int(code[0]), text)
        return DeliveryReport(
            delivered=get_u64(lib.medseal_delivery_report_delivered, pointer),
            duplicates=get_u64(lib.medseal_delivery_report_duplicates, pointer),
            dead_letters=get_u64(lib.medseal_delivery_report_dead_letters, pointer),
            retried=get_u64(lib.medseal_delivery_report_retried, pointer),
            next_attempt_at=_optional_utc(get_optional_time(lib.medseal_delivery_report_next_attempt_at, pointer)),
            error=error,
        )
    finally:
        lib.medseal_delivery_report_free(pointer)


def _milliseconds(seconds: Union[int, float], what: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("%s must be a number of seconds, not %s" % (what, type(seconds).__name__))
    ms = int(round(seconds * 1000))
    if not 0 <= ms <= 2**32 - 1:
        raise ValueError("%s out of range: %r s" % (what, seconds))
    return ms


@dataclass(frozen=True)
class Pkcs11Key:
    """A TLS client key that stays on a PKCS#11 token, for :class:`Transport` ``client_key``.

    ``module``: the PKCS#11 module's path (e.g. SoftHSM2's ``libsofthsm2.so``); ``token``: the
    token's label; ``key``: the key's label (``CKA_LABEL``, unique on the token), as ``medseal
    facility init --tls-pkcs11-...`` made it; ``pin``: the user PIN (never shown by ``repr``,
    never logged). Each TLS handshake is signed on the token (P-256, or RSA with RSA-PSS).
    """

    module: Union[str, "os.PathLike[str]"]
    token: str
    key: str
    pin: Union[str, bytes] = field(repr=False)


class Transport(Handle):
    """The HTTPS connection to the hub, mutual TLS (``medseal_transport``).

    ``hub_url``: ``https://host[:port][/base]`` (plain HTTP is refused). Credentials either
    from ``facility_dir`` (client.key as ``medseal facility init`` made it, the rest as
    ``medseal hub enroll`` wrote it beside: client.pem, hub-ca.pem, receipt.pub, tree-head.pub)
    or given one by one: ``client_certificate`` and
    ``client_key`` (PEM, or a :class:`Pkcs11Key` for a key kept on a token: then
    ``facility_dir`` needs no client.key), ``hub_ca`` (PEM, pinned) or ``public_roots=True``, ``receipt_key`` and
    ``tree_head_key`` (:class:`Key`, public). Options: ``connect_timeout`` and ``timeout``
    (seconds), ``batch_size`` (1 to 1000), ``proxy`` (``http://host:port``) or
    ``proxy_from_env=True``. Errors: :class:`TransportError` (``MEDSEAL_TRANSPORT_CONFIG``).
    Immutable; share between threads and outboxes.
    """

    _free_name = "medseal_transport_free"

    def __init__(
        self,
        hub_url: str,
        *,
        facility_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
        client_certificate: Optional[Union[BytesLike, str]] = None,
        client_key: Optional[Union[BytesLike, str, Pkcs11Key]] = None,
        hub_ca: Optional[Union[BytesLike, str]] = None,
        public_roots: bool = False,
        receipt_key: Optional[Key] = None,
        tree_head_key: Optional[Key] = None,
        connect_timeout: Optional[float] = None,
        timeout: Optional[float] = None,
        batch_size: Optional[int] = None,
        proxy: Optional[str] = None,
        proxy_from_env: bool = False,
    ) -> None:
        """A transport; see the class documentation."""
        self._ptr = None
        url = in_buffer(as_text(hub_url, "hub_url"))
        builder_out = new_out("medseal_transport_builder *")
        check(lib.medseal_transport_builder_new(url, len(url), builder_out))
        builder = builder_out[0]
        try:
            if isinstance(client_key, Pkcs11Key):
                # Before the facility directory, which then reads no client.key.
                module_b = in_buffer(as_path(client_key.module, "client_key.module"))
                token_b = in_buffer(as_text(client_key.token, "client_key.token"))
                key_b = in_buffer(as_text(client_key.key, "client_key.key"))
                pin_b = in_buffer(as_text(client_key.pin, "client_key.pin"))
                check(lib.medseal_transport_builder_set_client_key_pkcs11(
                    builder, module_b, len(module_b), token_b, len(token_b), key_b, len(key_b), pin_b, len(pin_b)))
                client_key = None
            if facility_dir is not None:
                path = in_buffer(as_path(facility_dir, "facility_dir"))
                check(lib.medseal_transport_builder_set_facility_dir(builder, path, len(path)))
            for value, setter, what in (
                (client_certificate, lib.medseal_transport_builder_set_client_certificate, "client_certificate"),
                (client_key, lib.medseal_transport_builder_set_client_key, "client_key"),
                (hub_ca, lib.medseal_transport_builder_set_hub_ca, "hub_ca"),
            ):
                if value is not None:
                    pem = in_buffer(as_bytes(value, what))
                    check(setter(builder, pem, len(pem)))
            if public_roots:
                check(lib.medseal_transport_builder_set_public_roots(builder, 1))
            for key, key_setter, what in (
                (receipt_key, lib.medseal_transport_builder_set_receipt_key, "receipt_key"),
                (tree_head_key, lib.medseal_transport_builder_set_tree_head_key, "tree_head_key"),
            ):
                if key is not None:
                    if not isinstance(key, Key):
                        raise TypeError("%s must be a medseal.Key, not %s" % (what, type(key).__name__))
                    check(key_setter(builder, key._p))
            if connect_timeout is not None:
                check(lib.medseal_transport_builder_set_connect_timeout_ms(
                    builder, _milliseconds(connect_timeout, "connect_timeout")))
            if timeout is not None:
                check(lib.medseal_transport_builder_set_timeout_ms(builder, _milliseconds(timeout, "timeout")))
            if batch_size is not None:
                check(lib.medseal_transport_builder_set_batch_size(
                    builder, as_int(batch_size, "batch_size", 0, 2**32 - 1)))
            if proxy is not None:
                proxy_url = in_buffer(as_text(proxy, "proxy"))
                check(lib.medseal_transport_builder_set_proxy(builder, proxy_url, len(proxy_url)))
            if proxy_from_env:
                check(lib.medseal_transport_builder_set_proxy_from_env(builder, 1))
            out = new_out("medseal_transport *")
            check(lib.medseal_transport_builder_build(builder, out))
            self._adopt(out[0])
        finally:
            lib.medseal_transport_builder_free(builder)


class Deliverer(Handle):
    """A background thread delivering an outbox's records to the hub (``medseal_deliverer``).
    Started when made (:meth:`Outbox.deliverer`): at once, when notified, when a record falls
    due and at least every poll interval. As a context manager it stops (finishing a batch
    in progress) and is freed on exit."""

    _free_name = "medseal_deliverer_free"

    def __init__(self, outbox: "Outbox", transport: Transport, poll_interval: float = 1.0) -> None:
        """Starts delivering from ``outbox`` through ``transport``."""
        self._ptr = None
        if not isinstance(transport, Transport):
            raise TypeError("transport must be a medseal.Transport, not %s" % type(transport).__name__)
        interval = _milliseconds(poll_interval, "poll_interval")
        out = new_out("medseal_deliverer *")
        check(lib.medseal_deliverer_start(outbox._p, transport._p, interval, out))
        self._adopt(out[0])

    def notify(self) -> None:
        """Asks for a delivery round now (e.g. after an enqueue); returns at once."""
        lib.medseal_deliverer_notify(self._p)

    def stop(self) -> None:
        """Stops the thread and waits for it (a batch in progress is finished first)."""
        lib.medseal_deliverer_stop(self._p)

    def last_report(self) -> DeliveryReport:
        """The report of the last round (an empty one if none ran yet)."""
        out = new_out("medseal_delivery_report *")
        check(lib.medseal_deliverer_last_report(self._p, out))
        return _take_report(out[0])


def _signing_key_array(signing_keys: Sequence[Key]) -> Tuple[Any, int, List[Any]]:
    """A ``medseal_key *[]`` for an outbox's 1 to 64 signing keys, its length, and what keeps it alive."""
    if isinstance(signing_keys, Key):
        signing_keys = [signing_keys]
    if not isinstance(signing_keys, (list, tuple)):
        raise TypeError("signing_keys must be a list of medseal.Key, not %s" % type(signing_keys).__name__)
    for key in signing_keys:
        if not isinstance(key, Key):
            raise TypeError("signing_keys must be medseal.Key objects, not %s" % type(key).__name__)
    if not 1 <= len(signing_keys) <= 64:
        raise ValueError("an outbox checks records with 1 to 64 signing keys, not %d" % len(signing_keys))
    array = ffi.new("const medseal_key *[]", [key._p for key in signing_keys])
    return array, len(signing_keys), [array, list(signing_keys)]


class Outbox(Handle):
    """A durable outbox, an SQLite file (``medseal_outbox``): records are sealed to the hub
    and stored in one transaction, then delivered by :meth:`deliver` or a :meth:`deliverer`.

    ``path``: the file (created if missing); ``source``: this facility's id (the envelopes'
    ``meta.source``); ``recipients``: the hub's recipient key first, then any others (public
    keys suffice; none: the outbox can be administered but not enqueue signed records).
    ``signing_keys``: the facility's own record-signing keys (1 to 64 :class:`Key`, public
    keys suffice, e.g. the facility directory's signing.pub). Always give them when enqueueing
    signed records: each record is then verified with them before it takes a sequence number,
    so an unsigned file, another hospital's record or a forged signature is refused
    (:class:`JwsError`, e.g. ``MEDSEAL_JWS_SIGNATURE_INVALID``) without leaving a hole in the
    facility's numbering, a hole only a signed tombstone can explain later.
    Safe to share between threads; several processes may open the same file.
    """

    _free_name = "medseal_outbox_free"

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]"],
        source: str,
        recipients: Sequence[RecipientKey] = (),
        *,
        signing_keys: Optional[Sequence[Key]] = None,
    ) -> None:
        """Opens (or creates) the outbox; :class:`OutboxError` if it cannot. ``signing_keys``
        empty or more than 64: ValueError; not :class:`Key` objects: TypeError."""
        self._ptr = None
        path_b = in_buffer(as_path(path, "path"))
        source_b = in_buffer(as_text(source, "source"))
        keys, count, _keep = recipient_array(recipients)
        out = new_out("medseal_outbox *")
        if signing_keys is None:
            check(lib.medseal_outbox_open(path_b, len(path_b), source_b, len(source_b), keys, count, out))
        else:
            own, n_own, _keep_own = _signing_key_array(signing_keys)
            check(lib.medseal_outbox_open_with_signing_keys(
                path_b, len(path_b), source_b, len(source_b), keys, count, own, n_own, out))
        self._adopt(out[0])

    def enqueue(self, record_id: str, signed_record: Union[BytesLike, str]) -> LocalReceipt:
        """Seals a signed record (a JWS, flattened or compact) with the next sequence number
        and stores it durably. The same id with the same bytes again returns the original
        receipt (``already_queued``); other bytes are :class:`OutboxError`
        ``MEDSEAL_OUTBOX_DUPLICATE``. Bytes that are not a signed record (a JWS carrying its
        payload whose protected header has ``typ`` ``medseal+jws`` and a ``sigT``) are
        :class:`JwsError` (``MEDSEAL_JWS_MALFORMED``, ``_HEADER``, ``_PAYLOAD_MISSING``, ...),
        using no sequence number. An outbox opened with ``signing_keys`` also verifies the
        signature with them first (another key's record or a forged signature: :class:`JwsError`,
        no number used); without them it does not (the hub does, and a record it refuses becomes
        a dead letter after taking a number)."""
        rid = in_buffer(as_text(record_id, "record_id"))
        record = in_buffer(as_bytes(signed_record, "signed_record"))
        out = new_out("medseal_local_receipt *")
        check(lib.medseal_outbox_enqueue_signed(self._p, rid, len(rid), record, len(record), out))
        return _take_local_receipt(out[0])

    def enqueue_sealed(self, envelope: BytesLike) -> LocalReceipt:
        """Stores an envelope sealed elsewhere: its source must be this outbox's and its
        sequence the next one (``MEDSEAL_OUTBOX_SEQUENCE``), addressed to the hub."""
        data = in_buffer(as_bytes(envelope, "envelope"))
        out = new_out("medseal_local_receipt *")
        check(lib.medseal_outbox_enqueue_sealed(self._p, data, len(data), out))
        return _take_local_receipt(out[0])

    def receipt(self, record_id: str) -> HubReceipt:
        """The hub's receipt and inclusion proof of delivered record ``record_id``, as the
        deliverer kept them once they verified (``medseal_outbox_get_receipt``): check them
        again later with :meth:`medseal.Receipt.verify`. :class:`OutboxError`
        ``MEDSEAL_OUTBOX_NOT_FOUND`` for an unknown record id, ``MEDSEAL_OUTBOX_STATE`` for a
        record not delivered yet (queued, in flight, a dead letter or discarded)."""
        rid = in_buffer(as_text(record_id, "record_id"))
        receipt = new_out("medseal_buffer *")
        proof = new_out("medseal_buffer *")
        check(lib.medseal_outbox_get_receipt(self._p, rid, len(rid), receipt, proof))
        receipt_bytes = take_buffer(receipt[0])
        return HubReceipt(receipt=receipt_bytes, inclusion_proof=take_buffer(proof[0]))

    def status(self) -> OutboxStatus:
        """Counts per state, next sequence number and due times."""
        out = new_out("medseal_outbox_status *")
        check(lib.medseal_outbox_get_status(self._p, out))
        snapshot = out[0]
        try:
            return OutboxStatus(
                queued=get_u64(lib.medseal_outbox_status_queued, snapshot),
                in_flight=get_u64(lib.medseal_outbox_status_in_flight, snapshot),
                delivered=get_u64(lib.medseal_outbox_status_delivered, snapshot),
                dead_letter=get_u64(lib.medseal_outbox_status_dead_letter, snapshot),
                discarded=get_u64(lib.medseal_outbox_status_discarded, snapshot),
                next_sequence=get_u64(lib.medseal_outbox_status_next_sequence, snapshot),
                oldest_queued_at=_optional_utc(get_optional_time(lib.medseal_outbox_status_oldest_queued_at, snapshot)),
                next_attempt_at=_optional_utc(get_optional_time(lib.medseal_outbox_status_next_attempt_at, snapshot)),
            )
        finally:
            lib.medseal_outbox_status_free(snapshot)

    def dead_letter_count(self) -> int:
        """The number of dead letters."""
        return get_u64(lib.medseal_outbox_dead_letter_count, self._p)

    def dead_letters(self) -> List[int]:
        """The outbox ids of the dead letters, oldest first."""
        written = ffi.new("size_t *")
        while True:
            rc = lib.medseal_outbox_dead_letter_ids(self._p, ffi.NULL, 0, written)
            if rc != _BUFFER_TOO_SMALL:
                check(rc)
                return []
            cap = int(written[0]) + 8
            ids = ffi.new("int64_t[]", cap)
            rc = lib.medseal_outbox_dead_letter_ids(self._p, ids, cap, written)
            if rc == _BUFFER_TOO_SMALL:
                continue  # grew meanwhile
            check(rc)
            return [int(ids[i]) for i in range(written[0])]

    def requeue(self, outbox_id: int) -> None:
        """Queues dead letter ``outbox_id`` again, due now (``MEDSEAL_OUTBOX_NOT_FOUND``,
        ``MEDSEAL_OUTBOX_STATE`` if it is not a dead letter)."""
        check(lib.medseal_outbox_requeue(self._p, as_int(outbox_id, "outbox_id", -(2**63), 2**63 - 1)))

    def discard(self, outbox_id: int, why: str) -> None:
        """Decides not to send dead letter ``outbox_id``, recording ``why`` (required)."""
        text = in_buffer(as_text(why, "why"))
        check(lib.medseal_outbox_discard(self._p, as_int(outbox_id, "outbox_id", -(2**63), 2**63 - 1), text, len(text)))

    def withdraw(self, outbox_id: int, reason: str) -> None:
        """Stops queued record ``outbox_id`` before delivery (it becomes a dead letter with
        code ``WITHDRAWN``); only a queued record (``MEDSEAL_OUTBOX_STATE`` otherwise)."""
        text = in_buffer(as_text(reason, "reason"))
        check(lib.medseal_outbox_withdraw(self._p, as_int(outbox_id, "outbox_id", -(2**63), 2**63 - 1), text, len(text)))

    def withdraw_signed(self, outbox_id: int, reason: str, signer: Signer) -> None:
        """Withdraws record ``outbox_id`` at the hub too: a tombstone signed with ``signer``'s
        key (the facility's record-signing key) over the record's id, sequence, source and
        ``reason`` is queued in its place, so the hub ledgers the number as withdrawn with the
        reason instead of leaving a gap. For a queued record or a dead letter
        (``MEDSEAL_OUTBOX_STATE`` otherwise, or when already withdrawn); ``reason`` is 1 to
        1024 bytes without control characters. The original envelope is kept unchanged."""
        if not isinstance(signer, Signer):
            raise TypeError(f"signer must be a medseal.Signer, not {type(signer).__name__}")
        text = in_buffer(as_text(reason, "reason"))
        outbox_id = as_int(outbox_id, "outbox_id", -(2**63), 2**63 - 1)
        check(lib.medseal_outbox_withdraw_signed(self._p, outbox_id, text, len(text), signer._p))

    def backup(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Copies the whole outbox to a new file (online backup; never replaces a file)."""
        target = in_buffer(as_path(path, "path"))
        check(lib.medseal_outbox_backup(self._p, target, len(target)))

    def deliver(self, transport: Transport) -> DeliveryReport:
        """Delivers every due record through ``transport`` (blocking; the GIL is released).
        A hub that cannot be reached is not raised: see the report's ``error``."""
        if not isinstance(transport, Transport):
            raise TypeError("transport must be a medseal.Transport, not %s" % type(transport).__name__)
        out = new_out("medseal_delivery_report *")
        check(lib.medseal_outbox_deliver(self._p, transport._p, out))
        return _take_report(out[0])

    def deliverer(self, transport: Transport, poll_interval: float = 1.0) -> Deliverer:
        """Starts a background :class:`Deliverer` (use it as a context manager)."""
        return Deliverer(self, transport, poll_interval)

