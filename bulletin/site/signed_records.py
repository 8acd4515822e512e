"""Each published or withdrawn statement's signed record, as the envelope devices store, kept whole.

The one place the sync files, the JSON API, the ``keys`` commands and
bundles get a statement's envelope from, so its payload bytes are the same
wherever it travels: the article is rendered in the statement's own
language with links relative to its page, nothing of the origin in it.

A record is made (rendered, signed) once per statement, change position and
epoch, and its envelope's bytes kept in the table ``signed_records``
(migration 0013) with what it stands for. Sync files are then assembled by
joining kept bytes — no rendering, no JSON parsing — and only records not
kept yet are made. A kept record stands while its position is the
statement's current one, its epoch number the database's, and its key may
sign; a revoked or expired key's record is signed again by the key that
signs now, its payload unchanged.

Like ``signatures`` and ``sync_digests`` the table is a cache of work, not
content (the same statement at the same position and epoch makes the same
payload; a change of what the article renders is recorded as a change, and
so a new position), which is why it is written here and not through
``authoring.changes``: nothing is audited or synced by it. A request never
waits for the write lock (a busy or read-only database still answers,
signed, and keeps the record next time); commands wait.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from bulletin.authoring import changes
from bulletin.signing import canonical, envelopes, keyring
from bulletin.site import records, render, signatures
from bulletin.statements import clock, epochs, store
from bulletin.statements.db import busy_timeout, read_snapshot, transaction
from bulletin.statements.records import Statement, stored_time

log = logging.getLogger(__name__)


class Unsigned(Exception):
    """No online key may sign now: there is no signed record to give."""


def record_of(db: sqlite3.Connection, statement: Statement) -> dict:
    """The record of a published or withdrawn statement, rendered as its page shows it."""
    if statement.is_withdrawn:
        return records.withdrawal_record(db, statement, str(render.withdrawal_notice_html(statement)))
    article = render.article_html(statement, store.translations_of(db, statement))
    return records.statement_record(db, statement, str(article))


def text(envelope: dict) -> str:
    """An envelope as shipped: compact JSON, its keys in their order, non-ASCII as itself."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class _Made:
    statement_id: str
    seq: int
    payload: str
    envelope: dict
    text: str
    fresh: bool  # signed now (not a kept signature)


def texts(
    db: sqlite3.Connection,
    wanted: list[tuple[str, int]] | Callable[[], list[tuple[str, int]]],
    load: Callable[[], Iterable[Statement]] | None = None,
    *,
    wait: bool = False,
) -> list[str]:
    """The envelope texts of the statements ``(id, change position)`` of ``wanted``, in its order.

    Kept records are taken as they are; the others are made (``load``
    gives the statements, else each is read by its id) and kept. ``wanted``
    may be a function reading the pairs from the database: then the pairs,
    the kept records and the statements are read as one state of it, so a
    change committed meanwhile is in all of them or in none. ``wait``: wait
    for the write lock (a command), else keep the records made only if the
    database takes them at once. Unsigned when no key may sign now.
    """
    return _texts(db, wanted, load, wait=wait)[0]


def make_missing(db: sqlite3.Connection, statements: list[Statement]) -> int:
    """Make and keep (waiting for the write lock) the current records of ``statements`` not kept yet, or
    kept signed by a key that may no longer sign; how many were signed now."""
    if not statements:
        return 0
    wanted = [(s.id, s.change_seq or 0) for s in statements]
    return _texts(db, wanted, lambda: statements, wait=True)[1]


def _texts(db, wanted, load, *, wait: bool) -> tuple[list[str], int]:
    current = signatures.signer()
    if current is None:
        raise Unsigned("no online key may sign")
    # Pairs read from the database are read with the rows and statements in one snapshot (a caller's
    # own pairs need none: a statement read newer than its pair is made as it is now). What was made
    # is kept after the snapshot, since a read transaction that writes fails once another connection
    # has committed.
    with read_snapshot(db) if callable(wanted) else contextlib.nullcontext():
        pairs = wanted() if callable(wanted) else wanted
        epoch = epochs.number(db)
        found, made = _gathered(db, pairs, load, epoch, current)
    if made:
        _keep(db, epoch, made, wait=wait)
        found.update((m.statement_id, m.text) for m in made)
    absent = [statement_id for statement_id, _ in pairs if statement_id not in found]
    if absent:
        raise LookupError(f"no published or withdrawn statement {absent[0]}")
    return [found[statement_id] for statement_id, _ in pairs], sum(m.fresh for m in made)


def _gathered(db, pairs, load, epoch: int, current: keyring.Signer) -> tuple[dict[str, str], list[_Made]]:
    """The kept texts that stand, by statement id, and the records made now for the others."""
    kept = _kept(db, [statement_id for statement_id, _ in pairs])
    found: dict[str, str] = {}
    made: list[_Made] = []
    missing: set[str] = set()
    for statement_id, seq in pairs:
        row = kept.get(statement_id)
        if row is None or row[0] != seq or row[1] != epoch:
            missing.add(statement_id)
        elif row[2] in current.valid:
            found[statement_id] = row[3]
        else:  # its key may no longer sign: the same payload, signed now
            made.append(_signed(db, statement_id, seq, json.loads(row[3])["payload"], current))
    if missing:
        statements = list(load()) if load is not None else [store.get_by_id(db, i) for i in missing]
        for statement in statements:
            if statement is not None and statement.id in missing:
                payload = canonical.dumps(record_of(db, statement))
                made.append(_signed(db, statement.id, statement.change_seq or 0, payload, current))
    return found, made


def envelope(db: sqlite3.Connection, statement: Statement) -> dict | None:
    """The envelope of the statement's current record (``{"payload", "sig", "kid"}``), signed by a key that
    may sign now; None when the site has no such key. Bundles take their records from here."""
    try:
        found = texts(db, [(statement.id, statement.change_seq or 0)], lambda: [statement])
    except Unsigned:
        return None
    return json.loads(found[0])


def _kept(db: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[int, int, str, str]]:
    """Kept rows by statement id: (change position, epoch number, key id, envelope text)."""
    try:
        rows = db.execute(
            "SELECT statement_id, change_seq, epoch, kid, envelope FROM signed_records"
            " WHERE statement_id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        ).fetchall()
    except sqlite3.OperationalError as e:  # a database not migrated yet
        log.info("kept signed records could not be read (%s); they are made", e)
        return {}
    return {row[0]: tuple(row[1:]) for row in rows}


def _signed(
    db: sqlite3.Connection, statement_id: str, seq: int, payload: str, current: keyring.Signer
) -> _Made:
    found = signatures.kept_signature(db, payload, current.valid)
    made = found or envelopes.signed_payload(payload, current.key)
    return _Made(statement_id, seq, payload, made, text(made), found is None)


def _keep(db: sqlite3.Connection, epoch: int, made: list[_Made], *, wait: bool) -> None:
    """Keep made records (and their signatures) in one transaction; a row never goes back to an older
    position or epoch, whichever process writes last."""
    stamp = stored_time(clock.now())
    try:
        with contextlib.ExitStack() as stack:
            if not wait:
                stack.enter_context(busy_timeout(db, 0))
            stack.enter_context(transaction(db))
            db.executemany(
                "INSERT INTO signed_records (statement_id, change_seq, epoch, kid, envelope, made_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (statement_id) DO UPDATE SET"
                " change_seq = excluded.change_seq, epoch = excluded.epoch, kid = excluded.kid,"
                " envelope = excluded.envelope, made_at = excluded.made_at"
                " WHERE excluded.epoch > signed_records.epoch OR (excluded.epoch = signed_records.epoch"
                " AND excluded.change_seq >= signed_records.change_seq)",
                [(m.statement_id, m.seq, epoch, m.envelope["kid"], m.text, stamp) for m in made],
            )
            signatures.keep_in(db, [(m.payload, m.envelope, m.statement_id) for m in made], stamp)
    except sqlite3.OperationalError as e:
        if wait:
            raise
        log.info("%d signed record(s) were not kept (%s); they are made again next time", len(made), e)


def kept_size(db: sqlite3.Connection, valid: frozenset[str], wanted: list[tuple[str, int]]) -> int | None:
    """The bytes of the records of ``wanted`` (``(id, change position)``) as a bundle's data block holds
    them (each ``<`` written as six bytes), counted from kept records without parsing one; None unless
    every one is kept at that position, in this epoch, signed by a key in ``valid``."""
    if not wanted:
        return 0
    count, size = db.execute(
        "SELECT count(*), coalesce(sum(length(CAST(r.envelope AS BLOB))"
        " + 5 * (length(r.envelope) - length(replace(r.envelope, '<', '')))), 0)"
        " FROM json_each(?1) AS w JOIN signed_records AS r ON r.statement_id = w.value ->> 0"
        " AND r.change_seq = w.value ->> 1 AND r.epoch = ?2 AND r.kid IN (SELECT value FROM json_each(?3))",
        (json.dumps(wanted), epochs.number(db), json.dumps(sorted(valid))),
    ).fetchone()
    return size if count == len(wanted) else None


def records_file(texts_in_order: list[str]) -> bytes:
    """A snapshot's or chunk's bytes: ``{"records":[<envelope>,...]}`` joined from envelope texts."""
    return ('{"records":[' + ",".join(texts_in_order) + "]}").encode("utf-8")


# ------------------------------------------------------------------ a deploy that renders articles anew

ARTICLE_BUILD = "article_build"  # meta key: the digest of what articles were last rendered with
_RENDERING_CODE = (records.__file__, render.__file__, __file__)


def article_build() -> str:
    """A digest of everything a record's ``article_html`` is rendered from besides the database: the
    templates, the translation catalogs, the code that renders records, the time zone dates are shown in."""
    templates = Path(current_app.root_path) / (current_app.template_folder or "templates")
    catalogs = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    files = sorted(templates.rglob("*.html")) + sorted(catalogs.rglob("*.mo"))
    digest = hashlib.sha256(current_app.config["TIMEZONE"].encode("utf-8"))
    for path in [*files, *(Path(name) for name in _RENDERING_CODE)]:
        digest.update(b"\0" + path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()


def render_changed_articles(db: sqlite3.Connection, ctx) -> int | None:
    """After a deploy: when :func:`article_build` differs from the one recorded, record a change (through
    the write path) of every current statement whose kept record's ``article_html`` differs from what
    the app renders now, so each gets a new signed record at a new position; then record the build.

    None when the build did not change (nothing rendered). Statements with no kept record have nothing
    to compare: theirs is made from today's rendering when first asked for. Needs an app context.
    """
    build = article_build()
    row = db.execute("SELECT value FROM meta WHERE key = ?", (ARTICLE_BUILD,)).fetchone()
    if row is not None and row[0] == build:
        return None
    differ = []
    # Articles are rendered as a request for "/" renders them: their links are relative to the site.
    with current_app.test_request_context("/"):
        for status in ("published", "withdrawn"):
            for statement in store.list_by_status(db, status):
                kept = _kept_article(db, statement)
                if kept is not None and kept != record_of(db, statement)["article_html"]:
                    differ.append(statement.id)
    done = changes.rendered_anew(db, differ, ctx) if differ else 0
    with transaction(db):
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (ARTICLE_BUILD, build))
    return done


def _kept_article(db: sqlite3.Connection, statement: Statement) -> str | None:
    """The ``article_html`` of the statement's kept record at its current position and epoch, if any."""
    row = _kept(db, [statement.id]).get(statement.id)
    if row is None or row[0] != statement.change_seq or row[1] != epochs.number(db):
        return None
    return json.loads(json.loads(row[3])["payload"])["article_html"]
