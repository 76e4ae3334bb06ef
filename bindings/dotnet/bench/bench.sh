#!/usr/bin/env bash
# `make bench-dotnet`: bench.c (the C ABI) and Bench.cs (Medseal.dll) do the same work, sign a
# 1 KB record and open a 1 KB envelope; Bench.exe runs on Mono and on the .NET Core 3.1 runtime
# and prints "RATIO <work>-<runtime> dotnet/C = X (goal <= 1.1)". Run after `make bindings`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$PWD/$TARGET ;; esac
OUT=build/dotnet
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude bindings/dotnet/bench/bench.c -L"$TARGET/release" -lmedseal \
    -Wl,-rpath,"$TARGET/release" -o "$OUT/bench-c"
mcs -sdk:4.6.2-api -optimize+ -nologo -r:"$OUT/Medseal.dll" -out:"$OUT/Bench.exe" bindings/dotnet/bench/Bench.cs
cp "$OUT/interop.runtimeconfig.json" "$OUT/Bench.runtimeconfig.json"
C=$("$OUT/bench-c")
echo "$C"
SIGN=$(echo "$C" | awk '$2 == "sign-1k" {print $3}')
OPEN=$(echo "$C" | awk '$2 == "open-1k" {print $3}')
mono "$OUT/Bench.exe" "$SIGN" "$OPEN"
(cd "$OUT" && ./dotnet Bench.exe "$SIGN" "$OPEN")
