"""The audit log: who created, changed, published or withdrew what, and when.

Entries are written in the same transaction as the change they describe,
so the log never claims a change that was rolled back, nor misses one. The
table refuses updates and deletes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from bulletin.i18n import N_
from bulletin.statements import clock
from bulletin.statements.records import parse_stored_time, stored_time

SCHEDULE_ACTOR = "schedule"  # the actor of a scheduled publication that came due
OPERATOR_ACTOR = "operator"  # the actor of an account command run on the server (no email lacks an "@")

# What each action reads as in the log: "<who> <action> <statement>".
ACTIONS = {
    "create": N_("created"),
    "save": N_("saved a draft of"),
    "publish": N_("published"),
    "schedule": N_("scheduled"),
    "unschedule": N_("cancelled the schedule of"),
    "correct": N_("corrected"),
    "update": N_("changed the details of"),
    "withdraw": N_("withdrew"),
    "republish": N_("undid the withdrawal of"),
    "restore": N_("restored an earlier revision of"),
    "login": N_("logged in"),
    "logout": N_("logged out"),
    "password": N_("changed their password"),
    "editor": N_("became an editor"),
    "refused": N_("was refused"),
    "second_factor": N_("turned on their second factor"),
    "second_factor_refused": N_("gave a wrong second-factor code"),
    "second_factor_reset": N_("reset the second factor of"),
    "recovery_codes": N_("made new recovery codes"),
    "role": N_("changed the role of"),
    "create_editor": N_("created the account of"),
}


@dataclass(frozen=True)
class Entry:
    """One line of the log, with the statement's current title and slug when there is one."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    statement_id: str | None
    title: str | None
    revision_number: int | None
    detail: str


def record(
    db: sqlite3.Connection,
    actor: str,
    action: str,
    *,
    statement_id: str | None = None,
    revision_id: str | None = None,
    detail: str = "",
) -> None:
    """Append an entry (inside the caller's transaction); ``action`` is a key of ACTIONS."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to audit.ACTIONS")
    db.execute(
        "INSERT INTO audit_log (at, actor, action, statement_id, revision_id, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (stored_time(clock.now()), actor, action, statement_id, revision_id, detail),
    )


def entries(
    db: sqlite3.Connection, *, limit: int, offset: int = 0, statement_id: str | None = None
) -> list[Entry]:
    """Log entries, newest first, optionally only those about one statement."""
    where, params = ("WHERE a.statement_id = ?", (statement_id,)) if statement_id else ("", ())
    rows = db.execute(
        "SELECT a.*, r.title AS title, rv.number AS revision_number FROM audit_log a"
        " LEFT JOIN statements s ON s.id = a.statement_id"
        " LEFT JOIN revisions r ON r.id = s.current_revision"
        " LEFT JOIN revisions rv ON rv.id = a.revision_id"
        f" {where} ORDER BY a.id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [
        Entry(
            row["id"],
            parse_stored_time(row["at"]),
            row["actor"],
            row["action"],
            row["statement_id"],
            row["title"],
            row["revision_number"],
            row["detail"],
        )
        for row in rows
    ]
