"""``publish`` and ``publish-due``: the folder brought up to date from the command line or cron.

A command's docstring is its ``--help``.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from bulletin.authoring import changes
from bulletin.http.database import prepared_db
from bulletin.publishing import publisher
from bulletin.site import signed_records
from bulletin.statements import clock


def _said(report: publisher.Report | None) -> str:
    if report is None:
        return "nothing published"
    return (
        f"folder at change {report.position.seq}: {report.changes} statement(s) changed, "
        f"{report.written} file(s) written, {report.removed} removed, {report.bytes_written} bytes"
    )


@click.command("publish")
@click.option("--all", "whole", is_flag=True, help="Build the whole folder anew from the database.")
@with_appcontext
def publish_command(whole):
    """Bring BULLETIN_PUBLISH_DIR up to date with the database.

    Without --all: write the files of every change not published yet (what
    every save does by itself). With --all: build the whole folder anew
    beside the current one while it keeps serving, then swap it in (after a
    deploy, or whenever in doubt: the database is the source of truth).
    Exit status: 0 when published, 1 with a message when not.
    """
    app = current_app._get_current_object()
    if publisher.places_of(app) is None:
        click.echo("BULLETIN_PUBLISH_DIR is not set: nothing to publish to", err=True)
        sys.exit(1)
    connection = prepared_db()  # migrations current, the epoch checked, before anything is rendered
    if whole:
        # After a deploy that renders articles differently: their changes first, so the folder has them.
        done = signed_records.render_changed_articles(connection, changes.tool_context("deploy"))
        if done:
            click.echo(f"articles render differently in this build: recorded a change of {done} statement(s)")
    try:
        if whole:
            report = publisher.publish_all(app, progress=click.echo)
        else:
            report = publisher.publish(app)
    except publisher.PublishError as e:
        click.echo(f"not published: {e}", err=True)
        sys.exit(1)
    if report is None:
        click.echo("the folder was rendered by another build of the app: run publish --all", err=True)
        sys.exit(1)
    click.echo(_said(report))


@click.command("publish-due")
@with_appcontext
def publish_due_command():
    """Publish every scheduled statement whose time has come, then bring the folder up to date.

    Safe to run every minute from cron or a systemd timer, and at the same
    time as the site: a statement is published once, whoever gets there
    first. Without BULLETIN_PUBLISH_DIR only the statements are published.
    """
    app = current_app._get_current_object()
    due = changes.publish_due(prepared_db(), clock.now())
    for statement_id in due:
        click.echo(f"published {statement_id}")
    if publisher.places_of(app) is not None:
        click.echo(_said(publisher.publish(app)))


def init_app(app) -> None:
    """Register the commands on the app's ``flask`` CLI."""
    app.cli.add_command(publish_command)
    app.cli.add_command(publish_due_command)
