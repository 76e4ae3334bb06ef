<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\Key;
use Medseal\RecipientKey;
use Medseal\Transport;
use PHPUnit\Framework\Assert;

/**
 * The reference hub (medseal hub init, facility init + hub enroll, hub serve) on 127.0.0.1, a free
 * port, over mutual TLS, as bindings/python/tests/conftest.py starts it: one per test run, stopped
 * at the end. A test that delivers a new outbox enrols its own facility (enrol()): every outbox
 * numbers its records from 1, and the hub refuses a facility's sequence number it already holds
 * (SEQUENCE_REUSED).
 */
final class Hub
{
    /** @var Hub|null */
    private static $instance = null;

    /** @var string */
    public $url;
    /** @var string */
    public $dir;
    /** @var string */
    public $facility;
    /** @var string */
    public $facilityDir;
    /** @var resource|null null in a view made by enrol(): only the hub that started it stops it */
    private $process = null;

    private function __construct()
    {
    }

    public static function get(): self
    {
        if (self::$instance === null) {
            self::$instance = self::start();
            register_shutdown_function([self::$instance, 'stop']);
        }
        return self::$instance;
    }

    private static function start(): self
    {
        $cli = Fixtures::cli();
        $base = Fixtures::tempDir('medseal-php-hub-');
        $hub = new self();
        $hub->dir = "$base/hub";
        $hub->facilityDir = "$base/facility";
        $hub->facility = 'php-test-facility';
        Fixtures::run([$cli, 'hub', 'init', '--dir', $hub->dir, '--listen', '127.0.0.1:0']);
        self::enrolInto($cli, $hub->dir, $hub->facility, $hub->facilityDir);
        $out = "$base/hub.out";
        $log = "$base/hub.log";
        $process = proc_open(
            [$cli, 'hub', 'serve', '--dir', $hub->dir, '--listen', '127.0.0.1:0'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $out, 'w'], 2 => ['file', $log, 'w']],
            $pipes
        );
        Assert::assertIsResource($process);
        $hub->process = $process;
        $deadline = microtime(true) + 20;
        while (microtime(true) < $deadline && proc_get_status($process)['running']) {
            if (preg_match('/^listening on (https:\/\/\S+)/m', (string) @file_get_contents($out), $m) === 1) {
                $hub->url = $m[1];
                return $hub;
            }
            usleep(50000);
        }
        Assert::fail("the reference hub did not start:\n" . @file_get_contents($log));
    }

    /**
     * Enrols a facility as a hospital and the hub's operator do: the hospital makes its keys
     * (`medseal facility init`), the hub enrols only the public parts (`medseal hub enroll
     * --signing-key signing.pub --csr client.csr`) into the same directory.
     */
    private static function enrolInto(string $cli, string $hubDir, string $facility, string $facilityDir): void
    {
        Fixtures::run([$cli, 'facility', 'init', '--facility', $facility, '--dir', $facilityDir]);
        Fixtures::run([$cli, 'hub', 'enroll', '--dir', $hubDir, '--facility', $facility,
            '--signing-key', "$facilityDir/signing.pub", '--csr', "$facilityDir/client.csr", '--out', $facilityDir]);
    }

    /** This running hub with a newly enrolled facility (the hub sees it at its next batch). */
    public function enrol(string $facility): self
    {
        $view = new self();
        $view->url = $this->url;
        $view->dir = $this->dir;
        $view->facility = $facility;
        $view->facilityDir = dirname($this->dir) . '/' . $facility;
        self::enrolInto(Fixtures::cli(), $view->dir, $facility, $view->facilityDir);
        return $view;
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process, 15);
            proc_close($this->process);
        }
    }

    /** @param array<string, mixed> $options */
    public function transport(array $options = []): Transport
    {
        return new Transport($this->url, array_merge(['facilityDir' => $this->facilityDir], $options));
    }

    public function signingKey(): Key
    {
        return Key::load(Fixtures::read($this->facilityDir . '/signing.key'));
    }

    public function recipient(): RecipientKey
    {
        return RecipientKey::load(Fixtures::read($this->facilityDir . '/hub-recipient.pub'));
    }

    public function key(string $name): Key
    {
        return Key::load(Fixtures::read($this->facilityDir . '/' . $name));
    }
}
