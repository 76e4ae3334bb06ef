<?php

declare(strict_types=1);

namespace Medseal;

/**
 * A JSON number written exactly as given ("6.50", "1e-7", "12345678901234567890"), for records
 * built as PHP arrays: PHP floats do not say how many digits they mean, so they are refused
 * unless 'allowFloats' is set. Under the strict policy "6.50" is still refused as lossy
 * (MEDSEAL_JSON_LOSSY_NUMBER); write "6.5".
 */
final class JsonNumber implements \JsonSerializable
{
    /** @var string */
    private $text;

    public function __construct(string $text)
    {
        if (preg_match('/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/D', $text) !== 1) {
            throw new \InvalidArgumentException("not a JSON number: '$text'");
        }
        $this->text = $text;
    }

    public function __toString(): string
    {
        return $this->text;
    }

    /** @return float the nearest float (for json_encode) */
    public function jsonSerialize(): float
    {
        return (float) $this->text;
    }
}
