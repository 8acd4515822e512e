"""Writes never make readers fail: a long body, a held write lock, a read-only database, a full disk."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import subprocess
import time

import pytest
from editor_client import EditorClient, add_editor

from bulletin.authoring import changes, schedule
from bulletin.http import database
from bulletin.statements import clock as system_clock
from bulletin.statements import db, sanitize, store

PUBLIC_PAGES = ("/", "/feed.atom", "/api/sync", "/api/statements")
SHORT_WAIT = 0.2  # the request path's busy timeout in these tests


# ------------------------------------------------------------------ a long body

# The budgets on this machine are 5 s to save and 1 s to render; the
# test allows five times as much, for a loaded machine. The benchmark
# (bench/long_body.py) measures the real figures.
SAVE_LIMIT_S = 25.0
RENDER_LIMIT_S = 5.0
PARAGRAPHS = 40_000


@pytest.mark.parametrize(
    "source_format, body",
    [
        ("markdown", f"{'a' * 22}\n\n" * PARAGRAPHS),
        ("html", f"<p>{'a' * 22}</p>\n" * PARAGRAPHS),
    ],
    ids=["markdown", "html"],
)
def test_a_body_of_40000_paragraphs_saves_and_renders_in_time(app, source_format, body):
    assert len(body) >= 960_000
    connection = db.connect(app.config["DATABASE"])
    draft = changes.Draft(title="Long", body=body, source_format=source_format, published=dt.date(2024, 5, 1))
    start = time.perf_counter()
    with system_clock.using(app.config["CLOCK"]):
        statement_id = changes.create(connection, draft, changes.tool_context("e@example.org"), publish=True)
    saved = time.perf_counter() - start
    statement = store.get_by_id(connection, statement_id.statement_id)
    connection.close()
    assert saved < SAVE_LIMIT_S
    assert statement.description.startswith("a" * 22 + " " + "a" * 22)
    assert len(statement.description) <= sanitize.DESCRIPTION_LENGTH

    start = time.perf_counter()
    response = app.test_client().get(statement.url)
    rendered = time.perf_counter() - start
    assert response.status_code == 200
    assert rendered < RENDER_LIMIT_S
    assert f'<meta name="description" content="{statement.description}">' in response.get_data(as_text=True)


def test_the_page_description_is_stored_with_the_revision(publisher, client):
    statement_id = publisher.publish(body="<p>First <b>words</b> &amp; more.</p>" + "<p>x</p>" * 100)
    statement = publisher.get(statement_id)
    assert statement.description.startswith("First words & more. x x")
    assert statement.description.endswith("…") and len(statement.description) <= 160
    page = client.get(statement.url).get_data(as_text=True)
    assert 'content="First words &amp; more. x x' in page
    # A summary, when there is one, is the description.
    with_summary = publisher.get(publisher.publish("Other", summary="In short.", slug="other"))
    assert '<meta name="description" content="In short.">' in client.get(with_summary.url).get_data(
        as_text=True
    )


def test_description_reads_only_the_start_and_never_a_cut_tag():
    html = "<p>" + "word " * 10 + '</p><p><a href="https://example.org/">link</a></p>' * 5000
    assert sanitize.description(html).startswith("word word")
    cut = "<p>short</p>" + "<p>" * 3000 + '<a href="https://example.org/very-long">'
    assert "<" not in sanitize.text_start(cut, 9000 + 12)


def test_the_migration_fills_the_description_of_existing_revisions(tmp_path):
    path = tmp_path / "old.sqlite3"
    connection = db.connect(path)
    for number, _name, sql in db._migration_files():
        if number > 4:
            break
        for statement in db._statements(sql):
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {number}")
    connection.execute(
        "INSERT INTO statements (id, slug, lang, translation_group, created_at, updated_at)"
        " VALUES ('s1', 'old', 'en', 's1', '2024-01-01', '2024-01-01')"
    )
    connection.execute(
        "INSERT INTO revisions (id, statement_id, number, source_text, source_format, body_html, title,"
        " author, created_at) VALUES ('r1', 's1', 1, 'x', 'html', '<p>Old <em>text</em>.</p>', 'Old',"
        " 'editor', '2024-01-01T00:00:00Z')"
    )
    assert db.migrate(connection) == [name for n, name, _sql in db._migration_files() if n > 4]
    assert connection.execute("SELECT description FROM revisions").fetchone()[0] == "Old text."
    # Still append-only: content never changes, and a description is set once.
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE revisions SET body_html = '' WHERE id = 'r1'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE revisions SET description = 'other' WHERE id = 'r1'")
    connection.close()


# ------------------------------------------------------------------ a held write lock


@contextlib.contextmanager
def write_lock_held(app):
    """Another connection holds SQLite's write lock (as a long save or import does) for the block."""
    other = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def fast(client, path: str, limit: float = 1.0):
    start = time.perf_counter()
    response = client.get(path)
    return response, time.perf_counter() - start


@pytest.fixture
def busy_app(make_app):
    return make_app(BUSY_TIMEOUT=SHORT_WAIT)


def test_readers_are_answered_at_once_while_another_connection_holds_the_write_lock(busy_app, clock):
    from conftest import Publisher

    statement = Publisher(busy_app).get(Publisher(busy_app).publish(slug="held"))
    reader = busy_app.test_client()
    with write_lock_held(busy_app):
        for path in (*PUBLIC_PAGES, statement.url):
            response, seconds = fast(reader, path)
            assert response.status_code == 200, path
            assert seconds < 1.0, path


def test_a_due_schedule_does_not_delay_or_fail_readers_while_the_lock_is_held(busy_app, clock):
    editor = add_editor(busy_app)
    assert editor
    author = EditorClient(busy_app.test_client())
    author.login()
    at = (clock.now + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    author.create(
        "Later", "Embargoed.", slug="later", published=at.strftime("%Y-%m-%d %H:%M"), action="publish"
    )
    clock.advance((at - clock.now).total_seconds() + 1)
    reader = busy_app.test_client()
    with write_lock_held(busy_app):
        for path in (*PUBLIC_PAGES, "/statements/later/"):
            response, seconds = fast(reader, path)
            # Not published yet (the lock was not free), and waited for only briefly.
            assert response.status_code in (200, 404), path
            assert seconds < schedule.PUBLISH_WAIT + 0.5, path
        connection = db.connect(busy_app.config["DATABASE"])
        assert changes.publish_due(connection, clock.now, wait=0) == []
        connection.close()
    # The first request after the lock is free publishes it.
    assert reader.get("/statements/later/").status_code == 200


def test_an_editors_save_that_cannot_get_the_lock_says_so_and_keeps_the_text(busy_app):
    add_editor(busy_app)
    author = EditorClient(busy_app.test_client())
    author.login()
    statement_id = author.create("Kept", "First text.")
    form = author.form_of(statement_id)
    with write_lock_held(busy_app):
        start = time.perf_counter()
        response = author.post(f"/editor/statements/{statement_id}", {**form, "body": "My new words."})
        assert time.perf_counter() - start < 5
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "busy saving a change" in page and "still in the form" in page
    assert "My new words." in page
    assert author.save(statement_id, body="My new words.").status_code == 302


# ------------------------------------------------------------------ a database that cannot be written


def _immutable(*paths, on: bool) -> None:
    flag = "+i" if on else "-i"
    for path in paths:
        subprocess.run(["chattr", flag, str(path)], check=True, capture_output=True)


@pytest.fixture
def read_only_site(make_app, tmp_path):
    """A site whose database file and folder truly cannot be written, root included.

    Tests run as root here, and root ignores permission bits: chmod would
    prove nothing. The immutable attribute (chattr +i) refuses every write
    to the file and every new file in the folder (SQLite's -wal and -shm),
    root's included; where the file system or the user cannot set it, the
    test is skipped rather than faked.
    """
    folder = tmp_path / "site"
    folder.mkdir()
    app = make_app(DATABASE=str(folder / "bulletin.sqlite3"), BUSY_TIMEOUT=SHORT_WAIT)
    add_editor(app)
    from conftest import Publisher

    statement = Publisher(app).get(Publisher(app).publish(slug="still-read"))
    author = EditorClient(app.test_client())
    author.login()
    statement_id = author.create("Draft", "Draft text.")
    form = author.form_of(statement_id)
    connection = db.connect(app.config["DATABASE"])
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()  # the last connection: SQLite removes -wal and -shm
    for extra in folder.glob("bulletin.sqlite3-*"):
        extra.unlink()
    files = [*folder.iterdir(), folder]
    try:
        _immutable(*files, on=True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"chattr +i is not available here: {e}")
    try:
        try:
            (folder / "probe").write_text("x")
        except OSError:
            pass
        else:
            pytest.skip("the immutable attribute did not stop a write")
        database._warned.discard(app.config["DATABASE"])
        yield app, statement, author, statement_id, form
    finally:
        _immutable(*files, on=False)


def test_a_read_only_database_keeps_reading_and_answers_writes_with_503(read_only_site):
    app, statement, author, statement_id, form = read_only_site
    reader = app.test_client()
    for path in (*PUBLIC_PAGES, statement.url):
        assert reader.get(path).status_code == 200, path
    assert "still-read" in reader.get("/").get_data(as_text=True)

    login = EditorClient(app.test_client()).login()
    assert login.status_code == 503
    assert "read-only" in login.get_data(as_text=True)
    saved = author.post(f"/editor/statements/{statement_id}", {**form, "body": "Unsaved words."})
    assert saved.status_code == 503
    assert "read-only" in saved.get_data(as_text=True)


def test_prepare_and_the_probe_say_when_the_database_is_read_only(read_only_site):
    app = read_only_site[0]
    problem = database.writability_problem(app.config["DATABASE"])
    assert problem and "read-only" in problem
    result = app.test_cli_runner().invoke(args=["prepare"])
    assert result.exit_code == 1
    assert "read-only" in result.output and "Traceback" not in result.output


class _FullDisk(sqlite3.Connection):
    """A connection whose every write fails as SQLite's does on a full disk."""

    def execute(self, sql, *args):
        if sql.lstrip().upper().startswith(("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


@pytest.fixture
def full_disk(monkeypatch):
    def open_full(path, busy_seconds):
        connection = sqlite3.connect(path, factory=_FullDisk, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        return connection

    return lambda: monkeypatch.setattr(database, "_open", open_full)


def test_a_full_disk_gives_login_and_save_a_clear_503(app, editor, full_disk, publisher):
    statement = publisher.get(publisher.publish(slug="on-a-full-disk"))
    author = EditorClient(app.test_client())
    author.login()
    statement_id = author.create("Draft", "Draft text.")
    form = author.form_of(statement_id)
    full_disk()
    saved = author.post(f"/editor/statements/{statement_id}", {**form, "body": "Words to keep."})
    assert saved.status_code == 503
    page = saved.get_data(as_text=True)
    assert "disk is full" in page and "Words to keep." in page
    login = EditorClient(app.test_client()).login()
    assert login.status_code == 503 and "disk is full" in login.get_data(as_text=True)
    assert app.test_client().get(statement.url).status_code == 200


def test_the_probe_says_when_the_disk_is_full(app, monkeypatch):
    monkeypatch.setattr(database.shutil, "disk_usage", lambda _p: type("U", (), {"free": 4096})())
    problem = database.writability_problem(app.config["DATABASE"])
    assert problem and "full" in problem
    result = app.test_cli_runner().invoke(args=["prepare"])
    assert result.exit_code == 1 and "full" in result.output


def test_gunicorns_start_logs_a_read_only_database(read_only_site):
    import runpy

    from conftest import REPO

    hooks = runpy.run_path(str(REPO / "deploy" / "gunicorn.conf.py"))
    app = read_only_site[0]
    logged = []
    server = type(
        "Server",
        (),
        {
            "app": type("Loaded", (), {"wsgi": staticmethod(lambda: app)})(),
            "log": type("Log", (), {"error": staticmethod(lambda *a: logged.append(a[0] % a[1:]))})(),
        },
    )()
    hooks["when_ready"](server)
    assert logged and "read-only" in logged[0]


def test_the_history_diff_of_a_long_repetitive_body_is_quick():
    from bulletin.editor import diffs

    old = ("a" * 23 + "\n\n") * 40_000
    start = time.perf_counter()
    changed_first = diffs.line_diff(old, old.replace("a" * 23, "b" * 23, 1) + "z")
    changed_middle = diffs.line_diff(old, old[: len(old) // 2] + "c\n\n" + old[len(old) // 2 :])
    assert time.perf_counter() - start < 10  # minutes before
    assert changed_first
    assert [line.kind for line in changed_middle if line.kind != "same"] == ["gap", "added", "added", "gap"]
