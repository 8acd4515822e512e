"""Flask commands: ``prepare``, ``import``, ``backup``, ``restore``, ``export`` and ``bundle``.

A command's docstring is its ``--help``.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import zoneinfo
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bulletin.assets import bundles
from bulletin.authoring import changes
from bulletin.http import nginx_headers
from bulletin.http.database import get_db, high_water, prepared_db, writability_problem
from bulletin.importing import importer
from bulletin.importing.sources import DEFAULT_DROP_LINES
from bulletin.publishing import commands as publishing_commands
from bulletin.publishing import export, publisher
from bulletin.publishing.folder import write_atomically
from bulletin.signing import keyring, keys
from bulletin.site import bundle_file, mirror_check, signatures, signed_records
from bulletin.statements import backups, clock, db, store
from bulletin.statements.dates import DateError, parse_date


@click.command("prepare")
@with_appcontext
def prepare_command():
    """Apply database migrations, build the asset bundles, write nginx's header include.

    Run once before starting the server's workers, so that they never race
    on start-up work. The include (nginx-header-maps.conf and
    nginx-headers.conf in the instance folder) gives the files nginx serves
    from the publish folder the headers the app would send for them.
    """
    path = current_app.config["DATABASE"]
    # Said in a sentence, not a traceback: the operator must fix the disk or the permissions.
    problem = writability_problem(path) if Path(path).exists() else None
    if problem:
        raise click.ClickException(problem)
    try:
        migrated = db.migrate_file(path)
    except sqlite3.OperationalError as error:
        if not (db.is_read_only(error) or db.is_full(error)):
            raise
        raise click.ClickException(
            writability_problem(path) or f"the database {path} cannot be written: {error}"
        ) from error
    for name in migrated:
        click.echo(f"migrated: {name}")
    # A database file swapped in while the site was stopped is noticed before any worker serves it.
    renewed = high_water(current_app).check(get_db())
    if renewed:
        click.echo(f"the database went back in time since it was last served: new epoch {renewed[:12]}")
    _development_keys()
    built = bundles.build(current_app)
    click.echo(f"built {len(built)} asset files; database {current_app.config['DATABASE']} is up to date")
    # Asked of an app made after the build, which loads it: the CSP names the
    # new stylesheet's hash and the icons just made are served.
    built_app = current_app.extensions["bulletin_factory"](dict(current_app.config))
    try:
        written = nginx_headers.write(built_app, current_app.instance_path)
    except OSError as error:
        # Said in a sentence: the operator fixes the folder's permissions.
        raise click.ClickException(
            f"nginx's header include cannot be written into {current_app.instance_path}: {error}"
        ) from error
    for path in written:
        click.echo(f"wrote {path}")
    with built_app.app_context():
        _render_changed_articles(path_of_database=current_app.config["DATABASE"])


def _render_changed_articles(path_of_database: str) -> None:
    """Where this build renders articles differently: a change of each statement it alters (devices
    then take its new signed record), once per build. Inside the app context of the built app."""
    connection = db.connect(path_of_database)
    try:
        done = signed_records.render_changed_articles(connection, changes.tool_context("deploy"))
    finally:
        connection.close()
    if done:
        click.echo(f"articles render differently in this build: recorded a change of {done} statement(s)")


def _development_keys() -> None:
    """Make a development root and a certified online key when the site has none, and warn while that root
    lies beside the site's data."""
    folder = current_app.config["KEYS_DIR"]
    try:
        made = keyring.ensure_development_keys(folder, now=clock.now())
    except (keyring.KeyringError, keys.KeyFileError) as e:
        raise click.ClickException(f"signing keys: {e}") from e
    for line in made:
        click.echo(line)
    if made:
        signatures.note_keys_changed(get_db())
    warning = keyring.development_root_warning(folder)
    if warning:
        click.echo(f"warning: {warning}", err=True)


def _parse_date_option(value: str | None, tz: zoneinfo.ZoneInfo, option: str = "--date"):
    if value is None:
        return None
    try:
        return parse_date(value, tz)
    except DateError as e:
        # A usage error (exit 2) naming the option, before anything is imported.
        raise click.BadParameter(str(e), param_hint=option) from e


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

    Imported statements are published. Symbolic links are skipped, never
    followed. Exit status: 0 when every file was imported, 1 when some
    failed (the others are still imported), 2 for a usage error.
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
        max_bytes=config["IMPORT_MAX_BYTES"],
    )
    failed = 0
    for key, outcome in importer.run_import(connection, paths, options):
        if isinstance(outcome, importer.Skipped):
            click.echo(f"skipped   {key}: {outcome}")
            continue
        if isinstance(outcome, Exception):
            failed += 1
            click.echo(f"failed    {key}: {outcome}", err=True)
            continue
        click.echo(f"{outcome.action:<9} {key} -> /statements/{outcome.slug}/")
        for line in outcome.dropped_lines:
            click.echo(f"          dropped trailing line: {line}")
    # Once for the whole import: the folder catches up every statement it stored.
    publisher.trigger(current_app._get_current_object())
    if failed:
        click.echo(f"{failed} file(s) failed; the others were imported", err=True)
        sys.exit(1)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--overwrite", is_flag=True, help="Replace FILE if it exists (else an existing FILE is refused)."
)
@with_appcontext
def backup_command(file, overwrite):
    """Write a consistent copy of the database to FILE, safely while the site runs.

    FILE is one self-contained SQLite file, readable by its owner only. It
    is written beside its final name and moved there once complete, so an
    interrupted backup never leaves half a file under that name. Exit
    status: 0 when backed up, 1 with a message when not.
    """
    try:
        made = backups.backup(current_app.config["DATABASE"], file, overwrite=overwrite)
    except backups.BackupError as e:
        click.echo(f"no backup written: {e}", err=True)
        sys.exit(1)
    click.echo(
        f"backed up to {made.path}: schema version {made.schema_version}, "
        f"{made.statements} statements, change {made.latest_change}"
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file):
    """Replace the database's contents with the backup FILE, safely while the site runs.

    FILE must be an intact Bulletin database of a schema this release knows
    (an older one is migrated). The current database is kept aside as
    DATABASE.before-restore-<UTC time>; the restored one gets a new epoch,
    so readers' devices start their sync again and no cached page from
    before is taken for a current one. Editors log in again. Exit status: 0
    when restored, 1 with a message when refused or failed (nothing changed).
    """
    try:
        done = backups.restore(
            current_app.config["DATABASE"],
            file,
            at=clock.now(),
            guard=high_water(current_app),
            progress=click.echo,
        )
    except backups.BackupError as e:
        click.echo(f"nothing restored: {e}", err=True)
        sys.exit(1)
    for name in done.migrated:
        click.echo(f"migrated: {name}")
    if done.kept_aside:
        click.echo(f"the database as it was is kept at {done.kept_aside}")
    click.echo(f"restored {done.statements} statements from {file}: new epoch {done.epoch[:12]}")
    # A new epoch: the published folder is built anew and swapped in.
    publisher.trigger(current_app._get_current_object())


LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")


def _languages_option(langs: tuple[str, ...], known: list[str]) -> list[str]:
    """The ``--lang`` values, each a language some statement is in; a usage error (exit 2) otherwise."""
    for lang in langs:
        if not LANGUAGE_CODE.match(lang) or lang not in known:
            raise click.BadParameter(
                f"no statement is in the language {lang!r} (there are: {', '.join(known) or 'none'})",
                param_hint="--lang",
            )
    return list(dict.fromkeys(langs))


@click.command("bundle")
@click.argument("out", metavar="OUT.html", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", help="Only statements published on or after this date (2022-01-07).")
@click.option("--lang", "langs", multiple=True, help="Only statements in this language; repeat for more.")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1, max=bundle_file.MAX_MAX_BYTES),
    default=bundle_file.DEFAULT_MAX_BYTES,
    show_default=True,
    help="The largest file to write: the newest statements that fit go in.",
)
@with_appcontext
def bundle_command(out, since, langs, max_bytes):
    """Write OUT.html: one file of signed statements that any browser opens with no network, to pass on.

    It holds the newest published statements (and the withdrawals among
    them, so a device replaces its copy) that fit in --max-bytes; what was
    left out is said on stderr. The app verifies every statement when it
    imports the file. Exit status: 0 when written with every statement
    asked for; 1 when --since asked for more than fits (the newest are
    written, the rest named) or nothing could be written; 2 for a usage
    error.
    """
    config = current_app.config
    tz = zoneinfo.ZoneInfo(config["TIMEZONE"])
    day = _parse_date_option(since, tz, "--since")
    connection = prepared_db()
    chosen = _languages_option(langs, store.languages_in_use(connection))
    lang = bundle_file.interface_for(chosen)
    # Articles are rendered as a request for "/" would render them: their links are relative to the site.
    with current_app.test_request_context("/"):
        candidates = store.list_public(
            connection, langs=chosen, since=bundle_file.since_text(day) if day else None
        )
        try:
            made = bundle_file.make(
                connection,
                candidates,
                bundle_file.frame(connection, title=bundle_file.title(lang), lang=lang),
                max_bytes=max_bytes,
            )
        except bundle_file.BundleError as e:
            click.echo(f"nothing written: {e}", err=True)
            sys.exit(1)
    if made.statements + made.withdrawals == 0:
        click.echo("nothing written: no statement matches (or none fits)", err=True)
        sys.exit(1)
    try:
        write_atomically(out, made.body)
    except OSError as e:
        click.echo(f"nothing written: {out} cannot be written: {e}", err=True)
        sys.exit(1)
    click.echo(
        f"wrote {out}: {made.statements} statement(s), {made.withdrawals} withdrawal(s), {len(made.body):,} bytes"
    )
    if made.left_out:
        newest, oldest = made.left_out_newest.published, made.left_out_oldest.published
        click.echo(
            f"left out {made.left_out} older statement(s), published {oldest} to {newest}: "
            f"they would take the file past {max_bytes:,} bytes (--since, --lang or --max-bytes choose others)",
            err=True,
        )
        if since:
            sys.exit(1)


DEFAULT_EXPORT_BASE_URL = "http://localhost/"


@click.command("export")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--base-url",
    help="The address the files will be served at, e.g. https://mirror.example.org/news/ "
    "(default: BULLETIN_BASE_URL, else http://localhost/). Pages link within its path; "
    "feeds and sitemaps carry it whole.",
)
@with_appcontext
def export_command(folder, base_url):
    """Write the public site to DIR as files for any static host.

    Every public page in every interface language, the feeds, sitemaps,
    the worker, manifests, icons, static files, the offline pages and
    shells, and the sync files, each text file with .br and .gz siblings,
    rendered by the app mounted at the base URL's path; beside them
    _headers and nginx-export.conf, the headers hosts should send. DIR
    must be new, empty, or an earlier export (its leftovers are removed).
    Exit status: 0 when exported, 1 with a message when refused or when
    a page names a file that could not be exported.
    """
    base = base_url or current_app.config.get("BASE_URL") or DEFAULT_EXPORT_BASE_URL
    try:
        done = export.export_site(current_app._get_current_object(), folder, base, progress=click.echo)
    except export.ExportError as e:
        click.echo(f"nothing exported: {e}", err=True)
        sys.exit(1)
    except OSError as e:
        # A folder that cannot be written, a full disk: said in a sentence, not a traceback.
        click.echo(f"export stopped, incomplete: {e}", err=True)
        sys.exit(1)
    lines = list(export.describe(done))
    click.echo(lines[0])
    for problem in lines[1:]:
        click.echo(f"problem: {problem}", err=True)
    if done.problems:
        click.echo(f"{len(done.problems)} problem(s): the export is incomplete", err=True)
        sys.exit(1)


def init_app(app: Flask) -> None:
    """Register the commands on the app's ``flask`` CLI."""
    app.cli.add_command(prepare_command)
    app.cli.add_command(import_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(export_command)
    app.cli.add_command(mirror_check.check_mirror_command)
    app.cli.add_command(bundle_command)
    publishing_commands.init_app(app)
