"""Loading libmedseal, the error classes, and the helpers every wrapper uses.

The declarations come from ``medseal_ffi.h`` (copied into the package at build time) through
cffi's ABI mode: nothing about a prototype, a size or a result code is written here by hand.
"""

from __future__ import annotations

import enum
import os
import threading
from typing import Any, Callable, Dict, Optional, Tuple, Type, TypeVar, Union

from cffi import FFI

#: The ABI version this binding was written for; the loaded library must report the same.
ABI_VERSION = 1

_HERE = os.path.dirname(os.path.abspath(__file__))
_HEADER = os.path.join(_HERE, "medseal_ffi.h")

BytesLike = Union[bytes, bytearray, memoryview]


class LibraryLoadError(ImportError):
    """libmedseal could not be loaded, or it is not the ABI version this binding needs."""


class AbiVersionError(LibraryLoadError):
    """The loaded libmedseal has another ABI version than the binding's ``ABI_VERSION``."""


def library_path() -> str:
    """The libmedseal.so this process loads: ``$MEDSEAL_LIB`` if set, else the package's copy."""
    env = os.environ.get("MEDSEAL_LIB")
    if env:
        return env
    return os.path.join(_HERE, "libmedseal.so")


def _load() -> Tuple[FFI, Any, str]:
    try:
        with open(_HEADER, encoding="utf-8") as f:
            header = f.read()
    except OSError as error:
        raise LibraryLoadError(
            "medseal: cannot read the declarations %s (%s); reinstall the package" % (_HEADER, error)
        ) from None
    ffi = FFI()
    ffi.cdef(header)
    path = library_path()
    lib: Any
    try:
        lib = ffi.dlopen(path)
    except OSError as error:
        where = "MEDSEAL_LIB" if os.environ.get("MEDSEAL_LIB") else "the package"
        raise LibraryLoadError(
            "medseal: cannot load libmedseal from %s (named by %s): %s" % (path, where, error)
        ) from None
    try:
        found = int(lib.medseal_abi_version())
    except AttributeError:
        raise AbiVersionError(
            "medseal: %s has no medseal_abi_version(): not a medseal library of ABI version %d"
            % (path, ABI_VERSION)
        ) from None
    if found != ABI_VERSION:
        raise AbiVersionError(
            "medseal: the library %s has ABI version %d, but this binding was written for ABI version %d; "
            "install the matching medseal package or library" % (path, found, ABI_VERSION)
        )
    return ffi, lib, path


ffi: FFI
lib: Any
LIBRARY_PATH: str
ffi, lib, LIBRARY_PATH = _load()


def c_string(pointer: Any) -> str:
    """A static NUL-terminated UTF-8 string of the library as str."""
    raw = ffi.string(pointer)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def library_version() -> str:
    """The loaded library's version text, e.g. ``"0.1.0"`` (``medseal_library_version()``)."""
    return c_string(lib.medseal_library_version())


# ---- result codes and errors ------------------------------------------------------------

_RESULT_CODES: Dict[str, int] = {
    name: int(value) for value, name in ffi.typeof("enum medseal_result").elements.items()
}
_OK = _RESULT_CODES["MEDSEAL_OK"]

#: Every result code of the library (from the header's ``medseal_result`` enum), named
#: without the ``MEDSEAL_`` prefix: ``ResultCode.JWS_SIGNATURE_INVALID == 307``.
ResultCode = enum.IntEnum(  # type: ignore[misc]
    "ResultCode",
    [(name[len("MEDSEAL_"):], value) for name, value in sorted(_RESULT_CODES.items(), key=lambda kv: kv[1])],
    module=__name__.rsplit(".", 1)[0],
)
ResultCode.__doc__ = "Every medseal_result code of the header, named without the MEDSEAL_ prefix."


class MedsealError(Exception):
    """An error reported by libmedseal.

    Attributes: ``code`` (the ``medseal_result`` value, an int), ``name`` (the constant's name,
    e.g. ``"MEDSEAL_JWS_SIGNATURE_INVALID"``) and ``message`` (the library's message for this
    failure, from ``medseal_last_error_message``; may be empty). Subclasses group the codes by
    block, as the header does: see :func:`error_class`.
    """

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(code, name, message)
        self.code = code
        self.name = name
        self.message = message

    def __str__(self) -> str:
        if self.message:
            return "%s (%d): %s" % (self.name, self.code, self.message)
        return "%s (%d)" % (self.name, self.code)

    @property
    def result(self) -> Optional[enum.IntEnum]:
        """The code as a :data:`ResultCode` member, or None for a code this binding does not know."""
        try:
            return ResultCode(self.code)
        except ValueError:
            return None


class GeneralError(MedsealError):
    """Codes 1-99: bad arguments, buffer sizes, invalid UTF-8 text, internal failures."""


class JsonError(MedsealError):
    """Codes 100-199: the input is not acceptable JSON for canonicalization."""


class MedsealKeyError(MedsealError):
    """Codes 200-299: a key's format, algorithm, size or missing private half."""


class JwsError(MedsealError):
    """Codes 300-399: a malformed JWS, a forbidden algorithm, a signature that does not verify."""


class SealError(MedsealError):
    """Codes 400-499: a malformed, truncated, altered or misaddressed sealed envelope."""


class TrustError(MedsealError):
    """Codes 500-599: certificates, certificate chains and trust lists."""


class SignerError(MedsealError):
    """Codes 600-699: signing backends (PKCS#11 tokens, callbacks) and the clock guard."""


class OutboxError(MedsealError):
    """Codes 700-799: the outbox database and the state of its records."""


class TransportError(MedsealError):
    """Codes 800-899: reaching the hub (TCP, TLS, HTTP, protocol, configuration)."""


class LedgerError(MedsealError):
    """Codes 900-999: receipts, tree heads and ledger proofs."""


_BLOCKS: Dict[int, Type[MedsealError]] = {
    0: GeneralError,
    1: JsonError,
    2: MedsealKeyError,
    3: JwsError,
    4: SealError,
    5: TrustError,
    6: SignerError,
    7: OutboxError,
    8: TransportError,
    9: LedgerError,
}


def error_class(code: int) -> Type[MedsealError]:
    """The exception class for result ``code``: chosen by its block, ``code // 100``."""
    if code <= 0:
        return MedsealError
    return _BLOCKS.get(code // 100, MedsealError)


class HandleClosedError(ValueError):
    """A method was called on a handle (key, signer, outbox, ...) after ``close()``."""


def result_name(code: int) -> str:
    """The constant's name for ``code`` (``medseal_result_name``), e.g. ``"MEDSEAL_JSON_SYNTAX"``."""
    return c_string(lib.medseal_result_name(code))


def result_description(code: int) -> str:
    """The library's static description of ``code`` (``medseal_result_describe``)."""
    return c_string(lib.medseal_result_describe(code))


def last_error_message() -> str:
    """This thread's last error message from the library (empty after a successful call)."""
    length = ffi.new("size_t *")
    rc = lib.medseal_last_error_message(ffi.NULL, 0, length)
    if rc == _OK or length[0] == 0:
        return ""
    buf = ffi.new("uint8_t[]", length[0] + 1)
    rc = lib.medseal_last_error_message(buf, length[0] + 1, length)
    if rc != _OK:
        return ""
    return bytes(ffi.buffer(buf, length[0])).decode("utf-8", "replace")


def make_error(code: int, message: Optional[str] = None) -> MedsealError:
    """The exception for ``code``; ``message`` defaults to this thread's last error message."""
    if message is None:
        message = last_error_message()
    return error_class(code)(code, result_name(code), message)


def check(code: int) -> None:
    """Raises the error for a nonzero result code; reads the message at once, on this thread."""
    if code != _OK:
        raise make_error(code)


# ---- arguments ------------------------------------------------------------------------------

def as_bytes(value: Any, what: str) -> BytesLike:
    """bytes-like data for the library: bytes, bytearray, memoryview, or str (UTF-8)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    raise TypeError("%s must be bytes or str, not %s" % (what, type(value).__name__))


def as_text(value: Any, what: str) -> bytes:
    """UTF-8 bytes of a text argument (str, or bytes given as UTF-8)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError("%s must be str, not %s" % (what, type(value).__name__))


def as_path(value: Any, what: str) -> bytes:
    """A filesystem path (str, bytes or os.PathLike) as bytes."""
    if isinstance(value, (str, bytes, os.PathLike)):
        return os.fsencode(value)
    raise TypeError("%s must be a path (str or os.PathLike), not %s" % (what, type(value).__name__))


def as_int(value: Any, what: str, low: int, high: int) -> int:
    """An integer argument within [low, high] (bool refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    if not low <= value <= high:
        raise ValueError("%s must be between %d and %d, not %d" % (what, low, high, value))
    return value


def in_buffer(data: BytesLike) -> Any:
    """A ``uint8_t[]`` view of ``data`` for an input argument (no copy)."""
    return ffi.from_buffer("uint8_t[]", data)


def take_buffer(pointer: Any) -> bytes:
    """The bytes of a ``medseal_buffer *`` (copied once), freeing the buffer."""
    try:
        length = lib.medseal_buffer_len(pointer)
        if length == 0:
            return b""
        return ffi.buffer(lib.medseal_buffer_data(pointer), length)[:]  # type: ignore[no-any-return]
    finally:
        lib.medseal_buffer_free(pointer)


def call_buffer(function: Callable[..., int], *args: Any) -> bytes:
    """Calls ``function(*args, &buffer)`` and returns the buffer's bytes."""
    out = ffi.new("medseal_buffer **")
    check(function(*args, out))
    return take_buffer(out[0])


def borrowed(function: Callable[..., int], handle: Any) -> bytes:
    """Copies bytes a ``medseal_X_*(handle, &data, &len)`` accessor lends."""
    data = ffi.new("uint8_t **")
    length = ffi.new("size_t *")
    check(function(handle, data, length))
    if length[0] == 0:
        return b""
    return ffi.buffer(data[0], length[0])[:]  # type: ignore[no-any-return]


def get_u64(function: Callable[..., int], handle: Any) -> int:
    """Reads a ``uint64_t`` out-parameter accessor."""
    out = ffi.new("uint64_t *")
    check(function(handle, out))
    return int(out[0])


def get_i64(function: Callable[..., int], handle: Any) -> int:
    """Reads an ``int64_t`` out-parameter accessor."""
    out = ffi.new("int64_t *")
    check(function(handle, out))
    return int(out[0])


def get_u32(function: Callable[..., int], handle: Any) -> int:
    """Reads a ``uint32_t`` out-parameter accessor."""
    out = ffi.new("uint32_t *")
    check(function(handle, out))
    return int(out[0])


def get_optional_time(function: Callable[..., int], handle: Any) -> Optional[int]:
    """Reads a ``(present, at)`` accessor: Unix seconds or None."""
    present = ffi.new("uint32_t *")
    at = ffi.new("int64_t *")
    check(function(handle, present, at))
    return int(at[0]) if present[0] else None


def enum_values(prefix: str, enum_name: str) -> Dict[str, int]:
    """Constants of a header enum whose names start with ``prefix``, keyed by the rest in
    lower case with ``-`` for ``_`` (``MEDSEAL_KEY_FORMAT_SPKI_PEM`` -> ``"spki-pem"``)."""
    found: Dict[str, int] = {}
    for value, name in ffi.typeof("enum " + enum_name).elements.items():
        if name.startswith(prefix):
            found[name[len(prefix):].lower().replace("_", "-")] = int(value)
    return found


# ---- handles ------------------------------------------------------------------------------

H = TypeVar("H", bound="Handle")

#: The ``medseal_*_free`` function of each handle type, looked up once (tests wrap them to
#: count calls).
destructors: Dict[str, Callable[[Any], None]] = {}


def destructor(name: str) -> Callable[[Any], None]:
    """The library's free function ``name`` (cached in :data:`destructors`)."""
    function = destructors.get(name)
    if function is None:
        function = destructors[name] = getattr(lib, name)
    return function


class Handle:
    """Owns one library handle: freed exactly once, by ``close()``, the end of a ``with``
    block, or the garbage collector, whichever comes first. After ``close()`` every method
    raises :class:`HandleClosedError`. Do not close a handle while another thread uses it."""

    _free_name = ""
    _ptr: Any

    def _adopt(self, pointer: Any) -> None:
        self._ptr = ffi.gc(pointer, destructor(self._free_name))

    @property
    def _p(self) -> Any:
        pointer = self._ptr
        if pointer is None:
            raise HandleClosedError("this %s is closed" % type(self).__name__)
        return pointer

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return getattr(self, "_ptr", None) is None

    def close(self) -> None:
        """Frees the handle now (later calls do nothing)."""
        pointer = getattr(self, "_ptr", None)
        if pointer is not None:
            self._ptr = None
            ffi.release(pointer)

    def __enter__(self: H) -> H:
        self._p  # refuse a closed handle at once
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return "<medseal.%s %s>" % (type(self).__name__, state)


def new_out(ctype: str) -> Any:
    """A fresh out-parameter ``ctype *`` (for example ``"medseal_key *"`` gives a ``medseal_key **``)."""
    return ffi.new(ctype + "*")


class ThreadStash(threading.local):
    """Per-thread slot for an exception raised inside a callback the library called."""

    error: Optional[BaseException] = None

    def pop(self) -> Optional[BaseException]:
        error, self.error = self.error, None
        return error
