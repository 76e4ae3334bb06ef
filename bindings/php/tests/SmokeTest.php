<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\Envelope;
use Medseal\JsonException;
use Medseal\JwsException;
use Medseal\Key;
use Medseal\Medseal;
use Medseal\Meta;
use Medseal\RecipientKey;
use Medseal\SealException;
use Medseal\Signer;
use Medseal\Verified;
use Medseal\Verifier;
use PHPUnit\Framework\TestCase;

/**
 * The shared smoke scenario (tests/smoke/README.md), as every language runs it: the same fixed
 * inputs and expected outputs. canonicalize, sign (byte-identical JWS), verify, sign and seal,
 * open, open and verify, and one refusal at each step.
 */
final class SmokeTest extends TestCase
{
    private function signer(): Signer
    {
        return new Signer(Key::load(Fixtures::smoke('signer_ed25519.pem')), ['signingTime' => (int) Fixtures::smokeLine('sigt.unix')]);
    }

    private function verifier(): Verifier
    {
        return new Verifier([Key::load(Fixtures::smoke('signer_ed25519.pub.pem'))]);
    }

    private function checkVerified(Verified $verified): void
    {
        $this->assertSame(Fixtures::smoke('patient.canonical.json'), $verified->payload);
        $this->assertSame(Fixtures::smokeLine('kid.txt'), $verified->kid);
        $this->assertSame('EdDSA', $verified->algorithm);
        $this->assertSame(Fixtures::smokeLine('sigt.txt'), $verified->signingTimeText);
        $this->assertEquals(new \DateTimeImmutable('2025-03-01T08:30:00Z'), $verified->signingTime);
        $this->assertSame('UTC', $verified->signingTime->getTimezone()->getName());
        $this->assertSame('key', $verified->trustedBy);
    }

    /** @return array<string, string> */
    private function sealMeta(): array
    {
        $fields = [];
        foreach (explode("\n", Fixtures::smokeLine('seal.txt')) as $line) {
            [$k, $v] = explode('=', $line, 2);
            $fields[$k] = $v;
        }
        return $fields;
    }

    public function testCanonicalize(): void
    {
        $canonical = Fixtures::smoke('patient.canonical.json');
        $this->assertSame($canonical, Medseal::canonicalize(Fixtures::smoke('patient.json')));
        // The same record as a PHP value (it holds no floats) canonicalizes the same.
        $this->assertSame($canonical, Medseal::canonicalize(json_decode(Fixtures::smoke('patient.json'), true)));
        try {
            Medseal::canonicalize(Fixtures::smoke('patient_nfd.json'));
            $this->fail('NFD accepted');
        } catch (JsonException $e) {
            $this->assertSame('MEDSEAL_JSON_NOT_NFC', $e->getName());
        }
        $this->assertSame($canonical, Medseal::canonicalize(Fixtures::smoke('patient_nfd.json'), ['normalizeNfc' => true]));
    }

    public function testSignByteIdenticalAndVerify(): void
    {
        $signer = $this->signer();
        $this->assertSame(Fixtures::smoke('patient.flattened.jws'), $signer->sign(Fixtures::smoke('patient.json')));
        $this->assertSame(Fixtures::smoke('patient.compact.jws'), $signer->sign(Fixtures::smoke('patient.json'), 'compact'));
        // The same instant as a DateTime with an offset signs the same bytes.
        $at = new \DateTimeImmutable('2025-03-01T15:30:00+07:00');
        $again = new Signer(Key::load(Fixtures::smoke('signer_ed25519.pem')), ['signingTime' => $at]);
        $this->assertSame(Fixtures::smoke('patient.flattened.jws'), $again->sign(Fixtures::smoke('patient.json')));
        $verifier = $this->verifier();
        $this->checkVerified($verifier->verify(Fixtures::smoke('patient.flattened.jws')));
        $this->checkVerified($verifier->verify(Fixtures::smoke('patient.compact.jws')));
        $text = rtrim(Fixtures::smoke('patient.compact.jws'));
        $tampered = substr($text, 0, -2) . ($text[-2] === 'A' ? 'B' : 'A') . $text[-1];
        try {
            $verifier->verify($tampered);
            $this->fail('tampered JWS verified');
        } catch (JwsException $e) {
            $this->assertSame('MEDSEAL_JWS_SIGNATURE_INVALID', $e->getName());
        }
    }

    public function testSignAndSealOpenVerify(): void
    {
        $fields = $this->sealMeta();
        $meta = new Meta($fields['record_id'], $fields['source'], (int) $fields['sequence']);
        $hubPublic = RecipientKey::load(Fixtures::smoke('recipient_x25519.pub.pem'));
        $sealed = $this->signer()->signAndSeal(Fixtures::smoke('patient.json'), $meta, [$hubPublic], 'aes-256-gcm', 'json');
        $document = json_decode($sealed, true);
        $this->assertSame([Fixtures::smokeLine('recipient_kid.txt')], array_column($document['recipients'], 'kid'));
        $hub = RecipientKey::load(Fixtures::smoke('recipient_x25519.pem'));
        $envelope = new Envelope($sealed);
        $got = $envelope->meta();
        $this->assertSame([$fields['record_id'], $fields['source'], (int) $fields['sequence']], [$got->recordId, $got->source, $got->sequence]);
        $this->assertSame('application/jose+json', $got->contentType);
        $this->assertStringEndsWith('Z', (string) $got->created);
        $this->assertSame(Fixtures::smoke('patient.flattened.jws'), $envelope->open($hub));
        $this->checkVerified($envelope->openVerified($hub, $this->verifier()));
        // The sequence number changed in the clear meta: the envelope no longer opens.
        $document['meta']['sequence'] = (int) $fields['sequence'] + 1;
        try {
            $hub->open(json_encode($document));
            $this->fail('altered meta opened');
        } catch (SealException $e) {
            $this->assertSame('MEDSEAL_SEAL_DECRYPT_FAILED', $e->getName());
        }
        $protobuf = $this->signer()->signAndSeal(Fixtures::smoke('patient.json'), $meta, [$hubPublic]);
        $this->assertSame(Fixtures::smoke('patient.flattened.jws'), $hub->open($protobuf));
        $payload = json_decode(Fixtures::smoke('patient.flattened.jws'), true)['payload'];
        $this->assertSame(Fixtures::smoke('patient.canonical.json'), Fixtures::unb64url($payload));
    }
}
