<?php

/**
 * Sign a FHIR record and verify it (php examples/php/sign_verify.php).
 *
 * From the repository root after `make bindings` (MEDSEAL_LIB names the library; with Composer,
 * require vendor/autoload.php instead of the package's autoload.php).
 */

declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';

use Medseal\JsonException;
use Medseal\JwsException;
use Medseal\Key;
use Medseal\Medseal;
use Medseal\Signer;
use Medseal\Verifier;

// A record as JSON text (or a PHP array: floats are refused, use Medseal\JsonNumber or text).
$record = '{"resourceType":"Patient","id":"pat-001","name":[{"family":"Nguyễn","given":["Văn","An"]}],"birthDate":"1980-02-29"}';

// The facility's signing key: generated here, normally loaded from PEM (Key::load(file_get_contents(...))).
$key = Key::generate('EdDSA');
$signer = new Signer($key);

echo "canonical: ", Medseal::canonicalize($record), "\n";
$jws = $signer->sign($record);                       // JWS JSON (flattened); 'compact' or 'detached' too
echo "signed:    ", substr($jws, 0, 72), "...\n";

$verifier = new Verifier([$key->publicKey()]);       // or ['trustAnchors' => $pem] / ['trustList' => $list]
$verified = $verifier->verify($jws);
printf("verified:  kid=%s alg=%s sigT=%s\n", $verified->kid, $verified->algorithm, $verified->signingTimeText);
echo "payload:   ", $verified->json()['name'][0]['family'], "\n";

// Errors are exceptions carrying the library's code and name.
try {
    $verifier->verify(str_replace('"signature":"', '"signature":"AAAA', $jws));
} catch (JwsException $e) {
    printf("tampered:  %s (%d)\n", $e->getName(), $e->getCode());
}
try {
    $signer->sign('{"id":"a","id":"b"}');
} catch (JsonException $e) {
    printf("refused:   %s: %s\n", $e->getName(), $e->getDetail());
}
