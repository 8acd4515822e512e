"""Setting up a second factor: ``/editor/second-factor`` (and new recovery codes once it is on).

The page shows a secret as a QR code and as text; the second factor is on
once the editor types a code their app made from it, and the recovery codes
are then shown on that one answer and never again. Wrong codes count against
the login throttle here too. Where the operator requires a second factor
of the editor's role (``BULLETIN_REQUIRE_2FA``), this is the only page an
editor without one can reach (see :mod:`bulletin.editor.web`).
"""

from __future__ import annotations

from flask import current_app, g, make_response, redirect, render_template, request, url_for

from bulletin.authoring import audit
from bulletin.editor import second_factor, throttle
from bulletin.editor.web import editor_blueprint, safe_next
from bulletin.http.database import get_db
from bulletin.i18n import gettext
from bulletin.statements.db import transaction

bp = editor_blueprint("second_factor", __name__)


def _page(status: int = 200, *, error: str | None = None, headers: dict | None = None):
    """The enrolment page (or, once enrolled, what is set up); ``error`` beside the code field."""
    db = get_db()
    editor = g.editor
    values = {"error": error, "next": request.values.get("next", ""), "codes": None}
    if editor.second_factor:
        values["codes_left"] = second_factor.recovery_codes_left(db, editor.id)
    else:
        with transaction(db):
            secret = second_factor.pending_secret(db, editor)
        uri = second_factor.provisioning_uri(secret, editor.email, current_app.config["SITE_NAME"])
        values["qr"] = second_factor.qr_svg(uri, gettext("QR code to scan with an authenticator app"))
        values["secret"] = second_factor.spaced(secret)
    page = render_template("editor/second_factor.html", **values)
    return make_response(page, status, headers or {})


@bp.get("/second-factor")
def setup():
    """The QR code and the code field; once enrolled, how many recovery codes are left."""
    return _page()


@bp.post("/second-factor")
def confirm():
    """Turn the second factor on with a code from the app; the recovery codes, shown once."""
    if g.editor.second_factor:
        return redirect(url_for("second_factor.setup"))
    refused = _throttled()
    if refused:
        return refused
    db = get_db()
    try:
        with transaction(db):
            codes = second_factor.enrol(db, g.editor, request.form.get("code", ""))
            audit.record(db, g.editor.email, "second_factor" if codes else "second_factor_refused")
    except second_factor.Malformed:
        return _not_a_code()
    if not codes:
        return _page(
            422,
            error=gettext("That code is not right. Check the time on your phone, then type the next one."),
        )
    return _codes_page(codes)


def _throttled():
    """The 429 page while this editor's attempts are throttled (codes count as passwords do); None to go on."""
    wait = throttle.attempt(get_db(), throttle.attempt_keys(g.editor.email))
    return _page(429, error=throttle.too_many(wait), headers={"Retry-After": str(wait)}) if wait else None


def _not_a_code():
    return _page(400, error=gettext("That is not a code: a code has 6 digits."))


def _codes_page(codes: list[str]) -> str:
    """The recovery codes, on this one answer only."""
    return render_template(
        "editor/second_factor.html", codes=codes, next=safe_next(request.form.get("next")), error=None
    )


@bp.post("/second-factor/recovery-codes")
def new_recovery_codes():
    """Replace the recovery codes, for a code from the app (not a recovery code); the new ones shown once."""
    if not g.editor.second_factor:
        return redirect(url_for("second_factor.setup"))
    refused = _throttled()
    if refused:
        return refused
    db = get_db()
    try:
        with transaction(db):
            secret = second_factor.secret_of(db, g.editor)
            code = request.form.get("code", "")
            passed = secret is not None and second_factor.accept_totp(db, g.editor.id, secret, code)
            codes = second_factor.new_recovery_codes(db, g.editor.id) if passed else None
            audit.record(db, g.editor.email, "recovery_codes" if passed else "second_factor_refused")
    except second_factor.Malformed:
        return _not_a_code()
    if not codes:
        return _page(422, error=gettext("That code is not right: type the one your app shows now."))
    return _codes_page(codes)
