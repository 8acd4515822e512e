"""Upgrading: a database of the previous release, prepared by this one, keeps everything it held.

The previous release's migrations are kept as they shipped in
tests/data/previous-release/ (with rows.sql, data as that release stored
it), so this test does not follow later edits of bulletin/statements/migrations/.
"""

from __future__ import annotations

import sqlite3

import pytest
from conftest import FAST_HASHING, REPO
from editor_client import EditorClient

from bulletin import create_app
from bulletin.statements import db

PREVIOUS = REPO / "tests" / "data" / "previous-release"
DATABASE_ID = "5e1ec7ab1e0d4c2f9a8b7c6d5e4f3a2b"
# The previous release's /api/sync answered `v1.<first 12 hex of the database id>.<sequence>`:
# this is the cursor a device held after change 2 (the French translation).
DEVICE_CURSOR = f"v1.{DATABASE_ID[:12]}.2"
KEPT_TABLES = (
    "statements",
    "revisions",
    "statement_tags",
    "slug_history",
    "changes",
    "editors",
    "audit_log",
    "login_throttle",
)


def build_previous_release_database(path) -> None:
    """A database as the previous release left it: its three migrations, then its rows."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        for number, name in enumerate(
            ("0001_initial.sql", "0002_editors.sql", "0003_scheduled_publication.sql"), start=1
        ):
            connection.executescript((PREVIOUS / name).read_text(encoding="utf-8"))
            connection.execute(f"PRAGMA user_version = {number}")
        connection.executescript((PREVIOUS / "rows.sql").read_text(encoding="utf-8"))
    finally:
        connection.close()


def rows(path) -> dict:
    connection = sqlite3.connect(path)
    try:
        # The previous release's columns only: a later migration may add one (and fill it in).
        columns = db.expected_schema(3)
        return {
            table: sorted(
                tuple(row) for row in connection.execute(f"SELECT {', '.join(columns[table])} FROM {table}")
            )
            for table in KEPT_TABLES
        }
    finally:
        connection.close()


def without_legacy_marks(tables: dict) -> dict:
    """The rows as the previous release stored them: migration 0007 marks its import source keys
    as legacy (``legacy:imports/ferry-fares.txt``), and changes nothing else."""
    statements = tables["statements"]
    assert "legacy:imports/ferry-fares.txt" in {value for row in statements for value in row}
    unmarked = [
        tuple(v.removeprefix("legacy:") if isinstance(v, str) else v for v in row) for row in statements
    ]
    return {**tables, "statements": sorted(unmarked)}


@pytest.fixture
def old_database(tmp_path):
    path = tmp_path / "previous.sqlite3"
    build_previous_release_database(path)
    return path


@pytest.fixture
def upgraded(old_database, clock):
    """The app on the previous release's database after ``flask --app app prepare``."""
    app = create_app(
        {"TESTING": True, "DATABASE": str(old_database), "SECRET_KEY": "s", "CLOCK": clock, **FAST_HASHING}
    )
    before = rows(old_database)
    result = app.test_cli_runner().invoke(args=["prepare"])
    assert result.exit_code == 0, result.output
    assert "migrated: 0004_epoch.sql" in result.output
    assert without_legacy_marks(rows(old_database)) == before  # every row intact
    return app


def test_the_fixtures_are_the_previous_release_schema():
    # Schema version 3 of the shipped migrations is what the previous release left.
    reference = db.expected_schema(3)
    built = sqlite3.connect(":memory:")
    for name in ("0001_initial.sql", "0002_editors.sql", "0003_scheduled_publication.sql"):
        built.executescript((PREVIOUS / name).read_text(encoding="utf-8"))
    assert db.schema_of(built) == reference


def test_prepare_keeps_every_row_and_readers_see_the_same_site(upgraded):
    client = upgraded.test_client()
    page = client.get("/statements/harbour-workers-stop-work/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "one o&#39;clock" in html or "one o'clock" in html
    assert "The hour was wrong." in html and 'hreflang="fr"' in html
    assert client.get("/statements/harbour-workers/").status_code == 301
    assert client.get("/statements/note-on-the-ferry-fares/").status_code == 410
    assert client.get("/statements/draft-on-the-new-quay/").status_code == 404
    assert [s["slug"] for s in client.get("/api/statements").get_json()["statements"]] == [
        "les-dockers-cessent-le-travail",
        "harbour-workers-stop-work",
    ]
    assert "harbour-workers-stop-work" in client.get("/search/?q=dockers").get_data(as_text=True)
    assert "les-dockers-cessent-le-travail" in client.get("/tags/port/").get_data(as_text=True)


def test_a_device_cursor_from_the_previous_release_still_syncs(upgraded):
    """The database's first epoch is its id, which the old cursors carry: no device starts again."""
    client = upgraded.test_client()
    response = client.get("/api/sync", query_string={"since": DEVICE_CURSOR})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [s["slug"] for s in body["statements"]] == ["harbour-workers-stop-work"]
    assert [w["slug"] for w in body["withdrawn"]] == ["note-on-the-ferry-fares"]
    assert body["cursor"] == f"v1.{DATABASE_ID[:12]}.5"
    assert client.get("/api/sync").get_json()["cursor"] == body["cursor"]


def test_the_editor_logs_in_and_finds_the_history(upgraded):
    editor = EditorClient(upgraded.test_client())
    assert editor.login().status_code == 302
    audit = editor.get("/editor/audit").get_data(as_text=True)
    assert "Harbour workers stop work" in audit and "Note on the ferry fares" in audit
    history = editor.get("/editor/statements/11111111-1111-4111-8111-111111111111/history")
    assert history.status_code == 200 and history.get_data(as_text=True).count("editor@example.org") >= 2
    assert "Draft on the new quay" in editor.get("/editor/").get_data(as_text=True)


def test_health_is_ok_after_the_upgrade_and_not_before(old_database, clock):
    app = create_app({"TESTING": True, "DATABASE": str(old_database), "SECRET_KEY": "s", "CLOCK": clock})
    before = app.test_client().get("/healthz")
    assert before.status_code == 503 and before.get_json()["migrations"] == "pending"
    assert app.test_cli_runner().invoke(args=["prepare"]).exit_code == 0
    after = app.test_client().get("/healthz").get_json()
    assert after["status"] == "ok" and after["last_publication"] == "2022-01-09T07:00:00Z"


def test_restoring_a_previous_release_backup_migrates_it_and_starts_devices_again(old_database, app, client):
    """``restore`` gives a new epoch even to an old backup: devices are told to start again (410)."""
    result = app.test_cli_runner().invoke(args=["restore", str(old_database)])
    assert result.exit_code == 0, result.output
    assert "schema version 3" in result.output and "migrated: 0004_epoch.sql" in result.output
    assert without_legacy_marks(rows(app.config["DATABASE"])) == rows(old_database)
    assert client.get("/api/sync", query_string={"since": DEVICE_CURSOR}).status_code == 410
    assert client.get("/statements/harbour-workers-stop-work/").status_code == 200
    assert EditorClient(client).login().status_code == 302
