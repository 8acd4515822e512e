"""Sync as files: ``/sync/index.json`` and the immutable files it names.

Beside ``/api/sync``, a device (or a mirror, or an export) can sync from
plain files that any static host serves. Everything here is a function of
the database's state alone (its epoch, its change positions and what they
hold, and the build), so the publisher's incrementally kept folder equals a
full rebuild file for file:

* a **chunk** holds, oldest change first, the statements whose *latest*
  change falls in its range of positions: a finished hundred
  ``(100k, 100k + 100]``, or in the unfinished newest hundred a finished ten
  or a single position (so at most 100 records, each the very object
  ``/api/sync`` gives: a statement, or a withdrawal's notice). A change
  moves a statement to the newest chunk and rewrites the chunk it left; a
  range left empty has no file. So a withdrawn body is in no file: its
  statement's record is now the notice, in the newest chunk;
* the **snapshot** holds the newest ``BULLETIN_OFFLINE_KEEP`` published
  statements as of the index's ``seq``: a new device needs it and nothing
  older;
* the **index** lists the chunks from a recent bound on (a multiple of
  1,000 positions, between 1,000 and 2,000 behind ``seq``) and names
  ``older``, a file listing the chunks before it, so the index stays a few
  kilobytes however long the history.

Snapshot, chunk and ``older`` files are named by their content's SHA-256
(immutable, cached for a year); the index lives a short time. Rendering a
chunk costs a hundred records, so a chunk's digest is kept per app by
what determines its bytes (the build, the epoch, its range and the change
positions in it): after a change only the chunks that change touched are
rendered again.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, request

from bulletin.assets import bundles
from bulletin.http.caching import cached_response, public_cache_control
from bulletin.http.database import get_db
from bulletin.http.errors import ApiError
from bulletin.i18n import interface_lang
from bulletin.site.render import statement_object, withdrawal_object
from bulletin.statements import epochs, store

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
    data: bytes | None = field(default=None, repr=False)  # kept only for the small ``older`` list


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
    """Everything besides the database rows that a record's bytes depend on."""
    config = current_app.config
    return (
        bundles.built(current_app).build_id,
        interface_lang(),
        config["TIMEZONE"],
        config["BASE_URL"],
        request.script_root,  # the path the app is mounted under, which addresses may carry
        epochs.current(db),
    )


def chunk_records(db: sqlite3.Connection, low: int, high: int) -> list[dict]:
    """The records of the statements whose latest change lies in ``(low, high]``, oldest change first."""
    changed = [s for s in store.changed_since(db, low, limit=CHUNK_SPAN) if s.change_seq <= high]
    return [withdrawal_object(s) if s.is_withdrawn else statement_object(db, s) for s in changed]


def snapshot_records(db: sqlite3.Connection) -> list[dict]:
    """The newest ``BULLETIN_OFFLINE_KEEP`` published statements' records, newest first."""
    newest = store.list_published(db, limit=current_app.config["OFFLINE_KEEP"])
    return [statement_object(db, s) for s in newest]


class _Kept:
    """Per app: digests of rendered files by what decides their bytes, and the last few indexes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.digests: OrderedDict[tuple, File] = OrderedDict()
        self.indexes: OrderedDict[tuple, Index] = OrderedDict()

    def digest(self, key: tuple, make) -> File:
        """The file kept under ``key``, else ``make()`` (rendered outside the lock) kept."""
        with self.lock:
            found = self.digests.get(key)
            if found is not None:
                self.digests.move_to_end(key)
                return found
        made = make()
        with self.lock:
            self.digests[key] = made
            while len(self.digests) > _KEPT_DIGESTS:
                self.digests.popitem(last=False)
        return made

    def clear(self) -> None:
        with self.lock:
            self.digests.clear()
            self.indexes.clear()


def _kept() -> _Kept:
    return current_app.extensions.setdefault(EXTENSION, _Kept())


def _chunk_ranges(db: sqlite3.Connection, seq: int) -> list[tuple[int, int, str]]:
    """Each non-empty chunk's range ``(low, high]`` and what decides its records, oldest first.

    Finished hundreds are one chunk each. In the unfinished newest hundred,
    finished tens are one chunk each and the rest one position each, so a
    device one change behind downloads one record, not up to a hundred; the
    small chunks merge as their ten, then their hundred, fills up.

    A finished range only ever loses statements (every change takes a new,
    higher position), so within an epoch its count of statements names its
    content: one scan of the ``change_seq`` index counts them all without
    reading a row (only published and withdrawn statements have a position).
    """
    unfinished = seq // CHUNK_SPAN * CHUNK_SPAN if seq % CHUNK_SPAN else seq
    rows = db.execute(
        f"SELECT (change_seq - 1) / {CHUNK_SPAN}, count(*) FROM statements"
        " WHERE change_seq IS NOT NULL AND change_seq <= ? GROUP BY 1 ORDER BY 1",
        (unfinished,),
    )
    ranges = [(k * CHUNK_SPAN, k * CHUNK_SPAN + CHUNK_SPAN, f"{count} left") for k, count in rows]
    newest: dict[tuple[int, int], list[int]] = {}
    for (position,) in db.execute(
        "SELECT change_seq FROM statements WHERE change_seq > ? ORDER BY change_seq", (unfinished,)
    ):
        ten = unfinished + (position - 1 - unfinished) // TAIL_SPAN * TAIL_SPAN
        key = (ten, ten + TAIL_SPAN) if ten + TAIL_SPAN <= seq else (position - 1, position)
        newest.setdefault(key, []).append(position)
    # Tens still fill up with new positions and lose statements: their positions name their content.
    return ranges + [(a, b, ",".join(map(str, found))) for (a, b), found in newest.items()]


def _snapshot_positions(db: sqlite3.Connection, keep: int) -> str:
    # The newest statements' change positions decide the snapshot's bytes: any change to one moves it.
    row = db.execute(
        "SELECT group_concat(change_seq) FROM (SELECT change_seq FROM statements"
        " WHERE status = 'published' ORDER BY published DESC, rowid DESC LIMIT ?)",
        (keep,),
    ).fetchone()
    return row[0] or ""


def build_index(db: sqlite3.Connection) -> Index:
    """The index and its files for the database's current state (rendering only chunks not seen before)."""
    context = _context(db)
    seq = store.latest_change_seq(db)
    key = (*context, seq, current_app.config["OFFLINE_KEEP"])
    kept = _kept()
    with kept.lock:
        if key in kept.indexes:
            return kept.indexes[key]
    index = _build(db, context, seq, kept)
    with kept.lock:
        kept.indexes[key] = index
        while len(kept.indexes) > _KEPT_INDEXES:
            kept.indexes.popitem(last=False)
    return index


def _build(db: sqlite3.Connection, context: tuple, seq: int, kept: _Kept) -> Index:
    keep = current_app.config["OFFLINE_KEEP"]
    snapshot = kept.digest(
        (*context, "snapshot", keep, _snapshot_positions(db, keep)),
        lambda: _file("snapshot", encode({"records": snapshot_records(db)})),
    )
    chunks = [
        kept.digest(
            (*context, "chunk", low, high, positions),
            lambda low=low, high=high: _file(
                "chunk", encode({"records": chunk_records(db, low, high)}), low=low, high=high
            ),
        )
        for low, high, positions in _chunk_ranges(db, seq)
    ]
    bound = max(0, (seq // RECENT_STEP - 1) * RECENT_STEP)
    older_list = encode({"chunks": [_entry(c) for c in chunks if c.high <= bound]})
    older = _file("older", older_list, data=older_list)
    recent = [c for c in chunks if c.low >= bound]
    body = encode(
        {
            "type": "sync-index",
            "v": 1,
            "db": store.database_id(db),
            "epoch": context[-1],
            "seq": seq,
            "snapshot": {"path": snapshot.path, "sha256": snapshot.sha256, "size": snapshot.size, "seq": seq},
            "chunks": [_entry(c) for c in recent],
            "older": {"path": older.path, "sha256": older.sha256, "to": bound},
        }
    )
    files = {f.path: f for f in (snapshot, older, *chunks)}
    return Index(body, files)


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
        return encode({"records": snapshot_records(db)})
    return encode({"records": chunk_records(db, found.low, found.high)})


def _open(response: Response) -> Response:
    response.headers.update(OPEN_HEADERS)
    return response


@bp.get("/index.json")
def index():
    """The current index: short-lived, revalidated by its ETag (the database's state)."""
    db = get_db()
    response = cached_response(
        lambda db: ("sync-index", store.latest_change_seq(db)),
        lambda: Response(build_index(db).body, mimetype="application/json"),
        cache_control=public_cache_control(),
    )
    return _open(response)


@bp.get("/<name>")
def sync_file(name: str):
    """A snapshot, chunk or ``older`` file the current index names; 404 for any other name."""
    db = get_db()
    found = build_index(db).files.get(name) if _NAME.match(name) else None
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
