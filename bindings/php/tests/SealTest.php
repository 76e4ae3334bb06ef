<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\Envelope;
use Medseal\GeneralException;
use Medseal\JwsException;
use Medseal\Key;
use Medseal\Medseal;
use Medseal\Meta;
use Medseal\RecipientKey;
use Medseal\SealException;
use Medseal\Signer;
use Medseal\Verifier;
use PHPUnit\Framework\TestCase;

/** Sealed envelopes: seal, decode, open, open and verify, and their refusals. */
final class SealTest extends TestCase
{
    public function testSealOpenEncodingsAndAeads(): void
    {
        $hub = RecipientKey::generate();
        $other = RecipientKey::generate();
        $plaintext = random_bytes(3000) . "\0 binary";
        foreach (Medseal::ENCODINGS as $encoding) {
            foreach (Medseal::AEADS as $aead) {
                $sealed = Medseal::seal($plaintext, new Meta('rec-1', 'hospital-a', 7), [$hub->publicKey(), $other->publicKey()], $aead, $encoding);
                $this->assertSame($encoding === 'json', $sealed[0] === '{', "$encoding $aead");
                $this->assertSame($plaintext, $hub->open($sealed));
                $this->assertSame($plaintext, $other->open($sealed));
                $this->assertSame(strlen($plaintext), $hub->plaintextSize($sealed));
                if ($encoding === 'protobuf' && $aead === 'aes-256-gcm') {
                    $this->assertSame(strlen($sealed), Medseal::sealedSize($plaintext, new Meta('rec-1', 'hospital-a', 7), [$hub, $other]));
                }
            }
        }
        $this->assertSame('', $hub->open(Medseal::seal('', new Meta('empty', 'hospital-a', 1), $hub)));
    }

    public function testEnvelopeMetaAndOpen(): void
    {
        $hub = RecipientKey::generate();
        $sealed = Medseal::seal('{"a":1}', new Meta('rec-9', 'hospital-b', 42, new \DateTimeImmutable('2026-02-03T04:05:06+07:00'), 'application/fhir+json'), [$hub]);
        $envelope = Envelope::decode($sealed);
        $meta = $envelope->meta();
        $this->assertSame(['rec-9', 'hospital-b', 42, '2026-02-02T21:05:06Z', 'application/fhir+json'],
            [$meta->recordId, $meta->source, $meta->sequence, $meta->created, $meta->contentType]);
        $this->assertSame('rec-9', json_decode($envelope->metaJson(), true)['record_id']);
        $this->assertSame('{"a":1}', $envelope->open($hub));
        $this->assertSame('{"a":1}', $hub->open($envelope));
        $this->assertSame(Medseal::canonicalize($envelope->metaJson()), $envelope->metaJson());
    }

    public function testOpenErrors(): void
    {
        $hub = RecipientKey::generate();
        $sealed = Medseal::seal('secret', new Meta('rec-1', 'hospital-a', 1), [$hub], 'aes-256-gcm', 'json');
        $cases = [
            'wrong recipient' => [function () use ($sealed) {
                RecipientKey::generate()->open($sealed);
            }, 'MEDSEAL_SEAL_WRONG_RECIPIENT'],
            'public key' => [function () use ($sealed, $hub) {
                $hub->publicKey()->open($sealed);
            }, null],
            'truncated' => [function () use ($hub) {
                $pb = Medseal::seal('secret', new Meta('rec-1', 'hospital-a', 1), [$hub]);
                $hub->open(substr($pb, 0, -10));
            }, ['MEDSEAL_SEAL_TRUNCATED', 'MEDSEAL_SEAL_NOT_PROTOBUF']],
            'garbage' => [function () {
                new Envelope('garbage');
            }, null],
            'altered ciphertext' => [function () use ($sealed, $hub) {
                $doc = json_decode($sealed, true);
                $ct = Fixtures::unb64url($doc['ct']);
                $ct[5] = chr(ord($ct[5]) ^ 1);
                $doc['ct'] = Fixtures::b64url($ct);
                $hub->open(json_encode($doc));
            }, 'MEDSEAL_SEAL_DECRYPT_FAILED'],
            'bad meta' => [function () use ($hub) {
                Medseal::seal('x', new Meta('', 'hospital-a', 1), [$hub]);
            }, 'MEDSEAL_SEAL_META_INVALID'],
            'bad created' => [function () use ($hub) {
                Medseal::seal('x', new Meta('r', 'hospital-a', 1, 'yesterday'), [$hub]);
            }, null],
        ];
        foreach ($cases as $what => [$action, $name]) {
            try {
                $action();
                $this->fail("accepted: $what");
            } catch (\Medseal\MedsealException $e) {
                $this->assertInstanceOf(
                    $name === null && $what === 'public key' ? \Medseal\MedsealException::class : SealException::class,
                    $e,
                    "$what: " . $e->getMessage()
                );
                if ($name !== null) {
                    $this->assertContains($e->getName(), (array) $name, $what);
                }
            }
        }
        try {
            Medseal::seal('x', new Meta('r', 'hospital-a', 1), []);
            $this->fail('sealed to nobody');
        } catch (\Medseal\MedsealException $e) {
            $this->assertGreaterThan(0, $e->getCode());
        }
    }

    public function testArgumentErrors(): void
    {
        $hub = RecipientKey::generate();
        foreach ([
            [function () use ($hub) {
                Medseal::seal('x', new Meta('r', 's', 1), [$hub], 'aes-128-cbc');
            }, \InvalidArgumentException::class],
            [function () use ($hub) {
                Medseal::seal('x', new Meta('r', 's', 1), [$hub], 'aes-256-gcm', 'xml');
            }, \InvalidArgumentException::class],
            [function () {
                Medseal::seal('x', new Meta('r', 's', 1), ['key']);
            }, \TypeError::class],
            [function () {
                Medseal::seal('x', new Meta('r', 's', 1), 'key');
            }, \TypeError::class],
            [function () {
                new Meta('r', 's', -1);
            }, \InvalidArgumentException::class],
            [function () use ($hub) {
                $hub->open(42);
            }, \TypeError::class],
        ] as $i => [$action, $class]) {
            try {
                $action();
                $this->fail("case $i accepted");
            } catch (\Throwable $e) {
                $this->assertInstanceOf($class, $e, "case $i");
            }
        }
    }

    public function testSignAndSealOpenVerified(): void
    {
        $key = Key::generate('ES256');
        $hub = RecipientKey::generate();
        $signer = new Signer($key);
        $verifier = new Verifier($key->publicKey());
        $sealed = $signer->signAndSeal(Fixtures::PATIENT, new Meta('rec-1', 'hospital-a', 1), [$hub->publicKey()], 'chacha20-poly1305');
        $verified = $hub->openVerified($sealed, $verifier);
        $this->assertSame(Medseal::canonicalize(Fixtures::PATIENT), $verified->payload);
        $this->assertSame('ES256', $verified->algorithm);
        $this->assertSame($verified->payload, (new Envelope($sealed))->openVerified($hub, $verifier)->payload);
        try {
            $hub->openVerified($sealed, new Verifier(Key::generate('ES256')));
            $this->fail('verified with another key');
        } catch (JwsException $e) {
            $this->assertSame('MEDSEAL_JWS_SIGNATURE_INVALID', $e->getName());
        }
        // A plain (unsigned) envelope does not open as a signed record.
        $plain = Medseal::seal('{"a":1}', new Meta('rec-2', 'hospital-a', 2), [$hub]);
        $this->expectException(\Medseal\MedsealException::class);
        $hub->openVerified($plain, $verifier);
    }
}
