"""medseal: seal health records from Python.

Canonical JSON (RFC 8785), JWS/JAdES signatures, HPKE sealed envelopes and a durable outbox
to the hub, through libmedseal's stable C ABI (loaded with cffi; the library ships inside
the package, or ``$MEDSEAL_LIB`` names another one).

>>> import medseal
>>> key = medseal.Key.generate("EdDSA")
>>> jws = medseal.Signer(key).sign({"resourceType": "Patient", "id": "p1"})
>>> medseal.Verifier([key]).verify(jws).payload
b'{"id":"p1","resourceType":"Patient"}'
"""

from __future__ import annotations

from . import ledger
from ._canon import canonicalize, ecmascript_number
from ._keys import KEY_FORMATS, Algorithm, Key, RecipientKey, TrustedBy, kid_length
from ._native import (
    ABI_VERSION,
    LIBRARY_PATH,
    AbiVersionError,
    GeneralError,
    HandleClosedError,
    JsonError,
    JwsError,
    LedgerError,
    LibraryLoadError,
    MedsealError,
    MedsealKeyError,
    OutboxError,
    ResultCode,
    SealError,
    SignerError,
    TransportError,
    TrustError,
    error_class,
    library_version,
    result_description,
    result_name,
)
from ._outbox import Deliverer, DeliveryReport, HubReceipt, LocalReceipt, Outbox, OutboxStatus, Pkcs11Key, Transport
from ._seal import AEADS, ENCODINGS, Envelope, Meta, open_into, plaintext_size, seal, seal_into, sealed_size
from ._sign import JWS_FORMATS, Signer, TrustList, Verified, Verifier
from .ledger import Receipt, TreeHead


def _package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return library_version()
    try:
        return version("medseal")
    except PackageNotFoundError:
        return library_version()


#: The package version; the same as the bundled library's (:func:`library_version`).
__version__ = _package_version()

__all__ = [
    "ABI_VERSION",
    "AEADS",
    "AbiVersionError",
    "Algorithm",
    "Deliverer",
    "DeliveryReport",
    "ENCODINGS",
    "Envelope",
    "GeneralError",
    "HandleClosedError",
    "HubReceipt",
    "JWS_FORMATS",
    "JsonError",
    "JwsError",
    "KEY_FORMATS",
    "Key",
    "LIBRARY_PATH",
    "LedgerError",
    "LibraryLoadError",
    "LocalReceipt",
    "MedsealError",
    "MedsealKeyError",
    "Meta",
    "Outbox",
    "OutboxError",
    "OutboxStatus",
    "Pkcs11Key",
    "Receipt",
    "RecipientKey",
    "ResultCode",
    "SealError",
    "Signer",
    "SignerError",
    "Transport",
    "TransportError",
    "TreeHead",
    "TrustError",
    "TrustList",
    "TrustedBy",
    "Verified",
    "Verifier",
    "__version__",
    "canonicalize",
    "ecmascript_number",
    "error_class",
    "kid_length",
    "ledger",
    "library_version",
    "open_into",
    "plaintext_size",
    "result_description",
    "result_name",
    "seal",
    "seal_into",
    "sealed_size",
]
