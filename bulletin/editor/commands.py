"""Flask commands for editor accounts: ``create-editor``, ``set-password``, ``set-role`` and ``reset-2fa``.

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
from bulletin.editor import accounts, passwords, second_factor, sessions
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
@click.option(
    "--role",
    type=click.Choice(accounts.ROLES),
    default=accounts.DEFAULT_ROLE,
    show_default=True,
    help="writer: drafts only; publisher: also publishes, corrects, withdraws; admin: also manages accounts.",
)
@with_appcontext
def create_editor_command(email: str, role: str):
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
            editor = accounts.create(connection, email, password, role)
            audit.record(connection, editor.email, "editor", detail=role)
    except (accounts.AccountError, passwords.PasswordRefused) as e:
        # The operator reads why on the terminal; exit 1, nothing stored.
        _fail(str(e))
    click.echo(f"created editor {editor.email} ({editor.role}); log in at /editor/login")


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


def _existing(connection, email: str) -> accounts.Editor:
    editor = accounts.find(connection, email)
    if editor is None:
        _fail(f"no editor has the email {email.strip()[:254]}: create one with create-editor")
    return editor


@click.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(accounts.ROLES))
@with_appcontext
def set_role_command(email: str, role: str):
    """Give the editor with EMAIL the ROLE writer, publisher or admin (at their next request)."""
    connection = prepared_db()
    editor = _existing(connection, email)
    with transaction(connection):
        accounts.set_role(connection, editor, role)
        audit.record(
            connection, audit.OPERATOR_ACTOR, "role", detail=f"{editor.email}: {editor.role} → {role}"
        )
    click.echo(f"{editor.email} is now {role} (was {editor.role})")


@click.command("reset-2fa")
@click.argument("email")
@with_appcontext
def reset_2fa_command(email: str):
    """Turn off the second factor of the editor with EMAIL (a lost phone) and end all their sessions.

    They set up a new one at their next login; where BULLETIN_REQUIRE_2FA
    requires one of their role, they can do nothing else until they have.
    """
    connection = prepared_db()
    editor = _existing(connection, email)
    with transaction(connection):
        ended = second_factor.reset(connection, editor)
        audit.record(connection, audit.OPERATOR_ACTOR, "second_factor_reset", detail=editor.email)
    was = "was on" if editor.second_factor else "was not on"
    click.echo(f"second factor of {editor.email} reset (it {was}); {ended} session(s) ended")


def init_app(app: Flask) -> None:
    """Register the account commands on the app's ``flask`` CLI."""
    for command in (create_editor_command, set_password_command, set_role_command, reset_2fa_command):
        app.cli.add_command(command)
