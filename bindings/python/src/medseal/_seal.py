"""Sealed envelopes: routing metadata, seal, decode and open."""

from __future__ import annotations

import contextlib
import datetime
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from ._keys import RecipientKey
from ._native import (
    BytesLike,
    Handle,
    as_bytes,
    as_int,
    as_text,
    call_buffer,
    check,
    enum_values,
    ffi,
    in_buffer,
    lib,
    new_out,
)

if TYPE_CHECKING:
    from ._sign import Verified, Verifier

#: AEADs, from the header's ``medseal_aead``: ``"aes-256-gcm"`` (default), ``"chacha20-poly1305"``.
AEADS: Dict[str, int] = enum_values("MEDSEAL_AEAD_", "medseal_aead")
#: Envelope encodings, from the header's ``medseal_envelope_encoding``: ``"json"``, ``"protobuf"``.
ENCODINGS: Dict[str, int] = enum_values("MEDSEAL_ENVELOPE_", "medseal_envelope_encoding")

_BUFFER_TOO_SMALL = int(lib.MEDSEAL_BUFFER_TOO_SMALL)
# The protobuf envelope's size beyond the plaintext that seal() allows for before asking the
# library: the tag, the meta and framing (fixed), and per recipient its kid and encapsulated key.
_SEAL_ROOM = 2048
_SEAL_ROOM_PER_RECIPIENT = 128
# Output memory the library fills completely before it is read: no need to zero it first.
_new_unzeroed = ffi.new_allocator(should_clear_after_alloc=False)


def aead_id(aead: str) -> int:
    """The ``MEDSEAL_AEAD_*`` value of an AEAD name."""
    try:
        return AEADS[aead]
    except (KeyError, TypeError):
        raise ValueError("unknown AEAD %r (one of %s)" % (aead, ", ".join(sorted(AEADS)))) from None


def encoding_id(encoding: str) -> int:
    """The ``MEDSEAL_ENVELOPE_*`` value of an encoding name."""
    try:
        return ENCODINGS[encoding]
    except (KeyError, TypeError):
        raise ValueError("unknown envelope encoding %r (one of %s)" % (encoding, ", ".join(sorted(ENCODINGS)))) from None


def recipient_array(recipients: Sequence[RecipientKey]) -> Tuple[Any, int, List[Any]]:
    """A ``medseal_recipient_key *[]`` for the keys, its length, and what keeps it alive."""
    if isinstance(recipients, RecipientKey):
        recipients = [recipients]
    if not isinstance(recipients, (list, tuple)):
        raise TypeError("recipients must be a list of medseal.RecipientKey")
    pointers = []
    for key in recipients:
        if not isinstance(key, RecipientKey):
            raise TypeError("recipients must be medseal.RecipientKey objects, not %s" % type(key).__name__)
        pointers.append(key._p)
    if not pointers:
        return ffi.NULL, 0, []
    array = ffi.new("const medseal_recipient_key *[]", pointers)
    return array, len(pointers), [array, list(recipients)]


def _created_text(created: Union[datetime.datetime, str]) -> str:
    if isinstance(created, datetime.datetime):
        if created.tzinfo is None:
            created = created.replace(tzinfo=datetime.timezone.utc)
        return created.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(created, str):
        return created
    raise TypeError("created must be a datetime or RFC 3339 text, not %s" % type(created).__name__)


@dataclass(frozen=True)
class Meta:
    """Routing metadata of an envelope, in clear but bound to the ciphertext.

    ``record_id`` and ``source``: text of 1 to 256 bytes without control characters;
    ``sequence``: 1 to 2**53 - 1 (the source's counter); ``created``: a datetime (naive means
    UTC) or RFC 3339 text, default now; ``content_type``: default ``application/jose+json``.
    Invalid values raise :class:`SealError` (``MEDSEAL_SEAL_META_INVALID``) when sealing.
    """

    record_id: str
    source: str
    sequence: int
    created: Optional[Union[datetime.datetime, str]] = None
    content_type: Optional[str] = None

    @contextlib.contextmanager
    def _handle(self) -> Iterator[Any]:
        record_id = in_buffer(as_text(self.record_id, "record_id"))
        source = in_buffer(as_text(self.source, "source"))
        sequence = as_int(self.sequence, "sequence", 0, 2**64 - 1)
        out = new_out("medseal_meta *")
        check(lib.medseal_meta_new(record_id, len(record_id), source, len(source), sequence, out))
        meta = out[0]
        try:
            if self.created is not None:
                created = in_buffer(_created_text(self.created).encode("utf-8"))
                check(lib.medseal_meta_set_created(meta, created, len(created)))
            if self.content_type is not None:
                content_type = in_buffer(as_text(self.content_type, "content_type"))
                check(lib.medseal_meta_set_content_type(meta, content_type, len(content_type)))
            yield meta
        finally:
            lib.medseal_meta_free(meta)


def _check_meta(meta: Any) -> Meta:
    if not isinstance(meta, Meta):
        raise TypeError("meta must be a medseal.Meta, not %s" % type(meta).__name__)
    return meta


def seal(
    plaintext: Union[BytesLike, str],
    meta: Meta,
    recipients: Sequence[RecipientKey],
    *,
    aead: str = "aes-256-gcm",
    encoding: str = "protobuf",
) -> bytes:
    """Seals ``plaintext`` to ``recipients`` (1 to 16 keys; public keys suffice), binding
    ``meta``; returns the envelope (``encoding``: ``"protobuf"`` or ``"json"``). ``aead``:
    ``"aes-256-gcm"`` or ``"chacha20-poly1305"``. Plaintexts above 64 MiB are
    :class:`SealError` (``MEDSEAL_SEAL_TOO_LARGE``)."""
    _check_meta(meta)
    data = in_buffer(as_bytes(plaintext, "plaintext"))
    keys, count, _keep = recipient_array(recipients)
    c_aead, c_encoding = aead_id(aead), encoding_id(encoding)
    with meta._handle() as c_meta:
        if c_encoding != ENCODINGS["protobuf"]:
            return call_buffer(lib.medseal_envelope_seal, data, len(data), c_meta, keys, count, c_aead, c_encoding)
        # Protobuf: seal into memory this binding owns and copy it once into the bytes returned
        # (faster than a library buffer for megabyte records: no library allocation, no
        # zeroizing free). The room guessed fits any envelope of ordinary metadata; when it
        # does not, the library refuses before any cryptography and says the exact size.
        written = ffi.new("size_t *")
        size = len(data) + _SEAL_ROOM + _SEAL_ROOM_PER_RECIPIENT * count
        out = _new_unzeroed("uint8_t[]", size)
        rc = lib.medseal_envelope_seal_into(data, len(data), c_meta, keys, count, c_aead, out, size, written)
        if rc == _BUFFER_TOO_SMALL:
            size = int(written[0])
            out = _new_unzeroed("uint8_t[]", size)
            rc = lib.medseal_envelope_seal_into(data, len(data), c_meta, keys, count, c_aead, out, size, written)
        check(rc)
        return ffi.buffer(out, written[0])[:]  # type: ignore[no-any-return]


def sealed_size(plaintext: Union[BytesLike, str], meta: Meta, recipients: Sequence[RecipientKey]) -> int:
    """The exact length of the protobuf envelope :func:`seal_into` writes for these inputs."""
    _check_meta(meta)
    data = in_buffer(as_bytes(plaintext, "plaintext"))
    keys, count, _keep = recipient_array(recipients)
    written = ffi.new("size_t *")
    with meta._handle() as c_meta:
        rc = lib.medseal_envelope_seal_into(
            data, len(data), c_meta, keys, count, AEADS["aes-256-gcm"], ffi.NULL, 0, written)
        if rc != _BUFFER_TOO_SMALL:
            check(rc)
    return int(written[0])


def _writable(out: Any) -> Any:
    if not isinstance(out, (bytearray, memoryview)):
        raise TypeError("out must be a bytearray or writable memoryview, not %s" % type(out).__name__)
    try:
        return ffi.from_buffer("uint8_t[]", out, require_writable=True)
    except (TypeError, BufferError) as error:
        raise TypeError("out must be writable and contiguous: %s" % error) from None


def seal_into(
    plaintext: Union[BytesLike, str],
    meta: Meta,
    recipients: Sequence[RecipientKey],
    out: Union[bytearray, memoryview],
    *,
    aead: str = "aes-256-gcm",
) -> int:
    """Seals like :func:`seal` (protobuf) into caller memory ``out`` (a bytearray or writable
    memoryview; see :func:`sealed_size`), copying the record once. Returns the envelope's
    length. Too small an ``out`` is :class:`GeneralError` ``MEDSEAL_BUFFER_TOO_SMALL``."""
    _check_meta(meta)
    data = in_buffer(as_bytes(plaintext, "plaintext"))
    target = _writable(out)
    keys, count, _keep = recipient_array(recipients)
    c_aead = aead_id(aead)
    written = ffi.new("size_t *")
    with meta._handle() as c_meta:
        check(lib.medseal_envelope_seal_into(data, len(data), c_meta, keys, count, c_aead, target, len(target), written))
    return int(written[0])


def open_bytes(key: RecipientKey, envelope: Union[BytesLike, str]) -> bytes:
    """Decodes and opens an encoded envelope, returning the plaintext: the library decrypts
    into memory this binding owns, copied once into the bytes returned. One library call: an
    envelope is always longer than its plaintext (the AEAD tag at least), so its length is
    enough room."""
    if not isinstance(key, RecipientKey):
        raise TypeError("key must be a medseal.RecipientKey, not %s" % type(key).__name__)
    data = in_buffer(as_bytes(envelope, "envelope"))
    written = ffi.new("size_t *")
    size = len(data)
    out = _new_unzeroed("uint8_t[]", max(size, 1))
    rc = lib.medseal_recipient_key_open_into(key._p, data, size, out, size, written)
    if rc == _BUFFER_TOO_SMALL:  # not expected (see above); the library said how much it needs
        size = int(written[0])
        out = _new_unzeroed("uint8_t[]", size)
        rc = lib.medseal_recipient_key_open_into(key._p, data, len(data), out, size, written)
    check(rc)
    return ffi.buffer(out, written[0])[:]  # type: ignore[no-any-return]


def open_into(key: RecipientKey, envelope: BytesLike, out: Union[bytearray, memoryview]) -> int:
    """Decodes and opens ``envelope`` with ``key`` into caller memory ``out``, returning the
    plaintext's length (a protobuf envelope's ciphertext is read in place). See
    :func:`plaintext_size`."""
    if not isinstance(key, RecipientKey):
        raise TypeError("key must be a medseal.RecipientKey, not %s" % type(key).__name__)
    data = in_buffer(as_bytes(envelope, "envelope"))
    target = _writable(out)
    written = ffi.new("size_t *")
    check(lib.medseal_recipient_key_open_into(key._p, data, len(data), target, len(target), written))
    return int(written[0])


def plaintext_size(key: RecipientKey, envelope: BytesLike) -> int:
    """The plaintext length of ``envelope`` (for sizing the buffer of :func:`open_into`)."""
    if not isinstance(key, RecipientKey):
        raise TypeError("key must be a medseal.RecipientKey, not %s" % type(key).__name__)
    data = in_buffer(as_bytes(envelope, "envelope"))
    written = ffi.new("size_t *")
    rc = lib.medseal_recipient_key_open_into(key._p, data, len(data), ffi.NULL, 0, written)
    if rc != _BUFFER_TOO_SMALL:
        check(rc)
    return int(written[0])


class Envelope(Handle):
    """A decoded sealed envelope (``medseal_envelope``), JSON or protobuf. Decoding checks the
    structure, suite and meta, not the ciphertext. Immutable; share between threads freely."""

    _free_name = "medseal_envelope_free"

    def __init__(self, data: Union[BytesLike, str]) -> None:
        """Decodes ``data`` (:class:`SealError` if it is not an envelope)."""
        self._ptr = None
        raw = in_buffer(as_bytes(data, "envelope"))
        out = new_out("medseal_envelope *")
        check(lib.medseal_envelope_decode(raw, len(raw), out))
        self._adopt(out[0])

    @classmethod
    def decode(cls, data: Union[BytesLike, str]) -> "Envelope":
        """Same as ``Envelope(data)``."""
        return cls(data)

    @property
    def meta_json(self) -> bytes:
        """The routing metadata as canonical JSON (not authenticated until opened)."""
        return call_buffer(lib.medseal_envelope_meta, self._p)

    @property
    def meta(self) -> Meta:
        """The routing metadata as a :class:`Meta` (``created`` as its RFC 3339 text)."""
        fields: Dict[str, Any] = json.loads(self.meta_json)
        return Meta(
            record_id=fields["record_id"],
            source=fields["source"],
            sequence=fields["sequence"],
            created=fields.get("created"),
            content_type=fields.get("content_type"),
        )

    def open(self, key: RecipientKey) -> bytes:
        """Opens with the private ``key``: :class:`SealError` ``MEDSEAL_SEAL_WRONG_RECIPIENT``
        if not addressed to it, ``MEDSEAL_SEAL_DECRYPT_FAILED`` if anything was altered."""
        if not isinstance(key, RecipientKey):
            raise TypeError("key must be a medseal.RecipientKey, not %s" % type(key).__name__)
        return call_buffer(lib.medseal_envelope_open, self._p, key._p)

    def open_into(self, key: RecipientKey, out: Union[bytearray, memoryview]) -> int:
        """Opens into caller memory ``out``; returns the plaintext's length."""
        if not isinstance(key, RecipientKey):
            raise TypeError("key must be a medseal.RecipientKey, not %s" % type(key).__name__)
        target = _writable(out)
        written = ffi.new("size_t *")
        check(lib.medseal_envelope_open_into(self._p, key._p, target, len(target), written))
        return int(written[0])

    def open_verified(self, key: RecipientKey, verifier: "Verifier") -> "Verified":
        """Opens a signed record (content type ``application/jose+json``) and verifies the JWS
        inside with ``verifier``; the payload is the canonical record."""
        from ._sign import Verifier, take_verified

        if not isinstance(key, RecipientKey):
            raise TypeError("key must be a medseal.RecipientKey, not %s" % type(key).__name__)
        if not isinstance(verifier, Verifier):
            raise TypeError("verifier must be a medseal.Verifier, not %s" % type(verifier).__name__)
        out = new_out("medseal_verified *")
        check(lib.medseal_envelope_open_verified(self._p, key._p, verifier._p, out))
        return take_verified(out[0])
