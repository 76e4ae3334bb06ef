<?php

declare(strict_types=1);

namespace Medseal\Tests;

use PHPUnit\Framework\Assert;

/**
 * Shared fixtures: the repository's files, the smoke scenario, temporary directories, the test
 * PKI + SoftHSM2 token + ledger fixtures of tests/c/fixtures.sh (openssl and softhsm2-util are
 * required: a missing tool FAILS the tests, it never skips them).
 */
final class Fixtures
{
    public const PATIENT = [
        'resourceType' => 'Patient',
        'id' => 'pat-001',
        'name' => [['family' => 'Nguyễn', 'given' => ['Văn', 'An']]],
        'birthDate' => '1980-02-29',
        'active' => true,
    ];

    /** @var array<string, string>|null */
    private static $pkiEnv = null;
    /** @var list<string> */
    private static $cleanup = [];

    public static function repo(string ...$parts): string
    {
        return implode('/', array_merge([dirname(__DIR__, 3)], $parts));
    }

    public static function smoke(string $name): string
    {
        return self::read(self::repo('tests', 'smoke', $name));
    }

    public static function smokeLine(string $name): string
    {
        return trim(self::smoke($name));
    }

    public static function read(string $path): string
    {
        $data = file_get_contents($path);
        Assert::assertIsString($data, "cannot read $path");
        return $data;
    }

    /** A record like PATIENT with another id. */
    public static function record(int $n): array
    {
        return array_merge(self::PATIENT, ['id' => sprintf('pat-%04d', $n)]);
    }

    /** A new empty directory, removed when the tests end. */
    public static function tempDir(string $prefix = 'medseal-php-'): string
    {
        $dir = sys_get_temp_dir() . '/' . $prefix . bin2hex(random_bytes(6));
        mkdir($dir, 0700, true);
        if (self::$cleanup === []) {
            register_shutdown_function([self::class, 'removeAll']);
        }
        self::$cleanup[] = $dir;
        return $dir;
    }

    public static function removeAll(): void
    {
        if (getenv('MEDSEAL_KEEP_TMP') === '1') {
            return;
        }
        foreach (self::$cleanup as $dir) {
            exec('rm -rf ' . escapeshellarg($dir));
        }
    }

    /** Runs a command; fails the test with its output unless it exits 0. Returns stdout. */
    public static function run(array $command, ?array $env = null, ?string $cwd = null): string
    {
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $cwd, $env);
        Assert::assertIsResource($process, 'cannot start ' . $command[0]);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $status = proc_close($process);
        Assert::assertSame(0, $status, implode(' ', $command) . " failed:\n$out\n$err");
        return (string) $out;
    }

    public static function requireTool(string $tool): string
    {
        $path = trim((string) shell_exec('command -v ' . escapeshellarg($tool) . ' 2>/dev/null'));
        if ($path === '') {
            Assert::fail("$tool is missing: install the test dependencies with bash scripts/install-deps.sh");
        }
        return $path;
    }

    /**
     * The test PKI, SoftHSM2 token and ledger fixtures (tests/c/fixtures.sh, made once per run):
     * the variables of its env.sh (MEDSEAL_TEST_FIXTURES, SOFTHSM2_CONF, MEDSEAL_TEST_PKCS11_*).
     *
     * @return array<string, string>
     */
    public static function pki(): array
    {
        if (self::$pkiEnv === null) {
            self::requireTool('openssl');
            self::requireTool('softhsm2-util');
            $out = self::tempDir('medseal-php-fixtures-') . '/c';
            self::run(['bash', self::repo('tests', 'c', 'fixtures.sh'), $out]);
            $env = [];
            foreach (file($out . '/env.sh', FILE_IGNORE_NEW_LINES) as $line) {
                if (preg_match("/^export ([A-Z0-9_]+)='?(.*?)'?$/", $line, $m) === 1) {
                    $env[$m[1]] = $m[2];
                }
            }
            Assert::assertArrayHasKey('SOFTHSM2_CONF', $env);
            putenv('SOFTHSM2_CONF=' . $env['SOFTHSM2_CONF']);
            self::$pkiEnv = $env;
        }
        return self::$pkiEnv;
    }

    public static function pkiFile(string $name): string
    {
        return self::read(self::pki()['MEDSEAL_TEST_FIXTURES'] . '/pki/' . $name);
    }

    public static function ledgerFile(string $name): string
    {
        return self::read(self::pki()['MEDSEAL_TEST_FIXTURES'] . '/ledger/' . $name);
    }

    /**
     * A fresh Composer project outside the repository with this package installed (copied, not
     * linked) from a path repository, the network off. Returns the project directory.
     */
    public static function composerProject(): string
    {
        $composer = self::requireTool('composer');
        $package = dirname(__DIR__);
        $project = self::tempDir('medseal-php-consumer-');
        file_put_contents("$project/composer.json", json_encode([
            'name' => 'hospital/records-app',
            'type' => 'project',
            'repositories' => [
                ['type' => 'path', 'url' => $package, 'options' => ['symlink' => false]],
                ['packagist.org' => false],
            ],
            'require' => ['php' => '>=7.4', 'medseal/medseal' => '*@dev'],
            'config' => ['allow-plugins' => false],
        ], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
        $env = [
            'PATH' => getenv('PATH'),
            'HOME' => $project,
            'COMPOSER_HOME' => "$project/.composer",
            'COMPOSER_CACHE_DIR' => "$project/.composer/cache",
            'COMPOSER_DISABLE_NETWORK' => '1',
            'COMPOSER_ALLOW_SUPERUSER' => '1',
            'COMPOSER_NO_INTERACTION' => '1',
        ];
        self::run([$composer, 'install', '--no-progress', '--no-dev', '--prefer-dist'], $env, $project);
        return $project;
    }

    /** The medseal CLI (the reference hub): $MEDSEAL_CLI, else target/{debug,release}/medseal. */
    public static function cli(): string
    {
        $env = getenv('MEDSEAL_CLI');
        if ($env !== false && $env !== '') {
            return $env;
        }
        $target = getenv('CARGO_TARGET_DIR') ?: self::repo('target');
        if ($target[0] !== '/') {
            $target = self::repo($target);
        }
        foreach (['debug', 'release'] as $profile) {
            if (is_file("$target/$profile/medseal")) {
                return "$target/$profile/medseal";
            }
        }
        Assert::fail('no medseal CLI: build it (cargo build -j2 -p medseal-cli) or set MEDSEAL_CLI');
    }

    public static function b64url(string $data): string
    {
        return rtrim(strtr(base64_encode($data), '+/', '-_'), '=');
    }

    public static function unb64url(string $text): string
    {
        return (string) base64_decode(strtr($text, '-_', '+/'), true);
    }

    /** The protected header of a flattened or compact JWS. */
    public static function protectedHeader(string $jws): array
    {
        $protected = $jws[0] === '{' ? json_decode($jws, true)['protected'] : explode('.', $jws)[0];
        return json_decode(self::unb64url($protected), true);
    }
}
