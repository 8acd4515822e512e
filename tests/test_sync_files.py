"""Sync as files: /sync/index.json and the immutable snapshot, chunk and older files it names."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import sqlite3
import time

import brotli
import pytest
from conftest import sync

from bulletin.assets import bundles
from bulletin.http.database import read_only_connection
from bulletin.site import signed_records, sync_files
from bulletin.statements import db, epochs, store
from bulletin.statements.records import stored_time

INDEX = "/sync/index.json"


def index_of(client) -> dict:
    """The signed index's payload (its envelope read, not verified: test_signed_sync.py verifies)."""
    response = client.get(INDEX)
    assert response.status_code == 200, response.get_data(as_text=True)
    envelope = response.get_json()
    assert list(envelope) == ["payload", "sig", "kid"]
    return json.loads(envelope["payload"])


def payloads(data: bytes) -> list[dict]:
    """The documents of a snapshot's or chunk's records (each an envelope alone)."""
    envelopes = json.loads(data)["records"]
    assert all(list(e) == ["payload", "sig", "kid"] for e in envelopes)
    return [json.loads(e["payload"]) for e in envelopes]


def signed_of(objects: list[dict]) -> list[dict]:
    """The documents the API's statement objects carry signed."""
    return [json.loads(o["signed"]["payload"]) for o in objects]


def fetch(client, path: str) -> bytes:
    """A file the index names, checked against the digest and size the index gives for it."""
    response = client.get(f"/sync/{path}")
    assert response.status_code == 200, path
    return response.get_data()


def every_file(client) -> dict[str, bytes]:
    """Every file the current index names (older's chunks included), by path; each checked."""
    index = index_of(client)
    named = [index["snapshot"], *index["chunks"], index["older"]]
    found = {}
    while named:
        entry = named.pop()
        data = fetch(client, entry["path"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert entry.get("size", len(data)) == len(data)
        assert entry["sha256"][:20] in entry["path"]
        found[entry["path"]] = data
        if entry is index["older"] or entry["path"].startswith("older-"):
            named += json.loads(data)["chunks"]
    return found


def chunks(client) -> list[dict]:
    """Every chunk entry, older ones included, oldest first."""
    index = index_of(client)
    older = json.loads(fetch(client, index["older"]["path"]))["chunks"]
    return older + index["chunks"]


def records_by_files(client, after: int = 0) -> list[dict]:
    """The records of every chunk past position ``after``, in order: what a device applies."""
    return [
        record
        for entry in chunks(client)
        if entry["to"] > after
        for record in payloads(fetch(client, entry["path"]))
    ]


def test_the_index_has_the_contract_shape(client, publisher, app):
    publisher.publish("One", slug="one")
    index = index_of(client)
    assert set(index) == {
        "type", "v", "db", "epoch", "seq", "signed_at", "keys", "mirrors", "snapshot", "chunks", "older"
    }  # fmt: skip
    assert (index["type"], index["v"]) == ("sync-index", 1)
    connection = publisher.connection()
    assert index["epoch"] == epochs.number(connection)
    assert sync(client)["cursor"].endswith(f".{index['seq']}") and index["seq"] == store.latest_change_seq(
        connection
    )
    connection.close()
    assert (
        set(index["snapshot"]) == {"path", "sha256", "size", "seq"}
        and index["snapshot"]["seq"] == index["seq"]
    )
    assert all(set(c) == {"path", "sha256", "size", "from", "to"} for c in index["chunks"])
    assert set(index["older"]) == {"path", "sha256", "to"}
    assert all(re.fullmatch(r"[a-z]+-[0-9a-f]{20}\.json", path) for path in every_file(client))


def test_snapshot_and_chunks_hold_what_api_sync_gives(client, publisher, app):
    ids = [publisher.publish(f"S{n}", published=dt.date(2022, 1, n + 1)) for n in range(5)]
    publisher.revise(ids[0], title="S0 corrected", body="<p>Fixed.</p>")
    publisher.withdraw(ids[1], reason="Superseded.")
    index = index_of(client)
    snapshot = json.loads(fetch(client, index["snapshot"]["path"]))["records"]
    assert snapshot == [o["signed"] for o in sync(client, limit=app.config["OFFLINE_KEEP"])["statements"]]
    everything = sync(client, since="0", limit=200)
    by_api = {r["id"]: r for r in signed_of(everything["statements"] + everything["withdrawn"])}
    by_files = records_by_files(client)
    assert {r["id"]: r for r in by_files} == by_api and len(by_files) == len(by_api)
    assert [(r["type"], r["title"]) for r in by_files][-2:] == [
        ("statement", "S0 corrected"),
        ("withdrawal", "S1"),
    ]


def test_files_are_immutable_open_to_every_origin_and_the_index_short_lived(client, publisher):
    publisher.publish("One")
    response = client.get(INDEX)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert (
        "immutable" not in response.headers["Cache-Control"]
        and "max-age=60" in response.headers["Cache-Control"]
    )
    assert response.mimetype == "application/json"
    path = index_of(client)["snapshot"]["path"]
    response = client.get(f"/sync/{path}")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(f"/sync/{path}", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    brotli_body = client.get(f"/sync/{path}", headers={"Accept-Encoding": "br"})
    assert brotli_body.headers["Content-Encoding"] == "br"


def test_a_name_not_current_is_404(client, publisher):
    statement_id = publisher.publish("One", body="<p>First words.</p>")
    old = index_of(client)
    publisher.revise(statement_id, title="One", body="<p>Second words.</p>")
    assert client.get(f"/sync/{old['snapshot']['path']}").status_code == 404
    assert client.get(f"/sync/{old['chunks'][-1]['path']}").status_code == 404
    for name in ("chunk-0123456789abcdef0123.json", "index.json.br", "../api/sync", "x" * 300):
        assert client.get(f"/sync/{name}").status_code == 404, name


def test_chunks_hold_at_most_100_records_by_latest_change(client, publisher):
    ids = [publisher.publish(f"S{n}") for n in range(205)]
    entries = chunks(client)
    # Finished hundreds, then in the newest hundred one chunk per position.
    assert [(c["from"], c["to"]) for c in entries] == [
        (0, 100),
        (100, 200),
        *((n, n + 1) for n in range(200, 205)),
    ]
    sizes = [len(payloads(fetch(client, c["path"]))) for c in entries]
    assert sizes == [100, 100, 1, 1, 1, 1, 1]
    for n in range(5):
        publisher.publish(f"T{n}")
    # The newest ten is finished: one chunk.
    assert [(c["from"], c["to"]) for c in chunks(client)][2:] == [(200, 210)]
    publisher.revise(ids[3], title="S3 corrected", body="<p>Fixed.</p>")
    after = chunks(client)
    assert [(c["from"], c["to"]) for c in after][2:] == [(200, 210), (210, 211)]
    # The corrected statement left the first chunk (rewritten) for the newest one.
    assert after[0]["path"] != entries[0]["path"] and after[1] == entries[1]
    first = payloads(fetch(client, after[0]["path"]))
    assert len(first) == 99 and ids[3] not in {r["id"] for r in first}
    assert payloads(fetch(client, after[-1]["path"]))[0]["title"] == "S3 corrected"


def test_a_change_renames_only_the_files_it_touched(client, publisher):
    ids = [
        publisher.publish(f"S{n}", published=dt.date(2020, 1, 1) + dt.timedelta(days=n)) for n in range(250)
    ]
    before = chunks(client)
    snapshot = index_of(client)["snapshot"]["path"]
    publisher.publish("Newest", published=dt.date(2021, 1, 1))
    after = chunks(client)
    assert after[:-1] == before  # every chunk stands; one more for the new position
    assert (after[-1]["from"], after[-1]["to"]) == (250, 251)
    assert index_of(client)["snapshot"]["path"] != snapshot  # a new newest statement
    # A correction of an old statement (not in the snapshot) leaves the snapshot alone.
    snapshot = index_of(client)["snapshot"]["path"]
    publisher.revise(ids[150], title="S150 corrected", body="<p>Fixed.</p>")
    again = chunks(client)
    assert index_of(client)["snapshot"]["path"] == snapshot
    assert again[0] == after[0] and again[1]["path"] != after[1]["path"] and again[2:-1] == after[2:]


def test_the_files_are_a_function_of_the_database_alone(client, publisher, make_app):
    # Kept up to date change after change (as the publisher does), with every chunk size on the way.
    ids = []
    for n in range(125):
        ids.append(publisher.publish(f"S{n}"))
        if n in (3, 9, 10, 57, 99, 100, 111):
            publisher.revise(ids[n // 2], title=f"S{n // 2} corrected", body="<p>Fixed.</p>")
        if n in (20, 104):
            publisher.withdraw(ids[n - 1])
        if n % 7 == 0 or n > 98:
            every_file(client)
    kept = every_file(client)
    index = client.get(INDEX).get_data()
    # Another app on the same database, with nothing kept: the same files, byte for byte.
    fresh = make_app().test_client()
    assert fresh.get(INDEX).get_data() == index
    assert every_file(fresh) == kept


def test_no_file_holds_a_withdrawn_body(client, publisher):
    secret = "The withdrawn words nobody may keep"
    ids = [publisher.publish(f"S{n}") for n in range(3)]
    gone = publisher.publish("Gone", body=f"<p>{secret}.</p>", slug="gone")
    ids += [publisher.publish(f"T{n}") for n in range(3)]
    assert any(secret.encode() in data for data in every_file(client).values())
    publisher.withdraw(gone, reason="Published in error.")
    files = every_file(client)
    assert not any(secret.encode() in data for data in files.values())
    for path in files:  # nor as the compressed copy a client accepting Brotli gets
        response = client.get(f"/sync/{path}", headers={"Accept-Encoding": "br"})
        data = response.get_data()
        assert secret.encode() not in (brotli.decompress(data) if response.content_encoding == "br" else data)
    notices = [r for r in records_by_files(client) if r["id"] == gone]
    assert notices and notices[0]["reason"] == "Published in error." and notices[0]["type"] == "withdrawal"


def test_a_device_with_a_cursor_needs_only_the_chunks_past_it(client, publisher):
    for n in range(230):
        publisher.publish(f"S{n}")
    position = index_of(client)["seq"]
    new = publisher.publish("Fresh")
    past = [c for c in chunks(client) if c["to"] > position]
    assert len(past) == 1
    assert [r["id"] for r in records_by_files(client, position) if r.get("title") == "Fresh"] == [new]
    # The same records /api/sync gives since the same position.
    cursor = sync(client)["cursor"].rsplit(".", 1)[0] + f".{position}"
    assert signed_of(sync(client, since=cursor)["statements"])[-1] == records_by_files(client, position)[-1]


def fill_quickly(app, count: int) -> None:
    """``count`` published statements written straight into the store's tables in one transaction.

    The write path takes half a millisecond a statement (a minute for
    100,000); this writes the rows it would write, less the search index
    and the audit log, which sync does not read.
    """
    stamp = stored_time(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    first = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    connection = db.connect(app.config["DATABASE"])
    try:
        with db.transaction(connection):
            connection.executemany(
                "INSERT INTO statements (id, slug, lang, translation_group, status, published, slug_frozen,"
                " current_revision, created_at, updated_at, change_seq, first_public_revision)"
                " VALUES (?, ?, 'en', ?, 'published', ?, 1, ?, ?, ?, ?, 1)",
                (
                    (
                        f"s{n}",
                        f"s{n}",
                        f"s{n}",
                        stored_time(first + dt.timedelta(hours=n)),
                        f"r{n}",
                        stamp,
                        stamp,
                        n + 1,
                    )
                    for n in range(count)
                ),
            )
            connection.executemany(
                "INSERT INTO revisions (id, statement_id, number, source_text, source_format, body_html, title,"
                " author, created_at, description) VALUES (?, ?, 1, '', 'html', ?, ?, 'editor', ?, '')",
                ((f"r{n}", f"s{n}", f"<p>Text {n}.</p>", f"Statement {n}", stamp) for n in range(count)),
            )
            connection.executemany(
                "INSERT INTO changes (seq, statement_id, kind, revision_id, at) VALUES (?, ?, 'publish', ?, ?)",
                ((n + 1, f"s{n}", f"r{n}", stamp) for n in range(count)),
            )
    finally:
        connection.close()


def test_the_index_stays_under_4_kb_brotli_at_100000_statements(client, app, publisher):
    fill_quickly(app, 100_000)
    publisher.publish("The newest", published=dt.date(2025, 1, 1))
    connection = publisher.connection()
    assert store.count_published(connection) == 100_001
    connection.close()
    index = client.get(INDEX).get_data()
    assert len(brotli.compress(index)) < 4096
    body = json.loads(json.loads(index)["payload"])
    assert body["seq"] == 100_001 and len(body["chunks"]) >= 11
    # Every statement is in exactly one chunk, the older ones listed in ``older``.
    entries = chunks(client)
    assert sum(c["to"] - c["from"] for c in entries) == 100_001
    assert payloads(fetch(client, body["snapshot"]["path"]))[0]["title"] == "The newest"


# ------------------------------------------------------------------ digests kept across restarts


@pytest.fixture
def renders(monkeypatch):
    """How many records were rendered (the record builder wrapped, still called)."""
    seen = []
    builder = signed_records.record_of

    def counted(*args, **kwargs):
        seen.append(1)
        return builder(*args, **kwargs)

    monkeypatch.setattr(signed_records, "record_of", counted)
    return seen


def kept_rows(app) -> int:
    connection = db.connect(app.config["DATABASE"])
    try:
        return connection.execute("SELECT count(*) FROM sync_digests").fetchone()[0]
    finally:
        connection.close()


def dated(publisher, count: int) -> list[str]:
    return [
        publisher.publish(f"S{n}", published=dt.date(2020, 1, 1) + dt.timedelta(days=n)) for n in range(count)
    ]


def test_after_a_restart_the_index_renders_no_record(client, publisher, make_app, renders):
    ids = dated(publisher, 250)
    first = client.get(INDEX).get_data()
    assert renders and kept_rows(publisher.app) > 0
    renders.clear()
    restarted = make_app().test_client()  # a new app on the same database: nothing in memory
    assert restarted.get(INDEX).get_data() == first
    assert renders == []
    # A change after the restart renders only the chunk it left and the new position's chunk.
    publisher.revise(ids[150], title="S150 corrected", body="<p>Fixed.</p>")
    again = make_app().test_client()
    index = index_of(again)
    # Only the corrected statement's new record: the chunk it left is joined from kept records.
    assert len(renders) == 1
    assert [c["to"] - c["from"] for c in index["chunks"]][-1] == 1
    renders.clear()
    fetch(again, index["chunks"][-1]["path"])  # what the publisher asks for next: not rendered twice
    assert renders == []
    assert every_file(again) == every_file(make_app().test_client())


def generations(app) -> int:
    connection = db.connect(app.config["DATABASE"])
    try:
        return connection.execute("SELECT count(DISTINCT generation) FROM sync_digests").fetchone()[0]
    finally:
        connection.close()


def test_another_build_epoch_or_signing_state_never_reuses_a_row(
    client, publisher, make_app, renders, test_keys
):
    dated(publisher, 120)
    first = client.get(INDEX).get_data()
    assert len(renders) == 120  # each record once: the snapshot's are the chunks' own

    # Another build: its own rows of file digests, the records kept as they are (same statement, position
    # and epoch: the same record; a build that renders articles differently records changes).
    renders.clear()
    other_build = make_app()
    assets = bundles.built(other_build)
    other_build.extensions["bulletin_assets"] = dataclasses.replace(assets, build_id=assets.build_id + "x")
    assert other_build.test_client().get(INDEX).get_data() == first
    assert renders == [] and generations(publisher.app) == 2

    # A new online key signs the index; the records keep the signatures of a key that may still sign.
    runner = make_app().test_cli_runner()
    assert runner.invoke(args=["keys", "certify", "--root", str(test_keys.root_file)]).exit_code == 0
    signed = make_app().test_client()
    assert index_of(signed)["snapshot"] and renders == []
    assert signed.get(INDEX).get_json()["kid"] != test_keys.kid

    # A new epoch is in every record's payload: each is made again.
    connection = db.connect(publisher.app.config["DATABASE"])
    with db.transaction(connection):
        epochs.renew(connection)
    old_epoch_rows = connection.execute(
        "SELECT count(*) FROM sync_digests WHERE epoch != ?", (epochs.current(connection),)
    ).fetchone()[0]
    connection.close()
    assert old_epoch_rows > 0
    make_app().test_client().get(INDEX)
    assert len(renders) == 120
    connection = db.connect(publisher.app.config["DATABASE"])
    # Rows of another epoch are gone once the new one's are kept: epochs never come back.
    assert (
        connection.execute(
            "SELECT count(*) FROM sync_digests WHERE epoch != ?", (epochs.current(connection),)
        ).fetchone()[0]
        == 0
    )
    assert {row[0] for row in connection.execute("SELECT DISTINCT epoch FROM signed_records")} == {
        epochs.number(connection)
    }
    connection.close()


def test_a_read_only_or_busy_database_still_serves_the_index(app, client, publisher, make_app, renders):
    dated(publisher, 30)
    expected = client.get(INDEX).get_data()
    connection = db.connect(app.config["DATABASE"])
    connection.execute("DELETE FROM sync_digests")  # as if never kept
    connection.execute("DELETE FROM signed_records")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    fresh = make_app()
    read_only = read_only_connection(app.config["DATABASE"])
    try:
        with fresh.test_request_context(INDEX):
            assert sync_files.build_index(read_only).body == expected
    finally:
        read_only.close()
    assert kept_rows(app) == 0

    reader = make_app().test_client()
    busy = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    busy.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        started = time.monotonic()
        answer = reader.get(INDEX)
        assert answer.status_code == 200 and answer.get_data() == expected
        assert time.monotonic() - started < 2
    finally:
        busy.execute("ROLLBACK")
        busy.close()
    assert kept_rows(app) == 0  # not kept this time; kept by the next index that renders
    renders.clear()
    assert make_app().test_client().get(INDEX).get_data() == expected
    assert kept_rows(app) > 0 and renders


# ------------------------------------------------------------------ changes committed while a file is made


def committed_midway(monkeypatch, name: str, change) -> list[int]:
    """Wrap ``store.<name>`` (what a file reads its statements with) so that the first call commits
    ``change`` from another connection before reading: another process's write landing mid-file."""
    read = getattr(store, name)
    done = []

    def after_a_commit(*args, **kwargs):
        if not done:
            done.append(1)
            change()
        return read(*args, **kwargs)

    monkeypatch.setattr(store, name, after_a_commit)
    return done


def titles(data: bytes) -> list[str]:
    return [p["title"] for p in payloads(data)]


def test_a_correction_committed_while_a_chunk_is_made_is_in_neither_of_its_reads(app, publisher, monkeypatch):
    """A chunk lists its statements, then reads them: a correction committed between the two left a
    listed statement missing (a 500 for /sync/, /bundles/ and every publish). The chunk is one state."""
    ids = dated(publisher, 3)
    done = committed_midway(
        monkeypatch,
        "changed_since",
        lambda: publisher.revise(ids[0], title="S0 corrected", body="<p>Fixed.</p>"),
    )
    connection = db.connect(app.config["DATABASE"])
    try:
        with app.test_request_context("/"):
            assert titles(sync_files.chunk_bytes(connection, 0, 3)) == ["S0", "S1", "S2"]
            assert done, "the chunk never read its statements: the test no longer races anything"
            assert titles(sync_files.chunk_bytes(connection, 0, 3)) == ["S1", "S2"]
            assert titles(sync_files.chunk_bytes(connection, 3, 4)) == ["S0 corrected"]
    finally:
        connection.close()


def test_a_statement_published_while_the_snapshot_is_made_is_in_neither_of_its_reads(
    make_app, publisher, monkeypatch
):
    """The snapshot lists the newest statements, then reads them: one published between the two pushed a
    listed one out of what was read."""
    app = make_app(OFFLINE_KEEP=3)
    publisher.app = app
    dated(publisher, 3)
    done = committed_midway(
        monkeypatch, "list_published", lambda: publisher.publish("Newest", published=dt.date(2024, 1, 1))
    )
    connection = db.connect(app.config["DATABASE"])
    try:
        with app.test_request_context("/"):
            assert titles(sync_files.snapshot_bytes(connection)) == ["S2", "S1", "S0"]
            assert done, "the snapshot never read its statements: the test no longer races anything"
            assert titles(sync_files.snapshot_bytes(connection)) == ["Newest", "S2", "S1"]
    finally:
        connection.close()


def test_the_index_answers_while_a_correction_lands_midway(publisher, monkeypatch, make_app):
    """The same race through a request: the index answers 200, and the next one has the correction."""
    app = make_app(OFFLINE_KEEP=1)  # the snapshot makes the newest record only: the chunk reads the others
    publisher.app = app
    ids = dated(publisher, 3)
    done = committed_midway(
        monkeypatch,
        "changed_since",
        lambda: publisher.revise(ids[0], title="S0 corrected", body="<p>Fixed.</p>"),
    )
    assert index_of(app.test_client())["seq"] == 3
    assert done, "the chunk never read its statements: the test no longer races anything"
    after = app.test_client()
    assert index_of(after)["seq"] == 4
    assert [p["title"] for p in records_by_files(after)] == ["S1", "S2", "S0 corrected"]
