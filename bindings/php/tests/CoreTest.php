<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\AbiVersionException;
use Medseal\GeneralException;
use Medseal\JsonException;
use Medseal\JwsException;
use Medseal\KeyException;
use Medseal\LedgerException;
use Medseal\Library;
use Medseal\LibraryLoadException;
use Medseal\Medseal;
use Medseal\MedsealException;
use Medseal\OutboxException;
use Medseal\SealException;
use Medseal\SignerException;
use Medseal\TransportException;
use Medseal\TrustException;
use PHPUnit\Framework\TestCase;

/** Loading, versions, result codes and the exception classes. */
final class CoreTest extends TestCase
{
    public function testVersionsAndAbi(): void
    {
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', Medseal::libraryVersion());
        $this->assertSame(1, Library::ABI_VERSION);
        $this->assertSame(1, Medseal::ABI_VERSION);
        $this->assertSame(1, (int) Library::ffi()->medseal_abi_version());
        $this->assertSame(realpath((string) getenv('MEDSEAL_LIB')), realpath(Library::path()));
        $this->assertFileExists(Library::headerPath());
        $this->assertStringEndsWith('medseal_ffi.h', Library::headerPath());
    }

    /**
     * FFI::load() cannot take medseal_ffi.h as it is: the file has no `#define FFI_LIB` (nor
     * FFI_SCOPE for ffi.preload), so PHP resolves its functions among the libraries already in
     * the process, where libmedseal is not (in a fresh process). The binding therefore uses
     * FFI::cdef(file contents, library path).
     */
    public function testFfiLoadCannotReadTheHeaderAsItIs(): void
    {
        $header = Fixtures::repo('include', 'medseal_ffi.h');
        $this->assertStringNotContainsString('FFI_LIB', Fixtures::read($header));
        $code = 'try { FFI::load($argv[1]); echo "loaded"; } catch (FFI\\Exception $e) { echo $e->getMessage(); }';
        $out = Fixtures::run([PHP_BINARY, '-r', $code, $header]);
        $this->assertStringStartsWith("Failed resolving C function 'medseal_", $out);
        $this->assertSame(1, (int) \FFI::cdef(Fixtures::read($header), Library::path())->medseal_abi_version());
    }

    public function testConstantsComeFromTheHeader(): void
    {
        $this->assertSame(0, Library::constant('MEDSEAL_OK'));
        $this->assertSame(307, Library::constant('MEDSEAL_JWS_SIGNATURE_INVALID'));
        $this->assertSame(2, Library::constant('MEDSEAL_ALG_ES256'));
        $this->expectException(\InvalidArgumentException::class);
        Library::constant('MEDSEAL_NO_SUCH_THING');
    }

    public function testConstantNameIsChecked(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        Library::constant('medseal_ok; system');
    }

    public function testResultNamesAndDescriptions(): void
    {
        $this->assertSame('MEDSEAL_OK', Medseal::resultName(0));
        $this->assertSame('MEDSEAL_JSON_DUPLICATE_KEY', Medseal::resultName(102));
        $this->assertSame('MEDSEAL_LEDGER_RANGE', Medseal::resultName(903));
        $this->assertNotSame('', Medseal::resultDescription(307));
        $this->assertNotSame(Medseal::resultDescription(307), Medseal::resultDescription(102));
        // An unknown code still has a name (the library's), never a crash.
        $this->assertNotSame('', Medseal::resultName(12345));
    }

    /** @return array<string, array{int, class-string}> */
    public function blocks(): array
    {
        return [
            'general' => [1, GeneralException::class],
            'json' => [100, JsonException::class],
            'key' => [203, KeyException::class],
            'jws' => [307, JwsException::class],
            'seal' => [405, SealException::class],
            'trust' => [503, TrustException::class],
            'signer' => [607, SignerException::class],
            'outbox' => [705, OutboxException::class],
            'transport' => [800, TransportException::class],
            'ledger' => [902, LedgerException::class],
        ];
    }

    /** @dataProvider blocks */
    public function testOneExceptionClassPerBlock(int $code, string $class): void
    {
        $e = MedsealException::forCode($code, 'detail text');
        $this->assertInstanceOf($class, $e);
        $this->assertInstanceOf(MedsealException::class, $e);
        $this->assertInstanceOf(\RuntimeException::class, $e);
        $this->assertSame($code, $e->getCode());
        $this->assertSame(Medseal::resultName($code), $e->getName());
        $this->assertSame('detail text', $e->getDetail());
        $this->assertSame($e->getName() . ': detail text', $e->getMessage());
        $this->assertSame(Medseal::resultDescription($code), $e->getDescription());
        $this->assertSame($class, MedsealException::classFor($code));
    }

    public function testErrorOfARealCallCarriesTheLibrarysMessage(): void
    {
        try {
            Medseal::canonicalize('{"a":1,"a":2}');
            $this->fail('no exception');
        } catch (JsonException $e) {
            $this->assertSame(102, $e->getCode());
            $this->assertSame('MEDSEAL_JSON_DUPLICATE_KEY', $e->getName());
            $this->assertStringContainsString('duplicate', $e->getDetail());
        }
        // A later successful call does not carry the old message.
        $this->assertSame('{"a":1}', Medseal::canonicalize('{"a":1}'));
    }

    /** Runs PHP code in a fresh process with `$env`; returns [exit status, output]. */
    private function php(string $code, array $env): array
    {
        $script = Fixtures::tempDir() . '/probe.php';
        $autoload = getenv('MEDSEAL_PHP_AUTOLOAD') ?: dirname(__DIR__) . '/autoload.php';
        file_put_contents($script, "<?php\nrequire " . var_export($autoload, true) . ";\n" . $code);
        $process = proc_open(
            [PHP_BINARY, '-d', 'display_errors=stderr', $script],
            [1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes,
            null,
            array_merge(getenv(), $env)
        );
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($process), $out];
    }

    public function testLoadErrors(): void
    {
        $probe = 'try { Medseal\Medseal::libraryVersion(); echo "loaded"; } catch (Medseal\LibraryLoadException $e) '
            . '{ echo get_class($e), "|", $e->getMessage(); }';
        [$status, $out] = $this->php($probe, ['MEDSEAL_LIB' => '/nonexistent/libmedseal.so']);
        $this->assertSame(0, $status, $out);
        $this->assertStringStartsWith(LibraryLoadException::class . '|', $out);
        $this->assertStringContainsString('/nonexistent/libmedseal.so', $out);

        // A library without medseal_abi_version (zlib) is named as not being medseal.
        $zlib = trim((string) shell_exec("ldconfig -p | awk '/libz\\.so\\.1 /{print \$NF; exit}'"));
        $this->assertFileExists($zlib);
        [, $out] = $this->php($probe, ['MEDSEAL_LIB' => $zlib]);
        $this->assertStringStartsWith(LibraryLoadException::class . '|', $out);
        $this->assertStringContainsString('not a medseal library', $out);

        [, $out] = $this->php($probe, ['MEDSEAL_HEADER' => '/nonexistent/medseal_ffi.h']);
        $this->assertStringContainsString('cannot find medseal_ffi.h', $out);
    }

    public function testAnotherAbiVersionIsRefused(): void
    {
        // A library reporting ABI 2 (built here with the C compiler).
        $dir = Fixtures::tempDir();
        file_put_contents("$dir/abi2.c", "#include <stdint.h>\nuint32_t medseal_abi_version(void) { return 2; }\n");
        Fixtures::run([Fixtures::requireTool('cc'), '-shared', '-fPIC', '-o', "$dir/libabi2.so", "$dir/abi2.c"]);
        [$status, $out] = $this->php(
            'try { Medseal\Medseal::libraryVersion(); } catch (Medseal\LibraryLoadException $e) '
            . '{ echo get_class($e), "|", $e->getMessage(); }',
            ['MEDSEAL_LIB' => "$dir/libabi2.so"]
        );
        $this->assertSame(0, $status, $out);
        $this->assertStringStartsWith(AbiVersionException::class . '|', $out);
        $this->assertStringContainsString('ABI version 2', $out);
        $this->assertStringContainsString('ABI version 1', $out);
    }

    public function testFfiRestrictedOutsidePreloadIsExplained(): void
    {
        // The CLI is never restricted by ffi.enable=preload (the FPM tests cover preloading); ffi.enable=0 is.
        $script = Fixtures::tempDir() . '/off.php';
        $autoload = getenv('MEDSEAL_PHP_AUTOLOAD') ?: dirname(__DIR__) . '/autoload.php';
        file_put_contents($script, "<?php\nrequire " . var_export($autoload, true) . ";\n"
            . 'try { Medseal\Medseal::libraryVersion(); } catch (Medseal\LibraryLoadException $e) { echo $e->getMessage(); }');
        $out = Fixtures::run([PHP_BINARY, '-d', 'ffi.enable=0', $script]);
        $this->assertStringContainsString('PHP refuses FFI here', $out);
        $this->assertStringContainsString('opcache.preload', $out);
    }
}
