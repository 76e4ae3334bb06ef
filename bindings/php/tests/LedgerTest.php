<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\GeneralException;
use Medseal\Key;
use Medseal\Ledger;
use Medseal\LedgerException;
use Medseal\Receipt;
use PHPUnit\Framework\TestCase;

/** Ledger proofs and receipts made WITHOUT medseal (openssl, tests/c/ledger_fixtures.sh). */
final class LedgerTest extends TestCase
{
    private function expectLedger(callable $action, array $names): void
    {
        try {
            $action();
            $this->fail('no LedgerException');
        } catch (LedgerException $e) {
            $this->assertContains($e->getName(), $names);
        }
    }

    public function testLeafHashAndInclusion(): void
    {
        for ($i = 0; $i < 5; $i++) {
            $this->assertSame(Fixtures::ledgerFile("leaf-$i.bin"), Ledger::leafHash(Fixtures::ledgerFile("entry-$i.json")));
        }
        $leaf = Fixtures::ledgerFile('leaf-2.bin');
        $root = Fixtures::ledgerFile('root.bin');
        $path = Fixtures::ledgerFile('path.bin');
        Ledger::verifyInclusion($leaf, 2, 5, $path, $root);
        Ledger::verifyInclusion($leaf, 2, 5, str_split($path, 32), $root);
        $this->expectLedger(function () use ($leaf, $path, $root) {
            Ledger::verifyInclusion($leaf, 3, 5, $path, $root);
        }, ['MEDSEAL_LEDGER_PROOF_INVALID']);
        $this->expectLedger(function () use ($leaf, $path, $root) {
            Ledger::verifyInclusion($leaf, 7, 5, $path, $root);
        }, ['MEDSEAL_LEDGER_RANGE', 'MEDSEAL_LEDGER_PROOF_INVALID']);
        try {
            Ledger::verifyInclusion(substr($leaf, 0, 31), 2, 5, $path, $root);
            $this->fail('31-byte leaf');
        } catch (\InvalidArgumentException $e) {
            $this->assertStringContainsString('32 bytes', $e->getMessage());
        }
        $this->expectException(\InvalidArgumentException::class);
        Ledger::verifyInclusion($leaf, -1, 5, $path, $root);
    }

    public function testConsistency(): void
    {
        $n01 = Fixtures::ledgerFile('n01.bin');
        $n0123 = Fixtures::ledgerFile('n0123.bin');
        $n23 = Fixtures::ledgerFile('n23.bin');
        $leaf4 = Fixtures::ledgerFile('leaf-4.bin');
        $root = Fixtures::ledgerFile('root.bin');
        Ledger::verifyConsistency(2, 5, $n01, $root, [$n23, $leaf4]);
        Ledger::verifyConsistency(4, 5, $n0123, $root, $leaf4);
        $this->expectLedger(function () use ($n0123, $root, $n23, $leaf4) {
            Ledger::verifyConsistency(2, 5, $n0123, $root, [$n23, $leaf4]);
        }, ['MEDSEAL_LEDGER_PROOF_INVALID']);
        $this->expectLedger(function () use ($n01, $root) {
            Ledger::verifyConsistency(5, 2, $root, $n01, '');
        }, ['MEDSEAL_LEDGER_RANGE']);
    }

    public function testTreeHead(): void
    {
        $key = Key::load(Fixtures::ledgerFile('tree-head.pub.pem'));
        $head = Ledger::verifyTreeHead(Fixtures::ledgerFile('tree-head.jws'), $key);
        $this->assertSame(5, $head->treeSize);
        $this->assertSame(Fixtures::ledgerFile('root.bin'), $head->rootHash);
        $this->assertEquals(new \DateTimeImmutable('2026-01-01T01:00:00Z'), $head->timestamp);
        $this->expectLedger(function () {
            Ledger::verifyTreeHead(Fixtures::ledgerFile('tree-head.jws'), Key::load(Fixtures::ledgerFile('receipt.pub.pem')));
        }, ['MEDSEAL_LEDGER_TREE_HEAD_INVALID']);
    }

    public function testReceiptMadeByOpenssl(): void
    {
        $receiptKey = Key::load(Fixtures::ledgerFile('receipt.pub.pem'));
        $treeHeadKey = Key::load(Fixtures::ledgerFile('tree-head.pub.pem'));
        $digest = Fixtures::ledgerFile('digest-2.bin');
        $jws = Fixtures::ledgerFile('receipt.jws');
        $proof = Fixtures::ledgerFile('proof.json');
        $receipt = Receipt::verify($jws, $proof, $receiptKey, $treeHeadKey, 'hospital-a', 'rec-0002', $digest);
        $this->assertSame([2, 5, 3], [$receipt->ledgerIndex, $receipt->treeSize, $receipt->sequence]);
        $this->assertSame(['rec-0002', 'hospital-a', $digest], [$receipt->recordId, $receipt->source, $receipt->digest]);
        $this->assertEquals(new \DateTimeImmutable('2026-01-01T00:00:02Z'), $receipt->received);
        $text = Ledger::digestText($digest);
        $this->assertSame(43, strlen($text));
        $this->assertSame($digest, Receipt::verify($jws, $proof, $receiptKey, $treeHeadKey, 'hospital-a', 'rec-0002', $text)->digest);
        try {
            Receipt::verify($jws, $proof, $receiptKey, $treeHeadKey, 'hospital-b', 'rec-0002', $digest);
            $this->fail('another facility accepted');
        } catch (LedgerException $e) {
            $this->assertSame('MEDSEAL_LEDGER_RECEIPT_INVALID', $e->getName());
            $this->assertStringContainsString('hospital-b', $e->getDetail());
        }
        try {
            Receipt::verify($jws, $proof, $receiptKey, $treeHeadKey, '', 'rec-0002', $digest);
            $this->fail('empty source accepted');
        } catch (GeneralException $e) {
            $this->assertLessThan(100, $e->getCode());
        }
        $this->expectException(\InvalidArgumentException::class);
        Receipt::verify($jws, $proof, $receiptKey, $treeHeadKey, 'hospital-a', 'rec-0002', 'short');
    }
}
