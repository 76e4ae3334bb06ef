#!/usr/bin/env bash
# Fuzzes sealed-envelope decoding and opening (fuzz_targets/envelope.rs) for a bounded time.
#
#   fuzz/run.sh [SECONDS]        default 60 seconds of fuzzing (building comes on top)
#
# Only stable Rust is needed. In order of preference:
#   1. libFuzzer, coverage-guided, with AddressSanitizer: -Zsanitizer=address is unstable, so
#      it is built with RUSTC_BOOTSTRAP=1 (stable rustc ships the ASan runtime);
#   2. libFuzzer, coverage-guided, without ASan: the SanitizerCoverage flags (-Cpasses=
#      sancov-module, -Cllvm-args=-sanitizer-coverage-*) are stable;
#   3. if libFuzzer cannot be built at all (libfuzzer-sys needs a C++ compiler), the stable
#      driver src/bin/envelope_driver.rs: random mutations, NOT coverage-guided. It says so.
# FUZZ_MODE=asan|plain|stable forces one. Same target works with `cargo fuzz run envelope`
# (cargo-fuzz; on stable: RUSTC_BOOTSTRAP=1 cargo fuzz run envelope).
#
# The seed corpus (valid JSON and protobuf envelopes sealed to the target's fixed key) is
# written into corpus/envelope by `envelope_driver seed`; libFuzzer adds to it across runs.
# Crashes go to artifacts/envelope/. fuzz/target, fuzz/corpus and fuzz/artifacts are not
# in git.
set -euo pipefail

duration="${1:-60}"
case "$duration" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
requested="${FUZZ_MODE:-}"
case "$requested" in '' | asan | plain | stable) ;; *) echo "FUZZ_MODE is asan, plain or stable" >&2; exit 2 ;; esac
cd "$(dirname "$0")"
jobs="${CARGO_BUILD_JOBS:-2}"
host="$(rustc -vV | sed -n 's/^host: //p')"
corpus=corpus/envelope
artifacts=artifacts/envelope
mkdir -p "$corpus" "$artifacts"

echo "== building the seeding/fallback driver (stable, release)"
cargo build -q -j "$jobs" --release --no-default-features --bin envelope_driver
./target/release/envelope_driver seed "$corpus"

coverage_flags="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"

# build_libfuzzer MODE: builds the libFuzzer binary into target/MODE; prints its path.
build_libfuzzer() {
    local mode="$1" flags="$coverage_flags" bootstrap=""
    if [ "$mode" = asan ]; then
        flags="$flags -Zsanitizer=address"
        bootstrap=1
    fi
    echo "== building the libFuzzer target ($mode) for $host" >&2
    if RUSTC_BOOTSTRAP="$bootstrap" RUSTFLAGS="$flags" CARGO_TARGET_DIR="target/$mode" \
        cargo build -q -j "$jobs" --release --target "$host" --bin envelope >&2; then
        echo "target/$mode/$host/release/envelope"
    else
        return 1
    fi
}

mode=stable
binary=""
for candidate in asan plain; do
    if [ -n "$requested" ] && [ "$requested" != "$candidate" ]; then
        continue
    fi
    if binary="$(build_libfuzzer "$candidate")"; then
        mode="$candidate"
        break
    fi
    binary=""
    echo "== the $candidate libFuzzer build failed" >&2
done
if [ -n "$requested" ] && [ "$requested" != "$mode" ]; then
    echo "== FUZZ_MODE=$requested could not be built" >&2
    exit 1
fi

start=$(date +%s)
status=0
if [ -n "$binary" ]; then
    case "$mode" in
        asan) echo "== mode: libFuzzer, coverage-guided, with AddressSanitizer (stable rustc, RUSTC_BOOTSTRAP=1)" ;;
        plain) echo "== mode: libFuzzer, coverage-guided, without AddressSanitizer (stable flags only)" ;;
    esac
    echo "== fuzzing for $duration s; corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
    "$binary" "$corpus" -max_total_time="$duration" -dict=envelope.dict -max_len=16384 -timeout=20 \
        -rss_limit_mb=4096 -artifact_prefix="$artifacts/" -print_final_stats=1 || status=$?
else
    echo "=================================================================================="
    if [ "$requested" = stable ]; then
        echo "== FUZZ_MODE=stable: the STABLE DRIVER, not libFuzzer."
    else
        echo "== libFuzzer could NOT be built here: falling back to the STABLE DRIVER."
    fi
    echo "== It feeds random mutations of the corpus to the same target function, but it is"
    echo "== NOT coverage-guided and has no sanitizer: much weaker than libFuzzer."
    echo "=================================================================================="
    mode=stable
    ./target/release/envelope_driver run "$duration" "$corpus" "$artifacts" || status=$?
fi
elapsed=$(( $(date +%s) - start ))
crashes=$(ls "$artifacts" | wc -l)
echo "== done: mode $mode, fuzzed ${elapsed} s, corpus now $(ls "$corpus" | wc -l) inputs, $crashes artifact(s) in fuzz/$artifacts, exit status $status"
if [ "$crashes" -gt 0 ]; then
    echo "== replay one with: fuzz/target/release/envelope_driver replay fuzz/$artifacts/<file>"
fi
exit "$status"
