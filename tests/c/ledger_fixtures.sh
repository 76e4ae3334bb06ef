#!/usr/bin/env bash
# Ledger fixtures for tests/c/test_ledger.c, made by tests/c/fixtures.sh:
#
#   bash tests/c/ledger_fixtures.sh OUT_DIR
#
# A hub's answer for one record, made WITHOUT medseal, from the text of docs/SUBMISSION.md and
# RFC 9162 alone, with the openssl command (SHA-256, Ed25519) and the shell: so the C test also
# shows that a receipt made by another implementation verifies in medseal. Fresh every run:
#
#   receipt.key, receipt.pub.pem       the hub's receipt key (Ed25519; private and public PEM)
#   tree-head.key, tree-head.pub.pem   the hub's tree-head key (Ed25519), another key
#   entry-N.json (N = 0..4)            five ledger entries, canonical JSON, records rec-000N of
#                                      source hospital-a, sequence N+1, digest SHA-256("envelope N")
#   leaf-N.bin                         their RFC 9162 leaf hashes, SHA-256(0x00 || entry)
#   n01.bin, n23.bin, n0123.bin        interior nodes, SHA-256(0x01 || left || right)
#   root.bin                           the root of the 5-leaf tree: node(n0123, leaf-4)
#   receipt.jws                        compact JWS (typ medseal-receipt+jws) for rec-0002,
#                                      ledger index 2, tree size 5
#   tree-head.jws                      compact JWS (typ medseal-tree-head+jws), size 5, root.bin
#   path.bin                           the audit path of leaf 2 in 5: leaf-3, n01, leaf-4
#   proof.json                         the InclusionProof's JSON mapping (the C test builds the
#                                      protobuf form itself)
#   digest-2.bin                       SHA-256("envelope 2"), the digest the receipt names
#
# TEST KEYS ONLY, generated per run.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
OUT=$1
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"

sha256() { openssl dgst -sha256 -binary; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
node() { { printf '\001'; cat "$1" "$2"; } | sha256 >"$3"; }
# A compact JWS with an Ed25519 key: header, payload (canonical JSON), signature.
jws() {
    local key=$1 typ=$2 payload=$3 input
    input="$(printf '{"alg":"EdDSA","typ":"%s"}' "$typ" | b64url).$(printf '%s' "$payload" | b64url)"
    printf '%s' "$input" >jws-input.tmp
    printf '%s.%s' "$input" "$(openssl pkeyutl -sign -rawin -inkey "$key" -in jws-input.tmp | b64url)"
    rm -f jws-input.tmp
}

for name in receipt tree-head; do
    openssl genpkey -algorithm ed25519 -out "$name.key" 2>/dev/null
    openssl pkey -in "$name.key" -pubout -out "$name.pub.pem"
done

for i in 0 1 2 3 4; do
    printf 'envelope %s' "$i" | sha256 >"digest-$i.bin"
    printf '{"digest":"%s","received":"2026-01-01T00:00:0%sZ","record_id":"rec-000%s","sequence":%s,"source":"hospital-a"}' \
        "$(b64url <"digest-$i.bin")" "$i" "$i" "$((i + 1))" >"entry-$i.json"
    { printf '\000'; cat "entry-$i.json"; } | sha256 >"leaf-$i.bin"
done
node leaf-0.bin leaf-1.bin n01.bin
node leaf-2.bin leaf-3.bin n23.bin
node n01.bin n23.bin n0123.bin
node n0123.bin leaf-4.bin root.bin
cat leaf-3.bin n01.bin leaf-4.bin >path.bin

jws receipt.key medseal-receipt+jws \
    "$(printf '{"digest":"%s","ledger_index":2,"received":"2026-01-01T00:00:02Z","record_id":"rec-0002","sequence":3,"source":"hospital-a","tree_size":5,"type":"medseal-receipt"}' \
        "$(b64url <digest-2.bin)")" >receipt.jws
jws tree-head.key medseal-tree-head+jws \
    "$(printf '{"root_hash":"%s","timestamp":"2026-01-01T01:00:00Z","tree_size":5,"type":"medseal-tree-head"}' \
        "$(b64url <root.bin)")" >tree-head.jws
printf '{"audit_path":["%s","%s","%s"],"leaf_index":2,"tree_head":"%s","tree_size":5}' \
    "$(b64url <leaf-3.bin)" "$(b64url <n01.bin)" "$(b64url <leaf-4.bin)" "$(cat tree-head.jws)" >proof.json

for f in receipt.jws tree-head.jws proof.json root.bin path.bin; do
    [ -s "$f" ] || {
        echo "error: $OUT/$f was not made" >&2
        exit 1
    }
done
echo "ledger: a receipt for rec-0002 at index 2 of 5, its tree head and proof (openssl, not medseal) in $OUT"
