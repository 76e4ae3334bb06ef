<?php

/**
 * Refuses PHP syntax and functions newer than PHP 7.4 in the given files or directories (the
 * package promises php >= 7.4, and only PHP 8.2 is installed here to run it). Checked on the
 * token stream: match, nullsafe ?->, attributes, enums, readonly, named arguments, union and
 * 8.0+ types, constructor promotion, catch without a variable, throw as an expression, and
 * functions/classes that 7.4 lacks. Prints each finding; exits 1 if there is any.
 *
 *   php bindings/php/tools/check-php74.php bindings/php/src examples/php ...
 */

declare(strict_types=1);

const NEWER_FUNCTIONS = [
    'str_contains', 'str_starts_with', 'str_ends_with', 'get_debug_type', 'get_resource_id', 'fdiv',
    'array_is_list', 'enum_exists', 'preg_last_error_msg', 'json_validate', 'mb_str_pad',
];
const NEWER_CLASSES = ['ValueError', 'UnhandledMatchError', 'Stringable', 'WeakMap', 'Attribute', 'ReturnTypeWillChange', 'Fiber'];
const NEWER_TYPES = ['mixed', 'never', 'null', 'false', 'true'];

$files = [];
foreach (array_slice($argv, 1) as $arg) {
    if (is_dir($arg)) {
        $iterator = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($arg, FilesystemIterator::SKIP_DOTS));
        foreach ($iterator as $file) {
            if (substr((string) $file, -4) === '.php' || basename((string) $file) === 'interop') {
                $files[] = (string) $file;
            }
        }
    } else {
        $files[] = $arg;
    }
}
sort($files);
$findings = [];
foreach ($files as $file) {
    $code = (string) file_get_contents($file);
    if (strncmp($code, '<?php', 5) !== 0) {
        continue; // a shell wrapper
    }
    $tokens = array_values(array_filter(token_get_all($code), static function ($t): bool {
        return !is_array($t) || !in_array($t[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true);
    }));
    $line = 1;
    $report = static function (string $what) use (&$findings, $file, &$line): void {
        $findings[] = "$file:$line: $what (not PHP 7.4)";
    };
    $newerTokens = [];
    foreach (['T_MATCH' => 'match', 'T_NULLSAFE_OBJECT_OPERATOR' => '?->', 'T_ATTRIBUTE' => 'attribute #[...]',
        'T_ENUM' => 'enum', 'T_READONLY' => 'readonly', 'T_NAME_QUALIFIED' => null] as $name => $what) {
        if (defined($name) && $what !== null) {
            $newerTokens[constant($name)] = $what;
        }
    }
    $depth = 0;            // parentheses depth
    $signatureDepth = [];  // depths at which a function's parameter list is open
    $inConstructor = [];
    for ($i = 0, $n = count($tokens); $i < $n; $i++) {
        $t = $tokens[$i];
        $text = is_array($t) ? $t[1] : $t;
        if (is_array($t)) {
            $line = $t[2];
            if (isset($newerTokens[$t[0]])) {
                $report($newerTokens[$t[0]]);
            }
        }
        $prev = $tokens[$i - 1] ?? null;
        $prevText = is_array($prev) ? $prev[1] : $prev;
        $next = $tokens[$i + 1] ?? null;
        $nextText = is_array($next) ? $next[1] : $next;
        $lower = strtolower($text);
        if (is_array($t) && in_array($t[0], [T_STRING, T_NAME_FULLY_QUALIFIED ?? -1], true)) {
            $bare = ltrim($lower, '\\');
            if ($nextText === '(' && in_array($bare, NEWER_FUNCTIONS, true) && $prevText !== '->' && $prevText !== '::' && !(is_array($prev) && $prev[0] === T_FUNCTION)) {
                $report("function $bare()");
            }
            foreach (NEWER_CLASSES as $class) {
                if ($bare === strtolower($class) && $nextText !== '(' ) {
                    $report("class $class");
                } elseif ($bare === strtolower($class) && is_array($prev) && $prev[0] === T_NEW) {
                    $report("class $class");
                }
            }
        }
        if ($text === '(') {
            $depth++;
            if (is_array($prev) && $prev[0] === T_STRING && ($tokens[$i - 2][0] ?? null) === T_FUNCTION
                || is_array($prev) && $prev[0] === T_FUNCTION || is_array($prev) && $prev[0] === T_FN) {
                $signatureDepth[] = $depth;
                $inConstructor[] = is_array($prev) && strtolower($prev[1]) === '__construct';
            } elseif (is_array($prev) && in_array($prev[0], [T_STRING, T_VARIABLE], true) || $prevText === ')' || $prevText === ']') {
                // a call: name: value is a named argument
                $k = $i + 1;
                if (is_array($tokens[$k] ?? null) && $tokens[$k][0] === T_STRING && ($tokens[$k + 1] ?? null) === ':' && ($tokens[$k + 2] ?? null) !== ':') {
                    $report('named argument ' . $tokens[$k][1] . ':');
                }
            }
        } elseif ($text === ')') {
            if ($signatureDepth !== [] && end($signatureDepth) === $depth) {
                array_pop($signatureDepth);
                array_pop($inConstructor);
                // return type
                if ($nextText === ':') {
                    $j = $i + 2;
                    if (($tokens[$j] ?? null) === '?') {
                        $j++;
                    }
                    $type = is_array($tokens[$j] ?? null) ? strtolower($tokens[$j][1]) : '';
                    if (in_array($type, array_merge(NEWER_TYPES, ['static']), true)) {
                        $report("return type $type");
                    }
                    if (($tokens[$j + 1] ?? null) === '|') {
                        $report('union return type');
                    }
                }
            }
            $depth--;
        } elseif ($signatureDepth !== [] && end($signatureDepth) === $depth) {
            if ($text === '|') {
                $report('union type');
            }
            if (is_array($t) && in_array($t[0], [T_PUBLIC, T_PRIVATE, T_PROTECTED], true) && end($inConstructor)) {
                $report('constructor property promotion');
            }
            if (is_array($t) && $t[0] === T_STRING && in_array($lower, NEWER_TYPES, true) && is_array($next) && $next[0] === T_VARIABLE) {
                $report("parameter type $lower");
            }
        }
        if (is_array($t) && $t[0] === T_CATCH) {
            // catch (Type $e): a variable before the closing parenthesis
            $j = $i + 2;
            while (isset($tokens[$j]) && $tokens[$j] !== ')') {
                $j++;
            }
            if (!(is_array($tokens[$j - 1] ?? null) && $tokens[$j - 1][0] === T_VARIABLE)) {
                $report('catch without a variable');
            }
        }
        if (is_array($t) && $t[0] === T_THROW && in_array($prevText, ['??', '?:', '=>', '=', ',', '(', '&&', '||'], true)) {
            $report('throw as an expression');
        }
        if (is_array($t) && $t[0] === T_VARIABLE && $nextText === '::' && is_array($tokens[$i + 2] ?? null) && strtolower($tokens[$i + 2][1]) === 'class') {
            $report('$object::class');
        }
    }
}
foreach ($findings as $finding) {
    fwrite(STDERR, $finding . "\n");
}
printf("%d files checked for PHP 7.4 syntax: %d findings\n", count($files), count($findings));
exit($findings === [] ? 0 : 1);
