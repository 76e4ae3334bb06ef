#!/usr/bin/env bash
# Packs build/dotnet/Medseal.<version>.nupkg by hand (a zip, as NuGet writes it), from what
# bindings/dotnet/build.sh built:
#   Medseal.nuspec                           bindings/dotnet/Medseal.nuspec, version filled in
#   lib/net462/Medseal.dll (+ .xml, .config)  the one assembly (compiled against net462)
#   lib/netstandard2.0/Medseal.dll (+ .xml)   the same assembly, for .NET Core / .NET 5+ consumers
#   runtimes/linux-x64/native/libmedseal.so   the native library (win-x64, win-x86: medseal.dll, built on Windows)
#   build/net462/Medseal.targets             copies the natives into .NET Framework outputs (x86\, x64\)
#   [Content_Types].xml, _rels/.rels          the OPC parts every .nupkg has
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SRC=bindings/dotnet
OUT=build/dotnet
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$VERSION" ] || { echo "error: no version in Cargo.toml" >&2; exit 1; }
STAGE=$OUT/package
rm -rf "$STAGE" "$OUT"/Medseal.*.nupkg
mkdir -p "$STAGE/lib/net462" "$STAGE/lib/netstandard2.0" "$STAGE/runtimes/linux-x64/native" "$STAGE/build/net462" "$STAGE/_rels"
sed "s/[$]version[$]/$VERSION/" "$SRC/Medseal.nuspec" > "$STAGE/Medseal.nuspec"
for tfm in net462 netstandard2.0; do
    cp "$OUT/Medseal.dll" "$OUT/Medseal.xml" "$STAGE/lib/$tfm/"
done
cp "$SRC/Medseal.dll.config" "$STAGE/lib/net462/"
cp -L "$OUT/libmedseal.so" "$STAGE/runtimes/linux-x64/native/libmedseal.so"
cp "$SRC/build/Medseal.targets" "$STAGE/build/net462/Medseal.targets"
cat > "$STAGE/[Content_Types].xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" /><Default Extension="nuspec" ContentType="application/octet" /><Default Extension="dll" ContentType="application/octet" /><Default Extension="xml" ContentType="application/octet" /><Default Extension="config" ContentType="application/octet" /><Default Extension="so" ContentType="application/octet" /><Default Extension="targets" ContentType="application/octet" /></Types>
XML
cat > "$STAGE/_rels/.rels" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/Medseal.nuspec" Id="R0" /></Relationships>
XML
python3 - "$STAGE" "$OUT/Medseal.$VERSION.nupkg" <<'PY'
import os, sys, zipfile
stage, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, _, files in sorted(os.walk(stage)):
        for name in sorted(files):
            path = os.path.join(folder, name)
            z.write(path, os.path.relpath(path, stage).replace(os.sep, "/"))
print("packed %s (%d entries)" % (out, len(zipfile.ZipFile(out).namelist())))
PY
