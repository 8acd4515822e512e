"""Flask commands for editor accounts: ``create-editor`` and ``set-password``.

On a terminal the password is asked twice, hidden. Otherwise the first line
of standard input is the password (its newline removed), so a script can
write ``printf '%s\\n' "$PASSWORD" | flask --app app create-editor EMAIL``.
A command's docstring is its ``--help``.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from bulletin.authoring import audit
from bulletin.editor import accounts, passwords, sessions
from bulletin.http.database import prepared_db
from bulletin.statements.db import transaction


def stdin_is_terminal() -> bool:
    """Whether a person is typing (prompt twice) rather than a script piping."""
    return sys.stdin.isatty()


def read_password() -> str:
    """The new password: prompted twice on a terminal, else the first line of standard input."""
    if stdin_is_terminal():
        return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("create-editor")
@click.argument("email")
@with_appcontext
def create_editor_command(email: str):
    """Create an editor account with EMAIL; exit 1 if it exists or the password is refused.

    The password is asked twice on a terminal; otherwise it is the first
    line of standard input.
    """
    connection = prepared_db()
    try:
        email = accounts.normalize_email(email)
        if accounts.find(connection, email):
            _fail(f"an editor with the email {email} already exists: use set-password to change the password")
        password = read_password()
        with transaction(connection):
            editor = accounts.create(connection, email, password)
            audit.record(connection, editor.email, "editor")
    except (accounts.AccountError, passwords.PasswordRefused) as e:
        # The operator reads why on the terminal; exit 1, nothing stored.
        _fail(str(e))
    click.echo(f"created editor {editor.email}; log in at /editor/login")


@click.command("set-password")
@click.argument("email")
@with_appcontext
def set_password_command(email: str):
    """Set the password of the editor with EMAIL and end all their sessions.

    The password is asked twice on a terminal; otherwise it is the first
    line of standard input.
    """
    connection = prepared_db()
    editor = accounts.find(connection, email)
    if editor is None:
        _fail(f"no editor has the email {email.strip()}: create one with create-editor")
    try:
        password = read_password()
        with transaction(connection):
            ended = sessions.end_all(connection, editor.id)
            accounts.set_password(connection, editor, password)
            audit.record(connection, editor.email, "password")
    except passwords.PasswordRefused as e:
        # The operator reads why on the terminal; exit 1, nothing stored.
        _fail(str(e))
    click.echo(f"password of {editor.email} changed; {ended} session(s) ended")


def init_app(app: Flask) -> None:
    """Register the account commands on the app's ``flask`` CLI."""
    app.cli.add_command(create_editor_command)
    app.cli.add_command(set_password_command)
