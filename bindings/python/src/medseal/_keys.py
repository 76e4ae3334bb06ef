"""Signing keys (``medseal_key``) and recipient keys (``medseal_recipient_key``)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from ._native import (
    Handle,
    as_bytes,
    call_buffer,
    check,
    enum_values,
    get_u32,
    in_buffer,
    lib,
    new_out,
)

if TYPE_CHECKING:
    from ._seal import Envelope
    from ._sign import Verified, Verifier


class Algorithm(str, enum.Enum):
    """JWS signature algorithms (the JOSE names)."""

    EDDSA = "EdDSA"
    ES256 = "ES256"
    RS256 = "RS256"
    PS256 = "PS256"

    @property
    def c_id(self) -> int:
        """The ``MEDSEAL_ALG_*`` value of the header."""
        return int(getattr(lib, "MEDSEAL_ALG_" + self.name))

    @classmethod
    def from_c_id(cls, value: int) -> "Algorithm":
        """The algorithm with ``MEDSEAL_ALG_*`` value ``value``."""
        for alg in cls:
            if alg.c_id == value:
                return alg
        raise ValueError("unknown MEDSEAL_ALG value %d" % value)

    @classmethod
    def parse(cls, value: "AlgorithmLike") -> "Algorithm":
        """An Algorithm from itself or its JOSE name (``"EdDSA"``, ``"ES256"``, ...)."""
        if isinstance(value, Algorithm):
            return value
        if isinstance(value, str):
            for alg in cls:
                if alg.value == value or alg.name == value.upper():
                    return alg
            raise ValueError("unknown algorithm %r (EdDSA, ES256, RS256 or PS256)" % value)
        raise TypeError("algorithm must be an Algorithm or str, not %s" % type(value).__name__)


AlgorithmLike = Union[Algorithm, str]


class TrustedBy(str, enum.Enum):
    """What made a verified signer trusted."""

    KEY = "key"
    CERTIFICATE = "certificate"
    TRUST_LIST = "trust_list"

    @classmethod
    def from_c_id(cls, value: int) -> "TrustedBy":
        """The member for a ``MEDSEAL_TRUSTED_BY_*`` value."""
        for member in cls:
            if int(getattr(lib, "MEDSEAL_TRUSTED_BY_" + member.name)) == value:
                return member
        raise ValueError("unknown MEDSEAL_TRUSTED_BY value %d" % value)


#: Key export formats, from the header's ``medseal_key_format`` enum: ``"pkcs8-der"``,
#: ``"pkcs8-pem"``, ``"pkcs8-v2-der"``, ``"pkcs8-v2-pem"``, ``"spki-der"``, ``"spki-pem"``,
#: ``"jwk"``, ``"raw-private"``, ``"raw-public"``.
KEY_FORMATS: Dict[str, int] = enum_values("MEDSEAL_KEY_FORMAT_", "medseal_key_format")


def _key_format(fmt: str) -> int:
    if not isinstance(fmt, str):
        raise TypeError("format must be str, not %s" % type(fmt).__name__)
    try:
        return KEY_FORMATS[fmt.lower()]
    except KeyError:
        raise ValueError("unknown key format %r (one of %s)" % (fmt, ", ".join(sorted(KEY_FORMATS)))) from None


class Key(Handle):
    """A signing or verification key bound to one algorithm (``medseal_key``).

    Make one with :meth:`generate` or :meth:`load`. Immutable and safe to share between
    threads. ``close()`` (or ``with``) frees it at once; otherwise the garbage collector does.
    """

    _free_name = "medseal_key_free"

    def __init__(self, _pointer: Any) -> None:
        """Internal: use :meth:`generate` or :meth:`load`."""
        self._adopt(_pointer)
        self._kid: Optional[str] = None

    @classmethod
    def generate(cls, alg: AlgorithmLike = Algorithm.EDDSA) -> "Key":
        """A new private key: ``"EdDSA"`` (Ed25519) or ``"ES256"`` (P-256)."""
        out = new_out("medseal_key *")
        check(lib.medseal_key_generate(Algorithm.parse(alg).c_id, out))
        return cls(out[0])

    @classmethod
    def load(cls, data: Union[bytes, bytearray, memoryview, str], alg: Optional[AlgorithmLike] = None) -> "Key":
        """Imports a key from PEM, DER (PKCS#8 v1/v2, PKCS#1, SPKI) or JWK, detected from the
        bytes. ``alg`` chooses the scheme of an RSA key (``"RS256"``, the default, or
        ``"PS256"``); None takes the key's own. Errors: :class:`MedsealKeyError`."""
        raw = in_buffer(as_bytes(data, "key data"))
        c_alg = int(lib.MEDSEAL_ALG_FROM_KEY) if alg is None else Algorithm.parse(alg).c_id
        out = new_out("medseal_key *")
        check(lib.medseal_key_import(raw, len(raw), c_alg, out))
        return cls(out[0])

    def export(self, format: str = "spki-pem") -> bytes:
        """The key in ``format`` (see :data:`KEY_FORMATS`). Private formats of a public key
        raise :class:`MedsealKeyError` (``MEDSEAL_KEY_NOT_PRIVATE``)."""
        return call_buffer(lib.medseal_key_export, self._p, _key_format(format))

    @property
    def kid(self) -> str:
        """The key id: RFC 7638 thumbprint (base64url of SHA-256, 43 characters)."""
        if self._kid is None:
            self._kid = call_buffer(lib.medseal_key_kid, self._p).decode("ascii")
        return self._kid

    @property
    def algorithm(self) -> Algorithm:
        """The algorithm the key signs or verifies with."""
        return Algorithm.from_c_id(get_u32(lib.medseal_key_algorithm, self._p))

    @property
    def has_private(self) -> bool:
        """True if the key holds its private half (can sign)."""
        return get_u32(lib.medseal_key_has_private, self._p) == 1

    def public_key(self) -> "Key":
        """A new Key holding only the public half (same algorithm and kid)."""
        return Key.load(self.export("spki-der"), self.algorithm)

    def __repr__(self) -> str:
        if self.closed:
            return "<medseal.Key closed>"
        return "<medseal.Key %s %s%s>" % (self.algorithm.value, self.kid, " private" if self.has_private else "")


class RecipientKey(Handle):
    """An HPKE recipient key, X25519 (``medseal_recipient_key``): private (opens envelopes)
    or public only (envelopes are sealed to it). Immutable and safe to share between threads."""

    _free_name = "medseal_recipient_key_free"

    def __init__(self, _pointer: Any) -> None:
        """Internal: use :meth:`generate`, :meth:`load` or :meth:`from_raw`."""
        self._adopt(_pointer)
        self._kid: Optional[str] = None

    @classmethod
    def generate(cls) -> "RecipientKey":
        """A new private X25519 recipient key."""
        out = new_out("medseal_recipient_key *")
        check(lib.medseal_recipient_key_generate(out))
        return cls(out[0])

    @classmethod
    def load(cls, data: Union[bytes, bytearray, memoryview, str]) -> "RecipientKey":
        """Imports an X25519 key from PEM, DER (PKCS#8, SPKI) or JWK. Signing keys are
        :class:`MedsealKeyError` (``MEDSEAL_KEY_UNSUPPORTED``)."""
        raw = in_buffer(as_bytes(data, "key data"))
        out = new_out("medseal_recipient_key *")
        check(lib.medseal_recipient_key_import(raw, len(raw), out))
        return cls(out[0])

    @classmethod
    def from_raw(cls, data: Union[bytes, bytearray, memoryview], *, private: bool) -> "RecipientKey":
        """A key from its 32 raw bytes: the private scalar (``private=True``) or the public
        u-coordinate. Another length is :class:`MedsealKeyError` (``MEDSEAL_KEY_INVALID``)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("raw key must be bytes, not %s" % type(data).__name__)
        raw = in_buffer(data)
        kind = KEY_FORMATS["raw-private"] if private else KEY_FORMATS["raw-public"]
        out = new_out("medseal_recipient_key *")
        check(lib.medseal_recipient_key_from_raw(raw, len(raw), kind, out))
        return cls(out[0])

    def export(self, format: str = "spki-pem") -> bytes:
        """The key in ``format`` (see :data:`KEY_FORMATS`; the JWK carries kid and ``use: enc``)."""
        return call_buffer(lib.medseal_recipient_key_export, self._p, _key_format(format))

    @property
    def kid(self) -> str:
        """The key id (RFC 7638 thumbprint of the public JWK); envelopes name recipients by it."""
        if self._kid is None:
            self._kid = call_buffer(lib.medseal_recipient_key_kid, self._p).decode("ascii")
        return self._kid

    @property
    def has_private(self) -> bool:
        """True if the key can open envelopes."""
        return get_u32(lib.medseal_recipient_key_has_private, self._p) == 1

    def public_key(self) -> "RecipientKey":
        """A new RecipientKey holding only the public half."""
        return RecipientKey.from_raw(self.export("raw-public"), private=False)

    def open(self, envelope: Union[bytes, bytearray, memoryview, "Envelope"]) -> bytes:
        """Opens an envelope (encoded bytes, JSON or protobuf, or an :class:`Envelope`) and
        returns the plaintext. Errors: :class:`SealError` (``MEDSEAL_SEAL_WRONG_RECIPIENT``,
        ``MEDSEAL_SEAL_DECRYPT_FAILED``, ``MEDSEAL_SEAL_TRUNCATED``, ...)."""
        from ._seal import Envelope, open_bytes

        if isinstance(envelope, Envelope):
            return envelope.open(self)
        return open_bytes(self, envelope)

    def open_into(self, envelope: Union[bytes, bytearray, memoryview], out: Union[bytearray, memoryview]) -> int:
        """Opens an encoded envelope into caller memory ``out`` (no library-allocated copy);
        returns the plaintext's length. Size ``out`` with :meth:`plaintext_size`."""
        from ._seal import open_into

        return open_into(self, envelope, out)

    def plaintext_size(self, envelope: Union[bytes, bytearray, memoryview]) -> int:
        """The plaintext length of an encoded envelope (no decryption)."""
        from ._seal import plaintext_size

        return plaintext_size(self, envelope)

    def open_verified(self, envelope: Union[bytes, bytearray, memoryview, "Envelope"], verifier: "Verifier") -> "Verified":
        """Opens a signed record and verifies its JWS with ``verifier``
        (see :meth:`Envelope.open_verified`)."""
        from ._seal import Envelope

        if isinstance(envelope, Envelope):
            return envelope.open_verified(self, verifier)
        with Envelope(envelope) as decoded:
            return decoded.open_verified(self, verifier)

    def __repr__(self) -> str:
        if self.closed:
            return "<medseal.RecipientKey closed>"
        return "<medseal.RecipientKey %s%s>" % (self.kid, " private" if self.has_private else "")


def kid_length() -> int:
    """Length of a key id in characters (``medseal_key_kid_bytes()``)."""
    return int(lib.medseal_key_kid_bytes())
