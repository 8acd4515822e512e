"""The envelope: a signed document as the bytes it ships as.

``{"payload": "<canonical JSON text>", "sig": "<base64url of the Ed25519
signature over the payload's UTF-8 bytes>", "kid": "<signing key's id>"}``.
A verifier checks the signature over the payload exactly as received and
then reads that text; nobody re-serializes a payload. Every payload has a
``type`` (:data:`TYPES`), checked against what the verifier expects, so a
record signed as one kind of document can never pass as another.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bulletin.signing import canonical, keys
from bulletin.signing.reasons import BAD_SIGNATURE, MALFORMED, Rejected

TYPES = ("statement", "withdrawal", "sync-index", "mirrors", "certificate", "revocation", "root")
SIGNATURE_BYTES = 64


def sign(document: dict, key: Ed25519PrivateKey) -> dict:
    """The envelope of ``document`` (which must have a known ``type``), signed by ``key``."""
    if document.get("type") not in TYPES:
        raise ValueError(f"a signed document's type is one of {', '.join(TYPES)}")
    return signed_payload(canonical.dumps(document), key)


def signed_payload(payload: str, key: Ed25519PrivateKey) -> dict:
    """The envelope of a payload text already canonical (Ed25519 is deterministic: same key, same bytes)."""
    signature = key.sign(payload.encode("utf-8"))
    return envelope(payload, keys.b64url(signature), keys.key_id(keys.raw_public(key)))


def envelope(payload: str, sig: str, kid: str) -> dict:
    """An envelope from its three parts, e.g. a signature kept from an earlier signing."""
    return {"payload": payload, "sig": sig, "kid": kid}


@dataclass(frozen=True)
class Opened:
    """An envelope whose shape is right, its payload parsed but not yet verified."""

    payload: str
    document: dict
    signature: bytes
    kid: str


def open_envelope(value: object, types: tuple[str, ...]) -> Opened:
    """Read an envelope's parts and its payload, whose ``type`` must be one of ``types``; Rejected (malformed) otherwise.

    Nothing here is trusted yet: :func:`check_signature` comes next.
    """
    if not isinstance(value, dict) or set(value) != {"payload", "sig", "kid"}:
        raise Rejected(MALFORMED, "an envelope has exactly payload, sig and kid")
    payload, sig, kid = value["payload"], value["sig"], value["kid"]
    if not all(isinstance(part, str) for part in (payload, sig, kid)):
        raise Rejected(MALFORMED, "an envelope's parts are strings")
    try:
        signature = keys.b64url_decode(sig)
        document = canonical.loads(payload)
    except ValueError as e:
        raise Rejected(MALFORMED, str(e)) from e
    if len(signature) != SIGNATURE_BYTES:
        raise Rejected(MALFORMED, "an Ed25519 signature is 64 bytes")
    if not isinstance(document, dict) or document.get("type") not in types:
        raise Rejected(MALFORMED, f"expected a document of type {' or '.join(types)}")
    if document.get("v") != 1 or isinstance(document.get("v"), bool):  # true == 1 in Python, not in JSON
        raise Rejected(MALFORMED, "unknown version")
    return Opened(payload, document, signature, kid)


def check_signature(opened: Opened, public: Ed25519PublicKey) -> dict:
    """The document when ``public`` signed the payload's exact bytes; Rejected (bad-signature) otherwise."""
    try:
        public.verify(opened.signature, opened.payload.encode("utf-8"))
    except InvalidSignature as e:
        raise Rejected(BAD_SIGNATURE, f"the signature by {opened.kid} does not match the payload") from e
    return opened.document
