"""The editor's statement pages: the lists, create, translate and edit, preview, publish, withdraw, undo.

Everything works with plain forms and no JavaScript. Saving goes through
:mod:`bulletin.authoring`; these views only read the form, call it, and say
what happened (including what the sanitizer removed). Publishing from the
preview, withdrawing and undoing a withdrawal are each one view, so a rule
about who may do them is one line there.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from urllib.parse import urljoin

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup

from bulletin.authoring import changes
from bulletin.editor import autosave, diffs, listing, removals, working_copies
from bulletin.editor.forms import StatementForm, site_zone
from bulletin.editor.roles import PUBLISH, require
from bulletin.editor.web import editor_blueprint, editor_time
from bulletin.http import errors
from bulletin.http.database import get_db
from bulletin.i18n import gettext
from bulletin.publishing import publisher
from bulletin.site import proxy_refresh
from bulletin.site.render import article_html
from bulletin.statements import clock, db, store

bp = editor_blueprint("editor", __name__)


def context() -> changes.Context:
    """The acting editor, the app's clock and the site's zone and language."""
    config = current_app.config
    return changes.Context(
        g.editor.email,
        clock.now(),
        site_zone(config["TIMEZONE"]),
        config["DEFAULT_LANG"],
        after_withdrawal=proxy_refresh.of(current_app),
        after_commit=publisher.trigger_of(current_app._get_current_object()),
    )


def load(statement_id: str):
    """The statement with this id in any status, or 404."""
    statement = store.get_by_id(get_db(), statement_id)
    if statement is None:
        abort(404)
    return statement


@bp.get("/")
def index():
    """Drafts (and scheduled ones), published and withdrawn statements, filtered and searched as asked."""
    db = get_db()
    filters = listing.read_filters(request.args)
    return render_template(
        "editor/index.html",
        lists=listing.statements(db, filters),
        filters=filters,
        orders=listing.ORDERS,
        languages=store.languages_in_use(db),
        tags=store.tags_in_use(db),
        schedules=store.schedules(db),
    )


def _edit_page(form: StatementForm, statement=None, *, status: int = 200, conflict=None, working_copy=None):
    db = get_db()
    key = statement.id if statement else working_copies.NEW
    page = render_template(
        "editor/edit.html",
        form=form,
        statement=statement,
        scheduled_at=store.scheduled_at(db, statement.id) if statement else None,
        conflict=conflict,
        timezone=current_app.config["TIMEZONE"],
        # A new translation shows its original beside the form.
        original=store.get_by_id(db, form.translation_of)
        if statement is None and form.translation_of
        else None,
        working_copy=working_copy,
        # The editor script drops its copy on the device once the server's is gone (saved or discarded).
        server_has_copy=autosave.has_working_copy(key),
        gone_copy=autosave.gone_copy(),
    )
    return page, status


@bp.get("/statements/new")
def new():
    """An empty statement form, offering the editor's unsaved text of a new statement if any."""
    form, copy = autosave.offered_form(working_copies.NEW, StatementForm())
    return _edit_page(form, working_copy=copy)


@bp.get("/statements/<statement_id>/translate")
def translate(statement_id: str):
    """A new draft's form linked to the statement as its translation, the original beside it."""
    original = load(statement_id)
    if original.is_withdrawn:
        message = gettext("A withdrawn statement cannot be translated: undo the withdrawal first.")
        return render_template("editor/error.html", status=409, message=message), 409
    return _edit_page(StatementForm.translating(original))


@bp.post("/statements/new")
def create():
    """Store a new draft; publish or schedule it at once when asked."""
    if request.form.get("action") == "publish":
        require(PUBLISH)
    form = StatementForm.from_request(request.form)
    ctx = context()
    if not form.validate(ctx.tz):
        return _edit_page(form, status=422)
    try:
        outcome = changes.create(
            get_db(), form.draft(ctx.tz), ctx, publish=request.form.get("action") == "publish"
        )
    except store.StoreError:
        # The one store rule a new statement can break: an unknown original (deleted by a restore, or
        # a hand-made form). Said where the original would be shown.
        form.errors["translation_of"] = gettext(
            "The statement this translates is not here any more: save it as an original, or start again "
            "from “Translate this” on the original."
        )
        return _edit_page(form, status=422)
    except sqlite3.OperationalError as e:
        return _unsaved_page(form, None, e)
    autosave.forget(working_copies.NEW)
    _tell(outcome)
    return redirect(url_for("editor.edit", statement_id=outcome.statement_id))


@bp.get("/statements/<statement_id>")
def edit(statement_id: str):
    """The statement's form, filled with its current revision, offering the editor's unsaved text if any."""
    statement = load(statement_id)
    tz = site_zone(current_app.config["TIMEZONE"])
    form = StatementForm.from_statement(get_db(), statement, tz)
    if statement.status != "withdrawn":
        form, copy = autosave.offered_form(statement.id, form)
        return _edit_page(form, statement, working_copy=copy)
    return _edit_page(form, statement)


@bp.post("/statements/<statement_id>")
def save(statement_id: str):
    """Save the form; 409 with both versions when someone saved a newer revision meanwhile."""
    statement = load(statement_id)
    publish = request.form.get("action") == "publish"
    if publish or statement.status == "published":
        # Saving a published statement is a correction: readers see it at once.
        require(PUBLISH, statement_id=statement_id)
    form = StatementForm.from_request(request.form)
    ctx = context()
    if not form.validate(ctx.tz):
        return _edit_page(form, statement, status=422)
    try:
        outcome = changes.save(
            get_db(), statement_id, form.draft(ctx.tz), ctx, publish=publish, base_revision=form.base_revision
        )
    except changes.Conflict as e:
        # Someone saved meanwhile: the editor gets both versions, their text kept.
        return _conflict_page(form, e.current)
    except (changes.Refused, store.StoreError) as e:
        # The message says what to change; the form comes back as typed.
        form.errors["form"] = str(e)
        return _edit_page(form, statement, status=422)
    except sqlite3.OperationalError as e:
        return _unsaved_page(form, statement, e)
    autosave.forget(statement_id)
    _tell(outcome)
    return redirect(url_for("editor.edit", statement_id=statement_id))


def _unsaved_page(form: StatementForm, statement, error: sqlite3.OperationalError):
    """The form as typed, with why it was not saved, when the database is busy, read-only or full (503)."""
    message = errors.database_trouble(error)
    if message is None:
        raise error
    form.errors["form"] = gettext(message) + " " + gettext("Your text is still in the form below.")
    page, _status = _edit_page(form, statement, status=503)
    return page, 503, {"Retry-After": "5" if db.is_busy(error) else "60"}


def _conflict_page(form: StatementForm, current):
    """The editor's text, untouched, beside the newer saved version, ready to merge."""
    tz = site_zone(current_app.config["TIMEZONE"])
    saved = StatementForm.from_statement(get_db(), current, tz)
    revision = store.get_revision(get_db(), current.revision)
    conflict = {
        "saved": saved,
        "revision": revision,
        "body_diff": diffs.line_diff(saved.body, form.body),
        "title_diff": diffs.line_diff(saved.title, form.title),
    }
    # Saving again from this page is a deliberate merge over the newer revision.
    form = dataclasses.replace(form, base_revision=current.revision)
    return _edit_page(form, current, status=409, conflict=conflict)


def _tell(outcome: changes.Outcome) -> None:
    """Flash what the save did, and what the sanitizer removed from the body."""
    if outcome.scheduled_for:
        flash(
            gettext(
                "Scheduled: it becomes public on %(time)s (%(zone)s). Until then readers see nothing.",
                time=editor_time(outcome.scheduled_for),
                zone=current_app.config["TIMEZONE"],
            ),
            "notice",
        )
    elif outcome.published:
        flash(gettext("Published: readers see it now, and devices get it at their next sync."), "notice")
    elif outcome.changed:
        flash(gettext("Saved."), "notice")
    else:
        flash(gettext("Nothing had changed, so nothing was saved."), "notice")
    if outcome.unscheduled:
        flash(gettext("The scheduled publication was cancelled: it is a draft again."), "notice")
    if outcome.removed:
        flash(gettext("The sanitizer removed parts of the text. Check the preview."), "removed")
        for sentence in removals.plain_words(outcome.removed):
            flash(sentence, "removed")


@bp.post("/statements/<statement_id>/unschedule")
def unschedule(statement_id: str):
    """Cancel a scheduled publication; the statement stays a draft."""
    load(statement_id)
    require(PUBLISH, statement_id=statement_id)
    if changes.unschedule(get_db(), statement_id, context()):
        flash(gettext("The scheduled publication was cancelled: it is a draft again."), "notice")
    return redirect(url_for("editor.edit", statement_id=statement_id))


@bp.post("/statements/<statement_id>/withdraw")
def withdraw(statement_id: str):
    """Withdraw a published statement once confirmed; its page then answers 410 with the reason.

    Without ``confirm=yes`` nothing changes: the answer is the confirmation
    step (a page, so it works without JavaScript), which posts back here.
    """
    statement = load(statement_id)
    require(PUBLISH, statement_id=statement_id)
    reason = request.form.get("reason", "")
    try:
        if request.form.get("confirm") != "yes":
            changes.check_withdrawal(statement, reason)
            return render_template("editor/withdraw.html", statement=statement, reason=reason.strip())
        changes.withdraw(get_db(), statement_id, reason, context())
    except changes.Refused as e:
        # No reason given, or not a published statement: said beside the reason field.
        tz = site_zone(current_app.config["TIMEZONE"])
        form = StatementForm.from_statement(get_db(), statement, tz)
        form.errors["reason"] = str(e)
        return _edit_page(form, statement, status=422)
    flash(
        gettext(
            "Withdrawn: its page now shows the reason, and devices replace it at their next sync. "
            "“Undo the withdrawal” below publishes it again."
        ),
        "notice",
    )
    return redirect(url_for("editor.edit", statement_id=statement_id))


@bp.post("/statements/<statement_id>/republish")
def republish(statement_id: str):
    """Undo a withdrawal: the statement is public again, and devices get it back at their next sync."""
    load(statement_id)
    require(PUBLISH, statement_id=statement_id)
    try:
        changes.republish(get_db(), statement_id, context())
    except changes.Refused as e:
        # Not withdrawn (any more): a second click, or another editor was first.
        flash(str(e), "error")
        return redirect(url_for("editor.edit", statement_id=statement_id))
    flash(
        gettext("Published again: readers see it now, and devices get it back at their next sync."), "notice"
    )
    return redirect(url_for("editor.edit", statement_id=statement_id))


@bp.post("/statements/<statement_id>/publish")
def publish(statement_id: str):
    """Publish from the preview exactly the revision it showed (``revision``), or schedule it."""
    statement = load(statement_id)
    require(PUBLISH, statement_id=statement_id)
    try:
        outcome = changes.publish(get_db(), statement_id, request.form.get("revision", ""), context())
    except changes.Conflict as e:
        # Saved again since the preview was shown: the newer revision is previewed, not published unseen.
        message = gettext(
            "Not published: the statement was saved again after this preview was shown. "
            "This is how it is now; look it over before publishing."
        )
        return _preview_page(e.current, error=message, status=409)
    except changes.Refused as e:
        return _preview_page(statement, error=str(e), status=409)
    _tell(outcome)
    return redirect(url_for("editor.edit", statement_id=statement_id))


@bp.get("/statements/<statement_id>/preview")
def preview(statement_id: str):
    """The reader's page of the statement's current revision as it will be served, marked as a preview."""
    return _preview_page(load(statement_id))


# A link's address that is relative to the page it is on: no scheme, not rooted, not a fragment.
_RELATIVE_HREF = re.compile(r'href="(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^"]*)"')


def _as_on_its_page(article: Markup, statement) -> Markup:
    """The article with its relative links resolved as on the reader's page: the preview is at another address."""
    page = url_for("reader.statement", slug=statement.slug)
    return Markup(_RELATIVE_HREF.sub(lambda found: f'href="{urljoin(page, found.group(1))}"', str(article)))


def _preview_page(statement, *, error: str = "", status: int = 200):
    """The preview of ``statement``: the reader's page, below a bar that says it is not public, with
    Publish (a draft, at exactly this revision) and Back to editing."""
    db = get_db()
    planned = statement.published
    if statement.published is None:
        # What publishing now would give it; the reader's page always has a date.
        statement = dataclasses.replace(statement, published=clock.now())
    tz = site_zone(current_app.config["TIMEZONE"])
    schedules = planned is not None and changes.start_of(planned, tz) > clock.now()
    page = render_template(
        "editor/preview.html",
        statement=statement,
        article=_as_on_its_page(article_html(statement, store.translations_of(db, statement)), statement),
        schedules_for=changes.start_of(planned, tz) if schedules else None,
        timezone=current_app.config["TIMEZONE"],
        error=error,
    )
    return page, status
