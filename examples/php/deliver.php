<?php

/**
 * The CLI worker that delivers an outbox to the hub (run it from cron or a systemd timer; the PHP
 * command line may use FFI without preloading):
 *
 *   php examples/php/deliver.php OUTBOX FACILITY FACILITY_DIR HUB_URL
 *
 * e.g. every minute from cron:
 *   * * * * *  www-data  php /srv/app/bin/deliver.php /srv/app/var/outbox.db 79001 /etc/medseal/facility https://hub.example:8443
 *
 * It delivers every due record (mutual TLS with the hospital's client.key from `medseal facility
 * init` and the certificate `medseal hub enroll` issued for it),
 * checks each hub receipt and its ledger inclusion proof (the library does so before it marks a
 * record delivered; here they are checked again from the outbox, as an auditor would), and prints
 * one JSON line. Exit 0 when the run reached the hub, 1 otherwise (the records stay queued and
 * are retried at the next run).
 */

declare(strict_types=1);

require getenv('MEDSEAL_AUTOLOAD') ?: __DIR__ . '/../../bindings/php/autoload.php';

use Medseal\Key;
use Medseal\MedsealException;
use Medseal\Outbox;
use Medseal\Receipt;
use Medseal\RecipientKey;
use Medseal\Transport;

if ($argc !== 5) {
    fwrite(STDERR, "usage: php deliver.php OUTBOX FACILITY FACILITY_DIR HUB_URL\n");
    exit(2);
}
[, $outboxPath, $facility, $facilityDir, $hubUrl] = $argv;

try {
    $outbox = new Outbox($outboxPath, $facility, [RecipientKey::load(file_get_contents("$facilityDir/hub-recipient.pub"))]);
    $transport = new Transport($hubUrl, ['facilityDir' => $facilityDir, 'connectTimeout' => 10, 'timeout' => 30]);
    $report = $outbox->deliver($transport);

    // Check the hub's receipt of the newest delivered record again (the library already did).
    $checked = null;
    $db = new PDO('sqlite:' . $outboxPath, null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $db->exec('PRAGMA busy_timeout = 30000');
    $last = $db->query("SELECT record_id FROM records WHERE state = 'delivered' ORDER BY sequence DESC LIMIT 1")->fetchColumn();
    if ($last !== false) {
        $kept = $outbox->receipt($last);
        $local = $db->prepare('SELECT digest FROM records WHERE record_id = ?');
        $local->execute([$last]);
        $digest = $local->fetchColumn();
        $receipt = Receipt::verify(
            $kept->receipt,
            $kept->inclusionProof,
            Key::load(file_get_contents("$facilityDir/receipt.pub")),
            Key::load(file_get_contents("$facilityDir/tree-head.pub")),
            $facility,
            $last,
            is_string($digest) ? $digest : ''
        );
        $checked = ['record_id' => $receipt->recordId, 'sequence' => $receipt->sequence, 'ledger_index' => $receipt->ledgerIndex];
    }
    $status = $outbox->status();
    echo json_encode([
        'delivered' => $report->delivered,
        'duplicates' => $report->duplicates,
        'dead_letters' => $report->deadLetters,
        'retried' => $report->retried,
        'error' => $report->error ? $report->error->getName() . ': ' . $report->error->getDetail() : null,
        'queued' => $status->queued,
        'delivered_total' => $status->delivered,
        'receipt_checked' => $checked,
    ], JSON_UNESCAPED_SLASHES), "\n";
    exit($report->error === null ? 0 : 1);
} catch (MedsealException $e) {
    fwrite(STDERR, $e->getName() . ': ' . $e->getDetail() . "\n");
    exit(1);
}
