#!/usr/bin/env bash
# Tests of the .NET binding (Medseal.dll, bindings/dotnet). From anywhere:
#
#   bash bindings/dotnet/run-tests.sh
#
# 1. builds the library and the CLI (the reference hub), honouring CARGO_TARGET_DIR
#    (MEDSEAL_SKIP_CARGO=1 skips cargo), then bindings/dotnet/build.sh: Medseal.dll, the
#    interop driver, the examples, the tests, the .NET Core 3.1 runtime (PyPI's dotnetcore2 in
#    build/venv-dotnet) and Medseal.<version>.nupkg;
# 2. makes the test PKI and SoftHSM2 token (tests/c/fixtures.sh);
# 3. Mono: NUnit 2.6's console over Medseal.Tests.dll (every test, the .NET crypto bridge included);
# 4. .NET Core 3.1: the same fixtures through bindings/dotnet/runner/TestRunner.cs, except the
#    category DotNetCrypto (System.Security.Cryptography needs OpenSSL 1.x there; Debian 12 has 3),
#    named on the output;
# 5. the interop driver on .NET Core (the matrix, tests/interop, runs it on Mono), the examples
#    (the outbox one against the reference hub on 127.0.0.1), on both runtimes;
# 6. the package: unpacked as NuGet does into a fresh directory outside the repository, a
#    consumer program built against it and run from the layouts MSBuild makes, on Mono and on .NET Core.
# Ends with "N passed, N failed" (test counts of steps 3-6); fails if anything failed or fewer
# than the floor ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
OUT=build/dotnet
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
FLOOR_MONO=44
FLOOR_CORE=40

section() { printf '\n==> %s\n' "$*"; }
passed=0
failed=0
check() { # check NAME COMMAND...: one counted check
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok     $name"; else failed=$((failed + 1)); echo "FAILED $name"; fi
}

section "library and CLI"
if [ "${MEDSEAL_SKIP_CARGO:-0}" = 1 ]; then
    echo "MEDSEAL_SKIP_CARGO=1: using $TARGET/release/libmedseal.so and $TARGET/debug/medseal as they are"
else
    cargo build --release --lib -j2
    cargo build -j2 -p medseal-cli
fi
export MEDSEAL_CLI=$TARGET/debug/medseal
[ -x "$MEDSEAL_CLI" ] || { echo "error: $MEDSEAL_CLI is missing" >&2; exit 1; }
unset MEDSEAL_LIB

section "build (bindings/dotnet/build.sh)"
bash bindings/dotnet/build.sh
DOTNET=$ROOT/$OUT/dotnet
mono --version | head -n 1
"$DOTNET" --list-runtimes

section "fixtures (tests/c/fixtures.sh)"
FIXTURES=$ROOT/build/dotnet-fixtures
for tool in openssl softhsm2-util; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing: bash scripts/install-deps.sh" >&2; exit 1; }
done
bash tests/c/fixtures.sh "$FIXTURES" > "$OUT/fixtures.log" 2>&1 || { cat "$OUT/fixtures.log"; exit 1; }
set -a
# shellcheck disable=SC1091
. "$FIXTURES/env.sh"
set +a
export MEDSEAL_REPO=$ROOT

# One scratch directory for this run, removed at the end: the tests' temporary files (TMPDIR, which
# Path.GetTempPath() reads on Mono and .NET Core), the examples' outboxes and hub, the unpacked package.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/medseal-dotnet-XXXXXX")
trap 'rm -rf "$WORK"; [ -n "${HUB_PID:-}" ] && kill "$HUB_PID" 2>/dev/null || true' EXIT
mkdir -p "$WORK/tmp"

section "Mono: nunit-console (NUnit 2.6)"
command -v nunit-console >/dev/null || { echo "error: nunit-console is missing: bash scripts/install-deps.sh" >&2; exit 1; }
set +e
(cd "$OUT" && TMPDIR=$WORK/tmp nunit-console -nologo -noshadow -labels Medseal.Tests.dll -xml=TestResult-mono.xml) | tee "$OUT/nunit-mono.log" | grep -v '^\*\*\*\*\*'
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^Tests run: ' "$OUT/nunit-mono.log" || true)
mono_run=$(echo "$summary" | sed -n 's/^Tests run: \([0-9]*\),.*/\1/p')
mono_bad=$(echo "$summary" | sed -n 's/.*Errors: \([0-9]*\), Failures: \([0-9]*\),.*/\1 \2/p' | awk '{print $1 + $2}')
if [ -z "$mono_run" ] || [ "$status" -ne 0 ] || [ "$mono_bad" != 0 ] || [ "$mono_run" -lt "$FLOOR_MONO" ]; then
    echo "error: NUnit on Mono: exit $status, '$summary' (floor $FLOOR_MONO)" >&2
    failed=$((failed + ${mono_bad:-1}))
    passed=$((passed + ${mono_run:-0} - ${mono_bad:-0}))
else
    passed=$((passed + mono_run))
fi

section ".NET Core 3.1: TestRunner.exe (the same fixtures)"
set +e
(cd "$OUT" && TMPDIR=$WORK/tmp "$DOTNET" TestRunner.exe Medseal.Tests.dll --exclude DotNetCrypto --min "$FLOOR_CORE") | tee "$OUT/runner-core.log" | grep -v '^ok '
status=${PIPESTATUS[0]}
set -e
core=$(tail -n 1 "$OUT/runner-core.log")
core_ok=$(echo "$core" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
core_bad=$(echo "$core" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
passed=$((passed + ${core_ok:-0}))
failed=$((failed + ${core_bad:-1}))
[ "$status" -eq 0 ] || { echo "error: TestRunner on .NET Core exited $status" >&2; [ "${core_bad:-1}" != 0 ] || failed=$((failed + 1)); }

section "the interop driver on .NET Core, the examples on both runtimes"
core_driver() { MEDSEAL_DOTNET_RUNTIME=core examples/csharp/interop "$@"; }
check "interop version on .NET Core" bash -c 'MEDSEAL_DOTNET_RUNTIME=core examples/csharp/interop version | grep -E "^medseal [0-9.]+ abi 1 csharp .NET-Core 3\.1\."'
check "interop sign on .NET Core: byte-identical smoke JWS" bash -c "MEDSEAL_DOTNET_RUNTIME=core examples/csharp/interop sign tests/smoke/signer_ed25519.pem tests/smoke/patient.json $WORK/p.jws --sigt 2025-03-01T08:30:00Z && cmp $WORK/p.jws tests/smoke/patient.flattened.jws"
check "interop verify on .NET Core" bash -c "MEDSEAL_DOTNET_RUNTIME=core examples/csharp/interop verify tests/smoke/signer_ed25519.pub.pem $WORK/p.jws | grep -Fx \"valid kid=\$(cat tests/smoke/kid.txt) alg=EdDSA sigT=2025-03-01T08:30:00Z\""
check "interop seal (.NET Core) then open --verify (Mono)" bash -c "MEDSEAL_DOTNET_RUNTIME=core examples/csharp/interop seal --to tests/smoke/recipient_x25519.pub.pem --source s --sequence 3 $WORK/p.jws $WORK/p.env && examples/csharp/interop open tests/smoke/recipient_x25519.pem $WORK/p.env $WORK/p.out --verify tests/smoke/signer_ed25519.pub.pem >/dev/null && cmp $WORK/p.out $WORK/p.jws"
check "interop key-generate on .NET Core: private key 0600, PKCS#8 and SPKI PEM" bash -c "MEDSEAL_DOTNET_RUNTIME=core examples/csharp/interop key-generate ES256 $WORK/k.pem $WORK/k.pub && [ \$(stat -c %a $WORK/k.pem) = 600 ] && head -n 1 $WORK/k.pem | grep -qx -- '-----BEGIN PRIVATE KEY-----' && head -n 1 $WORK/k.pub | grep -qx -- '-----BEGIN PUBLIC KEY-----'"
check "interop medseal error on .NET Core: exit 1, code name first" bash -c "MEDSEAL_DOTNET_RUNTIME=core examples/csharp/interop canon tests/smoke/patient_nfd.json $WORK/x 2>$WORK/err; [ \$? = 1 ] && head -n 1 $WORK/err | grep -q '^MEDSEAL_JSON_NOT_NFC: '"
check "interop usage error on .NET Core: exit 2" bash -c "MEDSEAL_DOTNET_RUNTIME=core examples/csharp/interop sign only-one 2>/dev/null; [ \$? = 2 ]"
for example in SignVerify SealOpen; do
    check "example $example on Mono" bash -c "cd $OUT && mono $example.exe > $WORK/$example.mono && grep -q MEDSEAL_ $WORK/$example.mono"
    check "example $example on .NET Core" bash -c "cd $OUT && ./dotnet $example.exe > $WORK/$example.core && grep -q MEDSEAL_ $WORK/$example.core"
done
openssl pkcs12 -export -inkey "$FIXTURES/pki/signer-rsa.key" -in "$FIXTURES/pki/signer-rsa.pem" -name example \
    -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -passout pass:example -out "$WORK/signer.pfx"
check "example SignWithCertificate (PFX) on Mono" bash -c "mono $OUT/SignWithCertificate.exe $WORK/signer.pfx example $FIXTURES/pki/root.pem $FIXTURES/pki/intermediate.pem | grep -q 'trusted by Certificate'"
# The reference hub on 127.0.0.1, as the Python tests start it, and a facility for each runtime's
# run of the example (a new outbox numbers from 1; the hub refuses a sequence number it already
# holds): the hospital makes its keys, the hub enrols only the public parts.
"$MEDSEAL_CLI" hub init --dir "$WORK/hub" --listen 127.0.0.1:0 >/dev/null
for runtime in mono core; do
    "$MEDSEAL_CLI" facility init --facility "dotnet-example-$runtime" --dir "$WORK/facility-$runtime" >/dev/null
    "$MEDSEAL_CLI" hub enroll --dir "$WORK/hub" --facility "dotnet-example-$runtime" --signing-key "$WORK/facility-$runtime/signing.pub" \
        --csr "$WORK/facility-$runtime/client.csr" --out "$WORK/facility-$runtime" >/dev/null
done
: > "$WORK/hub.out"
"$MEDSEAL_CLI" hub serve --dir "$WORK/hub" --listen 127.0.0.1:0 >> "$WORK/hub.out" 2> "$WORK/hub.log" &
HUB_PID=$!
HUB_URL=""
for _ in $(seq 1 200); do
    HUB_URL=$(sed -n 's/^listening on \(https:.*\)$/\1/p' "$WORK/hub.out" | head -n 1)
    [ -n "$HUB_URL" ] && break
    sleep 0.1
done
[ -n "$HUB_URL" ] || { cat "$WORK/hub.log"; echo "error: the reference hub did not start" >&2; exit 1; }
check "example OutboxDeliver to the hub on Mono" bash -c "mono $OUT/OutboxDeliver.exe $HUB_URL $WORK/facility-mono dotnet-example-mono $WORK/outbox-mono.db | grep -q '^delivered: ledger entry'"
check "example OutboxDeliver to the hub on .NET Core" bash -c "$DOTNET $OUT/OutboxDeliver.exe $HUB_URL $WORK/facility-core dotnet-example-core $WORK/outbox-core.db | grep -q '^delivered: ledger entry'"
kill "$HUB_PID" 2>/dev/null || true
wait "$HUB_PID" 2>/dev/null || true
HUB_PID=""

section "the package, unpacked as NuGet does, in a fresh directory"
NUPKG=$(ls "$OUT"/Medseal.*.nupkg)
VERSION=$(basename "$NUPKG" .nupkg | sed 's/^Medseal\.//')
PKG=$WORK/packages/medseal/$VERSION   # the global packages folder's layout: lower-case id, version
mkdir -p "$PKG"
python3 -m zipfile -e "$NUPKG" "$PKG"
for entry in Medseal.nuspec lib/net462/Medseal.dll lib/net462/Medseal.dll.config lib/netstandard2.0/Medseal.dll \
    runtimes/linux-x64/native/libmedseal.so build/net462/Medseal.targets; do
    check "package holds $entry" test -s "$PKG/$entry"
done
check "nuspec: id Medseal, version $VERSION, groups net462 and netstandard2.0" bash -c \
    "grep -q '<id>Medseal</id>' $PKG/Medseal.nuspec && grep -q '<version>$VERSION</version>' $PKG/Medseal.nuspec && grep -q 'targetFramework=\".NETFramework4.6.2\"' $PKG/Medseal.nuspec && grep -q 'targetFramework=\".NETStandard2.0\"' $PKG/Medseal.nuspec"
mcs -sdk:4.6.2-api -nologo -r:"$PKG/lib/net462/Medseal.dll" -out:"$WORK/Consumer.exe" bindings/dotnet/tests/package/Consumer.cs
# .NET Framework / Mono output (what Medseal.targets copies): Medseal.dll, its config, libmedseal.so beside it.
APP=$WORK/app-net462
mkdir -p "$APP"
cp "$WORK/Consumer.exe" "$PKG/lib/net462/Medseal.dll" "$PKG/lib/net462/Medseal.dll.config" "$APP/"
cp "$PKG/runtimes/linux-x64/native/libmedseal.so" "$APP/"
check "consumer on Mono from the net462 output layout" bash -c "cd / && mono $APP/Consumer.exe | tee $WORK/c1 | grep -q 'consumer ok' && grep -q 'from $APP/libmedseal.so' $WORK/c1"
# .NET Core output (what the SDK copies for a PackageReference): Medseal.dll, runtimes/linux-x64/native/.
APP=$WORK/app-netcore
mkdir -p "$APP/runtimes/linux-x64/native"
cp "$WORK/Consumer.exe" "$PKG/lib/netstandard2.0/Medseal.dll" "$APP/"
cp "$PKG/runtimes/linux-x64/native/libmedseal.so" "$APP/runtimes/linux-x64/native/"
cp "$OUT/interop.runtimeconfig.json" "$APP/Consumer.runtimeconfig.json"
check "consumer on .NET Core from the netstandard2.0 output layout" bash -c "cd / && $DOTNET $APP/Consumer.exe | tee $WORK/c2 | grep -q 'consumer ok' && grep -q 'from $APP/runtimes/linux-x64/native/libmedseal.so' $WORK/c2"
# .NET Core straight from the package folder: lib/netstandard2.0/../../runtimes/linux-x64/native.
cp "$WORK/Consumer.exe" "$PKG/lib/netstandard2.0/"
cp "$OUT/interop.runtimeconfig.json" "$PKG/lib/netstandard2.0/Consumer.runtimeconfig.json"
check "consumer on .NET Core beside the package's own lib/netstandard2.0" bash -c "cd / && $DOTNET $PKG/lib/netstandard2.0/Consumer.exe | tee $WORK/c3 | grep -q 'consumer ok' && grep -q 'from $PKG/runtimes/linux-x64/native/libmedseal.so' $WORK/c3"
# No native library anywhere: a clear MedsealLoadException naming the places looked at, no crash.
APP=$WORK/app-missing
mkdir -p "$APP"
cp "$WORK/Consumer.exe" "$PKG/lib/netstandard2.0/Medseal.dll" "$APP/"
cp "$OUT/interop.runtimeconfig.json" "$APP/Consumer.runtimeconfig.json"
check "no native library: MedsealLoadException naming where it looked" bash -c "cd / && ! $DOTNET $APP/Consumer.exe > $WORK/c4 2>&1 && grep -q 'Medseal.MedsealLoadException: medseal: cannot load the native library' $WORK/c4 && grep -q 'runtimes/linux-x64/native/libmedseal.so' $WORK/c4"
# An explicit MEDSEAL_LIB wins over the files beside Medseal.dll.
check "MEDSEAL_LIB names the library (.NET Core)" bash -c "cd / && MEDSEAL_LIB=$PKG/runtimes/linux-x64/native/libmedseal.so $DOTNET $APP/Consumer.exe | grep -q 'from $PKG/runtimes/linux-x64/native/libmedseal.so'"

# A library of another ABI version is refused at load, naming both versions.
mkdir -p "$WORK/abi2"
printf 'unsigned medseal_abi_version(void) { return 2; }\n' > "$WORK/abi2/abi2.c"
cc -shared -fPIC -o "$WORK/abi2/libmedseal.so" "$WORK/abi2/abi2.c"
check "a library of ABI version 2: MedsealAbiException (.NET Core)" bash -c "cd / && ! MEDSEAL_LIB=$WORK/abi2/libmedseal.so $DOTNET $APP/Consumer.exe > $WORK/c5 2>&1 && grep -q 'Medseal.MedsealAbiException: medseal: the native library $WORK/abi2/libmedseal.so has ABI version 2, this binding needs ABI version 1' $WORK/c5"
cp "$WORK/abi2/libmedseal.so" "$WORK/app-net462/libmedseal.so"
check "a library of ABI version 2: MedsealAbiException (Mono)" bash -c "cd / && ! mono $WORK/app-net462/Consumer.exe > $WORK/c6 2>&1 && grep -q 'Medseal.MedsealAbiException: medseal: the native library $WORK/app-net462/libmedseal.so has ABI version 2' $WORK/c6"

section "summary"
echo "Mono (NUnit 2.6 console): ${mono_run:-0} tests; .NET Core 3.1 (TestRunner): ${core_ok:-0} passed (DotNetCrypto not run there);" \
    "driver, examples and package checks: the ok/FAILED lines above"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
