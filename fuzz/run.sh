#!/usr/bin/env bash
# Fuzzes medseal's parsers for a bounded time, one libFuzzer target per parser
# (fuzz_targets/*.rs, checks in src/lib.rs):
#   envelope  sealed-envelope decoding (protobuf, JSON), opening with a fixed key, re-encoding
#   canon     RFC 8785 canonicalization: strict, plain and NFC options, idempotence, serde_json
#   keys      Key and RecipientKey import; every export re-imports with the same kid
#   jws       JWS verification with a fixed Ed25519 key; only what it signed may verify
#   x509      certificates and chains (DER round trip, thumbprint), path validation against a
#             fixed root (fuzz/certs/) at fixed times, x5c in a JWS; only what the CAs issued validates
#   trust     trust lists: JSON, signed (unverified), verified with a fixed list key; canonical
#             re-serialization, sign/verify round trip, candidates; only what that key signed verifies
#   ledger    receipts and tree heads (fixed Ed25519 keys; payloads also signed in the target),
#             ledger entries, inclusion/consistency proofs (protobuf, JSON), verify_receipt(s)
#             against a fixed 7-leaf tree; fixed points, only what the keys signed and only the
#             real proofs verify
#
#   fuzz/run.sh [SECONDS] [TARGET]   default 60 seconds of fuzzing (building comes on top),
#                                    TARGET envelope; `all` runs each target for SECONDS
#
# Only stable Rust is needed. In order of preference:
#   1. libFuzzer, coverage-guided, with AddressSanitizer: -Zsanitizer=address is unstable, so
#      it is built with RUSTC_BOOTSTRAP=1 (stable rustc ships the ASan runtime);
#   2. libFuzzer, coverage-guided, without ASan: the SanitizerCoverage flags (-Cpasses=
#      sancov-module, -Cllvm-args=-sanitizer-coverage-*) are stable;
#   3. if libFuzzer cannot be built at all (libfuzzer-sys needs a C++ compiler), the stable
#      driver src/bin/fuzz_driver.rs: random mutations, NOT coverage-guided. It says so.
# FUZZ_MODE=asan|plain|stable forces one. The same targets work with `cargo fuzz run TARGET`
# (cargo-fuzz; on stable: RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET).
#
# Each target's seed corpus is written into corpus/TARGET by `fuzz_driver seed TARGET`;
# libFuzzer adds to it across runs. Dictionaries: TARGET.dict. Crashes go to
# artifacts/TARGET/, libFuzzer's output to target/fuzz-logs/TARGET.log. fuzz/target,
# fuzz/corpus and fuzz/artifacts are not in git.
set -euo pipefail

all_targets="envelope canon keys jws x509 trust ledger"
usage="usage: $0 [SECONDS] [TARGET]   (TARGET: ${all_targets// /, } or all; default envelope)"
duration="${1:-60}"
case "$duration" in
    '' | *[!0-9]*) echo "$usage" >&2; exit 2 ;;
esac
requested_target="${2:-envelope}"
if [ "$requested_target" = all ]; then
    targets="$all_targets"
else
    case "$requested_target" in
        envelope | canon | keys | jws | x509 | trust | ledger) targets="$requested_target" ;;
        *) echo "$usage" >&2; exit 2 ;;
    esac
fi
requested="${FUZZ_MODE:-}"
case "$requested" in '' | asan | plain | stable) ;; *) echo "FUZZ_MODE is asan, plain or stable" >&2; exit 2 ;; esac
cd "$(dirname "$0")"
jobs="${CARGO_BUILD_JOBS:-2}"
host="$(rustc -vV | sed -n 's/^host: //p')"

# Longest input libFuzzer generates per target (the RSA-4096 PEM keys are about 3.3 kB).
max_len() {
    case "$1" in
        keys) echo 8192 ;;
        *) echo 16384 ;;
    esac
}

echo "== building the seeding/fallback driver (stable, release)"
cargo build -q -j "$jobs" --release --no-default-features --bin fuzz_driver
for target in $targets; do
    mkdir -p "corpus/$target" "artifacts/$target"
    ./target/release/fuzz_driver seed "$target" "corpus/$target"
done

coverage_flags="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"

# build_libfuzzer MODE: builds the libFuzzer binaries of $targets into target/MODE; prints
# the directory that holds them.
build_libfuzzer() {
    local mode="$1" flags="$coverage_flags" bootstrap="" bins=() target
    if [ "$mode" = asan ]; then
        flags="$flags -Zsanitizer=address"
        bootstrap=1
    fi
    for target in $targets; do bins+=(--bin "$target"); done
    echo "== building the libFuzzer target(s) $targets ($mode) for $host" >&2
    if RUSTC_BOOTSTRAP="$bootstrap" RUSTFLAGS="$flags" CARGO_TARGET_DIR="target/$mode" \
        cargo build -q -j "$jobs" --release --target "$host" "${bins[@]}" >&2; then
        echo "target/$mode/$host/release"
    else
        return 1
    fi
}

mode=stable
bindir=""
for candidate in asan plain; do
    if [ -n "$requested" ] && [ "$requested" != "$candidate" ]; then
        continue
    fi
    if bindir="$(build_libfuzzer "$candidate")"; then
        mode="$candidate"
        break
    fi
    bindir=""
    echo "== the $candidate libFuzzer build failed" >&2
done
if [ -n "$requested" ] && [ "$requested" != "$mode" ]; then
    echo "== FUZZ_MODE=$requested could not be built" >&2
    exit 1
fi

case "$mode" in
    asan) echo "== mode: libFuzzer, coverage-guided, with AddressSanitizer (stable rustc, RUSTC_BOOTSTRAP=1)" ;;
    plain) echo "== mode: libFuzzer, coverage-guided, without AddressSanitizer (stable flags only)" ;;
    stable)
        echo "=================================================================================="
        if [ "$requested" = stable ]; then
            echo "== FUZZ_MODE=stable: the STABLE DRIVER, not libFuzzer."
        else
            echo "== libFuzzer could NOT be built here: falling back to the STABLE DRIVER."
        fi
        echo "== It feeds random mutations of the corpus to the same target functions, but it is"
        echo "== NOT coverage-guided and has no sanitizer: much weaker than libFuzzer."
        echo "=================================================================================="
        ;;
esac

# FUZZ_RUNS=N (libFuzzer only): N mutations from a fixed seed (-seed=1) instead of SECONDS, so
# that a run is repeatable: `make test`'s smoke uses it, and a fresh checkout's corpus is the
# generated seeds, so CI sees the same inputs every time (a failure is a change, not luck).
if [ -n "${FUZZ_RUNS:-}" ]; then
    case "$FUZZ_RUNS" in '' | *[!0-9]*) echo "FUZZ_RUNS is a number of runs" >&2; exit 2 ;; esac
    budget=(-runs="$FUZZ_RUNS" -seed=1)
else
    budget=(-max_total_time="$duration")
fi
mkdir -p target/fuzz-logs
overall=0
summary=()
for target in $targets; do
    corpus="corpus/$target"
    artifacts="artifacts/$target"
    log="target/fuzz-logs/$target.log"
    before=$(ls "$artifacts" | wc -l)
    echo "== $target: fuzzing for $duration s; corpus $corpus ($(ls "$corpus" | wc -l) inputs), log fuzz/$log"
    start=$(date +%s)
    status=0
    if [ -n "$bindir" ]; then
        "$bindir/$target" "$corpus" "${budget[@]}" -dict="$target.dict" -max_len="$(max_len "$target")" \
            -timeout=20 -rss_limit_mb=4096 -artifact_prefix="$artifacts/" -print_final_stats=1 2>&1 | tee "$log" ||
            status=$?
        execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    else
        ./target/release/fuzz_driver run "$target" "$duration" "$corpus" "$artifacts" "$target.dict" 2>&1 | tee "$log" ||
            status=$?
        execs="$(sed -n 's/^stable driver done: \([0-9]*\) executions.*/\1/p; s/^CRASH after \([0-9]*\) executions.*/\1/p' "$log" | tail -n 1)"
    fi
    elapsed=$(($(date +%s) - start))
    crashes=$(($(ls "$artifacts" | wc -l) - before))
    line="$target: mode $mode, fuzzed ${elapsed} s, ${execs:-?} executions, corpus now $(ls "$corpus" | wc -l) inputs, $crashes new artifact(s) in fuzz/$artifacts, exit status $status"
    echo "== done: $line"
    if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
        echo "== replay with: fuzz/target/release/fuzz_driver replay $target fuzz/$artifacts/<file>"
    fi
    summary+=("$line")
    if [ "$status" -ne 0 ] && [ "$overall" -eq 0 ]; then
        overall=$status
    fi
done
if [ "${#summary[@]}" -gt 1 ]; then
    echo "== summary"
    printf '==   %s\n' "${summary[@]}"
fi
exit "$overall"
