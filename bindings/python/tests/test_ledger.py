"""Ledger proofs and receipts made WITHOUT medseal (openssl, tests/c/ledger_fixtures.sh)."""

from __future__ import annotations

import datetime

import pytest

import medseal
from medseal import ledger

from conftest import Pki


def test_leaf_hash_and_inclusion(pki: Pki) -> None:
    d = pki.ledger
    for i in range(5):
        assert ledger.leaf_hash((d / ("entry-%d.json" % i)).read_bytes()) == (d / ("leaf-%d.bin" % i)).read_bytes()
    leaf = (d / "leaf-2.bin").read_bytes()
    root = (d / "root.bin").read_bytes()
    path = (d / "path.bin").read_bytes()
    ledger.verify_inclusion(leaf, 2, 5, path, root)
    ledger.verify_inclusion(leaf, 2, 5, [path[:32], path[32:64], path[64:]], root)
    with pytest.raises(medseal.LedgerError) as caught:
        ledger.verify_inclusion(leaf, 3, 5, path, root)
    assert caught.value.name == "MEDSEAL_LEDGER_PROOF_INVALID"
    with pytest.raises(medseal.LedgerError) as caught:
        ledger.verify_inclusion(leaf, 7, 5, path, root)
    assert caught.value.name in ("MEDSEAL_LEDGER_RANGE", "MEDSEAL_LEDGER_PROOF_INVALID")
    with pytest.raises(ValueError):
        ledger.verify_inclusion(leaf[:31], 2, 5, path, root)
    with pytest.raises(TypeError):
        ledger.verify_inclusion("leaf", 2, 5, path, root)  # type: ignore[arg-type]


def test_consistency(pki: Pki) -> None:
    d = pki.ledger
    leaves = [(d / ("leaf-%d.bin" % i)).read_bytes() for i in range(5)]
    n01 = (d / "n01.bin").read_bytes()
    n0123 = (d / "n0123.bin").read_bytes()
    root = (d / "root.bin").read_bytes()
    # Tree of 2 (root n01) is a prefix of tree of 5: path = [n23, leaf4].
    n23 = (d / "n23.bin").read_bytes()
    ledger.verify_consistency(2, 5, n01, root, [n23, leaves[4]])
    ledger.verify_consistency(4, 5, n0123, root, leaves[4])
    with pytest.raises(medseal.LedgerError) as caught:
        ledger.verify_consistency(2, 5, n0123, root, [n23, leaves[4]])
    assert caught.value.name == "MEDSEAL_LEDGER_PROOF_INVALID"
    with pytest.raises(medseal.LedgerError) as caught:
        ledger.verify_consistency(5, 2, root, n01, b"")
    assert caught.value.name == "MEDSEAL_LEDGER_RANGE"


def test_tree_head(pki: Pki) -> None:
    d = pki.ledger
    key = medseal.Key.load((d / "tree-head.pub.pem").read_bytes())
    head = ledger.verify_tree_head((d / "tree-head.jws").read_bytes(), key)
    assert head.tree_size == 5 and head.root_hash == (d / "root.bin").read_bytes()
    assert head.timestamp == datetime.datetime(2026, 1, 1, 1, 0, tzinfo=datetime.timezone.utc)
    with pytest.raises(medseal.LedgerError) as caught:
        ledger.verify_tree_head((d / "tree-head.jws").read_bytes(), medseal.Key.load((d / "receipt.pub.pem").read_bytes()))
    assert caught.value.name == "MEDSEAL_LEDGER_TREE_HEAD_INVALID"


def test_receipt_made_by_openssl(pki: Pki) -> None:
    d = pki.ledger
    receipt_key = medseal.Key.load((d / "receipt.pub.pem").read_bytes())
    tree_head_key = medseal.Key.load((d / "tree-head.pub.pem").read_bytes())
    digest = (d / "digest-2.bin").read_bytes()
    receipt = medseal.Receipt.verify(
        (d / "receipt.jws").read_bytes(), (d / "proof.json").read_bytes(),
        receipt_key=receipt_key, tree_head_key=tree_head_key,
        source="hospital-a", record_id="rec-0002", digest=digest,
    )
    assert (receipt.ledger_index, receipt.tree_size, receipt.sequence) == (2, 5, 3)
    assert receipt.record_id == "rec-0002" and receipt.source == "hospital-a" and receipt.digest == digest
    assert receipt.received == datetime.datetime(2026, 1, 1, 0, 0, 2, tzinfo=datetime.timezone.utc)
    text = ledger.digest_text(digest)
    assert medseal.Receipt.verify(
        (d / "receipt.jws").read_text(), (d / "proof.json").read_text(), receipt_key=receipt_key,
        tree_head_key=tree_head_key, source="hospital-a", record_id="rec-0002", digest=text,
    ).digest == digest
    with pytest.raises(medseal.LedgerError) as caught:
        medseal.Receipt.verify(
            (d / "receipt.jws").read_bytes(), (d / "proof.json").read_bytes(), receipt_key=receipt_key,
            tree_head_key=tree_head_key, source="hospital-b", record_id="rec-0002", digest=digest,
        )
    assert caught.value.name == "MEDSEAL_LEDGER_RECEIPT_INVALID" and "hospital-b" in caught.value.message
    with pytest.raises(medseal.GeneralError):
        medseal.Receipt.verify(
            (d / "receipt.jws").read_bytes(), (d / "proof.json").read_bytes(), receipt_key=receipt_key,
            tree_head_key=tree_head_key, source="", record_id="rec-0002", digest=digest,
        )
