<?php

declare(strict_types=1);

namespace Medseal;

/**
 * Verifies JWS against trusted keys, certificate anchors and a trust list (medseal_verifier).
 * Immutable.
 *
 * `$keys`: Key objects trusted directly; options: 'trustAnchors' (CA certificates, PEM, one or
 * more, or one DER) for JWS carrying x5c; 'trustList' (a verified TrustList); and the
 * canonicalization options of detached documents ('plain', 'allowLossyNumbers', 'normalizeNfc',
 * 'fhir'). At least one source of trust is needed (JwsException MEDSEAL_JWS_NO_KEYS).
 */
final class Verifier extends Handle
{
    private const OPTIONS = ['trustAnchors', 'trustList', 'plain', 'allowLossyNumbers', 'normalizeNfc', 'fhir'];

    /**
     * @param list<Key>|Key $keys
     * @param array{trustAnchors?: string, trustList?: TrustList, plain?: bool, allowLossyNumbers?: bool, normalizeNfc?: bool, fhir?: ?string} $options
     */
    public function __construct($keys = [], array $options = [])
    {
        Native::checkOptions($options, self::OPTIONS, 'Verifier');
        if ($keys instanceof Key) {
            $keys = [$keys];
        }
        if (!is_array($keys)) {
            throw new \TypeError('keys must be a list of Medseal\Key, not ' . Native::typeName($keys));
        }
        foreach ($keys as $key) {
            if (!$key instanceof Key) {
                throw new \TypeError('keys must be Medseal\Key objects, not ' . Native::typeName($key));
            }
        }
        $trustList = $options['trustList'] ?? null;
        if ($trustList !== null && !$trustList instanceof TrustList) {
            throw new \TypeError('trustList must be a Medseal\TrustList, not ' . Native::typeName($trustList));
        }
        $anchors = $options['trustAnchors'] ?? null;
        if ($anchors !== null) {
            $anchors = Native::text($anchors, 'trustAnchors');
        }
        $flags = Native::canonFlags($options);
        $ffi = Library::ffi();
        $builder = $ffi->new('struct medseal_verifier_builder *');
        Native::check($ffi->medseal_verifier_builder_new(\FFI::addr($builder)));
        try {
            foreach ($keys as $key) {
                Native::check($ffi->medseal_verifier_builder_add_key($builder, $key->handle()));
            }
            if ($anchors !== null) {
                Native::check($ffi->medseal_verifier_builder_add_trust_anchors($builder, Native::bytes($anchors), strlen($anchors)));
            }
            if ($trustList !== null) {
                Native::check($ffi->medseal_verifier_builder_set_trust_list($builder, $trustList->handle()));
            }
            if ($flags !== 0) {
                Native::check($ffi->medseal_verifier_builder_set_canon_flags($builder, $flags));
            }
            $out = $ffi->new('struct medseal_verifier *');
            Native::check($ffi->medseal_verifier_builder_build($builder, \FFI::addr($out)));
            $this->adopt($out);
        } finally {
            $ffi->medseal_verifier_builder_free($builder);
        }
    }

    protected static function freeFunction(): string
    {
        return 'medseal_verifier_free';
    }

    /**
     * Verifies a compact or JSON JWS carrying its payload, whatever it signs (a record, a receipt,
     * a trust list...). For medseal records use verifyRecord().
     *
     * @throws JwsException MEDSEAL_JWS_SIGNATURE_INVALID, ...; TrustException for certificates
     */
    public function verify(string $jws): Verified
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_verified *');
        Native::check($ffi->medseal_verifier_verify($this->handle(), Native::bytes($jws), strlen($jws), \FFI::addr($out)));
        return Verified::take($out);
    }

    /**
     * Verifies a medseal record: as verify(), and the JWS must also be a record (`typ`
     * `medseal+jws`, a `sigT`, a canonical JSON payload). A receipt or a trust list signed by a
     * trusted key verifies with verify() but is not a record: use this wherever a record is
     * expected.
     *
     * @throws JwsException MEDSEAL_JWS_HEADER or MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL for a JWS that
     *         is not a record, as verify() otherwise
     */
    public function verifyRecord(string $jws): Verified
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_verified *');
        Native::check($ffi->medseal_verifier_verify_record($this->handle(), Native::bytes($jws), strlen($jws), \FFI::addr($out)));
        return Verified::take($out);
    }

    /**
     * Verifies a detached JWS against `$payload`: the exact signed bytes, or with `$document`
     * a JSON record (text or PHP value) canonicalized with the verifier's options first.
     *
     * @param mixed $payload
     */
    public function verifyDetached(string $jws, $payload, bool $document = false, bool $allowFloats = false): Verified
    {
        if ($document) {
            $body = Json::text($payload, $allowFloats);
            $kind = Library::constant('MEDSEAL_PAYLOAD_DOCUMENT');
        } else {
            $body = Native::text($payload, 'payload');
            $kind = Library::constant('MEDSEAL_PAYLOAD_BYTES');
        }
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_verified *');
        Native::check($ffi->medseal_verifier_verify_detached(
            $this->handle(),
            Native::bytes($jws),
            strlen($jws),
            Native::bytes($body),
            strlen($body),
            $kind,
            \FFI::addr($out)
        ));
        return Verified::take($out);
    }
}
