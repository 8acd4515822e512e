"""The publisher's keys: the ``keys`` commands and ``/keys.json``.

``keys init-root FILE`` makes the root key the operator keeps offline;
``keys certify --root FILE [--days N]`` makes (or, with
``BULLETIN_SIGNING_KEY``, takes) the online key and the root's certificate
of it, then signs every current record not yet signed by a valid key;
``keys revoke KID --root FILE`` publishes the root's revocation;
``keys rotate-root --root OLD NEW`` hands trust to a new root; ``keys show
[--json]`` lists them. Exit status: 0 done, 1 refused with a message and
nothing written, 2 a usage error. ``/keys.json`` serves ``show --json``
with each key's certificate, every revocation and every root record: public
documents only, never a private key.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from pathlib import Path

import click
from flask import Blueprint, current_app, jsonify
from flask.cli import with_appcontext

from bulletin.http.database import prepared_db
from bulletin.http.errors import ApiError
from bulletin.signing import keyring, keys
from bulletin.site import signatures, signed_records
from bulletin.statements import clock, store

bp = Blueprint("keys", __name__)

log = logging.getLogger(__name__)

ROOT_OPTION = click.option(
    "--root",
    "root_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The root's private key file (kept offline).",
)


def _refuse(message: str) -> None:
    """Exit 1 with the message: the command wrote nothing."""
    click.echo(f"nothing written: {message}", err=True)
    sys.exit(1)


def _root(path: Path):
    try:
        return keys.read_private(path)
    except keys.KeyFileError as e:
        _refuse(str(e))


@click.group("keys")
def keys_group():
    """The publisher's signing keys: an offline root that certifies expiring online keys."""


@keys_group.command("init-root")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def init_root_command(file):
    """Write a new root private key to FILE (never over an existing file) and print its fingerprint.

    Keep FILE offline: it is needed only to certify, revoke and rotate.
    """
    try:
        made = keyring.init_root(file)
    except keyring.KeyringError as e:
        _refuse(str(e))
    click.echo(f"root key {made['kid']} written to {file}")
    click.echo(f"fingerprint: {made['fingerprint']}")


@keys_group.command("certify")
@ROOT_OPTION
@click.option(
    "--days",
    type=click.IntRange(min=1, max=36500),
    default=keyring.DEFAULT_DAYS,
    show_default=True,
    help="How long the certificate is valid.",
)
@with_appcontext
def certify_command(root_file, days):
    """Make a new online signing key (or take BULLETIN_SIGNING_KEY's) with a root-signed, expiring certificate.

    Then every current statement whose record has no valid signature yet is signed with it.
    """
    root = _root(root_file)
    connection = prepared_db()
    try:
        document = keyring.certify(
            signatures.keys_folder(),
            root,
            now=clock.now(),
            days=days,
            signing_key=current_app.config.get("SIGNING_KEY"),
        )
    except (keyring.KeyringError, keys.KeyFileError) as e:
        _refuse(str(e))
    click.echo(f"certified key {document['kid']} until {document['expires']}")
    signatures.note_keys_changed(connection)
    click.echo(f"signed {_sign_unsigned(connection)} record(s)")


def _sign_unsigned(connection) -> int:
    # Articles are rendered as a request for "/" would render them: their links are relative to the site.
    with current_app.test_request_context("/"):
        return sign_unsigned(connection)


SIGN_BATCH = 200  # records rendered and signed outside the write lock, then kept in one transaction


def sign_unsigned(db: sqlite3.Connection) -> int:
    """Make every current record (published and withdrawn statements) that has no kept record signed by a
    valid key, waiting for the write lock; how many were made."""
    if signatures.signer() is None:
        return 0
    done = 0
    for status in ("published", "withdrawn"):
        batch = []
        for statement in store.list_by_status(db, status):
            batch.append(statement)
            if len(batch) >= SIGN_BATCH:
                done += _sign_batch(db, batch)
                batch = []
        done += _sign_batch(db, batch)
    return done


def _sign_batch(db: sqlite3.Connection, batch: list) -> int:
    return signed_records.make_missing(db, batch)


@keys_group.command("revoke")
@click.argument("kid")
@ROOT_OPTION
@with_appcontext
def revoke_command(kid, root_file):
    """Publish the root's revocation of the online key KID; its records are signed again by a valid key."""
    root = _root(root_file)
    connection = prepared_db()
    try:
        keyring.revoke(signatures.keys_folder(), root, kid, now=clock.now())
    except keyring.KeyringError as e:
        _refuse(str(e))
    click.echo(f"revoked key {kid}")
    signatures.note_keys_changed(connection)
    if signatures.signer() is None:
        click.echo("no valid online key is left: certify a new one (keys certify)", err=True)
        return
    click.echo(f"signed {_sign_unsigned(connection)} record(s) again")


@keys_group.command("rotate-root")
@ROOT_OPTION
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def rotate_root_command(root_file, new):
    """Make NEW the root (a new key written there, or the one already in it), by a record the old root signs."""
    old = _root(root_file)
    connection = prepared_db()
    try:
        document = keyring.rotate_root(signatures.keys_folder(), old, new, now=clock.now())
    except (keyring.KeyringError, keys.KeyFileError) as e:
        _refuse(str(e))
    signatures.note_keys_changed(connection)
    click.echo(f"root is now {document['kid']}, signed over by {document['previous']}")
    click.echo(f"fingerprint: {document['fingerprint']}")


@keys_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="As JSON: the root and every online key.")
@with_appcontext
def show_command(as_json):
    """Print the root key and the online keys (id, fingerprint, expiry, revoked)."""
    try:
        shown = keyring.show(keyring.load(signatures.keys_folder()))
    except keyring.KeyringError as e:
        _refuse(str(e))
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    if shown["root"] is None:
        click.echo("no root yet: keys init-root FILE, then keys certify --root FILE")
        return
    click.echo(f"root {shown['root']['kid']}  fingerprint {shown['root']['fingerprint']}")
    for entry in shown["keys"]:
        state = "revoked" if entry["revoked"] else f"expires {entry['expires']}"
        click.echo(f"key  {entry['kid']}  fingerprint {entry['fingerprint']}  {state}")


@bp.get("/keys.json")
def keys_json():
    """The root, the online keys with their certificates, every revocation and root record: public only."""
    try:
        published = signatures.published_keys()
    except keyring.KeyringError as e:
        log.error("/keys.json cannot be served: %s", e)
        raise ApiError(503, "keys_unavailable", "the site's keyring cannot be read") from e
    response = jsonify(published)
    # Any mirror, export or tool may read it; there is nothing in it that is not public.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['HTML_MAX_AGE']}"
    return response


def init_app(app) -> None:
    """The ``keys`` commands and ``/keys.json``."""
    app.cli.add_command(keys_group)
    app.register_blueprint(bp)
