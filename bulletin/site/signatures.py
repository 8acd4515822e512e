"""Signing the site's records with the online key, and keeping the signatures.

A signature is kept by the SHA-256 of the payload it covers and the key that
made it (table ``signatures``, migration 0011), so a record is signed once,
not at every request, and every worker finds it. Ed25519 is deterministic:
signing the same payload with the same key again gives the same bytes, so
the table is a cache of work, not content. That is why it is written here
and not through ``authoring.changes``: no statement changes, nothing is
audited or synced, and a record whose signature cannot be kept (a busy or
read-only database) is still served, signed, and kept next time.

A kept signature stands only while its key may sign (certified by the
current root, unexpired, unrevoked): a revoked key's records are signed
again by a valid key, their payload unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

from flask import current_app

from bulletin.signing import canonical, envelopes, keyring, keys
from bulletin.statements import clock
from bulletin.statements.db import busy_timeout, transaction
from bulletin.statements.records import stored_time

log = logging.getLogger(__name__)

# How long a loaded signer is kept before the keyring is looked at again for expiry (its file's
# change is noticed at once).
RECHECK_SECONDS = 60


def keys_folder() -> Path:
    """Where the keyring and the online keys live (the instance folder unless configured)."""
    return Path(current_app.config["KEYS_DIR"])


def _stamp(path: str | Path | None) -> tuple | None:
    if not path:
        return None
    try:
        found = Path(path).stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)


def signer() -> keyring.Signer | None:
    """The online key that signs now, loaded once per change of the keyring (and once a minute)."""
    config = current_app.config
    folder = keys_folder()
    now = clock.now()
    stamp = (
        str(folder),
        _stamp(folder / keyring.KEYRING),
        config.get("SIGNING_KEY"),
        _stamp(config.get("SIGNING_KEY")),
        int(now.timestamp()) // RECHECK_SECONDS,
    )
    kept = current_app.extensions.setdefault("bulletin_signer", {})
    if kept.get("stamp") != stamp:
        try:
            found = keyring.signer(folder, now, config.get("SIGNING_KEY"))
        except (keyring.KeyringError, keys.KeyFileError) as e:
            # Served unsigned rather than not at all; the message names a file, never its bytes.
            log.warning("records are served unsigned: %s", e)
            found = None
        kept.clear()
        kept.update(stamp=stamp, signer=found)
    return kept["signer"]


def published_keys() -> dict:
    """The public keys as ``/keys.json`` serves them (the root, each online key with its certificate, every
    revocation and root record); the sync index carries the same object. KeyringError when unreadable."""
    return keyring.published(keyring.load(keys_folder()))


def digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def kept_signature(db: sqlite3.Connection, payload: str, valid: frozenset[str]) -> dict | None:
    """The envelope of ``payload`` from a kept signature by a key in ``valid``; None when there is none."""
    rows = db.execute("SELECT kid, sig FROM signatures WHERE digest = ?", (digest(payload),)).fetchall()
    for kid, sig in rows:
        if kid in valid:
            return envelopes.envelope(payload, sig, kid)
    return None


def signed(db: sqlite3.Connection, document: dict, statement_id: str) -> dict | None:
    """The envelope of ``document`` (a statement's record): a kept signature, else signed now and kept.

    None when the site has no online key that may sign.
    """
    current = signer()
    if current is None:
        return None
    payload = canonical.dumps(document)
    found = kept_signature(db, payload, current.valid)
    if found is not None:
        return found
    made = envelopes.signed_payload(payload, current.key)
    _keep(db, payload, made, statement_id)
    return made


def _keep(db: sqlite3.Connection, payload: str, made: dict, statement_id: str) -> None:
    """Keep a new signature if the database takes it at once; a request never waits for the write lock."""
    try:
        with busy_timeout(db, 0):
            keep_all(db, [(payload, made, statement_id)])
    except sqlite3.OperationalError as e:
        log.info("a signature of statement %s was not kept (%s); it is made again next time", statement_id, e)


def keep_all(db: sqlite3.Connection, signed_now: list[tuple[str, dict, str]]) -> None:
    """Keep (payload, envelope, statement id) signatures in one write transaction, waiting for the lock as
    the connection does (a command's batch; a request goes through :func:`signed`)."""
    with transaction(db):
        keep_in(db, signed_now, stored_time(clock.now()))


def keep_in(db: sqlite3.Connection, signed_now: list[tuple[str, dict, str]], stamp: str) -> None:
    """Keep (payload, envelope, statement id) signatures inside the caller's write transaction."""
    db.executemany(
        "INSERT OR IGNORE INTO signatures (digest, kid, sig, statement_id, signed_at) VALUES (?, ?, ?, ?, ?)",
        [(digest(payload), made["kid"], made["sig"], sid, stamp) for payload, made, sid in signed_now],
    )


def state(db: sqlite3.Connection) -> str:
    """What the keys were when a response was signed: an ETag part of every answer that carries signatures.

    Read from the database, so the hot path (which rereads ETag parts only
    when the database moved) notices a new key or a revocation.
    """
    row = db.execute("SELECT value FROM meta WHERE key = 'keyring'").fetchone()
    return row[0] if row else ""


def note_keys_changed(db: sqlite3.Connection) -> None:
    """Record that the keyring changed (a certificate, a revocation, a new root): answers carrying signatures
    are made again, signed by a key that may sign now."""
    path = keys_folder() / keyring.KEYRING
    try:
        value = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        value = ""
    with transaction(db):
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('keyring', ?)", (value,))
