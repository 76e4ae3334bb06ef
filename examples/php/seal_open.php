<?php

/**
 * Sign and seal a record to a recipient (the hub), then open and verify it as the hub does
 * (php examples/php/seal_open.php).
 */

declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';

use Medseal\Envelope;
use Medseal\Key;
use Medseal\Medseal;
use Medseal\Meta;
use Medseal\RecipientKey;
use Medseal\SealException;
use Medseal\Signer;
use Medseal\Verifier;

$hub = RecipientKey::generate();                       // the hub's X25519 key pair
$hubPublic = $hub->publicKey();                        // what a facility has (hub-recipient.pub)
$key = Key::generate('ES256');
$signer = new Signer($key);

// Routing metadata travels in clear but is bound to the ciphertext.
$meta = new Meta('enc-2026-000123', '79001', 1);
$envelope = $signer->signAndSeal('{"resourceType":"Encounter","id":"enc-1","status":"finished"}', $meta, [$hubPublic]);
printf("sealed:   %d bytes (protobuf; 'json' as 5th argument)\n", strlen($envelope));

// Any bytes can be sealed too.
$note = Medseal::seal("free text, not a record", new Meta('note-1', '79001', 2), [$hubPublic], 'chacha20-poly1305', 'json');

// At the hub:
$decoded = new Envelope($envelope);
printf("meta:     record %s from %s, sequence %d\n", $decoded->meta()->recordId, $decoded->meta()->source, $decoded->meta()->sequence);
$verified = $decoded->openVerified($hub, new Verifier([$key->publicKey()]));
printf("opened:   %s signed by %s\n", $verified->payload, $verified->kid);
echo "note:     ", $hub->open($note), "\n";

try {
    RecipientKey::generate()->open($envelope);
} catch (SealException $e) {
    printf("stranger: %s\n", $e->getName());
}
