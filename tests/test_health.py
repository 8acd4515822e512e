"""``/healthz``: 200 when the site can serve, 503 with the reason when it cannot; never cached."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from conftest import reconfigure


def health(client):
    response = client.get("/healthz")
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers
    return response.status_code, response.get_json()


def test_healthy_names_the_schema_and_the_last_publication(client, publisher, editor, clock):
    status, body = health(client)
    assert status == 200
    assert body["status"] == "ok" and body["database"] == "readable" and body["migrations"] == "current"
    assert body["last_publication"] is None and len(body["epoch"]) == 12
    clock.now = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
    publisher.publish("Out")
    status, body = health(client)
    assert status == 200 and body["last_publication"] == "2024-05-01T12:30:00Z"
    assert editor.email not in str(body) and "sqlite3" not in str(body)  # no accounts, no paths


def test_every_check_reaches_flask(client, flask_requests):
    for _ in range(3):
        health(client)
    assert len(flask_requests) == 3  # never replayed by the hot path


@pytest.mark.parametrize("breakage", ["folder", "garbage"])
def test_an_unreadable_database_is_503(tmp_path, make_app, breakage):
    broken = tmp_path / "broken"
    if breakage == "folder":
        broken.mkdir()
    else:
        broken.write_bytes(b"this is not an SQLite file, " * 200)
    app = make_app()
    reconfigure(app, DATABASE=str(broken))
    status, body = health(app.test_client())
    assert status == 503
    assert body == {
        "status": "unavailable",
        "reason": "the database cannot be read",
        "database": "unreadable",
    }


def test_a_missing_database_is_503_and_stays_missing(tmp_path, make_app):
    app = make_app()
    missing = tmp_path / "nowhere.sqlite3"
    reconfigure(app, DATABASE=str(missing))
    status, body = health(app.test_client())
    assert status == 503 and body["database"] == "unreadable"
    assert not missing.exists()  # the check never creates an empty database


def test_pending_migrations_are_503(app, client):
    connection = sqlite3.connect(app.config["DATABASE"])
    connection.execute("PRAGMA user_version = 3")
    connection.close()
    status, body = health(client)
    assert status == 503
    assert body["migrations"] == "pending" and "0004_epoch.sql" in body["reason"]
    assert "prepare" in body["reason"]
