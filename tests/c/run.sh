#!/usr/bin/env bash
# medseal C ABI tests. Run from the repository root:
#
#   bash tests/c/run.sh
#
# 1. builds the library (`cargo build -j2 --lib`; skipped with MEDSEAL_SKIP_CARGO=1), and makes
#    the signer fixtures with tests/c/fixtures.sh: a test PKI (openssl) and a SoftHSM2 token,
#    in build/c/fixtures, announced to the tests by MEDSEAL_TEST_* variables and SOFTHSM2_CONF;
# 2. checks that every function in include/medseal.h is exercised by tests/c/*.c, and that
#    include/medseal_ffi.h declares the same functions without any preprocessor line;
# 3. checks the headers: medseal.h as C99, C11, C++11 and C++17 (and a C++ program links and
#    runs against the library); medseal_ffi.h as C11 after <stdint.h> and <stddef.h>;
# 4. (a) builds each test and the examples (examples/c/sign_verify.c, examples/c/seal_open.c,
#        examples/c/sign_with_callback.c, examples/c/sign_with_pkcs11.c) with ASan + UBSan against
#        target/debug/libmedseal.a and runs them with leak detection;
#    (b) builds them plainly against target/debug/libmedseal.so (rpath set) and runs them under
#        valgrind: no memory error, no definite or indirect leak. ("Still reachable" blocks,
#        such as Rust's thread-local and static allocations, are allowed.)
#
# Outputs go to build/c/ (logs in build/c/logs/). Installs nothing: cc, c++, valgrind, openssl,
# OpenSSL's libcrypto headers (libssl-dev) and SoftHSM2 must be there (scripts/install-deps.sh
# installs them; CC, CXX override the compilers; MEDSEAL_NATIVE_LIBS the system libraries the
# Rust static library needs). test_signers.c and sign_with_callback.c link libcrypto: the host's
# side of a callback signer is OpenSSL. tests/c/data/ holds TEST-ONLY keys and records for the
# examples; the fixtures' keys are made per run and never committed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
OUT=build/c
LOGS=$OUT/logs
START_SECONDS=$SECONDS

CC=${CC:-cc}
CXX=${CXX:-c++}
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -g -pthread)
SANITIZE=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
# What rustc's staticlib needs (`cargo rustc --lib --crate-type staticlib -- --print native-static-libs`).
read -r -a NATIVE_LIBS <<<"${MEDSEAL_NATIVE_LIBS:--lpthread -ldl -lm -lrt -lutil -lgcc_s -lc}"
# --num-callers: the suppressions (tests/c/valgrind.supp) name the TLS step a report comes from,
# 15 frames up from the system call.
VALGRIND=(valgrind -q --suppressions=tests/c/valgrind.supp --num-callers=24 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1)

TESTS=(test_abi test_canon test_keys test_jws test_seal test_threads test_signers test_ledger test_transport test_outbox test_smoke)
# Libraries a test links besides medseal.
declare -A TEST_LIBS=([test_signers]=-lcrypto)
EXAMPLE=examples/c/sign_verify.c
SEAL_EXAMPLE=examples/c/seal_open.c
CALLBACK_EXAMPLE=examples/c/sign_with_callback.c
PKCS11_EXAMPLE=examples/c/sign_with_pkcs11.c
FIXTURES=$OUT/fixtures

FAILURES=()
STEPS=0
CHECKS_PASSED=0

section() { printf '\n==> %s\n' "$*"; }
fail() {
    FAILURES+=("$1")
    printf 'FAILED: %s\n' "$1" >&2
}
# Runs a command, printing it first; stops the script if it fails (for build steps).
run() {
    printf '+ %s\n' "$*"
    "$@"
}
# Runs a command as a named check, printing it and its log; records a failure instead of
# stopping. `expect` is 0 (must succeed) or 1 (must fail, e.g. the example given bad input).
check_run() {
    local name=$1 expect=$2
    shift 2
    local log="$LOGS/$name.log" status=0
    STEPS=$((STEPS + 1))
    printf '+ %s\n' "$*"
    "$@" >"$log" 2>&1 || status=$?
    if { [ "$expect" = 0 ] && [ "$status" != 0 ]; } || { [ "$expect" = 1 ] && [ "$status" = 0 ]; }; then
        sed 's/^/    /' "$log" # the whole log on failure
        fail "$name (exit status $status, log in $log)"
        return 1
    fi
    # On success, the lines that matter (full output in the log).
    grep -E '^[0-9]+ passed, [0-9]+ failed$|^(verified|algorithm|signed by|trusted by|signer|meta): |^medseal: |^==[0-9]+==' "$log" |
        sed 's/^/    /' || true
    return 0
}
# Adds the "N passed, M failed" line of a test log to the total, checking it says 0 failed.
count_checks() {
    local name=$1 line passed
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGS/$name.log" | tail -n 1 || true)
    if [ -z "$line" ] || [ "${line#* passed, }" != "0 failed" ]; then
        fail "$name: no \"N passed, 0 failed\" line"
        return
    fi
    passed=${line%% passed*}
    CHECKS_PASSED=$((CHECKS_PASSED + passed))
}

section "tools"
for tool in "$CC" "$CXX"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool not found: a C and a C++ compiler are needed (e.g. apt-get install gcc g++)" >&2
        exit 1
    fi
done
if ! command -v valgrind >/dev/null 2>&1; then
    echo "error: valgrind not found: the leak checks need it (e.g. apt-get install valgrind)" >&2
    exit 1
fi
if ! printf '#include <openssl/evp.h>\nint main(void) { return EVP_sha256() == 0; }\n' |
    "$CC" -x c - -lcrypto -o /dev/null >/dev/null 2>&1; then
    echo "error: cannot build against OpenSSL's libcrypto: the callback tests and example need its headers" >&2
    echo "       (libssl-dev); install the test dependencies with: bash scripts/install-deps.sh" >&2
    exit 1
fi
printf '%s\n' "$("$CC" --version | head -n 1)" "$("$CXX" --version | head -n 1)" "$(valgrind --version)" \
    "$(openssl version)"

section "library"
if [ "${MEDSEAL_SKIP_CARGO:-0}" = 1 ]; then
    echo "MEDSEAL_SKIP_CARGO=1: using the library already in target/debug"
else
    run cargo build -j2 --lib
fi
for lib in target/debug/libmedseal.a target/debug/libmedseal.so; do
    if [ ! -f "$lib" ]; then
        echo "error: $lib is missing; run cargo build --lib (or unset MEDSEAL_SKIP_CARGO)" >&2
        exit 1
    fi
done
rm -rf "$OUT"
mkdir -p "$OUT/asan" "$OUT/valgrind" "$LOGS"

section "fixtures: test PKI and SoftHSM2 token (tests/c/fixtures.sh)"
# A setup step: without it the signer tests cannot run, and they are never skipped.
if ! bash tests/c/fixtures.sh "$FIXTURES" >"$LOGS/fixtures.log" 2>&1; then
    sed 's/^/    /' "$LOGS/fixtures.log"
    echo "error: making the fixtures failed (log in $LOGS/fixtures.log)" >&2
    echo "c-abi: 0 passed, 1 failed"
    exit 1
fi
sed 's/^/    /' "$LOGS/fixtures.log"
# shellcheck source=/dev/null
source "$FIXTURES/env.sh"

# test_transport delivers over mutual TLS to a real reference hub: `medseal hub init`, a facility
# that makes its own keys (`medseal facility init`) and is enrolled from its public parts
# (`medseal hub enroll --signing-key signing.pub --csr client.csr`), `serve` on 127.0.0.1 (a free
# port), stopped when this script ends. The test enrols a facility of its own for each outbox it
# delivers (MEDSEAL_TEST_HUB_DIR, MEDSEAL_CLI): the hub refuses a sequence number it already holds.
section "reference hub for test_transport (medseal hub init, facility init, hub enroll, hub serve on 127.0.0.1)"
if [ "${MEDSEAL_SKIP_CARGO:-0}" != 1 ]; then
    run cargo build -j2 -p medseal-cli
fi
MEDSEAL_CLI=$ROOT/target/debug/medseal
HUB_DIR=$ROOT/$FIXTURES/hub
HUB_PID=
stop_hub() {
    if [ -n "$HUB_PID" ]; then
        kill "$HUB_PID" 2>/dev/null || true
        wait "$HUB_PID" 2>/dev/null || true
        HUB_PID=
    fi
}
trap stop_hub EXIT
if ! { "$MEDSEAL_CLI" hub init --dir "$HUB_DIR" --listen 127.0.0.1:0 &&
    "$MEDSEAL_CLI" facility init --facility c-test-facility --dir "$FIXTURES/facility" &&
    "$MEDSEAL_CLI" hub enroll --dir "$HUB_DIR" --facility c-test-facility --signing-key "$FIXTURES/facility/signing.pub" \
        --csr "$FIXTURES/facility/client.csr" --out "$FIXTURES/facility"; } >"$LOGS/hub-setup.log" 2>&1; then
    sed 's/^/    /' "$LOGS/hub-setup.log"
    echo "error: setting up the reference hub failed (log in $LOGS/hub-setup.log)" >&2
    exit 1
fi
"$MEDSEAL_CLI" hub serve --dir "$HUB_DIR" --listen 127.0.0.1:0 >"$LOGS/hub.out" 2>"$LOGS/hub.log" &
HUB_PID=$!
for _ in $(seq 1 200); do
    grep -q '^listening on https://' "$LOGS/hub.out" && break
    kill -0 "$HUB_PID" 2>/dev/null || break
    sleep 0.05
done
if ! grep -q '^listening on https://' "$LOGS/hub.out"; then
    sed 's/^/    /' "$LOGS/hub.log"
    echo "error: the reference hub did not start (log in $LOGS/hub.log)" >&2
    exit 1
fi
MEDSEAL_TEST_HUB_URL=$(sed -n 's/^listening on //p' "$LOGS/hub.out" | head -n 1)
mkdir -p "$FIXTURES/outboxes"
export MEDSEAL_TEST_HUB_URL MEDSEAL_TEST_FACILITY_DIR="$FIXTURES/facility" MEDSEAL_TEST_FACILITY=c-test-facility \
    MEDSEAL_TEST_OUTBOX_DIR="$FIXTURES/outboxes" MEDSEAL_TEST_HUB_DIR="$HUB_DIR" MEDSEAL_CLI
echo "hub at $MEDSEAL_TEST_HUB_URL (pid $HUB_PID), facility c-test-facility"

section "coverage: every export in include/medseal.h is called by tests/c"
exports() { grep -E '^[a-z].*\(' "$1" | grep -oE '\bmedseal_[a-z0-9_]+\(' | tr -d '(' | sort -u; }
mapfile -t EXPORTS < <(exports include/medseal.h)
missing=()
for fn in "${EXPORTS[@]}"; do
    if ! grep -qwE "$fn" tests/c/*.c; then
        missing+=("$fn")
    fi
done
STEPS=$((STEPS + 1))
if [ "${#EXPORTS[@]}" -lt 10 ]; then
    fail "coverage: found only ${#EXPORTS[@]} exports in include/medseal.h"
elif [ "${#missing[@]}" -gt 0 ]; then
    fail "coverage: not exercised by tests/c: ${missing[*]}"
else
    echo "${#EXPORTS[@]}/${#EXPORTS[@]} exports exercised"
fi
STEPS=$((STEPS + 1))
if ! diff <(exports include/medseal.h) <(exports include/medseal_ffi.h); then
    fail "include/medseal_ffi.h does not declare the same functions as include/medseal.h"
elif grep -nE '^[[:space:]]*#' include/medseal_ffi.h; then
    fail "include/medseal_ffi.h has preprocessor lines"
else
    echo "include/medseal_ffi.h: same ${#EXPORTS[@]} functions, no preprocessor lines"
fi

section "headers"
check_run header-c99 0 "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c include/medseal.h || true
check_run header-c11 0 "$CC" -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c include/medseal.h || true
check_run header-cxx11 0 "$CXX" -x c++ -std=c++11 -fsyntax-only -Wall -Wextra -Werror -pedantic include/medseal.h || true
check_run header-cxx17 0 "$CXX" -x c++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -pedantic include/medseal.h || true
check_run header-ffi-c11 0 "$CC" -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only \
    -include stdint.h -include stddef.h -x c include/medseal_ffi.h || true
# C++ linkage: a C++ program calling the library links and runs.
run "$CXX" -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude tests/c/cxx_link.cpp -Ltarget/debug -lmedseal \
    "-Wl,-rpath,$ROOT/target/debug" -o "$OUT/cxx_link"
check_run cxx-link 0 "$OUT/cxx_link" || true

# The example is run several ways: the embedded sample, a record file, PKCS#8 PEM keys
# (Ed25519 and P-256), and a record in NFD, which must be refused with the library's message.
run_example() {
    local mode=$1 exe=$2
    shift 2
    local prefix=("$@")
    if check_run "$mode-example-sample" 0 "${prefix[@]}" "$exe"; then
        grep -q '^verified: yes$' "$LOGS/$mode-example-sample.log" || fail "$mode-example-sample: no \"verified: yes\""
    fi
    check_run "$mode-example-file" 0 "${prefix[@]}" "$exe" tests/c/data/patient.json || true
    if check_run "$mode-example-ed25519" 0 "${prefix[@]}" "$exe" tests/c/data/patient.json tests/c/data/ed25519_pkcs8.pem; then
        grep -q '^algorithm: EdDSA$' "$LOGS/$mode-example-ed25519.log" || fail "$mode-example-ed25519: not EdDSA"
    fi
    if check_run "$mode-example-p256" 0 "${prefix[@]}" "$exe" tests/c/data/patient.json tests/c/data/p256_pkcs8.pem; then
        grep -q '^algorithm: ES256$' "$LOGS/$mode-example-p256.log" || fail "$mode-example-p256: not ES256"
    fi
    if check_run "$mode-example-nfd" 1 "${prefix[@]}" "$exe" tests/c/data/patient_nfd.json; then
        grep -q 'MEDSEAL_JSON_NOT_NFC (106): .*line 1, column' "$LOGS/$mode-example-nfd.log" \
            || fail "$mode-example-nfd: no MEDSEAL_JSON_NOT_NFC message"
    fi
    # A refused run exits 1 anyway, so a sanitizer or valgrind report is looked for in its log.
    if grep -q '^==[0-9]*==' "$LOGS/$mode-example-nfd.log"; then
        fail "$mode-example-nfd: sanitizer or valgrind report"
    fi
}

# The sealing example: a hospital signs and seals a record to the hub, which opens and verifies
# it, with either envelope encoding; a bad argument is refused.
run_seal_example() {
    local mode=$1 exe=$2
    shift 2
    local prefix=("$@") encoding
    for encoding in json protobuf; do
        if check_run "$mode-seal-open-$encoding" 0 "${prefix[@]}" "$exe" "$encoding"; then
            grep -q '^verified: yes$' "$LOGS/$mode-seal-open-$encoding.log" \
                || fail "$mode-seal-open-$encoding: no \"verified: yes\""
            grep -q '^meta: {"content_type":"application/jose+json",' "$LOGS/$mode-seal-open-$encoding.log" \
                || fail "$mode-seal-open-$encoding: no routing metadata"
        fi
    done
    check_run "$mode-seal-open-usage" 1 "${prefix[@]}" "$exe" xml || true
    if grep -q '^==[0-9]*==' "$LOGS/$mode-seal-open-usage.log"; then
        fail "$mode-seal-open-usage: sanitizer or valgrind report"
    fi
}

# The callback example: the host's OpenSSL key signs, for each algorithm; bad arguments are
# refused cleanly (exit 1, a message, no sanitizer or valgrind report).
run_callback_example() {
    local mode=$1 exe=$2
    shift 2
    local prefix=("$@") spec name key alg
    for spec in ec:signer-ec:ES256 rsa:signer-rsa:RS256; do
        IFS=: read -r name key alg <<<"$spec"
        if check_run "$mode-callback-$name" 0 "${prefix[@]}" "$exe" "$FIXTURES/pki/$key.key"; then
            grep -q '^verified: yes$' "$LOGS/$mode-callback-$name.log" || fail "$mode-callback-$name: no \"verified: yes\""
            grep -q "^algorithm: $alg\$" "$LOGS/$mode-callback-$name.log" || fail "$mode-callback-$name: not $alg"
        fi
    done
    if check_run "$mode-callback-ed25519-file" 0 "${prefix[@]}" "$exe" tests/c/data/ed25519_pkcs8.pem \
        tests/c/data/patient.json; then
        grep -q '^verified: yes$' "$LOGS/$mode-callback-ed25519-file.log" \
            || fail "$mode-callback-ed25519-file: no \"verified: yes\""
        grep -q '^algorithm: EdDSA$' "$LOGS/$mode-callback-ed25519-file.log" || fail "$mode-callback-ed25519-file: not EdDSA"
    fi
    check_run "$mode-callback-usage" 1 "${prefix[@]}" "$exe" || true
    if check_run "$mode-callback-not-a-key" 1 "${prefix[@]}" "$exe" tests/c/data/patient.json; then
        grep -q 'not a PEM private key' "$LOGS/$mode-callback-not-a-key.log" \
            || fail "$mode-callback-not-a-key: no \"not a PEM private key\" message"
    fi
    if check_run "$mode-callback-nfd" 1 "${prefix[@]}" "$exe" "$FIXTURES/pki/signer-ec.key" tests/c/data/patient_nfd.json; then
        grep -q 'MEDSEAL_JSON_NOT_NFC (106)' "$LOGS/$mode-callback-nfd.log" || fail "$mode-callback-nfd: no MEDSEAL_JSON_NOT_NFC message"
    fi
    local log
    for log in usage not-a-key nfd; do
        if grep -q '^==[0-9]*==' "$LOGS/$mode-callback-$log.log"; then
            fail "$mode-callback-$log: sanitizer or valgrind report"
        fi
    done
}

# The PKCS#11 example on the SoftHSM2 token: both keys with their public keys, the EC key with
# its certificate chain checked against the root; a wrong PIN, an unknown token and a chain
# leading to another CA are refused. The PIN must never appear in any output.
run_pkcs11_example() {
    local mode=$1 exe=$2
    shift 2
    local prefix=("$@") pki=$FIXTURES/pki
    local args=("$MEDSEAL_TEST_PKCS11_MODULE" "$MEDSEAL_TEST_PKCS11_TOKEN")
    if MEDSEAL_PKCS11_PIN=$MEDSEAL_TEST_PKCS11_PIN check_run "$mode-pkcs11-ec" 0 "${prefix[@]}" "$exe" "${args[@]}" \
        "$MEDSEAL_TEST_PKCS11_EC_KEY" "$pki/signer-ec.pub.pem"; then
        grep -q '^verified: yes$' "$LOGS/$mode-pkcs11-ec.log" || fail "$mode-pkcs11-ec: no \"verified: yes\""
        grep -q '^algorithm: ES256$' "$LOGS/$mode-pkcs11-ec.log" || fail "$mode-pkcs11-ec: not ES256"
    fi
    if MEDSEAL_PKCS11_PIN=$MEDSEAL_TEST_PKCS11_PIN check_run "$mode-pkcs11-rsa" 0 "${prefix[@]}" "$exe" "${args[@]}" \
        "$MEDSEAL_TEST_PKCS11_RSA_KEY" "$pki/signer-rsa.pub.pem"; then
        grep -q '^verified: yes$' "$LOGS/$mode-pkcs11-rsa.log" || fail "$mode-pkcs11-rsa: no \"verified: yes\""
        grep -q '^algorithm: RS256$' "$LOGS/$mode-pkcs11-rsa.log" || fail "$mode-pkcs11-rsa: not RS256"
    fi
    if MEDSEAL_PKCS11_PIN=$MEDSEAL_TEST_PKCS11_PIN check_run "$mode-pkcs11-chain" 0 "${prefix[@]}" "$exe" \
        "${args[@]}" "$MEDSEAL_TEST_PKCS11_EC_KEY" "$pki/root.pem" "$pki/signer-ec-chain.pem"; then
        grep -q '^verified: yes$' "$LOGS/$mode-pkcs11-chain.log" || fail "$mode-pkcs11-chain: no \"verified: yes\""
        grep -q '^trusted by: certificate$' "$LOGS/$mode-pkcs11-chain.log" \
            || fail "$mode-pkcs11-chain: not trusted by certificate"
        grep -q '^signer: CN=medseal test signer EC,' "$LOGS/$mode-pkcs11-chain.log" \
            || fail "$mode-pkcs11-chain: no signer subject"
    fi
    local wrong_pin=86420975
    if MEDSEAL_PKCS11_PIN=$wrong_pin check_run "$mode-pkcs11-wrong-pin" 1 "${prefix[@]}" "$exe" "${args[@]}" \
        "$MEDSEAL_TEST_PKCS11_EC_KEY" "$pki/signer-ec.pub.pem"; then
        grep -q 'MEDSEAL_PKCS11_PIN (607)' "$LOGS/$mode-pkcs11-wrong-pin.log" \
            || fail "$mode-pkcs11-wrong-pin: no MEDSEAL_PKCS11_PIN message"
        if grep -q "$wrong_pin" "$LOGS/$mode-pkcs11-wrong-pin.log"; then
            fail "$mode-pkcs11-wrong-pin: the PIN was printed"
        fi
    fi
    if MEDSEAL_PKCS11_PIN=$MEDSEAL_TEST_PKCS11_PIN check_run "$mode-pkcs11-no-token" 1 "${prefix[@]}" "$exe" \
        "$MEDSEAL_TEST_PKCS11_MODULE" no-such-token "$MEDSEAL_TEST_PKCS11_EC_KEY" "$pki/signer-ec.pub.pem"; then
        grep -q 'MEDSEAL_PKCS11_TOKEN_NOT_FOUND (605)' "$LOGS/$mode-pkcs11-no-token.log" \
            || fail "$mode-pkcs11-no-token: no MEDSEAL_PKCS11_TOKEN_NOT_FOUND message"
    fi
    if MEDSEAL_PKCS11_PIN=$MEDSEAL_TEST_PKCS11_PIN check_run "$mode-pkcs11-other-ca" 1 "${prefix[@]}" "$exe" \
        "${args[@]}" "$MEDSEAL_TEST_PKCS11_EC_KEY" "$pki/other-root.pem" "$pki/signer-ec-chain.pem"; then
        grep -q 'MEDSEAL_CERT_UNKNOWN_ISSUER (503)' "$LOGS/$mode-pkcs11-other-ca.log" \
            || fail "$mode-pkcs11-other-ca: no MEDSEAL_CERT_UNKNOWN_ISSUER message"
    fi
    if check_run "$mode-pkcs11-no-pin" 1 env -u MEDSEAL_PKCS11_PIN "${prefix[@]}" "$exe" "${args[@]}" \
        "$MEDSEAL_TEST_PKCS11_EC_KEY" "$pki/signer-ec.pub.pem"; then
        grep -q 'MEDSEAL_PKCS11_PIN is not set' "$LOGS/$mode-pkcs11-no-pin.log" || fail "$mode-pkcs11-no-pin: no message"
    fi
    local log
    for log in ec rsa chain wrong-pin no-token other-ca no-pin; do
        if grep -q "$MEDSEAL_TEST_PKCS11_PIN" "$LOGS/$mode-pkcs11-$log.log"; then
            fail "$mode-pkcs11-$log: the PIN appears in the output"
        fi
        if grep -q '^==[0-9]*==' "$LOGS/$mode-pkcs11-$log.log"; then
            fail "$mode-pkcs11-$log: sanitizer or valgrind report"
        fi
    done
}

section "(a) ASan + UBSan, static library"
for t in "${TESTS[@]}"; do
    # shellcheck disable=SC2086 # TEST_LIBS values are word lists
    run "$CC" "${CFLAGS[@]}" "${SANITIZE[@]}" "tests/c/$t.c" target/debug/libmedseal.a "${NATIVE_LIBS[@]}" \
        ${TEST_LIBS[$t]:-} -o "$OUT/asan/$t"
done
run "$CC" "${CFLAGS[@]}" "${SANITIZE[@]}" "$EXAMPLE" target/debug/libmedseal.a "${NATIVE_LIBS[@]}" -o "$OUT/asan/sign_verify"
run "$CC" "${CFLAGS[@]}" "${SANITIZE[@]}" "$SEAL_EXAMPLE" target/debug/libmedseal.a "${NATIVE_LIBS[@]}" -o "$OUT/asan/seal_open"
run "$CC" "${CFLAGS[@]}" "${SANITIZE[@]}" "$CALLBACK_EXAMPLE" target/debug/libmedseal.a "${NATIVE_LIBS[@]}" -lcrypto \
    -o "$OUT/asan/sign_with_callback"
run "$CC" "${CFLAGS[@]}" "${SANITIZE[@]}" "$PKCS11_EXAMPLE" target/debug/libmedseal.a "${NATIVE_LIBS[@]}" \
    -o "$OUT/asan/sign_with_pkcs11"
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${TESTS[@]}"; do
    check_run "asan-$t" 0 "$OUT/asan/$t" && count_checks "asan-$t" || true
done
run_example asan "$OUT/asan/sign_verify"
run_seal_example asan "$OUT/asan/seal_open"
run_callback_example asan "$OUT/asan/sign_with_callback"
run_pkcs11_example asan "$OUT/asan/sign_with_pkcs11"
unset ASAN_OPTIONS UBSAN_OPTIONS

section "(b) valgrind, shared library"
RPATH="-Wl,-rpath,$ROOT/target/debug"
for t in "${TESTS[@]}"; do
    # shellcheck disable=SC2086 # TEST_LIBS values are word lists
    run "$CC" "${CFLAGS[@]}" "tests/c/$t.c" -Ltarget/debug -lmedseal ${TEST_LIBS[$t]:-} "$RPATH" -o "$OUT/valgrind/$t"
done
run "$CC" "${CFLAGS[@]}" "$EXAMPLE" -Ltarget/debug -lmedseal "$RPATH" -o "$OUT/valgrind/sign_verify"
run "$CC" "${CFLAGS[@]}" "$SEAL_EXAMPLE" -Ltarget/debug -lmedseal "$RPATH" -o "$OUT/valgrind/seal_open"
run "$CC" "${CFLAGS[@]}" "$CALLBACK_EXAMPLE" -Ltarget/debug -lmedseal -lcrypto "$RPATH" -o "$OUT/valgrind/sign_with_callback"
run "$CC" "${CFLAGS[@]}" "$PKCS11_EXAMPLE" -Ltarget/debug -lmedseal "$RPATH" -o "$OUT/valgrind/sign_with_pkcs11"
if ! ldd "$OUT/valgrind/test_abi" | grep -q "$ROOT/target/debug/libmedseal.so"; then
    fail "the valgrind builds do not load target/debug/libmedseal.so"
fi
for t in "${TESTS[@]}"; do
    check_run "valgrind-$t" 0 "${VALGRIND[@]}" "$OUT/valgrind/$t" && count_checks "valgrind-$t" || true
done
run_example valgrind "$OUT/valgrind/sign_verify" "${VALGRIND[@]}"
run_seal_example valgrind "$OUT/valgrind/seal_open" "${VALGRIND[@]}"
run_callback_example valgrind "$OUT/valgrind/sign_with_callback" "${VALGRIND[@]}"
run_pkcs11_example valgrind "$OUT/valgrind/sign_with_pkcs11" "${VALGRIND[@]}"

stop_hub

section "summary"
echo "exports exercised: $((${#EXPORTS[@]} - ${#missing[@]}))/${#EXPORTS[@]}"
echo "checks passed: $CHECKS_PASSED (${#TESTS[@]} test programs x 2 builds)"
echo "steps run: $STEPS"
echo "time: $((SECONDS - START_SECONDS))s"
if [ "${#FAILURES[@]}" -gt 0 ]; then
    echo "FAILED (${#FAILURES[@]}):"
    printf '  - %s\n' "${FAILURES[@]}"
    echo "c-abi: $CHECKS_PASSED passed, ${#FAILURES[@]} failed"
    exit 1
fi
echo "OK: all C ABI checks passed (ASan+UBSan, valgrind, C/C++ headers)"
echo "c-abi: $CHECKS_PASSED passed, 0 failed"
