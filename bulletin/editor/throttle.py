"""Login attempts limited per account and per client, with growing delays.

A password, a second-factor code at login and a code at enrolment are each
one attempt, counted under the same keys (:func:`attempt_keys`), so a
right password does not buy an attacker fresh guesses at the code.

Each attempt is counted against its keys *before* the password is checked,
in one write transaction, so concurrent attempts cannot all slip through
while the first is still hashing. The first ``LOGIN_FREE_ATTEMPTS`` attempts
on a key are free; after that each one sets a wait that doubles, up to
``LOGIN_MAX_DELAY`` seconds, so a key is slowed down but never shut for good.
A key is forgotten a day after its last attempt, and at once after a
successful login.

The state lives in the database, so it holds across gunicorn's workers.
Keys are keyed hashes of the email or address, so the table is no record of
who tried to log in from where.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import sqlite3

from flask import current_app, request

from bulletin.editor import devices
from bulletin.i18n import gettext
from bulletin.statements import clock
from bulletin.statements.db import transaction

BASE_DELAY = 1.0  # seconds of the first wait; each later one doubles it
FORGET_AFTER = 24 * 3600

log = logging.getLogger(__name__)


def _keyed(kind: str, value: str) -> str:
    # Stored as a keyed hash: the table never holds who tried to log in from where.
    digest = hmac.new(current_app.secret_key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256)
    return f"{kind}:{digest.hexdigest()[:32]}"


def account_key(email: str) -> str:
    """The key of attempts on one account, whether or not it exists."""
    return _keyed("account", email.strip().lower()[:254])


def address_key(address: str | None) -> str:
    """The key of attempts from one client; IPv6 clients count by /64.

    One IPv6 client is usually given a whole /64, so counting single
    addresses would let it try once from each of billions.
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        # Not an IP address (a test client, a unix socket): counted under its text all the same.
        return _keyed("address", str(address))
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return _keyed("address", str(ipaddress.ip_network(f"{ip}/64", strict=False)))
    return _keyed("address", str(ip))


def device_key(device_id: str) -> str:
    """The key of attempts from a device that has logged in to the account before."""
    return "device:" + device_id


def attempt_keys(email: str) -> list[str]:
    """The keys of this request's attempt on ``email``: the known device's own, else account and address."""
    device = devices.known_device(email)
    if device:
        return [device_key(device)]
    return [account_key(email), address_key(request.remote_addr)]


def every_key(email: str) -> list[str]:
    """Every key an attempt on ``email`` from this request may have counted under (cleared after a login)."""
    return sorted(set(attempt_keys(email) + [account_key(email), address_key(request.remote_addr)]))


def attempt(db: sqlite3.Connection, keys: list[str]) -> int:
    """:func:`reserve` with the app's limits: 0 when the attempt may go ahead, else seconds to wait."""
    config = current_app.config
    return reserve(db, keys, free=config["LOGIN_FREE_ATTEMPTS"], max_delay=config["LOGIN_MAX_DELAY"])


def too_many(wait: int) -> str:
    """What a throttled editor reads."""
    return gettext("Too many attempts. Wait %(seconds)d seconds, then try again.", seconds=wait)


def wait_after(attempts: int, free: int, max_delay: float) -> float:
    """Seconds to wait after the ``attempts``-th attempt on a key (0 while still free)."""
    if attempts < free:
        return 0.0
    return min(float(max_delay), BASE_DELAY * 2 ** min(attempts - free, 40))


def reserve(db: sqlite3.Connection, keys: list[str], *, free: int, max_delay: float) -> int:
    """Count one attempt on every key; 0 when it may go ahead, else whole seconds to wait.

    A refused attempt is not counted, so hammering a blocked key does not
    lengthen its wait.
    """
    moment = clock.timestamp()
    with transaction(db):
        db.execute("DELETE FROM login_throttle WHERE last_at < ?", (moment - FORGET_AFTER,))
        marks = ",".join("?" * len(keys))
        rows = {
            row["key"]: row
            for row in db.execute(f"SELECT * FROM login_throttle WHERE key IN ({marks})", keys)
        }
        wait = max((row["blocked_until"] - moment for row in rows.values()), default=0.0)
        if wait > 0:
            blocked = sorted({_kind(key) for key, row in rows.items() if row["blocked_until"] > moment})
            log.info(
                "login attempt refused: %s blocked for %d s more", " and ".join(blocked), math.ceil(wait)
            )
            return max(1, math.ceil(wait))
        for key in keys:
            attempts = rows[key]["attempts"] + 1 if key in rows else 1
            delay = wait_after(attempts, free, max_delay)
            if delay:
                log.info("login attempt %d on one %s: the next waits %d s", attempts, _kind(key), delay)
            db.execute(
                "INSERT INTO login_throttle (key, attempts, blocked_until, last_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET attempts = excluded.attempts,"
                " blocked_until = excluded.blocked_until, last_at = excluded.last_at",
                (key, attempts, moment + delay if delay else 0.0, moment),
            )
    return 0


def _kind(key: str) -> str:
    # Only the kind of a key is logged ("account", "address", "device"): never whose it is.
    return key.split(":", 1)[0]


def forget(db: sqlite3.Connection, keys: list[str]) -> None:
    """Clear the keys after a successful login: the real editor starts again from zero."""
    with transaction(db):
        db.executemany("DELETE FROM login_throttle WHERE key = ?", [(key,) for key in keys])
