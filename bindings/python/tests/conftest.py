"""Fixtures of the medseal binding tests.

* ``pki``: the test PKI and SoftHSM2 token of tests/c/fixtures.sh (openssl + SoftHSM2 are
  required: bash scripts/install-deps.sh; a missing tool FAILS the tests, it never skips them),
  plus the openssl-made ledger fixtures (tests/c/ledger_fixtures.sh).
* ``hub``: the reference hub (``medseal hub init``, ``facility init`` + ``hub enroll``, ``hub
  serve`` on 127.0.0.1, a free port), as tests/c/run.sh starts it. The CLI is ``$MEDSEAL_CLI``,
  else target/{debug,release}/medseal of the repository (``$CARGO_TARGET_DIR`` honoured). A test
  that delivers a new outbox enrols its own facility (``hub.enrol(name)``): every outbox numbers
  its records from 1, and the hub refuses a facility's sequence number it already holds
  (SEQUENCE_REUSED).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

import medseal

REPO = Path(__file__).resolve().parents[3]

PATIENT = {
    "resourceType": "Patient",
    "id": "pat-001",
    "name": [{"family": "Nguyễn", "given": ["Văn", "An"]}],
    "birthDate": "1980-02-29",
    "active": True,
}


def repo_file(*parts: str) -> Path:
    return REPO.joinpath(*parts)


@dataclass
class Pki:
    dir: Path
    env: Dict[str, str]

    def path(self, name: str) -> Path:
        return self.dir / "pki" / name

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    @property
    def ledger(self) -> Path:
        return self.dir / "ledger"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    out = tmp_path_factory.mktemp("fixtures") / "c"
    for tool in ("openssl", "softhsm2-util"):
        if shutil.which(tool) is None:
            pytest.fail("%s is missing: install the test dependencies with bash scripts/install-deps.sh" % tool)
    result = subprocess.run(
        ["bash", str(repo_file("tests", "c", "fixtures.sh")), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail("tests/c/fixtures.sh failed:\n" + result.stdout)
    env: Dict[str, str] = {}
    for line in (out / "env.sh").read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            env[name] = value.strip("'")
    os.environ["SOFTHSM2_CONF"] = env["SOFTHSM2_CONF"]
    return Pki(out, env)


def medseal_cli() -> Path:
    env = os.environ.get("MEDSEAL_CLI")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    if not target.is_absolute():
        target = REPO / target
    for profile in ("debug", "release"):
        candidate = target / profile / "medseal"
        if candidate.is_file():
            return candidate
    pytest.fail("no medseal CLI: build it (cargo build -j2 -p medseal-cli) or set MEDSEAL_CLI")
    raise AssertionError("unreachable")


@dataclass
class Hub:
    url: str
    dir: Path
    facility: str
    facility_dir: Path
    cli: Path

    def transport(self, **options: object) -> medseal.Transport:
        return medseal.Transport(self.url, facility_dir=self.facility_dir, **options)  # type: ignore[arg-type]

    def signing_key(self) -> medseal.Key:
        return medseal.Key.load((self.facility_dir / "signing.key").read_bytes())

    def recipient(self) -> medseal.RecipientKey:
        return medseal.RecipientKey.load((self.facility_dir / "hub-recipient.pub").read_bytes())

    def key(self, name: str) -> medseal.Key:
        return medseal.Key.load((self.facility_dir / name).read_bytes())

    def enrol(self, facility: str, openssl: bool = False) -> "Hub":
        """This running hub with a newly enrolled facility (it sees it at its next batch).

        The hospital makes its keys (``medseal facility init``, or with ``openssl=True`` the
        openssl commands docs/SUBMISSION.md gives); the hub enrols only signing.pub and
        client.csr, and writes its files into the same directory.
        """
        facility_dir = self.dir.parent / facility
        if openssl:
            facility_dir.mkdir()
            for args in (
                ["genpkey", "-algorithm", "ed25519", "-out", "signing.key"],
                ["pkey", "-in", "signing.key", "-pubout", "-out", "signing.pub"],
                ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key",
                 "-subj", "/CN=" + facility, "-out", "client.csr"],
            ):
                _run(["openssl"] + args, cwd=facility_dir)
        else:
            _run([str(self.cli), "facility", "init", "--facility", facility, "--dir", str(facility_dir)])
        _run([str(self.cli), "hub", "enroll", "--dir", str(self.dir), "--facility", facility,
              "--signing-key", str(facility_dir / "signing.pub"), "--csr", str(facility_dir / "client.csr"),
              "--out", str(facility_dir)])
        return Hub(self.url, self.dir, facility, facility_dir, self.cli)


def _run(args: List[str], cwd: Optional[Path] = None) -> None:
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)
    if done.returncode != 0:
        pytest.fail("%s failed:\n%s" % (" ".join(args), done.stdout))


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    cli = medseal_cli()
    base = tmp_path_factory.mktemp("hub")
    hub_dir, facility_dir, facility = base / "hub", base / "facility", "py-test-facility"
    _run([str(cli), "hub", "init", "--dir", str(hub_dir), "--listen", "127.0.0.1:0"])
    _run([str(cli), "facility", "init", "--facility", facility, "--dir", str(facility_dir)])
    _run([str(cli), "hub", "enroll", "--dir", str(hub_dir), "--facility", facility, "--signing-key",
          str(facility_dir / "signing.pub"), "--csr", str(facility_dir / "client.csr"), "--out", str(facility_dir)])
    out_path, log_path = base / "hub.out", base / "hub.log"
    with open(out_path, "w") as out, open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(cli), "hub", "serve", "--dir", str(hub_dir), "--listen", "127.0.0.1:0"], stdout=out, stderr=log
        )
    try:
        url = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            for line in out_path.read_text().splitlines():
                if line.startswith("listening on https://"):
                    url = line[len("listening on "):].strip()
            if url:
                break
            time.sleep(0.05)
        if not url:
            pytest.fail("the reference hub did not start:\n" + log_path.read_text())
        yield Hub(url, hub_dir, facility, facility_dir, cli)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
