"""The publisher's keys: the ``keys`` commands, ``/keys.json``, ``prepare``'s development root, and the
signed records of statements (what is signed, kept, re-signed, and never leaked)."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import sqlite3
import stat
import unicodedata

import brotli
import pytest
import rfc8785
from conftest import Publisher, device_with_keys, sync
from cryptography.hazmat.primitives import serialization

from bulletin.signing import canonical, keys
from bulletin.signing.verifier import Verifier
from bulletin.site import keys as site_keys
from bulletin.site import records, signed_records
from bulletin.statements import db, epochs, store

# These tests make the site's keys themselves, from none.
pytestmark = pytest.mark.unsigned


@pytest.fixture
def keys_dir(app, tmp_path):
    return tmp_path / "keys"


@pytest.fixture
def root_file(runner, tmp_path):
    path = tmp_path / "offline" / "root.key"
    path.parent.mkdir()
    result = runner.invoke(args=["keys", "init-root", str(path)])
    assert result.exit_code == 0, result.output
    return path


def invoke(runner, *args):
    return runner.invoke(args=["keys", *args])


def shown(runner) -> dict:
    result = invoke(runner, "show", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def files_in(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def private_forms(*paths) -> list[bytes]:
    """Every form a private key in these files could leak as: its raw bytes, their base64 and hex, the PEM body."""
    found = []
    for path in paths:
        key = keys.read_private(path)
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        pem_body = b"".join(path.read_bytes().splitlines()[1:-1])
        found += [
            raw,
            raw.hex().encode(),
            base64.b64encode(raw).rstrip(b"="),
            keys.b64url(raw).encode(),
            pem_body,
        ]
    return found


def certified(runner, root_file, *extra):
    result = invoke(runner, "certify", "--root", str(root_file), *extra)
    assert result.exit_code == 0, result.output
    return result


# ------------------------------------------------------------------ the commands


def test_init_root_writes_an_owner_only_key_and_prints_its_fingerprint(runner, tmp_path):
    path = tmp_path / "root.key"
    result = invoke(runner, "init-root", str(path))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = keys.raw_public(keys.read_private(path))
    assert keys.fingerprint(raw) in result.output and keys.key_id(raw) in result.output
    before = path.read_bytes()
    again = invoke(runner, "init-root", str(path))
    assert again.exit_code == 1 and "never overwritten" in again.output
    assert path.read_bytes() == before
    assert invoke(runner, "init-root").exit_code == 2
    assert invoke(runner, "init-root", str(tmp_path / "no" / "such" / "dir" / "r.key")).exit_code == 1


def test_certify_makes_an_owner_only_online_key_the_root_certified(runner, root_file, keys_dir, client):
    result = certified(runner, root_file, "--days", "30")
    listing = shown(runner)
    root_raw = keys.raw_public(keys.read_private(root_file))
    assert listing["root"] == keys.description(root_raw)
    [entry] = listing["keys"]
    assert set(entry) == {"kid", "public_key", "fingerprint", "expires", "revoked"}
    assert entry["revoked"] is False and entry["kid"] in result.output
    key_file = keys_dir / f"signing-{entry['kid']}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keys.description(keys.raw_public(keys.read_private(key_file))) == {
        name: entry[name] for name in ("kid", "public_key", "fingerprint")
    }
    # A device pinning the root accepts the certificate /keys.json serves, with its 30 days.
    published = client.get("/keys.json").get_json()
    device = Verifier(root_raw)
    assert device.add_certificate(published["keys"][0]["certificate"]) == entry["kid"]
    issued = json.loads(published["keys"][0]["certificate"]["payload"])
    assert (device.keys[entry["kid"]].expires - keys_module_time(issued["issued"])).days == 30


def keys_module_time(text):
    from bulletin.signing import times

    return times.parse(text)


def test_certify_refuses_and_writes_nothing(runner, root_file, keys_dir, tmp_path):
    assert invoke(runner, "certify").exit_code == 2  # no --root
    assert invoke(runner, "certify", "--root", str(root_file), "--days", "0").exit_code == 2
    assert invoke(runner, "certify", "--root", str(root_file), "--days", "x").exit_code == 2
    missing = invoke(runner, "certify", "--root", str(tmp_path / "absent.key"))
    assert missing.exit_code == 1 and "nothing written" in missing.output
    (tmp_path / "junk.key").write_text("not a key")
    assert invoke(runner, "certify", "--root", str(tmp_path / "junk.key")).exit_code == 1
    assert files_in(keys_dir) == []
    certified(runner, root_file)
    before = {name: (keys_dir / name).read_bytes() for name in files_in(keys_dir)}
    other = tmp_path / "other.key"
    assert invoke(runner, "init-root", str(other)).exit_code == 0
    wrong = invoke(runner, "certify", "--root", str(other))
    assert wrong.exit_code == 1 and "not this site's root" in wrong.output
    assert {name: (keys_dir / name).read_bytes() for name in files_in(keys_dir)} == before


def test_certify_takes_the_key_bulletin_signing_key_names(make_app, root_file, tmp_path):
    own = tmp_path / "own-signing.key"
    keys.write_private(own, keys.generate())
    app = make_app(SIGNING_KEY=str(own))
    runner = app.test_cli_runner()
    certified(runner, root_file)
    [entry] = shown(runner)["keys"]
    assert entry["kid"] == keys.key_id(keys.raw_public(keys.read_private(own)))
    assert files_in(tmp_path / "keys") == ["keyring.json"]  # no key made in instance/


def test_revoke_publishes_a_revocation_once(runner, root_file, client):
    certified(runner, root_file)
    [entry] = shown(runner)["keys"]
    unknown = invoke(runner, "revoke", "--root", str(root_file), "--", "nosuchkey")
    assert unknown.exit_code == 1 and "nothing written" in unknown.output
    assert invoke(runner, "revoke", entry["kid"]).exit_code == 2  # no --root
    result = invoke(runner, "revoke", "--root", str(root_file), "--", entry["kid"])
    assert result.exit_code == 0, result.output
    assert shown(runner)["keys"][0]["revoked"] is True
    again = invoke(runner, "revoke", "--root", str(root_file), "--", entry["kid"])
    assert again.exit_code == 1 and "already revoked" in again.output
    published = client.get("/keys.json").get_json()
    device = Verifier(keys.raw_public(keys.read_private(root_file)))
    assert [device.add_revocation(r) for r in published["revocations"]] == [entry["kid"]]


def test_rotate_root_hands_trust_to_the_new_root(runner, root_file, tmp_path, client):
    certified(runner, root_file)
    first = shown(runner)["keys"][0]["kid"]
    certified(runner, root_file)
    invoke(runner, "revoke", "--root", str(root_file), "--", first)
    new_file = tmp_path / "offline" / "new-root.key"
    assert invoke(runner, "rotate-root", "--root", str(root_file)).exit_code == 2
    (tmp_path / "junk.key").write_text("junk")
    assert invoke(runner, "rotate-root", "--root", str(root_file), str(tmp_path / "junk.key")).exit_code == 1
    assert invoke(runner, "rotate-root", "--root", str(root_file), str(root_file)).exit_code == 1
    result = invoke(runner, "rotate-root", "--root", str(root_file), str(new_file))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(new_file.stat().st_mode) == 0o600
    new_raw = keys.raw_public(keys.read_private(new_file))
    listing = shown(runner)
    assert listing["root"]["kid"] == keys.key_id(new_raw)
    valid = [entry["kid"] for entry in listing["keys"] if not entry["revoked"]]
    published = client.get("/keys.json").get_json()
    # A device that pinned the old root follows the record; one that pins the new root from the start
    # accepts the same keys and the same revocations.
    old_device = Verifier(keys.raw_public(keys.read_private(root_file)))
    [record] = published["roots"]
    old_device.follow_root(record)
    for device in (old_device, Verifier(new_raw)):
        for entry in published["keys"]:
            device.add_certificate(entry["certificate"])
        for revocation in published["revocations"]:
            if json.loads(revocation["payload"])["root"] == device.root_kid:
                device.add_revocation(revocation)
        assert sorted(device.keys) == sorted(valid) and device.revoked == {first}
    # The old root is no longer this site's root.
    assert invoke(runner, "certify", "--root", str(root_file)).exit_code == 1
    certified(runner, new_file)


def test_keys_json_serves_public_documents_to_anyone(runner, root_file, client, keys_dir):
    empty = client.get("/keys.json")
    assert empty.status_code == 200 and empty.get_json()["root"] is None
    certified(runner, root_file)
    response = client.get("/keys.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    body = response.get_json()
    assert set(body) == {"root", "keys", "revocations", "roots"}
    assert {k: v for k, v in body.items() if k in ("root",)} == {"root": shown(runner)["root"]}
    assert [{k: v for k, v in entry.items() if k != "certificate"} for entry in body["keys"]] == shown(
        runner
    )["keys"]
    for secret in private_forms(root_file, *keys_dir.glob("signing-*.key")):
        assert secret not in response.data


# ------------------------------------------------------------------ prepare's development root


def test_prepare_makes_a_development_root_once_and_warns_while_it_is_there(runner, keys_dir, client):
    result = runner.invoke(args=["prepare"])
    assert result.exit_code == 0, result.output
    assert (keys_dir / "root.key").exists() and "development root" in result.output
    assert "moves it offline" in result.output
    listing = shown(runner)
    assert listing["root"] is not None and len(listing["keys"]) == 1
    health = client.get("/healthz").get_json()
    assert "offline" in health["warning"] and health["status"] == "ok"
    again = runner.invoke(args=["prepare"])
    assert "development root" not in again.output and "moves it offline" in again.output
    assert len(shown(runner)["keys"]) == 1
    (keys_dir / "root.key").unlink()
    assert "warning" not in client.get("/healthz").get_json()
    assert "moves it offline" not in runner.invoke(args=["prepare"]).output


# ------------------------------------------------------------------ the signed records


def signed_rows(app) -> list[tuple]:
    connection = sqlite3.connect(app.config["DATABASE"])
    try:
        return connection.execute("SELECT statement_id, kid FROM signatures ORDER BY statement_id").fetchall()
    finally:
        connection.close()


def envelope_of(app, statement_id):
    connection = db.connect(app.config["DATABASE"])
    try:
        with app.test_request_context("/"):
            statement = store.get_by_id(connection, statement_id)
            return signed_records.envelope(connection, statement)
    finally:
        connection.close()


def device_for(client, root_file) -> Verifier:
    return device_with_keys(
        keys.raw_public(keys.read_private(root_file)), client.get("/keys.json").get_json()
    )


def test_certify_signs_every_current_record_with_exactly_the_contracts_keys(
    app, runner, root_file, publisher, client
):
    kept = publisher.publish("Kept", tags=("press",), summary="In short.")
    gone = publisher.publish("Gone")
    publisher.withdraw(gone, "Published in error.")
    publisher.draft("A draft")
    result = certified(runner, root_file)
    assert "signed 2 record(s)" in result.output
    assert sorted(row[0] for row in signed_rows(app)) == sorted([kept, gone])
    device = device_for(client, root_file)
    statement = device.accept_record(envelope_of(app, kept))
    withdrawal = device.accept_record(envelope_of(app, gone))
    assert list(statement) == sorted(records.KEYS) and list(withdrawal) == sorted(records.KEYS)
    assert statement["type"] == "statement" and statement["tags"] == ["press"]
    assert statement["summary"] == "In short." and statement["correction_note"] is None
    assert statement["withdrawn_at"] is None and "<article" in statement["article_html"]
    assert withdrawal["type"] == "withdrawal" and withdrawal["reason"] == "Published in error."
    assert "Text of the statement" not in withdrawal["article_html"]
    # Signed once: a second certify of the same key finds nothing unsigned, and asking again re-uses the row.
    assert envelope_of(app, kept) == envelope_of(app, kept)
    assert len(signed_rows(app)) == 2


def test_a_revoked_keys_records_are_signed_again_unchanged(app, runner, root_file, publisher, client):
    statement_id = publisher.publish("Signed twice")
    certified(runner, root_file)
    first = envelope_of(app, statement_id)
    certified(runner, root_file)  # a second key; the first still stands
    assert envelope_of(app, statement_id) == first
    # ... and the new key signs what is published from then on.
    later = envelope_of(app, publisher.publish("Later"))
    assert later["kid"] != first["kid"]
    assert later["kid"] == [e["kid"] for e in shown(runner)["keys"] if e["kid"] != first["kid"]][0]
    result = invoke(runner, "revoke", "--root", str(root_file), "--", first["kid"])
    assert result.exit_code == 0 and "signed 1 record(s) again" in result.output, result.output
    second = envelope_of(app, statement_id)
    assert second["payload"] == first["payload"] and second["kid"] != first["kid"]
    device = device_for(client, root_file)
    assert device.accept_record(second)["id"] == statement_id
    with pytest.raises(Exception, match="revoked-key"):
        device.accept_record(first)


def test_without_a_key_records_are_unsigned_and_nothing_is_kept(app, publisher):
    statement_id = publisher.publish("No key yet")
    assert envelope_of(app, statement_id) is None
    assert signed_rows(app) == []


def test_a_new_translation_is_a_new_signed_record_of_the_original(app, runner, root_file, publisher, client):
    certified(runner, root_file)
    original = publisher.publish("Statement", lang="en")
    before = envelope_of(app, original)
    publisher.publish("Заявление", lang="ru", translation_of=original)
    after = envelope_of(app, original)
    device = device_for(client, root_file)
    old, new = device.accept_record(before), device.accept_record(after)
    assert (new["epoch"], new["seq"]) > (old["epoch"], old["seq"])
    assert "Русский" in new["article_html"] and "Русский" not in old["article_html"]


def test_new_text_is_stored_and_signed_in_nfc(app, runner, root_file, publisher):
    certified(runner, root_file)
    nfd = unicodedata.normalize("NFD", "Déclaration sur la liberté — Йошкар-Ола")
    statement_id = publisher.publish(nfd, body=f"<p>{nfd}</p>", summary=nfd)
    publisher.withdraw(statement_id, nfd)
    payload = envelope_of(app, statement_id)["payload"]
    nfc = unicodedata.normalize("NFC", nfd)
    stored = publisher.get(statement_id)
    assert stored.title == nfc and nfc in stored.body_html and stored.withdrawal_reason == nfc
    assert json.loads(payload)["reason"] == nfc and nfd not in payload
    assert payload.encode("utf-8") == rfc8785.dumps(json.loads(payload))
    assert canonical.loads(payload)["title"] == nfc


def test_the_epoch_number_rises_with_every_restore(app, runner, publisher, tmp_path):
    publisher.publish("Before")
    assert runner.invoke(args=["backup", str(tmp_path / "b.sqlite3")]).exit_code == 0
    connection = db.connect(app.config["DATABASE"])
    first = epochs.number(connection)
    connection.close()
    numbers = []
    for _ in range(2):
        assert runner.invoke(args=["restore", str(tmp_path / "b.sqlite3")]).exit_code == 0
        connection = db.connect(app.config["DATABASE"])
        numbers.append(epochs.number(connection))
        connection.close()
    assert first < numbers[0] < numbers[1]


def test_no_private_key_in_a_backup_or_a_log(app, runner, root_file, publisher, keys_dir, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    publisher.publish("Logged")
    certified(runner, root_file)
    listing = invoke(runner, "show")
    backup = tmp_path / "backup.sqlite3"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    secrets = private_forms(root_file, *keys_dir.glob("signing-*.key"))
    logged = (caplog.text + listing.output).encode()
    for secret in secrets:
        assert secret not in backup.read_bytes()
        assert secret not in logged


# ------------------------------------------------------------------ "signed" in the API


SHARED = (
    "id",
    "revision",
    "slug",
    "lang",
    "dir",
    "title",
    "summary",
    "tags",
    "published",
    "updated",
    "correction_note",
    "article_html",
)


def test_every_statement_object_of_the_api_carries_its_verified_record(
    app, runner, root_file, publisher, client
):
    publisher.publish("With a summary", summary="Short.", tags=("a", "b"))
    corrected = publisher.publish("Corrected")
    publisher.revise(
        corrected, title="Corrected again", body="<p>New text.</p>", correction_note="Fixed a date."
    )
    gone = publisher.publish("Gone")
    before = sync(client)["cursor"]
    publisher.withdraw(gone)
    unsigned = client.get("/api/statements").get_json()["statements"]
    assert all(obj["signed"] is None for obj in unsigned)  # no key yet
    certified(runner, root_file)
    device = device_for(client, root_file)
    objects = (
        client.get("/api/statements").get_json()["statements"]
        + sync(client)["statements"]
        + [client.get(f"/api/statements/{obj['slug']}").get_json() for obj in unsigned if obj["id"] != gone]
    )
    assert len(objects) == 2 + 2 + 2
    for obj in objects:
        payload = device.accept_record(obj["signed"])
        assert {name: obj[name] for name in SHARED} == {name: payload[name] for name in SHARED}
    [withdrawal] = sync(client, before)["withdrawn"]
    payload = device.accept_record(withdrawal["signed"])
    assert payload["type"] == "withdrawal" and payload["reason"] == withdrawal["reason"]
    assert payload["article_html"] == withdrawal["article_html"]


def test_a_revocation_reaches_answers_already_kept(app, runner, root_file, publisher, client):
    publisher.publish("Kept answer")
    certified(runner, root_file)
    first = client.get("/api/statements")
    old_kid = first.get_json()["statements"][0]["signed"]["kid"]
    certified(runner, root_file)
    assert invoke(runner, "revoke", "--root", str(root_file), "--", old_kid).exit_code == 0
    again = client.get("/api/statements", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    signed = again.get_json()["statements"][0]["signed"]
    assert signed["kid"] != old_kid
    device_for(client, root_file).accept_record(signed)


def test_a_busy_database_still_serves_signed_records_without_waiting(
    app, runner, root_file, publisher, client
):
    import time

    statement_id = publisher.publish("Busy")
    certified(runner, root_file)
    connection = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    connection.execute("DELETE FROM signatures")  # as if never kept
    connection.execute("DELETE FROM signed_records")
    connection.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        started = time.monotonic()
        answer = client.get("/api/statements")
        assert answer.status_code == 200 and time.monotonic() - started < 2
        device_for(client, root_file).accept_record(answer.get_json()["statements"][0]["signed"])
    finally:
        connection.execute("ROLLBACK")
        connection.close()
    assert signed_rows(app) == []  # not kept this time; kept at the next build
    assert envelope_of(app, statement_id) == answer.get_json()["statements"][0]["signed"]
    assert len(signed_rows(app)) == 1


def test_a_damaged_keyring_is_a_message_not_a_crash(app, runner, root_file, publisher, client, keys_dir):
    publisher.publish("Still served")
    certified(runner, root_file)
    (keys_dir / "keyring.json").write_text('{"root": 5}')
    answer = client.get("/keys.json")
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "keys_unavailable"
    shown_now = invoke(runner, "show")
    assert shown_now.exit_code == 1 and "not a Bulletin keyring" in shown_now.output
    assert invoke(runner, "certify", "--root", str(root_file)).exit_code == 1
    statements = client.get("/api/statements")
    assert statements.status_code == 200 and statements.get_json()["statements"][0]["signed"] is None


# The same check belongs to every other place files leave the server: the static export, the publish
# folder and bundles passed hand to hand each get a test like these when they exist.
def test_no_response_carries_a_private_key(app, runner, root_file, publisher, client, keys_dir):
    statement_id = publisher.publish("Public", slug="public")
    publisher.withdraw(publisher.publish("Withdrawn"))
    certified(runner, root_file)
    secrets = private_forms(root_file, *keys_dir.glob("signing-*.key"))
    seen = 0
    for path in (
        "/",
        "/statements/public/",
        "/api/statements",
        "/api/statements/public",
        "/api/sync",
        "/api/sync?since=0",
        "/keys.json",
        "/healthz",
        "/about/",
        "/feed.atom",
        "/sitemap.xml",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        seen += 1
        for secret in secrets:
            assert secret not in response.data, path
    assert seen == 11 and statement_id


def test_certify_signs_in_batches_and_counts_every_record(app, runner, root_file, publisher, monkeypatch):
    monkeypatch.setattr(site_keys, "SIGN_BATCH", 2)
    ids = [publisher.publish(f"Statement {n}") for n in range(5)]
    result = certified(runner, root_file)
    assert "signed 5 record(s)" in result.output
    assert sorted(row[0] for row in signed_rows(app)) == sorted(ids)
    again = invoke(runner, "revoke", "--root", str(root_file), "--", shown(runner)["keys"][0]["kid"])
    assert "no valid online key is left" in again.output and again.exit_code == 0


def _decoded(path) -> bytes:
    """A file of a published folder as readers get it: its compressed siblings decompressed."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix == ".br":
        return brotli.decompress(data)
    return data


def test_no_private_key_in_the_publish_folder_an_export_or_a_bundle(make_app, root_file, keys_dir, tmp_path):
    app = make_app(PUBLISH_DIR=str(tmp_path / "public"))
    runner = app.test_cli_runner()
    certified(runner, root_file)
    publisher = Publisher(app)
    publisher.publish("Public", slug="public")
    publisher.withdraw(publisher.publish("Withdrawn"))
    assert runner.invoke(args=["publish", "--all"]).exit_code == 0
    exported = tmp_path / "export"
    assert (
        runner.invoke(args=["export", str(exported), "--base-url", "https://mirror.example/news/"]).exit_code
        == 0
    )
    bundle = tmp_path / "bundle.html"
    assert runner.invoke(args=["bundle", str(bundle)]).exit_code == 0
    secrets = private_forms(root_file, *keys_dir.glob("signing-*.key"))
    assert secrets
    files = [
        p for folder in (tmp_path / "public", exported) for p in folder.resolve().rglob("*") if p.is_file()
    ] + [bundle]
    assert len(files) > 50 and any(p.suffix == ".br" for p in files)
    assert any(p.match("bundles/*.html") for p in files)  # the packs too
    for path in files:
        data = _decoded(path)
        for secret in secrets:
            assert secret not in data, path
