"""The editor, plugged into the app: sessions, CSRF, its pages and its commands."""

from __future__ import annotations

from flask import Flask

from bulletin.editor import (
    accounts_page,
    audit_page,
    auth,
    autosave,
    commands,
    enrolment,
    history,
    pages,
    roles,
    web,
)


def init_app(app: Flask) -> None:
    """Register everything under /editor/ and the account commands."""
    web.init_app(app)
    roles.init_app(app)
    commands.init_app(app)
    for blueprint in (
        auth.bp,
        pages.bp,
        autosave.bp,
        history.bp,
        audit_page.bp,
        enrolment.bp,
        accounts_page.bp,
    ):
        app.register_blueprint(blueprint)
