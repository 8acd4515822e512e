"""Keeping the published folder current with the database, one publisher at a time.

``BULLETIN_PUBLISH_DIR`` (say ``/srv/site``) is a symbolic link to the
current build, ``.site.builds/<name>/`` beside it; each build has a small
SQLite file of its own beside it (``<name>.state``) recording the position
it reflects — the database's epoch, the last change sequence written, the
app's build — and what it shows of each published statement (slug, tags,
sitemap part), so that a change can find the files it used to affect.

The change log drives every publication: a publisher takes the lock
(``.site.lock``, ``fcntl.flock``: one publisher at a time across processes),
reads the changes after the recorded position, renders the files they affect
from the database as it is now, and only then records the new position. So
an older version of a file never replaces a newer one (every write happens
under the lock, from a state at least as new as the last), a publication
that fails halfway is done again whole by the next one, and any trigger
catches up everything pending.

A different epoch (a restore) means a whole build. ``publish --all`` makes
one beside the current build without the lock (saves never wait for it),
then under the lock catches it up from the position it started from and
swaps the link: changes made meanwhile reach the old build through the
usual triggers and the new one through that catch-up, so a withdrawal made
during a rebuild survives the swap.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from bulletin.assets import bundles
from bulletin.publishing.fileset import (
    Renderer,
    Shown,
    change_addresses,
    document_addresses,
    index_document,
    site_addresses,
    sync_addresses,
)
from bulletin.publishing.folder import Folder, UnsafePath, file_for
from bulletin.signing import times
from bulletin.site import feeds, packs
from bulletin.statements import clock, epochs, store
from bulletin.statements import db as database

log = logging.getLogger(__name__)

# More changes than this since the last publication are caught up by writing every file (only
# those whose bytes changed are written) rather than by reading each changed statement.
WHOLE_PASS_CHANGES = 2_000
SYNC_FOLDER = "sync"
SYNC_INDEX_FILE = "sync/index.json"
# Passes of one publication at most: each catches up what was committed during the one before.
MAX_PASSES = 5
# Set while this thread publishes: a render that publishes a due statement (the schedule's hook
# runs before every request) must not wait for the lock this thread holds; the next pass of
# this publication writes it.
_PUBLISHING = contextvars.ContextVar("bulletin_publishing", default=False)

_STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS position (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    epoch TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    build TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shown (
    id    TEXT PRIMARY KEY,
    slug  TEXT NOT NULL,
    tags  TEXT NOT NULL,
    part  INTEGER NOT NULL,
    pack  TEXT NOT NULL DEFAULT ''
);
"""


class PublishError(Exception):
    """The folder cannot be published as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Position:
    """Where the database's change log stood when a build was last brought up to date."""

    epoch: str
    seq: int
    build: str  # the app's build (bundles, templates) and base URL the files were rendered with


@dataclass(frozen=True)
class Report:
    """What one publication did."""

    position: Position
    changes: int  # statements changed since the last position
    written: int  # files written (siblings not counted)
    removed: int
    bytes_written: int
    whole: bool = False  # every file was rendered (a whole build or a big catch-up)


# ------------------------------------------------------------------ places


@dataclass(frozen=True)
class Places:
    """Where the published link, its builds and the lock are, for ``BULLETIN_PUBLISH_DIR``."""

    link: Path

    @property
    def builds(self) -> Path:
        return self.link.parent / f".{self.link.name}.builds"

    @property
    def lock(self) -> Path:
        return self.link.parent / f".{self.link.name}.lock"

    def current(self) -> Build | None:
        """The build the link points to, or None when there is none yet."""
        if not self.link.is_symlink():
            return None
        target = (self.link.parent / os.readlink(self.link)).resolve()
        if not target.is_dir():
            return None
        return Build(target)

    def new_build(self) -> Build:
        self.builds.mkdir(parents=True, exist_ok=True)
        name = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
        path = self.builds / name
        path.mkdir()
        return Build(path)

    def swap_to(self, build: Build) -> None:
        """Point the link at ``build`` in one rename: a reader finds the old build or the new one."""
        if self.link.exists() and not self.link.is_symlink():
            if self.link.is_dir() and not any(self.link.iterdir()):
                self.link.rmdir()  # an empty folder made for us: the link takes its place
            else:
                raise PublishError(
                    f"{self.link} is a folder, not the link Bulletin keeps: move it away and publish again"
                )
        temporary = self.link.parent / f".{self.link.name}.link-{uuid.uuid4().hex[:8]}"
        os.symlink(os.path.relpath(build.path, self.link.parent), temporary)
        os.replace(temporary, self.link)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the publisher's lock: one publisher at a time, across processes."""
        self.link.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


class Build:
    """One build of the folder and its state file beside it."""

    def __init__(self, path: Path):
        self.path = path
        self.folder = Folder(path)
        self.state_path = path.with_name(path.name + ".state")

    def _state(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.state_path, isolation_level=None)
        connection.executescript(_STATE_SCHEMA)
        if "pack" not in {row[1] for row in connection.execute("PRAGMA table_info(shown)")}:
            # A build recorded before packs existed: its statements' packs are found again from now on.
            connection.execute("ALTER TABLE shown ADD COLUMN pack TEXT NOT NULL DEFAULT ''")
        return connection

    def position(self) -> Position | None:
        with contextlib.closing(self._state()) as state:
            row = state.execute("SELECT epoch, seq, build FROM position").fetchone()
        return Position(*row) if row else None

    def shown(self, ids: Iterable[str]) -> dict[str, Shown]:
        found = {}
        with contextlib.closing(self._state()) as state:
            for statement_id in ids:
                row = state.execute(
                    "SELECT slug, tags, part, pack FROM shown WHERE id = ?", (statement_id,)
                ).fetchone()
                if row:
                    found[statement_id] = Shown(row[0], tuple(json.loads(row[1])), row[2], row[3])
        return found

    def record(self, position: Position, shown: dict[str, Shown | None], *, replace: bool = False) -> None:
        """Store the new position and what the folder now shows, in one transaction."""
        with contextlib.closing(self._state()) as state:
            state.execute("BEGIN IMMEDIATE")
            if replace:
                state.execute("DELETE FROM shown")
            for statement_id, now in shown.items():
                if now is None:
                    state.execute("DELETE FROM shown WHERE id = ?", (statement_id,))
                else:
                    state.execute(
                        "INSERT OR REPLACE INTO shown (id, slug, tags, part, pack) VALUES (?, ?, ?, ?, ?)",
                        (statement_id, now.slug, json.dumps(now.tags), now.part, now.pack),
                    )
            state.execute(
                "INSERT OR REPLACE INTO position (one, epoch, seq, build) VALUES (1, ?, ?, ?)",
                (position.epoch, position.seq, position.build),
            )
            state.execute("COMMIT")

    def delete(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()


# ------------------------------------------------------------------ writing


def build_key(app: Flask) -> str:
    """What the files depend on besides the database: the app's build and its public base URL."""
    return f"{bundles.built(app).build_id}:{app.config.get('BASE_URL') or ''}"


class Writer:
    """Renders addresses through the app and puts each in a folder, or takes it out when not a file.

    ``fail_after`` (tests): raise after that many files, as a crash halfway would.
    """

    fail_after: int | None = None

    def __init__(self, app: Flask, folder: Folder):
        self.renderer = Renderer(app)
        self.folder = folder
        self.removed = 0
        self.names: set[str] = set()  # files this writer put (or found) in place

    def put(self, address: str, *, immutable: bool = False) -> None:
        try:
            name = file_for(address)
        except UnsafePath:
            log.warning("not published: %r does not name a file inside the folder", address)
            return
        if immutable and self.folder.path_of(name).exists():
            self.names.add(name)  # named by its content's hash: the file there is this one
            return
        rendered = self.renderer.get(address)
        if not rendered.is_file:
            self.removed += self.folder.remove(name)
            return
        self.folder.write(name, rendered.body)
        self.names.add(name)
        if self.fail_after is not None and self.folder.written >= self.fail_after:
            raise RuntimeError("publication stopped halfway (a test's injected failure)")

    def put_documents(self) -> None:
        """``keys.json`` and ``mirrors.json`` as the app answers them now (removed where it has none).

        Neither follows the change log (a keys command, a new mirror list at a
        deploy), so every publication writes them: a file whose bytes did not
        change is not written again.
        """
        with self.renderer.url_context():
            addresses = document_addresses()
        for address in addresses:
            self.put(address)

    def put_sync(self) -> None:
        """The sync files the app names, the index last; files under ``sync/`` no longer named go."""
        # None: the site signs no sync files now (no online key may sign), so none stays published.
        addresses = sync_addresses(self.renderer) or []
        for address in addresses:
            self.put(address, immutable=address != addresses[-1])
        kept = {file_for(address) for address in addresses}
        for name in list(self.folder.names(SYNC_FOLDER)):
            if name not in kept:
                self.removed += self.folder.remove(name)


def _whole(app: Flask, build: Build, db: sqlite3.Connection, *, clean: bool) -> Report:
    """Render every file of the site into ``build`` and record the position it reflects.

    ``clean``: files the site no longer has are removed (a build written in place).
    """
    with database.read_snapshot(db):
        position = Position(epochs.current(db) or "", store.latest_change_seq(db), build_key(app))
        size = feeds.part_size(app.config)
        months = store.published_months(db)
        shown = {
            statement_id: Shown(
                slug,
                tags,
                (rowid - 1) // size,
                packs.name_of(*months[statement_id]) if statement_id in months else "",
            )
            for statement_id, slug, tags, rowid in store.published_outline(db)
        }
        writer = Writer(app, build.folder)
        with writer.renderer.url_context():
            addresses = list(site_addresses(db))
    for address in addresses:
        writer.put(address)
    writer.put_documents()
    writer.put_sync()
    if clean:
        build.folder.remove_temporaries()
        for name in list(build.folder.names()):
            if name not in writer.names:
                writer.removed += build.folder.remove(name)
    build.record(position, shown, replace=True)
    return Report(
        position, len(shown), build.folder.written, writer.removed, build.folder.bytes_written, whole=True
    )


def _catch_up(app: Flask, build: Build, db: sqlite3.Connection, since: Position) -> Report | None:
    """Write the files changed since ``since`` into ``build``; None when the epoch moved (a restore:
    only a whole build is right then)."""
    with database.read_snapshot(db):
        epoch = epochs.current(db) or ""
        if epoch != since.epoch:
            return None
        latest = store.latest_change_seq(db)
        changed: list | None = []
        if latest == since.seq:
            pass
        elif latest - since.seq > WHOLE_PASS_CHANGES:
            changed = None
        else:
            changed = store.changed_since(db, since.seq, limit=latest - since.seq + 1)
    if latest == since.seq:
        return _resigned(app, build, since)
    if changed is None:
        return _whole(app, build, db, clean=True)
    position = Position(epoch, latest, build_key(app))
    writer = Writer(app, build.folder)
    writer.put_documents()
    with writer.renderer.url_context():
        addresses, now_shown = change_addresses(db, changed, build.shown(s.id for s in changed))
    for address in addresses:
        writer.put(address)
    writer.put_sync()
    build.record(position, now_shown)
    return Report(position, len(changed), build.folder.written, writer.removed, build.folder.bytes_written)


def _resigned(app: Flask, build: Build, since: Position) -> Report:
    """With no change to write: ``keys.json`` and ``mirrors.json`` where their bytes changed, and the
    sync files again when the index was signed in an hour that has passed (``publish-due``, every
    minute, so re-signs it hourly)."""
    writer = Writer(app, build.folder)
    # keys.json and mirrors.json follow no change log (a keys command, a deploy's list): written
    # whenever their bytes changed.
    writer.put_documents()
    if _index_signed_before_this_hour(app, build.folder):
        writer.put_sync()
    return Report(since, 0, build.folder.written, writer.removed, build.folder.bytes_written)


def _index_signed_before_this_hour(app: Flask, folder: Folder) -> bool:
    try:
        document = index_document(folder.path_of(SYNC_INDEX_FILE).read_bytes())
    except (OSError, ValueError):
        return False  # no index there (a site without keys): nothing to re-sign
    signed = document.get("signed_at") if isinstance(document, dict) else None
    with clock.using(app.config.get("CLOCK")):
        hour = times.instant(clock.now().replace(minute=0, second=0))
    # Instants written alike compare as text.
    return not isinstance(signed, str) or signed < hour


# ------------------------------------------------------------------ what commands and triggers call


def places_of(app: Flask) -> Places | None:
    """Where the app publishes, or None when ``BULLETIN_PUBLISH_DIR`` is not set."""
    folder = app.config.get("PUBLISH_DIR")
    return Places(Path(folder).absolute()) if folder else None


def _connect(app: Flask) -> sqlite3.Connection:
    return database.connect(app.config["DATABASE"])


def publish(app: Flask) -> Report | None:
    """Bring the folder up to date with every change committed so far; None when publishing is off.

    Makes the first build when there is none yet, and a whole new build
    (swapped in) when the database's epoch moved. A folder rendered by
    another build of the app (a deploy in progress) is left to
    ``publish --all``. Changes committed while it writes are written too
    before it returns.
    """
    places = places_of(app)
    if places is None:
        return None
    token = _PUBLISHING.set(True)
    try:
        with contextlib.closing(_connect(app)) as db, places.locked():
            report = None
            for _ in range(MAX_PASSES):
                done = _one_pass(app, places, db)
                if done is None:
                    return report
                report = _added(report, done)
                if done.changes == 0 or store.latest_change_seq(db) == done.position.seq:
                    break
            return report
    finally:
        _PUBLISHING.reset(token)


def _added(report: Report | None, more: Report) -> Report:
    if report is None:
        return more
    return Report(
        more.position,
        report.changes + more.changes,
        report.written + more.written,
        report.removed + more.removed,
        report.bytes_written + more.bytes_written,
        report.whole or more.whole,
    )


def _one_pass(app: Flask, places: Places, db: sqlite3.Connection) -> Report | None:
    """One catch-up of the current build, under the lock (or a whole new build when needed)."""
    current = places.current()
    since = current.position() if current else None
    if since is not None and since.build != build_key(app):
        # Not caught up: this build's pages beside the other's worker and manifests would mix two
        # builds in one folder. The other's files keep serving, whole, until ``publish --all``.
        log.warning(
            "not published: the folder was rendered by another build of the app (%s), with its "
            "worker, manifests and offline pages; run `flask --app app publish --all` to publish "
            "this build's",
            since.build,
        )
        return None
    report = _catch_up(app, current, db, since) if since is not None else None
    if report is not None:
        return report
    # No build yet, or a restore: a whole new build, swapped in (saves wait: this is rare).
    build = places.new_build()
    try:
        report = _whole(app, build, db, clean=False)
        places.swap_to(build)
    except BaseException:
        build.delete()
        raise
    if current is not None:
        current.delete()
    return report


def publish_all(app: Flask, progress=None) -> Report:
    """Build the whole folder anew from the database beside the current one, then swap it in.

    The build is written without the lock, from a recorded position; under
    the lock it is caught up from there and the link swapped, so saves never
    wait for the build and nothing committed meanwhile is lost.
    """
    places = places_of(app)
    if places is None:
        raise PublishError("BULLETIN_PUBLISH_DIR is not set: there is no folder to publish to")
    token = _PUBLISHING.set(True)
    try:
        return _publish_all(app, places, progress)
    finally:
        _PUBLISHING.reset(token)


def _publish_all(app: Flask, places: Places, progress) -> Report:
    if places.link.exists() and not places.link.is_symlink():
        if not places.link.is_dir() or any(places.link.iterdir()):
            raise PublishError(
                f"{places.link} is a folder, not the link Bulletin keeps: move it away and publish again"
            )
    build = places.new_build()
    try:
        with contextlib.closing(_connect(app)) as db:
            first = _whole(app, build, db, clean=False)
            if progress:
                progress(f"built {first.written} files at change {first.position.seq}; catching up")
            with places.locked():
                report = first
                for _ in range(MAX_PASSES):
                    report = _catch_up(app, build, db, report.position)
                    if report is None:  # restored meanwhile: this build shows a timeline that is gone
                        report = _whole(app, build, db, clean=True)
                    if store.latest_change_seq(db) == report.position.seq:
                        break
                old = places.current()
                places.swap_to(build)
    except BaseException:
        build.delete()
        raise
    if old is not None and old.path != build.path:
        old.delete()
    return Report(
        report.position, first.changes, build.folder.written, report.removed, build.folder.bytes_written, True
    )


def trigger(app: Flask) -> None:
    """Publish what is pending, after a committed change; logs a failure and never raises.

    Runs in a thread of its own and waits for it: the renders it makes
    through the app must not share the caller's request context (its
    interface language, its editor). The change stays committed whatever
    happens here; the next publication catches up.
    """
    if places_of(app) is None or _PUBLISHING.get():
        return  # inside a publication's own render: its next pass writes this change

    def run():
        try:
            publish(app)
        except Exception:
            log.exception(
                "publishing to %s failed; the next change or `publish` catches up", app.config["PUBLISH_DIR"]
            )

    thread = threading.Thread(target=run, name="bulletin-publish")
    thread.start()
    thread.join()


def trigger_of(app: Flask):
    """A callable for :attr:`bulletin.authoring.changes.Context.after_commit` (None when publishing is off)."""
    if places_of(app) is None:
        return None
    return lambda: trigger(app)
