"""Build step of the medseal Python package.

The package carries no Python C extension: it loads libmedseal.so through cffi's ABI mode.
This script puts the library and its declarations inside the package when it is built:

* the library: ``$MEDSEAL_LIB`` (a prebuilt libmedseal.so) if set, else
  ``cargo build --release --lib -j2`` in the repository (two levels above this file),
  honouring ``CARGO_TARGET_DIR``;
* the declarations: ``include/medseal_ffi.h`` of the repository (``$MEDSEAL_HEADER``
  overrides it), copied as ``medseal/medseal_ffi.h``.

Wheels are tagged ``py3-none-<platform>``: any Python 3, no CPython ABI, one platform.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from typing import Tuple

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIB_NAME = "libmedseal.so"


def _fail(message: str) -> None:
    sys.stderr.write("medseal build: error: " + message + "\n")
    raise SystemExit(1)


def _repo_file(*parts: str) -> str:
    return os.path.join(ROOT, *parts)


def _library_version() -> str:
    cargo_toml = _repo_file("Cargo.toml")
    if os.path.exists(cargo_toml):
        with open(cargo_toml, encoding="utf-8") as f:
            text = f.read()
        package = text.split("[package]", 1)[-1]
        found = re.search(r'^version\s*=\s*"([^"]+)"', package, re.MULTILINE)
        if found:
            return found.group(1)
    version = os.environ.get("MEDSEAL_VERSION")
    if version:
        return version
    _fail("cannot tell the library version: no Cargo.toml at %s (set MEDSEAL_VERSION)" % cargo_toml)
    return ""


def _find_header() -> str:
    header = os.environ.get("MEDSEAL_HEADER") or _repo_file("include", "medseal_ffi.h")
    if not os.path.isfile(header):
        _fail("no %s: build from the medseal repository or set MEDSEAL_HEADER" % header)
    return header


def _find_library() -> str:
    prebuilt = os.environ.get("MEDSEAL_LIB")
    if prebuilt:
        if not os.path.isfile(prebuilt):
            _fail("MEDSEAL_LIB=%s is not a file" % prebuilt)
        return prebuilt
    if not os.path.isfile(_repo_file("Cargo.toml")):
        _fail("no Cargo.toml at %s: set MEDSEAL_LIB to a prebuilt libmedseal.so" % ROOT)
    cargo = os.environ.get("CARGO", "cargo")
    command = [cargo, "build", "--release", "--lib", "-j2"]
    sys.stderr.write("medseal build: %s (in %s)\n" % (" ".join(command), ROOT))
    try:
        subprocess.run(command, cwd=ROOT, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        _fail("building the library failed (%s); or set MEDSEAL_LIB to a prebuilt libmedseal.so" % error)
    target = os.environ.get("CARGO_TARGET_DIR") or "target"
    library = os.path.join(ROOT, target, "release", LIB_NAME)
    if not os.path.isfile(library):
        _fail("cargo did not produce %s" % library)
    return library


class BuildWithLibrary(build_py):
    """build_py that also copies libmedseal.so and medseal_ffi.h into the package."""

    def run(self) -> None:
        super().run()
        package_dir = os.path.join(self.build_lib, "medseal")
        os.makedirs(package_dir, exist_ok=True)
        shutil.copyfile(_find_header(), os.path.join(package_dir, "medseal_ffi.h"))
        library = os.path.join(package_dir, LIB_NAME)
        shutil.copyfile(_find_library(), library)
        os.chmod(library, 0o755)


class BinaryDistribution(Distribution):
    """Carries a native library: installed as platform-specific (platlib), never as pure Python."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):  # type: ignore[misc]
    """A wheel for one platform but any Python 3: py3-none-<platform>."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self) -> Tuple[str, str, str]:
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(
    version=_library_version(),
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel},
)
