<?php

declare(strict_types=1);

namespace Medseal;

/**
 * A hub receipt that passed verify() (a value object): the record's ledgerIndex, the treeSize of
 * its proof, the facility's sequence, when the hub received it (UTC), and the recordId, source
 * and envelope digest (32 bytes) it names.
 */
final class Receipt
{
    /** @var int */
    public $ledgerIndex;
    /** @var int */
    public $treeSize;
    /** @var int */
    public $sequence;
    /** @var \DateTimeImmutable */
    public $received;
    /** @var string */
    public $recordId;
    /** @var string */
    public $source;
    /** @var string 32 bytes */
    public $digest;

    private function __construct()
    {
    }

    /**
     * Checks what the hub returned for one record: `$receipt` (compact JWS) verifies with
     * `$receiptKey` and names exactly `$source`, `$recordId` and `$digest` (SHA-256 of the
     * protobuf envelope: 32 bytes or base64url text, e.g. LocalReceipt::$digest);
     * `$inclusionProof` carries a tree head verifying with `$treeHeadKey` and an audit path to
     * the receipt's entry.
     *
     * @throws LedgerException MEDSEAL_LEDGER_RECEIPT_INVALID (another record, facility or digest),
     *         _TREE_HEAD_INVALID, _PROOF_INVALID
     */
    public static function verify(
        string $receipt,
        string $inclusionProof,
        Key $receiptKey,
        Key $treeHeadKey,
        string $source,
        string $recordId,
        string $digest
    ): self {
        $digestText = Ledger::digestText($digest);
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_receipt *');
        Native::check($ffi->medseal_receipt_verify(
            Native::bytes($receipt),
            strlen($receipt),
            Native::bytes($inclusionProof),
            strlen($inclusionProof),
            $receiptKey->handle(),
            $treeHeadKey->handle(),
            Native::bytes($source),
            strlen($source),
            Native::bytes($recordId),
            strlen($recordId),
            Native::bytes($digestText),
            strlen($digestText),
            \FFI::addr($out)
        ));
        try {
            $digestOut = $ffi->new('uint8_t[32]');
            Native::check($ffi->medseal_receipt_digest($out, $digestOut));
            $r = new self();
            $r->ledgerIndex = Native::getInt('medseal_receipt_ledger_index', $out);
            $r->treeSize = Native::getInt('medseal_receipt_tree_size', $out);
            $r->sequence = Native::getInt('medseal_receipt_sequence', $out);
            $r->received = Native::utc(Native::getInt('medseal_receipt_received', $out, 'int64_t'));
            $r->recordId = Native::borrowed('medseal_receipt_record_id', $out);
            $r->source = Native::borrowed('medseal_receipt_source', $out);
            $r->digest = \FFI::string($digestOut, Ledger::HASH_BYTES);
            return $r;
        } finally {
            $ffi->medseal_receipt_free($out);
        }
    }
}
