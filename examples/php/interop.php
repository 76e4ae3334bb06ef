<?php

/**
 * The medseal interop driver for PHP: one command line, every language.
 *
 *   interop version
 *   interop canon [--plain | --nfc] IN OUT
 *   interop key-generate EdDSA|ES256|X25519 PRIVATE_OUT PUBLIC_OUT
 *   interop sign KEY IN OUT [--compact | --detached] [--sigt RFC3339]
 *   interop verify PUBLIC IN [--payload FILE]
 *   interop seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT
 *   interop open KEY IN OUT [--verify PUBLIC]
 *
 * The same commands exist for every binding (examples/<lang>/interop; ../shared/INTEROP.md is the
 * specification), so what one language signs or seals, any other verifies or opens. It uses only
 * the medseal package (bindings/php; with Composer, require vendor/autoload.php instead).
 *
 * Errors: a medseal error exits 1 with "MEDSEAL_<NAME>: message" on stderr (from the exception's
 * getName() and getDetail(), never parsed from text); a usage error exits 2; a file that cannot
 * be read or written exits 1 with the system's reason.
 */

declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';

use Medseal\Envelope;
use Medseal\Key;
use Medseal\Library;
use Medseal\Medseal;
use Medseal\MedsealException;
use Medseal\Meta;
use Medseal\RecipientKey;
use Medseal\Signer;
use Medseal\Verified;
use Medseal\Verifier;

const USAGE = <<<'TXT'
usage: interop version
       interop canon [--plain | --nfc] IN OUT
       interop key-generate EdDSA|ES256|X25519 PRIVATE_OUT PUBLIC_OUT
       interop sign KEY IN OUT [--compact | --detached] [--sigt RFC3339]
       interop verify PUBLIC IN [--payload FILE]
       interop seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT
       interop open KEY IN OUT [--verify PUBLIC]

TXT;

/** A wrong command line: exit 2. */
final class UsageError extends Exception
{
}

/** A file that cannot be read or written: exit 1. */
final class FileError extends Exception
{
}

// ---- files -------------------------------------------------------------------------------------

function read_file(string $path): string
{
    $data = @file_get_contents($path);
    if ($data === false) {
        throw new FileError("$path: " . (error_get_last()['message'] ?? 'cannot read'));
    }
    return $data;
}

/** Writes `$data` to `$path`, created with `$mode` (0600 for private keys and plaintexts). */
function write_file(string $path, string $data, int $mode = 0644): void
{
    $old = umask(0777 & ~$mode);
    $ok = @file_put_contents($path, $data);
    umask($old);
    if ($ok === false) {
        throw new FileError("$path: " . (error_get_last()['message'] ?? 'cannot write'));
    }
}

function print_valid(Verified $verified): void
{
    printf("valid kid=%s alg=%s sigT=%s\n", $verified->kid, $verified->algorithm, $verified->signingTimeText);
}

/** A verifier trusting the one public key (SPKI PEM or JWK) in the file. */
function verifier_for(string $publicKeyPath): Verifier
{
    return new Verifier([Key::load(read_file($publicKeyPath))]);
}

// ---- the command line --------------------------------------------------------------------------

/**
 * Splits `$args` into positionals and options: `$flags` take no value, `$valued` take one
 * (repeatable ones collect a list).
 *
 * @param list<string> $args
 * @param list<string> $flags
 * @param list<string> $valued
 * @return array{0: list<string>, 1: array<string, list<string>|true>}
 */
function parse(array $args, int $positionals, array $flags = [], array $valued = []): array
{
    $found = [];
    $options = [];
    for ($i = 0; $i < count($args); $i++) {
        $arg = $args[$i];
        if (in_array($arg, $flags, true)) {
            $options[$arg] = true;
        } elseif (in_array($arg, $valued, true)) {
            if (!isset($args[$i + 1])) {
                throw new UsageError("$arg needs a value");
            }
            $options[$arg][] = $args[++$i];
        } elseif (strlen($arg) > 1 && $arg[0] === '-') {
            throw new UsageError("unknown option $arg");
        } else {
            $found[] = $arg;
        }
    }
    if (count($found) !== $positionals) {
        throw new UsageError(sprintf('expected %d arguments, got %d', $positionals, count($found)));
    }
    return [$found, $options];
}

/** @param array<string, mixed> $options */
function single(array $options, string $name): ?string
{
    if (!isset($options[$name])) {
        return null;
    }
    if (count($options[$name]) > 1) {
        throw new UsageError("$name given twice");
    }
    return $options[$name][0];
}

/** Unix seconds of RFC 3339 text with whole seconds: 2025-03-01T08:30:00Z or 2025-03-01T15:30:00+07:00. */
function rfc3339(string $text): int
{
    if (preg_match('/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/D', $text) !== 1) {
        throw new UsageError('--sigt takes an RFC 3339 date-time such as 2025-03-01T08:30:00Z');
    }
    $parsed = DateTimeImmutable::createFromFormat('!Y-m-d\TH:i:sP', $text);
    $errors = DateTimeImmutable::getLastErrors();
    if ($parsed === false || ($errors !== false && ($errors['warning_count'] > 0 || $errors['error_count'] > 0))) {
        throw new UsageError("--sigt: not a valid date-time: $text");
    }
    return $parsed->getTimestamp();
}

function uuid4(): string
{
    $bytes = random_bytes(16);
    $bytes[6] = chr((ord($bytes[6]) & 0x0f) | 0x40);
    $bytes[8] = chr((ord($bytes[8]) & 0x3f) | 0x80);
    return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($bytes), 4));
}

// ---- commands ----------------------------------------------------------------------------------

/** @param list<string> $args */
function run(array $args): void
{
    $command = array_shift($args);
    switch ($command) {
        case 'version':
            parse($args, 0);
            // Loading the library checked that its ABI version is the binding's.
            printf(
                "medseal %s abi %d php PHP %s\n",
                Medseal::libraryVersion(),
                (int) Library::ffi()->medseal_abi_version(),
                PHP_VERSION
            );
            return;

        case 'canon':
            [[$in, $out], $o] = parse($args, 2, ['--plain', '--nfc']);
            if (isset($o['--plain'], $o['--nfc'])) {
                throw new UsageError('--plain and --nfc exclude each other');
            }
            // The strict medseal default: strings in NFC, numbers written canonically (no "1.50").
            $canonical = Medseal::canonicalize(read_file($in), [
                'plain' => isset($o['--plain']),
                'normalizeNfc' => isset($o['--nfc']),
            ]);
            write_file($out, $canonical);
            return;

        case 'key-generate':
            [[$alg, $privateOut, $publicOut]] = parse($args, 3);
            if (!in_array($alg, ['EdDSA', 'ES256', 'X25519'], true)) {
                throw new UsageError('ALG is EdDSA, ES256 or X25519');
            }
            // X25519: a recipient key, to receive sealed envelopes; else a signing key.
            $key = $alg === 'X25519' ? RecipientKey::generate() : Key::generate($alg);
            write_file($privateOut, $key->export('pkcs8-pem'), 0600);
            write_file($publicOut, $key->export('spki-pem'));
            return;

        case 'sign':
            [[$keyPath, $in, $out], $o] = parse($args, 3, ['--compact', '--detached'], ['--sigt']);
            if (isset($o['--compact'], $o['--detached'])) {
                throw new UsageError('--compact and --detached exclude each other');
            }
            $format = isset($o['--compact']) ? 'compact' : (isset($o['--detached']) ? 'detached' : 'flattened');
            $sigt = single($o, '--sigt');
            $options = $sigt === null ? [] : ['signingTime' => rfc3339($sigt)]; // default: the clock
            // PKCS#8 PEM: Ed25519 (EdDSA), P-256 (ES256) or RSA (RS256).
            $signer = new Signer(Key::load(read_file($keyPath)), $options);
            // The record is canonicalized (strict policy), then the canonical bytes are signed.
            write_file($out, $signer->sign(read_file($in), $format));
            return;

        case 'verify':
            [[$public, $in], $o] = parse($args, 2, [], ['--payload']);
            $payload = single($o, '--payload');
            $verifier = verifier_for($public);
            if ($payload === null) { // a medseal record: typ medseal+jws, a sigT, a canonical payload
                $verified = $verifier->verifyRecord(read_file($in));
            } else { // a detached JWS: the payload file is the JSON record, canonicalized as when signing
                $verified = $verifier->verifyDetached(read_file($in), read_file($payload), true);
            }
            print_valid($verified);
            return;

        case 'seal':
            [[$in, $out], $o] = parse($args, 2, [], ['--to', '--source', '--sequence', '--record-id']);
            $source = single($o, '--source');
            $sequence = single($o, '--sequence');
            if (!isset($o['--to']) || $source === null || $sequence === null) {
                throw new UsageError('seal needs --to, --source and --sequence');
            }
            if (preg_match('/^[0-9]+$/D', $sequence) !== 1 || (float) $sequence > PHP_INT_MAX) {
                throw new UsageError('--sequence takes a decimal number');
            }
            $recipients = array_map(static function (string $path): RecipientKey {
                return RecipientKey::load(read_file($path)); // SPKI PEM, DER or JWK
            }, $o['--to']);
            // Routing metadata, in clear but bound to the ciphertext; created = now.
            $meta = new Meta(single($o, '--record-id') ?? uuid4(), $source, (int) $sequence);
            write_file($out, Medseal::seal(read_file($in), $meta, $recipients, 'aes-256-gcm', 'json'));
            return;

        case 'open':
            [[$keyPath, $in, $out], $o] = parse($args, 3, [], ['--verify']);
            $verifyWith = single($o, '--verify');
            $key = RecipientKey::load(read_file($keyPath));
            $envelope = new Envelope(read_file($in));
            $verified = null;
            if ($verifyWith !== null) {
                // Open and verify the signed record inside, exactly as the hub does.
                $verified = $envelope->openVerified($key, verifier_for($verifyWith));
            }
            // OUT is the plaintext itself (the signed record), so open it (again, if verified).
            write_file($out, $envelope->open($key), 0600);
            if ($verified !== null) {
                print_valid($verified);
            }
            return;

        default:
            throw new UsageError($command === null ? 'no command' : "unknown command $command");
    }
}

function main(array $argv): int
{
    try {
        run(array_slice($argv, 1));
        return 0;
    } catch (UsageError $e) {
        fwrite(STDERR, 'interop: ' . $e->getMessage() . "\n" . USAGE);
        return 2;
    } catch (MedsealException $e) {
        fwrite(STDERR, $e->getName() . ': ' . $e->getDetail() . "\n");
        return 1;
    } catch (FileError | \Medseal\LibraryLoadException $e) {
        fwrite(STDERR, 'interop: ' . $e->getMessage() . "\n");
        return 1;
    }
}

exit(main($argv));
