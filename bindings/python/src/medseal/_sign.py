"""Signers, verifiers, verified results and trust lists."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Optional, Sequence, Union

from ._canon import canon_flags, to_json
from ._keys import Algorithm, AlgorithmLike, Key, TrustedBy
from ._native import (
    BytesLike,
    Handle,
    ThreadStash,
    as_bytes,
    as_int,
    as_text,
    borrowed,
    call_buffer,
    check,
    enum_values,
    ffi,
    get_i64,
    get_u32,
    get_u64,
    in_buffer,
    lib,
    make_error,
    new_out,
    take_buffer,
)

if TYPE_CHECKING:
    from ._keys import RecipientKey
    from ._seal import Meta

#: JWS serializations for :meth:`Signer.sign`, from the header's ``medseal_jws_format``:
#: ``"flattened"``, ``"compact"``, ``"detached-compact"``, ``"detached-flattened"``.
JWS_FORMATS: Dict[str, int] = enum_values("MEDSEAL_JWS_", "medseal_jws_format")
JWS_FORMATS["detached"] = JWS_FORMATS["detached-compact"]

TimeLike = Union[datetime.datetime, int, float]
SignCallback = Callable[[bytes], Union[bytes, bytearray, memoryview]]
ClockCallback = Callable[[], TimeLike]


def unix_seconds(value: TimeLike, what: str) -> int:
    """Unix seconds of a datetime (naive means UTC) or a number."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a datetime or Unix seconds, not %s" % (what, type(value).__name__))
    return int(value)


def utc(seconds: int) -> datetime.datetime:
    """An aware UTC datetime from Unix seconds."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


def parse_rfc3339(text: str) -> Optional[datetime.datetime]:
    """An aware datetime from RFC 3339 text such as ``2026-01-01T08:00:00Z``; None if unreadable."""
    if not text:
        return None
    candidate = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        parsed = datetime.datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


@dataclass(frozen=True)
class Verified:
    """What a successful verification established.

    ``payload`` (the signed bytes; for medseal records the canonical JSON), ``kid`` (thumbprint
    of the key that verified), ``algorithm``, ``signing_time`` (JAdES ``sigT`` as an aware UTC
    datetime, None if absent) and ``signing_time_text`` (as written), ``trusted_by`` (a
    configured key, a certificate chain to an anchor, or a trust list), ``signer`` (the
    certificate's subject, RFC 4514, or the trust-list facility; empty for a configured key),
    ``header_json`` (the protected header, canonical JSON) and ``header`` (parsed).
    """

    payload: bytes
    kid: str
    algorithm: Algorithm
    signing_time: Optional[datetime.datetime]
    signing_time_text: str
    trusted_by: TrustedBy
    signer: str
    header_json: bytes = field(repr=False)

    @property
    def header(self) -> Dict[str, Any]:
        """The protected header as a dict."""
        parsed: Dict[str, Any] = json.loads(self.header_json)
        return parsed

    def json(self) -> Any:
        """The payload parsed as JSON (``json.loads``)."""
        return json.loads(self.payload)


def take_verified(pointer: Any) -> Verified:
    """Reads a ``medseal_verified *`` into a :class:`Verified` and frees it."""
    try:
        signing_time_text = borrowed(lib.medseal_verified_signing_time, pointer).decode("utf-8")
        return Verified(
            payload=borrowed(lib.medseal_verified_payload, pointer),
            kid=borrowed(lib.medseal_verified_key_id, pointer).decode("utf-8", "replace"),
            algorithm=Algorithm.from_c_id(get_u32(lib.medseal_verified_algorithm, pointer)),
            signing_time=parse_rfc3339(signing_time_text),
            signing_time_text=signing_time_text,
            trusted_by=TrustedBy.from_c_id(get_u32(lib.medseal_verified_trusted_by, pointer)),
            signer=borrowed(lib.medseal_verified_signer, pointer).decode("utf-8", "replace"),
            header_json=borrowed(lib.medseal_verified_header, pointer),
        )
    finally:
        lib.medseal_verified_free(pointer)


def _chain_bytes(chain: Union[BytesLike, str, Sequence[Union[bytes, str]]]) -> BytesLike:
    if isinstance(chain, (bytes, bytearray, memoryview, str)):
        return as_bytes(chain, "certificate_chain")
    if isinstance(chain, (list, tuple)):
        parts = [bytes(as_bytes(item, "certificate_chain item")) for item in chain]
        if not parts:
            raise ValueError("certificate_chain is empty")
        return b"\n".join(parts)
    raise TypeError("certificate_chain must be PEM/DER bytes or a list of PEM certificates")


class _Callbacks:
    """Keeps a Python sign callback (and clock) alive and carries their exceptions back."""

    def __init__(self, sign: Optional[SignCallback], clock: Optional[ClockCallback]) -> None:
        self.stash = ThreadStash()
        self.sign_cb: Any = None
        self.clock_cb: Any = None
        if sign is not None:
            if not callable(sign):
                raise TypeError("sign must be callable, not %s" % type(sign).__name__)
            self.sign_cb = ffi.callback("medseal_sign_callback", self._sign_trampoline(sign), error=-1)
        if clock is not None:
            if not callable(clock):
                raise TypeError("clock must be callable, not %s" % type(clock).__name__)
            self.clock_cb = ffi.callback("medseal_clock_callback", self._clock_trampoline(clock), error=0)

    def _sign_trampoline(self, sign: SignCallback) -> Callable[..., int]:
        stash = self.stash

        def trampoline(_ctx: Any, message: Any, message_len: int, signature: Any, cap: int, signature_len: Any) -> int:
            try:
                result = sign(ffi.buffer(message, message_len)[:])
                if not isinstance(result, (bytes, bytearray, memoryview)):
                    raise TypeError(
                        "the sign callback must return the signature as bytes, not %s" % type(result).__name__
                    )
                data = bytes(result)
                if len(data) > cap:
                    raise ValueError(
                        "the sign callback returned %d bytes; a signature has at most %d" % (len(data), cap)
                    )
                ffi.memmove(signature, data, len(data))
                signature_len[0] = len(data)
                return 0
            except BaseException as error:  # carried back to the caller of sign()
                stash.error = error
                return 1

        return trampoline

    def _clock_trampoline(self, clock: ClockCallback) -> Callable[..., int]:
        stash = self.stash

        def trampoline(_ctx: Any) -> int:
            try:
                return unix_seconds(clock(), "the clock's result")
            except BaseException as error:
                stash.error = error
                return 0

        return trampoline

    def reraise(self, code: int) -> None:
        """After a signing call: re-raises a callback's exception, else the library's error."""
        error = self.stash.pop()
        if error is not None:
            raise error
        if code != 0:
            raise make_error(code)


class Signer(Handle):
    """Signs records (``medseal_signer``): canonical JSON, then a JWS with the JAdES headers.

    Backends: a software :class:`Key` (``Signer(key, ...)``), a PKCS#11 token
    (:meth:`from_pkcs11`) or a Python function (:meth:`from_callback`). Options, all keyword:

    * ``kid``: the ``kid`` header (default: the key's thumbprint, or ``x5t#S256`` with a chain);
    * ``signing_time``: a fixed ``sigT`` (datetime or Unix seconds; default: the clock at
      each signature);
    * ``certificate_chain``: the signer's chain, signer first (PEM bytes/str, one DER
      certificate, or a list of PEM certificates); signatures then carry ``x5c``;
    * ``commitment``: a JAdES commitment type OID such as ``"1.2.840.10065.1.12.1.1"``;
    * ``max_clock_skew``: seconds a fixed signing time may be from the clock;
    * ``clock``: a function returning the current time (Unix seconds or datetime) instead of
      the system clock;
    * ``plain``, ``allow_lossy_numbers``, ``normalize_nfc``, ``fhir``: canonicalization of
      the records (see :func:`medseal.canonicalize`).

    Immutable after construction and safe to use from several threads at once.
    """

    _free_name = "medseal_signer_free"

    def __init__(
        self,
        key: Key,
        *,
        kid: Optional[str] = None,
        signing_time: Optional[TimeLike] = None,
        certificate_chain: Optional[Union[BytesLike, str, Sequence[Union[bytes, str]]]] = None,
        commitment: Optional[str] = None,
        max_clock_skew: Optional[int] = None,
        clock: Optional[ClockCallback] = None,
        plain: bool = False,
        allow_lossy_numbers: bool = False,
        normalize_nfc: bool = False,
        fhir: Optional[str] = None,
    ) -> None:
        """A signer for the private ``key``; see the class documentation for the options."""
        if not isinstance(key, Key):
            raise TypeError("key must be a medseal.Key, not %s" % type(key).__name__)
        out = new_out("medseal_signer_builder *")
        check(lib.medseal_signer_builder_new(key._p, out))
        self._build(
            out[0], None, kid, signing_time, certificate_chain, commitment, max_clock_skew, clock,
            canon_flags(plain, allow_lossy_numbers, normalize_nfc, fhir),
        )

    def _build(
        self,
        builder: Any,
        sign: Optional[SignCallback],
        kid: Optional[str],
        signing_time: Optional[TimeLike],
        certificate_chain: Optional[Union[BytesLike, str, Sequence[Union[bytes, str]]]],
        commitment: Optional[str],
        max_clock_skew: Optional[int],
        clock: Optional[ClockCallback],
        flags: int,
        callbacks: Optional[_Callbacks] = None,
    ) -> None:
        self._ptr = None
        self._public_key: Optional[Key] = None
        self._callbacks = callbacks if callbacks is not None else _Callbacks(sign, clock)
        try:
            if kid is not None:
                text = in_buffer(as_text(kid, "kid"))
                check(lib.medseal_signer_builder_set_kid(builder, text, len(text)))
            if signing_time is not None:
                check(lib.medseal_signer_builder_set_signing_time(builder, unix_seconds(signing_time, "signing_time")))
            if certificate_chain is not None:
                chain = in_buffer(_chain_bytes(certificate_chain))
                check(lib.medseal_signer_builder_set_certificate_chain(builder, chain, len(chain)))
            if commitment is not None:
                oid = in_buffer(as_text(commitment, "commitment"))
                check(lib.medseal_signer_builder_set_commitment(builder, oid, len(oid)))
            if max_clock_skew is not None:
                check(lib.medseal_signer_builder_set_max_clock_skew(
                    builder, as_int(max_clock_skew, "max_clock_skew", 0, 2**32 - 1)))
            if self._callbacks.clock_cb is not None:
                check(lib.medseal_signer_builder_set_clock(builder, self._callbacks.clock_cb, ffi.NULL))
            if flags:
                check(lib.medseal_signer_builder_set_canon_flags(builder, flags))
            out = new_out("medseal_signer *")
            check(lib.medseal_signer_builder_build(builder, out))
            self._adopt(out[0])
        finally:
            lib.medseal_signer_builder_free(builder)

    @classmethod
    def from_callback(
        cls,
        public_key: Key,
        sign: SignCallback,
        *,
        kid: Optional[str] = None,
        signing_time: Optional[TimeLike] = None,
        certificate_chain: Optional[Union[BytesLike, str, Sequence[Union[bytes, str]]]] = None,
        commitment: Optional[str] = None,
        max_clock_skew: Optional[int] = None,
        clock: Optional[ClockCallback] = None,
        plain: bool = False,
        allow_lossy_numbers: bool = False,
        normalize_nfc: bool = False,
        fhir: Optional[str] = None,
    ) -> "Signer":
        """A signer whose private key lives elsewhere: ``sign(message: bytes) -> bytes`` signs
        the JWS signing input as ``public_key``'s algorithm says (EdDSA: Ed25519; ES256:
        SHA-256 with ECDSA, raw r||s or DER; RS256/PS256: SHA-256 with RSA PKCS#1 v1.5 / PSS).
        Every signature is verified with ``public_key`` before a JWS is written
        (``MEDSEAL_SIGNER_BAD_SIGNATURE`` otherwise). An exception raised by ``sign`` comes
        out of :meth:`sign` as that same exception; a result that is not bytes is a TypeError.
        ``sign`` may be called from any thread that signs."""
        if not isinstance(public_key, Key):
            raise TypeError("public_key must be a medseal.Key, not %s" % type(public_key).__name__)
        self = cls.__new__(cls)
        callbacks = _Callbacks(sign, clock)
        out = new_out("medseal_signer_builder *")
        check(lib.medseal_signer_builder_from_callback(public_key._p, callbacks.sign_cb, ffi.NULL, out))
        self._build(
            out[0], sign, kid, signing_time, certificate_chain, commitment, max_clock_skew, clock,
            canon_flags(plain, allow_lossy_numbers, normalize_nfc, fhir), callbacks,
        )
        return self

    @classmethod
    def from_pkcs11(
        cls,
        module: str,
        token_label: str,
        key_label: str,
        pin: Union[str, bytes],
        *,
        alg: Optional[AlgorithmLike] = None,
        kid: Optional[str] = None,
        signing_time: Optional[TimeLike] = None,
        certificate_chain: Optional[Union[BytesLike, str, Sequence[Union[bytes, str]]]] = None,
        commitment: Optional[str] = None,
        max_clock_skew: Optional[int] = None,
        clock: Optional[ClockCallback] = None,
        plain: bool = False,
        allow_lossy_numbers: bool = False,
        normalize_nfc: bool = False,
        fhir: Optional[str] = None,
    ) -> "Signer":
        """A signer for a key on a PKCS#11 token: the module's path, the token's label, the
        key's label (``CKA_LABEL``) and the user PIN (never logged). ``alg``: None (RS256 for
        RSA, ES256 for P-256) or ``"PS256"``/``"RS256"`` for RSA keys. The token session stays
        open until the signer is closed. Errors: :class:`SignerError` (``MEDSEAL_PKCS11_*``)."""
        self = cls.__new__(cls)
        module_b = in_buffer(as_text(module, "module"))
        token_b = in_buffer(as_text(token_label, "token_label"))
        key_b = in_buffer(as_text(key_label, "key_label"))
        pin_b = in_buffer(as_text(pin, "pin"))
        c_alg = int(lib.MEDSEAL_ALG_FROM_KEY) if alg is None else Algorithm.parse(alg).c_id
        out = new_out("medseal_signer_builder *")
        check(lib.medseal_signer_builder_from_pkcs11(
            module_b, len(module_b), token_b, len(token_b), key_b, len(key_b), pin_b, len(pin_b), c_alg, out))
        self._build(
            out[0], None, kid, signing_time, certificate_chain, commitment, max_clock_skew, clock,
            canon_flags(plain, allow_lossy_numbers, normalize_nfc, fhir),
        )
        return self

    def sign(self, record: Any, *, format: str = "flattened", allow_floats: bool = False) -> bytes:
        """Canonicalizes ``record`` (JSON bytes/str or a Python value, as
        :func:`medseal.canonicalize` takes it) and signs it. ``format``: ``"flattened"``
        (JWS JSON, the default), ``"compact"``, ``"detached"`` (= ``"detached-compact"``) or
        ``"detached-flattened"``. Returns the JWS bytes."""
        try:
            c_format = JWS_FORMATS[format]
        except (KeyError, TypeError):
            raise ValueError("unknown JWS format %r (one of %s)" % (format, ", ".join(sorted(JWS_FORMATS)))) from None
        document = in_buffer(to_json(record, allow_floats))
        out = new_out("medseal_buffer *")
        rc = lib.medseal_signer_sign(self._p, document, len(document), c_format, out)
        self._callbacks.reraise(rc)
        return take_buffer(out[0])

    def sign_and_seal(
        self,
        record: Any,
        meta: "Meta",
        recipients: Sequence["RecipientKey"],
        *,
        aead: str = "aes-256-gcm",
        encoding: str = "protobuf",
        allow_floats: bool = False,
    ) -> bytes:
        """Signs ``record`` (flattened JWS) and seals the JWS to ``recipients`` with ``meta``
        (content type ``application/jose+json``): what the hub opens with
        :meth:`Envelope.open_verified`. ``aead`` and ``encoding`` as for :func:`medseal.seal`."""
        from ._seal import Meta, aead_id, encoding_id, recipient_array

        if not isinstance(meta, Meta):
            raise TypeError("meta must be a medseal.Meta, not %s" % type(meta).__name__)
        keys, count, _keep = recipient_array(recipients)
        document = in_buffer(to_json(record, allow_floats))
        c_aead, c_encoding = aead_id(aead), encoding_id(encoding)
        with meta._handle() as c_meta:
            out = new_out("medseal_buffer *")
            rc = lib.medseal_signer_sign_and_seal(
                self._p, document, len(document), c_meta, keys, count, c_aead, c_encoding, out)
            self._callbacks.reraise(rc)
        return take_buffer(out[0])

    @property
    def public_key(self) -> Key:
        """The key this signer's signatures verify with (for tokens and callbacks too)."""
        if self._public_key is None:
            out = new_out("medseal_key *")
            check(lib.medseal_signer_public_key(self._p, out))
            self._public_key = Key(out[0])
        return self._public_key

    @property
    def kid(self) -> str:
        """The thumbprint of the signer's public key."""
        return self.public_key.kid

    def close(self) -> None:
        """Frees the signer (and closes a PKCS#11 session) now."""
        super().close()
        if self._public_key is not None:
            self._public_key.close()

    @staticmethod
    def max_signature_bytes() -> int:
        """Most bytes a callback signature may have (``medseal_signer_max_signature_bytes()``)."""
        return int(lib.medseal_signer_max_signature_bytes())


class TrustList(Handle):
    """A verified, fresh trust list (``medseal_trust_list``); see docs/TRUST_LISTS.md."""

    _free_name = "medseal_trust_list_free"

    def __init__(self, _pointer: Any) -> None:
        """Internal: use :meth:`verify`."""
        self._adopt(_pointer)

    @classmethod
    def verify(
        cls,
        jws: Union[BytesLike, str],
        list_key: Key,
        *,
        now: Optional[TimeLike] = None,
        min_sequence: int = 0,
    ) -> "TrustList":
        """Verifies a signed trust list with the trust-list key at ``now`` (default: the
        clock), refusing lists older than ``min_sequence`` (the highest sequence seen so far).
        Errors: :class:`TrustError` (``MEDSEAL_TRUST_LIST_SIGNATURE``, ``_EXPIRED``,
        ``_STALE``, ``_INVALID``)."""
        if not isinstance(list_key, Key):
            raise TypeError("list_key must be a medseal.Key, not %s" % type(list_key).__name__)
        data = in_buffer(as_bytes(jws, "jws"))
        when = unix_seconds(now if now is not None else datetime.datetime.now(datetime.timezone.utc), "now")
        out = new_out("medseal_trust_list *")
        check(lib.medseal_trust_list_verify(
            data, len(data), list_key._p, when, as_int(min_sequence, "min_sequence", 0, 2**64 - 1), out))
        return cls(out[0])

    @staticmethod
    def sign(list_json: Union[BytesLike, str, Dict[str, Any]], key: Key) -> bytes:
        """Checks an unsigned trust list (JSON text or a dict) and signs it with the
        trust-list key ``key`` (private); returns the JWS."""
        if not isinstance(key, Key):
            raise TypeError("key must be a medseal.Key, not %s" % type(key).__name__)
        data = in_buffer(to_json(list_json))
        return call_buffer(lib.medseal_trust_list_sign, data, len(data), key._p)

    @property
    def sequence(self) -> int:
        """The list's sequence number."""
        return get_u64(lib.medseal_trust_list_sequence, self._p)

    @property
    def expires(self) -> datetime.datetime:
        """The list's expiry (UTC)."""
        return utc(get_i64(lib.medseal_trust_list_expires, self._p))

    @property
    def entry_count(self) -> int:
        """The number of entries."""
        out = ffi.new("size_t *")
        check(lib.medseal_trust_list_entry_count(self._p, out))
        return int(out[0])


class Verifier(Handle):
    """Verifies JWS against trusted keys, certificate anchors and a trust list
    (``medseal_verifier``). Immutable; safe to use from several threads at once.

    ``keys``: :class:`Key` objects trusted directly; ``trust_anchors``: CA certificates (PEM,
    one or more, or one DER) for JWS carrying ``x5c``; ``trust_list``: a verified
    :class:`TrustList`; the canonicalization options apply to detached documents. At least
    one source of trust is needed (:class:`JwsError` ``MEDSEAL_JWS_NO_KEYS``).
    """

    _free_name = "medseal_verifier_free"

    def __init__(
        self,
        keys: Iterable[Key] = (),
        *,
        trust_anchors: Optional[Union[BytesLike, str]] = None,
        trust_list: Optional[TrustList] = None,
        plain: bool = False,
        allow_lossy_numbers: bool = False,
        normalize_nfc: bool = False,
        fhir: Optional[str] = None,
    ) -> None:
        """A verifier; see the class documentation."""
        self._ptr = None
        if isinstance(keys, Key):
            keys = [keys]
        key_list = list(keys)
        for key in key_list:
            if not isinstance(key, Key):
                raise TypeError("keys must be medseal.Key objects, not %s" % type(key).__name__)
        if trust_list is not None and not isinstance(trust_list, TrustList):
            raise TypeError("trust_list must be a medseal.TrustList, not %s" % type(trust_list).__name__)
        flags = canon_flags(plain, allow_lossy_numbers, normalize_nfc, fhir)
        builder_out = new_out("medseal_verifier_builder *")
        check(lib.medseal_verifier_builder_new(builder_out))
        builder = builder_out[0]
        try:
            for key in key_list:
                check(lib.medseal_verifier_builder_add_key(builder, key._p))
            if trust_anchors is not None:
                anchors = in_buffer(as_bytes(trust_anchors, "trust_anchors"))
                check(lib.medseal_verifier_builder_add_trust_anchors(builder, anchors, len(anchors)))
            if trust_list is not None:
                check(lib.medseal_verifier_builder_set_trust_list(builder, trust_list._p))
            if flags:
                check(lib.medseal_verifier_builder_set_canon_flags(builder, flags))
            out = new_out("medseal_verifier *")
            check(lib.medseal_verifier_builder_build(builder, out))
            self._adopt(out[0])
        finally:
            lib.medseal_verifier_builder_free(builder)

    def verify(self, jws: Union[BytesLike, str]) -> Verified:
        """Verifies a compact or JSON JWS carrying its payload, whatever it signs (a record, a
        receipt, a trust list...): for medseal records use :meth:`verify_record`. Errors:
        :class:`JwsError` (``MEDSEAL_JWS_SIGNATURE_INVALID``, ...), :class:`TrustError` for
        certificates."""
        data = in_buffer(as_bytes(jws, "jws"))
        out = new_out("medseal_verified *")
        check(lib.medseal_verifier_verify(self._p, data, len(data), out))
        return take_verified(out[0])

    def verify_record(self, jws: Union[BytesLike, str]) -> Verified:
        """Verifies a medseal record: as :meth:`verify`, and the JWS must also be a record
        (``typ`` ``medseal+jws``, a ``sigT``, a canonical JSON payload), else :class:`JwsError`
        ``MEDSEAL_JWS_HEADER`` or ``MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL``. A receipt or a trust
        list signed by a trusted key verifies with :meth:`verify` but is not a record: use this
        method wherever a record is expected."""
        data = in_buffer(as_bytes(jws, "jws"))
        out = new_out("medseal_verified *")
        check(lib.medseal_verifier_verify_record(self._p, data, len(data), out))
        return take_verified(out[0])

    def verify_detached(
        self, jws: Union[BytesLike, str], payload: Any, *, document: bool = False, allow_floats: bool = False
    ) -> Verified:
        """Verifies a detached JWS against ``payload``: the exact signed bytes, or with
        ``document=True`` a JSON document (bytes/str or a Python value) canonicalized with the
        verifier's options first."""
        data = in_buffer(as_bytes(jws, "jws"))
        if document:
            body = in_buffer(to_json(payload, allow_floats))
            kind = int(lib.MEDSEAL_PAYLOAD_DOCUMENT)
        else:
            body = in_buffer(as_bytes(payload, "payload"))
            kind = int(lib.MEDSEAL_PAYLOAD_BYTES)
        out = new_out("medseal_verified *")
        check(lib.medseal_verifier_verify_detached(self._p, data, len(data), body, len(body), kind, out))
        return take_verified(out[0])


