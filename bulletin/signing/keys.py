"""Ed25519 keys: their ids, fingerprints, text forms and private key files.

A key is named by its raw 32-byte public key: the *key id* is the first 16
characters of base64url(SHA-256(raw public key)), the *fingerprint* the
first 20 bytes of that hash as ten groups of four hex digits, for people to
compare by eye. Private keys are files of their own (PKCS #8 PEM), created
with mode 0600 and never overwritten; nothing here ever puts private key
bytes anywhere else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PUBLIC_KEY_BYTES = 32
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class KeyFileError(ValueError):
    """A key file or a key's text form is unusable; the message says why."""


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``; ValueError for anything else (padding, other alphabets)."""
    if not isinstance(text, str) or not _BASE64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as e:
        raise ValueError("not unpadded base64url") from e
    if b64url(data) != text:  # stray bits in the last character: two texts for one key
        raise ValueError("not canonical base64url")
    return data


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a key's public half."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_raw(raw: bytes) -> Ed25519PublicKey:
    """The public key of 32 raw bytes; ValueError for anything else."""
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(raw: bytes) -> str:
    """The first 16 characters of base64url(SHA-256(raw public key))."""
    return b64url(hashlib.sha256(raw).digest())[:16]


def fingerprint(raw: bytes) -> str:
    """The first 20 bytes of SHA-256(raw public key) as ten space-separated groups of four hex digits."""
    digits = hashlib.sha256(raw).hexdigest()[:40]
    return " ".join(digits[i : i + 4] for i in range(0, 40, 4))


def description(raw: bytes) -> dict:
    """``{"kid", "public_key", "fingerprint"}``: how a public key is named in every document and listing."""
    return {"kid": key_id(raw), "public_key": b64url(raw), "fingerprint": fingerprint(raw)}


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def write_private(path: str | Path, key: Ed25519PrivateKey) -> None:
    """Write ``key`` to a new file at ``path``, readable by its owner only; FileExistsError when it exists.

    Created with O_EXCL and mode 0600 at once, so there is no moment when
    another user could read it and no way to replace a key already there.
    """
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        os.write(descriptor, pem)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_private(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the file at ``path``; KeyFileError saying why when it cannot be read."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise KeyFileError(f"cannot read the key file {path}: {e.strerror or e}") from e
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        # Never the file's bytes in the message: they may be a key of another kind.
        raise KeyFileError(f"{path} is not an unencrypted PEM private key") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a key that is not Ed25519")
    return key
