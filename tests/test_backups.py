"""Backups and restores: made through SQLite while the site runs, and nothing from before a restore taken for after it."""

from __future__ import annotations

import sqlite3
import stat

import pytest
from conftest import sync

from bulletin.statements import db, epochs


def titles(payload):
    return [s["title"] for s in payload["statements"]]


def restore_behind_bulletins_back(backup, live):
    """What ``sqlite3 bulletin.sqlite3 '.restore backup'`` does under running workers: the backup API, into the live file."""
    source, target = sqlite3.connect(backup), sqlite3.connect(live)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def epoch_of(path):
    connection = db.connect(path)
    try:
        return epochs.current(connection)
    finally:
        connection.close()


def contents(path):
    connection = db.connect(path)
    try:
        return [
            tuple(row)
            for row in connection.execute("SELECT id, status, change_seq FROM statements ORDER BY id")
        ]
    finally:
        connection.close()


@pytest.fixture
def backup_file(tmp_path, runner, publisher):
    """A backup holding one published statement, "Kept"."""
    publisher.publish("Kept", slug="kept")
    path = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_backup_is_one_private_self_contained_file(backup_file, app):
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600  # it holds editors' password hashes
    connection = sqlite3.connect(backup_file)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert connection.execute("SELECT count(*) FROM statements").fetchone()[0] == 1
    connection.close()
    assert not list(backup_file.parent.glob(".backup.sqlite3.*"))  # no partial file left


def test_backup_refuses_an_existing_file_unless_told_to_overwrite(backup_file, runner, publisher):
    publisher.publish("Later")
    refused = runner.invoke(args=["backup", str(backup_file)])
    assert refused.exit_code == 1 and "exists already" in refused.output
    assert sqlite3.connect(backup_file).execute("SELECT count(*) FROM statements").fetchone()[0] == 1
    replaced = runner.invoke(args=["backup", "--overwrite", str(backup_file)])
    assert replaced.exit_code == 0, replaced.output
    assert "2 statements" in replaced.output
    assert sqlite3.connect(backup_file).execute("SELECT count(*) FROM statements").fetchone()[0] == 2


def test_backup_without_a_database_exits_1(tmp_path, make_app):
    app = make_app()
    app.config["DATABASE"] = str(tmp_path / "missing" / "none.sqlite3")
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.sqlite3")])
    assert result.exit_code == 1 and "there is no database" in result.output
    assert not (tmp_path / "b.sqlite3").exists()


def test_restore_then_publish_shows_only_the_restored_timeline(backup_file, app, client, runner, publisher):
    publisher.publish("A", slug="a")
    device = sync(client)["cursor"]
    before = client.get("/")
    assert "A</a>" in before.get_data(as_text=True)

    result = runner.invoke(args=["restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "new epoch" in result.output
    publisher.publish("B", slug="b")

    page = client.get("/", headers={"If-None-Match": before.headers["ETag"]})
    assert page.status_code == 200
    assert page.headers["ETag"] != before.headers["ETag"]
    html = page.get_data(as_text=True)
    assert "B</a>" in html and "A</a>" not in html and "Kept" in html
    assert client.get("/statements/a/").status_code == 404

    expired = client.get("/api/sync", query_string={"since": device})
    assert expired.status_code == 410 and expired.get_json()["error"]["code"] == "cursor_expired"
    fresh = sync(client)
    assert sorted(titles(fresh)) == ["B", "Kept"]
    assert sync(client, fresh["cursor"])["statements"] == []


def test_restore_keeps_the_database_aside_and_ends_editor_sessions(
    backup_file, app, runner, publisher, editor_client
):
    publisher.publish("A", slug="a")
    before = contents(app.config["DATABASE"])
    assert editor_client.get("/editor/").status_code == 200
    result = runner.invoke(args=["restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    (aside,) = backup_file.parent.glob("bulletin.sqlite3.before-restore-*")
    assert f"kept at {aside}" in result.output
    assert contents(aside) == before
    assert editor_client.get("/editor/").status_code == 302  # logged out: sessions are not restored


def test_restore_made_through_sqlite_under_a_running_app(backup_file, app, client, publisher):
    """``sqlite3 .restore`` while workers serve: the next request notices and renews the epoch."""
    sync(client)  # the hot path has seen the database
    publisher.publish("A", slug="a")
    device = sync(client)["cursor"]
    before = client.get("/")
    assert client.get("/").headers["ETag"] == before.headers["ETag"]  # replayed by the hot path

    restore_behind_bulletins_back(backup_file, app.config["DATABASE"])
    publisher.publish("B", slug="b")  # the same sequence number A had

    page = client.get("/", headers={"If-None-Match": before.headers["ETag"]})
    assert page.status_code == 200 and page.headers["ETag"] != before.headers["ETag"]
    html = page.get_data(as_text=True)
    assert "B</a>" in html and "A</a>" not in html
    assert client.get("/api/sync", query_string={"since": device}).status_code == 410
    assert sorted(titles(sync(client))) == ["B", "Kept"]


def test_a_restore_back_to_fewer_changes_is_noticed_before_anything_is_written(
    tmp_path, app, client, runner, publisher, editor_client
):
    backup = tmp_path / "with-editor.sqlite3"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0  # the editor's session included
    publisher.publish("A", slug="a")
    publisher.publish("A2", slug="a2")
    device = sync(client)["cursor"]
    epoch = epoch_of(app.config["DATABASE"])
    restore_behind_bulletins_back(backup, app.config["DATABASE"])
    # An editor's request is the first to arrive: the epoch is renewed before its write.
    editor_client.create("B", slug="b", action="publish")
    assert epoch_of(app.config["DATABASE"]) != epoch
    assert client.get("/api/sync", query_string={"since": device}).status_code == 410
    assert titles(sync(client)) == ["B"]


def test_a_database_file_swapped_while_stopped_is_noticed_by_prepare(
    backup_file, app, client, publisher, runner
):
    publisher.publish("A", slug="a")
    device = sync(client)["cursor"]
    live = app.config["DATABASE"]
    epoch = epoch_of(live)
    for suffix in ("", "-wal", "-shm"):
        (backup_file.parent / f"bulletin.sqlite3{suffix}").unlink(missing_ok=True)
    backup_file.rename(live)
    result = runner.invoke(args=["prepare"])
    assert result.exit_code == 0, result.output
    assert "went back in time" in result.output
    assert epoch_of(live) != epoch
    assert client.get("/api/sync", query_string={"since": device}).status_code == 410


def test_the_same_state_restored_keeps_its_epoch(backup_file, app, client):
    """A backup of exactly what was served is no step back: devices keep their cursors."""
    device = sync(client)["cursor"]
    restore_behind_bulletins_back(backup_file, app.config["DATABASE"])
    assert sync(client, device)["statements"] == []


def test_an_epoch_given_up_by_a_restore_never_comes_back(backup_file, app, client, runner, publisher):
    first = epoch_of(backup_file)
    assert runner.invoke(args=["restore", str(backup_file)]).exit_code == 0
    publisher.publish("After", slug="after")
    sync(client)
    # The old backup again, from outside: its epoch was retired by the restore.
    restore_behind_bulletins_back(backup_file, app.config["DATABASE"])
    sync(client)
    now = epoch_of(app.config["DATABASE"])
    assert now != first
    mark = epochs.Mark.from_json(epochs.mark_path(app.config["DATABASE"]).read_text())
    assert mark.furthest.epoch == now and first in mark.retired


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.write_bytes(b"not a database at all" * 100), "is not a SQLite database"),
        (lambda path: sqlite3.connect(path).execute("CREATE TABLE t (x)"), "is not a Bulletin database"),
        (lambda path: sqlite3.connect(path).execute("PRAGMA user_version = 99"), "newer than this Bulletin"),
        (
            lambda path: sqlite3.connect(path).executescript(
                "CREATE TABLE meta (key); PRAGMA user_version = 1;"
            ),
            "table statements is missing",
        ),
    ],
    ids=["garbage", "other-sqlite", "newer-schema", "wrong-tables"],
)
def test_restore_refuses_what_is_not_a_known_bulletin_database(
    tmp_path, app, runner, publisher, make, message
):
    publisher.publish("Live", slug="live")
    before = contents(app.config["DATABASE"])
    candidate = tmp_path / "candidate.sqlite3"
    make(candidate)
    result = runner.invoke(args=["restore", str(candidate)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert contents(app.config["DATABASE"]) == before
    assert not list(tmp_path.glob("bulletin.sqlite3.before-restore-*"))
    assert not list(tmp_path.glob(".bulletin.sqlite3.*"))


def test_restore_of_a_damaged_backup_changes_nothing(backup_file, app, runner, publisher):
    publisher.publish("Live", slug="live")
    before = contents(app.config["DATABASE"])
    data = bytearray(backup_file.read_bytes())
    page = 4096
    data[page * 2 : page * 3] = b"\xff" * page  # a B-tree page overwritten
    backup_file.write_bytes(bytes(data))
    result = runner.invoke(args=["restore", str(backup_file)])
    assert result.exit_code == 1, result.output
    assert contents(app.config["DATABASE"]) == before


def test_restore_onto_a_new_machine_makes_the_database(backup_file, tmp_path, make_app):
    """Moving to another machine: restore there (a new epoch), rather than copying the file."""
    fresh = tmp_path / "new-machine"
    fresh.mkdir()
    app = make_app(DATABASE=str(fresh / "bulletin.sqlite3"))
    (fresh / "bulletin.sqlite3").unlink()
    for suffix in ("-wal", "-shm"):
        (fresh / f"bulletin.sqlite3{suffix}").unlink(missing_ok=True)
    result = app.test_cli_runner().invoke(args=["restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "kept at" not in result.output  # there was nothing to keep
    assert epoch_of(fresh / "bulletin.sqlite3") != epoch_of(backup_file)
    assert titles(sync(app.test_client())) == ["Kept"]


def test_a_damaged_high_water_mark_is_started_again(app, client, publisher, caplog):
    publisher.publish("Kept", slug="kept")
    mark = epochs.mark_path(app.config["DATABASE"])
    mark.write_text("{not json")
    assert client.get("/statements/kept/").status_code == 200
    assert "unreadable high-water mark" in caplog.text
    written = epochs.Mark.from_json(mark.read_text())
    assert written.furthest.epoch == epoch_of(app.config["DATABASE"]) and written.furthest.seq == 1
    assert stat.S_IMODE(mark.stat().st_mode) == 0o644  # every worker reads it, whoever wrote it
