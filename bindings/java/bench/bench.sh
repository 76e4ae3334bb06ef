#!/usr/bin/env bash
# `make bench-java` (after `make bindings`, which builds the jar): signing a 1 KB FHIR record from
# Java, medseal-java against Nimbus JOSE+JWT over an RFC 8785 library, EdDSA and ES256, in one JVM,
# and the binding's per-call cost against the same signing from C. SignBench.java says what each
# line measures. Run from anywhere:
#
#   bash bindings/java/bench/bench.sh
#   MEDSEAL_BENCH_ROUNDS=7 MEDSEAL_BENCH_ROUND_SECONDS=0.2 MEDSEAL_BENCH_WARMUP_SECONDS=1 (the defaults)
#
# 1. sign_c.c built against $CARGO_TARGET_DIR/release/libmedseal.so (the library in the jar);
# 2. the references (pom.xml here: nimbus-jose-jwt, tink, java-json-canonicalization) fetched from
#    Maven Central into ~/.m2 and their classpath written to build/java/bench/cp.txt;
# 3. SignBench.java compiled (javac --release 8) against them and the binding's jar, and run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
JAR=bindings/java/target/medseal-0.1.0.jar
OUT=build/java/bench
for file in "$TARGET/release/libmedseal.so" "$JAR"; do
    [ -f "$file" ] || { echo "error: $file is missing: run make bindings first" >&2; exit 1; }
done
mkdir -p "$OUT"
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude bindings/java/bench/sign_c.c -L"$TARGET/release" -lmedseal \
    -Wl,-rpath,"$TARGET/release" -o "$OUT/sign-c"
mvn -B -q -f bindings/java/bench/pom.xml dependency:build-classpath "-Dmdep.outputFile=$ROOT/$OUT/cp.txt" >"$OUT/mvn.log" 2>&1 \
    || { cat "$OUT/mvn.log" >&2; echo "error: could not resolve the references (bindings/java/bench/pom.xml)" >&2; exit 1; }
CP="$JAR$(printf ':%s' bindings/java/target/lib/*.jar):$(cat "$OUT/cp.txt")"
rm -rf "$OUT/classes"
mkdir -p "$OUT/classes"
javac --release 8 -encoding UTF-8 -Xlint:all -Xlint:-options -Werror -cp "$CP" -d "$OUT/classes" bindings/java/bench/SignBench.java
# A fixed heap, so that the runs compare the same JVM.
java -Xms256m -Xmx256m -cp "$OUT/classes:$CP" SignBench "$OUT/sign-c"
