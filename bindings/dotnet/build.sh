#!/usr/bin/env bash
# Builds the .NET binding into build/dotnet (what `make bindings` runs; bindings/dotnet/run-tests.sh
# runs it first):
#   Medseal.dll (+ Medseal.dll.config, libmedseal.so beside it), compiled by Mono's mcs against the
#     .NET Framework 4.6.2 reference assemblies: the one assembly for net462 and netstandard2.0
#     consumers (it runs on .NET Core 3.1 too);
#   interop.exe (examples/csharp/interop), the examples, Medseal.Tests.dll and its runner;
#   the .NET Core 3.1 runtime from PyPI (dotnetcore2, pinned in requirements-runtime.txt) in the
#     venv build/venv-dotnet, called through build/dotnet/dotnet;
#   Medseal.<version>.nupkg (bindings/dotnet/pack.sh).
# The library is ${CARGO_TARGET_DIR:-target}/release/libmedseal.so (`make bindings` builds it;
# MEDSEAL_SKIP_CARGO=1 takes it as it is).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
SRC=bindings/dotnet
OUT=build/dotnet
VENV=build/venv-dotnet
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
LIB=$TARGET/release/libmedseal.so

for tool in mcs mono; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing: bash scripts/install-deps.sh installs mono-devel" >&2; exit 1; }
done
NUNIT=/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll
[ -f "$NUNIT" ] || { echo "error: $NUNIT is missing: bash scripts/install-deps.sh installs libnunit-cil-dev" >&2; exit 1; }
[ -f "$LIB" ] || { echo "error: $LIB is missing: cargo build --release --lib -j2" >&2; exit 1; }

# The .NET Core runtime (PyPI's dotnetcore2), reinstalled only when the pin changes.
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if ! cmp -s "$SRC/requirements-runtime.txt" "$VENV/.medseal-requirements"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$SRC/requirements-runtime.txt"
    cp "$SRC/requirements-runtime.txt" "$VENV/.medseal-requirements"
fi
DOTNET=$("$VENV/bin/python" -c 'import dotnetcore2, os; print(os.path.join(os.path.dirname(dotnetcore2.__file__), "bin", "dotnet"))')

mkdir -p "$OUT"
# .NET Core 3.1 finds no ICU 72 (Debian 12's) and no OpenSSL 1.x here: invariant globalization
# (set in every runtimeconfig.json); System.Security.Cryptography is unavailable on it here.
cat > "$OUT/dotnet" <<DOTNET_EOF
#!/bin/sh
# The .NET Core 3.1 host of $VENV (dotnetcore2 from PyPI); written by bindings/dotnet/build.sh.
exec "$DOTNET" "\$@"
DOTNET_EOF
chmod +x "$OUT/dotnet"

MCS=(mcs -sdk:4.6.2-api -optimize+ -warn:4 -warnaserror+ -nologo)
"${MCS[@]}" -target:library -doc:"$OUT/Medseal.xml" -nowarn:1591 -r:System.dll -r:System.Core.dll \
    -out:"$OUT/Medseal.dll" "$SRC"/src/*.cs
cp "$SRC/Medseal.dll.config" "$OUT/Medseal.dll.config"
ln -sf "$LIB" "$OUT/libmedseal.so"

runtimeconfig() {
    cat > "$1" <<'JSON'
{
  "runtimeOptions": {
    "tfm": "netcoreapp3.1",
    "framework": { "name": "Microsoft.NETCore.App", "version": "3.1.0" },
    "configProperties": { "System.Globalization.Invariant": true }
  }
}
JSON
}

exe() { # exe NAME SOURCES... : a console program against Medseal.dll, runnable on Mono and .NET Core
    local name=$1; shift
    "${MCS[@]}" -target:exe -r:"$OUT/Medseal.dll" -r:System.dll -r:System.Core.dll -out:"$OUT/$name.exe" "$@"
    runtimeconfig "$OUT/$name.runtimeconfig.json"
}
exe interop examples/csharp/Interop.cs
for example in SignVerify SignWithCertificate SealOpen OutboxDeliver; do
    [ -f "examples/csharp/$example.cs" ] && exe "$example" "examples/csharp/$example.cs"
done

# The tests: NUnit 2.6 fixtures (nunit-console on Mono) and a small runner for the same fixtures
# on .NET Core (NUnit 2.6's console runner needs Mono's AppDomains).
cp "$NUNIT" "$OUT/nunit.framework.dll"
"${MCS[@]}" -target:library -nowarn:618 -r:"$OUT/Medseal.dll" -r:"$OUT/nunit.framework.dll" -r:System.dll -r:System.Core.dll \
    -r:System.Numerics.dll -out:"$OUT/Medseal.Tests.dll" "$SRC"/tests/*.cs
"${MCS[@]}" -target:exe -r:"$OUT/nunit.framework.dll" -out:"$OUT/TestRunner.exe" "$SRC/runner/TestRunner.cs"
runtimeconfig "$OUT/TestRunner.runtimeconfig.json"

bash "$SRC/pack.sh"
echo "built $OUT: Medseal.dll, interop.exe, Medseal.Tests.dll, TestRunner.exe, $(cd "$OUT" && ls Medseal.*.nupkg)"
