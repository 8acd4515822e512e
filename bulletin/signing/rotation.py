"""Root rotation: the old root hands trust to a new one.

``{"type": "root", "v": 1, "kid", "public_key", "fingerprint", "previous",
"signed_at"}`` signed by the *old* root (``previous`` is its key id). A
device replaces its pinned root only with such a record signed by the root
it pins now, never because a new worker or ``/keys.json`` names another.
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bulletin.signing import envelopes, keys, times

TYPE = "root"


def rotate(old: Ed25519PrivateKey, new: Ed25519PublicKey, *, at: dt.datetime) -> dict:
    """The envelope of the ``root`` record naming ``new`` as the root, signed by ``old``."""
    old_kid = keys.key_id(keys.raw_public(old))
    if keys.key_id(keys.raw_public(new)) == old_kid:
        raise ValueError("the new root is the old one")
    document = {
        "type": TYPE,
        "v": 1,
        **keys.description(keys.raw_public(new)),
        "previous": old_kid,
        "signed_at": times.instant(at),
    }
    return envelopes.sign(document, old)
