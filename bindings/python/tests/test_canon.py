"""medseal.canonicalize: inputs, the Python-object policy, options and errors."""

from __future__ import annotations

import decimal
import unicodedata
from typing import Any

import pytest

import medseal

from conftest import PATIENT


def test_bytes_str_and_objects_agree() -> None:
    text = '{"b": [1, 2, {"z": null, "a": true}], "a": "é"}'
    want = '{"a":"é","b":[1,2,{"a":true,"z":null}]}'.encode()
    assert medseal.canonicalize(text.encode()) == want
    assert medseal.canonicalize(text) == want
    assert medseal.canonicalize(bytearray(text.encode())) == want
    assert medseal.canonicalize(memoryview(text.encode())) == want
    assert medseal.canonicalize({"b": [1, 2, {"z": None, "a": True}], "a": "é"}) == want
    assert medseal.canonicalize(({"a": "é"},)) == '[{"a":"é"}]'.encode()


def test_patient_record() -> None:
    out = medseal.canonicalize(PATIENT)
    assert out.startswith(b'{"active":true,"birthDate":"1980-02-29","id":"pat-001"')
    assert medseal.canonicalize(out) == out


def test_string_escapes() -> None:
    assert medseal.canonicalize({"s": 'a"b\\c\n\u0001'}) == b'{"s":"a\\"b\\\\c\\n\\u0001"}'


def test_float_policy() -> None:
    with pytest.raises(TypeError, match="allow_floats"):
        medseal.canonicalize({"v": 6.0})
    assert medseal.canonicalize({"v": 6.0}, allow_floats=True) == b'{"v":6}'
    assert medseal.canonicalize([0.1, -2.5, 1e-7, 1e21, 123456789.125, -0.0], allow_floats=True) == (
        b"[0.1,-2.5,1e-7,1e+21,123456789.125,0]"
    )
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            medseal.canonicalize([bad], allow_floats=True)


@pytest.mark.parametrize(
    "value, text",
    [(1.0, "1"), (100.0, "100"), (1e20, "100000000000000000000"), (1e21, "1e+21"), (1.5e-6, "0.0000015"),
     (1e-6, "0.000001"), (1e-7, "1e-7"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
     (0.000123, "0.000123"), (-3.25, "-3.25"), (2.0 ** 60, "1152921504606847000")],
)
def test_ecmascript_number(value: float, text: str) -> None:
    assert medseal.ecmascript_number(value) == text


def test_decimal_written_exactly() -> None:
    assert medseal.canonicalize({"v": decimal.Decimal("6")}) == b'{"v":6}'
    assert medseal.canonicalize({"v": decimal.Decimal("12.75")}) == b'{"v":12.75}'
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize({"v": decimal.Decimal("6.0")})
    assert caught.value.name == "MEDSEAL_JSON_LOSSY_NUMBER"
    assert medseal.canonicalize({"v": decimal.Decimal("6.0")}, allow_lossy_numbers=True) == b'{"v":6}'
    with pytest.raises(ValueError):
        medseal.canonicalize([decimal.Decimal("NaN")])


def test_big_integers_refused() -> None:
    assert medseal.canonicalize([2**53 - 1]) == b"[9007199254740991]"
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize([2**60])
    assert caught.value.name == "MEDSEAL_JSON_NUMBER_OUT_OF_RANGE"


@pytest.mark.parametrize(
    "text, name",
    [
        (b'{"a":1', "MEDSEAL_JSON_SYNTAX"),
        (b"", "MEDSEAL_JSON_SYNTAX"),
        (b'{"a":1,"a":2}', "MEDSEAL_JSON_DUPLICATE_KEY"),
        (b'["\xff"]', "MEDSEAL_JSON_INVALID_UTF8"),
        (b'["\\ud800"]', "MEDSEAL_JSON_LONE_SURROGATE"),
        (b"[1.50]", "MEDSEAL_JSON_LOSSY_NUMBER"),
        (b"[1e400]", "MEDSEAL_JSON_NUMBER_OUT_OF_RANGE"),
        (b"[" * 1000 + b"]" * 1000, "MEDSEAL_JSON_TOO_DEEP"),
    ],
)
def test_json_errors(text: bytes, name: str) -> None:
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize(text)
    assert caught.value.name == name
    assert caught.value.code == getattr(medseal.ResultCode, name[len("MEDSEAL_"):])
    assert caught.value.message


def test_nfd_text() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn")
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize({"family": nfd})
    assert caught.value.name == "MEDSEAL_JSON_NOT_NFC"
    assert medseal.canonicalize({"family": nfd}, normalize_nfc=True) == '{"family":"Nguyễn"}'.encode()
    assert medseal.canonicalize({"family": nfd}, plain=True) == ('{"family":"%s"}' % nfd).encode()


def test_lone_surrogate_in_str_reaches_the_library() -> None:
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize({"s": "\ud800"})
    assert caught.value.name == "MEDSEAL_JSON_INVALID_UTF8"


def test_fhir_variants() -> None:
    assert medseal.canonicalize(PATIENT, fhir="data")
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize([1, 2], fhir="data")
    assert caught.value.name == "MEDSEAL_JSON_NOT_FHIR"
    with pytest.raises(ValueError, match="fhir"):
        medseal.canonicalize(PATIENT, fhir="xml")


@pytest.mark.parametrize("bad", [{1: "int key"}, {"s": {1, 2}}, object(), b"x".decode and bytes.hex])
def test_unserializable_values(bad: Any) -> None:
    with pytest.raises(TypeError):
        medseal.canonicalize(bad)


def test_circular_reference() -> None:
    loop: Any = []
    loop.append(loop)
    with pytest.raises(ValueError, match="circular"):
        medseal.canonicalize(loop)
