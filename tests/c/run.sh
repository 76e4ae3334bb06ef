#!/usr/bin/env bash
# medseal C ABI tests. Run from the repository root:
#
#   bash tests/c/run.sh
#
# 1. builds the library (`cargo build -j2 --lib`; skipped with MEDSEAL_SKIP_CARGO=1);
# 2. checks that every function in include/medseal.h is exercised by tests/c/*.c, and that
#    include/medseal_ffi.h declares the same functions without any preprocessor line;
# 3. checks the headers: medseal.h as C99, C11, C++11 and C++17 (and a C++ program links and
#    runs against the library); medseal_ffi.h as C11 after <stdint.h> and <stddef.h>;
# 4. (a) builds each test and the examples (examples/c/sign_verify.c, examples/c/seal_open.c)
#        with ASan + UBSan against
#        target/debug/libmedseal.a and runs them with leak detection;
#    (b) builds them plainly against target/debug/libmedseal.so (rpath set) and runs them under
#        valgrind: no memory error, no definite or indirect leak. ("Still reachable" blocks,
#        such as Rust's thread-local and static allocations, are allowed.)
#
# Outputs go to build/c/ (logs in build/c/logs/). Installs nothing: cc, c++ and valgrind must be
# on PATH (CC, CXX override the compilers; MEDSEAL_NATIVE_LIBS the system libraries the Rust
# static library needs). tests/c/data/ holds TEST-ONLY keys and records for the example.
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
VALGRIND=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1)

TESTS=(test_abi test_canon test_keys test_jws test_seal test_threads)
EXAMPLE=examples/c/sign_verify.c
SEAL_EXAMPLE=examples/c/seal_open.c

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
    grep -E '^[0-9]+ passed, [0-9]+ failed$|^(verified|algorithm|signed by|meta): |^medseal: |^==[0-9]+==' "$log" |
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
printf '%s\n' "$("$CC" --version | head -n 1)" "$("$CXX" --version | head -n 1)" "$(valgrind --version)"

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

section "(a) ASan + UBSan, static library"
for t in "${TESTS[@]}"; do
    run "$CC" "${CFLAGS[@]}" "${SANITIZE[@]}" "tests/c/$t.c" target/debug/libmedseal.a "${NATIVE_LIBS[@]}" -o "$OUT/asan/$t"
done
run "$CC" "${CFLAGS[@]}" "${SANITIZE[@]}" "$EXAMPLE" target/debug/libmedseal.a "${NATIVE_LIBS[@]}" -o "$OUT/asan/sign_verify"
run "$CC" "${CFLAGS[@]}" "${SANITIZE[@]}" "$SEAL_EXAMPLE" target/debug/libmedseal.a "${NATIVE_LIBS[@]}" -o "$OUT/asan/seal_open"
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${TESTS[@]}"; do
    check_run "asan-$t" 0 "$OUT/asan/$t" && count_checks "asan-$t" || true
done
run_example asan "$OUT/asan/sign_verify"
run_seal_example asan "$OUT/asan/seal_open"
unset ASAN_OPTIONS UBSAN_OPTIONS

section "(b) valgrind, shared library"
RPATH="-Wl,-rpath,$ROOT/target/debug"
for t in "${TESTS[@]}"; do
    run "$CC" "${CFLAGS[@]}" "tests/c/$t.c" -Ltarget/debug -lmedseal "$RPATH" -o "$OUT/valgrind/$t"
done
run "$CC" "${CFLAGS[@]}" "$EXAMPLE" -Ltarget/debug -lmedseal "$RPATH" -o "$OUT/valgrind/sign_verify"
run "$CC" "${CFLAGS[@]}" "$SEAL_EXAMPLE" -Ltarget/debug -lmedseal "$RPATH" -o "$OUT/valgrind/seal_open"
if ! ldd "$OUT/valgrind/test_abi" | grep -q "$ROOT/target/debug/libmedseal.so"; then
    fail "the valgrind builds do not load target/debug/libmedseal.so"
fi
for t in "${TESTS[@]}"; do
    check_run "valgrind-$t" 0 "${VALGRIND[@]}" "$OUT/valgrind/$t" && count_checks "valgrind-$t" || true
done
run_example valgrind "$OUT/valgrind/sign_verify" "${VALGRIND[@]}"
run_seal_example valgrind "$OUT/valgrind/seal_open" "${VALGRIND[@]}"

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
