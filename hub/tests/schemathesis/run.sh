#!/usr/bin/env bash
# hub/openapi.yaml against the live reference hub (issue 10, point 13): schemathesis, every check
# on, stateful links followed, over mutual TLS. From anywhere:
#
#   bash hub/tests/schemathesis/run.sh        (what `make test-api` runs)
#
# 1. builds the CLI (`cargo build -j2 -p medseal-cli`; MEDSEAL_SKIP_CARGO=1 skips it, and
#    MEDSEAL_CLI=PATH runs that binary instead);
# 2. prepares the venv build/venv-schemathesis (schemathesis pinned in requirements.txt here,
#    reinstalled only when that file changes);
# 3. makes a hub with `medseal hub init`, enrolls a facility with `medseal hub enroll` (from
#    the public parts `medseal facility init` made, where the CLI has it), starts
#    `medseal hub serve` on 127.0.0.1 (a free port), and delivers three signed, sealed records
#    through an outbox, so that the ledger and its proofs have something in them;
# 4. seals one more record (not delivered) and adds it to a copy of the document as the JSON
#    request body's example: the first submission of it is ACCEPTED, later ones DUPLICATE, so
#    the links from a submission's results to the proof endpoints lead somewhere real;
# 5. runs schemathesis with --checks all, a fixed seed and ST_MAX_EXAMPLES (default 500)
#    examples per operation, the facility's client certificate and the hub's CA; fails on any
#    failure or error, and when no operation or test case ran. Prints the counts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
ROOT=$PWD
HERE=hub/tests/schemathesis
VENV=build/venv-schemathesis
REQUIREMENTS=$HERE/requirements.txt
STAMP=$VENV/.medseal-requirements
WORK=build/schemathesis
SEED=${ST_SEED:-20261205}
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-500}
FACILITY=st-facility

section() { printf '\n==> %s\n' "$*"; }

section "CLI"
if [ "${MEDSEAL_SKIP_CARGO:-0}" != 1 ]; then
    cargo build -j2 -p medseal-cli
fi
if [ -n "${MEDSEAL_CLI:-}" ]; then
    MEDSEAL=$MEDSEAL_CLI
else
    TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    MEDSEAL=$TARGET/debug/medseal
fi
[ -x "$MEDSEAL" ] || { echo "error: $MEDSEAL is missing (run without MEDSEAL_SKIP_CARGO)" >&2; exit 1; }
# A copy: another build may replace the binary while the hub runs.
rm -rf "$WORK"
mkdir -p "$WORK"
cp "$MEDSEAL" "$WORK/medseal"
MEDSEAL=$ROOT/$WORK/medseal

section "venv $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if ! cmp -s "$REQUIREMENTS" "$STAMP"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    cp "$REQUIREMENTS" "$STAMP"
fi
"$VENV/bin/schemathesis" --version

section "reference hub (medseal hub init/enroll/serve on 127.0.0.1)"
cd "$WORK"
HUB_PID=
stop_hub() {
    if [ -n "$HUB_PID" ]; then
        kill "$HUB_PID" 2>/dev/null || true
        wait "$HUB_PID" 2>/dev/null || true
        HUB_PID=
    fi
}
trap stop_hub EXIT
{
    "$MEDSEAL" hub init --dir hub --listen 127.0.0.1:0
    if "$MEDSEAL" hub enroll --help | grep -q -- '--csr'; then
        # Hospital-held keys: the facility makes its keys, the hub enrols only the public parts.
        "$MEDSEAL" facility init --facility "$FACILITY" --dir facility
        "$MEDSEAL" hub enroll --dir hub --facility "$FACILITY" --signing-key facility/signing.pub \
            --csr facility/client.csr --out facility
    else
        "$MEDSEAL" hub enroll --dir hub --facility "$FACILITY" --out facility
    fi
} >setup.log 2>&1 || { cat setup.log >&2; echo "error: setting up the hub failed" >&2; exit 1; }
"$MEDSEAL" hub serve --dir hub --listen 127.0.0.1:0 >hub.out 2>hub.log &
HUB_PID=$!
for _ in $(seq 1 200); do
    grep -q '^listening on https://' hub.out && break
    kill -0 "$HUB_PID" 2>/dev/null || break
    sleep 0.05
done
grep -q '^listening on https://' hub.out || { cat hub.log >&2; echo "error: the hub did not start" >&2; exit 1; }
URL=$(sed -n 's/^listening on //p' hub.out | head -n 1)
echo "hub at $URL (pid $HUB_PID), facility $FACILITY"

section "three records delivered, one more sealed for the document's example"
DATA=$ROOT/examples/data
# The outbox refuses records not signed by the facility's own key, where the CLI checks it.
OWN_KEY=()
if "$MEDSEAL" outbox enqueue --help | grep -q -- '--signing-key'; then
    OWN_KEY=(--signing-key facility/signing.pub)
fi
i=0
for doc in "$DATA/patient.json" "$DATA/pilot/encounter.json" "$DATA/pilot/observation-hba1c.json"; do
    i=$((i + 1))
    "$MEDSEAL" sign --key facility/signing.key "$doc" >"record-$i.jws"
    "$MEDSEAL" outbox enqueue --outbox outbox.sqlite --source "$FACILITY" --to facility/hub-recipient.pub \
        --record-id "st-record-$i" "${OWN_KEY[@]}" "record-$i.jws" >>setup.log
done
"$MEDSEAL" outbox deliver --outbox outbox.sqlite --facility-dir facility --hub "$URL" --until-empty
"$MEDSEAL" sign --key facility/signing.key "$DATA/pilot/condition.json" >record-4.jws
"$MEDSEAL" seal --to facility/hub-recipient.pub --meta "source=$FACILITY" --meta sequence=4 \
    --meta record_id=st-record-4 --format proto record-4.jws >record-4.pb
"$ROOT/$VENV/bin/python" - "$ROOT/hub/openapi.yaml" record-4.pb st-record-4 openapi.live.yaml <<'EOF'
import base64, hashlib, sys
import yaml
spec_path, envelope_path, record_id, out = sys.argv[1:]
envelope = open(envelope_path, "rb").read()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
spec = yaml.safe_load(open(spec_path, encoding="utf-8"))
body = spec["paths"]["/v1/records"]["post"]["requestBody"]["content"]["application/json"]
body["example"] = {"records": [{"record_id": record_id, "envelope": b64(envelope), "digest": b64(hashlib.sha256(envelope).digest())}]}
yaml.safe_dump(spec, open(out, "w", encoding="utf-8"), sort_keys=False, allow_unicode=True)
print("openapi.live.yaml: hub/openapi.yaml with a record sealed to this hub as the JSON request example")
EOF

section "schemathesis: --checks all, seed $SEED, $MAX_EXAMPLES examples per operation, stateful links"
status=0
"$ROOT/$VENV/bin/schemathesis" --config-file "$ROOT/$HERE/schemathesis.toml" --no-color run openapi.live.yaml \
    --url "$URL" --checks all --phases examples,coverage,fuzzing,stateful \
    --seed "$SEED" --max-examples "$MAX_EXAMPLES" --generation-database none --workers 1 \
    --tls-verify facility/hub-ca.pem --request-cert facility/client.pem --request-cert-key facility/client.key \
    --report json --report-json-path report.json 2>&1 | tee schemathesis.out || status=$?
stop_hub
trap - EXIT

"$ROOT/$VENV/bin/python" - report.json "$status" schemathesis.out <<'EOF'
import json, re, sys
report = json.load(open(sys.argv[1]))
status = int(sys.argv[2])
links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected / (\d+) total", open(sys.argv[3], encoding="utf-8").read())
phases = {name: phase["status"] for name, phase in report["phases"].items()}
operations, cases = report["operations"], report["test_cases"]
failures = sum(f["count"] for f in report["failures"])
print(
    "schemathesis: %d/%d operations tested, %d test cases with every check, %s/%s links followed, %d failures, %d errors, %.1f s (exit %d)"
    % (operations["tested"], operations["total"], cases["generated"], links and links[1], links and links[3], failures, len(report["errors"]), report["running_time"], status)
)
print("phases: " + ", ".join("%s %s" % item for item in phases.items()))
if status != 0 or failures or report["errors"]:
    sys.exit("error: hub/openapi.yaml and the hub disagree (details above; log in build/schemathesis/hub.log)")
if operations["tested"] == 0 or cases["generated"] == 0 or operations["tested"] != operations["total"]:
    sys.exit("error: schemathesis tested nothing (or not every operation)")
if any(state != "success" for state in phases.values()):
    sys.exit("error: a phase of schemathesis did not run")
if not links or links[1] != links[3]:
    sys.exit("error: the stateful phase did not follow every link of hub/openapi.yaml")
EOF
