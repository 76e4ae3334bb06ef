<?php

declare(strict_types=1);

namespace Medseal\Tests;

use PHPUnit\Framework\TestCase;

/** The examples of examples/php run as documented (FpmTest runs fpm/enqueue.php and deliver.php). */
final class ExamplesTest extends TestCase
{
    private function example(string $name): string
    {
        return Fixtures::run([PHP_BINARY, Fixtures::repo('examples', 'php', $name)], array_merge(getenv(), ['MEDSEAL_LIB' => (string) getenv('MEDSEAL_LIB')]));
    }

    public function testSignVerify(): void
    {
        $out = $this->example('sign_verify.php');
        $this->assertStringContainsString('canonical: {"birthDate":"1980-02-29","id":"pat-001"', $out);
        $this->assertMatchesRegularExpression('/^verified:  kid=[A-Za-z0-9_-]{43} alg=EdDSA sigT=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m', $out);
        $this->assertStringContainsString('payload:   Nguyễn', $out);
        $this->assertStringContainsString('tampered:  MEDSEAL_JWS_SIGNATURE_INVALID (307)', $out);
        $this->assertStringContainsString('refused:   MEDSEAL_JSON_DUPLICATE_KEY', $out);
    }

    public function testSealOpen(): void
    {
        $out = $this->example('seal_open.php');
        $this->assertStringContainsString('meta:     record enc-2026-000123 from 79001, sequence 1', $out);
        $this->assertStringContainsString('opened:   {"id":"enc-1","resourceType":"Encounter","status":"finished"} signed by', $out);
        $this->assertStringContainsString('note:     free text, not a record', $out);
        $this->assertStringContainsString('stranger: MEDSEAL_SEAL_WRONG_RECIPIENT', $out);
    }

    public function testDeliverUsage(): void
    {
        $process = proc_open([PHP_BINARY, Fixtures::repo('examples', 'php', 'deliver.php')], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $this->assertSame(2, proc_close($process));
        $this->assertStringContainsString('usage: php deliver.php', (string) $err);
    }

    public function testInteropDriverErrorsAreNamedByCode(): void
    {
        $driver = Fixtures::repo('examples', 'php', 'interop');
        $dir = Fixtures::tempDir();
        file_put_contents("$dir/bad.json", '{"a":1,"a":2}');
        $process = proc_open([$driver, 'canon', "$dir/bad.json", "$dir/out.json"], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $this->assertSame(1, proc_close($process));
        $this->assertStringStartsWith('MEDSEAL_JSON_DUPLICATE_KEY: ', $err);
        $this->assertStringNotContainsString('Stack trace', $err);
    }
}
