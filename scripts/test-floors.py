#!/usr/bin/env python3
"""Runs every Rust test binary of the workspace and checks each ran at least its committed floor.

    python3 scripts/test-floors.py              # cargo test -j2 --workspace --no-fail-fast, then the table
    python3 scripts/test-floors.py --self-test  # the parser and the comparison on canned cargo output

A green `cargo test` says nothing about how many tests ran: a test file whose tests were all
compiled out (a `cfg`, a renamed module, a `#[test]` lost in a merge) passes with 0 tests. The
floors file (tests/floors.txt, one line per suite: `<suite> <floor>`) holds the number of tests
each suite had when it was last raised; this script fails when a suite ran fewer tests than its
floor, when a suite in the file did not run (or ran without a "test result" line: it crashed),
when a suite ran that the file does not list, or when cargo itself failed.

Suites are named `<package> <kind> <target>`: `medseal lib medseal` (unit tests), `medseal test
abi` (tests/abi.rs), `medseal-cli bin medseal`, `medseal-cli test outbox` (cli/tests/outbox.rs,
not the library's tests/outbox.rs: the test binaries are told apart by the executable cargo
reports for each), `medseal doc medseal` (doc tests). The test output stays on stdout as cargo
prints it; the table comes after it. When tests are added, raise the floor in the same commit
(`--print-floors` prints a floors file from a run).

Environment: CARGO (default cargo), JOBS (default -j2), MEDSEAL_FLOORS (default tests/floors.txt).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOORS_DEFAULT = os.path.join(ROOT, "tests", "floors.txt")

RUNNING = re.compile(r"^\s*Running (?:unittests )?(\S+) \((.+)\)\s*$")
DOC_TESTS = re.compile(r"^\s*Doc-tests (\S+)\s*$")
RESULT = re.compile(
    r"^test result: (ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured; (\d+) filtered out"
)


@dataclass
class Suite:
    name: str
    passed: int | None = None  # None: no "test result" line (the binary crashed or was killed)
    failed: int = 0
    ignored: int = 0
    filtered: int = 0
    status: str = ""


@dataclass
class Run:
    suites: dict[str, Suite] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def kind_of(kinds: list[str]) -> str:
    """cargo's target kinds as one word: a library is `lib` whatever crate types it builds."""
    if any(k in ("lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro") for k in kinds):
        return "lib"
    return kinds[0]


def suite_map_from_cargo(cargo: list[str], jobs: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Builds the test binaries and returns (executable file name -> suite, crate name -> package).

    The executable names cargo gives test binaries (`outbox-0e48411f74c7188f`) are unique; the
    names in its "Running tests/outbox.rs" lines are not (two packages have tests/outbox.rs)."""
    meta = subprocess.run(
        cargo + ["metadata", "--no-deps", "--format-version", "1"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    packages = {p["id"]: p["name"] for p in json.loads(meta.stdout)["packages"]}
    crate_to_package: dict[str, str] = {}
    for p in json.loads(meta.stdout)["packages"]:
        for t in p["targets"]:
            if kind_of(t["kind"]) == "lib":
                crate_to_package[t["name"].replace("-", "_")] = p["name"]
    build = subprocess.Popen(
        cargo + ["test"] + jobs + ["--workspace", "--no-run", "--message-format=json-render-diagnostics"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    exe_to_suite: dict[str, str] = {}
    assert build.stdout is not None
    for line in build.stdout:
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg.get("profile", {}).get("test"):
            continue
        package = packages.get(msg["package_id"], msg["package_id"])
        target = msg["target"]
        exe_to_suite[os.path.basename(msg["executable"])] = f"{package} {kind_of(target['kind'])} {target['name']}"
    if build.wait() != 0:
        sys.exit(f"test-floors: building the test binaries failed (cargo exit status {build.returncode})")
    return exe_to_suite, crate_to_package


def parse(lines, exe_to_suite: dict[str, str], crate_to_package: dict[str, str]) -> Run:
    """Reads cargo test's merged stdout/stderr: a "Running"/"Doc-tests" line opens a suite, the
    next "test result" line closes it."""
    run = Run()
    current: Suite | None = None

    def open_suite(name: str) -> Suite:
        if name in run.suites:
            run.problems.append(f"{name}: ran twice")
        suite = Suite(name)
        run.suites[name] = suite
        run.order.append(name)
        return suite

    for line in lines:
        line = line.rstrip("\n")
        m = RUNNING.match(line)
        if m:
            exe = os.path.basename(m.group(2))
            name = exe_to_suite.get(exe)
            if name is None:
                run.problems.append(f"{m.group(1)} ({exe}): not a test binary cargo reported building")
                name = f"? {m.group(1)} {exe}"
            current = open_suite(name)
            continue
        m = DOC_TESTS.match(line)
        if m:
            crate = m.group(1)
            current = open_suite(f"{crate_to_package.get(crate, crate)} doc {crate}")
            continue
        m = RESULT.match(line)
        if m:
            if current is None or current.passed is not None:
                run.problems.append(f"a \"test result\" line outside any suite: {line}")
                continue
            current.status = m.group(1)
            current.passed, current.failed, current.ignored = int(m.group(2)), int(m.group(3)), int(m.group(4))
            current.filtered = int(m.group(6))
            current = None
    return run


def read_floors(text: str, origin: str) -> dict[str, int]:
    floors: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, count = line.rpartition(" ")
        if not name or not count.isdigit():
            sys.exit(f"test-floors: {origin}:{number}: expected `<suite> <floor>`, got {raw!r}")
        name = " ".join(name.split())
        if name in floors:
            sys.exit(f"test-floors: {origin}:{number}: {name} listed twice")
        floors[name] = int(count)
    return floors


def compare(run: Run, floors: dict[str, int]) -> tuple[list[str], list[str]]:
    """Returns (table lines, failures)."""
    failures = list(run.problems)
    rows = []
    for name in run.order:
        suite = run.suites[name]
        floor = floors.get(name)
        ran = "-" if suite.passed is None else str(suite.passed)
        verdict = "ok"
        if suite.passed is None:
            verdict = "NO RESULT"
            failures.append(f"{name}: no \"test result\" line (the binary crashed or was killed)")
        elif suite.status != "ok" or suite.failed:
            verdict = "FAILED"
            failures.append(f"{name}: {suite.failed} failed")
        elif floor is None:
            verdict = "NOT IN FLOORS"
            failures.append(f"{name}: ran {suite.passed} tests but has no floor (add `{name} {suite.passed}`)")
        elif suite.passed < floor:
            verdict = "BELOW FLOOR"
            failures.append(f"{name}: {suite.passed} passed, floor {floor}")
        rows.append((name, ran, "-" if floor is None else str(floor), str(suite.ignored), verdict))
    for name, floor in floors.items():
        if name not in run.suites:
            rows.append((name, "-", str(floor), "-", "MISSING"))
            failures.append(f"{name}: did not run (floor {floor})")
    width = max([len("suite")] + [len(r[0]) for r in rows])
    table = [f"{'suite':<{width}}  {'passed':>6}  {'floor':>5}  {'ignored':>7}  verdict"]
    table += [f"{n:<{width}}  {p:>6}  {f:>5}  {i:>7}  {v}" for n, p, f, i, v in rows]
    return table, failures


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--self-test"]:
        return self_test()
    cargo = shlex.split(os.environ.get("CARGO", "cargo"))
    jobs = shlex.split(os.environ.get("JOBS", "-j2"))
    floors_path = os.environ.get("MEDSEAL_FLOORS", FLOORS_DEFAULT)
    print_floors = argv[1:2] == ["--print-floors"]
    with open(floors_path, encoding="utf-8") as f:
        floors = read_floors(f.read(), floors_path)
    exe_to_suite, crate_to_package = suite_map_from_cargo(cargo, jobs)
    command = cargo + ["test"] + jobs + ["--workspace", "--no-fail-fast"]
    print("+ " + " ".join(command), flush=True)
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None

    def echoed(stream):
        for line in stream:
            sys.stdout.write(line)
            sys.stdout.flush()
            yield line

    run = parse(echoed(proc.stdout), exe_to_suite, crate_to_package)
    status = proc.wait()
    table, failures = compare(run, floors)
    if status != 0:
        failures.append(f"cargo test exited with status {status}")
    print("\n-- test floors (" + os.path.relpath(floors_path, ROOT) + ")")
    print("\n".join(table))
    total = sum(s.passed or 0 for s in run.suites.values())
    print(f"rust: {total} tests passed in {len(run.suites)} suites (floors total {sum(floors.values())})")
    if print_floors:
        print("\n-- floors from this run")
        for name in sorted(run.order):
            print(f"{name} {run.suites[name].passed or 0}")
    if failures:
        print(f"FAILED ({len(failures)}):")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("OK: every Rust test suite ran at least its floor")
    return 0


# ---------------------------------------------------------------------------------------------
# Self-test: the parser and the comparison on canned output, so that the failure paths are known
# to fail (a checker that cannot fail proves nothing).

CANNED = """\
   Compiling medseal v0.1.0 (/work/main)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 1.00s
     Running unittests src/lib.rs (target/debug/deps/medseal-66bedebeaba2be35)

running 3 tests
test a ... ok
test b ... ok
test c ... ignored

test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

     Running tests/outbox.rs (target/debug/deps/outbox-0e48411f74c7188f)

running 4 tests
test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.50s

     Running tests/outbox.rs (target/debug/deps/outbox-11152892f2f7dc4b)

running 5 tests
test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.50s

   Doc-tests medseal

running 1 test
test src/lib.rs - (line 3) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s

"""
CANNED_EXES = {
    "medseal-66bedebeaba2be35": "medseal lib medseal",
    "outbox-0e48411f74c7188f": "medseal test outbox",
    "outbox-11152892f2f7dc4b": "medseal-cli test outbox",
}
CANNED_CRATES = {"medseal": "medseal"}
CANNED_FLOORS = """\
# comment
medseal lib medseal 2
medseal test outbox 4   # trailing comment
medseal-cli test outbox 5
medseal doc medseal 1
"""


def self_test() -> int:
    checks = 0

    def expect(condition: bool, what: str) -> None:
        nonlocal checks
        checks += 1
        if not condition:
            raise AssertionError(what)

    def outcome(output: str, floors_text: str) -> list[str]:
        run = parse(output.splitlines(True), CANNED_EXES, CANNED_CRATES)
        return compare(run, read_floors(floors_text, "canned"))[1]

    run = parse(CANNED.splitlines(True), CANNED_EXES, CANNED_CRATES)
    expect(run.order == ["medseal lib medseal", "medseal test outbox", "medseal-cli test outbox", "medseal doc medseal"],
           f"suites in order, the two tests/outbox.rs told apart: {run.order}")
    expect([run.suites[n].passed for n in run.order] == [2, 4, 5, 1], "passed counts")
    expect(run.suites["medseal lib medseal"].ignored == 1, "ignored count")
    expect(outcome(CANNED, CANNED_FLOORS) == [], "the canned run meets its floors")
    # Fewer tests than the floor.
    fewer = outcome(CANNED, CANNED_FLOORS.replace("medseal-cli test outbox 5", "medseal-cli test outbox 6"))
    expect(fewer == ["medseal-cli test outbox: 5 passed, floor 6"], f"below floor: {fewer}")
    # A suite of the floors file that did not run.
    missing = outcome(CANNED, CANNED_FLOORS + "medseal test abi 3\n")
    expect(missing == ["medseal test abi: did not run (floor 3)"], f"missing suite: {missing}")
    # A suite that ran but is not in the file.
    unknown = outcome(CANNED, CANNED_FLOORS.replace("medseal doc medseal 1\n", ""))
    expect(len(unknown) == 1 and "medseal doc medseal: ran 1 tests but has no floor" in unknown[0],
           f"suite not in floors: {unknown}")
    # A binary that crashed: a "Running" line and no result.
    crashed = CANNED.replace(
        "test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.50s\n", ""
    )
    crash = outcome(crashed, CANNED_FLOORS)
    expect(crash == ["medseal-cli test outbox: no \"test result\" line (the binary crashed or was killed)"],
           f"crashed suite: {crash}")
    # A failing suite.
    failing = CANNED.replace("test result: ok. 4 passed; 0 failed", "test result: FAILED. 3 passed; 1 failed")
    fail = outcome(failing, CANNED_FLOORS)
    expect("medseal test outbox: 1 failed" in fail, f"failed suite: {fail}")
    # Zero tests against a floor (everything compiled out).
    zero = CANNED.replace("test result: ok. 4 passed", "test result: ok. 0 passed")
    expect(outcome(zero, CANNED_FLOORS) == ["medseal test outbox: 0 passed, floor 4"], "zero tests")
    # An executable cargo did not report building.
    stray = CANNED.replace("outbox-11152892f2f7dc4b", "outbox-ffffffffffffffff")
    expect(any("not a test binary cargo reported" in f for f in outcome(stray, CANNED_FLOORS)), "unknown binary")
    # Floors file syntax errors stop the script.
    for bad in ("medseal lib medseal\n", "medseal lib medseal two\n", "a 1\na 2\n"):
        try:
            read_floors(bad, "canned")
        except SystemExit:
            checks += 1
        else:
            raise AssertionError(f"floors file {bad!r} accepted")
    print(f"test-floors self-test: {checks} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
