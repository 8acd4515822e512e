"""The signed list of mirrors: ``/mirrors.json``, and the envelope the sync index carries.

The operator lists copies of the site in ``BULLETIN_MIRRORS``; devices learn
them from a document the online key signs, ``{"type": "mirrors", "v": 1,
"seq", "signed_at", "mirrors": [...]}``, so that a censor can neither
inject a list nor replay an old one: a device takes a list only when its
``seq`` is above the one it holds. No expiry: a shutdown can last weeks.

``seq`` must rise whenever the list changes and never go back, in every
worker process, across restarts and across restores. So the list's position
is kept in ``meta`` (key ``mirrors``): the SHA-256 of the list, the epoch
number it was issued in, its ``seq`` and ``signed_at``. A list that differs
from the kept one, or one kept in another epoch (a restore brings back an
older ``meta``), gets a new position: ``seq`` is the larger of the kept one
plus one and the clock's seconds, so it is above every ``seq`` issued
before, even one a restored database forgot. Every process then serves the
same bytes (Ed25519 is deterministic), which the sync index needs.

This write is not a statement change and does not go through
``authoring.changes``: it stores no content, nothing readers see but the
list the operator configured, audits and syncs nothing, and could be made
again at any time. Like a kept signature it is work remembered, with one
promise more (the number never goes back), which is why it is made in one
write transaction that reads the row again first. A busy database is
waited for a tenth of a second at most, a read-only one not at all: the
position is then kept by this process alone (logged) and written by a
later request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3

from flask import Blueprint, Response, current_app, request

from bulletin.http.database import get_db
from bulletin.http.errors import ApiError, handle_api_error
from bulletin.signing import canonical, envelopes, times
from bulletin.site import signatures
from bulletin.statements import clock, epochs
from bulletin.statements.db import busy_timeout, transaction

log = logging.getLogger(__name__)

bp = Blueprint("mirrors", __name__)

TYPE = "mirrors"
META_KEY = "mirrors"
EXTENSION = "bulletin_mirrors"  # positions this process issued but could not write yet
# Long enough for another process issuing the same position to commit it (then it is read and served
# alike), short enough that a request never waits long for a save holding the lock.
WAIT_SECONDS = 0.1
# Any mirror, export or another origin's worker may read it: it is public and signed.
OPEN_HEADERS = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}


def configured() -> list[str]:
    """The mirrors' base URLs as configured (``BULLETIN_MIRRORS``, validated at start-up)."""
    return list(current_app.config.get("MIRRORS") or ())


def _digest(mirrors: list[str]) -> str:
    return hashlib.sha256(canonical.dumps(mirrors).encode("utf-8")).hexdigest()


def _kept(db: sqlite3.Connection) -> dict | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    if row is None:
        return None
    try:
        kept = json.loads(row[0])
        if (
            isinstance(kept, dict)
            and isinstance(kept.get("seq"), int)
            and isinstance(kept.get("signed_at"), str)
        ):
            return kept
    except ValueError:
        pass
    log.warning("the kept position of the mirror list is unreadable: a new one is issued")
    return None


def _issued(kept: dict | None, digest: str, epoch: int) -> dict:
    """The position of the list ``digest`` in ``epoch``: the kept one when it is that list's, else a new one."""
    if kept is not None and kept.get("digest") == digest and kept.get("epoch") == epoch:
        return kept
    now = clock.now()
    seq = max((kept or {}).get("seq", 0) + 1, int(now.timestamp()))
    return {"digest": digest, "epoch": epoch, "seq": seq, "signed_at": times.instant(now)}


def position(db: sqlite3.Connection, mirrors: list[str]) -> tuple[int, str]:
    """``(seq, signed_at)`` of the list ``mirrors``: the same in every process while the list stands,
    higher as soon as it changes (kept in ``meta``; see the module's docstring)."""
    digest, epoch = _digest(mirrors), epochs.number(db)
    kept = _kept(db)
    if kept is not None and kept.get("digest") == digest and kept.get("epoch") == epoch:
        return kept["seq"], kept["signed_at"]
    waiting = current_app.extensions.setdefault(EXTENSION, {})
    mine = waiting.get((digest, epoch))
    if mine is not None and mine["seq"] <= (kept or {}).get("seq", -1):
        mine = None  # another process issued a later position meanwhile: this one is behind it
    try:
        with busy_timeout(db, WAIT_SECONDS), transaction(db):
            again = _kept(db)  # read inside the write lock: no other process issues one meanwhile
            chosen = mine if mine is not None and mine["seq"] > (again or {}).get("seq", -1) else None
            chosen = chosen or _issued(again, digest, epoch)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (META_KEY, json.dumps(chosen, sort_keys=True)),
            )
        waiting.pop((digest, epoch), None)
    except sqlite3.OperationalError as e:
        chosen = mine or _issued(kept, digest, epoch)
        waiting[(digest, epoch)] = chosen
        log.info("the mirror list's position was not kept (%s): this process keeps it until it is", e)
    return chosen["seq"], chosen["signed_at"]


def document(db: sqlite3.Connection) -> dict | None:
    """The list's document (not signed); None with no mirrors configured."""
    mirrors = configured()
    if not mirrors:
        return None
    seq, signed_at = position(db, mirrors)
    return {"type": TYPE, "v": 1, "seq": seq, "signed_at": signed_at, "mirrors": mirrors}


def signed_list(db: sqlite3.Connection) -> dict | None:
    """The envelope of the signed mirror list; None when no mirror is configured or no online key may sign."""
    current = signatures.signer()
    if current is None or not configured():
        return None
    return envelopes.sign(document(db), current.key)


def encode(envelope: dict) -> bytes:
    """The envelope's bytes as shipped: compact, its keys in the contract's order."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@bp.get("/mirrors.json")
def mirrors_json():
    """The signed list of mirrors, readable by any origin; 404 with no mirror or no key that may sign."""
    envelope = signed_list(get_db())
    if envelope is None:
        # Readable by other origins too: a device on a mirror tells "no list" from "blocked".
        response = handle_api_error(
            ApiError(404, "not_found", "this site lists no mirrors, or has no key that may sign them")
        )
        response.headers.update(OPEN_HEADERS)
        return response
    response = Response(encode(envelope), mimetype="application/json")
    response.headers.update(OPEN_HEADERS)
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['HTML_MAX_AGE']}"
    response.add_etag()
    return response.make_conditional(request)
