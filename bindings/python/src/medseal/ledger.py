"""Hub receipts and RFC 9162 ledger proofs (``medseal.ledger``).

A receipt says the hub logged one record; the inclusion proof ties it to a signed tree head.
:class:`Receipt.verify` checks both and that the receipt names exactly the record sent. The
functions below check proofs by themselves (hashes are 32 bytes; an audit path is given as
concatenated hashes or a sequence of them).
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from typing import Any, Sequence, Union

from ._keys import Key
from ._native import BytesLike, as_bytes, as_int, as_text, borrowed, check, ffi, get_i64, get_u64, in_buffer, lib, new_out
from ._sign import utc

__all__ = ["Receipt", "TreeHead", "leaf_hash", "verify_inclusion", "verify_consistency", "verify_tree_head"]

HASH_BYTES = 32
PathLike = Union[BytesLike, Sequence[bytes]]


def _hash(value: Any, what: str) -> Any:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError("%s must be bytes, not %s" % (what, type(value).__name__))
    if len(bytes(value)) != HASH_BYTES:
        raise ValueError("%s must be %d bytes, not %d" % (what, HASH_BYTES, len(bytes(value))))
    return in_buffer(value)


def _path(path: PathLike) -> "tuple[Any, int]":
    if isinstance(path, (bytes, bytearray, memoryview)):
        data = bytes(path)
    elif isinstance(path, (list, tuple)):
        data = b"".join(bytes(_hash_bytes(item)) for item in path)
    else:
        raise TypeError("path must be bytes or a sequence of 32-byte hashes, not %s" % type(path).__name__)
    return ffi.from_buffer("uint8_t[]", data) if data else ffi.NULL, len(data)


def _hash_bytes(value: Any) -> bytes:
    _hash(value, "path hash")
    return bytes(value)


def leaf_hash(entry: Union[BytesLike, str]) -> bytes:
    """The RFC 9162 leaf hash of a ledger entry, ``SHA-256(0x00 || entry)`` (entry: its
    canonical JSON line exactly as served)."""
    data = in_buffer(as_bytes(entry, "entry"))
    out = ffi.new("uint8_t[]", HASH_BYTES)
    check(lib.medseal_ledger_leaf_hash(data, len(data), out))
    return ffi.buffer(out, HASH_BYTES)[:]  # type: ignore[no-any-return]


def verify_inclusion(leaf: bytes, index: int, size: int, path: PathLike, root: bytes) -> None:
    """Checks that ``path`` leads from leaf hash ``leaf`` at ``index`` to ``root``, the root
    of a tree of ``size`` leaves (RFC 9162 2.1.3.2). Raises :class:`LedgerError`
    (``MEDSEAL_LEDGER_PROOF_INVALID``, ``MEDSEAL_LEDGER_RANGE``)."""
    leaf_c = _hash(leaf, "leaf")
    root_c = _hash(root, "root")
    path_c, path_len = _path(path)
    check(lib.medseal_ledger_verify_inclusion(
        leaf_c, as_int(index, "index", 0, 2**64 - 1), as_int(size, "size", 0, 2**64 - 1), path_c, path_len, root_c))


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: PathLike) -> None:
    """Checks that the tree of ``first`` leaves (``first_root``) is a prefix of the tree of
    ``second`` leaves (``second_root``) with consistency ``path`` (RFC 9162 2.1.4.2).
    Raises :class:`LedgerError`."""
    first_c = _hash(first_root, "first_root")
    second_c = _hash(second_root, "second_root")
    path_c, path_len = _path(path)
    check(lib.medseal_ledger_verify_consistency(
        as_int(first, "first", 0, 2**64 - 1), as_int(second, "second", 0, 2**64 - 1), first_c, second_c, path_c, path_len))


@dataclass(frozen=True)
class TreeHead:
    """A verified signed tree head: ``tree_size``, ``timestamp`` (UTC) and ``root_hash``."""

    tree_size: int
    timestamp: datetime.datetime
    root_hash: bytes


def verify_tree_head(jws: Union[BytesLike, str], tree_head_key: Key) -> TreeHead:
    """Verifies a signed tree head (compact JWS, typ ``medseal-tree-head+jws``) with the hub's
    tree-head key. Raises :class:`LedgerError` (``MEDSEAL_LEDGER_TREE_HEAD_INVALID``)."""
    if not isinstance(tree_head_key, Key):
        raise TypeError("tree_head_key must be a medseal.Key, not %s" % type(tree_head_key).__name__)
    data = in_buffer(as_bytes(jws, "jws"))
    size = ffi.new("uint64_t *")
    timestamp = ffi.new("int64_t *")
    root = ffi.new("uint8_t[]", HASH_BYTES)
    check(lib.medseal_ledger_verify_tree_head(data, len(data), tree_head_key._p, size, timestamp, root))
    return TreeHead(int(size[0]), utc(int(timestamp[0])), ffi.buffer(root, HASH_BYTES)[:])


def digest_text(digest: Union[bytes, bytearray, str]) -> str:
    """An envelope digest as receipts write it: base64url of the 32 bytes, no padding."""
    if isinstance(digest, str):
        return digest
    if isinstance(digest, (bytes, bytearray)):
        if len(digest) != HASH_BYTES:
            raise ValueError("digest must be %d bytes, not %d" % (HASH_BYTES, len(digest)))
        return base64.urlsafe_b64encode(bytes(digest)).rstrip(b"=").decode("ascii")
    raise TypeError("digest must be bytes or str, not %s" % type(digest).__name__)


@dataclass(frozen=True)
class Receipt:
    """A hub receipt that passed :meth:`verify`: the record's ``ledger_index``, the
    ``tree_size`` of its proof, the facility's ``sequence``, when the hub ``received`` it
    (UTC), and the ``record_id``, ``source`` and envelope ``digest`` (32 bytes) it names."""

    ledger_index: int
    tree_size: int
    sequence: int
    received: datetime.datetime
    record_id: str
    source: str
    digest: bytes

    @classmethod
    def verify(
        cls,
        receipt: Union[BytesLike, str],
        inclusion_proof: Union[BytesLike, str],
        *,
        receipt_key: Key,
        tree_head_key: Key,
        source: str,
        record_id: str,
        digest: Union[bytes, bytearray, str],
    ) -> "Receipt":
        """Checks what the hub returned for one record: ``receipt`` (compact JWS) verifies
        with ``receipt_key`` and names exactly ``source``, ``record_id`` and ``digest`` (the
        SHA-256 of the protobuf envelope: 32 bytes, or its base64url text, e.g.
        :attr:`LocalReceipt.digest`); ``inclusion_proof`` (protobuf or JSON mapping) carries a
        tree head verifying with ``tree_head_key`` and an audit path to the receipt's entry.
        Raises :class:`LedgerError` (``MEDSEAL_LEDGER_RECEIPT_INVALID`` for another record,
        facility or digest; ``_TREE_HEAD_INVALID``; ``_PROOF_INVALID``)."""
        for key, what in ((receipt_key, "receipt_key"), (tree_head_key, "tree_head_key")):
            if not isinstance(key, Key):
                raise TypeError("%s must be a medseal.Key, not %s" % (what, type(key).__name__))
        jws = in_buffer(as_bytes(receipt, "receipt"))
        proof = in_buffer(as_bytes(inclusion_proof, "inclusion_proof"))
        source_b = in_buffer(as_text(source, "source"))
        record_b = in_buffer(as_text(record_id, "record_id"))
        digest_b = in_buffer(digest_text(digest).encode("ascii"))
        out = new_out("medseal_receipt *")
        check(lib.medseal_receipt_verify(
            jws, len(jws), proof, len(proof), receipt_key._p, tree_head_key._p,
            source_b, len(source_b), record_b, len(record_b), digest_b, len(digest_b), out))
        pointer = out[0]
        try:
            digest_out = ffi.new("uint8_t[]", HASH_BYTES)
            check(lib.medseal_receipt_digest(pointer, digest_out))
            return cls(
                ledger_index=get_u64(lib.medseal_receipt_ledger_index, pointer),
                tree_size=get_u64(lib.medseal_receipt_tree_size, pointer),
                sequence=get_u64(lib.medseal_receipt_sequence, pointer),
                received=utc(get_i64(lib.medseal_receipt_received, pointer)),
                record_id=borrowed(lib.medseal_receipt_record_id, pointer).decode("utf-8"),
                source=borrowed(lib.medseal_receipt_source, pointer).decode("utf-8"),
                digest=ffi.buffer(digest_out, HASH_BYTES)[:],
            )
        finally:
            lib.medseal_receipt_free(pointer)
