<?php

/**
 * `make bench-php`: signing a 1 KB record from PHP.
 *
 * - medseal-php: Signer::sign() of the record as JSON text (canonical JSON + JWS with the JAdES
 *   header, Ed25519), and of the same record as a PHP array (the binding writes the JSON first);
 * - the shortcut PHP developers write by hand: sodium_crypto_sign_detached(json_encode($record))
 *   (not canonical, no JWS), Ed25519 through libsodium;
 * - the same signing from C (sign_c, built by the Makefile target against the same library), to
 *   give the binding's per-call FFI overhead: PHP time per call minus C time per call.
 *
 * Prints "RATIO name medseal/reference = X (goal >= G)" lines (speed: reference time / medseal
 * time, so above 1 medseal is faster) and "OVERHEAD ..." lines.
 *
 *   php bindings/php/bench/bench.php SIGN_C_BINARY [N]
 */

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

use Medseal\Key;
use Medseal\Library;
use Medseal\Signer;

$signC = $argv[1] ?? '';
$n = (int) ($argv[2] ?? 20000);

// A 1 KB FHIR Observation.
$record = [
    'resourceType' => 'Observation',
    'id' => 'obs-2026-000123',
    'status' => 'final',
    'category' => [['coding' => [['system' => 'http://terminology.hl7.org/CodeSystem/observation-category', 'code' => 'vital-signs']]]],
    'code' => ['coding' => [['system' => 'http://loinc.org', 'code' => '85354-9', 'display' => 'Blood pressure panel']]],
    'subject' => ['reference' => 'Patient/pat-001', 'display' => 'Nguyễn Văn An'],
    'effectiveDateTime' => '2026-03-01T08:30:00+07:00',
    'performer' => [['reference' => 'Practitioner/prac-17', 'display' => 'BS. Trần Thị Bình']],
    'component' => [
        ['code' => ['coding' => [['system' => 'http://loinc.org', 'code' => '8480-6', 'display' => 'Systolic blood pressure']]],
            'valueQuantity' => ['value' => 128, 'unit' => 'mmHg', 'system' => 'http://unitsofmeasure.org', 'code' => 'mm[Hg]']],
        ['code' => ['coding' => [['system' => 'http://loinc.org', 'code' => '8462-4', 'display' => 'Diastolic blood pressure']]],
            'valueQuantity' => ['value' => 82, 'unit' => 'mmHg', 'system' => 'http://unitsofmeasure.org', 'code' => 'mm[Hg]']],
    ],
    'note' => [['text' => 'Đo sau 5 phút nghỉ, tư thế ngồi, tay trái. Measured after 5 minutes of rest, seated, left arm.']],
];
$json = json_encode($record, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
printf("record: %d bytes of JSON; %d calls each\n", strlen($json), $n);

$signer = new Signer(Key::generate('EdDSA'), ['signingTime' => 1767225600]);
$pair = sodium_crypto_sign_keypair();
$secret = sodium_crypto_sign_secretkey($pair);

/** Best of 3 timings of `$n` calls of `$f`, in ns per call. */
function measure(callable $f, int $n): float
{
    $best = INF;
    for ($round = 0; $round < 3; $round++) {
        $start = hrtime(true);
        for ($i = 0; $i < $n; $i++) {
            $f();
        }
        $best = min($best, (hrtime(true) - $start) / $n);
    }
    return $best;
}

$ffi = Library::ffi();
$tMedsealText = measure(static function () use ($signer, $json) {
    $signer->sign($json);
}, $n);
$tMedsealArray = measure(static function () use ($signer, $record) {
    $signer->sign($record);
}, $n);
$tSodium = measure(static function () use ($record, $secret) {
    sodium_crypto_sign_detached(json_encode($record), $secret);
}, $n);
$tCall = measure(static function () use ($ffi) {
    $ffi->medseal_abi_version();
}, $n * 10);

printf("medseal-php sign (JSON text):  %8.0f ns/call\n", $tMedsealText);
printf("medseal-php sign (PHP array):  %8.0f ns/call\n", $tMedsealArray);
printf("sodium(json_encode(record)):   %8.0f ns/call\n", $tSodium);
printf("RATIO sign-1k-text medseal/sodium-json_encode = %.2f (goal >= 0.8)\n", $tSodium / $tMedsealText);
printf("RATIO sign-1k-array medseal/sodium-json_encode = %.2f (goal >= 0.8)\n", $tSodium / $tMedsealArray);
printf("OVERHEAD empty FFI call (medseal_abi_version) = %.0f ns\n", $tCall);
if ($signC !== '') {
    $file = tempnam(sys_get_temp_dir(), 'medseal-bench-');
    file_put_contents($file, $json);
    $out = (string) shell_exec(escapeshellarg($signC) . ' ' . escapeshellarg($file) . ' ' . $n);
    unlink($file);
    if (preg_match('/^C_NS_PER_SIGN (\d+)/m', $out, $m) !== 1) {
        fwrite(STDERR, "sign_c failed: $out\n");
        exit(1);
    }
    $tC = (float) $m[1];
    printf("C medseal_signer_sign:         %8.0f ns/call\n", $tC);
    printf("OVERHEAD php-ffi sign-1k-text = %.0f ns per call (%.1f%% of the C call)\n", $tMedsealText - $tC, 100 * ($tMedsealText - $tC) / $tC);
}
