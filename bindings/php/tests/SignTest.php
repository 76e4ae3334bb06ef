<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\GeneralException;
use Medseal\JsonException;
use Medseal\JwsException;
use Medseal\Key;
use Medseal\KeyException;
use Medseal\Medseal;
use Medseal\Meta;
use Medseal\RecipientKey;
use Medseal\Signer;
use Medseal\SignerException;
use Medseal\TrustException;
use Medseal\TrustList;
use Medseal\Verifier;
use PHPUnit\Framework\TestCase;

/** Signers (software keys, PHP callbacks, certificate chains), verifiers and trust lists. */
final class SignTest extends TestCase
{
    public function testSignVerifyFormats(): void
    {
        $key = Key::generate('EdDSA');
        $signer = new Signer($key);
        $verifier = new Verifier([$key->publicKey()]);
        $canonical = Medseal::canonicalize(Fixtures::PATIENT);
        foreach (['flattened', 'compact'] as $format) {
            $verified = $verifier->verify($signer->sign(Fixtures::PATIENT, $format));
            $this->assertSame($canonical, $verified->payload);
            $this->assertSame(json_decode($canonical, true), $verified->json());
            $this->assertSame($key->kid(), $verified->kid);
            $this->assertSame('EdDSA', $verified->algorithm);
            $this->assertSame('key', $verified->trustedBy);
            $this->assertSame('', $verified->signer);
            $this->assertSame(['medseal+jws', 'EdDSA'], [$verified->header()['typ'], $verified->header()['alg']]);
            $this->assertLessThan(120, abs(time() - $verified->signingTime->getTimestamp()));
        }
        $this->assertSame(2, substr_count($signer->sign(Fixtures::PATIENT, 'compact'), '.'));
        foreach (['detached', 'detached-compact', 'detached-flattened'] as $format) {
            $jws = $signer->sign(Fixtures::PATIENT, $format);
            $this->assertSame($canonical, $verifier->verifyDetached($jws, $canonical)->payload);
            $this->assertSame($canonical, $verifier->verifyDetached($jws, Fixtures::PATIENT, true)->payload);
            try {
                $verifier->verify($jws);
                $this->fail('detached JWS verified without payload');
            } catch (JwsException $e) {
                $this->assertSame('MEDSEAL_JWS_PAYLOAD_MISSING', $e->getName());
            }
        }
        $this->assertSame($key->kid(), $signer->kid());
        $this->assertSame($key->kid(), $signer->publicKey()->kid());
        $this->assertFalse($signer->publicKey()->hasPrivate());
    }

    public function testSignerOptions(): void
    {
        $key = Key::generate('ES256');
        $when = new \DateTimeImmutable('2026-01-31T08:00:00Z');
        $signer = new Signer($key, ['kid' => 'hospital-key-7', 'signingTime' => $when, 'commitment' => '1.2.840.10065.1.12.1.1']);
        $jws = $signer->sign('{"a":1}');
        $header = Fixtures::protectedHeader($jws);
        $this->assertSame('hospital-key-7', $header['kid']);
        $this->assertSame('2026-01-31T08:00:00Z', $header['sigT']);
        $this->assertArrayHasKey('srCms', $header);
        $verified = (new Verifier($key))->verify($jws);
        $this->assertEquals($when, $verified->signingTime);
        $this->assertSame('ES256', $verified->algorithm);
        $seconds = new Signer($key, ['signingTime' => $when->getTimestamp()]);
        $this->assertSame('2026-01-31T08:00:00Z', Fixtures::protectedHeader($seconds->sign('{}'))['sigT']);
    }

    public function testClockSkewAndClock(): void
    {
        $key = Key::generate();
        $far = new \DateTimeImmutable('2001-01-01T00:00:00Z');
        try {
            (new Signer($key, ['signingTime' => $far, 'maxClockSkew' => 300]))->sign('{}');
            $this->fail('skew accepted');
        } catch (SignerException $e) {
            $this->assertSame('MEDSEAL_SIGNING_TIME_SKEW', $e->getName());
        }
        $clocked = new Signer($key, ['clock' => static function () use ($far) {
            return $far;
        }]);
        $this->assertSame('2001-01-01T00:00:00Z', Fixtures::protectedHeader($clocked->sign('{}'))['sigT']);
        $ok = new Signer($key, ['signingTime' => $far, 'maxClockSkew' => 300, 'clock' => static function () use ($far): int {
            return $far->getTimestamp() + 10;
        }]);
        $this->assertSame('2001-01-01T00:00:00Z', Fixtures::protectedHeader($ok->sign('{}'))['sigT']);
        $broken = new Signer($key, ['clock' => static function (): int {
            throw new \DomainException('no time source');
        }]);
        try {
            $broken->sign('{}');
            $this->fail('a broken clock signed');
        } catch (\DomainException $e) {
            $this->assertSame('no time source', $e->getMessage());
        }
        try {
            (new Signer($key, ['clock' => static function () {
                return 'now';
            }]))->sign('{}');
            $this->fail('a text clock signed');
        } catch (\TypeError $e) {
            $this->assertStringContainsString('Unix seconds', $e->getMessage());
        }
        $this->expectException(\TypeError::class);
        new Signer($key, ['clock' => 5]);
    }

    public function testSignerOptionErrors(): void
    {
        $key = Key::generate();
        foreach ([['commitment' => 'not an oid'], ['kid' => '']] as $options) {
            try {
                new Signer($key, $options);
                $this->fail('accepted ' . json_encode($options));
            } catch (GeneralException $e) {
                $this->assertSame('MEDSEAL_INVALID_ARGUMENT', $e->getName());
            }
        }
        try {
            new Signer($key->publicKey());
            $this->fail('a public key signs');
        } catch (KeyException $e) {
            $this->assertSame('MEDSEAL_KEY_NOT_PRIVATE', $e->getName());
        }
        foreach ([
            [['signingTime' => '2026-01-01'], \TypeError::class],
            [['maxClockSkew' => -1], \InvalidArgumentException::class],
            [['certificateChain' => []], \InvalidArgumentException::class],
            [['unknown' => 1], \InvalidArgumentException::class],
        ] as [$options, $class]) {
            try {
                new Signer($key, $options);
                $this->fail('accepted ' . json_encode($options));
            } catch (\Throwable $e) {
                $this->assertInstanceOf($class, $e);
            }
        }
        try {
            (new Signer($key))->sign('{}', 'jwt');
            $this->fail('format jwt');
        } catch (\InvalidArgumentException $e) {
            $this->assertStringContainsString('JWS format', $e->getMessage());
        }
        try {
            (new Signer($key))->sign('{"a":1,"a":1}');
            $this->fail('duplicate key signed');
        } catch (JsonException $e) {
            $this->assertSame('MEDSEAL_JSON_DUPLICATE_KEY', $e->getName());
        }
        $nfd = ['family' => "Nguye\u{0302}\u{0303}n"];
        try {
            (new Signer($key))->sign($nfd);
            $this->fail('NFD signed');
        } catch (JsonException $e) {
            $this->assertSame('MEDSEAL_JSON_NOT_NFC', $e->getName());
        }
        $signed = (new Signer($key, ['normalizeNfc' => true]))->sign($nfd);
        $this->assertSame(['family' => 'Nguyễn'], (new Verifier($key))->verify($signed)->json());
        $this->assertSame('{"dose":6.5}', (new Verifier($key))->verify((new Signer($key))->sign(['dose' => 6.5], 'flattened', true))->payload);
    }

    public function testVerifyErrors(): void
    {
        $key = Key::generate();
        $jws = (new Signer($key))->sign(Fixtures::PATIENT, 'compact');
        $verifier = new Verifier([$key]);
        [$head, $payload, $signature] = explode('.', $jws);
        try {
            $verifier->verify("$head." . Fixtures::b64url('{"id":"pat-002"}') . ".$signature");
            $this->fail('tampered payload verified');
        } catch (JwsException $e) {
            $this->assertSame('MEDSEAL_JWS_SIGNATURE_INVALID', $e->getName());
        }
        try {
            (new Verifier([Key::generate()]))->verify($jws);
            $this->fail('wrong key verified');
        } catch (JwsException $e) {
            $this->assertContains($e->getName(), ['MEDSEAL_JWS_SIGNATURE_INVALID', 'MEDSEAL_JWS_ALG_MISMATCH']);
        }
        try {
            $verifier->verify('not a jws');
            $this->fail('garbage verified');
        } catch (JwsException $e) {
            $this->assertSame('MEDSEAL_JWS_MALFORMED', $e->getName());
        }
        try {
            new Verifier([]);
            $this->fail('a verifier without trust');
        } catch (JwsException $e) {
            $this->assertSame('MEDSEAL_JWS_NO_KEYS', $e->getName());
        }
        try {
            $verifier->verifyDetached((new Signer($key))->sign(Fixtures::PATIENT, 'detached'), '{"other":1}');
            $this->fail('other payload verified');
        } catch (JwsException $e) {
            $this->assertSame('MEDSEAL_JWS_SIGNATURE_INVALID', $e->getName());
        }
        try {
            new Verifier(['key']);
            $this->fail('a string as key');
        } catch (\TypeError $e) {
            $this->assertStringContainsString('Medseal\Key', $e->getMessage());
        }
        $this->expectException(\TypeError::class);
        new Verifier([], ['trustList' => 'jws']);
    }

    /**
     * Issue 10 point 6: verifyRecord() takes medseal records only. A trust list signed by the same
     * key, a JWS without sigT and one over a payload that is not canonical JSON verify with
     * verify() but are not records.
     */
    public function testVerifyRecordTakesRecordsOnly(): void
    {
        $key = Key::generate();
        $verifier = new Verifier([$key->publicKey()]);
        $record = (new Signer($key))->sign(Fixtures::PATIENT);
        $verified = $verifier->verifyRecord($record);
        $this->assertSame($key->kid(), $verified->kid);
        $this->assertSame(Medseal::canonicalize(Fixtures::PATIENT), $verified->payload);
        $this->assertSame($key->kid(), $verifier->verifyRecord((new Signer($key))->sign(Fixtures::PATIENT, 'compact'))->kid);
        $list = TrustList::sign([
            'type' => 'medseal-trust-list', 'version' => 1, 'issuer' => 'T', 'sequence' => 1,
            'issued' => '2026-01-01T00:00:00Z', 'expires' => '2027-01-01T00:00:00Z', 'entries' => [],
        ], $key);
        $this->assertSame($key->kid(), $verifier->verify($list)->kid); // a valid JWS by a trusted key...
        $this->assertRecordRefused($verifier, $list, 'MEDSEAL_JWS_HEADER'); // ...but not a record
        // Hand-made JWS by a trusted key (ext-sodium signs): without sigT, then over a duplicate key.
        [$secret, $own] = $this->sodiumKey();
        $ownVerifier = new Verifier([$own]);
        $handMade = static function (string $header, string $payload) use ($secret): string {
            $input = Fixtures::b64url($header) . '.' . Fixtures::b64url($payload);
            return $input . '.' . Fixtures::b64url(sodium_crypto_sign_detached($input, $secret));
        };
        $noSigT = $handMade('{"alg":"EdDSA","typ":"medseal+jws"}', '{"id":"1"}');
        $this->assertSame('', $ownVerifier->verify($noSigT)->signingTimeText);
        $this->assertRecordRefused($ownVerifier, $noSigT, 'MEDSEAL_JWS_HEADER');
        $duplicate = $handMade('{"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"medseal+jws"}', '{"a":1,"a":2}');
        $this->assertSame($own->kid(), $ownVerifier->verify($duplicate)->kid);
        $this->assertRecordRefused($ownVerifier, $duplicate, 'MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL');
        $this->assertRecordRefused(new Verifier([Key::generate()]), $record, 'MEDSEAL_JWS_SIGNATURE_INVALID');
        $this->assertRecordRefused($verifier, 'not a jws', 'MEDSEAL_JWS_MALFORMED');
    }

    private function assertRecordRefused(Verifier $verifier, string $jws, string $name): void
    {
        try {
            $verifier->verifyRecord($jws);
            $this->fail("verified as a record; expected $name");
        } catch (JwsException $e) {
            $this->assertSame($name, $e->getName(), $e->getMessage());
        }
    }

    // ---- callback signers ----------------------------------------------------------------------

    /** An Ed25519 key pair made by ext-sodium and the medseal Key of its public half. */
    private function sodiumKey(): array
    {
        $pair = sodium_crypto_sign_keypair();
        $jwk = json_encode(['kty' => 'OKP', 'crv' => 'Ed25519', 'x' => Fixtures::b64url(sodium_crypto_sign_publickey($pair))]);
        return [sodium_crypto_sign_secretkey($pair), Key::load($jwk)];
    }

    public function testCallbackSignerEd25519(): void
    {
        [$secret, $public] = $this->sodiumKey();
        $seen = [];
        $signer = Signer::fromCallback($public, static function (string $message) use ($secret, &$seen): string {
            $seen[] = $message;
            return sodium_crypto_sign_detached($message, $secret);
        }, ['kid' => 'from-host']);
        $jws = $signer->sign(Fixtures::PATIENT, 'compact');
        $this->assertCount(1, $seen);
        $this->assertStringStartsWith($seen[0] . '.', $jws);
        $verified = (new Verifier([$public]))->verify($jws);
        $this->assertSame(Medseal::canonicalize(Fixtures::PATIENT), $verified->payload);
        $this->assertSame('from-host', $verified->header()['kid']);
        $this->assertSame($public->kid(), $signer->publicKey()->kid());
        // sign and seal goes through the callback too
        $hub = RecipientKey::generate();
        $sealed = $signer->signAndSeal(Fixtures::PATIENT, new Meta('r-1', 'hospital-a', 1), [$hub->publicKey()]);
        $this->assertSame($verified->payload, $hub->openVerified($sealed, new Verifier($public))->payload);
        $this->assertCount(2, $seen);
    }

    /** @return array<string, array{string}> */
    public function openSslSchemes(): array
    {
        return ['ES256 (DER, as OpenSSL gives it)' => ['ES256'], 'RS256' => ['RS256']];
    }

    /** @dataProvider openSslSchemes */
    public function testCallbackSignerWithOpenSsl(string $scheme): void
    {
        $name = $scheme === 'ES256' ? 'signer-ec' : 'signer-rsa';
        $private = openssl_pkey_get_private(Fixtures::pkiFile("$name.key"));
        $this->assertNotFalse($private);
        $public = Key::load(Fixtures::pkiFile("$name.pub.pem"));
        $signer = Signer::fromCallback($public, static function (string $message) use ($private): string {
            if (!openssl_sign($message, $signature, $private, OPENSSL_ALGO_SHA256)) {
                throw new \RuntimeException(openssl_error_string() ?: 'openssl_sign failed');
            }
            return $signature;
        });
        $this->assertSame($scheme, (new Verifier([$public]))->verify($signer->sign(Fixtures::PATIENT))->algorithm);
    }

    public function testCallbackExceptionComesOutOfSignAsItself(): void
    {
        $public = Key::generate()->publicKey();
        $error = new \RuntimeException('the token was removed', 42);
        $signer = Signer::fromCallback($public, static function (string $message) use ($error): string {
            throw $error;
        });
        for ($i = 0; $i < 3; $i++) { // and again: nothing stays stuck
            try {
                $signer->sign(Fixtures::PATIENT);
                $this->fail('sign() returned');
            } catch (\RuntimeException $e) {
                $this->assertSame($error, $e);
            }
        }
        try {
            $signer->signAndSeal(Fixtures::PATIENT, new Meta('r-1', 'hospital-a', 1), [RecipientKey::generate()]);
            $this->fail('signAndSeal() returned');
        } catch (\RuntimeException $e) {
            $this->assertSame($error, $e);
        }
        // An \Error (not an Exception) too.
        $typeError = Signer::fromCallback($public, static function (string $message): string {
            return strlen(null);
        });
        $this->expectException(\TypeError::class);
        $typeError->sign('{}');
    }

    public function testCallbackWrongResults(): void
    {
        [$secret, $public] = $this->sodiumKey();
        foreach ([null, 64, ['sig']] as $wrong) {
            try {
                Signer::fromCallback($public, static function (string $m) use ($wrong) {
                    return $wrong;
                })->sign(Fixtures::PATIENT);
                $this->fail('a non-string signature');
            } catch (\TypeError $e) {
                $this->assertStringContainsString('must return the signature as a string', $e->getMessage());
            }
        }
        $tooLong = str_repeat("\0", Signer::maxSignatureBytes() + 1);
        try {
            Signer::fromCallback($public, static function (string $m) use ($tooLong): string {
                return $tooLong;
            })->sign(Fixtures::PATIENT);
            $this->fail('too long a signature');
        } catch (\LengthException $e) {
            $this->assertStringContainsString('at most', $e->getMessage());
        }
        try {
            Signer::fromCallback($public, static function (string $m): string {
                return str_repeat("\0", 64);
            })->sign(Fixtures::PATIENT);
            $this->fail('a wrong signature');
        } catch (SignerException $e) {
            $this->assertSame('MEDSEAL_SIGNER_BAD_SIGNATURE', $e->getName());
        }
        try {
            Signer::fromCallback($public, static function (string $m): string {
                return '';
            })->sign(Fixtures::PATIENT);
            $this->fail('an empty signature');
        } catch (SignerException $e) {
            $this->assertContains($e->getName(), ['MEDSEAL_SIGNER_BAD_SIGNATURE', 'MEDSEAL_SIGNER_FAILED']);
        }
        // Many callback signers alive at once each call their own function.
        $signers = [];
        for ($i = 0; $i < 5; $i++) {
            [$s, $p] = $this->sodiumKey();
            $signers[] = [Signer::fromCallback($p, static function (string $m) use ($s): string {
                return sodium_crypto_sign_detached($m, $s);
            }), $p];
        }
        foreach (array_reverse($signers) as [$signer, $p]) {
            $this->assertSame($p->kid(), (new Verifier($p))->verify($signer->sign('{}'))->kid);
        }
        $this->expectException(\TypeError::class);
        Signer::fromCallback($public, 'no such function');
    }

    // ---- certificates and trust lists ----------------------------------------------------------

    public function testCertificateChainAndAnchors(): void
    {
        $key = Key::load(Fixtures::pkiFile('signer-ec.key'));
        $jws = (new Signer($key, ['certificateChain' => Fixtures::pkiFile('signer-ec-chain.pem')]))->sign(Fixtures::PATIENT);
        $header = Fixtures::protectedHeader($jws);
        $this->assertCount(2, $header['x5c']);
        $this->assertArrayHasKey('x5t#S256', $header);
        $verified = (new Verifier([], ['trustAnchors' => Fixtures::pkiFile('root.pem')]))->verify($jws);
        $this->assertSame('certificate', $verified->trustedBy);
        $this->assertStringStartsWith('CN=medseal test signer EC', $verified->signer);
        $list = [Fixtures::pkiFile('signer-ec.pem'), Fixtures::pkiFile('intermediate.pem')];
        $this->assertSame('certificate', (new Verifier([], ['trustAnchors' => Fixtures::pkiFile('root.pem')]))
            ->verify((new Signer($key, ['certificateChain' => $list]))->sign(Fixtures::PATIENT))->trustedBy);
        foreach ([
            [function () use ($jws) {
                (new Verifier([], ['trustAnchors' => Fixtures::pkiFile('other-root.pem')]))->verify($jws);
            }, TrustException::class, 'MEDSEAL_CERT_UNKNOWN_ISSUER'],
            [function () {
                new Signer(Key::generate('ES256'), ['certificateChain' => Fixtures::pkiFile('signer-ec-chain.pem')]);
            }, SignerException::class, 'MEDSEAL_SIGNER_CERT_MISMATCH'],
            [function () {
                new Signer(Key::load(Fixtures::pkiFile('signer-nosig.key')), ['certificateChain' => Fixtures::pkiFile('signer-nosig-chain.pem')]);
            }, TrustException::class, 'MEDSEAL_CERT_KEY_USAGE'],
            [function () {
                (new Signer(Key::load(Fixtures::pkiFile('signer-past.key')), ['certificateChain' => Fixtures::pkiFile('signer-past-chain.pem')]))->sign(Fixtures::PATIENT);
            }, TrustException::class, 'MEDSEAL_SIGNED_OUTSIDE_VALIDITY'],
        ] as [$action, $class, $name]) {
            try {
                $action();
                $this->fail("no $name");
            } catch (\Medseal\MedsealException $e) {
                $this->assertInstanceOf($class, $e);
                $this->assertSame($name, $e->getName());
            }
        }
        $this->expectException(TrustException::class);
        new Verifier([], ['trustAnchors' => 'garbage']);
    }

    private function trustList(Key $listKey, Key $recordKey, int $sequence, string $expires): string
    {
        $jwk = array_intersect_key(json_decode($recordKey->publicKey()->export('jwk'), true), array_flip(['kty', 'crv', 'x', 'y', 'n', 'e']));
        return TrustList::sign([
            'type' => 'medseal-trust-list',
            'version' => 1,
            'issuer' => 'Sở Y tế TP.HCM',
            'sequence' => $sequence,
            'issued' => '2026-01-01T00:00:00Z',
            'expires' => $expires,
            'entries' => [[
                'facility' => '79001',
                'kid' => $recordKey->kid(),
                'alg' => $recordKey->algorithm(),
                'jwk' => $jwk,
                'roles' => ['record-signing'],
                'not_before' => '2026-01-01T00:00:00Z',
                'not_after' => '2027-12-31T00:00:00Z',
            ]],
        ], $listKey);
    }

    public function testTrustLists(): void
    {
        $listKey = Key::generate();
        $recordKey = Key::generate();
        $signed = $this->trustList($listKey, $recordKey, 12, '2027-06-01T00:00:00Z');
        $now = new \DateTimeImmutable('2026-06-01T00:00:00Z');
        $trust = TrustList::verify($signed, $listKey->publicKey(), $now);
        $this->assertSame(12, $trust->sequence());
        $this->assertSame(1, $trust->entryCount());
        $this->assertEquals(new \DateTimeImmutable('2027-06-01T00:00:00Z'), $trust->expires());
        $verifier = new Verifier([], ['trustList' => $trust]);
        $verified = $verifier->verify((new Signer($recordKey, ['signingTime' => $now]))->sign(Fixtures::PATIENT));
        $this->assertSame(['trust_list', '79001'], [$verified->trustedBy, $verified->signer]);
        $cases = [
            [function () use ($verifier, $recordKey) {
                $verifier->verify((new Signer($recordKey, ['signingTime' => new \DateTimeImmutable('2025-06-01T00:00:00Z')]))->sign(Fixtures::PATIENT));
            }, null],
            [function () use ($verifier, $now) {
                $verifier->verify((new Signer(Key::generate(), ['signingTime' => $now]))->sign(Fixtures::PATIENT));
            }, 'MEDSEAL_TRUST_UNKNOWN_SIGNER'],
            [function () use ($signed, $now) {
                TrustList::verify($signed, Key::generate(), $now);
            }, 'MEDSEAL_TRUST_LIST_SIGNATURE'],
            [function () use ($signed, $listKey) {
                TrustList::verify($signed, $listKey, new \DateTimeImmutable('2028-01-01T00:00:00Z'));
            }, 'MEDSEAL_TRUST_LIST_EXPIRED'],
            [function () use ($signed, $listKey, $now) {
                TrustList::verify($signed, $listKey, $now->getTimestamp(), 13);
            }, 'MEDSEAL_TRUST_LIST_STALE'],
            [function () use ($listKey) {
                TrustList::sign('{"type":"medseal-trust-list"}', $listKey);
            }, 'MEDSEAL_TRUST_LIST_INVALID'],
        ];
        foreach ($cases as [$action, $name]) {
            try {
                $action();
                $this->fail('no trust error ' . $name);
            } catch (TrustException $e) {
                $this->assertSame(5, intdiv($e->getCode(), 100));
                if ($name !== null) {
                    $this->assertSame($name, $e->getName());
                }
            }
        }
        $this->assertSame(12, TrustList::verify($signed, $listKey, null)->sequence()); // now = the clock
        $trust->close();
        $this->expectException(\Medseal\HandleClosedException::class);
        $trust->sequence();
    }
}
