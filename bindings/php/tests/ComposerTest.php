<?php

declare(strict_types=1);

namespace Medseal\Tests;

use PHPUnit\Framework\TestCase;

/**
 * Composer installs the package into a fresh consumer project outside the repository from a
 * path repository, with the network off (Packagist disabled, COMPOSER_DISABLE_NETWORK=1), and
 * the project signs and verifies with it through vendor/autoload.php.
 */
final class ComposerTest extends TestCase
{
    public function testComposerInstallsThePackageOfflineIntoAFreshProject(): void
    {
        $package = dirname(__DIR__);
        $this->assertFileExists("$package/resources/medseal_ffi.h", 'run bindings/php/run-tests.sh (it copies the declarations)');
        $this->assertFileEquals(Fixtures::repo('include', 'medseal_ffi.h'), "$package/resources/medseal_ffi.h");
        $project = Fixtures::composerProject();
        $installed = "$project/vendor/medseal/medseal";
        $this->assertDirectoryExists($installed);
        $this->assertFalse(is_link($installed), 'the package was linked, not installed');
        $this->assertFileExists("$installed/src/Signer.php");
        $this->assertFileExists("$installed/preload.php");
        $this->assertFileExists("$installed/medseal.ini");
        $this->assertFileEquals(Fixtures::repo('include', 'medseal_ffi.h'), "$installed/resources/medseal_ffi.h");
        $lock = json_decode(Fixtures::read("$project/composer.lock"), true);
        $this->assertSame(['medseal/medseal'], array_column($lock['packages'], 'name'));
        $this->assertSame(['ext-ffi' => '*', 'php' => '>=7.4'], $lock['packages'][0]['require']);

        // The consumer's code, with only vendor/autoload.php: signs the smoke record byte for byte.
        file_put_contents("$project/app.php", <<<'PHP'
<?php
require __DIR__ . '/vendor/autoload.php';
use Medseal\Key;
use Medseal\Signer;
use Medseal\Verifier;
[, $keyFile, $recordFile, $sigt] = $argv;
$signer = new Signer(Key::load(file_get_contents($keyFile)), ['signingTime' => (int) $sigt]);
$jws = $signer->sign(file_get_contents($recordFile));
$verified = (new Verifier($signer->publicKey()))->verify($jws);
echo json_encode(['jws' => $jws, 'kid' => $verified->kid, 'header' => Medseal\Library::headerPath()]);
PHP);
        $out = Fixtures::run(
            [PHP_BINARY, "$project/app.php", Fixtures::repo('tests', 'smoke', 'signer_ed25519.pem'),
                Fixtures::repo('tests', 'smoke', 'patient.json'), Fixtures::smokeLine('sigt.unix')],
            ['PATH' => getenv('PATH'), 'MEDSEAL_LIB' => (string) getenv('MEDSEAL_LIB')],
            $project
        );
        $answer = json_decode($out, true);
        $this->assertIsArray($answer, $out);
        $this->assertSame(Fixtures::smoke('patient.flattened.jws'), $answer['jws']);
        $this->assertSame(Fixtures::smokeLine('kid.txt'), $answer['kid']);
        $this->assertSame(realpath("$installed/resources/medseal_ffi.h"), realpath($answer['header']));
    }
}
