<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\Key;
use Medseal\Medseal;
use Medseal\Signer;
use Medseal\SignerException;
use Medseal\Verifier;
use PHPUnit\Framework\TestCase;

/** PKCS#11 signers on a SoftHSM2 token (made by tests/c/fixtures.sh; never skipped). */
final class Pkcs11Test extends TestCase
{
    /** @return array{string, string, string, string} */
    private function args(string $keyLabel): array
    {
        $env = Fixtures::pki();
        return [$env['MEDSEAL_TEST_PKCS11_MODULE'], $env['MEDSEAL_TEST_PKCS11_TOKEN'], $env[$keyLabel], $env['MEDSEAL_TEST_PKCS11_PIN']];
    }

    public function testEcKeyOnToken(): void
    {
        $signer = Signer::fromPkcs11(...$this->args('MEDSEAL_TEST_PKCS11_EC_KEY'));
        $public = Key::load(Fixtures::pkiFile('signer-ec.pub.pem'));
        $this->assertSame($public->kid(), $signer->publicKey()->kid());
        $verified = (new Verifier([$public]))->verify($signer->sign(Fixtures::PATIENT));
        $this->assertSame('ES256', $verified->algorithm);
        $this->assertSame(Medseal::canonicalize(Fixtures::PATIENT), $verified->payload);
        $signer->close();
        $this->assertTrue($signer->isClosed());
    }

    /** @return array<string, array{?string}> */
    public function rsaSchemes(): array
    {
        return ['default' => [null], 'RS256' => ['RS256'], 'PS256' => ['PS256']];
    }

    /** @dataProvider rsaSchemes */
    public function testRsaKeyOnToken(?string $alg): void
    {
        $signer = Signer::fromPkcs11(...array_merge($this->args('MEDSEAL_TEST_PKCS11_RSA_KEY'), [['alg' => $alg]]));
        $want = $alg ?? 'RS256';
        $public = Key::load(Fixtures::pkiFile('signer-rsa.pub.pem'), $want);
        $this->assertSame($want, (new Verifier([$public]))->verify($signer->sign(Fixtures::PATIENT, 'compact'))->algorithm);
    }

    public function testTokenWithCertificateChain(): void
    {
        $signer = Signer::fromPkcs11(...array_merge($this->args('MEDSEAL_TEST_PKCS11_EC_KEY'), [[
            'certificateChain' => Fixtures::pkiFile('signer-ec-chain.pem'),
            'kid' => 'token-ec',
        ]]));
        $verified = (new Verifier([], ['trustAnchors' => Fixtures::pkiFile('root.pem')]))->verify($signer->sign(Fixtures::PATIENT));
        $this->assertSame('certificate', $verified->trustedBy);
        $this->assertStringStartsWith('CN=medseal test signer EC', $verified->signer);
        $this->assertSame('token-ec', $verified->header()['kid']);
    }

    public function testTokenErrors(): void
    {
        [$module, $token, $key, $pin] = $this->args('MEDSEAL_TEST_PKCS11_EC_KEY');
        foreach ([
            [[$module, $token, $key, '86420975'], 'MEDSEAL_PKCS11_PIN'],
            [[$module, 'no-such-token', $key, $pin], 'MEDSEAL_PKCS11_TOKEN_NOT_FOUND'],
            [[$module, $token, 'no-such-key', $pin], 'MEDSEAL_PKCS11_KEY_NOT_FOUND'],
            [['/nonexistent/libpkcs11.so', $token, $key, $pin], 'MEDSEAL_PKCS11_MODULE'],
        ] as [$args, $name]) {
            try {
                Signer::fromPkcs11(...$args);
                $this->fail("no $name");
            } catch (SignerException $e) {
                $this->assertSame($name, $e->getName());
                $this->assertStringNotContainsString('86420975', $e->getMessage());
                $this->assertStringNotContainsString($pin, $e->getMessage());
            }
        }
        $this->expectException(\InvalidArgumentException::class);
        Signer::fromPkcs11($module, $token, $key, $pin, ['alg' => 'HS256']);
    }
}
