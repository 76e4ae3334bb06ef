"""Canonical JSON (RFC 8785 with medseal's policies) and the conversion of Python objects."""

from __future__ import annotations

import decimal
import json
import math
from typing import Any, Callable, List, Optional, Set

from ._native import BytesLike, call_buffer, in_buffer, lib

_encode_string = json.encoder.encode_basestring

_FHIR_FLAGS = {
    "data": int(lib.MEDSEAL_CANON_FHIR_DATA),
    "static": int(lib.MEDSEAL_CANON_FHIR_STATIC),
    "document": int(lib.MEDSEAL_CANON_FHIR_DOCUMENT),
}


def canon_flags(
    plain: bool = False,
    allow_lossy_numbers: bool = False,
    normalize_nfc: bool = False,
    fhir: Optional[str] = None,
) -> int:
    """The ``MEDSEAL_CANON_*`` flag set for these options (0 is strict)."""
    flags = 0
    if plain:
        flags |= int(lib.MEDSEAL_CANON_PLAIN)
    if allow_lossy_numbers:
        flags |= int(lib.MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS)
    if normalize_nfc:
        flags |= int(lib.MEDSEAL_CANON_NORMALIZE_NFC)
    if fhir is not None:
        try:
            flags |= _FHIR_FLAGS[fhir]
        except (KeyError, TypeError):
            raise ValueError("fhir must be None, 'data', 'static' or 'document', not %r" % (fhir,)) from None
    return flags


def ecmascript_number(value: float) -> str:
    """``value`` as RFC 8785 writes a number (ECMAScript ``Number.prototype.toString``):
    shortest round-trip digits, no ``.0`` on integral values (``6.0`` -> ``"6"``), exponents
    only below 1e-6 or from 1e21 (``1e-07`` -> ``"1e-7"``). NaN and infinities are refused."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("%r is not a JSON number" % value)
    if value == 0:
        return "0"
    sign, digits_tuple, exponent = decimal.Decimal(repr(value)).as_tuple()
    digits = "".join(str(d) for d in digits_tuple).rstrip("0")
    exponent = int(exponent) + (len(digits_tuple) - len(digits))
    k = len(digits)
    n = exponent + k  # the decimal point sits after n digits
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = "%se%s%d" % (mantissa, "+" if e > 0 else "-", abs(e))
    return ("-" if sign else "") + text


def _write(value: Any, out: List[str], allow_floats: bool, seen: Set[int]) -> None:
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError("Decimal %s is not a JSON number" % value)
        out.append(str(value))
    elif isinstance(value, float):
        if not allow_floats:
            raise TypeError(
                "float %r refused: a float does not say how many digits it means; pass "
                "decimal.Decimal (written exactly) or allow_floats=True" % value
            )
        out.append(ecmascript_number(value))
    elif isinstance(value, dict):
        if id(value) in seen:
            raise ValueError("circular reference in the record")
        seen.add(id(value))
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("object keys must be str, not %s" % type(key).__name__)
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(key))
            out.append(":")
            _write(item, out, allow_floats, seen)
        out.append("}")
        seen.discard(id(value))
    elif isinstance(value, (list, tuple)):
        if id(value) in seen:
            raise ValueError("circular reference in the record")
        seen.add(id(value))
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, allow_floats, seen)
        out.append("]")
        seen.discard(id(value))
    else:
        raise TypeError("%s is not JSON serializable" % type(value).__name__)


def _careful_json(data: Any, allow_floats: bool) -> str:
    """``data`` as JSON text by the policy of :func:`canonicalize`: the reference writer."""
    out: List[str] = []
    _write(data, out, allow_floats, set())
    return "".join(out)


# ---- the fast path for Python values ---------------------------------------------------------
#
# Most records are dicts and lists of str, int, bool and None (and floats such as 76.5 when
# allow_floats=True). For them json's C encoder writes exactly the text _careful_json writes,
# about twice as fast. _plain() decides, in one walk, whether a value is such a record:
# every container an exact dict, list or tuple with str keys, every scalar an exact str, int,
# bool or None, or a float whose repr() is already its RFC 8785 text. Anything else (Decimal,
# other floats, subclasses, non-str keys, other types, nesting deeper than _PLAIN_DEPTH, which
# also ends a walk around a reference cycle) goes to _careful_json, which stays the one place
# where the policy and its errors live. The tests compare both writers on many values.

_PLAIN_SCALARS = frozenset((str, int, bool, type(None)))
_PLAIN_DEPTH = 128  # the library's nesting limit: deeper documents are refused anyway


def _plain_float(value: float) -> bool:
    """Whether ``repr(value)`` (what json writes) equals :func:`ecmascript_number` of it: fixed
    notation (Python uses it for 1e-4 <= |x| < 1e16), not integral (``6.0``), finite. Both
    are the shortest round-trip digits, placed the same way in that range."""
    text = float.__repr__(value)
    return "e" not in text and "n" not in text and text[-2:] != ".0"


def _plain(value: Any, allow_floats: bool, depth: int) -> bool:
    """Whether ``value`` (an exact dict, list or tuple) is written identically by the C encoder
    and by :func:`_careful_json` (see the comment above)."""
    if depth > _PLAIN_DEPTH:
        return False
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            kind = type(item)
            if kind in _PLAIN_SCALARS:
                continue
            if kind is dict or kind is list or kind is tuple:
                if not _plain(item, allow_floats, depth + 1):
                    return False
            elif not (kind is float and allow_floats and _plain_float(item)):
                return False
        return True
    for item in value:
        kind = type(item)
        if kind in _PLAIN_SCALARS:
            continue
        if kind is dict or kind is list or kind is tuple:
            if not _plain(item, allow_floats, depth + 1):
                return False
        elif not (kind is float and allow_floats and _plain_float(item)):
            return False
    return True


def _make_fast_writer() -> Callable[[Any], str]:
    """json's C encoder, set up as _careful_json writes (no spaces, non-ASCII as is). The
    C encoder is called directly (json.JSONEncoder.encode builds one per call); without
    it (another Python implementation, or a changed signature) JSONEncoder.encode."""
    fallback = json.JSONEncoder(
        ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":")
    ).encode

    def refuse(value: Any) -> Any:
        raise TypeError("%s is not JSON serializable" % type(value).__name__)

    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return fallback

    def write(value: Any) -> str:
        chunks = make(None, refuse, _encode_string, None, ":", ",", False, False, False)(value, 0)
        return "".join(chunks)

    sample = {"a": [1, -2, "\u00e9\"\\\n\u0001", None, True, False, 76.5, (3, {})], "\u1ec5": {}}
    try:
        if write(sample) == fallback(sample) == _careful_json(sample, True):
            return write
    except Exception:  # noqa: BLE001 (any surprise from a changed C encoder: use the fallback)
        pass
    return fallback


_fast_json = _make_fast_writer()


def to_json(data: Any, allow_floats: bool = False) -> BytesLike:
    """The JSON text medseal reads for ``data`` (see :func:`canonicalize` for the policy)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    kind = type(data)
    if (kind is dict or kind is list or kind is tuple) and _plain(data, allow_floats, 0):
        try:
            text = _fast_json(data)
        except (ValueError, TypeError, RecursionError):
            pass  # e.g. an int too long for str(): _careful_json raises its error
        else:
            return text.encode("utf-8", "surrogatepass")
    return _careful_json(data, allow_floats).encode("utf-8", "surrogatepass")


def canonicalize(
    data: Any,
    *,
    plain: bool = False,
    allow_lossy_numbers: bool = False,
    normalize_nfc: bool = False,
    fhir: Optional[str] = None,
    allow_floats: bool = False,
) -> bytes:
    """Canonical JSON of ``data`` (RFC 8785 with medseal's strict policies by default).

    ``data`` is JSON text (bytes, bytearray or memoryview as given; str as UTF-8) or a Python
    value: dict (str keys), list, tuple, str, int, bool, None, :class:`decimal.Decimal`, float.
    Python values are written as JSON by this binding, then canonicalized by the library,
    with this policy for numbers:

    * int: its digits (beyond +-(2**53 - 1) the library refuses it, ``JSON_NUMBER_OUT_OF_RANGE``);
    * Decimal: exactly its text, ``str(d)``; so ``Decimal("6")`` gives ``6`` but
      ``Decimal("6.0")`` is refused as lossy (``JSON_LOSSY_NUMBER``) unless
      ``allow_lossy_numbers=True``: the record said more digits than canonical JSON keeps;
    * float: refused (TypeError) unless ``allow_floats=True``, because ``json.dumps`` writes
      ``6.0``, which the strict canonicalizer refuses as lossy, and a float cannot say which
      digits were meant. With ``allow_floats=True`` a float is written as RFC 8785 writes it
      (shortest round-trip, ECMAScript form: ``6.0`` -> ``6``, ``0.1`` -> ``0.1``,
      ``1e-07`` -> ``1e-7``). NaN and infinities are always refused (ValueError).

    Strings are written as ``json.dumps(ensure_ascii=False)`` does; a lone surrogate in a str
    reaches the library as invalid UTF-8 (``JSON_INVALID_UTF8``).

    Options: ``plain`` (exactly RFC 8785: no NFC or lossy-number checks), ``allow_lossy_numbers``,
    ``normalize_nfc`` (normalize strings to NFC instead of refusing them), ``fhir`` (None,
    ``"data"``, ``"static"`` or ``"document"``: the FHIR variants). Errors: :class:`JsonError`
    with ``.name`` such as ``MEDSEAL_JSON_DUPLICATE_KEY`` or ``MEDSEAL_JSON_NOT_NFC``.
    """
    flags = canon_flags(plain, allow_lossy_numbers, normalize_nfc, fhir)
    text = in_buffer(to_json(data, allow_floats))
    return call_buffer(lib.medseal_json_canonicalize, text, len(text), flags)

