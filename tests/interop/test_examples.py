"""The Python examples (examples/python/*.py) run as a newcomer runs them, and do what they say.

- sign_verify.py: the sample record, a record file with the smoke key (its kid), and a record in
  NFD refused with MEDSEAL_JSON_NOT_NFC (exit 1, no traceback);
- seal_open.py: both envelope encodings open and verify, the 1 MiB round trip is exact;
- outbox_deliver.py: against the reference hub on 127.0.0.1 (`medseal hub init`, the hospital's
  `medseal facility init` and the hub's `medseal hub enroll` of its public parts, `hub serve`,
  mutual TLS), both records delivered and their receipts verified; then the medseal CLI checks
  the same outbox's receipts (`medseal outbox receipts`) and the hub's ledger holds them.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"
SMOKE = ROOT / "tests" / "smoke"


def example(name, *args, expect=0, timeout=120):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)], cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == expect, "%s: exit %d\n%s\n%s" % (name, result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def medseal_cli():
    if os.environ.get("MEDSEAL_CLI"):
        return Path(os.environ["MEDSEAL_CLI"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    target = target if target.is_absolute() else ROOT / target
    for profile in ("debug", "release"):
        if (target / profile / "medseal").is_file():
            return target / profile / "medseal"
    pytest.fail("no medseal CLI: cargo build -j2 -p medseal-cli (or set MEDSEAL_CLI)")


def test_sign_verify():
    out = example("sign_verify.py").stdout
    assert "\nverified: yes\nalgorithm: EdDSA\n" in out
    assert '"text":"Nguyễn Văn An"' in out
    out = example("sign_verify.py", SMOKE / "patient.json", SMOKE / "signer_ed25519.pem").stdout
    kid = (SMOKE / "kid.txt").read_text().strip()
    assert "key id: %s\n" % kid in out and "signed by: %s\n" % kid in out
    assert "record: %s\n" % (SMOKE / "patient.canonical.json").read_text(encoding="utf-8") in out
    err = example("sign_verify.py", SMOKE / "patient_nfd.json", expect=1).stderr
    assert err.startswith("MEDSEAL_JSON_NOT_NFC: ")
    example("sign_verify.py", "a", "b", "c", expect=2)


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
def test_seal_open(encoding):
    out = example("seal_open.py", encoding).stdout
    assert "\nverified: yes\n" in out
    assert re.search(r'^meta: \{"content_type":"application/jose\+json","created":"[^"]+","record_id":"rec-2025-000123",'
                     r'"sequence":42,"source":"bv-cho-ray"\}$', out, re.M)
    assert 'record: {"code":{"text":"HbA1c"},"id":"obs-8841","resourceType":"Observation","status":"final",' \
           '"valueQuantity":{"unit":"%","value":6.1}}\n' in out
    assert "1 MiB sealed into" in out and out.rstrip().endswith(": same")
    example("seal_open.py", "xml", expect=2)


@pytest.fixture()
def hub(tmp_path):
    """A fresh reference hub on 127.0.0.1 and one enrolled facility, as tests/c/run.sh makes them."""
    cli = medseal_cli()
    hub_dir, facility_dir = tmp_path / "hub", tmp_path / "bv-trung-uong-hue"
    for args in (["hub", "init", "--dir", hub_dir, "--listen", "127.0.0.1:0"],
                 ["facility", "init", "--facility", "bv-trung-uong-hue", "--dir", facility_dir],
                 ["hub", "enroll", "--dir", hub_dir, "--facility", "bv-trung-uong-hue", "--signing-key",
                  facility_dir / "signing.pub", "--csr", facility_dir / "client.csr", "--out", facility_dir]):
        done = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    out_path = tmp_path / "hub.out"
    with open(out_path, "w") as out, open(tmp_path / "hub.log", "w") as log:
        process = subprocess.Popen([str(cli), "hub", "serve", "--dir", str(hub_dir), "--listen", "127.0.0.1:0"],
                                   stdout=out, stderr=log)
    try:
        url, deadline = "", time.monotonic() + 20
        while not url and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"^listening on (https://\S+)$", out_path.read_text(), re.M)
            url = found.group(1) if found else ""
            time.sleep(0.05)
        assert url, "the hub did not start: %s" % (tmp_path / "hub.log").read_text()
        yield cli, url, hub_dir, facility_dir
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_outbox_deliver(hub, tmp_path):
    cli, url, hub_dir, facility_dir = hub
    outbox = tmp_path / "outbox.sqlite"
    out = example("outbox_deliver.py", url, facility_dir, outbox).stdout
    ids = re.findall(r"^enqueued \S+ \S+ as (\S+) \(sequence (\d+)\)$", out, re.M)
    assert [seq for _, seq in ids] == ["1", "2"], out
    assert "outbox: 2 delivered, 0 dead letters\n" in out
    verified = re.findall(r"^receipt verified: (\S+) is entry (\d+) of the hub's ledger \(tree size (\d+)\)", out, re.M)
    assert sorted(v[0] for v in verified) == sorted(i for i, _ in ids), out
    assert sorted(int(v[1]) for v in verified) == [0, 1]
    # Independently: the CLI re-checks the receipts the example's outbox kept ...
    done = subprocess.run([str(cli), "outbox", "receipts", "--outbox", str(outbox), "--facility-dir", str(facility_dir)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for record_id, _ in ids:
        assert record_id in done.stdout
    # ... and the hub's ledger audits clean and holds both records.
    done = subprocess.run([str(cli), "hub", "audit", "--dir", str(hub_dir), "--entries"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for record_id, _ in ids:
        assert record_id in done.stdout, done.stdout
    # Run again on the same outbox: new records get the next sequence numbers.
    out = example("outbox_deliver.py", url, facility_dir, outbox).stdout
    assert [seq for _, seq in re.findall(r"^enqueued \S+ \S+ as (\S+) \(sequence (\d+)\)$", out, re.M)] == ["3", "4"]
    assert "outbox: 4 delivered, 0 dead letters\n" in out


def test_outbox_deliver_usage():
    example("outbox_deliver.py", expect=2)
