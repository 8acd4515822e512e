"""Revocations: the root's word that an online key must no longer be trusted.

``{"type": "revocation", "v": 1, "kid", "revoked_at", "root"}`` signed by the
root. Devices accept one from any source and never forget it; records the
key signed are then re-signed by a valid key, unchanged.
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bulletin.signing import envelopes, keys, times

TYPE = "revocation"


def revoke(root: Ed25519PrivateKey, kid: str, *, at: dt.datetime) -> dict:
    """The envelope revoking the online key ``kid``, signed by ``root``."""
    document = {
        "type": TYPE,
        "v": 1,
        "kid": kid,
        "revoked_at": times.instant(at),
        "root": keys.key_id(keys.raw_public(root)),
    }
    return envelopes.sign(document, root)
