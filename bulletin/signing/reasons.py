"""Why a signed document was refused: the reason codes devices count and report."""

from __future__ import annotations

BAD_SIGNATURE = "bad-signature"  # the signature does not match the payload's bytes
UNKNOWN_KEY = "unknown-key"  # no certificate from the pinned root names the key
EXPIRED_KEY = "expired-key"  # the key's certificate expired before the device's trusted time
REVOKED_KEY = "revoked-key"  # the root revoked the key
HASH_MISMATCH = "hash-mismatch"  # a file's bytes are not the ones its index names
MALFORMED = "malformed"  # not an envelope, not canonical JSON, missing fields, the wrong type
ROLLBACK = "rollback"  # older than what the device already verified

CODES = (BAD_SIGNATURE, UNKNOWN_KEY, EXPIRED_KEY, REVOKED_KEY, HASH_MISMATCH, MALFORMED, ROLLBACK)


class Rejected(ValueError):
    """A signed document a device must not store: ``reason`` is one of :data:`CODES`."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
