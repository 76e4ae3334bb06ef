<?php

declare(strict_types=1);

namespace Medseal;

/**
 * The hub's receipt of a delivered record as the outbox kept it (Outbox::receipt()): receipt,
 * the compact JWS signed by the hub's receipt key, and inclusionProof, the protobuf
 * medseal.v1.InclusionProof that came with it. Both go as they are to Receipt::verify().
 */
final class HubReceipt
{
    /** @var string */
    public $receipt;
    /** @var string */
    public $inclusionProof;

    public function __construct(string $receipt, string $inclusionProof)
    {
        $this->receipt = $receipt;
        $this->inclusionProof = $inclusionProof;
    }
}
