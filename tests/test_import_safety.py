"""`flask import` against hostile or unlucky input: links, aliases, sizes, markup, failures, old years."""

from __future__ import annotations

import datetime as dt
import errno
import os
import sqlite3
import time
from pathlib import Path

import pytest

from bulletin import config
from bulletin.importing import importer
from bulletin.statements import db, store
from bulletin.statements.records import parse_stored_time, stored_time

TEXT = "{title}\n\n7 January 2022\n\nThe text of the statement.\n"


def statements(app) -> list:
    connection = db.connect(app.config["DATABASE"])
    try:
        return store.list_published(connection, limit=100)
    finally:
        connection.close()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ publication years below 1000


@pytest.mark.parametrize(
    "value, stored",
    [
        (dt.datetime(226, 3, 1, 9, 30, tzinfo=dt.UTC), "0226-03-01T09:30:00Z"),
        (dt.datetime(1, 1, 1, tzinfo=dt.UTC), "0001-01-01T00:00:00Z"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), "9999-12-31T23:59:59Z"),
        (dt.date(999, 1, 1), "0999-01-01"),
        (dt.date(1, 1, 1), "0001-01-01"),
    ],
)
def test_every_year_from_1_to_9999_is_stored_padded_and_reads_back(value, stored):
    assert stored_time(value) == stored
    assert parse_stored_time(stored) == value


def test_a_time_stored_unpadded_by_an_earlier_release_still_reads():
    assert parse_stored_time("226-03-01T09:30:00Z") == dt.datetime(226, 3, 1, 9, 30, tzinfo=dt.UTC)
    assert parse_stored_time("999-01-01") == dt.date(999, 1, 1)


def test_an_instant_without_a_utc_year_is_refused_with_a_message():
    tokyo = dt.timezone(dt.timedelta(hours=9))
    with pytest.raises(ValueError, match="years 1 to 9999"):
        stored_time(dt.datetime(1, 1, 1, 5, tzinfo=tokyo))


def test_year_999_imports_and_reads_back(runner, app, client, tmp_path):
    write(tmp_path / "old.md", "---\ntitle: Old\ndate: 0999-01-01T10:00:00Z\n---\nThe old text.\n")
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [statement] = statements(app)
    assert statement.published == dt.datetime(999, 1, 1, 10, tzinfo=dt.UTC)
    assert client.get(statement.url).status_code == 200
    assert client.get("/").status_code == 200 and client.get("/feed.atom").status_code == 200


def test_year_1_in_tokyo_is_a_message_for_that_file_not_a_traceback(make_app, tmp_path):
    app = make_app(TIMEZONE="Asia/Tokyo")
    runner = app.test_cli_runner()
    write(tmp_path / "day.md", "---\ntitle: Day one\ndate: 0001-01-01\n---\nThe text.\n")
    write(tmp_path / "instant.md", "---\ntitle: Hour five\ndate: 0001-01-01T05:00:00\n---\nThe text.\n")
    write(tmp_path / "line.txt", "First day\n\n1 January 0001\n\nThe text.\n")
    write(tmp_path / "ok.txt", TEXT.format(title="Fine"))
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    assert "instant.md, line 3:" in result.output and "years 1 to 9999" in result.output
    titles = {s.title for s in statements(app)}
    assert {"Day one", "First day", "Fine"} <= titles and "Hour five" not in titles
    client = app.test_client()
    assert all(client.get(s.url).status_code == 200 for s in statements(app))


def test_migration_pads_years_stored_unpadded(tmp_path):
    connection = db.connect(tmp_path / "old.sqlite3")
    try:
        db.migrate(connection)
        connection.execute(
            "INSERT INTO statements (id, slug, lang, translation_group, is_original, published,"
            " created_at, updated_at) VALUES ('x', 'x', 'en', 'x', 1, '226-03-01T09:30:00Z', 'c', 'u')"
        )
        connection.execute("PRAGMA user_version = 5")
        assert "0006_padded_years.sql" in db.migrate(connection)
        published = connection.execute("SELECT published FROM statements").fetchone()[0]
        assert published == "0226-03-01T09:30:00Z"
    finally:
        connection.close()


# ------------------------------------------------------------------ symbolic links


def test_symbolic_links_are_never_followed(runner, app, tmp_path):
    secret = write(tmp_path / "outside" / "secret.txt", TEXT.format(title="Not for the public"))
    write(tmp_path / "outside" / "more" / "other.txt", TEXT.format(title="Nor this"))
    folder = tmp_path / "statements"
    write(folder / "real.txt", TEXT.format(title="A real statement"))
    (folder / "passwd.txt").symlink_to(secret)
    (folder / "linked").symlink_to(tmp_path / "outside" / "more", target_is_directory=True)
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    assert "skipped   statements/passwd.txt: a symbolic link" in result.output
    assert "skipped   statements/linked: a symbolic link" in result.output
    assert [s.title for s in statements(app)] == ["A real statement"]
    named = runner.invoke(args=["import", str(folder / "passwd.txt")])
    assert "skipped" in named.output and [s.title for s in statements(app)] == ["A real statement"]


def test_a_file_replaced_by_a_link_after_listing_is_not_opened(tmp_path):
    target = write(tmp_path / "target.txt", "secret")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with pytest.raises(importer.SourceError, match="symbolic link"):
        importer.read_limited(link, 1000)


# ------------------------------------------------------------------ overwriting and source keys


def test_a_file_cannot_overwrite_another_sources_statement(runner, app, tmp_path):
    write(
        tmp_path / "a" / "first.md", "---\nslug: the-call\n---\n# The call\n\n2022-03-01\n\nOriginal text.\n"
    )
    assert runner.invoke(args=["import", str(tmp_path / "a")]).exit_code == 0
    [original] = statements(app)
    write(
        tmp_path / "b" / "intruder.md",
        "---\nslug: the-call\ndate: 2030-01-01\n---\n# Something else\n\nReplaced text.\n",
    )
    write(tmp_path / "c" / "by-id.md", f"---\nid: {original.id}\n---\n# By id\n\n2022-03-01\n\nOther text.\n")
    for folder in ("b", "c"):
        refused = runner.invoke(args=["import", str(tmp_path / folder)])
        assert refused.exit_code == 1, refused.output
        assert f"would overwrite statement the-call (id {original.id}" in refused.output
        assert "--force" in refused.output
    [kept] = statements(app)
    assert (kept.title, kept.published, kept.revision_number) == ("The call", dt.date(2022, 3, 1), 1)
    forced = runner.invoke(args=["import", "--force", str(tmp_path / "b")])
    assert forced.exit_code == 0 and forced.output.startswith("revised"), forced.output


def test_a_file_cannot_overwrite_an_editors_statement(runner, app, publisher, tmp_path):
    publisher.publish("Written in the editor", slug="editors-own")
    write(tmp_path / "x.md", "---\nslug: editors-own\n---\n# Taken over\n\n2022-03-01\n\nText.\n")
    refused = runner.invoke(args=["import", str(tmp_path)])
    assert refused.exit_code == 1 and "statement editors-own" in refused.output, refused.output
    assert statements(app)[0].title == "Written in the editor"


def test_source_keys_do_not_depend_on_the_folder_named(runner, app, tmp_path):
    tree = tmp_path / "statements"
    file = write(tree / "2022" / "call.txt", TEXT.format(title="The call"))
    assert runner.invoke(args=["import", str(tree)]).output.startswith("created")
    assert runner.invoke(args=["import", str(tree / "2022")]).output.startswith("unchanged")
    assert runner.invoke(args=["import", str(file)]).output.startswith("unchanged")
    write(file, TEXT.format(title="The call") + "\nA second paragraph.\n")
    revised = runner.invoke(args=["import", str(tree / "2022")])
    assert revised.exit_code == 0 and revised.output.startswith("revised"), revised.output
    [statement] = statements(app)
    assert statement.source_key == file.resolve().as_posix()


def test_a_marker_makes_keys_relative_so_the_tree_can_move(runner, app, tmp_path):
    tree = tmp_path / "old-place" / "statements"
    write(tree / importer.MARKER, "")
    write(tree / "2022" / "call.txt", TEXT.format(title="The call"))
    assert runner.invoke(args=["import", str(tree / "2022")]).exit_code == 0
    assert statements(app)[0].source_key == "statements/2022/call.txt"
    moved = tmp_path / "new-place" / "statements"
    moved.parent.mkdir()
    tree.rename(moved)
    again = runner.invoke(args=["import", str(moved)])
    assert again.output.startswith("unchanged"), again.output
    assert len(statements(app)) == 1


def test_keys_of_an_earlier_release_are_migrated_and_still_recognise_their_file(runner, app, tmp_path):
    file = write(tmp_path / "statements" / "2022" / "call.txt", TEXT.format(title="The call"))
    assert runner.invoke(args=["import", str(file)]).exit_code == 0
    connection = db.connect(app.config["DATABASE"])
    try:
        # As the previous release stored it after `import statements/`, before migration 0007.
        connection.execute("UPDATE statements SET source_key = 'statements/2022/call.txt'")
        connection.execute("PRAGMA user_version = 6")
        assert "0007_legacy_source_keys.sql" in db.migrate(connection)
        key = connection.execute("SELECT source_key FROM statements").fetchone()[0]
        assert key == "legacy:statements/2022/call.txt"
    finally:
        connection.close()
    write(file, TEXT.format(title="The call") + "\nA second paragraph.\n")
    revised = runner.invoke(args=["import", str(tmp_path / "statements" / "2022")])
    assert revised.exit_code == 0 and revised.output.startswith("revised"), revised.output
    assert len(statements(app)) == 1


# ------------------------------------------------------------------ YAML, sizes, markup


def test_nested_yaml_aliases_are_refused_without_expanding_them(runner, app, tmp_path):
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[i]
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    bomb = "---\ntitle: Bomb\ndate:\n  " + "\n  ".join(levels) + "\n---\nText.\n"
    assert len(bomb.encode()) < 600
    write(tmp_path / "bomb.md", bomb)
    write(tmp_path / "fine.txt", TEXT.format(title="Fine"))
    started = time.monotonic()
    result = runner.invoke(args=["import", str(tmp_path)])
    assert time.monotonic() - started < 5
    assert result.exit_code == 1 and "anchor or alias" in result.output, result.output
    assert len(result.output) < 2000
    assert [s.title for s in statements(app)] == ["Fine"]


def test_a_file_over_the_import_limit_is_refused_before_it_is_read(make_app, tmp_path):
    app = make_app(IMPORT_MAX_BYTES=1000)
    write(tmp_path / "big.txt", TEXT.format(title="Big") + "word " * 400)
    write(tmp_path / "small.txt", TEXT.format(title="Small"))
    result = app.test_cli_runner().invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        "big.txt: " in result.output and "more than 1000 bytes (BULLETIN_IMPORT_MAX_BYTES)" in result.output
    )
    assert [s.title for s in statements(app)] == ["Small"]


def test_the_import_limit_setting():
    assert config.defaults()["IMPORT_MAX_BYTES"] == 2 * 1024 * 1024
    assert config.from_environment({"BULLETIN_IMPORT_MAX_BYTES": "5000"})["IMPORT_MAX_BYTES"] == 5000


def test_twenty_thousand_unclosed_h1_fail_quickly(runner, app, tmp_path):
    write(tmp_path / "headings.html", "<h1>abcdefghij\n" * 20000)  # 300 KB
    started = time.monotonic()
    result = runner.invoke(args=["import", str(tmp_path)])
    assert time.monotonic() - started < 3, "was 43 s: the heading pattern was retried from every <h1>"
    assert result.exit_code == 1 and "headings.html" in result.output


def test_deep_nesting_is_refused_quickly(runner, app, tmp_path):
    write(
        tmp_path / "deep.html",
        "<h1>Deep</h1><p>7 January 2022</p>" + "<div>" * 20000 + "x" + "</div>" * 20000,
    )
    started = time.monotonic()
    result = runner.invoke(args=["import", str(tmp_path)])
    assert time.monotonic() - started < 3
    assert result.exit_code == 1 and "nested more than" in result.output


def test_unclosed_paragraphs_and_list_items_are_not_nesting(runner, app, tmp_path):
    items = "".join(f"<li>item {i}" for i in range(400))
    write(tmp_path / "list.html", f"<h1>List</h1><p>7 January 2022</p><p>Intro<ul>{items}</ul>")
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_a_hundred_thousand_paragraphs_import_in_bounded_time(runner, app, tmp_path):
    body = "<h1>Many</h1>\n<p>7 January 2022</p>\n" + "<p>A line</p>\n" * 100000  # 1.4 MB
    write(tmp_path / "many.html", body)
    started = time.monotonic()
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 30  # about 5 s on the reference machine


# ------------------------------------------------------------------ one file's failure is that file's


@pytest.mark.parametrize(
    "error",
    [
        MemoryError(),
        OverflowError("date value out of range"),
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        sqlite3.OperationalError("attempt to write a readonly database"),
        RecursionError("maximum recursion depth exceeded"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_any_failure_of_one_file_is_reported_and_the_run_goes_on(runner, app, tmp_path, monkeypatch, error):
    write(tmp_path / "1-first.txt", TEXT.format(title="First"))
    write(tmp_path / "2-boom.txt", TEXT.format(title="Boom"))
    write(tmp_path / "3-last.txt", TEXT.format(title="Last"))
    real = importer.changes.import_statement

    def failing(db_, draft, *args, **kwargs):
        if draft.title == "Boom":
            raise error
        return real(db_, draft, *args, **kwargs)

    monkeypatch.setattr(importer.changes, "import_statement", failing)
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, type(error))
    assert "failed    " + tmp_path.name + "/2-boom.txt: " in result.output
    assert "nothing of it was stored" in result.output
    assert sorted(s.title for s in statements(app)) == ["First", "Last"]


def test_exit_status_is_0_when_everything_was_imported(runner, app, tmp_path):
    write(tmp_path / "one.txt", TEXT.format(title="One"))
    assert runner.invoke(args=["import", str(tmp_path)]).exit_code == 0
    assert runner.invoke(args=["import", "--date", "03/04/2022", str(tmp_path)]).exit_code == 2
