"""The store: ids, slugs, revisions, the change log and search."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest
from conftest import create_draft

from bulletin.authoring import changes
from bulletin.statements import db, store
from bulletin.statements.db import transaction
from bulletin.statements.records import parse_stored_time, stored_time
from bulletin.statements.slugs import slugify


def test_migrations_are_recorded_and_idempotent(app):
    connection = db.connect(app.config["DATABASE"])
    assert db.migrate(connection) == []
    assert db.pending_migrations(connection) == []
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert len(store.database_id(connection)) == 32


def test_a_failed_migration_leaves_the_database_untouched_and_is_logged(tmp_path, monkeypatch, caplog):
    connection = db.connect(tmp_path / "x.sqlite3")
    broken = [(1, "0001_broken.sql", "CREATE TABLE a (x);\nCREATE TABLE a (x);\n")]
    monkeypatch.setattr(db, "_migration_files", lambda: broken)
    with pytest.raises(sqlite3.OperationalError):
        db.migrate(connection)
    [record] = [r for r in caplog.records if r.name == "bulletin.statements.db"]
    assert record.levelname == "ERROR" and "0001_broken.sql" in record.getMessage()
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 0
    assert connection.execute("SELECT count(*) FROM sqlite_master WHERE name = 'a'").fetchone()[0] == 0


def test_ids_are_random_uuids_not_row_numbers(publisher):
    first, second = publisher.publish("One"), publisher.publish("Two")
    assert uuid.UUID(first).version == 4 and uuid.UUID(second).version == 4
    assert publisher.get(first).revision != first


@pytest.mark.parametrize(
    "title, slug",
    [
        ("SI condemns violence in Kazakhstan", "si-condemns-violence-in-kazakhstan"),
        ("Заявление о выборах 2024", "заявление-о-выборах-2024"),
        ("بيان حول الانتخابات", "بيان-حول-الانتخابات"),
        ("  Élections : « libres » ?  ", "élections-libres"),
        ("!!!", ""),
    ],
)
def test_slugs_keep_their_own_script(title, slug):
    assert slugify(title) == slug


def test_same_title_gives_a_second_slug(publisher):
    first = publisher.get(publisher.publish("Same title"))
    second = publisher.get(publisher.publish("Same title"))
    assert (first.slug, second.slug) == ("same-title", "same-title-2")


def test_title_without_letters_still_gets_a_slug(publisher):
    statement = publisher.get(publisher.publish("!!!"))
    assert statement.slug and statement.slug == statement.id[:8]


def test_revisions_are_append_only(publisher, app):
    statement_id = publisher.publish("Original")
    publisher.revise(statement_id, title="Corrected", body="<p>Fixed.</p>", correction_note="Date fixed.")
    connection = db.connect(app.config["DATABASE"])
    revisions = store.revisions_of(connection, statement_id)
    assert [r["title"] for r in revisions] == ["Original", "Corrected"]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE revisions SET title = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM revisions")
    statement = publisher.get(statement_id)
    assert statement.title == "Corrected" and statement.is_corrected
    assert statement.correction_note == "Date fixed."


def test_bodies_are_sanitized_on_write(publisher):
    statement = publisher.get(publisher.publish(body='<p onclick="x()">Hi<script>alert(1)</script></p>'))
    assert statement.body_html == "<p>Hi</p>"


def test_dates_stay_dates_and_instants_are_utc():
    assert stored_time(dt.date(2022, 1, 7)) == "2022-01-07"
    almaty = dt.timezone(dt.timedelta(hours=5))
    instant = dt.datetime(2022, 1, 7, 3, 0, tzinfo=almaty)
    assert stored_time(instant) == "2022-01-06T22:00:00Z"
    assert parse_stored_time("2022-01-07") == dt.date(2022, 1, 7)
    assert parse_stored_time("2022-01-06T22:00:00Z") == instant
    with pytest.raises(ValueError):
        stored_time(dt.datetime(2022, 1, 7, 3, 0))


def test_every_change_advances_the_cursor(publisher, app):
    connection = db.connect(app.config["DATABASE"])
    statement_id = publisher.publish()
    after_publish = store.latest_change_seq(connection)
    publisher.revise(statement_id, title="Again", body="<p>New.</p>")
    after_update = store.latest_change_seq(connection)
    publisher.withdraw(statement_id)
    after_withdraw = store.latest_change_seq(connection)
    assert 0 < after_publish < after_update < after_withdraw
    kinds = [row[0] for row in connection.execute("SELECT kind FROM changes ORDER BY seq")]
    assert kinds == ["publish", "update", "withdraw"]


def test_drafts_are_invisible(app):
    connection = db.connect(app.config["DATABASE"])
    with transaction(connection):
        create_draft(connection, "Draft")
    assert store.list_published(connection, limit=10) == []
    assert store.changed_since(connection, 0, limit=10) == []
    assert store.latest_change_seq(connection) == 0


def test_published_slugs_are_frozen_and_draft_renames_redirect(app):
    connection = db.connect(app.config["DATABASE"])
    with transaction(connection):
        statement_id = create_draft(connection, "First title")
        assert store.rename(connection, statement_id, "Better title") == "better-title"
        store.publish(connection, statement_id)
    assert store.current_slug_for(connection, "first-title") == "better-title"
    with pytest.raises(store.StoreError, match="frozen"):
        with transaction(connection):
            store.rename(connection, statement_id, "Another")


def test_withdrawal_needs_a_reason(publisher, app):
    statement_id = publisher.publish()
    with pytest.raises(changes.Refused, match="reason"):
        publisher.withdraw(statement_id, reason="  ")
    connection = publisher.connection()
    with pytest.raises(store.StoreError, match="reason"):
        with transaction(connection):
            store.withdraw(connection, statement_id, "  ")
    assert publisher.get(statement_id).status == "published"


def test_search_matches_words_and_ignores_fts_syntax(publisher, app):
    publisher.publish("Kazakhstan protests", "<p>Lethal force against protesters.</p>")
    publisher.publish("Elections", "<p>Observers report irregularities.</p>")
    withdrawn = publisher.publish("Withdrawn protesters", "<p>protesters</p>")
    publisher.withdraw(withdrawn)
    connection = db.connect(app.config["DATABASE"])
    titles = lambda q: [s.title for s in store.search(connection, q, limit=10)]  # noqa: E731
    assert titles("protesters") == ["Kazakhstan protests"]
    assert titles("PROTESTERS lethal") == ["Kazakhstan protests"]
    assert titles("protesters observers") == []
    for hostile in ['"', "AND", "NEAR(", "*", "title:x", "a OR", "(", "-"]:
        assert titles(hostile) == []


def test_search_folds_diacritics_and_reads_cyrillic(publisher, app):
    publisher.publish("Élection", "<p>Déclaration commune.</p>", lang="fr")
    publisher.publish("Выборы", "<p>Совместное заявление наблюдателей.</p>", lang="ru")
    connection = db.connect(app.config["DATABASE"])
    assert [s.title for s in store.search(connection, "declaration", limit=5)] == ["Élection"]
    assert [s.title for s in store.search(connection, "заявление", limit=5)] == ["Выборы"]


def test_translations_share_a_group(publisher, app):
    original = publisher.publish("Release the journalist", slug="release")
    translation = publisher.publish("Liberen al periodista", lang="es", translation_of="release")
    connection = db.connect(app.config["DATABASE"])
    es = store.get_by_id(connection, translation)
    assert es.translation_group == original and not es.is_original
    assert [s.id for s in store.translations_of(connection, es)] == [original]


def test_unknown_translation_target_is_refused(publisher):
    with pytest.raises(store.StoreError, match="translation_of 'nope'"):
        publisher.publish("Orphan", translation_of="nope")


def test_tags_are_normalized(publisher):
    statement = publisher.get(publisher.publish(tags=["Press Freedom", "press-freedom", " ", "Shutdown"]))
    assert statement.tags == ("press-freedom", "shutdown")
