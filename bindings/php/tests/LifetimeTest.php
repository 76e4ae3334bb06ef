<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\Deliverer;
use Medseal\Envelope;
use Medseal\Handle;
use Medseal\HandleClosedException;
use Medseal\Key;
use Medseal\Medseal;
use Medseal\Meta;
use Medseal\Outbox;
use Medseal\RecipientKey;
use Medseal\Signer;
use Medseal\Transport;
use Medseal\TrustList;
use Medseal\Verifier;
use PHPUnit\Framework\TestCase;

/** Handles are freed exactly once (close() or __destruct), refuse use after close, never clone; memory stays flat. */
final class LifetimeTest extends TestCase
{
    /** @return array<string, array{callable(): Handle}> */
    public function makers(): array
    {
        return [
            'Key' => [static function (): Handle {
                return Key::generate();
            }],
            'RecipientKey' => [static function (): Handle {
                return RecipientKey::generate();
            }],
            'Signer' => [static function (): Handle {
                return new Signer(Key::generate());
            }],
            'callback Signer' => [static function (): Handle {
                return Signer::fromCallback(Key::generate()->publicKey(), static function (string $m): string {
                    return $m;
                });
            }],
            'Verifier' => [static function (): Handle {
                return new Verifier(Key::generate());
            }],
            'Envelope' => [static function (): Handle {
                return new Envelope(Medseal::seal('x', new Meta('r', 's', 1), RecipientKey::generate()));
            }],
            'TrustList' => [static function (): Handle {
                $key = Key::generate();
                $list = ['type' => 'medseal-trust-list', 'version' => 1, 'issuer' => 'x', 'sequence' => 1,
                    'issued' => '2026-01-01T00:00:00Z', 'expires' => '2030-01-01T00:00:00Z', 'entries' => []];
                return TrustList::verify(TrustList::sign($list, $key), $key);
            }],
            'Outbox' => [static function (): Handle {
                return new Outbox(Fixtures::tempDir() . '/o.db', 'hospital-a', RecipientKey::generate());
            }],
            'Transport' => [static function (): Handle {
                return new Transport('https://127.0.0.1:9', ['publicRoots' => true, 'clientCertificate' => Fixtures::pkiFile('signer-ec.pem'),
                    'clientKey' => Fixtures::pkiFile('signer-ec.key'), 'receiptKey' => Key::generate(), 'treeHeadKey' => Key::generate()]);
            }],
        ];
    }

    /** @dataProvider makers */
    public function testEachHandleIsFreedExactlyOnce(callable $make): void
    {
        $handle = $make();
        $class = get_class($handle);
        $before = Handle::freeCount($class);
        $this->assertFalse($handle->isClosed());
        $handle->close();
        $this->assertTrue($handle->isClosed());
        $this->assertSame($before + 1, Handle::freeCount($class));
        $handle->close(); // again: nothing
        unset($handle); // __destruct: nothing more
        $this->assertSame($before + 1, Handle::freeCount($class));

        // Without close(): freed once when the last reference goes.
        $other = $make();
        $copy = $other;
        unset($other);
        $this->assertSame($before + 1, Handle::freeCount($class));
        unset($copy);
        $this->assertSame($before + 2, Handle::freeCount($class));

        // A clone would free the same handle twice: refused, and the original still works.
        $third = $make();
        try {
            $clone = clone $third;
            $this->fail('cloned');
        } catch (\LogicException $e) {
            $this->assertStringContainsString('cannot be cloned', $e->getMessage());
        }
        $this->assertFalse($third->isClosed());
        $this->assertSame($before + 2, Handle::freeCount($class));
        unset($third);
        gc_collect_cycles();
        $this->assertSame($before + 3, Handle::freeCount($class));
    }

    public function testClosedHandlesRefuseUse(): void
    {
        $key = Key::generate();
        $signer = new Signer($key);
        $verifier = new Verifier($key);
        $recipient = RecipientKey::generate();
        $outbox = new Outbox(Fixtures::tempDir() . '/o.db', 'hospital-a', $recipient);
        foreach ([$key, $signer, $verifier, $recipient, $outbox] as $handle) {
            $handle->close();
        }
        foreach ([
            function () use ($key) {
                $key->kid();
            },
            function () use ($signer) {
                $signer->sign('{}');
            },
            function () use ($verifier) {
                $verifier->verify('x');
            },
            function () use ($recipient) {
                $recipient->open('x');
            },
            function () use ($outbox) {
                $outbox->status();
            },
            function () use ($key) {
                new Signer($key);
            },
        ] as $i => $use) {
            try {
                $use();
                $this->fail("closed handle $i used");
            } catch (HandleClosedException $e) {
                $this->assertStringContainsString('is closed', $e->getMessage());
            }
        }
    }

    public function testASignerOutlivesItsKeyAndSignerClosesItsPublicKey(): void
    {
        $key = Key::generate();
        $signer = new Signer($key);
        $verifier = new Verifier($key->publicKey());
        $key->close();
        $this->assertSame('{}', $verifier->verify($signer->sign('{}'))->payload);
        $public = $signer->publicKey();
        $signer->close();
        $this->assertTrue($public->isClosed());
    }

    public function testMemoryStaysFlatOver100000Calls(): void
    {
        $key = Key::generate();
        $signer = new Signer($key, ['signingTime' => 1767225600]);
        $verifier = new Verifier($key->publicKey());
        $hub = RecipientKey::generate();
        $meta = new Meta('rec-1', 'hospital-a', 1);
        $record = Medseal::canonicalize(Fixtures::PATIENT);
        $jws = $signer->sign($record);
        $sealed = Medseal::seal($jws, $meta, [$hub]);
        $rss = static function (): int {
            preg_match('/^VmRSS:\s+(\d+) kB/m', (string) file_get_contents('/proc/self/status'), $m);
            return (int) $m[1];
        };
        $round = static function (int $i) use ($signer, $verifier, $hub, $meta, $record, $jws, $sealed): void {
            switch ($i % 5) {
                case 0:
                    $signer->sign($record);
                    break;
                case 1:
                    $verifier->verify($jws);
                    break;
                case 2:
                    Medseal::seal($jws, $meta, [$hub]);
                    break;
                case 3:
                    $hub->open($sealed);
                    break;
                default:
                    try {
                        $verifier->verify('broken');
                    } catch (\Medseal\JwsException $e) {
                        // the error path allocates too
                    }
            }
        };
        for ($i = 0; $i < 10000; $i++) { // warm up: allocator pools, caches
            $round($i);
        }
        gc_collect_cycles();
        $heapBefore = memory_get_usage();
        $rssBefore = $rss();
        for ($i = 0; $i < 100000; $i++) {
            $round($i);
        }
        gc_collect_cycles();
        $heapGrowth = memory_get_usage() - $heapBefore;
        $rssGrowth = $rss() - $rssBefore;
        $this->assertLessThan(64 * 1024, $heapGrowth, "PHP heap grew by $heapGrowth bytes over 100,000 calls");
        $this->assertLessThan(4096, $rssGrowth, "RSS grew by $rssGrowth kB over 100,000 calls");
    }
}
