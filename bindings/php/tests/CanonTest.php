<?php

declare(strict_types=1);

namespace Medseal\Tests;

use Medseal\Json;
use Medseal\JsonException;
use Medseal\JsonNumber;
use Medseal\Medseal;
use PHPUnit\Framework\TestCase;

/** Canonical JSON: text as is, PHP values written as JSON, the policies and their refusals. */
final class CanonTest extends TestCase
{
    public function testJsonTextIsCanonicalized(): void
    {
        $this->assertSame('{"a":[1,"é",true,null],"b":2}', Medseal::canonicalize("{ \"b\" : 2, \"a\": [1, \"\\u00e9\", true, null] }"));
        $this->assertSame('"x"', Medseal::canonicalize('"x"'));
        $this->assertSame('1000', Medseal::canonicalize('1E3', ['plain' => true]));
    }

    public function testPhpValues(): void
    {
        $this->assertSame(Medseal::canonicalize(json_encode(Fixtures::PATIENT)), Medseal::canonicalize(Fixtures::PATIENT));
        $this->assertSame('[]', Medseal::canonicalize([]));
        $this->assertSame('{}', Medseal::canonicalize(new \stdClass()));
        $this->assertSame('{"0":"a","2":"b"}', Medseal::canonicalize([0 => 'a', 2 => 'b']));
        $this->assertSame('["a","b"]', Medseal::canonicalize(['a', 'b']));
        $obj = new \stdClass();
        $obj->z = 1;
        $obj->a = ['q' => "line\nbreak \"quoted\" \\ \x01"];
        $this->assertSame('{"a":{"q":"line\nbreak \"quoted\" \\\\ \u0001"},"z":1}', Medseal::canonicalize($obj));
        $this->assertSame('{"n":6.5}', Medseal::canonicalize(['n' => new JsonNumber('6.5')]));
        $this->assertSame('true', Medseal::canonicalize(true));
        $this->assertSame('null', Medseal::canonicalize(null));
        $this->assertSame('-42', Medseal::canonicalize(-42));
        $serializable = new class implements \JsonSerializable {
            public function jsonSerialize(): array
            {
                return ['b' => 2, 'a' => 1];
            }
        };
        $this->assertSame('{"a":1,"b":2}', Medseal::canonicalize($serializable));
    }

    public function testFloatsRefusedUnlessAllowed(): void
    {
        try {
            Medseal::canonicalize(['dose' => 6.5]);
            $this->fail('a float was accepted');
        } catch (\InvalidArgumentException $e) {
            $this->assertStringContainsString('allowFloats', $e->getMessage());
        }
        $this->assertSame('{"dose":6.5}', Medseal::canonicalize(['dose' => 6.5], ['allowFloats' => true]));
        $this->assertSame('[6,1e-7,0.000001,1e+21,0.1,-2.5,0]',
            Medseal::canonicalize([6.0, 1e-7, 1e-6, 1e21, 0.1, -2.5, -0.0], ['allowFloats' => true]));
        // Integral floats beyond 2^53 are written in full, which the strict policy refuses (I-JSON).
        $this->assertSame('[123456789012345680000]',
            Medseal::canonicalize([123456789012345678901.0], ['allowFloats' => true, 'plain' => true]));
        $this->expectException(\InvalidArgumentException::class);
        Medseal::canonicalize([NAN], ['allowFloats' => true]);
    }

    public function testEcmascriptNumbersMatchRfc8785(): void
    {
        // RFC 8785 appendix B samples (IEEE 754 doubles and their canonical text).
        $samples = [
            [unpack('E', pack('J', 0x4340000000000001))[1], '9007199254740994'],
            [unpack('E', pack('J', 0x4430000000000000))[1], '295147905179352830000'],
            [unpack('E', pack('J', 0x44b52d02c7e14af6))[1], '1e+23'],
            [unpack('E', pack('J', 0x3eb0c6f7a0b5ed8d))[1], '0.000001'],
            [unpack('E', pack('J', 0x3eb0c6f7a0b5ed8c))[1], '9.999999999999997e-7'],
            [unpack('E', pack('J', 0x7fefffffffffffff))[1], '1.7976931348623157e+308'],
            [unpack('E', pack('J', 0x0000000000000001))[1], '5e-324'],
            [unpack('E', pack('J', 0xc3f0000000000000))[1], '-18446744073709552000'],
        ];
        foreach ($samples as [$value, $text]) {
            $this->assertSame($text, Json::ecmascriptNumber($value));
        }
    }

    public function testPolicies(): void
    {
        $nfd = json_encode(['family' => "Nguye\u{0302}\u{0303}n"], JSON_UNESCAPED_UNICODE);
        try {
            Medseal::canonicalize($nfd);
            $this->fail('NFD accepted');
        } catch (JsonException $e) {
            $this->assertSame('MEDSEAL_JSON_NOT_NFC', $e->getName());
        }
        $this->assertSame('{"family":"Nguyễn"}', Medseal::canonicalize($nfd, ['normalizeNfc' => true]));
        $this->assertSame($nfd, Medseal::canonicalize($nfd, ['plain' => true]));
        try {
            Medseal::canonicalize('{"dose":6.50}');
            $this->fail('lossy number accepted');
        } catch (JsonException $e) {
            $this->assertSame('MEDSEAL_JSON_LOSSY_NUMBER', $e->getName());
        }
        $this->assertSame('{"dose":6.5}', Medseal::canonicalize('{"dose":6.50}', ['allowLossyNumbers' => true]));
        $this->assertSame('{"dose":6.5}', Medseal::canonicalize(['dose' => new JsonNumber('6.50')], ['plain' => true]));
        $this->assertSame('{"resourceType":"Patient"}', Medseal::canonicalize('{"resourceType":"Patient"}', ['fhir' => 'data']));
        try {
            Medseal::canonicalize('{"a":1}', ['fhir' => 'data']);
            $this->fail('not FHIR accepted');
        } catch (JsonException $e) {
            $this->assertSame('MEDSEAL_JSON_NOT_FHIR', $e->getName());
        }
    }

    /** @return array<string, array{string, string}> */
    public function refusals(): array
    {
        return [
            'syntax' => ['{"a":', 'MEDSEAL_JSON_SYNTAX'],
            'duplicate' => ['{"a":1,"a":1}', 'MEDSEAL_JSON_DUPLICATE_KEY'],
            'invalid utf-8' => ["{\"a\":\"\xff\"}", 'MEDSEAL_JSON_INVALID_UTF8'],
            'lone surrogate' => ['{"a":"\ud800"}', 'MEDSEAL_JSON_LONE_SURROGATE'],
            'out of range' => ['{"a":1e400}', 'MEDSEAL_JSON_NUMBER_OUT_OF_RANGE'],
            'too deep' => [str_repeat('[', 2000) . str_repeat(']', 2000), 'MEDSEAL_JSON_TOO_DEEP'],
            'empty' => ['', 'MEDSEAL_JSON_SYNTAX'],
        ];
    }

    /** @dataProvider refusals */
    public function testRefusals(string $json, string $name): void
    {
        try {
            Medseal::canonicalize($json);
            $this->fail('accepted');
        } catch (JsonException $e) {
            $this->assertSame($name, $e->getName());
            $this->assertGreaterThanOrEqual(100, $e->getCode());
            $this->assertLessThan(200, $e->getCode());
        }
    }

    public function testInvalidUtf8InAPhpValueIsTheLibrarysError(): void
    {
        $this->expectException(JsonException::class);
        $this->expectExceptionCode(101);
        Medseal::canonicalize(['name' => "bad \xc3\x28 bytes"]);
    }

    public function testArgumentErrors(): void
    {
        foreach ([
            [['fhir' => 'html'], \InvalidArgumentException::class],
            [['nfc' => true], \InvalidArgumentException::class],
        ] as [$options, $class]) {
            try {
                Medseal::canonicalize('{}', $options);
                $this->fail('accepted ' . json_encode($options));
            } catch (\Throwable $e) {
                $this->assertInstanceOf($class, $e);
            }
        }
        $this->expectException(\InvalidArgumentException::class);
        Medseal::canonicalize([fopen('php://memory', 'r')]);
    }

    public function testJsonNumberValidatesItsText(): void
    {
        $this->assertSame('1e-7', (string) new JsonNumber('1e-7'));
        $this->expectException(\InvalidArgumentException::class);
        new JsonNumber('0x10');
    }

    public function testSelfReferenceIsRefused(): void
    {
        $a = new \stdClass();
        $a->self = $a;
        $this->expectException(\InvalidArgumentException::class);
        Medseal::canonicalize($a);
    }

    public function testLargeRecord(): void
    {
        $big = ['items' => array_map(static function (int $i): array {
            return ['n' => $i, 'text' => str_repeat('x', 100)];
        }, range(1, 20000))];
        $canonical = Medseal::canonicalize($big);
        $this->assertSame(json_encode($big), $canonical);
        $this->assertGreaterThan(2000000, strlen($canonical));
    }
}
