"""Sync as files: ``/sync/index.json`` and the immutable files it names.

Beside ``/api/sync``, a device (or a mirror, or an export) can sync from
plain files that any static host serves. Everything here is a function of
the database's state, the keys and the hour alone, so the publisher's
incrementally kept folder equals a full rebuild file for file, and the
files are the same bytes at the origin, in an export under any path and on
a mirror:

* a **chunk** is ``{"records": [<envelope>, ...]}``: the signed records
  (each the envelope alone, ``{"payload","sig","kid"}``, as
  :mod:`bulletin.site.signed_records` makes it) of the statements whose
  *latest* change falls in its range of positions, oldest change first: a
  finished hundred ``(100k, 100k + 100]``, or in the unfinished newest
  hundred a finished ten or a single position (so at most 100 records). A
  change moves a statement to the newest chunk and rewrites the chunk it
  left; a range left empty has no file. So a withdrawn body is in no file:
  its statement's record is now the withdrawal, in the newest chunk;
* the **snapshot**, shaped alike, holds the newest ``BULLETIN_OFFLINE_KEEP``
  published statements as of the index's ``seq``: a new device needs it and
  nothing older;
* the **index** is itself an envelope, signed by the online key, whose
  payload is ``{"type": "sync-index", "v": 1, "db", "epoch" (the rising
  number), "seq", "signed_at", "keys" (what ``/keys.json`` serves),
  "mirrors", "snapshot", "chunks", "older"}``. It lists the chunks from a
  recent bound on (a multiple of 1,000 positions, between 1,000 and 2,000
  behind ``seq``) and names ``older``, a file listing the chunks before it,
  so the index stays a few kilobytes however long the history.
  ``signed_at`` is the later of the latest change's time and the start of
  the current UTC hour: every process signs the same bytes within an hour,
  and ``publish-due`` re-signs the published index once an hour has passed.

A site with no online key that may sign serves none of them (404): devices
then sync by ``/api/sync``.

Snapshot, chunk and ``older`` files are named by their content's SHA-256
(immutable, cached for a year); the index lives a short time. Rendering a
chunk costs a hundred records, so a file's name, digest and size are kept
by the SHA-256 of what decides its bytes (the context: build, time zone,
signing state, epoch; and the range with the ``(id, change_seq)`` pairs in
it): per app in memory, and across restarts in the table ``sync_digests``
(migration 0012). After a change only the chunks that change touched are
rendered again, and after a restart none that did not change.

The table is a cache of work, not content (a key always names the same
bytes), so it is written here and not through ``authoring.changes``: rows
are kept when the database takes them at once (a busy or read-only
database still answers, rendering what it cannot find), and each write
prunes what no index can name again: rows of other epochs (epochs never
come back), of builds and signing states older than the previous one, and
rows of the same context that its current index no longer names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app

from bulletin.assets import bundles
from bulletin.http.caching import cached_response, public_cache_control
from bulletin.http.database import get_db
from bulletin.http.errors import ApiError
from bulletin.signing import envelopes, times
from bulletin.site import mirrors, signatures, signed_records
from bulletin.statements import clock, epochs, store
from bulletin.statements.db import busy_timeout, transaction
from bulletin.statements.records import stored_time

log = logging.getLogger(__name__)

bp = Blueprint("sync_files", __name__, url_prefix="/sync")

CHUNK_SPAN = 100  # change positions per chunk, hence at most 100 records in one
TAIL_SPAN = 10  # the newest hundred's finished tens (see _chunk_ranges)
RECENT_STEP = 1_000  # the index lists chunks from a multiple of this on, 1,000 to 2,000 positions back
IMMUTABLE = "public, max-age=31536000, immutable"
# Every mirror, export and device of another origin may read them.
OPEN_HEADERS = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}
_NAME = re.compile(r"^(snapshot|chunk|older)-[0-9a-f]{20}\.json$")
# Digests of rendered chunks and snapshots, by what decides their bytes.
# An entry is a few hundred bytes: ten thousand cover a million statements.
_KEPT_DIGESTS = 10_000
_KEPT_INDEXES = 4
# A change makes two or three files (the chunk it left, its new position's, the snapshot), which the
# publisher then asks for: their bytes stay with the index rather than being rendered again. Not after
# a restart with nothing kept, when every file is made.
_KEEP_MADE_BYTES = 8
EXTENSION = "bulletin_sync_files"


@dataclass(frozen=True)
class File:
    """One immutable file the index names: where it is, its digest and size, and how to make it again."""

    path: str
    sha256: str
    size: int
    kind: str
    low: int = 0  # a chunk's range (low, high]
    high: int = 0
    data: bytes | None = field(default=None, repr=False)  # kept for ``older`` and files a change just made


@dataclass(frozen=True)
class Index:
    """The index of one database state and the files it names, by path."""

    body: bytes
    files: dict[str, File]


def encode(value: object) -> bytes:
    """The bytes of a file: compact UTF-8 JSON, keys in the order written (so equal states give equal bytes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _file(kind: str, content: bytes, **extra) -> File:
    digest = hashlib.sha256(content).hexdigest()
    return File(f"{kind}-{digest[:20]}.json", digest, len(content), kind, **extra)


def _context(db: sqlite3.Connection) -> tuple:
    """Everything besides the database rows that a record's bytes depend on.

    Never the site's address, mount prefix or the reader's interface language:
    a record is the envelope alone, its article in the statement's own language
    with relative links, so the files are the same bytes at any origin.
    """
    return (
        bundles.built(current_app).build_id,
        current_app.config["TIMEZONE"],
        _signing(db),  # a new key or a revocation re-signs every record
        epochs.current(db),  # last: the index names it
    )


def _signing(db: sqlite3.Connection) -> str:
    """The signing state records are made in: the keyring's state, the key that signs, the keys that stand."""
    current = signatures.signer()
    if current is None:
        return f"{signatures.state(db)}:unsigned"
    return f"{signatures.state(db)}:{current.kid}:{','.join(sorted(current.valid))}"


def _hash(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode("utf-8")).hexdigest()


def _chunk_pairs(db: sqlite3.Connection, low: int, high: int) -> list[tuple[str, int]]:
    # From the (change_seq, id) index alone: no statement row is read.
    return db.execute(
        "SELECT id, change_seq FROM statements WHERE change_seq > ? AND change_seq <= ? ORDER BY change_seq",
        (low, high),
    ).fetchall()


def chunk_bytes(db: sqlite3.Connection, low: int, high: int) -> bytes:
    """The chunk of the statements whose latest change lies in ``(low, high]``, oldest change first:
    joined from their kept signed records, the missing ones made (Unsigned when no key may sign)."""
    found = signed_records.texts(
        db,
        lambda: _chunk_pairs(db, low, high),
        lambda: [s for s in store.changed_since(db, low, limit=CHUNK_SPAN) if s.change_seq <= high],
    )
    return signed_records.records_file(found)


def snapshot_bytes(db: sqlite3.Connection) -> bytes:
    """The snapshot: the newest ``BULLETIN_OFFLINE_KEEP`` published statements' records, newest first."""
    keep = current_app.config["OFFLINE_KEEP"]

    def pairs() -> list[tuple[str, int]]:
        split = (pair.rsplit(":", 1) for pair in _snapshot_pairs(db, keep).split(",") if pair)
        return [(statement_id, int(seq)) for statement_id, seq in split]

    found = signed_records.texts(db, pairs, lambda: store.list_published(db, limit=keep))
    return signed_records.records_file(found)


def chunk_records(db: sqlite3.Connection, low: int, high: int) -> list[dict]:
    """The envelopes of a chunk (see :func:`chunk_bytes`)."""
    return json.loads(chunk_bytes(db, low, high))["records"]


def snapshot_records(db: sqlite3.Connection) -> list[dict]:
    """The envelopes of the snapshot (see :func:`snapshot_bytes`)."""
    return json.loads(snapshot_bytes(db))["records"]


def signed_at(db: sqlite3.Connection) -> str:
    """The index's ``signed_at``: the later of the latest change's time and the start of the current UTC
    hour, so every process signs the same bytes within an hour and a new hour signs anew."""
    hour = times.instant(clock.now().replace(minute=0, second=0))
    row = db.execute("SELECT at FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    # Both are instants written alike (YYYY-MM-DDTHH:MM:SSZ): text order is time order.
    return max(hour, row[0]) if row and row[0] else hour


class _Kept:
    """Per app: files by the key of what decides their bytes, and the last few indexes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.digests: OrderedDict[str, File] = OrderedDict()
        self.indexes: OrderedDict[tuple, Index] = OrderedDict()

    def found(self, keys: list[str]) -> dict[str, File]:
        """The files kept in memory under any of ``keys``."""
        with self.lock:
            found = {key: self.digests[key] for key in keys if key in self.digests}
            for key in found:
                self.digests.move_to_end(key)
        return found

    def keep(self, files: dict[str, File]) -> None:
        with self.lock:
            self.digests.update(files)
            while len(self.digests) > _KEPT_DIGESTS:
                self.digests.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.digests.clear()
            self.indexes.clear()


def _kept() -> _Kept:
    return current_app.extensions.setdefault(EXTENSION, _Kept())


def _chunk_ranges(db: sqlite3.Connection, seq: int) -> list[tuple[int, int, str]]:
    """Each non-empty chunk's range ``(low, high]`` and the ``(id, change_seq)`` pairs in it, oldest first.

    Finished hundreds are one chunk each. In the unfinished newest hundred,
    finished tens are one chunk each and the rest one position each, so a
    device one change behind downloads one record, not up to a hundred; the
    small chunks merge as their ten, then their hundred, fills up. One scan
    of the ``change_seq`` index lists every range's pairs (only published
    and withdrawn statements have a position).
    """
    unfinished = seq // CHUNK_SPAN * CHUNK_SPAN if seq % CHUNK_SPAN else seq
    rows = db.execute(
        "SELECT k, group_concat(pair) FROM"
        f" (SELECT (change_seq - 1) / {CHUNK_SPAN} AS k, id || ':' || change_seq AS pair FROM statements"
        "  WHERE change_seq IS NOT NULL AND change_seq <= ? ORDER BY change_seq)"
        " GROUP BY k ORDER BY k",
        (unfinished,),
    )
    ranges = [(k * CHUNK_SPAN, k * CHUNK_SPAN + CHUNK_SPAN, pairs) for k, pairs in rows]
    newest: dict[tuple[int, int], list[str]] = {}
    for statement_id, position in db.execute(
        "SELECT id, change_seq FROM statements WHERE change_seq > ? ORDER BY change_seq", (unfinished,)
    ):
        ten = unfinished + (position - 1 - unfinished) // TAIL_SPAN * TAIL_SPAN
        key = (ten, ten + TAIL_SPAN) if ten + TAIL_SPAN <= seq else (position - 1, position)
        newest.setdefault(key, []).append(f"{statement_id}:{position}")
    return ranges + [(a, b, ",".join(found)) for (a, b), found in newest.items()]


def _snapshot_pairs(db: sqlite3.Connection, keep: int) -> str:
    # The newest statements, in order, and their positions decide the snapshot's bytes.
    row = db.execute(
        "SELECT group_concat(pair) FROM (SELECT id || ':' || change_seq AS pair FROM statements"
        " WHERE status = 'published' ORDER BY published DESC, rowid DESC LIMIT ?)",
        (keep,),
    ).fetchone()
    return row[0] or ""


def build_index(db: sqlite3.Connection) -> Index | None:
    """The signed index and its files for the database's current state (rendering only files not kept
    before); None when no online key may sign."""
    if signatures.signer() is None:
        return None
    context = _context(db)
    seq = store.latest_change_seq(db)
    key = (*context, seq, current_app.config["OFFLINE_KEEP"], signed_at(db))
    kept = _kept()
    with kept.lock:
        if key in kept.indexes:
            return kept.indexes[key]
    try:
        index = _build(db, context, seq, kept, key[-1])
    except signed_records.Unsigned:
        return None
    with kept.lock:
        kept.indexes[key] = index
        while len(kept.indexes) > _KEPT_INDEXES:
            kept.indexes.popitem(last=False)
    return index


@dataclass(frozen=True)
class _Wanted:
    """A file the index names: its key (the digest of what decides its bytes), kind and range."""

    key: str
    kind: str
    low: int = 0
    high: int = 0

    def render(self, db: sqlite3.Connection) -> File:
        """The file made now, its bytes kept with it (see :data:`_KEEP_MADE_BYTES`)."""
        if self.kind == "snapshot":
            content = snapshot_bytes(db)
            return _file("snapshot", content, data=content)
        content = chunk_bytes(db, self.low, self.high)
        return _file("chunk", content, low=self.low, high=self.high, data=content)


def _build(db: sqlite3.Connection, context: tuple, seq: int, kept: _Kept, signed: str) -> Index:
    keep = current_app.config["OFFLINE_KEEP"]
    wanted = [
        _Wanted(_hash(*context, "snapshot", keep, _snapshot_pairs(db, keep)), "snapshot"),
        *(
            _Wanted(_hash(*context, "chunk", low, high, pairs), "chunk", low, high)
            for low, high, pairs in _chunk_ranges(db, seq)
        ),
    ]
    found = kept.found([w.key for w in wanted])
    missing = [w for w in wanted if w.key not in found]
    if missing:
        found.update(_stored(db, missing))
    made = {w.key: w.render(db) for w in wanted if w.key not in found}
    bare = {key: dataclasses.replace(f, data=None) for key, f in made.items()}
    kept.keep({**found, **bare})
    if made:
        _store(db, context, bare, [w.key for w in wanted])
    if len(made) > _KEEP_MADE_BYTES:
        made = bare
    files_in_order = [found.get(w.key) or made[w.key] for w in wanted]
    snapshot, chunks = files_in_order[0], files_in_order[1:]
    bound = max(0, (seq // RECENT_STEP - 1) * RECENT_STEP)
    older_list = encode({"chunks": [_entry(c) for c in chunks if c.high <= bound]})
    older = _file("older", older_list, data=older_list)
    recent = [c for c in chunks if c.low >= bound]
    document = {
        "type": "sync-index",
        "v": 1,
        "db": store.database_id(db),
        "epoch": epochs.number(db),
        "seq": seq,
        "signed_at": signed,
        "keys": signatures.published_keys(),
        "mirrors": mirrors.signed_list(db),
        "snapshot": {"path": snapshot.path, "sha256": snapshot.sha256, "size": snapshot.size, "seq": seq},
        "chunks": [_entry(c) for c in recent],
        "older": {"path": older.path, "sha256": older.sha256, "to": bound},
    }
    current = signatures.signer()
    if current is None:
        raise signed_records.Unsigned("no online key may sign")
    body = encode(envelopes.sign(document, current.key))
    files = {f.path: f for f in (snapshot, older, *chunks)}
    return Index(body, files)


def _stored(db: sqlite3.Connection, wanted: list[_Wanted]) -> dict[str, File]:
    """The files kept in ``sync_digests`` under the keys of ``wanted`` (none when it cannot be read)."""
    by_key = {w.key: w for w in wanted}
    try:
        rows = db.execute(
            "SELECT key, name, sha256, size FROM sync_digests WHERE key IN (SELECT value FROM json_each(?))",
            (json.dumps(list(by_key)),),
        ).fetchall()
    except sqlite3.OperationalError as e:  # a database not migrated yet
        log.info("kept sync digests could not be read (%s); the files are rendered", e)
        return {}
    return {
        key: File(name, sha256, size, by_key[key].kind, by_key[key].low, by_key[key].high)
        for key, name, sha256, size in rows
    }


def _store(db: sqlite3.Connection, context: tuple, made: dict[str, File], current: list[str]) -> None:
    """Keep the files just rendered and prune what no index can name again, if the database takes it at
    once: a request never waits for the write lock, and a read-only database answers all the same."""
    epoch = context[-1] or ""
    variant = _hash(*context)
    generation = _hash(context[0], context[2])  # the build and the signing state
    stamp = stored_time(clock.now())
    try:
        with busy_timeout(db, 0), transaction(db):
            db.executemany(
                "INSERT OR REPLACE INTO sync_digests"
                " (key, variant, generation, epoch, name, sha256, size, kept_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (key, variant, generation, epoch, f.path, f.sha256, f.size, stamp)
                    for key, f in made.items()
                ],
            )
            db.execute("DELETE FROM sync_digests WHERE epoch != ?", (epoch,))
            db.execute(
                "DELETE FROM sync_digests WHERE variant = ? AND key NOT IN (SELECT value FROM json_each(?))",
                (variant, json.dumps(current)),
            )
            # This generation and the one before it (workers of a deploy, or of a new key, not yet
            # all restarted): older ones are gone for good.
            db.execute(
                "DELETE FROM sync_digests WHERE generation NOT IN (?1, coalesce((SELECT generation"
                " FROM sync_digests WHERE generation != ?1 GROUP BY generation ORDER BY max(kept_at) DESC"
                " LIMIT 1), ''))",
                (generation,),
            )
    except sqlite3.OperationalError as e:
        log.info("sync digests were not kept (%s); they are rendered again after a restart", e)


def _entry(chunk: File) -> dict:
    return {
        "path": chunk.path,
        "sha256": chunk.sha256,
        "size": chunk.size,
        "from": chunk.low,
        "to": chunk.high,
    }


def file_bytes(db: sqlite3.Connection, found: File) -> bytes:
    """The bytes of a file the current index names (the digest it is named by)."""
    if found.data is not None:
        return found.data
    if found.kind == "snapshot":
        return snapshot_bytes(db)
    return chunk_bytes(db, found.low, found.high)


def _open(response: Response) -> Response:
    response.headers.update(OPEN_HEADERS)
    return response


def _current_index(db: sqlite3.Connection) -> Index:
    found = build_index(db)
    if found is None:
        raise ApiError(404, "not_found", "this site signs no sync files now: sync by /api/sync")
    return found


@bp.get("/index.json")
def index():
    """The current signed index: short-lived, revalidated by its ETag (the database's state, the keys and
    the hour it is signed in)."""
    db = get_db()
    current = _current_index(db)
    response = cached_response(
        ("sync-index", store.latest_change_seq(db), _signing(db), hashlib.sha256(current.body).hexdigest()),
        lambda: Response(current.body, mimetype="application/json"),
        cache_control=public_cache_control(),
        # Its bytes change with the hour, which no commit marks: never replayed without Flask.
        replayable=False,
    )
    return _open(response)


@bp.get("/<name>")
def sync_file(name: str):
    """A snapshot, chunk or ``older`` file the current index names; 404 for any other name."""
    db = get_db()
    found = _current_index(db).files.get(name) if _NAME.match(name) else None
    if found is None:
        # Another state's file (its content may since have been withdrawn), or no file at all.
        raise ApiError(404, "not_found", "no file of the current sync index has this name")
    response = cached_response(
        # Its name is its content, checked current above: the kept copy serves every state naming it.
        ("sync-file", name),
        lambda: Response(file_bytes(db, found), mimetype="application/json"),
        cache_control=IMMUTABLE,
    )
    return _open(response)
