"""Devices an editor has logged in from before, remembered by a signed cookie.

An attacker who keeps failing to log in to an account slows that account
down (see :mod:`bulletin.throttle`). So that this never locks the real
editor out, a device that has logged in to the account before is counted
under its own key instead: someone else's failures do not slow it down,
and its own failures still do. The cookie is signed with the app's secret
key, names the device by a random id and the account only by a hash.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "bulletin_device"
SECURE_COOKIE = "__Host-bulletin_device"
LIFETIME = 365 * 24 * 3600
SALT = "bulletin-editor-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _account_tag(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]


def _cookie_name() -> str:
    return SECURE_COOKIE if request.is_secure else COOKIE


def known_device(email: str) -> str | None:
    """The id of this request's device when it has logged in to ``email``'s account before."""
    value = request.cookies.get(_cookie_name())
    if not value:
        return None
    try:
        device_id, tag = _serializer().loads(value, max_age=LIFETIME)
    except (BadSignature, ValueError, TypeError):
        # Forged, expired or malformed: simply not a device known to have logged in.
        return None
    return device_id if secrets.compare_digest(tag, _account_tag(email)) else None


def remember(response: Response, email: str, device_id: str | None = None) -> str:
    """Mark the response's device as one that logged in to ``email``'s account; return its id."""
    device_id = device_id or secrets.token_urlsafe(16)
    response.set_cookie(
        _cookie_name(),
        _serializer().dumps([device_id, _account_tag(email)]),
        max_age=LIFETIME,
        path="/",
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return device_id
