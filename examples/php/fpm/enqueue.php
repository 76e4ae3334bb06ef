<?php

/**
 * A PHP-FPM page that signs a FHIR record, seals it to the hub and enqueues it in the outbox:
 * POST the record (JSON) to it, e.g. /enqueue.php?record_id=enc-2026-000123.
 *
 * Every FPM worker opens the same outbox file; each enqueue takes the next sequence number in
 * its own SQLite transaction (waiting for the other workers, never failing with "database is
 * locked"). Nothing is sent from here: a CLI worker (examples/php/deliver.php, from cron or
 * systemd) delivers the outbox to the hub. The server must preload the package (medseal.ini).
 *
 * Configuration, as FastCGI parameters (nginx: fastcgi_param; Apache: SetEnv; or env[...] in
 * the FPM pool): MEDSEAL_FACILITY (the facility id the hub enrolled), MEDSEAL_FACILITY_DIR (the
 * hospital's keys from `medseal facility init` and what `medseal hub enroll` wrote beside them:
 * signing.key, hub-recipient.pub, ...), MEDSEAL_OUTBOX (the outbox
 * file, writable by the workers), MEDSEAL_AUTOLOAD (Composer's vendor/autoload.php).
 */

declare(strict_types=1);

require $_SERVER['MEDSEAL_AUTOLOAD'] ?? __DIR__ . '/../../../bindings/php/autoload.php';

use Medseal\JsonException;
use Medseal\Key;
use Medseal\MedsealException;
use Medseal\Outbox;
use Medseal\RecipientKey;
use Medseal\Signer;

header('Content-Type: application/json');

/** Answers with `$status` and a JSON body, and ends the request. */
function reply(int $status, array $body): void
{
    http_response_code($status);
    echo json_encode($body, JSON_UNESCAPED_SLASHES), "\n";
}

$recordId = (string) ($_GET['record_id'] ?? '');
$record = (string) file_get_contents('php://input');
if ($_SERVER['REQUEST_METHOD'] !== 'POST' || $recordId === '' || $record === '') {
    reply(400, ['error' => 'POST a JSON record to ?record_id=...']);
    return;
}

$facilityDir = $_SERVER['MEDSEAL_FACILITY_DIR'];
try {
    // The keys are read on each request here for brevity; they are small files.
    $signer = new Signer(Key::load(file_get_contents("$facilityDir/signing.key")));
    $hub = RecipientKey::load(file_get_contents("$facilityDir/hub-recipient.pub"));
    // The facility's public signing key: the outbox verifies each record with it before numbering
    // it, so a wrong record is refused without leaving a hole in the facility's numbering.
    $signingPub = Key::load(file_get_contents("$facilityDir/signing.pub"));
    $outbox = new Outbox($_SERVER['MEDSEAL_OUTBOX'], $_SERVER['MEDSEAL_FACILITY'], [$hub], [$signingPub]);

    // Canonical JSON (strict: NFC text, no duplicate keys, exact numbers), signed as a JWS...
    $jws = $signer->sign($record);
    // ...then sealed to the hub (HPKE) with the next sequence number and stored durably.
    $receipt = $outbox->enqueue($recordId, $jws);

    reply($receipt->alreadyQueued ? 200 : 201, [
        'record_id' => $recordId,
        'sequence' => $receipt->sequence,
        'outbox_id' => $receipt->outboxId,
        'digest' => rtrim(strtr(base64_encode($receipt->digest), '+/', '-_'), '='),
        'already_queued' => $receipt->alreadyQueued,
        'worker' => getmypid(),
    ]);
} catch (JsonException $e) {
    // The record itself is not acceptable: the client's fault.
    reply(422, ['error' => $e->getName(), 'detail' => $e->getDetail()]);
} catch (MedsealException $e) {
    error_log('medseal: ' . $e->getMessage());
    reply(500, ['error' => $e->getName()]);
}
