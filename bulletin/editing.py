"""The editor, plugged into the app: sessions, CSRF, its pages and its commands."""

from __future__ import annotations

from flask import Flask

from . import audit_page, auth, editor, editor_cli, editor_web, history


def init_app(app: Flask) -> None:
    """Register everything under /editor/ and the account commands."""
    editor_web.init_app(app)
    editor_cli.init_app(app)
    for blueprint in (auth.bp, editor.bp, history.bp, audit_page.bp):
        app.register_blueprint(blueprint)
