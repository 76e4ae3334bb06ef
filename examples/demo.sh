#!/usr/bin/env bash
# `make demo`: the main job end to end on embedded defaults. First one record by hand:
# canonicalize a FHIR Patient with a Vietnamese name, make a hospital key, sign the record,
# verify it, show that tampering is caught, verify across a key rollover with the health
# department's trust list, seal to the hub and an insurer, the same through the C ABI. Then the
# pilot: a hub on 127.0.0.1 with its PKI, two hospitals that make their own keys and are enrolled
# from the public parts only, whose records wait in their outboxes while the hub is down,
# delivery over mutual TLS, receipts and the ledger verified.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/demo
rm -rf "$out"
mkdir -p "$out"
step() { printf '\n== %s\n' "$*"; }

step "build the library, the CLI and the C example"
cargo build -j2 --quiet --workspace
medseal=target/debug/medseal
for example in sign_verify seal_open; do
  cc -std=c11 -Wall -Wextra -Werror -Iinclude "examples/c/$example.c" \
     -Ltarget/debug -Wl,-rpath,"$PWD/target/debug" -lmedseal -o "$out/$example"
done

step "canonicalize examples/data/patient.json (RFC 8785, strict: NFC, no lossy numbers)"
"$medseal" canon examples/data/patient.json > "$out/patient.canonical.json"
head -c 160 "$out/patient.canonical.json"; echo " ..."

step "a Vietnamese name in NFD is refused by default, normalized with --nfc"
python3 -c 'import sys, unicodedata; sys.stdout.write(unicodedata.normalize("NFD", open("examples/data/patient.json", encoding="utf-8").read()))' > "$out/patient.nfd.json"
if "$medseal" canon "$out/patient.nfd.json" > /dev/null 2> "$out/nfd.err"; then
  echo "NFD input was accepted: the demo expected a refusal" >&2; exit 1
fi
cat "$out/nfd.err"
"$medseal" canon --nfc "$out/patient.nfd.json" | cmp - "$out/patient.canonical.json"
echo "--nfc output is byte-identical to the NFC canonical form"

step "generate the hospital's Ed25519 signing key (PKCS#8 PEM, mode 0600)"
"$medseal" key generate --alg ed25519 --out "$out/hospital.pem"
"$medseal" key public "$out/hospital.pem" --format pem > "$out/hospital.pub.pem"
"$medseal" key public "$out/hospital.pem" --format jwk > "$out/hospital.pub.jwk"
cat "$out/hospital.pub.jwk"

step "sign the record (JWS, JAdES-B-B header: alg, kid, typ, sigT in crit)"
"$medseal" sign --key "$out/hospital.pem" examples/data/patient.json > "$out/patient.jws"
head -c 200 "$out/patient.jws"; echo " ..."

step "verify it with the public key (PEM and JWK)"
"$medseal" verify --key "$out/hospital.pub.pem" "$out/patient.jws"
"$medseal" verify --key "$out/hospital.pub.jwk" "$out/patient.jws"

step "a detached signature (FHIR Signature.data) verified against the pretty-printed document"
"$medseal" sign --key "$out/hospital.pem" --detached examples/data/patient.json > "$out/patient.detached.jws"
"$medseal" verify --key "$out/hospital.pub.pem" --payload examples/data/patient.json --payload-document "$out/patient.detached.jws"

step "tampering is caught"
python3 - "$out/patient.jws" "$out/tampered.jws" <<'PY'
import base64, json, sys
jws = json.load(open(sys.argv[1]))
pad = lambda s: s + "=" * (-len(s) % 4)
payload = base64.urlsafe_b64decode(pad(jws["payload"])).replace("1990-04-30".encode(), "1991-04-30".encode())
jws["payload"] = base64.urlsafe_b64encode(payload).decode().rstrip("=")
json.dump(jws, open(sys.argv[2], "w"))
PY
if "$medseal" verify --key "$out/hospital.pub.pem" "$out/tampered.jws"; then
  echo "a tampered record verified: the demo expected a refusal" >&2; exit 1
fi

step "key rollover: the health department's signed trust list vouches for each key within its window"
# The hospital's Ed25519 key signed until 1 July 2026; a P-256 key took over then.
"$medseal" key generate --alg es256 --out "$out/hospital-2026.pem"
"$medseal" key public "$out/hospital-2026.pem" --format pem > "$out/hospital-2026.pub.pem"
"$medseal" key generate --alg ed25519 --out "$out/doh.pem"
"$medseal" key public "$out/doh.pem" --format pem > "$out/doh.pub.pem"
"$medseal" trust create --issuer "HCMC Department of Health" --sequence 1 --valid-days 90 \
    --entry "facility=bv-cho-ray,role=record-signing,key=$out/hospital.pub.pem,not-before=2025-01-01T00:00:00Z,not-after=2026-07-01T00:00:00Z" \
    --entry "facility=bv-cho-ray,role=record-signing,key=$out/hospital-2026.pub.pem,not-before=2026-07-01T00:00:00Z,not-after=2030-01-01T00:00:00Z" \
    > "$out/trust-list.json"
"$medseal" trust sign --key "$out/doh.pem" "$out/trust-list.json" > "$out/trust-list.jws"
"$medseal" trust verify --key "$out/doh.pub.pem" "$out/trust-list.jws"
echo "a record the old key signed on 1 March 2026 (before its retirement) still verifies:"
"$medseal" sign --key "$out/hospital.pem" --signing-time 1772323200 examples/data/patient.json > "$out/patient.march.jws"
"$medseal" verify --trust-list "$out/trust-list.jws" --trust-list-key "$out/doh.pub.pem" "$out/patient.march.jws"
echo "the new key verifies from its window on:"
"$medseal" sign --key "$out/hospital-2026.pem" examples/data/patient.json > "$out/patient.new-key.jws"
"$medseal" verify --trust-list "$out/trust-list.jws" --trust-list-key "$out/doh.pub.pem" "$out/patient.new-key.jws"
echo "a record the retired key signed today is refused:"
if "$medseal" verify --trust-list "$out/trust-list.jws" --trust-list-key "$out/doh.pub.pem" "$out/patient.jws" 2> "$out/retired.err"; then
  echo "a record signed after its key's retirement verified: the demo expected a refusal" >&2; exit 1
fi
cat "$out/retired.err"
grep -q MEDSEAL_SIGNED_OUTSIDE_VALIDITY "$out/retired.err"

step "the hub and the insurer make X25519 keys to receive sealed records"
"$medseal" key generate --alg x25519 --out "$out/hub.pem"
"$medseal" key public "$out/hub.pem" --format jwk > "$out/hub.pub.jwk"
"$medseal" key generate --alg x25519 --out "$out/insurer.pem"
"$medseal" key public "$out/insurer.pem" --format pem > "$out/insurer.pub.pem"

step "seal the signed record to the hub and the insurer (HPKE, RFC 9180; meta in clear but bound)"
"$medseal" seal --to "$out/hub.pub.jwk" --to "$out/insurer.pub.pem" \
    --meta source=bv-cho-ray --meta sequence=1 --meta record_id=patient-nguyen-van-an-1 \
    "$out/patient.jws" > "$out/patient.sealed.json"
"$medseal" seal --to "$out/hub.pub.jwk" --meta source=bv-cho-ray --meta sequence=1 --format proto \
    "$out/patient.jws" > "$out/patient.sealed.pb"
echo "routing meta anyone can read (no key):"
"$medseal" open --meta-only "$out/patient.sealed.json"

step "the hub opens it and verifies the hospital's signature inside"
"$medseal" open --key "$out/hub.pem" --verify-key "$out/hospital.pub.pem" "$out/patient.sealed.json" | head -c 120; echo " ..."
"$medseal" open --key "$out/insurer.pem" --verify-key "$out/hospital.pub.pem" "$out/patient.sealed.json" > /dev/null
"$medseal" open --key "$out/hub.pem" --verify-key "$out/hospital.pub.pem" "$out/patient.sealed.pb" > /dev/null
echo "the insurer and the protobuf copy open and verify too"

step "a changed sequence number in the clear meta is caught"
sed 's/"sequence":1/"sequence":2/' "$out/patient.sealed.json" > "$out/tampered.sealed.json"
if "$medseal" open --key "$out/hub.pem" "$out/tampered.sealed.json" > /dev/null; then
  echo "a tampered envelope opened: the demo expected a refusal" >&2; exit 1
fi

step "the same through the C ABI (examples/c/sign_verify.c, examples/c/seal_open.c)"
"$out/sign_verify" examples/data/patient.json
"$out/seal_open" protobuf

step "pilot: the auditors make their escrow key; the hub will hand its public half to every hospital"
"$medseal" key generate --alg x25519 --out "$out/auditor-escrow.key"
"$medseal" key public "$out/auditor-escrow.key" > "$out/auditor-escrow.pub"

step "pilot: create the hub (CA, server certificate, receipt and tree-head keys, X25519 key, ledger)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
hub_url="https://127.0.0.1:$port"
"$medseal" hub init --dir "$out/hub" --listen "127.0.0.1:$port" --escrow-key "$out/auditor-escrow.pub"

step "pilot: each hospital makes its own keys (medseal facility init; openssl or a token would do)"
for facility in bv-cho-ray bv-nhi-dong-1; do
  "$medseal" facility init --facility "$facility" --dir "$out/$facility" | grep -v '^next: '
done
ls -l "$out/bv-cho-ray" | awk 'NR > 1 { print "  " $1, $NF }'

step "pilot: the hub enrols each hospital from its public parts only (signing.pub, client.csr)"
for facility in bv-cho-ray bv-nhi-dong-1; do
  "$medseal" hub enroll --dir "$out/hub" --facility "$facility" --signing-key "$out/$facility/signing.pub" \
      --csr "$out/$facility/client.csr" --out "$out/$facility" | head -n 3
done
# A check: no copy of either hospital's private keys (PEM) is in the hub's directory.
for facility in bv-cho-ray bv-nhi-dong-1; do
  for key in signing.key client.key; do
    if grep -rqF -- "$(sed -n 2p "$out/$facility/$key")" "$out/hub"; then
      echo "the hub's directory holds $facility's $key: the demo expected hospital-held keys" >&2; exit 1
    fi
  done
done
echo "the hub enrolled only public parts: signing.pub and client.csr went to the hub, signing.key and client.key never left the hospitals"

step "pilot: each hospital signs and seals FHIR records into its outbox (the hub is not running yet)"
enqueue() { # facility record-id file
  "$medseal" sign --key "$out/$1/signing.key" "$3" > "$out/$1/$2.jws"
  "$medseal" outbox enqueue --outbox "$out/$1/outbox.sqlite" --source "$1" --to "$out/$1/hub-recipient.pub" \
      --to "$out/$1/escrow-1.pub" --signing-key "$out/$1/signing.pub" --record-id "$2" "$out/$1/$2.jws"
}
enqueue bv-cho-ray cr-patient-0001 examples/data/patient.json
enqueue bv-cho-ray cr-enc-0002 examples/data/pilot/encounter.json
enqueue bv-cho-ray cr-obs-0003 examples/data/pilot/observation-hba1c.json
enqueue bv-cho-ray cr-cond-0004 examples/data/pilot/condition.json
enqueue bv-nhi-dong-1 nd1-imm-0001 examples/data/pilot/immunization.json
"$medseal" outbox status --outbox "$out/bv-cho-ray/outbox.sqlite"
echo "delivering while the hub is down keeps every record (and says why):"
if "$medseal" outbox deliver --outbox "$out/bv-nhi-dong-1/outbox.sqlite" --facility-dir "$out/bv-nhi-dong-1" --hub "$hub_url" --once; then
  echo "delivery to a stopped hub succeeded: the demo expected it to wait" >&2; exit 1
fi

step "pilot: start the hub on $hub_url (mutual TLS)"
"$medseal" hub serve --dir "$out/hub" > "$out/hub.out" 2> "$out/hub.err" &
hub_pid=$!
trap 'kill "$hub_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$out/hub.out" 2>/dev/null && break
  kill -0 "$hub_pid" 2>/dev/null || { cat "$out/hub.err" >&2; exit 1; }
  sleep 0.1
done
cat "$out/hub.out"

step "pilot: deliver both outboxes over mutual TLS (--until-empty waits out the earlier back-off)"
for facility in bv-cho-ray bv-nhi-dong-1; do
  "$medseal" outbox deliver --outbox "$out/$facility/outbox.sqlite" --facility-dir "$out/$facility" --hub "$hub_url" --until-empty
done
"$medseal" outbox status --outbox "$out/bv-cho-ray/outbox.sqlite"

step "pilot: each hospital verifies its receipts (hub's receipt key, inclusion proof, signed tree head)"
for facility in bv-cho-ray bv-nhi-dong-1; do
  "$medseal" outbox receipts --outbox "$out/$facility/outbox.sqlite" --facility-dir "$out/$facility"
done

step "pilot: nothing is left to deliver, and the hub's own check of its ledger passes (the hub vouching for itself: the auditor's check is the last step)"
"$medseal" outbox deliver --outbox "$out/bv-cho-ray/outbox.sqlite" --facility-dir "$out/bv-cho-ray" --hub "$hub_url" --until-empty
"$medseal" hub audit --dir "$out/hub" --entries

step "pilot: stop the hub"
kill "$hub_pid"
wait "$hub_pid" || true
trap - EXIT
cat "$out/hub.err"

step "audit: the hub exports a bundle; the auditor checks it offline against what the hospitals hold"
"$medseal" hub export --dir "$out/hub" --out "$out/bundle"
"$medseal" outbox tree-heads --outbox "$out/bv-cho-ray/outbox.sqlite" --json > "$out/cho-ray-tree-heads.json"
"$medseal" audit "$out/bundle" --key "$out/auditor-escrow.key" \
    --outbox "$out/bv-cho-ray/outbox.sqlite" --outbox "$out/bv-nhi-dong-1/outbox.sqlite" \
    --tree-head "$out/cho-ray-tree-heads.json" --json "$out/audit-report.json" --html "$out/audit-report.html"
echo "the report to file: $out/audit-report.html (and $out/audit-report.json)"

printf '\ndemo finished: every step behaved as expected\n'
