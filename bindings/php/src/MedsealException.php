<?php

declare(strict_types=1);

namespace Medseal;

/**
 * An error reported by libmedseal.
 *
 * getCode() is the medseal_result code (e.g. 307), getName() the constant's name as the library
 * gives it (medseal_result_name(), e.g. "MEDSEAL_JWS_SIGNATURE_INVALID"), getDetail() the
 * library's message for this failure (medseal_last_error_message(); may be empty) and
 * getMessage() "NAME: detail". One subclass per block of codes (code / 100): see {@see forCode()}.
 */
class MedsealException extends \RuntimeException
{
    /** @var string */
    private $name;
    /** @var string */
    private $detail;

    public function __construct(int $code, string $name, string $detail, ?\Throwable $previous = null)
    {
        parent::__construct($detail === '' ? $name : "$name: $detail", $code, $previous);
        $this->name = $name;
        $this->detail = $detail;
    }

    /** The result code's name, e.g. "MEDSEAL_JWS_SIGNATURE_INVALID" (from the library). */
    public function getName(): string
    {
        return $this->name;
    }

    /** The library's message for this failure, without the name (may be empty). */
    public function getDetail(): string
    {
        return $this->detail;
    }

    /** The library's static description of this exception's code (medseal_result_describe()). */
    public function getDescription(): string
    {
        return Medseal::resultDescription($this->getCode());
    }

    /**
     * The exception for result `$code`, of the class of its block; `$detail` defaults to this
     * thread's last error message of the library.
     */
    public static function forCode(int $code, ?string $detail = null): self
    {
        if ($detail === null) {
            $detail = Native::lastErrorMessage();
        }
        $class = self::classFor($code);
        return new $class($code, Medseal::resultName($code), $detail);
    }

    /**
     * The exception class of result `$code`, chosen by its block (code / 100).
     *
     * @return class-string<MedsealException>
     */
    public static function classFor(int $code): string
    {
        if ($code <= 0) {
            return self::class;
        }
        switch (intdiv($code, 100)) {
            case 0:
                return GeneralException::class;
            case 1:
                return JsonException::class;
            case 2:
                return KeyException::class;
            case 3:
                return JwsException::class;
            case 4:
                return SealException::class;
            case 5:
                return TrustException::class;
            case 6:
                return SignerException::class;
            case 7:
                return OutboxException::class;
            case 8:
                return TransportException::class;
            case 9:
                return LedgerException::class;
            default:
                return self::class;
        }
    }
}
