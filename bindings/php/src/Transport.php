<?php

declare(strict_types=1);

namespace Medseal;

/**
 * The HTTPS connection to the hub, mutual TLS (medseal_transport). Immutable.
 *
 * `$hubUrl`: https://host[:port][/base] (plain HTTP is refused). Credentials either from option
 * 'facilityDir' (client.key as `medseal facility init` made it, and what `medseal hub enroll`
 * wrote beside it: client.pem, hub-ca.pem, receipt.pub, tree-head.pub) or one by one: 'clientCertificate' and 'clientKey' (PEM), 'hubCa'
 * (PEM, pinned) or 'publicRoots' => true, 'receiptKey' and 'treeHeadKey' (Key, public). Other
 * options: 'connectTimeout' and 'timeout' (seconds), 'batchSize' (1 to 1000), 'proxy'
 * (http://host:port) or 'proxyFromEnv' => true. Errors: TransportException MEDSEAL_TRANSPORT_CONFIG.
 *
 * A TLS client key kept on a PKCS#11 token (made there by `medseal facility init
 * --tls-pkcs11-module M --tls-pkcs11-token T --tls-key-label L`): option 'clientKeyPkcs11' =>
 * ['module' => path, 'token' => token label, 'key' => key label, 'pin' => user PIN]; the facility
 * directory then needs no client.key and every TLS handshake is signed on the token. A wrong PIN
 * is SignerException MEDSEAL_PKCS11_PIN (the PIN is never in a message).
 */
final class Transport extends Handle
{
    private const OPTIONS = [
        'facilityDir', 'clientCertificate', 'clientKey', 'clientKeyPkcs11', 'hubCa', 'publicRoots', 'receiptKey', 'treeHeadKey',
        'connectTimeout', 'timeout', 'batchSize', 'proxy', 'proxyFromEnv',
    ];

    /** @param array<string, mixed> $options */
    public function __construct(string $hubUrl, array $options = [])
    {
        Native::checkOptions($options, self::OPTIONS, 'Transport');
        $ffi = Library::ffi();
        $builder = $ffi->new('struct medseal_transport_builder *');
        Native::check($ffi->medseal_transport_builder_new(Native::bytes($hubUrl), strlen($hubUrl), \FFI::addr($builder)));
        try {
            if (isset($options['clientKeyPkcs11'])) {
                // Before the facility directory, which then reads no client.key.
                self::setTokenKey($builder, $options['clientKeyPkcs11']);
            }
            $texts = [
                'facilityDir' => 'medseal_transport_builder_set_facility_dir',
                'clientCertificate' => 'medseal_transport_builder_set_client_certificate',
                'clientKey' => 'medseal_transport_builder_set_client_key',
                'hubCa' => 'medseal_transport_builder_set_hub_ca',
                'proxy' => 'medseal_transport_builder_set_proxy',
            ];
            foreach ($texts as $name => $setter) {
                if (isset($options[$name])) {
                    $value = Native::text($options[$name], $name);
                    $bytes = Native::bytes($value);
                    $rc = $ffi->$setter($builder, $bytes, strlen($value));
                    if ($name === 'clientKey') {
                        Native::wipe($bytes);
                    }
                    Native::check($rc);
                }
            }
            if (!empty($options['publicRoots'])) {
                Native::check($ffi->medseal_transport_builder_set_public_roots($builder, 1));
            }
            if (!empty($options['proxyFromEnv'])) {
                Native::check($ffi->medseal_transport_builder_set_proxy_from_env($builder, 1));
            }
            foreach (['receiptKey' => 'medseal_transport_builder_set_receipt_key', 'treeHeadKey' => 'medseal_transport_builder_set_tree_head_key'] as $name => $setter) {
                if (isset($options[$name])) {
                    if (!$options[$name] instanceof Key) {
                        throw new \TypeError("$name must be a Medseal\\Key, not " . Native::typeName($options[$name]));
                    }
                    Native::check($ffi->$setter($builder, $options[$name]->handle()));
                }
            }
            foreach (['connectTimeout' => 'medseal_transport_builder_set_connect_timeout_ms', 'timeout' => 'medseal_transport_builder_set_timeout_ms'] as $name => $setter) {
                if (isset($options[$name])) {
                    Native::check($ffi->$setter($builder, self::milliseconds($options[$name], $name)));
                }
            }
            if (isset($options['batchSize'])) {
                $size = $options['batchSize'];
                if (!is_int($size) || $size < 0 || $size > 0xFFFFFFFF) {
                    throw new \InvalidArgumentException('batchSize must be an int from 1 to 1000');
                }
                Native::check($ffi->medseal_transport_builder_set_batch_size($builder, $size));
            }
            $out = $ffi->new('struct medseal_transport *');
            Native::check($ffi->medseal_transport_builder_build($builder, \FFI::addr($out)));
            $this->adopt($out);
        } finally {
            $ffi->medseal_transport_builder_free($builder);
        }
    }

    /** @param mixed $token */
    private static function setTokenKey(\FFI\CData $builder, $token): void
    {
        if (!is_array($token)) {
            throw new \TypeError("clientKeyPkcs11 must be an array ['module' => ..., 'token' => ..., 'key' => ..., 'pin' => ...], not " . Native::typeName($token));
        }
        Native::checkOptions($token, ['module', 'token', 'key', 'pin'], 'clientKeyPkcs11');
        $parts = [];
        foreach (['module', 'token', 'key', 'pin'] as $name) {
            if (!isset($token[$name])) {
                throw new \InvalidArgumentException("clientKeyPkcs11 needs '$name'");
            }
            $parts[$name] = Native::text($token[$name], "clientKeyPkcs11['$name']");
        }
        $pin = Native::bytes($parts['pin']);
        try {
            Native::check(Library::ffi()->medseal_transport_builder_set_client_key_pkcs11(
                $builder,
                Native::bytes($parts['module']),
                strlen($parts['module']),
                Native::bytes($parts['token']),
                strlen($parts['token']),
                Native::bytes($parts['key']),
                strlen($parts['key']),
                $pin,
                strlen($parts['pin'])
            ));
        } finally {
            Native::wipe($pin);
        }
    }

    protected static function freeFunction(): string
    {
        return 'medseal_transport_free';
    }

    /**
     * @param mixed $seconds
     * @internal
     */
    public static function milliseconds($seconds, string $what): int
    {
        if (!is_int($seconds) && !is_float($seconds)) {
            throw new \TypeError("$what must be a number of seconds, not " . Native::typeName($seconds));
        }
        $ms = (int) round($seconds * 1000);
        if ($ms < 0 || $ms > 0xFFFFFFFF) {
            throw new \InvalidArgumentException("$what out of range: $seconds s");
        }
        return $ms;
    }
}
