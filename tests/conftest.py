"""Fixtures shared by every test: a real app on a temporary database."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from editor_client import EditorClient, add_editor
from flask import request_started

from bulletin import create_app
from bulletin.assets import bundles
from bulletin.authoring import changes
from bulletin.signing import keyring, keys
from bulletin.signing.verifier import Verifier
from bulletin.statements import clock as system_clock
from bulletin.statements import db, store

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
# Fictional statements in the real ones' shape, shipped with the tests.
STATEMENT_FILES = REPO / "tests" / "data" / "statements"
STATEMENT_FILE = STATEMENT_FILES / "port-meridian-dockers.txt"
# The real statements beside the repository, where a checkout has them.
SHARED_SEEDS = REPO.parent / "shared" / "seeds"


def shared_seeds() -> list[Path]:
    """The real seed statements in ``../shared/seeds``; skips the test where there are none."""
    seeds = sorted(SHARED_SEEDS.glob("*.txt"))
    if not seeds:
        pytest.skip(f"extra test on the real statements: {SHARED_SEEDS} is absent in this checkout")
    return seeds


# Argon2 parameters that take a millisecond; the defaults take a tenth of a second per hash.
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 64}


class Clock:
    """A clock for ``CLOCK`` in the app's config: it stands still until a test moves it."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or system_clock.now()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture(scope="session", autouse=True)
def built_assets(tmp_path_factory):
    """The bundles, icons and compressed files, built once as ``prepare`` builds them (create_app never does)."""
    if not bundles.is_built():
        folder = tmp_path_factory.mktemp("build")
        bundles.build(create_app({"TESTING": True, "DATABASE": str(folder / "b.sqlite3"), "SECRET_KEY": "x"}))


@pytest.fixture
def clock():
    return Clock()


@dataclass(frozen=True)
class TestKeys:
    """The root and online key every test's app signs with (made once per session)."""

    folder: Path  # keyring.json and the online key's file, copied into each test's KEYS_DIR
    root_file: Path
    root_public: bytes  # the raw public root key a device pins
    kid: str  # the online key's id


@pytest.fixture(scope="session")
def test_keys(tmp_path_factory) -> TestKeys:
    """A root and an online key it certified for a hundred years (tests move their clocks far)."""
    folder = tmp_path_factory.mktemp("signing-keys")
    root_file = folder.parent / f"{folder.name}-root.key"
    keyring.init_root(root_file)
    root = keys.read_private(root_file)
    document = keyring.certify(folder, root, now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), days=36500)
    return TestKeys(folder, root_file, keys.raw_public(root), document["kid"])


@pytest.fixture
def make_app(tmp_path, clock, request, test_keys):
    """``make_app(**config)``: a real app on a migrated temporary database; keywords override its config.

    Its ``KEYS_DIR`` holds the session's certified online key (:func:`test_keys`), so it signs its
    records and serves the sync files; a test marked ``unsigned`` starts with no keys at all.
    """
    keys_dir = tmp_path / "keys"
    if request.node.get_closest_marker("unsigned") is None and not keys_dir.exists():
        shutil.copytree(test_keys.folder, keys_dir)

    def make(**config):
        app = create_app(
            {
                "TESTING": True,
                "DATABASE": str(tmp_path / "bulletin.sqlite3"),
                "SECRET_KEY": "test-secret",
                "CLOCK": clock,
                # Never the repository's instance/ folder: a developer's keys must not sign a test's records.
                "KEYS_DIR": str(tmp_path / "keys"),
                **FAST_HASHING,
                **config,
            }
        )
        db.migrate_file(app.config["DATABASE"])
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


def reconfigure(app, **settings) -> None:
    """Change settings as a restart with a new environment would: caches start empty.

    Kept responses are keyed by what the database holds, not by settings,
    which a running server never changes.
    """
    app.config.update(settings)
    for name in ("bulletin_rendered", "bulletin_hotpath", "bulletin_sync_files"):
        if name in app.extensions:
            app.extensions[name].clear()


@pytest.fixture
def flask_requests(app):
    """How many requests reached Flask (the hot path answers the others)."""
    seen = []

    def count(sender, **extra):
        seen.append(1)

    request_started.connect(count, app)
    yield seen
    request_started.disconnect(count, app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def reader(app):
    """A reader's client: no editor cookie."""
    return app.test_client()


def sync(client, since=None, **params) -> dict:
    """One ``/api/sync`` answer as a device gets it (``since`` left out when None); it must be a 200."""
    query = {"since": since, **params} if since is not None else params
    response = client.get("/api/sync", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def create_draft(connection, title: str) -> str:
    """A draft with one revision (inside the caller's transaction); its id."""
    statement_id = store.create_statement(connection, title=title, lang="en", published=None)
    store.add_revision(
        connection,
        statement_id,
        title=title,
        source_text="x",
        source_format="txt",
        body_html="<p>x</p>",
        author="editor",
    )
    return statement_id


class Publisher:
    """Publishes, corrects and withdraws statements through the write path, as an editor would."""

    ACTOR = "editor@example.org"

    def __init__(self, app):
        self.app = app

    def connection(self):
        return db.connect(self.app.config["DATABASE"])

    def _write(self, change, *args, **kwargs):
        connection = self.connection()
        # Outside the app no app context sets its clock: the stored times follow the test's clock all the same.
        try:
            with system_clock.using(self.app.config.get("CLOCK")):
                return change(connection, *args, changes.tool_context(self.ACTOR), **kwargs)
        finally:
            connection.close()

    def publish(
        self,
        title: str = "A statement",
        body: str = "<p>Text of the statement.</p>",
        *,
        lang: str = "en",
        published: dt.date | dt.datetime = dt.date(2022, 1, 7),
        tags=(),
        summary: str = "",
        slug: str | None = None,
        translation_of: str | None = None,
    ) -> str:
        """Create and publish a statement (HTML body); return its id."""
        draft = changes.Draft(
            title=title,
            body=body,
            source_format="html",
            summary=summary,
            lang=lang,
            tags=tags,
            slug=slug or "",
            published=published,
            translation_of=translation_of or "",
        )
        return self._write(changes.create, draft, publish=True).statement_id

    def revise(self, statement_id: str, *, title: str, body: str, correction_note: str = "") -> None:
        """Correct a published statement (tags, language and dates kept)."""
        current = self.get(statement_id)
        draft = changes.Draft(
            title=title,
            body=body,
            source_format="html",
            summary=current.summary,
            lang=current.lang,
            tags=current.tags,
            published=current.published,
            correction_note=correction_note,
        )
        self._write(changes.save, statement_id, draft)

    def draft(self, title: str, body: str = "<p>Text of the draft.</p>", **fields) -> str:
        """Create a draft (HTML body; ``fields`` as :class:`changes.Draft` takes them); return its id."""
        draft = changes.Draft(title=title, body=body, source_format="html", **fields)
        return self._write(changes.create, draft).statement_id

    def save(self, statement_id: str, *, publish: bool = False, **fields) -> None:
        """Save the statement with ``fields`` changed and everything else kept, as an editor's form would."""
        current = self.get(statement_id)
        connection = self.connection()
        try:
            revision = store.get_revision(connection, current.revision)
        finally:
            connection.close()
        kept = dict(
            title=current.title,
            body=revision["source_text"],
            source_format=revision["source_format"],
            summary=current.summary,
            lang=current.lang,
            tags=current.tags,
            slug=current.slug,
            published=current.published,
        )
        self._write(changes.save, statement_id, changes.Draft(**{**kept, **fields}), publish=publish)

    def withdraw(self, statement_id: str, reason: str = "Published in error.") -> None:
        self._write(changes.withdraw, statement_id, reason)

    def get(self, statement_id: str):
        connection = self.connection()
        try:
            return store.get_by_id(connection, statement_id)
        finally:
            connection.close()


@pytest.fixture
def publisher(app):
    return Publisher(app)


@pytest.fixture
def editor(app):
    """An editor account (``EMAIL``, ``PASSWORD`` of tests/editor_client.py)."""
    return add_editor(app)


@pytest.fixture
def editor_client(client, editor):
    """An :class:`EditorClient` logged in as ``editor``."""
    editor_client = EditorClient(client)
    assert editor_client.login().status_code == 302
    return editor_client


def device_with_keys(root_public: bytes, published: dict) -> Verifier:
    """A device that pinned ``root_public`` and took the certificates and revocations of ``published``
    (the shape of ``/keys.json``), as a device does before it verifies records."""
    device = Verifier(root_public)
    for entry in published["keys"]:
        device.add_certificate(entry["certificate"])
    for revocation in published.get("revocations", []):
        device.add_revocation(revocation)
    return device
