<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/**
 * Routing metadata of an envelope, in clear but bound to the ciphertext (a value object).
 *
 * recordId and source: text of 1 to 256 bytes without control characters; sequence: 1 to
 * 2^53 - 1 (the source's counter); created: a DateTimeInterface or RFC 3339 text, default now;
 * contentType: default application/jose+json. Invalid values are SealException
 * MEDSEAL_SEAL_META_INVALID when sealing.
 */
final class Meta
{
    /** @var string */
    public $recordId;
    /** @var string */
    public $source;
    /** @var int */
    public $sequence;
    /** @var string|null RFC 3339 */
    public $created;
    /** @var string|null */
    public $contentType;

    /** @param \DateTimeInterface|string|null $created */
    public function __construct(string $recordId, string $source, int $sequence, $created = null, ?string $contentType = null)
    {
        if ($sequence < 0) {
            throw new \InvalidArgumentException("sequence must not be negative, not $sequence");
        }
        if ($created instanceof \DateTimeInterface) {
            $created = (new \DateTimeImmutable('@' . $created->getTimestamp()))->format('Y-m-d\TH:i:s\Z');
        } elseif ($created !== null && !is_string($created)) {
            throw new \TypeError('created must be a DateTimeInterface or RFC 3339 text, not ' . Native::typeName($created));
        }
        $this->recordId = $recordId;
        $this->source = $source;
        $this->sequence = $sequence;
        $this->created = $created;
        $this->contentType = $contentType;
    }

    /**
     * A new medseal_meta for these values; the caller frees it with medseal_meta_free.
     *
     * @internal
     */
    public function create(): CData
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_meta *');
        Native::check($ffi->medseal_meta_new(
            Native::bytes($this->recordId),
            strlen($this->recordId),
            Native::bytes($this->source),
            strlen($this->source),
            $this->sequence,
            \FFI::addr($out)
        ));
        try {
            if ($this->created !== null) {
                Native::check($ffi->medseal_meta_set_created($out, Native::bytes($this->created), strlen($this->created)));
            }
            if ($this->contentType !== null) {
                Native::check($ffi->medseal_meta_set_content_type(
                    $out,
                    Native::bytes($this->contentType),
                    strlen($this->contentType)
                ));
            }
        } catch (\Throwable $e) {
            $ffi->medseal_meta_free($out);
            throw $e;
        }
        return $out;
    }
}
