#!/usr/bin/env bash
# The audit benchmark (issue 11, "Benchmark"; `make bench-audit`): `records::check` of
# medseal-audit over a bundle of 100,000 Ed25519 records, next to the raw Ed25519 verify rate
# of ring on the same machine, measured in the same run; and the audit's peak memory with
# 10,000 and 100,000 records, for the per-record growth.
#
# The bundles are made once by audit/examples/audit_bench.rs (signed with medseal, sealed to a
# hub key and an escrow key, ledger entries, one signed tree head, written through
# BundleWriter) and kept in build/bench-audit/N/ (delete it to make them again).
#
# How to read it:
#   PART     one thread's time per record for each step, alone (where the time goes: opening
#            the envelope costs about as much as verifying the signature).
#   RAW      ring's Ed25519 verify on one thread, over one record's signing input, and
#            x25519-dalek's X25519 (what opening an envelope costs in public-key work).
#   CHECK    one audit process: records/s of records::check alone (the bundle's files read,
#            SHA-256, meta, the envelope opened with the escrow key (X25519 + HKDF + AES-GCM)
#            or the opened record read, the Ed25519 signature, the record rules), and the
#            process's peak RSS. "1 core" runs pinned to one CPU (taskset) with one worker;
#            "all cores" with one worker per core.
#   RATIO    audit rate / raw verify rate, the raw rate measured by the same process for a
#            second just before and after its audit (the mean; the machine may be shared).
#            Goals: >= 0.9 on one core, >= 1.8 on two. For escrowed records also against one
#            verify then one X25519 (the public-key floor of opening and verifying a record).
#   MEMORY   peak RSS with N records (goal < 300 MB) and its growth per record between 10,000
#            and N records (goal <= 200 B).
# On a machine shared with other work the rates are those of the cores this run got: the
# load average is printed first.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
JOBS=${JOBS:--j2}
N=${MEDSEAL_BENCH_RECORDS:-100000}
SMALL=10000
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/examples/audit_bench

$CARGO build $JOBS --release -p medseal-audit --example audit_bench
CORES=$(nproc)
echo "machine: $CORES cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

for n in "$SMALL" "$N"; do
	dir=build/bench-audit/$n
	if [ ! -f "$dir/bundle/manifest.json" ] || { [ "$n" = "$N" ] && [ ! -f "$dir/bundle-opened/manifest.json" ]; }; then
		rm -rf "$dir"
		if [ "$n" = "$N" ]; then "$BIN" make "$dir" "$n" --opened; else "$BIN" make "$dir" "$n"; fi
	fi
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() { # label, command...
	local label=$1
	shift
	local line
	line=$("$@" | tail -n 1)
	echo "$label $line" | tee -a "$out"
}

"$BIN" parts "build/bench-audit/$SMALL/bundle" "build/bench-audit/$SMALL/escrow.key"
run raw taskset -c 0 "$BIN" raw-verify 3
for n in "$SMALL" "$N"; do
	run "escrow-$n-1" taskset -c 0 "$BIN" check "build/bench-audit/$n/bundle" 1 "build/bench-audit/$n/escrow.key"
	run "escrow-$n-all" "$BIN" check "build/bench-audit/$n/bundle" 0 "build/bench-audit/$n/escrow.key"
done
run "opened-$N-1" taskset -c 0 "$BIN" check "build/bench-audit/$N/bundle-opened" 1
run "opened-$N-all" "$BIN" check "build/bench-audit/$N/bundle-opened" 0

python3 - "$out" "$N" "$SMALL" "$CORES" <<'EOF'
import re, sys
path, n, small, cores = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
runs = {}
for line in open(path):
    label, rest = line.split(" ", 1)
    runs[label] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", rest)}
ed, x = runs["raw"]["rate"], runs["raw"]["x25519"]
# An escrowed record costs at least one Ed25519 verify and one X25519 (HPKE open).
floor = 1 / (1 / ed + 1 / x)
print(f"RAW ring Ed25519 verify {ed:,.0f}/s, x25519-dalek X25519 {x:,.0f}/s (1 thread); both in turn: {floor:,.0f}/s")
for mode in ("escrow", "opened"):
    for where, goal in (("1", 0.9), ("all", 0.9 * cores)):
        run = runs.get(f"{mode}-{n}-{where}")
        if run is None:
            continue
        raw = (run["raw_before"] + run["raw_after"]) / 2
        label = "1 core" if where == "1" else f"all {cores} cores"
        print(f"CHECK {mode:6} {int(run['records']):,} records, {label}: {run['rate']:,.0f} records/s "
              f"(raw verify around it {run['raw_before']:,.0f} and {run['raw_after']:,.0f}/s), peak RSS {run['peak_rss_kb'] / 1024:.1f} MB")
        print(f"RATIO audit-{mode}-{where} / raw-verify = {run['rate'] / raw:.2f} (goal >= {goal:.1f})")
        if mode == "escrow":
            # The floor scaled by how fast the machine verified around this run.
            print(f"RATIO audit-{mode}-{where} / raw-verify-then-x25519 = {run['rate'] / (floor * raw / ed):.2f}")
big, little = runs[f"escrow-{n}-all"], runs[f"escrow-{small}-all"]
growth = (big["peak_rss_kb"] - little["peak_rss_kb"]) * 1024 / (int(n) - int(small))
print(f"MEMORY peak RSS {little['peak_rss_kb'] / 1024:.1f} MB with {int(small):,} records, {big['peak_rss_kb'] / 1024:.1f} MB with {int(n):,} (goal < 300 MB)")
print(f"MEMORY growth {growth:.0f} B per record (goal <= 200)")
EOF
