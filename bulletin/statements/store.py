"""Statements in SQLite: writes that keep the change log true, and the queries.

Writers call these functions inside :func:`bulletin.db.transaction`; each
function assumes it is inside one and never commits itself, so an import or an
editor's save is stored whole or not at all.

Every change a reader's device must learn about (publish, update, withdraw)
goes through :func:`_record_change`, which appends to ``changes`` and moves
the statement's ``change_seq``: the sync cursor is built on that number. A
statement's article also shows its published translations (language, title,
link), so a change to one of those is recorded for every other published
member of the group as well (:func:`_links_kept_true`): devices holding them
would otherwise keep links that lead nowhere or miss a new language.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from bulletin.statements import clock, sanitize, slugs, words
from bulletin.statements.records import Statement, parse_stored_time, stored_time


class StoreError(ValueError):
    """A write that would break the store's rules; the message says which."""


_SELECT = """
SELECT s.rowid AS rowid, s.id, s.slug, s.lang, s.status, s.published,
       s.created_at, s.updated_at, s.translation_group, s.is_original,
       s.withdrawn_at, s.withdrawal_reason, s.change_seq, s.source_key,
       r.id AS revision, r.title, r.summary,
       -- Counted from the revision readers first saw, so that a draft saved
       -- several times is not "Updated" on the day it is published.
       r.number - coalesce(s.first_public_revision, r.number) + 1 AS revision_number,
       r.body_html, r.description, r.correction_note, r.created_at AS revised_at,
       (SELECT group_concat(tag, char(31)) FROM statement_tags t
         WHERE t.statement_id = s.id) AS tags
FROM statements s JOIN revisions r ON r.id = s.current_revision
"""

_NEWEST = "ORDER BY s.published DESC, s.rowid DESC"


def _one(db: sqlite3.Connection, where: str, params: tuple) -> Statement | None:
    row = db.execute(f"{_SELECT} WHERE {where}", params).fetchone()
    return Statement.from_row(row) if row else None


def _many(db: sqlite3.Connection, tail: str, params: tuple) -> list[Statement]:
    return [Statement.from_row(row) for row in db.execute(f"{_SELECT} {tail}", params)]


# ---------------------------------------------------------------- reading


def get_by_id(db: sqlite3.Connection, statement_id: str) -> Statement | None:
    """The statement with this id, in any status, or None."""
    return _one(db, "s.id = ?", (statement_id,))


def get_by_slug(db: sqlite3.Connection, slug: str) -> Statement | None:
    """The statement whose current slug this is, in any status, or None."""
    return _one(db, "s.slug = ?", (slug,))


def get_by_source_key(db: sqlite3.Connection, source_key: str) -> Statement | None:
    """The statement first imported from this source key, or None."""
    return _one(db, "s.source_key = ?", (source_key,))


def current_slug_for(db: sqlite3.Connection, old_slug: str) -> str | None:
    """The current slug of the statement that once had ``old_slug``, or None."""
    row = db.execute(
        "SELECT s.slug FROM slug_history h JOIN statements s ON s.id = h.statement_id WHERE h.slug = ?",
        (old_slug,),
    ).fetchone()
    return row["slug"] if row else None


def former_slugs(db: sqlite3.Connection, statement_id: str) -> list[str]:
    """The slugs the statement had before its current one (their URLs redirect to it)."""
    rows = db.execute("SELECT slug FROM slug_history WHERE statement_id = ? ORDER BY slug", (statement_id,))
    return [row["slug"] for row in rows]


def find_public(db: sqlite3.Connection, slug: str) -> tuple[Statement | None, str | None]:
    """What a public URL with ``slug`` shows: ``(statement, None)`` for a published or
    withdrawn statement, ``(None, current_slug)`` for a slug it once had, ``(None, None)``
    when there is nothing to show (unknown, or still a draft)."""
    found = get_by_slug(db, slug)
    if found is not None and found.status != "draft":
        return found, None
    return None, current_slug_for(db, slug)


def list_published(
    db: sqlite3.Connection, *, limit: int, offset: int = 0, tag: str | None = None
) -> list[Statement]:
    """Published statements, newest first, optionally only those with ``tag``."""
    if tag is None:
        return _many(db, f"WHERE s.status = 'published' {_NEWEST} LIMIT ? OFFSET ?", (limit, offset))
    return _many(
        db,
        "WHERE s.status = 'published' AND s.id IN"
        f" (SELECT statement_id FROM statement_tags WHERE tag = ?) {_NEWEST} LIMIT ? OFFSET ?",
        (tag, limit, offset),
    )


# Counts of published statements, by (database file, epoch, latest change, tag): every change to what is
# published or to a published statement's tags is in the change log, so a count stands until
# the latest change moves. At 100,000 statements counting a tag's 20,000 took 35 ms, paid by
# every tag page and feed, six times per publication (one per interface language).
_COUNTS: OrderedDict[tuple, int] = OrderedDict()
_COUNTS_KEPT = 512
_COUNTS_LOCK = threading.Lock()


def count_published(db: sqlite3.Connection, tag: str | None = None) -> int:
    """How many statements :func:`list_published` would page through."""
    # The position first: a count read after it is at least as new, never older than its key.
    epoch = db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    # The file too: two databases (copies of one) may share an epoch in one process.
    path = db.execute("PRAGMA database_list").fetchone()[2]
    key = (path, epoch[0] if epoch else "", latest_change_seq(db), tag)
    with _COUNTS_LOCK:
        if key in _COUNTS:
            _COUNTS.move_to_end(key)
            return _COUNTS[key]
    if tag is None:
        count = db.execute("SELECT count(*) FROM statements WHERE status = 'published'").fetchone()[0]
    else:
        count = db.execute(
            "SELECT count(*) FROM statements s JOIN statement_tags t ON t.statement_id = s.id"
            " WHERE s.status = 'published' AND t.tag = ?",
            (tag,),
        ).fetchone()[0]
    with _COUNTS_LOCK:
        _COUNTS[key] = count
        while len(_COUNTS) > _COUNTS_KEPT:
            _COUNTS.popitem(last=False)
    return count


def list_published_older_than(
    db: sqlite3.Connection, statement_id: str, *, limit: int, tag: str | None = None
) -> list[Statement] | None:
    """The published statements after ``statement_id`` in :func:`list_published`'s order.

    Keyset paging: a page starts from the last statement of the previous
    one, found by its id, so a deep page costs what the first one costs
    (``OFFSET`` steps over every row before it). None when no statement has
    that id. The position survives that statement's withdrawal.
    """
    row = db.execute("SELECT published, rowid FROM statements WHERE id = ?", (statement_id,)).fetchone()
    if row is None:
        return None
    # published <= ? bounds the index range; the OR breaks ties by rowid, as _NEWEST does.
    where = "s.status = 'published' AND s.published <= ? AND (s.published < ? OR s.rowid < ?)"
    params: tuple = (row[0], row[0], row[1])
    if tag is not None:
        where += " AND s.id IN (SELECT statement_id FROM statement_tags WHERE tag = ?)"
        params += (tag,)
    return _many(db, f"WHERE {where} {_NEWEST} LIMIT ?", (*params, limit))


def search(db: sqlite3.Connection, query: str, *, limit: int, offset: int = 0) -> list[Statement]:
    """Published statements matching every word of ``query`` (by its keys, :mod:`words`), best match first."""
    expression = words.match_expression(query)
    if not expression:
        return []
    return _many(
        db,
        "JOIN (SELECT rowid AS hit, bm25(statements_terms, 5.0, 1.0) AS score FROM statements_terms"
        " WHERE statements_terms MATCH ? ORDER BY score LIMIT ? OFFSET ?) f ON f.hit = s.rowid"
        " WHERE s.status = 'published' ORDER BY f.score",
        (expression, limit, offset),
    )


SEARCH_WINDOW = 1000  # matches ranked by search_recent: a few ms even for a word in every statement


def search_recent(
    db: sqlite3.Connection, query: str, *, limit: int, offset: int = 0, window: int = SEARCH_WINDOW
) -> list[Statement]:
    """Like :func:`search`, best match first, among the ``window`` newest-created matches only.

    Ranking costs time in proportion to the matches: at 100,000 statements
    a word found in most of them takes :func:`search` over 100 ms, ranking
    only the newest thousand takes a few. Results past ``window`` are not
    reachable; the index keeps statements in creation order (their rowid).
    """
    expression = words.match_expression(query)
    if not expression:
        return []
    return _many(
        db,
        "JOIN (SELECT hit, score FROM (SELECT rowid AS hit, bm25(statements_terms, 5.0, 1.0) AS score"
        " FROM statements_terms WHERE statements_terms MATCH ? ORDER BY rowid DESC LIMIT ?)"
        " ORDER BY score LIMIT ? OFFSET ?) f"
        " ON f.hit = s.rowid WHERE s.status = 'published' ORDER BY f.score",
        (expression, window, limit, offset),
    )


def translations_of(db: sqlite3.Connection, statement: Statement) -> list[Statement]:
    """The other published versions of the statement, original first, then by language."""
    return _many(
        db,
        "WHERE s.translation_group = ? AND s.id != ? AND s.status = 'published'"
        " ORDER BY s.is_original DESC, s.lang",
        (statement.translation_group, statement.id),
    )


def group_change_seq(db: sqlite3.Connection, statement: Statement) -> int:
    """Latest change among the statement's translation group: what its page shows."""
    row = db.execute(
        "SELECT max(change_seq) FROM statements WHERE translation_group = ?",
        (statement.translation_group,),
    ).fetchone()
    return row[0] or 0


def latest_change_seq(db: sqlite3.Connection) -> int:
    """The newest change sequence number, 0 for an empty database."""
    row = db.execute("SELECT max(seq) FROM changes").fetchone()
    return row[0] or 0


def changed_since(db: sqlite3.Connection, seq: int, *, limit: int) -> list[Statement]:
    """Published or withdrawn statements changed after ``seq``, oldest change first.

    Each statement appears once, in its latest state, ordered by its latest
    change: a client that stores the last one's ``change_seq`` as its cursor
    resumes without losing or repeating anything.
    """
    return _many(
        db,
        "WHERE s.change_seq > ? AND s.status != 'draft' ORDER BY s.change_seq LIMIT ?",
        (seq, limit),
    )


def sitemap_part_of(statement: Statement, size: int) -> int:
    """The sitemap part that lists ``statement``: parts hold ``size`` rows by creation order, so a
    new statement lands in the last part and a change rewrites one part."""
    return (statement.rowid - 1) // size


def sitemap_parts(db: sqlite3.Connection, size: int) -> list[tuple[int, dt.datetime]]:
    """Each sitemap part that lists a published statement, with its newest ``updated_at``, in order."""
    rows = db.execute(
        "SELECT (rowid - 1) / ? AS part, max(updated_at) AS newest FROM statements"
        " WHERE status = 'published' GROUP BY part ORDER BY part",
        (size,),
    )
    return [(row["part"], parse_stored_time(row["newest"])) for row in rows]


def list_published_in_part(db: sqlite3.Connection, part: int, size: int) -> list[Statement]:
    """The published statements of one sitemap part (see :func:`sitemap_part_of`), oldest row first."""
    return _many(
        db,
        "WHERE s.status = 'published' AND s.rowid > ? AND s.rowid <= ? ORDER BY s.rowid",
        (part * size, (part + 1) * size),
    )


def published_outline(db: sqlite3.Connection) -> Iterator[tuple[str, str, tuple[str, ...], int]]:
    """``(id, slug, tags, rowid)`` of every published statement, oldest row first: what a file set of
    the whole site needs, without reading 100,000 bodies into memory."""
    rows = db.execute(
        "SELECT s.id, s.slug, s.rowid, (SELECT group_concat(tag, char(31)) FROM statement_tags t"
        " WHERE t.statement_id = s.id) AS tags FROM statements s WHERE s.status = 'published'"
        " ORDER BY s.rowid"
    )
    for row in rows:
        yield (
            row["id"],
            row["slug"],
            tuple(sorted(row["tags"].split("\x1f"))) if row["tags"] else (),
            row["rowid"],
        )


def list_public(
    db: sqlite3.Connection, *, langs: Iterable[str] = (), since: str | None = None
) -> Iterator[Statement]:
    """Published and withdrawn statements, newest publication first (the lists' order), read lazily.

    ``langs``: only statements in those languages (all when empty).
    ``since`` (a stored time, :func:`stored_time`): only statements
    published at or after it.
    """
    where = ["s.status IN ('published', 'withdrawn')", "s.published IS NOT NULL"]
    params: list = []
    chosen = list(langs)
    if chosen:
        where.append(f"s.lang IN ({', '.join('?' * len(chosen))})")
        params += chosen
    if since is not None:
        where.append("s.published >= ?")
        params.append(since)
    for row in db.execute(f"{_SELECT} WHERE {' AND '.join(where)} {_NEWEST}", params):
        yield Statement.from_row(row)


def recent_months(db: sqlite3.Connection, count: int) -> list[str]:
    """The newest ``count`` months (``YYYY-MM``) holding a published or withdrawn statement, newest first:
    one step down the publication index per month, however many statements there are."""
    rows = db.execute(
        "WITH RECURSIVE months(month) AS ("
        " SELECT substr(max(published), 1, 7) FROM statements WHERE status IN ('published', 'withdrawn')"
        " UNION ALL SELECT (SELECT substr(max(published), 1, 7) FROM statements"
        "  WHERE status IN ('published', 'withdrawn') AND published < months.month)"
        " FROM months WHERE months.month IS NOT NULL LIMIT ?)"
        " SELECT month FROM months WHERE month IS NOT NULL",
        (count,),
    )
    return [month for (month,) in rows]


def pack_outline(db: sqlite3.Connection, since: str = "") -> list[tuple[str, str, int, int]]:
    """``(lang, month, count, latest)`` of every language and calendar month (``YYYY-MM`` of the stored
    publication time, UTC) holding a published or withdrawn statement, newest month first: how many
    statements it holds and the latest change among them. Within one epoch the pair decides which
    statements, at which positions, it holds: a statement joins only by a change (so the latest
    rises) and, the latest unchanged, can only have left (so the count falls). One pass, no text;
    ``since`` (a month) limits it to that month and later."""
    rows = db.execute(
        "SELECT lang, substr(published, 1, 7) AS month, count(*), max(change_seq) FROM statements"
        " WHERE status IN ('published', 'withdrawn') AND published IS NOT NULL AND published >= ?"
        " GROUP BY lang, month ORDER BY month DESC, lang",
        (since,),
    )
    return [(lang, month, count, latest or 0) for lang, month, count, latest in rows]


def _month_range(month: str) -> tuple[str, str]:
    """The stored publication times of ``month`` (``YYYY-MM``) as a half-open range of text, for the index."""
    year, number = int(month[:4]), int(month[5:7])
    following = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
    return month, following


def pack_state(db: sqlite3.Connection, lang: str, month: str) -> tuple[int, int] | None:
    """``(count, latest)`` of :func:`pack_outline` for one language and month; None when it holds nothing."""
    low, high = _month_range(month)
    count, latest = db.execute(
        "SELECT count(*), max(change_seq) FROM statements WHERE status IN ('published', 'withdrawn')"
        " AND lang = ? AND published >= ? AND published < ?",
        (lang, low, high),
    ).fetchone()
    return (count, latest or 0) if count else None


def positions_in_month(db: sqlite3.Connection, lang: str, month: str) -> list[tuple[str, int]]:
    """``(id, change_seq)`` of the published and withdrawn statements in ``lang`` published in ``month``."""
    low, high = _month_range(month)
    rows = db.execute(
        "SELECT id, change_seq FROM statements WHERE status IN ('published', 'withdrawn')"
        " AND lang = ? AND published >= ? AND published < ?",
        (lang, low, high),
    )
    return [(statement_id, seq) for statement_id, seq in rows]


def published_months(db: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """``id -> (lang, month)`` of every published statement (``YYYY-MM`` of its stored publication time)."""
    rows = db.execute(
        "SELECT id, lang, substr(published, 1, 7) FROM statements WHERE status = 'published' AND published IS NOT NULL"
    )
    return {statement_id: (lang, month) for statement_id, lang, month in rows}


def list_in_month(db: sqlite3.Connection, lang: str, month: str) -> list[Statement]:
    """The published and withdrawn statements in ``lang`` published in ``month`` (``YYYY-MM``), newest first."""
    return _many(
        db,
        "WHERE s.status IN ('published', 'withdrawn') AND s.lang = ? AND s.published >= ? AND s.published < ?"
        f" {_NEWEST}",
        (lang, *_month_range(month)),
    )


def database_id(db: sqlite3.Connection) -> str:
    """The random id this database was created with (sync cursors carry it)."""
    return db.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()[0]


def revisions_of(db: sqlite3.Connection, statement_id: str) -> list[sqlite3.Row]:
    """Every revision of a statement, oldest first."""
    return db.execute(
        "SELECT * FROM revisions WHERE statement_id = ? ORDER BY number", (statement_id,)
    ).fetchall()


def get_revision(db: sqlite3.Connection, revision_id: str) -> sqlite3.Row | None:
    """One revision (source text and format, sanitized body, title...) by id, or None."""
    return db.execute("SELECT * FROM revisions WHERE id = ?", (revision_id,)).fetchone()


def list_by_status(db: sqlite3.Connection, status: str) -> list[Statement]:
    """Every statement in one status (draft, published, withdrawn), last revised first."""
    return _many(db, "WHERE s.status = ? ORDER BY r.created_at DESC, s.rowid DESC", (status,))


# The editor's list orders. By publication date: undated drafts (still being
# written) first, then the newest publication, scheduled ones included.
EDITOR_ORDERS = {
    "published": "ORDER BY s.published IS NOT NULL, s.published DESC, s.rowid DESC",
    "revised": "ORDER BY r.created_at DESC, s.rowid DESC",
    "title": "ORDER BY r.title COLLATE NOCASE, s.rowid",
}


def list_for_editor(
    db: sqlite3.Connection,
    *,
    status: str | None = None,
    lang: str | None = None,
    tag: str | None = None,
    order: str = "published",
) -> list[Statement]:
    """Statements in any status, optionally only one status, language or tag, in an EDITOR_ORDERS order."""
    where, params = ["1"], []
    if status:
        where.append("s.status = ?")
        params.append(status)
    if lang:
        where.append("s.lang = ? COLLATE NOCASE")
        params.append(lang)
    if tag:
        where.append("s.id IN (SELECT statement_id FROM statement_tags WHERE tag = ?)")
        params.append(tag)
    return _many(db, f"WHERE {' AND '.join(where)} {EDITOR_ORDERS[order]}", tuple(params))


def languages_in_use(db: sqlite3.Connection) -> list[str]:
    """Every statement language, in any status, sorted."""
    return [row[0] for row in db.execute("SELECT DISTINCT lang FROM statements ORDER BY lang")]


def tags_in_use(db: sqlite3.Connection) -> list[str]:
    """Every tag of any statement, sorted."""
    return [row[0] for row in db.execute("SELECT DISTINCT tag FROM statement_tags ORDER BY tag")]


def scheduled_at(db: sqlite3.Connection, statement_id: str) -> dt.datetime | None:
    """When a scheduled draft becomes public, or None when it is not scheduled."""
    row = db.execute("SELECT publish_at FROM statements WHERE id = ?", (statement_id,)).fetchone()
    return parse_stored_time(row[0]) if row else None


def schedules(db: sqlite3.Connection) -> dict[str, dt.datetime]:
    """Statement id -> publication instant, for every scheduled draft."""
    rows = db.execute("SELECT id, publish_at FROM statements WHERE publish_at IS NOT NULL")
    return {row[0]: parse_stored_time(row[1]) for row in rows}


def is_due(db: sqlite3.Connection, at: dt.datetime) -> bool:
    """Whether a scheduled draft's time has come by ``at``: one indexed look-up, cheap per request."""
    return (
        db.execute(
            "SELECT 1 FROM statements WHERE publish_at <= ? AND status = 'draft' LIMIT 1", (stored_time(at),)
        ).fetchone()
        is not None
    )


def next_publication_at(db: sqlite3.Connection) -> dt.datetime | None:
    """The earliest instant at which :func:`is_due` turns true, or None while nothing is scheduled."""
    row = db.execute(
        "SELECT min(publish_at) FROM statements WHERE publish_at IS NOT NULL AND status = 'draft'"
    )
    return parse_stored_time(row.fetchone()[0])


# ---------------------------------------------------------------- writing


def new_id() -> str:
    """A random statement or revision id: never derived from a row number."""
    return str(uuid.uuid4())


def _unique_slug(db: sqlite3.Connection, wanted: str, statement_id: str) -> str:
    base = wanted or statement_id[:8]
    candidate, n = base, 1
    while db.execute(
        "SELECT 1 FROM statements WHERE slug = ? AND id != ?"
        " UNION ALL SELECT 1 FROM slug_history WHERE slug = ? AND statement_id != ?",
        (candidate, statement_id, candidate, statement_id),
    ).fetchone():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def create_statement(
    db: sqlite3.Connection,
    *,
    title: str,
    lang: str,
    published: dt.date | dt.datetime | None,
    tags: Iterable[str] = (),
    slug: str | None = None,
    statement_id: str | None = None,
    translation_of: str | None = None,
    source_key: str | None = None,
) -> str:
    """Create a draft statement (no revision yet) and return its id.

    ``slug`` is used as given when free, else made unique with a number; without
    one the title gives it. ``translation_of`` is the slug or id of the original.
    """
    statement_id = statement_id or new_id()
    group, is_original = statement_id, True
    if translation_of:
        original = get_by_slug(db, translation_of) or get_by_id(db, translation_of)
        if original is None:
            raise StoreError(f"translation_of {translation_of!r}: no statement has that slug or id")
        group, is_original = original.translation_group, False
    stamp = stored_time(clock.now())
    db.execute(
        "INSERT INTO statements (id, slug, lang, translation_group, is_original, published,"
        " source_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            statement_id,
            _unique_slug(db, slug or slugs.slugify(title), statement_id),
            lang,
            group,
            int(is_original),
            stored_time(published) if published else None,
            source_key,
            stamp,
            stamp,
        ),
    )
    set_tags(db, statement_id, tags)
    return statement_id


def normalized_tags(tags: Iterable[str]) -> set[str]:
    """Tags in slug form (so "Press Freedom" and "press-freedom" are one), empties dropped."""
    return {slugs.slugify(tag) for tag in tags} - {""}


def set_tags(db: sqlite3.Connection, statement_id: str, tags: Iterable[str]) -> None:
    """Replace the statement's tags with their normalized forms."""
    db.execute("DELETE FROM statement_tags WHERE statement_id = ?", (statement_id,))
    db.executemany(
        "INSERT INTO statement_tags (statement_id, tag) VALUES (?, ?)",
        [(statement_id, tag) for tag in sorted(normalized_tags(tags))],
    )


def set_published(db: sqlite3.Connection, statement_id: str, published: dt.date | dt.datetime) -> None:
    """Change the statement's publication date (recorded by the next change)."""
    db.execute("UPDATE statements SET published = ? WHERE id = ?", (stored_time(published), statement_id))


def add_revision(
    db: sqlite3.Connection,
    statement_id: str,
    *,
    title: str,
    source_text: str,
    source_format: str,
    body_html: str,
    author: str,
    summary: str = "",
    correction_note: str = "",
    description: str | None = None,
) -> str:
    """Append a revision and make it current; ``body_html`` must come from sanitize.clean.

    ``description`` is the page description (:func:`sanitize.description`
    of ``body_html``); the write path passes it, computed before its
    transaction; None computes it here.

    A published statement's new revision is recorded as an update, so readers'
    devices pick it up at the next sync.
    """
    if not title.strip():
        raise StoreError("a statement needs a title")
    number = db.execute(
        "SELECT coalesce(max(number), 0) + 1 FROM revisions WHERE statement_id = ?", (statement_id,)
    ).fetchone()[0]
    revision_id = new_id()
    with _links_kept_true(db, statement_id):
        db.execute(
            "INSERT INTO revisions (id, statement_id, number, source_text, source_format, body_html,"
            " title, summary, correction_note, author, created_at, description)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                revision_id,
                statement_id,
                number,
                source_text,
                source_format,
                body_html,
                title.strip(),
                summary.strip(),
                correction_note.strip(),
                author,
                stored_time(clock.now()),
                sanitize.description(body_html) if description is None else description,
            ),
        )
        db.execute("UPDATE statements SET current_revision = ? WHERE id = ?", (revision_id, statement_id))
        status = db.execute("SELECT status FROM statements WHERE id = ?", (statement_id,)).fetchone()[0]
        if status == "published":
            _record_change(db, statement_id, "update", revision_id)
    return revision_id


def publish(db: sqlite3.Connection, statement_id: str) -> None:
    """Make a draft public: its slug is frozen from now on."""
    statement = get_by_id(db, statement_id)
    if statement is None:
        raise StoreError(f"no statement {statement_id}: add a revision before publishing")
    if statement.status != "draft":
        raise StoreError(f"statement {statement.slug} is {statement.status}, not a draft")
    if statement.published is None:
        set_published(db, statement_id, clock.now())
    with _links_kept_true(db, statement_id):
        db.execute(
            "UPDATE statements SET status = 'published', slug_frozen = 1, publish_at = NULL,"
            " first_public_revision = coalesce(first_public_revision,"
            " (SELECT number FROM revisions WHERE id = current_revision)) WHERE id = ?",
            (statement_id,),
        )
        _record_change(db, statement_id, "publish", statement.revision)


def schedule(db: sqlite3.Connection, statement_id: str, at: dt.datetime) -> None:
    """Make a draft public at ``at``; until then nothing public changes, not even the cursor.

    :func:`promote_due` publishes it once its time has come, so the change is
    recorded then and devices whose cursor passed the saving still get it.
    A draft without a publication date gets ``at`` as its date.
    """
    statement = get_by_id(db, statement_id)
    if statement is None or statement.status != "draft":
        raise StoreError("only a draft can be scheduled")
    if statement.published is None:
        set_published(db, statement_id, at)
    db.execute("UPDATE statements SET publish_at = ? WHERE id = ?", (stored_time(at), statement_id))


def unschedule(db: sqlite3.Connection, statement_id: str) -> bool:
    """Cancel a draft's scheduled publication; True when there was one."""
    return (
        db.execute(
            "UPDATE statements SET publish_at = NULL WHERE id = ? AND publish_at IS NOT NULL"
            " AND status = 'draft'",
            (statement_id,),
        ).rowcount
        > 0
    )


def promote_due(db: sqlite3.Connection, at: dt.datetime) -> list[str]:
    """Publish every scheduled draft whose time has come by ``at``; return their ids.

    Each is published as if by :func:`publish` at this moment, so one change
    per statement is recorded now and pages, feed, API and sync all show it
    from the same change onwards.
    """
    due = [
        row[0]
        for row in db.execute(
            "SELECT id FROM statements WHERE publish_at <= ? AND status = 'draft' ORDER BY publish_at, rowid",
            (stored_time(at),),
        )
    ]
    for statement_id in due:
        publish(db, statement_id)
    return due


def clear_published(db: sqlite3.Connection, statement_id: str) -> None:
    """Forget a draft's planned publication date: it will be dated when published."""
    db.execute("UPDATE statements SET published = NULL WHERE id = ? AND status = 'draft'", (statement_id,))


def set_language(db: sqlite3.Connection, statement_id: str, lang: str) -> None:
    """Change the statement's language (recorded by the next change, see :func:`mark_changed`).

    Its translations' links show the language at once, so their changes are recorded here.
    """
    with _links_kept_true(db, statement_id):
        db.execute("UPDATE statements SET lang = ? WHERE id = ?", (lang, statement_id))


def mark_changed(db: sqlite3.Connection, statement_id: str) -> int | None:
    """Record a change of a published statement that added no revision (tags, language).

    Pages, feeds and the API key their ETags on the change log, and devices
    sync from it, so without this they would keep showing the old tags.
    Returns the new change number, or None for a statement readers cannot see.
    """
    statement = get_by_id(db, statement_id)
    if statement is None or statement.status != "published":
        return None
    return _record_change(db, statement_id, "update", statement.revision)


def mark_rendered_anew(db: sqlite3.Connection, statement_id: str) -> int | None:
    """Record a change of what a published or withdrawn statement's record shows that no write to it made
    (the app now renders its article or notice differently: a deploy changed a template or the code), so
    devices take its new record; its own dates and search index stay. The new change number, or None for
    a statement readers cannot see."""
    statement = get_by_id(db, statement_id)
    if statement is None or statement.status not in ("published", "withdrawn"):
        return None
    kind = "withdraw" if statement.status == "withdrawn" else "update"
    return _record_change(db, statement_id, kind, statement.revision, own=False)


def withdraw(db: sqlite3.Connection, statement_id: str, reason: str) -> None:
    """Withdraw a published statement; its page answers 410 with the reason."""
    if not reason.strip():
        raise StoreError("a withdrawal needs a reason that readers will see")
    statement = get_by_id(db, statement_id)
    if statement is None or statement.status != "published":
        raise StoreError("only a published statement can be withdrawn")
    with _links_kept_true(db, statement_id):
        db.execute(
            "UPDATE statements SET status = 'withdrawn', withdrawn_at = ?, withdrawal_reason = ? WHERE id = ?",
            (stored_time(clock.now()), reason.strip(), statement_id),
        )
        _record_change(db, statement_id, "withdraw", statement.revision)


def republish(db: sqlite3.Connection, statement_id: str) -> None:
    """Undo a withdrawal: the statement is public again, as it was, and devices get it back.

    Recorded as a publication, so a device that synced the withdrawal
    receives the statement again at its next sync; the withdrawal stays in
    the change log and the audit log.
    """
    statement = get_by_id(db, statement_id)
    if statement is None or statement.status != "withdrawn":
        raise StoreError("only a withdrawn statement can be published again")
    with _links_kept_true(db, statement_id):
        db.execute(
            "UPDATE statements SET status = 'published', withdrawn_at = NULL, withdrawal_reason = NULL"
            " WHERE id = ?",
            (statement_id,),
        )
        _record_change(db, statement_id, "publish", statement.revision)


def rename(db: sqlite3.Connection, statement_id: str, new_slug: str) -> str:
    """Give a draft a new slug (the old one redirects); published slugs are frozen.

    No other statement links to a draft, so no other article changes: a
    translation's link shows the slug it has when it is published.
    """
    statement = get_by_id(db, statement_id)
    if statement is None:
        raise StoreError(f"no statement {statement_id}")
    if statement.status != "draft":
        raise StoreError(f"the slug of {statement.slug} is frozen since its publication")
    slug = _unique_slug(db, slugs.slugify(new_slug), statement_id)
    if slug != statement.slug:
        db.execute(
            "INSERT OR REPLACE INTO slug_history (slug, statement_id) VALUES (?, ?)",
            (statement.slug, statement_id),
        )
        db.execute("DELETE FROM slug_history WHERE slug = ?", (slug,))
        db.execute("UPDATE statements SET slug = ? WHERE id = ?", (slug, statement_id))
    return slug


def _record_change(
    db: sqlite3.Connection, statement_id: str, kind: str, revision_id: str, *, own: bool = True
) -> int:
    """Append to the change log, move the statement's cursor position, reindex it.

    ``own=False`` records a change of what the article shows of *other*
    statements (its translation links): devices must fetch it again, but its
    own text and dates did not change, so ``updated_at`` (feeds, the API's
    ``updated``) and the search index stay as they are.
    """
    stamp = stored_time(clock.now())
    seq = db.execute(
        "INSERT INTO changes (statement_id, kind, revision_id, at) VALUES (?, ?, ?, ?)",
        (statement_id, kind, revision_id, stamp),
    ).lastrowid
    if not own:
        db.execute("UPDATE statements SET change_seq = ? WHERE id = ?", (seq, statement_id))
        return seq
    db.execute(
        "UPDATE statements SET change_seq = ?, updated_at = ? WHERE id = ?", (seq, stamp, statement_id)
    )
    _reindex(db, statement_id)
    return seq


def _links_shown(db: sqlite3.Connection, group: str) -> list[tuple]:
    """What the published members of a translation group show of each other in their articles."""
    rows = db.execute(
        "SELECT s.id, s.slug, s.lang, s.is_original, r.title FROM statements s"
        " JOIN revisions r ON r.id = s.current_revision"
        " WHERE s.translation_group = ? AND s.status = 'published' ORDER BY s.id",
        (group,),
    )
    return [tuple(row) for row in rows]


@contextmanager
def _links_kept_true(db: sqlite3.Connection, statement_id: str) -> Iterator[None]:
    """Around a write to ``statement_id``: when it changes the translation links its
    group's articles show (a member published, withdrawn, retitled, its language
    changed), record a change for every other published member.

    Compared before and after, rather than decided per writer, so that no
    writer can forget a case; one indexed query each way over a handful of rows.
    """
    row = db.execute("SELECT translation_group FROM statements WHERE id = ?", (statement_id,)).fetchone()
    before = _links_shown(db, row[0]) if row else None
    yield
    if row is None or _links_shown(db, row[0]) == before:
        return
    others = db.execute(
        "SELECT id, current_revision FROM statements"
        " WHERE translation_group = ? AND status = 'published' AND id != ? ORDER BY rowid",
        (row[0], statement_id),
    ).fetchall()
    for other in others:
        _record_change(db, other["id"], "update", other["current_revision"], own=False)


def _reindex(db: sqlite3.Connection, statement_id: str) -> None:
    """Keep the search index equal to the published statements' current text, as keys."""
    statement = get_by_id(db, statement_id)
    db.execute("DELETE FROM statements_terms WHERE rowid = ?", (statement.rowid,))
    if statement.status == "published":
        row = words.index_row(
            statement.title, statement.summary, sanitize.plain_text(statement.body_html), statement.lang
        )
        db.execute(
            "INSERT INTO statements_terms (rowid, title, body) VALUES (?, ?, ?)", (statement.rowid, *row)
        )
