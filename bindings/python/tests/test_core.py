"""Loading, versions, result codes and errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import medseal
from medseal import _native

from conftest import repo_file


def test_versions() -> None:
    assert medseal.ABI_VERSION == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", medseal.library_version())
    assert medseal.__version__ == medseal.library_version()
    assert Path(medseal.LIBRARY_PATH).is_file()
    assert int(_native.lib.medseal_abi_version()) == medseal.ABI_VERSION


def test_result_codes_come_from_the_header() -> None:
    header = repo_file("include", "medseal_ffi.h").read_text()
    declared = dict(
        (name, int(value)) for name, value in re.findall(r"^\s*(MEDSEAL_[A-Z0-9_]+) = (\d+),$", header, re.MULTILINE)
        if not name.startswith(("MEDSEAL_ALG_", "MEDSEAL_KEY_FORMAT_", "MEDSEAL_JWS_FLATTENED"))
    )
    assert medseal.ResultCode.JWS_SIGNATURE_INVALID == declared["MEDSEAL_JWS_SIGNATURE_INVALID"]
    for member in medseal.ResultCode:
        assert declared["MEDSEAL_" + member.name] == member.value
        assert medseal.result_name(member.value) == "MEDSEAL_" + member.name
        assert medseal.result_description(member.value)
    assert len(list(medseal.ResultCode)) >= 80


@pytest.mark.parametrize(
    "code, cls",
    [
        (1, medseal.GeneralError), (7, medseal.GeneralError), (100, medseal.JsonError), (205, medseal.MedsealKeyError),
        (307, medseal.JwsError), (404, medseal.SealError), (503, medseal.TrustError), (607, medseal.SignerError),
        (705, medseal.OutboxError), (802, medseal.TransportError), (902, medseal.LedgerError),
    ],
)
def test_error_classes_by_block(code: int, cls: type) -> None:
    assert medseal.error_class(code) is cls
    assert issubclass(cls, medseal.MedsealError)
    error = _native.make_error(code, "why")
    assert isinstance(error, cls)
    assert error.code == code and error.message == "why"
    assert error.name == medseal.result_name(code)
    assert str(error) == "%s (%d): why" % (error.name, code)
    assert error.result == code


def test_error_names_do_not_shadow_builtins() -> None:
    import builtins

    for name in medseal.__all__:
        assert not hasattr(builtins, name), name


def test_library_error_message_is_read_after_the_failing_call() -> None:
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize(b'{"a":1,}')
    assert caught.value.name == "MEDSEAL_JSON_SYNTAX"
    assert caught.value.code == medseal.ResultCode.JSON_SYNTAX
    assert "line 1" in caught.value.message
    # Success clears the library's message; reading never destroys it.
    medseal.canonicalize(b"{}")
    assert _native.last_error_message() == ""


def test_every_public_name_is_documented() -> None:
    for name in medseal.__all__:
        value = getattr(medseal, name)
        if callable(value) or isinstance(value, type):
            assert (value.__doc__ or "").strip(), name
            if isinstance(value, type):
                for attr, member in vars(value).items():
                    if attr.startswith("_") or not (callable(member) or isinstance(member, (property, classmethod, staticmethod))):
                        continue
                    func = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                    assert (getattr(func, "__doc__", None) or "").strip(), "%s.%s" % (name, attr)
    for name in medseal.ledger.__all__:
        assert (getattr(medseal.ledger, name).__doc__ or "").strip(), name


def _import_with(env_lib: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MEDSEAL_LIB=env_lib)
    return subprocess.run(
        [sys.executable, "-c", "import medseal"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_missing_library_is_a_clear_import_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-libmedseal.so"
    result = _import_with(str(missing))
    assert result.returncode != 0
    assert "LibraryLoadError" in result.stdout
    assert str(missing) in result.stdout
    assert "MEDSEAL_LIB" in result.stdout


def test_abi_mismatch_is_a_clear_import_error(tmp_path: Path) -> None:
    compiler = shutil.which("cc")
    assert compiler, "a C compiler is needed (bash scripts/install-deps.sh)"
    source = tmp_path / "stub.c"
    source.write_text(
        "#include <stdint.h>\n"
        "uint32_t medseal_abi_version(void) { return 2; }\n"
        'const char *medseal_library_version(void) { return "9.9.9"; }\n'
    )
    stub = tmp_path / "libmedseal-abi2.so"
    subprocess.run([compiler, "-shared", "-fPIC", str(source), "-o", str(stub)], check=True)
    result = _import_with(str(stub))
    assert result.returncode != 0
    assert "AbiVersionError" in result.stdout
    assert "ABI version 2" in result.stdout and "ABI version 1" in result.stdout
    assert str(stub) in result.stdout
    # An ImportError subclass: `except ImportError` catches it.
    assert issubclass(medseal.AbiVersionError, ImportError)
    assert issubclass(medseal.AbiVersionError, medseal.LibraryLoadError)


def test_medseal_lib_overrides_the_bundled_library() -> None:
    env = dict(os.environ, MEDSEAL_LIB=medseal.LIBRARY_PATH)
    out = subprocess.run(
        [sys.executable, "-c", "import medseal; print(medseal.LIBRARY_PATH)"],
        env=env, stdout=subprocess.PIPE, text=True, check=True,
    ).stdout.strip()
    assert out == medseal.LIBRARY_PATH


def test_package_docstring_example_runs() -> None:
    import doctest

    result = doctest.testmod(medseal, verbose=False)
    assert result.attempted >= 3 and result.failed == 0


def test_digest_text() -> None:
    assert medseal.ledger.digest_text(bytes(32)) == "A" * 43
    assert medseal.ledger.digest_text("abc") == "abc"
    with pytest.raises(ValueError):
        medseal.ledger.digest_text(b"short")
    with pytest.raises(TypeError):
        medseal.ledger.digest_text(5)  # type: ignore[arg-type]
