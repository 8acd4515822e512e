"""The one write path: every change to a statement, by anyone, goes through here.

Create, revise, publish, schedule, unschedule, withdraw, republish, restore,
import and the scheduler's publication all take plain values, run in one
write transaction together with their audit entry, and share one validation, one
normalization and one sanitizing of the body. Where an editor's rules and an
import's differ on purpose, both rules are here: an editor's save against a
revision newer than the one the form started from is a :class:`Conflict`;
an import recognises its statement by id, slug or source file, and never
silently undoes an editor's change or a withdrawal.

Nothing else calls the store's writing functions (a test checks it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sqlite3
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bulletin.authoring import audit
from bulletin.i18n import gettext
from bulletin.statements import clock, slugs, store
from bulletin.statements.bodies import FORMATS, render_body
from bulletin.statements.db import busy_timeout, is_busy, transaction
from bulletin.statements.languages import detect_language, language_tag
from bulletin.statements.records import Statement
from bulletin.statements.sanitize import clean_report, description, text_start

MAX_TITLE = 300
MAX_SUMMARY = 1000
# Language detection reads this much of the body's HTML: whole paragraphs of
# prose decide it long before, and a megabyte body must not cost more.
LANGUAGE_SAMPLE = 20_000
IMPORT_ACTOR_PREFIX = "import: "
SCHEDULE_ACTOR = audit.SCHEDULE_ACTOR


class Conflict(Exception):
    """The statement has a newer revision than the one the editor started from."""

    def __init__(self, current: Statement):
        super().__init__(f"statement {current.slug} is at revision {current.revision}")
        self.current = current


class Refused(ValueError):
    """A change the statement's state or the values do not allow; the message says why and what to do."""


@dataclass(frozen=True)
class Draft:
    """A statement's content and details as a writer gives them: plain values, not yet checked."""

    title: str
    body: str  # the source text, in source_format
    source_format: str = "markdown"  # one of bodies.FORMATS
    summary: str = ""
    lang: str = ""  # a language tag; empty: detected from the text (or kept, when revising)
    tags: Sequence[str] = ()
    slug: str = ""  # empty: made from the title
    published: dt.date | dt.datetime | None = None  # the publication date or instant; None: when published
    translation_of: str = ""  # the original's slug or id
    correction_note: str = ""
    html: str | None = None  # the body already rendered (an imported HTML page); else rendered from ``body``


@dataclass(frozen=True)
class Context:
    """Who acts, when, and the site's settings that shape the result."""

    actor: str  # an editor's email, "import: <file>", or the scheduler
    at: dt.datetime  # now, by the app's clock
    tz: dt.tzinfo
    default_lang: str
    # Called with (connection, statement id) once a withdrawal (or its undoing) is committed, to
    # replace copies of its pages kept outside the database (nginx's, see
    # bulletin.site.proxy_refresh); it logs its own failures.
    after_withdrawal: Callable[[sqlite3.Connection, str], None] | None = None
    # Called with nothing once any change is committed, to bring copies of the public site kept
    # outside the database up to date (the published folder, see bulletin.publishing); it logs
    # its own failures and never raises, so a save stands whatever it does.
    after_commit: Callable[[], None] | None = None


def _announced(change):
    """Call the context's ``after_commit`` once ``change`` returned with its work committed (not
    inside a caller's transaction, whose commit is still to come: that caller announces it)."""

    @functools.wraps(change)
    def announced(db: sqlite3.Connection, *args, **kwargs):
        result = change(db, *args, **kwargs)
        ctx = next(value for value in (*args, *kwargs.values()) if isinstance(value, Context))
        if ctx.after_commit is not None and not db.in_transaction:
            ctx.after_commit()
        return result

    return announced


def tool_context(actor: str, at: dt.datetime | None = None) -> Context:
    """The context of a script or tool writing outside the app (tests, benchmarks): UTC, English."""
    return Context(actor, at or clock.now(), dt.UTC, "en")


@dataclass(frozen=True)
class Outcome:
    """What a change did, for the message its author sees next."""

    statement_id: str
    revised: bool  # a new revision was stored
    changed: bool  # anything at all was stored
    removed: tuple[str, ...] = ()  # what the sanitizer took out of the body
    published: bool = False
    scheduled_for: dt.datetime | None = None
    unscheduled: bool = False
    action: str = ""  # for imports: "created", "revised" or "unchanged"


# ------------------------------------------------------------------ checking


def problems(draft: Draft) -> dict[str, str]:
    """A message per field the draft gets wrong (empty: none), the same for editors and imports."""
    found = {}
    if not draft.title.strip():
        found["title"] = gettext("A statement needs a title.")
    elif len(draft.title) > MAX_TITLE:
        found["title"] = gettext("A title can have at most %(n)d characters.", n=MAX_TITLE)
    if len(draft.summary) > MAX_SUMMARY:
        found["summary"] = gettext("A summary can have at most %(n)d characters.", n=MAX_SUMMARY)
    if not draft.body.strip() and not (draft.html or "").strip():
        found["body"] = gettext("A statement needs a text.")
    if draft.source_format not in FORMATS:
        found["source_format"] = gettext("Choose Markdown, HTML or plain text.")
    if draft.lang.strip():
        try:
            language_tag(draft.lang)
        except ValueError:
            # Said beside the field, with examples of what is understood.
            found["lang"] = gettext("Write the language as a code such as en, ru or ar-EG.")
    return found


def _checked(draft: Draft) -> None:
    found = problems(draft)
    if found:
        raise Refused(" ".join(found.values()))


def start_of(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The instant a publication date or time begins: a date begins at midnight in ``tz``."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time(), tz).astimezone(dt.UTC)


# ------------------------------------------------------------------ content


@dataclass(frozen=True)
class _Content:
    """A draft's revision fields with its body rendered and sanitized, once."""

    fields: dict
    body_html: str
    removed: tuple[str, ...]
    description: str
    detected_lang: str | None  # None: the draft names its language, or the text did not tell

    def without_note(self) -> _Content:
        return _Content(
            {**self.fields, "correction_note": ""},
            self.body_html,
            self.removed,
            self.description,
            self.detected_lang,
        )


def nfc(text: str) -> str:
    """``text`` in Unicode's composed form (NFC): what a new revision stores, and so what is signed.

    The same words typed on two keyboards (é as one character or as e and a
    combining accent) are then the same bytes in every signed record, search
    and comparison. Revisions stored before stay as they are: append-only.
    """
    return unicodedata.normalize("NFC", text)


def _content(draft: Draft) -> _Content:
    """Render, sanitize and describe the draft's body: the slow part of every change, which the
    callers do before taking the write lock, so that no other writer (or the scheduler) waits on it."""
    body = nfc(draft.body)
    report = clean_report(
        nfc(draft.html) if draft.html is not None else render_body(body, draft.source_format)
    )
    fields = dict(
        title=nfc(draft.title.strip()),
        summary=nfc(draft.summary.strip()),
        source_text=body,
        source_format=draft.source_format,
        correction_note=nfc(draft.correction_note.strip()),
    )
    detected = None
    if not draft.lang.strip():
        detected = detect_language(f"{fields['title']}\n{text_start(report.html, LANGUAGE_SAMPLE)}")
    return _Content(fields, report.html, report.removed, description(report.html), detected)


def _language(draft: Draft, content: _Content, default: str) -> str:
    if draft.lang.strip():
        return language_tag(draft.lang)
    return content.detected_lang or default


def _add_revision(db, statement_id: str, content: _Content, author: str) -> str:
    return store.add_revision(
        db,
        statement_id,
        body_html=content.body_html,
        author=author,
        description=content.description,
        **content.fields,
    )


def _same_content(db, statement: Statement, content: _Content) -> bool:
    current = store.get_revision(db, statement.revision)
    same_fields = all(current[name] == value for name, value in content.fields.items())
    return same_fields and current["body_html"] == content.body_html


# ------------------------------------------------------------------ editors' changes


@_announced
def create(db: sqlite3.Connection, draft: Draft, ctx: Context, *, publish: bool = False) -> Outcome:
    """Store a new draft (and publish or schedule it when asked); Refused when the draft is wrong."""
    _checked(draft)
    content = _content(draft).without_note()
    with transaction(db):
        statement_id = _create(db, draft, content, ctx)
        if publish:
            return _go_public(db, statement_id, draft.published, ctx, removed=content.removed, revised=True)
    return Outcome(statement_id, revised=True, changed=True, removed=content.removed)


def _create(db, draft: Draft, content: _Content, ctx: Context, **identity) -> str:
    statement_id = store.create_statement(
        db,
        title=content.fields["title"],
        lang=_language(draft, content, ctx.default_lang),
        published=draft.published,
        tags=draft.tags,
        # Normalized as a rename does: a slug as typed ("a/b") would give an address that 404s.
        slug=slugs.slugify(draft.slug) or None,
        translation_of=draft.translation_of.strip() or None,
        **identity,
    )
    revision_id = _add_revision(db, statement_id, content, ctx.actor)
    audit.record(db, ctx.actor, "create", statement_id=statement_id, revision_id=revision_id)
    return statement_id


def _changed_details(db, statement: Statement, draft: Draft) -> bool:
    """Apply tags, language, slug and planned date from the draft; True when any changed."""
    changed = False
    if store.normalized_tags(draft.tags) != set(statement.tags):
        store.set_tags(db, statement.id, draft.tags)
        changed = True
    # An emptied language keeps the one the statement has: detecting it again could flip it.
    if draft.lang.strip() and language_tag(draft.lang) != statement.lang:
        store.set_language(db, statement.id, language_tag(draft.lang))
        changed = True
    if statement.status == "draft":
        changed |= _changed_draft_details(db, statement, draft)
    return changed


def _changed_draft_details(db, statement: Statement, draft: Draft) -> bool:
    changed = False
    if draft.slug.strip() and draft.slug.strip() != statement.slug:
        changed = store.rename(db, statement.id, draft.slug.strip()) != statement.slug
    if draft.published != statement.published:
        if draft.published is None:
            store.clear_published(db, statement.id)
        else:
            store.set_published(db, statement.id, draft.published)
        changed = True
    return changed


@_announced
def save(
    db: sqlite3.Connection,
    statement_id: str,
    draft: Draft,
    ctx: Context,
    *,
    publish: bool = False,
    base_revision: str | None = None,
) -> Outcome:
    """Store the draft as the statement's new state; raises Conflict or Refused.

    ``base_revision`` is the revision the editor started from (None: no
    check). A published statement's new text is a correction: a new revision
    that readers see as "Updated". Saving a draft without publishing cancels
    a scheduled publication, so nothing goes out that was not meant to.
    """
    _checked(draft)
    rendered = _content(draft)  # before the lock: see _content
    with transaction(db):
        statement = _changeable(db, statement_id, base_revision)
        details = _changed_details(db, statement, draft)
        # Only a correction of a published statement carries a note.
        content = rendered if statement.status == "published" else rendered.without_note()
        revision_id, removed = None, content.removed
        if not _same_content(db, statement, content):
            revision_id = _add_revision(db, statement_id, content, ctx.actor)
        elif details and statement.status == "published":
            store.mark_changed(db, statement_id)
        changed = details or revision_id is not None
        if changed:
            action = {"published": "correct" if revision_id else "update"}.get(statement.status, "save")
            audit.record(db, ctx.actor, action, statement_id=statement_id, revision_id=revision_id)
        if statement.status == "draft" and publish:
            return _go_public(
                db, statement_id, draft.published, ctx, removed=removed, revised=revision_id is not None
            )
        unscheduled = statement.status == "draft" and store.unschedule(db, statement_id)
        if unscheduled:
            audit.record(db, ctx.actor, "unschedule", statement_id=statement_id)
    return Outcome(statement_id, revision_id is not None, changed, removed, unscheduled=unscheduled)


def _changeable(db, statement_id: str, base_revision: str | None) -> Statement:
    """The statement a save or a restore starts from: it exists, is still at ``base_revision``, and is not withdrawn."""
    statement = store.get_by_id(db, statement_id)
    if statement is None:
        raise Refused(gettext("There is no such statement."))
    if base_revision is not None and statement.revision != base_revision:
        raise Conflict(statement)
    if statement.status == "withdrawn":
        raise Refused(gettext("A withdrawn statement cannot be changed."))
    return statement


def _go_public(db, statement_id: str, when, ctx: Context, *, removed, revised) -> Outcome:
    """Publish now, or schedule when the publication time is still to come."""
    if when is not None and start_of(when, ctx.tz) > ctx.at:
        start = start_of(when, ctx.tz)
        store.schedule(db, statement_id, start)
        audit.record(db, ctx.actor, "schedule", statement_id=statement_id, detail=start.isoformat())
        return Outcome(statement_id, revised, True, removed, scheduled_for=start)
    store.publish(db, statement_id)  # also clears any earlier schedule
    revision = store.get_by_id(db, statement_id).revision
    audit.record(db, ctx.actor, "publish", statement_id=statement_id, revision_id=revision)
    return Outcome(statement_id, revised, True, removed, published=True)


@_announced
def publish(db: sqlite3.Connection, statement_id: str, revision: str, ctx: Context) -> Outcome:
    """Publish (or schedule, when its time is still to come) a draft exactly at ``revision``.

    The preview's Publish: what goes out is the revision the editor looked
    at, so a newer one saved meanwhile is a Conflict, not published unseen.
    Refused for a statement that is not a draft.
    """
    with transaction(db):
        statement = _changeable(db, statement_id, revision)
        if statement.status != "draft":
            raise Refused(gettext("Only a draft can be published; this statement is already public."))
        return _go_public(db, statement_id, statement.published, ctx, removed=(), revised=False)


@_announced
def unschedule(db: sqlite3.Connection, statement_id: str, ctx: Context) -> bool:
    """Turn a scheduled draft back into a plain draft; False when it was not scheduled."""
    with transaction(db):
        done = store.unschedule(db, statement_id)
        if done:
            audit.record(db, ctx.actor, "unschedule", statement_id=statement_id)
    return done


def check_withdrawal(statement: Statement | None, reason: str) -> None:
    """Refused (saying why) unless ``statement`` is published and ``reason`` says something: what a
    withdrawal checks, for the step that asks to confirm it."""
    if not reason.strip():
        raise Refused(gettext("Give the reason for the withdrawal: readers will see it."))
    if statement is None or statement.status != "published":
        raise Refused(gettext("Only a published statement can be withdrawn."))


# The audit line's detail of a change recorded because the article renders differently.
RENDERED_ANEW = "its article renders differently after a deploy"


@_announced
def rendered_anew(db: sqlite3.Connection, statement_ids: list[str], ctx: Context) -> int:
    """Record a change of each statement whose article (or withdrawal notice) the app now renders
    differently than its signed record holds (a deploy changed a template or the code), so its record is
    made again at a new position and devices take it; each audited. How many were recorded."""
    done = 0
    with transaction(db):
        for statement_id in statement_ids:
            if store.mark_rendered_anew(db, statement_id) is not None:
                audit.record(db, ctx.actor, "update", statement_id=statement_id, detail=RENDERED_ANEW)
                done += 1
    return done


@_announced
def withdraw(db: sqlite3.Connection, statement_id: str, reason: str, ctx: Context) -> None:
    """Withdraw a published statement with the reason readers will see; Refused otherwise."""
    with transaction(db):
        check_withdrawal(store.get_by_id(db, statement_id), reason)
        reason = nfc(reason)  # readers' devices get it in a signed record
        store.withdraw(db, statement_id, reason)
        audit.record(db, ctx.actor, "withdraw", statement_id=statement_id, detail=reason.strip())
    # Inside a caller's transaction nothing is committed yet: a copy renewed now
    # would be the statement still published, so the caller renews after its commit.
    if ctx.after_withdrawal is not None and not db.in_transaction:
        ctx.after_withdrawal(db, statement_id)


@_announced
def republish(db: sqlite3.Connection, statement_id: str, ctx: Context) -> None:
    """Undo a withdrawal: the statement is public again, devices get it back at their next sync; Refused
    when it is not withdrawn."""
    with transaction(db):
        statement = store.get_by_id(db, statement_id)
        if statement is None or statement.status != "withdrawn":
            raise Refused(gettext("Only a withdrawn statement can be published again."))
        store.republish(db, statement_id)
        audit.record(
            db,
            ctx.actor,
            "republish",
            statement_id=statement_id,
            revision_id=statement.revision,
            detail=statement.withdrawal_reason,
        )
    # The pages nginx kept of the withdrawal (410s, lists without it) are renewed as after a withdrawal.
    if ctx.after_withdrawal is not None and not db.in_transaction:
        ctx.after_withdrawal(db, statement_id)


@_announced
def restore(
    db: sqlite3.Connection, statement_id: str, revision_id: str, base_revision: str, ctx: Context
) -> str:
    """Make a copy of an earlier revision the current one; returns the new revision's id.

    The history stays append-only: restoring adds a revision, it never
    removes the ones after the restored one.
    """
    with transaction(db):
        _changeable(db, statement_id, base_revision)  # refuses a missing, moved-on or withdrawn statement
        old = store.get_revision(db, revision_id)
        if old is None or old["statement_id"] != statement_id:
            raise Refused(gettext("That revision does not belong to this statement."))
        fields = {
            name: old[name]
            for name in ("title", "summary", "source_text", "source_format", "correction_note")
        }
        new_id = store.add_revision(
            db,
            statement_id,
            body_html=old["body_html"],
            author=ctx.actor,
            description=old["description"],
            **fields,
        )
        detail = str(old["number"])
        audit.record(db, ctx.actor, "restore", statement_id=statement_id, revision_id=new_id, detail=detail)
    return new_id


# ------------------------------------------------------------------ the scheduler


def publish_due(db: sqlite3.Connection, at: dt.datetime, *, wait: float | None = None) -> list[str]:
    """Publish every scheduled draft whose time has come by ``at`` (cheap when none has); their ids.

    ``wait``: at most that many seconds for the write lock, and when another
    connection holds it longer, publish nothing (an empty list) and leave it
    to a later call: a request must not queue behind a save or an import for
    what the next request does as well. None waits as long as the
    connection's busy timeout.
    """
    if not store.is_due(db, at):
        return []
    try:
        with contextlib.ExitStack() as stack:
            if wait is not None:
                stack.enter_context(busy_timeout(db, wait))
            with transaction(db):
                # Another worker may have published them between the look-up and the lock.
                due = store.promote_due(db, at)
                for statement_id in due:
                    revision = store.get_by_id(db, statement_id).revision
                    audit.record(
                        db, SCHEDULE_ACTOR, "publish", statement_id=statement_id, revision_id=revision
                    )
    except sqlite3.OperationalError as error:
        if wait is None or not is_busy(error):
            raise
        return []
    return due


# ------------------------------------------------------------------ imports


def import_actor(source_key: str) -> str:
    """Who an import of ``source_key`` is, in revisions and the audit log."""
    return IMPORT_ACTOR_PREFIX + source_key


@_announced
def import_statement(
    db: sqlite3.Connection,
    draft: Draft,
    ctx: Context,
    *,
    source_key: str,
    statement_id: str | None = None,
    force: bool = False,
    earlier_keys: Sequence[str] = (),
) -> Outcome:
    """Create or revise the statement a file holds, published; ``action`` says which (or "unchanged").

    The statement is recognised by ``statement_id``, else by ``draft.slug``
    (an old slug included), else by ``source_key`` from its first import
    (or one of ``earlier_keys``, the forms an older release stored for the
    same file). A file revises only a statement created from the same source:
    another statement it names is Refused unless ``force``, as are a withdrawn
    statement and one an editor changed since the last import.
    """
    _checked(draft)
    statement_id = _checked_id(statement_id)
    content = _content(draft).without_note()
    own_keys = (source_key, *earlier_keys)
    with transaction(db):
        existing = _imported_before(db, statement_id, draft.slug, own_keys)
        if existing is None:
            new_id = _create(db, draft, content, ctx, statement_id=statement_id, source_key=source_key)
            store.publish(db, new_id)
            audit.record(
                db,
                ctx.actor,
                "publish",
                statement_id=new_id,
                revision_id=store.get_by_id(db, new_id).revision,
            )
            return Outcome(
                new_id, revised=True, changed=True, removed=content.removed, published=True, action="created"
            )
        return _reimport(db, existing, draft, content, ctx, force, own=existing.source_key in own_keys)


def _imported_before(db, statement_id: str | None, slug: str, own_keys: Sequence[str]) -> Statement | None:
    if statement_id:
        return store.get_by_id(db, statement_id)
    if slug:
        for wanted in dict.fromkeys((slug, slugs.slugify(slug))):
            found = store.get_by_slug(db, wanted) or store.get_by_slug(
                db, store.current_slug_for(db, wanted) or ""
            )
            if found:
                return found
        return None
    for key in own_keys:
        if found := store.get_by_source_key(db, key):
            return found
    return None


def _checked_id(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as e:
        # Refused with the fix, like every other problem of an imported file.
        raise Refused(f"id {value!r} is not a UUID: remove it to let Bulletin choose one") from e


def _reimport(
    db, existing: Statement, draft: Draft, content: _Content, ctx: Context, force: bool, *, own: bool
) -> Outcome:
    """Add a revision to an already imported statement when the file changed.

    ``own``: the statement was created from this same source file.
    """
    if existing.is_withdrawn and not force:
        raise Refused(f"statement {existing.slug} was withdrawn: pass --force to import it again")
    last_author = store.revisions_of(db, existing.id)[-1]["author"]
    if not last_author.startswith(IMPORT_ACTOR_PREFIX) and not force:
        raise Refused(
            f"statement {existing.slug} was changed by {last_author} since it was imported:"
            " pass --force to replace that change with this file"
        )
    tags = tuple(sorted(store.normalized_tags(draft.tags or existing.tags)))
    published = draft.published or existing.published
    now_is = (existing.title, existing.summary, existing.body_html, existing.tags, existing.published)
    if now_is == (content.fields["title"], content.fields["summary"], content.body_html, tags, published):
        return Outcome(existing.id, revised=False, changed=False, action="unchanged")
    if not own and not force:
        # Its id or slug names a statement another source created (or an editor wrote): an
        # import must never replace that without being told to.
        origin = f"imported from {existing.source_key}" if existing.source_key else "written in the editor"
        raise Refused(
            f"would overwrite statement {existing.slug} (id {existing.id}, {origin}):"
            " a file revises only the statement it created; change its id or slug, or pass --force"
        )
    store.set_tags(db, existing.id, tags)
    if draft.published:
        store.set_published(db, existing.id, draft.published)
    revision_id = _add_revision(db, existing.id, content, ctx.actor)
    action = "correct" if existing.status == "published" else "save"
    audit.record(db, ctx.actor, action, statement_id=existing.id, revision_id=revision_id)
    return Outcome(existing.id, revised=True, changed=True, removed=content.removed, action="revised")
