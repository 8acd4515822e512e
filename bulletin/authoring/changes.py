"""What an editor's save, publication, withdrawal or restore does to the store.

Each operation runs in one write transaction together with its audit entry,
and checks the revision the editor started from inside that transaction, so
two editors saving at once cannot both win: the second gets a
:class:`Conflict` and keeps their text.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from bulletin.authoring import audit

from bulletin.statements import store
from bulletin.editor.accounts import Editor
from bulletin.statements.bodies import render_body
from bulletin.statements.db import transaction
from bulletin.editor.forms import StatementForm, start_of
from bulletin.i18n import gettext
from bulletin.statements.records import Statement
from bulletin.statements.sanitize import clean_report


class Conflict(Exception):
    """The statement has a newer revision than the one the editor started from."""

    def __init__(self, current: Statement):
        super().__init__(f"statement {current.slug} is at revision {current.revision}")
        self.current = current


class Refused(ValueError):
    """An operation the statement's state does not allow; the message is for the editor."""


@dataclass(frozen=True)
class Outcome:
    """What a save did, for the message the editor sees next."""

    statement_id: str
    revised: bool  # a new revision was stored
    changed: bool  # anything at all was stored
    removed: tuple[str, ...] = ()  # what the sanitizer took out of the body
    published: bool = False
    scheduled_for: dt.datetime | None = None
    unscheduled: bool = False


@dataclass(frozen=True)
class Context:
    """Who acts, when, and the site's settings that shape the result."""

    editor: Editor
    at: dt.datetime  # now, by the app's clock
    tz: dt.tzinfo
    default_lang: str


def _revision_fields(form: StatementForm, *, with_note: bool) -> dict:
    return dict(
        title=form.title.strip(),
        summary=form.summary.strip(),
        source_text=form.body,
        source_format=form.source_format,
        correction_note=form.correction_note.strip() if with_note else "",
    )


def _add_revision(db, statement_id: str, fields: dict, author: str) -> tuple[str, tuple[str, ...]]:
    report = clean_report(render_body(fields["source_text"], fields["source_format"]))
    revision_id = store.add_revision(db, statement_id, body_html=report.html, author=author, **fields)
    return revision_id, report.removed


def create(db: sqlite3.Connection, form: StatementForm, ctx: Context, *, publish: bool) -> Outcome:
    """Store a new draft from the form (and publish or schedule it when asked)."""
    with transaction(db):
        statement_id = store.create_statement(
            db, title=form.title.strip(), lang=form.language(ctx.default_lang),
            published=form.publication_time(ctx.tz), tags=form.tag_list, slug=form.slug.strip() or None,
            translation_of=form.translation_of.strip() or None,
        )  # fmt: skip
        revision_id, removed = _add_revision(db, statement_id, _revision_fields(form, with_note=False), ctx.editor.email)
        audit.record(db, ctx.editor.email, "create", statement_id=statement_id, revision_id=revision_id)
        if publish:
            return _go_public(db, statement_id, form, ctx, removed=removed, revised=True)
    return Outcome(statement_id, revised=True, changed=True, removed=removed)


def _changed_details(db, statement: Statement, form: StatementForm, ctx: Context) -> bool:
    """Apply tags, language, slug and planned date from the form; True when any changed."""
    changed = False
    if store.normalized_tags(form.tag_list) != set(statement.tags):
        store.set_tags(db, statement.id, form.tag_list)
        changed = True
    # An emptied field keeps the language: detecting it again could flip it.
    lang = form.language(statement.lang, detect=False)
    if lang != statement.lang:
        store.set_language(db, statement.id, lang)
        changed = True
    if statement.status == "draft":
        changed |= _changed_draft_details(db, statement, form, ctx)
    return changed


def _changed_draft_details(db, statement: Statement, form: StatementForm, ctx: Context) -> bool:
    changed = False
    if form.slug.strip() and form.slug.strip() != statement.slug:
        changed = store.rename(db, statement.id, form.slug.strip()) != statement.slug
    when = form.publication_time(ctx.tz)
    if when != statement.published:
        if when is None:
            store.clear_published(db, statement.id)
        else:
            store.set_published(db, statement.id, when)
        changed = True
    return changed


def _same_content(db, statement: Statement, fields: dict) -> bool:
    current = store.get_revision(db, statement.revision)
    return all(current[name] == value for name, value in fields.items())


def save(db: sqlite3.Connection, statement_id: str, form: StatementForm, ctx: Context, *, publish: bool) -> Outcome:
    """Store the form as the statement's new state; raises Conflict or Refused.

    A published statement's new text is a correction: a new revision that
    readers see as "Updated". Saving a draft without publishing cancels a
    scheduled publication, so nothing goes out that was not meant to.
    """
    with transaction(db):
        statement = _current(db, statement_id, form.base_revision)
        if statement.status == "withdrawn":
            raise Refused(gettext("A withdrawn statement cannot be changed."))
        details = _changed_details(db, statement, form, ctx)
        fields = _revision_fields(form, with_note=statement.status == "published")
        revision_id, removed = None, ()
        if not _same_content(db, statement, fields):
            revision_id, removed = _add_revision(db, statement_id, fields, ctx.editor.email)
        elif details and statement.status == "published":
            store.mark_changed(db, statement_id)
        changed = details or revision_id is not None
        if changed:
            action = {"published": "correct" if revision_id else "update"}.get(statement.status, "save")
            audit.record(db, ctx.editor.email, action, statement_id=statement_id, revision_id=revision_id)
        if statement.status == "draft" and publish:
            return _go_public(db, statement_id, form, ctx, removed=removed, revised=revision_id is not None)
        unscheduled = statement.status == "draft" and store.unschedule(db, statement_id)
        if unscheduled:
            audit.record(db, ctx.editor.email, "unschedule", statement_id=statement_id)
    return Outcome(statement_id, revision_id is not None, changed, removed, unscheduled=unscheduled)


def _current(db, statement_id: str, base_revision: str | None) -> Statement:
    statement = store.get_by_id(db, statement_id)
    if statement is None:
        raise Refused(gettext("There is no such statement."))
    if base_revision is not None and statement.revision != base_revision:
        raise Conflict(statement)
    return statement


def _go_public(db, statement_id: str, form: StatementForm, ctx: Context, *, removed, revised) -> Outcome:
    """Publish now, or schedule when the publication time is still to come."""
    when = form.publication_time(ctx.tz)
    if when is not None and start_of(when, ctx.tz) > ctx.at:
        start = start_of(when, ctx.tz)
        store.schedule(db, statement_id, start)
        audit.record(db, ctx.editor.email, "schedule", statement_id=statement_id, detail=start.isoformat())
        return Outcome(statement_id, revised, True, removed, scheduled_for=start)
    store.publish(db, statement_id)  # also clears any earlier schedule
    revision = store.get_by_id(db, statement_id).revision
    audit.record(db, ctx.editor.email, "publish", statement_id=statement_id, revision_id=revision)
    return Outcome(statement_id, revised, True, removed, published=True)


def unschedule(db: sqlite3.Connection, statement_id: str, ctx: Context) -> bool:
    """Turn a scheduled draft back into a plain draft; False when it was not scheduled."""
    with transaction(db):
        done = store.unschedule(db, statement_id)
        if done:
            audit.record(db, ctx.editor.email, "unschedule", statement_id=statement_id)
    return done


def withdraw(db: sqlite3.Connection, statement_id: str, reason: str, ctx: Context) -> None:
    """Withdraw a published statement with the reason readers will see; Refused otherwise."""
    if not reason.strip():
        raise Refused(gettext("Give the reason for the withdrawal: readers will see it."))
    with transaction(db):
        statement = store.get_by_id(db, statement_id)
        if statement is None or statement.status != "published":
            raise Refused(gettext("Only a published statement can be withdrawn."))
        store.withdraw(db, statement_id, reason)
        audit.record(db, ctx.editor.email, "withdraw", statement_id=statement_id, detail=reason.strip())


def restore(db: sqlite3.Connection, statement_id: str, revision_id: str, base_revision: str, ctx: Context) -> str:
    """Make a copy of an earlier revision the current one; returns the new revision's id.

    The history stays append-only: restoring adds a revision, it never
    removes the ones after the restored one.
    """
    with transaction(db):
        statement = _current(db, statement_id, base_revision)
        if statement.status == "withdrawn":
            raise Refused(gettext("A withdrawn statement cannot be changed."))
        old = store.get_revision(db, revision_id)
        if old is None or old["statement_id"] != statement_id:
            raise Refused(gettext("That revision does not belong to this statement."))
        fields = {name: old[name] for name in ("title", "summary", "source_text", "source_format", "correction_note")}
        new_id = store.add_revision(db, statement_id, body_html=old["body_html"], author=ctx.editor.email, **fields)
        audit.record(db, ctx.editor.email, "restore", statement_id=statement_id, revision_id=new_id,
                     detail=str(old["number"]))  # fmt: skip
    return new_id
