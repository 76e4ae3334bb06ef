<?php

declare(strict_types=1);

namespace Medseal;

/** A verified signed tree head (a value object): treeSize, timestamp (UTC) and rootHash (32 bytes). */
final class TreeHead
{
    /** @var int */
    public $treeSize;
    /** @var \DateTimeImmutable */
    public $timestamp;
    /** @var string */
    public $rootHash;

    public function __construct(int $treeSize, \DateTimeImmutable $timestamp, string $rootHash)
    {
        $this->treeSize = $treeSize;
        $this->timestamp = $timestamp;
        $this->rootHash = $rootHash;
    }
}
