#!/usr/bin/env bash
# Tests of the PHP binding (Composer package medseal/medseal, bindings/php). From anywhere:
#
#   bash bindings/php/run-tests.sh [PHPUNIT_ARGS...]
#   bash bindings/php/run-tests.sh --install-only     (steps 1-3 only: what `make bindings` runs)
#
# 1. builds the library (`cargo build --release --lib -j2`) and the CLI the hub tests run
#    (`cargo build -j2 -p medseal-cli`), honouring CARGO_TARGET_DIR (MEDSEAL_SKIP_CARGO=1 skips
#    both; --install-only never builds: `make bindings` built the library just before);
# 2. checks the tools (Debian's php8.2-cli with FFI, phpunit, composer, php-fpm8.2, cgi-fcgi:
#    bash scripts/install-deps.sh installs them; a missing one is a failure, never a skip);
# 3. copies include/medseal_ffi.h into the package (bindings/php/resources/medseal_ffi.h, what
#    the package reads at run time) and runs the interop driver's `version` (examples/php/interop);
# 4. checks that the package, its tests, tools and examples are PHP 7.4 syntax (php -l with 8.2
#    plus tools/check-php74.php for what 8.x added);
# 5. runs PHPUnit (Debian's 9.6) over bindings/php/tests: every public method's success and error
#    paths, the smoke scenario, PKCS#11 on a SoftHSM2 token, delivery to the reference hub on
#    127.0.0.1 over mutual TLS, 100,000 calls with flat memory, PHP-FPM with preloading (8 workers
#    into one outbox), and Composer installing the package offline into a fresh project;
#    it prints the number of tests run and fails if it is below the floor.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
PACKAGE=bindings/php
FLOOR=105 # tests PHPUnit must at least run (raise it with the tests)
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
INSTALL_ONLY=0
if [ "${1:-}" = "--install-only" ]; then
    INSTALL_ONLY=1
    shift
fi

section() { printf '\n==> %s\n' "$*"; }
missing() { echo "error: $1 is missing: install the test dependencies with bash scripts/install-deps.sh" >&2; exit 1; }

section "library and CLI"
if [ "$INSTALL_ONLY" = 1 ] || [ "${MEDSEAL_SKIP_CARGO:-0}" = 1 ]; then
    echo "using $TARGET/release/libmedseal.so and $TARGET/debug/medseal as they are"
else
    cargo build --release --lib -j2
    cargo build -j2 -p medseal-cli
fi
[ -f "$TARGET/release/libmedseal.so" ] || { echo "error: $TARGET/release/libmedseal.so is missing (cargo build --release --lib)" >&2; exit 1; }
export MEDSEAL_LIB=$TARGET/release/libmedseal.so

section "tools"
command -v php >/dev/null || missing "php (php8.2-cli)"
php -r 'exit(extension_loaded("ffi") ? 0 : 1);' || missing "PHP's FFI extension (php8.2-cli)"
php --version | head -n 1

section "declarations and the interop driver"
mkdir -p "$PACKAGE/resources"
cmp -s include/medseal_ffi.h "$PACKAGE/resources/medseal_ffi.h" || cp include/medseal_ffi.h "$PACKAGE/resources/medseal_ffi.h"
echo "$PACKAGE/resources/medseal_ffi.h = include/medseal_ffi.h"
examples/php/interop version
if [ "$INSTALL_ONLY" = 1 ]; then
    exit 0
fi

[ -f "$TARGET/debug/medseal" ] || { echo "error: $TARGET/debug/medseal is missing (cargo build -j2 -p medseal-cli)" >&2; exit 1; }
export MEDSEAL_CLI=$TARGET/debug/medseal
command -v phpunit >/dev/null || missing "phpunit"
command -v composer >/dev/null || missing "composer"
command -v cgi-fcgi >/dev/null || missing "cgi-fcgi (libfcgi-bin)"
command -v php-fpm8.2 >/dev/null || [ -x /usr/sbin/php-fpm8.2 ] || missing "php-fpm8.2 (php8.2-fpm)"
php -r 'exit(extension_loaded("pdo_sqlite") ? 0 : 1);' || missing "PHP's pdo_sqlite (php8.2-sqlite3)"
phpunit --version | head -n 1
composer --version 2>/dev/null | head -n 1

section "PHP 7.4 syntax"
lint=0
for file in $(find "$PACKAGE" examples/php -name '*.php' -not -path '*/vendor/*' | sort); do
    php -l "$file" >/dev/null || lint=1
done
[ "$lint" = 0 ] || exit 1
php "$PACKAGE/tools/check-php74.php" "$PACKAGE/src" "$PACKAGE/tests" "$PACKAGE/tools" "$PACKAGE/preload.php" \
    "$PACKAGE/autoload.php" examples/php

section "phpunit"
JUNIT=$(mktemp /tmp/medseal-phpunit-XXXXXX.xml)
trap 'rm -f "$JUNIT"' EXIT
status=0
(cd "$PACKAGE" && phpunit --log-junit "$JUNIT" "$@") || status=$?
count=$(php -r '$x = simplexml_load_file($argv[1]); echo $x ? (int) $x->testsuite["tests"] : 0;' "$JUNIT" 2>/dev/null || echo 0)
echo "phpunit ran $count tests (floor $FLOOR)"
[ "$status" = 0 ] || exit "$status"
if [ "$#" = 0 ] && [ "$count" -lt "$FLOOR" ]; then
    echo "error: $count tests ran, fewer than the floor of $FLOOR" >&2
    exit 1
fi
[ "$count" -gt 0 ] || { echo "error: no tests ran" >&2; exit 1; }
