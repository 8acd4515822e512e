"""Flask commands: ``prepare`` and ``import``.

A command's docstring is its ``--help``.
"""

from __future__ import annotations

import sys
import zoneinfo
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bulletin.assets import bundles
from bulletin.http.database import prepared_db
from bulletin.importing import importer
from bulletin.importing.sources import DEFAULT_DROP_LINES
from bulletin.statements import clock, db, store
from bulletin.statements.dates import DateError, parse_date


@click.command("prepare")
@with_appcontext
def prepare_command():
    """Apply database migrations and build the asset bundles.

    Run once before starting the server's workers, so that they never race
    on start-up work.
    """
    for name in db.migrate_file(current_app.config["DATABASE"]):
        click.echo(f"migrated: {name}")
    built = bundles.build(current_app)
    click.echo(f"built {len(built)} asset files; database {current_app.config['DATABASE']} is up to date")


def _parse_date_option(value: str | None, tz: zoneinfo.ZoneInfo):
    if value is None:
        return None
    try:
        return parse_date(value, tz)
    except DateError as e:
        # A usage error (exit 2) naming the option, before anything is imported.
        raise click.BadParameter(str(e), param_hint="--date") from e


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--lang", help="Language of statements whose front matter names none (else detected).")
@click.option("--date", help="Publication date of files that carry none.")
@click.option(
    "--drop-line", "drop_lines", multiple=True, help="Another trailing line of page chrome to drop."
)
@click.option("--force", is_flag=True, help="Re-import even over an editor's later change or a withdrawal.")
@click.option("--if-empty", is_flag=True, help="Import only into a database with no statements yet.")
@with_appcontext
def import_command(paths, lang, date, drop_lines, force, if_empty):
    """Import statement files (.txt, .md, .html), or folders of them, recursively.

    Imported statements are published. Exit status: 0 when every file was
    imported, 1 when some failed (the others are still imported), 2 for a
    usage error.
    """
    config = current_app.config
    tz = zoneinfo.ZoneInfo(config["TIMEZONE"])
    date = _parse_date_option(date, tz)
    connection = prepared_db()
    if if_empty and store.count_published(connection) > 0:
        click.echo("the database already has statements: nothing imported")
        return
    options = importer.ImportOptions(
        default_lang=config["DEFAULT_LANG"],
        tz=tz,
        at=clock.now(),
        lang=lang,
        date=date,
        drop_lines=(*DEFAULT_DROP_LINES, *config["IMPORT_DROP_LINES"], *drop_lines),
        force=force,
    )
    failed = 0
    for key, outcome in importer.run_import(connection, paths, options):
        if isinstance(outcome, Exception):
            failed += 1
            click.echo(f"failed    {key}: {outcome}", err=True)
            continue
        click.echo(f"{outcome.action:<9} {key} -> /statements/{outcome.slug}")
        for line in outcome.dropped_lines:
            click.echo(f"          dropped trailing line: {line}")
    if failed:
        click.echo(f"{failed} file(s) failed; the others were imported", err=True)
        sys.exit(1)


def init_app(app: Flask) -> None:
    """Register the commands on the app's ``flask`` CLI."""
    app.cli.add_command(prepare_command)
    app.cli.add_command(import_command)
