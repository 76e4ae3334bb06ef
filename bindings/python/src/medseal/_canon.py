"""Canonical JSON (RFC 8785 with medseal's policies) and the conversion of Python objects."""

from __future__ import annotations

import decimal
import json
import math
from typing import Any, List, Optional, Set

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


def to_json(data: Any, allow_floats: bool = False) -> BytesLike:
    """The JSON text medseal reads for ``data`` (see :func:`canonicalize` for the policy)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    out: List[str] = []
    _write(data, out, allow_floats, set())
    return "".join(out).encode("utf-8", "surrogatepass")


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

