<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\Outbox;
use Medseal\Receipt;
use PHPUnit\Framework\TestCase;

/**
 * The binding under Debian's PHP-FPM for real: its own php-fpm8.2 (not the system service) on a
 * unix socket in a temporary directory, 8 static workers, PHP's default ffi.enable=preload, the
 * package's medseal.ini fragment (opcache.preload of preload.php) and real FastCGI requests sent
 * with cgi-fcgi (libfcgi-bin). A request signs, seals and enqueues a record (the example page
 * examples/php/fpm/enqueue.php), with the package installed by Composer into an application and
 * preloaded from there; 8 workers enqueue into one outbox file at once while the CLI worker
 * example delivers from it to the reference hub, again and again; then everything is delivered
 * and a receipt checked.
 */
final class FpmTest extends TestCase
{
    /** @var string */
    private static $dir = '';
    /** @var resource|null */
    private static $fpm = null;
    /** @var string */
    private static $socket = '';
    /** @var string */
    private static $outbox = '';
    /** @var Hub */
    private static $hub;
    /** @var string the Composer project the pages use */
    private static $project = '';

    public static function setUpBeforeClass(): void
    {
        $fpmBinary = '';
        foreach (['php-fpm8.2', 'php-fpm'] as $candidate) {
            $found = trim((string) shell_exec('command -v ' . $candidate . ' 2>/dev/null'));
            if ($found === '' && is_file("/usr/sbin/$candidate")) {
                $found = "/usr/sbin/$candidate";
            }
            if ($found !== '') {
                $fpmBinary = $found;
                break;
            }
        }
        if ($fpmBinary === '') {
            self::fail('php-fpm8.2 is missing: install the test dependencies with bash scripts/install-deps.sh');
        }
        Fixtures::requireTool('cgi-fcgi');
        self::$hub = Hub::get()->enrol('php-fpm'); // this test's outbox numbers from 1: its own facility
        $dir = self::$dir = Fixtures::tempDir('medseal-php-fpm-');
        mkdir("$dir/conf.d");
        mkdir("$dir/barrier");
        self::$socket = "$dir/fpm.sock";
        self::$outbox = "$dir/outbox.db";
        $user = trim((string) shell_exec('id -un'));
        $root = posix_geteuid() === 0;
        $library = realpath((string) getenv('MEDSEAL_LIB'));
        self::assertIsString($library, 'MEDSEAL_LIB must name the library');
        // The package as Composer installs it into an application (vendor/medseal/medseal).
        self::$project = Fixtures::composerProject();
        $package = self::$project . '/vendor/medseal/medseal';

        // The package's own php.ini fragment, with this test's paths.
        $ini = Fixtures::read("$package/medseal.ini");
        $replacements = [
            '/^opcache\.preload=.*$/m' => 'opcache.preload=' . $package . '/preload.php',
            '/^opcache\.preload_user=.*$/m' => 'opcache.preload_user=' . $user,
            '/^medseal\.library=.*$/m' => 'medseal.library=' . $library,
        ];
        foreach ($replacements as $pattern => $line) {
            $ini = preg_replace($pattern, $line, $ini, -1, $count);
            self::assertSame(1, $count, "medseal.ini has no line $pattern");
        }
        file_put_contents("$dir/conf.d/30-medseal.ini", $ini);

        $pool = [
            '[global]',
            "pid = $dir/fpm.pid",
            "error_log = $dir/fpm.log",
            'daemonize = no',
            '[medseal-test]',
            'listen = ' . self::$socket,
            'pm = static',
            'pm.max_children = 8',
            'catch_workers_output = yes',
            'clear_env = yes',
            "php_admin_value[error_log] = $dir/php-errors.log",
            'php_admin_flag[log_errors] = on',
            'php_admin_flag[display_errors] = off',
        ];
        if ($root) {
            $pool[] = 'user = root';
            $pool[] = 'group = root';
        }
        file_put_contents("$dir/php-fpm.conf", implode("\n", $pool) . "\n");
        $command = [$fpmBinary, '--nodaemonize', '--fpm-config', "$dir/php-fpm.conf"];
        if ($root) {
            $command[] = '--allow-to-run-as-root';
        }
        // The system's FPM configuration directory plus ours (an empty entry keeps the compiled-in one).
        $env = ['PATH' => getenv('PATH'), 'PHP_INI_SCAN_DIR' => ":$dir/conf.d"];
        self::$fpm = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$dir/fpm.out", 'w'], 2 => ['file', "$dir/fpm.err", 'w']], $pipes, $dir, $env);
        self::assertIsResource(self::$fpm);
        $deadline = microtime(true) + 20;
        while (!file_exists(self::$socket) && microtime(true) < $deadline && proc_get_status(self::$fpm)['running']) {
            usleep(50000);
        }
        if (!file_exists(self::$socket)) {
            self::fail("php-fpm did not start:\n" . @file_get_contents("$dir/fpm.err") . @file_get_contents("$dir/fpm.log"));
        }
    }

    public static function tearDownAfterClass(): void
    {
        if (is_resource(self::$fpm)) {
            proc_terminate(self::$fpm, 3); // SIGQUIT: graceful stop
            $deadline = microtime(true) + 10;
            while (proc_get_status(self::$fpm)['running'] && microtime(true) < $deadline) {
                usleep(50000);
            }
            if (proc_get_status(self::$fpm)['running']) {
                proc_terminate(self::$fpm, 9);
            }
            proc_close(self::$fpm);
            self::$fpm = null;
        }
    }

    /** FastCGI parameters every request carries (as nginx's fastcgi_param would). */
    private static function params(string $script, string $query = '', string $method = 'GET'): array
    {
        return [
            'PATH' => getenv('PATH'),
            'SCRIPT_FILENAME' => $script,
            'SCRIPT_NAME' => '/' . basename($script),
            'REQUEST_METHOD' => $method,
            'QUERY_STRING' => $query,
            'SERVER_PROTOCOL' => 'HTTP/1.1',
            'GATEWAY_INTERFACE' => 'CGI/1.1',
            'REMOTE_ADDR' => '127.0.0.1',
            'MEDSEAL_AUTOLOAD' => self::$project . '/vendor/autoload.php',
            'MEDSEAL_FACILITY' => self::$hub->facility,
            'MEDSEAL_FACILITY_DIR' => self::$hub->facilityDir,
            'MEDSEAL_OUTBOX' => self::$outbox,
            'MEDSEAL_BARRIER' => self::$dir . '/barrier',
        ];
    }

    /** Starts one FastCGI request with cgi-fcgi; returns the process and its stdout pipe. */
    private static function start(array $params, string $body = ''): array
    {
        if ($body !== '') {
            $params['CONTENT_TYPE'] = 'application/json';
            $params['CONTENT_LENGTH'] = (string) strlen($body);
        }
        $process = proc_open(
            ['timeout', '120', 'cgi-fcgi', '-bind', '-connect', self::$socket],
            [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes,
            null,
            $params
        );
        self::assertIsResource($process);
        fwrite($pipes[0], $body);
        fclose($pipes[0]);
        return [$process, $pipes];
    }

    /** @return array{int, string} the HTTP status and the body */
    private static function finish(array $started): array
    {
        [$process, $pipes] = $started;
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        self::assertSame(0, proc_close($process), "cgi-fcgi failed: $err");
        $parts = preg_split("/\r?\n\r?\n/", $out, 2);
        self::assertCount(2, $parts, "not a FastCGI response: $out");
        $status = preg_match('/^Status: (\d{3})/mi', $parts[0], $m) === 1 ? (int) $m[1] : 200;
        return [$status, $parts[1]];
    }

    private static function request(array $params, string $body = ''): array
    {
        return self::finish(self::start($params, $body));
    }

    public function testAPageThatIsNotPreloadedCannotUseFfiItself(): void
    {
        [$status, $body] = self::request(self::params(__DIR__ . '/fpm/direct_ffi.php'));
        $this->assertSame(200, $status);
        $this->assertStringContainsString('FFI API is restricted by "ffi.enable"', $body);
        $this->assertStringContainsString('ffi.enable=preload', $body);
        $this->assertStringContainsString('preloaded=yes', $body);
        // The installed package reads its own copy of the declarations, and the library named by medseal.ini.
        $this->assertStringContainsString('header=' . self::$project . '/vendor/medseal/medseal/resources/medseal_ffi.h', $body);
        $this->assertStringContainsString('library=' . realpath((string) getenv('MEDSEAL_LIB')), $body);
        $this->assertMatchesRegularExpression('/^version=\d+\.\d+\.\d+/m', $body);
    }

    public function testARequestSignsSealsAndEnqueues(): void
    {
        $page = Fixtures::repo('examples', 'php', 'fpm', 'enqueue.php');
        $record = Fixtures::smoke('patient.json');
        [$status, $body] = self::request(self::params($page, 'record_id=fpm-first', 'POST'), $record);
        $this->assertSame(201, $status, $body);
        $answer = json_decode($body, true);
        $this->assertSame('fpm-first', $answer['record_id']);
        $this->assertSame(1, $answer['sequence']);
        $this->assertSame(43, strlen($answer['digest']));
        // The same record again: the original receipt, no new number.
        [$status, $body] = self::request(self::params($page, 'record_id=fpm-first', 'POST'), $record);
        $this->assertSame(200, $status, $body);
        $this->assertSame([1, true], [json_decode($body, true)['sequence'], json_decode($body, true)['already_queued']]);
        // A record the strict policy refuses is the client's error, named by its code.
        [$status, $body] = self::request(self::params($page, 'record_id=fpm-bad', 'POST'), '{"a":1,"a":2}');
        $this->assertSame(422, $status, $body);
        $this->assertSame('MEDSEAL_JSON_DUPLICATE_KEY', json_decode($body, true)['error']);
        [$status] = self::request(self::params($page, 'record_id=fpm-bad', 'POST'), Fixtures::smoke('patient_nfd.json'));
        $this->assertSame(422, $status);

        $outbox = new Outbox(self::$outbox, self::$hub->facility);
        $this->assertSame(1, $outbox->status()->queued);
        $this->assertSame(2, $outbox->status()->nextSequence);
    }

    /** @depends testARequestSignsSealsAndEnqueues */
    public function testEightWorkersEnqueueIntoOneOutboxAtOnce(): void
    {
        $workers = 8;
        $each = 25;
        $page = __DIR__ . '/fpm/enqueue_many.php';
        $started = [];
        for ($w = 0; $w < $workers; $w++) {
            $started[] = self::start(self::params($page, "prefix=w$w&count=$each"));
        }
        // Every worker holds a request before any enqueues: 8 processes really at once.
        $deadline = microtime(true) + 30;
        while (count(glob(self::$dir . '/barrier/ready-*')) < $workers && microtime(true) < $deadline) {
            usleep(20000);
        }
        $ready = glob(self::$dir . '/barrier/ready-*');
        // Meanwhile the CLI worker delivers to the hub, again and again, from the same file.
        $worker = proc_open(
            ['bash', '-c', 'for run in 1 2 3 4 5 6; do "$@" || exit 1; sleep 0.1; done', 'deliver-loop',
                PHP_BINARY, Fixtures::repo('examples', 'php', 'deliver.php'), self::$outbox, self::$hub->facility,
                self::$hub->facilityDir, self::$hub->url],
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $workerPipes,
            null,
            array_merge(getenv(), ['MEDSEAL_AUTOLOAD' => self::$project . '/vendor/autoload.php'])
        );
        touch(self::$dir . '/barrier/go');
        $this->assertCount($workers, $ready, 'not every worker took a request');

        $pids = [];
        $sequences = [];
        $errors = [];
        foreach ($started as $request) {
            [$status, $body] = self::finish($request);
            $this->assertSame(200, $status, $body);
            $this->assertStringNotContainsStringIgnoringCase('locked', $body);
            $answer = json_decode($body, true);
            $this->assertIsArray($answer, $body);
            $pids[$answer['worker']] = true;
            foreach ($answer['results'] as $result) {
                if (isset($result['error'])) {
                    $errors[] = $result['error'];
                } else {
                    $sequences[$result['id']] = $result['sequence'];
                }
            }
        }
        $workerOut = (string) stream_get_contents($workerPipes[1]);
        $workerErr = (string) stream_get_contents($workerPipes[2]);
        fclose($workerPipes[1]);
        fclose($workerPipes[2]);
        $this->assertSame(0, proc_close($worker), "the delivering worker failed:\n$workerOut\n$workerErr");
        $this->assertSame(6, substr_count($workerOut, '"error":null'), $workerOut);
        $this->assertStringNotContainsStringIgnoringCase('locked', $workerOut . $workerErr);
        $this->assertSame([], $errors);
        $this->assertCount($workers, $pids, 'the requests were not served by 8 different workers');
        $this->assertCount($workers * $each, $sequences);
        // Gapless and unique: 2 .. 201 (1 went to the first test's record).
        $numbers = array_values($sequences);
        sort($numbers);
        $this->assertSame(range(2, $workers * $each + 1), $numbers);

        $outbox = new Outbox(self::$outbox, self::$hub->facility);
        $status = $outbox->status();
        $this->assertSame($workers * $each + 1, $status->queued + $status->delivered + $status->inFlight);
        $this->assertSame(0, $status->deadLetter);
        $this->assertSame($workers * $each + 2, $status->nextSequence);
        $log = (string) @file_get_contents(self::$dir . '/php-errors.log') . (string) @file_get_contents(self::$dir . '/fpm.log');
        $this->assertStringNotContainsStringIgnoringCase('locked', $log);
        $this->assertStringNotContainsString('Fatal', $log);
        $this->assertStringNotContainsString('SIGSEGV', $log);
    }

    /** @depends testEightWorkersEnqueueIntoOneOutboxAtOnce */
    public function testTheCliWorkerDeliversWhatTheWorkersEnqueued(): void
    {
        $out = Fixtures::run(
            [PHP_BINARY, Fixtures::repo('examples', 'php', 'deliver.php'), self::$outbox, self::$hub->facility, self::$hub->facilityDir, self::$hub->url],
            array_merge(getenv(), ['MEDSEAL_AUTOLOAD' => getenv('MEDSEAL_PHP_AUTOLOAD') ?: dirname(__DIR__) . '/autoload.php'])
        );
        $report = json_decode($out, true);
        $this->assertIsArray($report, $out);
        $this->assertNull($report['error']);
        $this->assertSame([0, 0, 201], [$report['dead_letters'], $report['queued'], $report['delivered_total']]);
        $this->assertSame(201, $report['receipt_checked']['sequence']);

        // The receipt of the page's first record, checked here too.
        $outbox = new Outbox(self::$outbox, self::$hub->facility);
        $kept = $outbox->receipt('fpm-first');
        $db = new \PDO('sqlite:' . self::$outbox);
        $digest = $db->query("SELECT digest FROM records WHERE record_id = 'fpm-first'")->fetchColumn();
        $receipt = Receipt::verify($kept->receipt, $kept->inclusionProof, self::$hub->key('receipt.pub'),
            self::$hub->key('tree-head.pub'), self::$hub->facility, 'fpm-first', (string) $digest);
        $this->assertSame(1, $receipt->sequence);
    }
}
