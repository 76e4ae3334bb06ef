<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\GeneralException;
use Medseal\HandleClosedException;
use Medseal\HubReceipt;
use Medseal\JwsException;
use Medseal\Key;
use Medseal\LedgerException;
use Medseal\MedsealException;
use Medseal\Meta;
use Medseal\Outbox;
use Medseal\OutboxException;
use Medseal\Receipt;
use Medseal\RecipientKey;
use Medseal\SealException;
use Medseal\Signer;
use Medseal\SignerException;
use Medseal\Transport;
use Medseal\TransportException;
use PHPUnit\Framework\TestCase;

/**
 * The outbox (enqueue, status, dead letters, requeue, discard, withdraw, signed withdrawal, backup)
 * and delivery to the real reference hub on 127.0.0.1 over mutual TLS, with the receipts checked.
 */
final class OutboxTest extends TestCase
{
    /** @param callable(): mixed $action */
    private function expectMedseal(callable $action, string $class, ?string $name = null): MedsealException
    {
        try {
            $action();
        } catch (MedsealException $e) {
            $this->assertInstanceOf($class, $e, $e->getMessage());
            if ($name !== null) {
                $this->assertSame($name, $e->getName(), $e->getMessage());
            }
            return $e;
        }
        $this->fail("no $class $name");
    }

    public function testEnqueueStatusAndAdmin(): void
    {
        $hubKey = RecipientKey::generate();
        $signer = new Signer(Key::generate());
        $dir = Fixtures::tempDir();
        $outbox = new Outbox("$dir/outbox.db", 'hospital-a', [$hubKey->publicKey()]);
        $empty = $outbox->status();
        $this->assertSame([0, 0, 1], [$empty->queued, $empty->delivered, $empty->nextSequence]);
        $this->assertNull($empty->oldestQueuedAt);
        $this->assertNull($empty->nextAttemptAt);
        $jws = $signer->sign(Fixtures::record(1));
        $first = $outbox->enqueue('rec-1', $jws);
        $this->assertSame(1, $first->sequence);
        $this->assertFalse($first->alreadyQueued);
        $this->assertSame(32, strlen($first->digest));
        $this->assertGreaterThan(0, $first->outboxId);
        $this->assertLessThan(120, abs(time() - $first->enqueuedAt->getTimestamp()));
        $again = $outbox->enqueue('rec-1', $jws);
        $this->assertTrue($again->alreadyQueued);
        $this->assertSame([$first->outboxId, $first->digest], [$again->outboxId, $again->digest]);
        $this->expectMedseal(function () use ($outbox, $signer) {
            $outbox->enqueue('rec-1', $signer->sign(Fixtures::record(99)));
        }, OutboxException::class, 'MEDSEAL_OUTBOX_DUPLICATE');
        $second = $outbox->enqueue('rec-2', $signer->sign(Fixtures::record(2), 'compact'));
        $this->assertSame(2, $second->sequence);
        $status = $outbox->status();
        $this->assertSame([2, 3], [$status->queued, $status->nextSequence]);
        $this->assertLessThan(120, abs(time() - $status->oldestQueuedAt->getTimestamp()));

        // A pre-sealed envelope must carry the next sequence number.
        $sealed = $signer->signAndSeal(Fixtures::record(3), new Meta('rec-3', 'hospital-a', 3), [$hubKey]);
        $third = $outbox->enqueueSealed($sealed);
        $this->assertSame(3, $third->sequence);
        $this->assertSame(hash('sha256', $sealed, true), $third->digest);
        $this->expectMedseal(function () use ($outbox, $signer, $hubKey) {
            $outbox->enqueueSealed($signer->signAndSeal(Fixtures::record(5), new Meta('rec-5', 'hospital-a', 9), [$hubKey]));
        }, OutboxException::class, 'MEDSEAL_OUTBOX_SEQUENCE');
        $this->expectMedseal(function () use ($outbox, $signer) {
            $outbox->enqueueSealed($signer->signAndSeal(Fixtures::record(4), new Meta('rec-4', 'hospital-a', 4), [RecipientKey::generate()]));
        }, SealException::class, 'MEDSEAL_SEAL_WRONG_RECIPIENT');

        // Withdraw -> dead letter -> requeue; withdraw again -> discard.
        $this->assertSame([], $outbox->deadLetters());
        $this->assertSame(0, $outbox->deadLetterCount());
        $outbox->withdraw($second->outboxId, 'enqueued by mistake');
        $this->assertSame([$second->outboxId], $outbox->deadLetters());
        $this->assertSame(1, $outbox->deadLetterCount());
        $this->assertSame(1, $outbox->status()->deadLetter);
        $outbox->requeue($second->outboxId);
        $this->assertSame([], $outbox->deadLetters());
        $this->assertSame(3, $outbox->status()->queued);
        $outbox->withdraw($second->outboxId, 'wrong patient');
        $outbox->discard($second->outboxId, 'the ward confirmed');
        $this->assertSame(1, $outbox->status()->discarded);
        $this->expectMedseal(function () use ($outbox, $second) {
            $outbox->requeue($second->outboxId);
        }, OutboxException::class, 'MEDSEAL_OUTBOX_STATE');
        $this->expectMedseal(function () use ($outbox) {
            $outbox->requeue(987654);
        }, OutboxException::class, 'MEDSEAL_OUTBOX_NOT_FOUND');
        $this->expectMedseal(function () use ($outbox, $first) {
            $outbox->discard($first->outboxId, 'not a dead letter');
        }, OutboxException::class, 'MEDSEAL_OUTBOX_STATE');
        $this->expectMedseal(function () use ($outbox, $first) {
            $outbox->withdraw($first->outboxId, '');
        }, GeneralException::class);

        // Online backup into a new file, which opens as the same outbox.
        $outbox->backup("$dir/backup.db");
        $copy = new Outbox("$dir/backup.db", 'hospital-a');
        $this->assertSame(4, $copy->status()->nextSequence);
        $this->expectMedseal(function () use ($outbox, $dir) {
            $outbox->backup("$dir/backup.db"); // never replaces a file
        }, MedsealException::class);
    }

    public function testOutboxErrors(): void
    {
        $hubKey = RecipientKey::generate();
        $dir = Fixtures::tempDir();
        (new Outbox("$dir/o.db", 'hospital-a', [$hubKey]))->close();
        $this->expectMedseal(function () use ($dir, $hubKey) {
            new Outbox("$dir/o.db", 'hospital-b', [$hubKey]);
        }, GeneralException::class, 'MEDSEAL_INVALID_ARGUMENT');
        file_put_contents("$dir/not.db", str_repeat('this is not sqlite', 100));
        $e = $this->expectMedseal(function () use ($dir, $hubKey) {
            new Outbox("$dir/not.db", 'hospital-a', [$hubKey]);
        }, OutboxException::class);
        $this->assertContains($e->getName(), ['MEDSEAL_OUTBOX_SCHEMA', 'MEDSEAL_OUTBOX_IO']);
        $this->expectMedseal(function () use ($dir, $hubKey) {
            new Outbox("$dir/missing-dir/o.db", 'hospital-a', [$hubKey]);
        }, OutboxException::class);
        $outbox = new Outbox("$dir/o.db", 'hospital-a', [$hubKey]);
        $this->expectMedseal(function () use ($outbox) {
            $outbox->enqueue('', '{}');
        }, MedsealException::class);
        $signer = new Signer(Key::generate());
        $jws = static function (string $header): string {
            return implode('.', array_map([Fixtures::class, 'b64url'], [$header, '{"id":"1"}', 'sig']));
        };
        foreach ([
            ['not a jws', 'MEDSEAL_JWS_MALFORMED'],
            ['{}', 'MEDSEAL_JWS_MALFORMED'],
            ['{"resourceType":"Patient","id":"p1"}', 'MEDSEAL_JWS_MALFORMED'],
            [$signer->sign(Fixtures::record(1), 'detached'), 'MEDSEAL_JWS_PAYLOAD_MISSING'],
            [$jws('{"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"JWT"}'), 'MEDSEAL_JWS_HEADER'],
            [$jws('{"alg":"EdDSA","typ":"medseal+jws"}'), 'MEDSEAL_JWS_HEADER'],
        ] as [$bad, $name]) {
            $this->expectMedseal(function () use ($outbox, $bad) {
                $outbox->enqueue('rec-1', $bad);
            }, JwsException::class, $name);
        }
        $this->expectMedseal(function () use ($outbox) {
            $outbox->receipt('rec-1');
        }, OutboxException::class, 'MEDSEAL_OUTBOX_NOT_FOUND');
        $this->assertSame(1, $outbox->status()->nextSequence); // no number used
        $this->assertSame(1, $outbox->enqueue('rec-1', $signer->sign(Fixtures::record(1)))->sequence);
        $this->assertSame(2, $outbox->enqueue('rec-2', $jws('{"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"medseal+jws"}'))->sequence);
        $this->expectMedseal(function () use ($outbox) {
            $outbox->receipt('rec-1');
        }, OutboxException::class, 'MEDSEAL_OUTBOX_STATE');
        $this->expectMedseal(function () use ($outbox) {
            $outbox->receipt('');
        }, GeneralException::class);
        // Without recipients the outbox administers but does not enqueue signed records.
        $admin = new Outbox("$dir/o.db", 'hospital-a');
        $this->assertSame(2, $admin->status()->queued);
        $this->expectMedseal(function () use ($admin, $signer) {
            $admin->enqueue('rec-3', $signer->sign(Fixtures::record(3)));
        }, MedsealException::class);
    }

    /**
     * Issue 10 point 10: an outbox opened with the facility's signing keys verifies each record
     * before it takes a number: another key's record, a made-up signature and an unsigned document
     * are refused and use none, so the next good record still gets sequence 1.
     */
    public function testSigningKeysRefuseBeforeNumbering(): void
    {
        $hubKey = RecipientKey::generate();
        $own = Key::generate();
        $path = Fixtures::tempDir() . '/checked.db';
        $foreign = new Signer(Key::generate());
        $outbox = new Outbox($path, 'hospital-a', [$hubKey], [$own->publicKey()]);
        $madeUp = implode('.', array_map(
            [Fixtures::class, 'b64url'],
            ['{"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"medseal+jws"}', '{"id":"1"}', 'sig']
        ));
        foreach ([
            [$foreign->sign(Fixtures::record(1)), 'MEDSEAL_JWS_SIGNATURE_INVALID'], // another hospital's record
            [$madeUp, 'MEDSEAL_JWS_SIGNATURE_INVALID'],
            ['{"resourceType":"Patient","id":"p1"}', 'MEDSEAL_JWS_MALFORMED'], // an unsigned document
        ] as [$bad, $name]) {
            $this->expectMedseal(function () use ($outbox, $bad) {
                $outbox->enqueue('rec-bad', $bad);
            }, JwsException::class, $name);
        }
        $this->assertSame(1, $outbox->status()->nextSequence);
        $this->assertSame(1, $outbox->enqueue('rec-1', (new Signer($own))->sign(Fixtures::record(1)))->sequence); // no number used
        $outbox->close();
        // Without keys the outbox does not verify: the foreign record takes number 2 (the hub would refuse it).
        $unchecked = new Outbox($path, 'hospital-a', [$hubKey]);
        $this->assertSame(2, $unchecked->enqueue('rec-2', $foreign->sign(Fixtures::record(2)))->sequence);
        $unchecked->close();
        // One Key alone is accepted; a private key is used for its public half.
        $one = new Outbox($path, 'hospital-a', [$hubKey], $own);
        $this->assertSame(3, $one->enqueue('rec-3', (new Signer($own))->sign(Fixtures::record(3)))->sequence);
        $one->close();
        foreach ([[], array_fill(0, 65, $own)] as $wrongCount) {
            try {
                new Outbox($path, 'hospital-a', [$hubKey], $wrongCount);
                $this->fail(count($wrongCount) . ' signing keys accepted');
            } catch (\InvalidArgumentException $e) {
                $this->assertStringContainsString('1 to 64', $e->getMessage());
            }
        }
        foreach ([[null], [$hubKey], 'signing.pub'] as $notKeys) {
            try {
                new Outbox($path, 'hospital-a', [$hubKey], $notKeys);
                $this->fail('not keys accepted');
            } catch (\TypeError $e) {
                $this->assertStringContainsString('Medseal\Key', $e->getMessage());
            }
        }
    }

    public function testTransportConfigErrors(): void
    {
        $hub = Hub::get();
        $e = $this->expectMedseal(function () use ($hub) {
            new Transport('http://127.0.0.1:1', ['facilityDir' => $hub->facilityDir]);
        }, TransportException::class, 'MEDSEAL_TRANSPORT_CONFIG');
        $this->assertStringContainsString('plain HTTP', $e->getDetail());
        $e = $this->expectMedseal(function () use ($hub) {
            new Transport($hub->url);
        }, TransportException::class);
        $this->assertStringContainsString('no client certificate', $e->getDetail());
        foreach ([
            ['batchSize' => 0],
            ['proxy' => 'socks5://127.0.0.1:1080'],
            ['facilityDir' => $hub->facilityDir . '/nope'],
        ] as $options) {
            $this->expectMedseal(function () use ($hub, $options) {
                new Transport($hub->url, array_merge(['facilityDir' => $hub->facilityDir], $options));
            }, TransportException::class);
        }
        $this->expectMedseal(function () use ($hub) {
            new Transport($hub->url, ['clientCertificate' => 'garbage']);
        }, TransportException::class);
        foreach ([[['receiptKey' => 'pem'], \TypeError::class], [['timeout' => '5'], \TypeError::class],
            [['timeout' => -1], \InvalidArgumentException::class], [['tls' => true], \InvalidArgumentException::class]] as [$options, $class]) {
            try {
                new Transport($hub->url, array_merge(['facilityDir' => $hub->facilityDir], $options));
                $this->fail('accepted ' . json_encode($options));
            } catch (\Throwable $e) {
                $this->assertInstanceOf($class, $e);
            }
        }
        // The same piece by piece, for a facility of its own (its outbox numbers from 1); it delivers
        // as well as the directory's.
        $hub = $hub->enrol('php-explicit');
        $d = $hub->facilityDir;
        $explicit = new Transport($hub->url, [
            'clientCertificate' => Fixtures::read("$d/client.pem"),
            'clientKey' => Fixtures::read("$d/client.key"),
            'hubCa' => Fixtures::read("$d/hub-ca.pem"),
            'receiptKey' => $hub->key('receipt.pub'),
            'treeHeadKey' => $hub->key('tree-head.pub'),
            'connectTimeout' => 5,
            'timeout' => 20.0,
            'batchSize' => 50,
            'proxyFromEnv' => false,
        ]);
        $outbox = new Outbox(Fixtures::tempDir() . '/explicit.db', $hub->facility, [$hub->recipient()]);
        $outbox->enqueue('php-explicit-1', (new Signer($hub->signingKey()))->sign(Fixtures::record(1)));
        $report = $outbox->deliver($explicit);
        $this->assertNull($report->error);
        $this->assertSame(1, $report->delivered);
    }

    /**
     * The hospital makes its TLS key on its token (facility init --tls-pkcs11-...), the hub enrols
     * the request, and each handshake is signed on the token: no client.key anywhere.
     */
    public function testTheTlsClientKeyStaysOnTheToken(): void
    {
        $env = Fixtures::pki();
        $hub = Hub::get();
        $cli = Fixtures::cli();
        $facility = 'php-token-tls';
        $dir = Fixtures::tempDir() . '/facility';
        $label = 'php-tls-' . bin2hex(random_bytes(4));
        [$module, $tokenLabel, $pin] = [$env['MEDSEAL_TEST_PKCS11_MODULE'], $env['MEDSEAL_TEST_PKCS11_TOKEN'], $env['MEDSEAL_TEST_PKCS11_PIN']];
        Fixtures::run([$cli, 'facility', 'init', '--facility', $facility, '--dir', $dir, '--tls-pkcs11-module', $module,
            '--tls-pkcs11-token', $tokenLabel, '--tls-key-label', $label], array_merge(getenv(), ['MEDSEAL_PKCS11_PIN' => $pin]));
        Fixtures::run([$cli, 'hub', 'enroll', '--dir', $hub->dir, '--facility', $facility, '--signing-key', "$dir/signing.pub",
            '--csr', "$dir/client.csr", '--out', $dir]);
        $this->assertFileDoesNotExist("$dir/client.key");
        $token = ['module' => $module, 'token' => $tokenLabel, 'key' => $label, 'pin' => $pin];

        $this->expectMedseal(function () use ($hub, $dir) {
            new Transport($hub->url, ['facilityDir' => $dir]);
        }, TransportException::class, 'MEDSEAL_TRANSPORT_CONFIG');
        $e = $this->expectMedseal(function () use ($hub, $dir, $token) {
            new Transport($hub->url, ['facilityDir' => $dir, 'clientKeyPkcs11' => ['pin' => '000000'] + $token]);
        }, SignerException::class, 'MEDSEAL_PKCS11_PIN');
        $this->assertStringNotContainsString($pin, $e->getMessage());
        $this->expectMedseal(function () use ($hub, $dir, $token) {
            new Transport($hub->url, ['facilityDir' => $dir, 'clientKeyPkcs11' => ['key' => 'no-such-key'] + $token]);
        }, SignerException::class, 'MEDSEAL_PKCS11_KEY_NOT_FOUND');
        // The token's other key is not the certificate's: refused before any connection.
        $this->expectMedseal(function () use ($hub, $dir, $token, $env) {
            new Transport($hub->url, ['facilityDir' => $dir, 'clientKeyPkcs11' => ['key' => $env['MEDSEAL_TEST_PKCS11_EC_KEY']] + $token]);
        }, TransportException::class, 'MEDSEAL_TRANSPORT_CONFIG');
        try {
            new Transport($hub->url, ['facilityDir' => $dir, 'clientKeyPkcs11' => ['module' => $module]]);
            $this->fail('an incomplete token key is refused');
        } catch (\InvalidArgumentException $missing) {
            $this->assertStringContainsString("needs 'token'", $missing->getMessage());
        }

        $signer = new Signer(Key::load(Fixtures::read("$dir/signing.key")));
        $outbox = new Outbox("$dir/outbox.db", $facility, [RecipientKey::load(Fixtures::read("$dir/hub-recipient.pub"))]);
        $transport = new Transport($hub->url, ['facilityDir' => $dir, 'clientKeyPkcs11' => $token]);
        $local = $outbox->enqueue('php-token-1', $signer->sign(Fixtures::record(1)));
        $report = $outbox->deliver($transport);
        $this->assertNull($report->error, (string) ($report->error ? $report->error->getMessage() : ''));
        $this->assertSame(1, $report->delivered);
        $kept = $outbox->receipt('php-token-1');
        $checked = Receipt::verify($kept->receipt, $kept->inclusionProof, Key::load(Fixtures::read("$dir/receipt.pub")),
            Key::load(Fixtures::read("$dir/tree-head.pub")), $facility, 'php-token-1', $local->digest);
        $this->assertSame(1, $checked->sequence);
    }

    public function testDeliverToTheHubAndCheckReceipts(): void
    {
        $hub = Hub::get()->enrol('php-deliver'); // a new outbox numbers from 1: its own facility
        $signer = new Signer($hub->signingKey());
        $path = Fixtures::tempDir() . '/deliver.db';
        $outbox = new Outbox($path, $hub->facility, [$hub->recipient()]);
        $transport = $hub->transport(['batchSize' => 10]);
        $receipts = [];
        for ($n = 0; $n < 25; $n++) {
            $receipts[] = $outbox->enqueue("php-deliver-$n", $signer->sign(Fixtures::record($n)));
        }
        $e = $this->expectMedseal(function () use ($outbox) {
            $outbox->receipt('php-deliver-7');
        }, OutboxException::class, 'MEDSEAL_OUTBOX_STATE');
        $this->assertStringContainsString('only a delivered record', $e->getDetail());
        $report = $outbox->deliver($transport);
        $this->assertNull($report->error, (string) ($report->error ? $report->error->getMessage() : ''));
        $this->assertSame([25, 0, 0, 0], [$report->delivered, $report->duplicates, $report->deadLetters, $report->retried]);
        $this->assertSame([25, 0], [$outbox->status()->delivered, $outbox->status()->queued]);
        $this->assertSame(0, $outbox->deliver($transport)->delivered); // nothing due any more
        $kept = $outbox->receipt('php-deliver-7');
        $this->expectMedseal(function () use ($outbox) {
            $outbox->receipt('php-deliver-99');
        }, OutboxException::class, 'MEDSEAL_OUTBOX_NOT_FOUND');
        $outbox->close();
        $this->assertEquals($kept, (new Outbox($path, $hub->facility))->receipt('php-deliver-7'));

        $this->assertInstanceOf(HubReceipt::class, $kept);
        $this->assertStringStartsWith('eyJ', $kept->receipt);
        $this->assertNotSame('', $kept->inclusionProof);
        $receiptKey = $hub->key('receipt.pub');
        $treeHeadKey = $hub->key('tree-head.pub');
        $local = $receipts[7];
        $checked = Receipt::verify($kept->receipt, $kept->inclusionProof, $receiptKey, $treeHeadKey, $hub->facility, 'php-deliver-7', $local->digest);
        $this->assertSame(['php-deliver-7', $hub->facility, $local->sequence, $local->digest],
            [$checked->recordId, $checked->source, $checked->sequence, $checked->digest]);
        $this->assertLessThan($checked->treeSize, $checked->ledgerIndex);
        $this->assertLessThan(300, abs(time() - $checked->received->getTimestamp()));
        foreach ([
            [$hub->facility, 'php-deliver-8', $local->digest],
            ['another-facility', 'php-deliver-7', $local->digest],
            [$hub->facility, 'php-deliver-7', $receipts[8]->digest],
        ] as [$source, $recordId, $digest]) {
            $this->expectMedseal(function () use ($kept, $receiptKey, $treeHeadKey, $source, $recordId, $digest) {
                Receipt::verify($kept->receipt, $kept->inclusionProof, $receiptKey, $treeHeadKey, $source, $recordId, $digest);
            }, LedgerException::class, 'MEDSEAL_LEDGER_RECEIPT_INVALID');
        }
        $this->expectMedseal(function () use ($kept, $treeHeadKey, $hub, $local) {
            Receipt::verify($kept->receipt, $kept->inclusionProof, $treeHeadKey, $treeHeadKey, $hub->facility, 'php-deliver-7', $local->digest);
        }, LedgerException::class);
    }

    public function testBackgroundDeliverer(): void
    {
        $hub = Hub::get()->enrol('php-background');
        $signer = new Signer($hub->signingKey());
        $outbox = new Outbox(Fixtures::tempDir() . '/bg.db', $hub->facility, [$hub->recipient()]);
        $deliverer = $outbox->deliverer($hub->transport(), 0.2);
        for ($n = 0; $n < 10; $n++) {
            $outbox->enqueue("php-bg-$n", $signer->sign(Fixtures::record($n)));
            $deliverer->notify();
        }
        $deadline = microtime(true) + 30;
        while ($outbox->status()->delivered < 10 && microtime(true) < $deadline) {
            usleep(50000);
        }
        $this->assertSame(10, $outbox->status()->delivered);
        $this->assertNull($deliverer->lastReport()->error);
        $deliverer->close();
        $this->assertTrue($deliverer->isClosed());
        $this->expectException(HandleClosedException::class);
        $deliverer->notify();
    }

    public function testHubDownKeepsRecordsQueued(): void
    {
        $hub = Hub::get();
        $outbox = new Outbox(Fixtures::tempDir() . '/down.db', $hub->facility, [$hub->recipient()]);
        $outbox->enqueue('php-down-1', (new Signer($hub->signingKey()))->sign(Fixtures::record(1)));
        $down = new Transport('https://127.0.0.1:9', ['facilityDir' => $hub->facilityDir, 'connectTimeout' => 2, 'timeout' => 5]);
        $report = $outbox->deliver($down);
        $this->assertSame([0, 1], [$report->delivered, $report->retried]);
        $this->assertInstanceOf(TransportException::class, $report->error);
        $this->assertSame('MEDSEAL_TRANSPORT_CONNECT', $report->error->getName());
        $this->assertNotSame('', $report->error->getDetail());
        $this->assertNotNull($report->nextAttemptAt);
        $this->assertSame(1, $outbox->status()->queued);
        $deliverer = $outbox->deliverer($down, 0.05);
        $deliverer->stop();
        $deliverer->stop(); // later stops do nothing
        $deliverer->close();
    }

    public function testRefusedRecordBecomesADeadLetter(): void
    {
        $hub = Hub::get()->enrol('php-dead-letter'); // refused for its key, not for a number another outbox used
        $stranger = new Signer(Key::generate()); // a key the hub does not know
        $outbox = new Outbox(Fixtures::tempDir() . '/dead.db', $hub->facility, [$hub->recipient()]);
        $local = $outbox->enqueue('php-dead-1', $stranger->sign(Fixtures::record(1)));
        $report = $outbox->deliver($hub->transport());
        $this->assertSame([1, 0], [$report->deadLetters, $report->delivered]);
        $this->assertSame([$local->outboxId], $outbox->deadLetters());
        $outbox->discard($local->outboxId, 'signed with an unregistered key');
        $this->assertSame(1, $outbox->status()->discarded);
    }

    public function testADeadLetterWithdrawnWithASignedTombstoneIsNoGap(): void
    {
        // A record the hub refused keeps its number; withdrawing it with the facility's key sends a
        // signed tombstone in its place, which the hub ledgers as withdrawn with the reason.
        $hub = Hub::get()->enrol('php-withdrawn');
        $signer = new Signer($hub->signingKey());
        $stranger = new Signer(Key::generate()); // a key the hub does not know
        $outbox = new Outbox(Fixtures::tempDir() . '/w.db', $hub->facility, [$hub->recipient()]);
        $transport = $hub->transport();
        $outbox->enqueue('php-w-1', $signer->sign(Fixtures::record(1)));
        $refused = $outbox->enqueue('php-w-2', $stranger->sign(Fixtures::record(2)));
        $report = $outbox->deliver($transport);
        $this->assertSame([1, 1], [$report->delivered, $report->deadLetters]);
        foreach ([
            function () use ($outbox, $refused) {
                $outbox->withdrawSigned($refused->outboxId, 'entered twice', 'not a signer');
            },
            function () use ($outbox, $signer) {
                $outbox->withdrawSigned('2', 'entered twice', $signer);
            },
        ] as $wrongType) {
            try {
                $wrongType();
                $this->fail('a wrong argument type accepted');
            } catch (\TypeError $e) {
                $this->assertStringContainsString('withdrawSigned', $e->getMessage());
            }
        }
        $this->expectMedseal(function () use ($outbox, $refused, $signer) {
            $outbox->withdrawSigned($refused->outboxId, '', $signer);
        }, GeneralException::class, 'MEDSEAL_INVALID_ARGUMENT');
        $this->expectMedseal(function () use ($outbox, $refused, $signer) {
            $outbox->withdrawSigned($refused->outboxId + 100, 'no such record', $signer);
        }, OutboxException::class, 'MEDSEAL_OUTBOX_NOT_FOUND');
        $closed = new Signer($hub->signingKey());
        $closed->close();
        try {
            $outbox->withdrawSigned($refused->outboxId, 'entered twice', $closed);
            $this->fail('a closed signer accepted');
        } catch (HandleClosedException $e) {
            $this->assertStringContainsString('Signer', $e->getMessage());
        }
        $outbox->withdrawSigned($refused->outboxId, 'signed with a key the hub does not know', $signer);
        $this->expectMedseal(function () use ($outbox, $refused, $signer) {
            $outbox->withdrawSigned($refused->outboxId, 'again', $signer);
        }, OutboxException::class, 'MEDSEAL_OUTBOX_STATE');
        $report = $outbox->deliver($transport);
        $this->assertNull($report->error, (string) ($report->error ? $report->error->getMessage() : ''));
        $this->assertSame([1, 0], [$report->delivered, $report->deadLetters]);
        $this->assertNotSame('', $outbox->receipt('php-w-2')->receipt); // the tombstone's receipt
        $audit = Fixtures::run([Fixtures::cli(), 'hub', 'audit', '--dir', $hub->dir]);
        $this->assertStringContainsString('withdrawn 2: signed with a key the hub does not know', $audit);
        $this->assertStringContainsString('no gaps', $audit);
    }
}
