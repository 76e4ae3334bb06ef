<?php

/**
 * Test page of FpmTest: waits until every worker holds a request (a barrier through files), then
 * enqueues `count` signed records and answers with what happened to each (JSON). Errors are
 * caught and reported per record, so a "database is locked" could not hide.
 */

declare(strict_types=1);

require $_SERVER['MEDSEAL_AUTOLOAD'];

header('Content-Type: application/json');
$dir = $_SERVER['MEDSEAL_BARRIER'];
$prefix = (string) $_GET['prefix'];
$count = (int) $_GET['count'];
touch("$dir/ready-$prefix-" . getmypid());
$deadline = microtime(true) + 30;
while (!file_exists("$dir/go") && microtime(true) < $deadline) {
    usleep(10000);
}
$facilityDir = $_SERVER['MEDSEAL_FACILITY_DIR'];
$results = [];
try {
    $signer = new Medseal\Signer(Medseal\Key::load(file_get_contents("$facilityDir/signing.key")));
    $outbox = new Medseal\Outbox($_SERVER['MEDSEAL_OUTBOX'], $_SERVER['MEDSEAL_FACILITY'], [
        Medseal\RecipientKey::load(file_get_contents("$facilityDir/hub-recipient.pub")),
    ]);
    for ($i = 0; $i < $count; $i++) {
        $id = "$prefix-$i";
        try {
            $jws = $signer->sign(['resourceType' => 'Observation', 'id' => $id, 'status' => 'final']);
            $results[] = ['id' => $id, 'sequence' => $outbox->enqueue($id, $jws)->sequence];
        } catch (Throwable $e) {
            $results[] = ['id' => $id, 'error' => get_class($e) . ': ' . $e->getMessage()];
        }
    }
} catch (Throwable $e) {
    $results[] = ['error' => get_class($e) . ': ' . $e->getMessage()];
}
echo json_encode(['worker' => getmypid(), 'results' => $results]);
