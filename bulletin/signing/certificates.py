"""Certificates: the root's word that an online key may sign until a time.

``{"type": "certificate", "v": 1, "kid", "public_key", "fingerprint",
"issued", "expires", "root"}`` signed by the root (``root`` is its key id).
A device accepts a key only with such a certificate from the root it pins,
unrevoked and expiring after the device's trusted time (:mod:`verifier`).
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bulletin.signing import envelopes, keys, times

TYPE = "certificate"


def certify(
    root: Ed25519PrivateKey, online: Ed25519PublicKey, *, issued: dt.datetime, expires: dt.datetime
) -> dict:
    """The envelope of ``online``'s certificate, signed by ``root``, valid from ``issued`` until ``expires``."""
    if expires <= issued:
        raise ValueError("a certificate expires after it is issued")
    document = {
        "type": TYPE,
        "v": 1,
        **keys.description(keys.raw_public(online)),
        "issued": times.instant(issued),
        "expires": times.instant(expires),
        "root": keys.key_id(keys.raw_public(root)),
    }
    return envelopes.sign(document, root)
