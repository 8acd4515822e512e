"""Working copies: the statement form as an editor last typed it, not yet saved.

A working copy belongs to one editor and one statement (or to the editor's
one statement not yet created, keyed ``NEW``). It is overwritten as the
editor types and deleted when the form is saved. It is not a statement:
it lives in its own table, written here and nowhere else, and never
through ``authoring.changes`` — no revision, no audit entry, no change-log
entry, so no public page, feed or sync answer changes when it is written.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from bulletin.statements import clock
from bulletin.statements.records import parse_stored_time, stored_time

# The key of the statement an editor is writing and has not yet created.
NEW = ""
# The statement form's fields a working copy keeps, as typed (never the CSRF token or the button).
FIELDS = (
    "title",
    "summary",
    "body",
    "source_format",
    "lang",
    "translation_of",
    "tags",
    "slug",
    "published",
    "correction_note",
    "base_revision",
)


@dataclass(frozen=True)
class WorkingCopy:
    """One editor's unsaved form for one statement: its fields as typed and when they were kept."""

    fields: dict[str, str]
    saved_at: dt.datetime


def put(db: sqlite3.Connection, editor_id: int, statement_key: str, fields: dict[str, str]) -> dt.datetime:
    """Keep ``fields`` (those of :data:`FIELDS` given) as the working copy, replacing any; return its time.

    A form shows only the fields its statement's status allows (no address
    once published), so a copy holds only the fields the form sent.
    """
    kept = {name: str(fields[name]) for name in FIELDS if name in fields}
    moment = clock.now()
    db.execute(
        "INSERT INTO working_copies (editor_id, statement_key, fields, saved_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (editor_id, statement_key) DO UPDATE SET fields = excluded.fields,"
        " saved_at = excluded.saved_at",
        (editor_id, statement_key, json.dumps(kept, ensure_ascii=False), stored_time(moment)),
    )
    return moment


def get(db: sqlite3.Connection, editor_id: int, statement_key: str) -> WorkingCopy | None:
    """The editor's working copy of the statement, or None."""
    row = db.execute(
        "SELECT fields, saved_at FROM working_copies WHERE editor_id = ? AND statement_key = ?",
        (editor_id, statement_key),
    ).fetchone()
    if row is None:
        return None
    stored = json.loads(row["fields"])
    return WorkingCopy(
        {name: str(stored[name]) for name in FIELDS if name in stored}, parse_stored_time(row["saved_at"])
    )


def clear(db: sqlite3.Connection, editor_id: int, statement_key: str) -> None:
    """Forget the editor's working copy of the statement (it was saved, or discarded)."""
    db.execute(
        "DELETE FROM working_copies WHERE editor_id = ? AND statement_key = ?", (editor_id, statement_key)
    )


def differs(copy: WorkingCopy, fields: dict[str, str]) -> bool:
    """Whether the working copy holds anything the given form values do not (the base revision aside)."""
    return any(
        value != str(fields.get(name, "")) for name, value in copy.fields.items() if name != "base_revision"
    )
