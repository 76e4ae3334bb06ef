<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\Key;
use Medseal\KeyException;
use Medseal\RecipientKey;
use PHPUnit\Framework\TestCase;

/** Signing keys and recipient keys: generate, import, export, kid, errors. */
final class KeysTest extends TestCase
{
    public function testGenerateExportImport(): void
    {
        foreach (['EdDSA', 'ES256'] as $alg) {
            $key = Key::generate($alg);
            $this->assertSame($alg, $key->algorithm());
            $this->assertTrue($key->hasPrivate());
            $this->assertSame(Key::kidLength(), strlen($key->kid()));
            $this->assertMatchesRegularExpression('/^[A-Za-z0-9_-]{43}$/', $key->kid());
            foreach (Key::FORMATS as $format) {
                if ($format === 'raw-private' || $format === 'raw-public') {
                    if ($alg !== 'EdDSA') {
                        continue;
                    }
                }
                $exported = $key->export($format);
                $this->assertNotSame('', $exported, $format);
                if ($format !== 'raw-private' && $format !== 'raw-public') {
                    $again = Key::load($exported);
                    $this->assertSame($key->kid(), $again->kid(), $format);
                    $this->assertSame(strpos($format, 'pkcs8') === 0, $again->hasPrivate(), $format);
                }
            }
            $this->assertStringStartsWith('-----BEGIN PRIVATE KEY-----', $key->export('pkcs8-pem'));
            $this->assertStringStartsWith('-----BEGIN PUBLIC KEY-----', $key->export());
            $public = $key->publicKey();
            $this->assertFalse($public->hasPrivate());
            $this->assertSame($key->kid(), $public->kid());
            $jwk = json_decode($public->export('jwk'), true);
            $this->assertSame($alg === 'EdDSA' ? 'OKP' : 'EC', $jwk['kty']);
            $this->assertArrayNotHasKey('d', $jwk);
        }
    }

    public function testRsaSchemeAndSmokeKey(): void
    {
        $smoke = Key::load(Fixtures::smoke('signer_ed25519.pem'));
        $this->assertSame(Fixtures::smokeLine('kid.txt'), $smoke->kid());
        $rsa = Fixtures::pkiFile('signer-rsa.pub.pem');
        $this->assertSame('RS256', Key::load($rsa)->algorithm());
        $this->assertSame('PS256', Key::load($rsa, 'PS256')->algorithm());
    }

    public function testKeyErrors(): void
    {
        foreach ([
            ['not a key', null, 'MEDSEAL_KEY_FORMAT'],
            ['', null, 'MEDSEAL_KEY_FORMAT'],
        ] as [$data, $alg, $name]) {
            try {
                Key::load($data, $alg);
                $this->fail('loaded ' . $data);
            } catch (KeyException $e) {
                $this->assertSame($name, $e->getName());
            }
        }
        try {
            Key::load(Key::generate()->export(), 'ES256');
            $this->fail('alg mismatch accepted');
        } catch (\Medseal\MedsealException $e) {
            $this->assertGreaterThan(0, $e->getCode());
        }
        try {
            Key::generate()->publicKey()->export('pkcs8-pem');
            $this->fail('private export of a public key');
        } catch (KeyException $e) {
            $this->assertSame('MEDSEAL_KEY_NOT_PRIVATE', $e->getName());
        }
        try {
            Key::load(RecipientKey::generate()->export('pkcs8-pem'));
            $this->fail('an X25519 key loaded as a signing key');
        } catch (KeyException $e) {
            $this->assertSame('MEDSEAL_KEY_UNSUPPORTED', $e->getName());
        }
    }

    public function testArgumentErrors(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        Key::generate('RS512');
    }

    public function testUnknownFormat(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        Key::generate()->export('pem');
    }

    public function testRsaGenerateIsRefused(): void
    {
        try {
            Key::generate('RS256');
            $this->fail('RSA generated');
        } catch (\Medseal\GeneralException $e) {
            $this->assertSame('MEDSEAL_UNSUPPORTED', $e->getName());
        }
    }

    public function testRecipientKeys(): void
    {
        $key = RecipientKey::generate();
        $this->assertTrue($key->hasPrivate());
        $this->assertSame(43, strlen($key->kid()));
        $raw = $key->export('raw-private');
        $this->assertSame(32, strlen($raw));
        $this->assertSame($key->kid(), RecipientKey::fromRaw($raw, true)->kid());
        $public = $key->publicKey();
        $this->assertFalse($public->hasPrivate());
        $this->assertSame($key->kid(), $public->kid());
        $this->assertSame($key->kid(), RecipientKey::fromRaw($key->export('raw-public'), false)->kid());
        foreach (['pkcs8-pem', 'pkcs8-der', 'spki-pem', 'spki-der', 'jwk'] as $format) {
            $this->assertSame($key->kid(), RecipientKey::load($key->export($format))->kid(), $format);
        }
        $jwk = json_decode($public->export('jwk'), true);
        $this->assertSame(['X25519', 'enc'], [$jwk['crv'], $jwk['use']]);
        $smoke = RecipientKey::load(Fixtures::smoke('recipient_x25519.pub.pem'));
        $this->assertSame(Fixtures::smokeLine('recipient_kid.txt'), $smoke->kid());
        try {
            RecipientKey::fromRaw(str_repeat("\x01", 31), true);
            $this->fail('31 bytes accepted');
        } catch (KeyException $e) {
            $this->assertSame('MEDSEAL_KEY_INVALID', $e->getName());
        }
        try {
            RecipientKey::load(Key::generate()->export());
            $this->fail('a signing key loaded as a recipient key');
        } catch (KeyException $e) {
            $this->assertSame('MEDSEAL_KEY_UNSUPPORTED', $e->getName());
        }
        try {
            $public->export('pkcs8-pem');
            $this->fail('private export of a public recipient key');
        } catch (KeyException $e) {
            $this->assertSame('MEDSEAL_KEY_NOT_PRIVATE', $e->getName());
        }
    }
}
