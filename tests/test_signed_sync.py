"""Signed sync: every record a device receives verifies with a key the pinned root certified, the
index is itself signed and moves forward, and a statement's payload bytes are the same wherever it goes."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from conftest import Publisher, device_with_keys

from bulletin.authoring import changes
from bulletin.publishing import publisher as publishing
from bulletin.signing.reasons import BAD_SIGNATURE, Rejected
from bulletin.signing.verifier import RECORD_TYPES, Verifier
from bulletin.site import render, signed_records
from bulletin.statements import db, epochs, store

INDEX = "/sync/index.json"
SUB_BASE = "http://mirror.example.org/news/"


def device(client, test_keys) -> Verifier:
    """A device that pinned the session's root and took the certificates /keys.json serves."""
    return device_with_keys(test_keys.root_public, client.get("/keys.json").get_json())


def sync_file_envelopes(client, *, snapshot: bool = True) -> list[dict]:
    """Every record of every file the index names (snapshot, recent and older chunks), as shipped."""
    index = json.loads(client.get(INDEX).get_json()["payload"])
    older = json.loads(client.get(f"/sync/{index['older']['path']}").get_data())["chunks"]
    found = []
    for entry in [index["snapshot"]] * snapshot + [*older, *index["chunks"]]:
        found += json.loads(client.get(f"/sync/{entry['path']}").get_data())["records"]
    return found


@pytest.fixture
def statements(publisher, clock):
    clock.now = dt.datetime(2026, 3, 4, 10, 5, 0, tzinfo=dt.UTC)
    ids = [publisher.publish(f"Statement {n}", f"<p>Words of {n}, نص.</p>") for n in range(4)]
    publisher.revise(ids[0], title="Statement 0", body="<p>Corrected words.</p>", correction_note="Fixed.")
    publisher.withdraw(ids[1], reason="Published in error.")
    return ids


def test_every_record_of_the_sync_files_verifies_with_a_certified_key(client, statements, test_keys):
    verifier = device(client, test_keys)
    found = sync_file_envelopes(client)
    assert found and all(list(e) == ["payload", "sig", "kid"] for e in found)
    documents = [verifier.verify(e, RECORD_TYPES) for e in found]
    assert {d["type"] for d in documents} == {"statement", "withdrawal"}
    assert {d["id"] for d in documents} == set(statements)
    assert not verifier.refused


def test_every_statement_object_of_the_api_verifies_and_equals_its_payload(client, statements, test_keys):
    verifier = device(client, test_keys)
    synced = client.get("/api/sync?since=0&limit=100").get_json()
    listed = client.get("/api/statements").get_json()["statements"]
    objects = synced["statements"] + listed
    assert objects and synced["withdrawn"]
    for found in objects + synced["withdrawn"]:
        document = verifier.verify(found["signed"], RECORD_TYPES)
        shared = set(found) & set(document)
        assert {"id", "article_html"} <= shared
        assert all(found[key] == document[key] for key in shared), found["id"]
    # The files and the API carry the same envelope of each statement.
    by_files = {json.loads(e["payload"])["id"]: e for e in sync_file_envelopes(client)}
    for found in synced["statements"] + synced["withdrawn"]:
        assert by_files[found["id"]] == found["signed"]


def test_a_flipped_byte_fails(client, statements, test_keys):
    verifier = device(client, test_keys)
    envelope = sync_file_envelopes(client)[0]
    payload = envelope["payload"]
    at = payload.index('"title":"') + len('"title":"')
    flipped = {**envelope, "payload": payload[:at] + chr(ord(payload[at]) ^ 1) + payload[at + 1 :]}
    with pytest.raises(Rejected) as refused:
        verifier.verify(flipped, RECORD_TYPES)
    assert refused.value.reason == BAD_SIGNATURE
    signature = bytearray(envelope["sig"].encode())
    signature[5] = ord("A") if signature[5] != ord("A") else ord("B")
    with pytest.raises(Rejected):
        verifier.verify({**envelope, "sig": signature.decode()}, RECORD_TYPES)
    assert verifier.refused[BAD_SIGNATURE] >= 1


def test_the_index_verifies_and_says_where_the_database_stands(client, statements, test_keys, app, clock):
    clock.now += dt.timedelta(minutes=15)
    envelope = client.get(INDEX).get_json()
    verifier = Verifier(test_keys.root_public)
    payload = json.loads(envelope["payload"])
    # A device reads the keys from the payload first, each certificate verified on its own.
    for entry in payload["keys"]["keys"]:
        verifier.add_certificate(entry["certificate"])
    document = verifier.accept_index(envelope)
    assert payload["keys"] == client.get("/keys.json").get_json()
    connection = db.connect(app.config["DATABASE"])
    try:
        assert document["epoch"] == epochs.number(connection) and isinstance(document["epoch"], int)
        assert document["seq"] == store.latest_change_seq(connection)
        assert document["db"] == store.database_id(connection)
        latest = connection.execute("SELECT at FROM changes ORDER BY seq DESC LIMIT 1").fetchone()[0]
    finally:
        connection.close()
    # The latest change, made after the hour began.
    assert document["signed_at"] == latest == "2026-03-04T10:05:00Z"
    assert document["mirrors"] is None
    # Within the hour the same bytes; the next hour signs anew, and a device moves forward to it.
    clock.now += dt.timedelta(minutes=30)
    assert client.get(INDEX).get_json() == envelope
    clock.now += dt.timedelta(minutes=30)
    later = client.get(INDEX).get_json()
    assert json.loads(later["payload"])["signed_at"] == "2026-03-04T11:00:00Z"
    assert verifier.accept_index(later)["seq"] == document["seq"]
    with pytest.raises(Rejected) as refused:
        verifier.accept_index(envelope)  # the older one again: a rollback
    assert refused.value.reason == "rollback"


def test_the_index_is_never_answered_from_a_copy_of_another_hour(client, statements, clock):
    clock.now = dt.datetime(2026, 3, 4, 10, 59, 0, tzinfo=dt.UTC)
    first = client.get(INDEX)
    clock.now += dt.timedelta(minutes=2)
    again = client.get(INDEX, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
    assert json.loads(again.get_json()["payload"])["signed_at"] == "2026-03-04T11:00:00Z"


def test_the_signed_at_of_a_change_later_than_the_hour_start(client, publisher, clock):
    clock.now = dt.datetime(2026, 3, 4, 10, 41, 7, tzinfo=dt.UTC)
    publisher.publish("Now")
    assert json.loads(client.get(INDEX).get_json()["payload"])["signed_at"] == "2026-03-04T10:41:07Z"


def test_the_payload_bytes_are_the_same_at_the_origin_in_an_export_under_a_path_and_for_a_bundle(
    client, runner, statements, tmp_path, app
):
    origin = {json.loads(e["payload"])["id"]: e for e in sync_file_envelopes(client)}
    folder = tmp_path / "export"
    result = runner.invoke(args=["export", str(folder), "--base-url", SUB_BASE])
    assert result.exit_code == 0, result.output
    index = json.loads(json.loads((folder / "sync" / "index.json").read_bytes())["payload"])
    exported = {}
    older = json.loads((folder / "sync" / index["older"]["path"]).read_bytes())["chunks"]
    for entry in [index["snapshot"], *older, *index["chunks"]]:
        for envelope in json.loads((folder / "sync" / entry["path"]).read_bytes())["records"]:
            exported[json.loads(envelope["payload"])["id"]] = envelope
    assert exported == origin
    # The function a bundle takes its records from gives the same envelope, outside any request.
    connection = db.connect(app.config["DATABASE"])
    try:
        with app.app_context():
            for statement_id, envelope in origin.items():
                statement = store.get_by_id(connection, statement_id)
                assert signed_records.envelope(connection, statement) == envelope
    finally:
        connection.close()


def test_a_new_translation_is_a_new_signed_record_of_the_original(client, publisher, test_keys):
    original = publisher.publish("The original", "<p>Original words.</p>", slug="original")

    def record_of_original() -> dict:
        envelopes = sync_file_envelopes(client, snapshot=False)
        found = [e for e in envelopes if json.loads(e["payload"])["id"] == original]
        assert len(found) == 1
        return found[0]

    before = record_of_original()
    publisher.publish("La traduction", "<p>Mots.</p>", lang="fr", slug="traduction", translation_of=original)
    after = record_of_original()
    verifier = device(client, test_keys)
    old, new = verifier.accept_record(before), verifier.accept_record(after)
    assert new["seq"] > old["seq"] and new["article_html"] != old["article_html"]
    assert "traduction" in new["article_html"]


@pytest.mark.unsigned
def test_without_a_key_that_may_sign_there_are_no_sync_files(client, publisher):
    publisher.publish("One")
    for path in (INDEX, "/sync/snapshot-0123456789abcdef0123.json"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path
    assert client.get("/api/sync").status_code == 200  # devices fall back to it


@pytest.fixture
def published(make_app, tmp_path, clock):
    clock.now = dt.datetime(2026, 3, 4, 10, 5, 0, tzinfo=dt.UTC)
    return make_app(PUBLISH_DIR=str(tmp_path / "site"))


def test_publish_due_re_signs_the_index_once_its_hour_has_passed(published, clock, tmp_path):
    Publisher(published).publish("One")
    publishing.publish_all(published)
    index_file = tmp_path / "site" / "sync" / "index.json"

    def signed_at() -> str:
        return json.loads(json.loads(index_file.read_bytes())["payload"])["signed_at"]

    first = signed_at()
    assert first == "2026-03-04T10:05:00Z"
    runner = published.test_cli_runner()
    clock.now += dt.timedelta(minutes=50)
    assert runner.invoke(args=["publish-due"]).exit_code == 0
    assert signed_at() == first  # the same hour: nothing rewritten
    clock.now += dt.timedelta(minutes=10)
    result = runner.invoke(args=["publish-due"])
    assert result.exit_code == 0, result.output
    assert signed_at() == "2026-03-04T11:00:00Z"
    assert (tmp_path / "site" / "sync" / "index.json.br").is_file()
    # And the folder equals a whole build at that moment.
    published_bytes = index_file.read_bytes()
    publishing.publish_all(published)
    assert index_file.read_bytes() == published_bytes


def test_a_deploy_that_renders_articles_differently_makes_new_records_at_new_positions(
    make_app, publisher, tmp_path, test_keys, monkeypatch
):
    ids = [publisher.publish(f"Statement {n}", f"<p>Words {n}.</p>") for n in range(3)]
    publisher.withdraw(ids[2], reason="Published in error.")
    app = make_app()
    client = app.test_client()
    before = {json.loads(e["payload"])["id"]: e for e in sync_file_envelopes(client, snapshot=False)}
    connection = db.connect(app.config["DATABASE"])
    try:
        with app.app_context():
            # The first run records the build; nothing renders differently.
            assert signed_records.render_changed_articles(connection, changes.tool_context("deploy")) == 0
            assert signed_records.render_changed_articles(connection, changes.tool_context("deploy")) is None
        seq = store.latest_change_seq(connection)

        # A deploy whose article template differs: another app (a restarted process) on the same database.
        templates = tmp_path / "templates"
        shutil.copytree(app.root_path + "/../templates", templates)
        article = templates / "reader" / "_article.html"
        article.write_text(
            article.read_text(encoding="utf-8").replace(
                "<h1>{{ statement.title }}</h1>", '<h1 class="t">{{ statement.title }}</h1>'
            ),
            encoding="utf-8",
        )
        deployed = make_app()
        deployed.template_folder = str(templates)
        monkeypatch.setattr(
            render, "_rendered_article", render._rendered_article.__wrapped__
        )  # no process kept
        with deployed.app_context():
            done = signed_records.render_changed_articles(connection, changes.tool_context("deploy"))
            assert done == 2  # the two published articles; the withdrawal notice renders as before
            assert signed_records.render_changed_articles(connection, changes.tool_context("deploy")) is None
        assert store.latest_change_seq(connection) == seq + 2
        audited = connection.execute(
            "SELECT statement_id FROM audit_log WHERE detail = ?", (changes.RENDERED_ANEW,)
        ).fetchall()
        assert sorted(row[0] for row in audited) == sorted(ids[:2])
    finally:
        connection.close()
    verifier = device(client, test_keys)
    after = {
        json.loads(e["payload"])["id"]: e for e in sync_file_envelopes(deployed.test_client(), snapshot=False)
    }
    for statement_id in ids[:2]:
        old, new = verifier.accept_record(before[statement_id]), verifier.accept_record(after[statement_id])
        assert new["seq"] > old["seq"] and '<h1 class="t">' in new["article_html"]
        assert '<h1 class="t">' not in old["article_html"]
    assert after[ids[2]] == before[ids[2]]


def test_publish_all_looks_for_articles_rendered_differently_first(published):
    Publisher(published).publish("One")
    result = published.test_cli_runner().invoke(args=["publish", "--all"])
    assert result.exit_code == 0, result.output
    connection = db.connect(published.config["DATABASE"])
    try:
        recorded = connection.execute("SELECT value FROM meta WHERE key = ?", (signed_records.ARTICLE_BUILD,))
        with published.app_context():
            assert recorded.fetchone()[0] == signed_records.article_build()
    finally:
        connection.close()
