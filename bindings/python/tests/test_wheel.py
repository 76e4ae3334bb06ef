"""The wheel: built, installed into a fresh venv outside the repository, imported, used.

run-tests.sh passes the wheel it built (and repaired with auditwheel) as
``$MEDSEAL_TEST_WHEEL``; without it this test builds one with the installed library."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import medseal

from conftest import REPO

CHECK = r"""
import os, sys, medseal
assert os.path.dirname(medseal.__file__).startswith(sys.prefix), medseal.__file__
assert medseal.LIBRARY_PATH.startswith(os.path.dirname(medseal.__file__)), medseal.LIBRARY_PATH
key = medseal.Key.generate("EdDSA")
jws = medseal.Signer(key).sign({"resourceType": "Patient", "id": "w1"})
verified = medseal.Verifier([key.public_key()]).verify(jws)
assert verified.payload == b'{"id":"w1","resourceType":"Patient"}', verified.payload
hub = medseal.RecipientKey.generate()
assert hub.open(medseal.seal(jws, medseal.Meta("w1", "wheel", 1), [hub])) == jws
print("wheel ok", medseal.__version__, medseal.library_version())
"""


def _clean_env() -> dict:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if k not in ("MEDSEAL_LIB", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    assert not str(tmp_path).startswith(str(REPO))
    wheel_env = os.environ.get("MEDSEAL_TEST_WHEEL")
    if wheel_env:
        wheel = Path(wheel_env)
    else:
        out = tmp_path / "dist"
        env = dict(os.environ, MEDSEAL_LIB=medseal.LIBRARY_PATH)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out),
             str(REPO / "bindings" / "python")],
            env=env, check=True,
        )
        (wheel,) = out.glob("medseal-*.whl")
    name = wheel.name
    assert "-py3-none-" in name and ("linux" in name), name
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for member in ("medseal/__init__.py", "medseal/py.typed", "medseal/medseal_ffi.h"):
        assert member in names, member
    assert any(n.startswith("medseal") and n.endswith(".so") for n in names), names

    venv = tmp_path / "fresh-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
                   env=_clean_env(), cwd=tmp_path, check=True)
    done = subprocess.run([str(python), "-c", CHECK], env=_clean_env(), cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert done.returncode == 0, done.stdout
    assert "wheel ok " + medseal.__version__ in done.stdout
