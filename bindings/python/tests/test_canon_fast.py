"""The fast path for Python values (json's C encoder after one type walk) against the careful
writer it stands in for: the same bytes reach the library, so canonical output and refusals
are the same. Each case runs through medseal.canonicalize and Signer.sign too."""

from __future__ import annotations

import collections
import decimal
import enum
import math
import random
import struct
import unicodedata
from typing import Any, Callable, List

import pytest

import medseal
from medseal import _canon

from conftest import PATIENT


class Code(enum.IntEnum):
    FINAL = 3


class LoudInt(int):
    def __repr__(self) -> str:  # json.dumps would not call this; the careful writer does not either
        return "LOUD"


class Text(str):
    pass


def outcome(function: Callable[[], Any]) -> Any:
    """The result, or (exception type, message) when it raises."""
    try:
        return function()
    except Exception as error:  # noqa: BLE001 (compared, not swallowed)
        if isinstance(error, medseal.MedsealError):
            return (type(error), error.name)
        return (type(error), str(error))


def careful_canonical(value: Any, allow_floats: bool, **options: Any) -> Any:
    """canonicalize() as it was before the fast path: the careful writer's text, then the library."""
    def run() -> bytes:
        text = _canon._careful_json(value, allow_floats).encode("utf-8", "surrogatepass")
        return medseal.canonicalize(text, **options)
    return outcome(run)


def check_same(value: Any, **options: Any) -> None:
    for allow_floats in (False, True):
        fast_text = outcome(lambda: _canon.to_json(value, allow_floats))
        careful_text = outcome(lambda: _canon._careful_json(value, allow_floats).encode("utf-8", "surrogatepass"))
        assert fast_text == careful_text, (value, allow_floats)
        got = outcome(lambda: medseal.canonicalize(value, allow_floats=allow_floats, **options))
        assert got == careful_canonical(value, allow_floats, **options), (value, allow_floats, options)


CASES: List[Any] = [
    PATIENT,
    {"b": [1, 2, {"z": None, "a": True}], "a": "é"},
    {"t": True, "f": False, "one": 1, "zero": 0, "n": None},  # bool is not int: true, not 1
    [True, 1, False, 0],
    {"big": 2**53 - 1, "neg": -(2**53 - 1)},
    {"big": 2**53},  # refused by the library: JSON_NUMBER_OUT_OF_RANGE
    [10**5000],  # beyond Python's int->str limit: the same ValueError both ways
    {"enum": Code.FINAL},  # int subclass: careful writer (int.__repr__ digits)
    {"loud": LoudInt(7)},
    {"s": Text("sub")},
    {Text("key"): 1},
    collections.OrderedDict([("b", 1), ("a", 2)]),
    {"d": decimal.Decimal("6")},
    {"d": decimal.Decimal("6.0")},  # JSON_LOSSY_NUMBER unless allow_lossy_numbers
    {"d": decimal.Decimal("12.75"), "v": 76.5},
    [decimal.Decimal("NaN")],
    {"f": 76.5},
    {"f": 6.0},
    {"f": -0.0},
    {"f": 1e-7},
    {"f": 1e-5},
    {"f": 0.0001},
    {"f": 1e16},
    {"f": 1e21},
    {"f": 123456789.125},
    {"f": 2.0**60},
    {"f": float("nan")},
    {"f": float("inf")},
    [-float("inf")],
    {1: "int key"},
    {True: "bool key"},
    {None: "None key"},
    {1.5: "float key"},
    {(1, 2): "tuple key"},
    {"1": "a", 1: "b"},  # json.dumps would write a duplicate key
    ({"a": "é"},),
    ("x", [1, (2, [3, {"k": (4,)}])]),
    {"s": {1, 2}},
    {"b": b"bytes"},
    {"o": object()},
    {"nfd": unicodedata.normalize("NFD", "Nguyễn"), "nfc": "Nguyễn"},
    {unicodedata.normalize("NFD", "tên"): 1},
    {"s": 'a"b\\c\n\u0001\u001f\u007f\u2028'},
    {"s": "\ud800"},  # lone surrogate: JSON_INVALID_UTF8 both ways
    {"s": "😀", "\ufb01": 1, "\U0001f600": 2},
    {},
    [],
    [[]] * 3,
    {"": ""},
]


@pytest.mark.parametrize("value", CASES, ids=range(len(CASES)))
def test_fast_path_matches_the_careful_writer(value: Any) -> None:
    check_same(value)
    check_same(value, allow_lossy_numbers=True)
    check_same(value, plain=True)


def test_options_still_apply() -> None:
    nfd = {"family": unicodedata.normalize("NFD", "Nguyễn")}
    check_same(nfd, normalize_nfc=True)
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize(nfd)
    assert caught.value.name == "MEDSEAL_JSON_NOT_NFC"
    check_same(PATIENT, fhir="data")
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize({"v": decimal.Decimal("6.0")})
    assert caught.value.name == "MEDSEAL_JSON_LOSSY_NUMBER"
    with pytest.raises(TypeError, match="object keys must be str"):
        medseal.canonicalize({1: "x"})
    with pytest.raises(TypeError, match="allow_floats"):
        medseal.canonicalize({"a": [{"b": 76.5}]})
    assert medseal.canonicalize({"a": [{"b": 76.5}]}, allow_floats=True) == b'{"a":[{"b":76.5}]}'
    assert medseal.canonicalize({"v": True, "w": 1}) == b'{"v":true,"w":1}'


def test_which_values_take_the_fast_path() -> None:
    assert _canon._plain(PATIENT, False, 0)
    assert _canon._plain({"a": [1, "x", None, True, (2,)]}, False, 0)
    assert not _canon._plain({"a": 76.5}, False, 0)
    assert _canon._plain({"a": 76.5}, True, 0)
    for value in ({"a": 6.0}, {"a": 1e-7}, {"a": 1e16}, {"a": float("nan")}, {1: 2}, {"a": Code.FINAL},
                  {"a": Text("x")}, {"a": decimal.Decimal(1)}, [collections.OrderedDict(a=1)], [{"a": {1, 2}}]):
        assert not _canon._plain(value, True, 0), value


def test_depth_and_cycles() -> None:
    deep: Any = "leaf"
    for _ in range(127):
        deep = [deep]
    assert medseal.canonicalize(deep) == b"[" * 127 + b'"leaf"' + b"]" * 127
    check_same(deep)
    too_deep = [deep, [[deep]]]
    with pytest.raises(medseal.JsonError) as caught:
        medseal.canonicalize(too_deep)
    assert caught.value.name == "MEDSEAL_JSON_TOO_DEEP"
    check_same(too_deep)
    loop: Any = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match="circular"):
        medseal.canonicalize(loop)
    check_same(loop)


def test_plain_floats_are_their_ecmascript_text() -> None:
    """The fast path writes repr(float) only when _plain_float says it equals ecmascript_number."""
    rng = random.Random(8785)
    samples = [76.5, 0.1, -2.5, 0.0001, 0.00012, 9999999999999998.0, 1.5e15, 123.456, 5e-324, 1e-4]
    samples += [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    samples += [rng.uniform(-1, 1) * 10 ** rng.randint(-8, 22) for _ in range(2000)]
    samples += [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(4000)]
    plain = 0
    for value in samples:
        if _canon._plain_float(value):
            plain += 1
            assert math.isfinite(value)
            assert float.__repr__(value) == medseal.ecmascript_number(value), value
    assert plain > 2000


def test_signer_takes_the_same_bytes() -> None:
    key = medseal.Key.generate("EdDSA")
    signer = medseal.Signer(key)
    verifier = medseal.Verifier([key])
    record = dict(PATIENT, valueQuantity={"value": 76.5, "unit": "mmHg"})
    jws = signer.sign(record, format="compact", allow_floats=True)
    assert verifier.verify(jws).payload == medseal.canonicalize(
        _canon._careful_json(record, True).encode("utf-8"))
    with pytest.raises(TypeError, match="allow_floats"):
        signer.sign(record)
    with pytest.raises(TypeError, match="object keys must be str"):
        signer.sign({1: "x"})
    with pytest.raises(medseal.JsonError) as caught:
        signer.sign({"v": decimal.Decimal("6.0")})
    assert caught.value.name == "MEDSEAL_JSON_LOSSY_NUMBER"
