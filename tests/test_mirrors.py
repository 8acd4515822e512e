"""Mirrors: ``BULLETIN_MIRRORS``, the signed list at ``/mirrors.json``, a device's rules for it, the CSP
that lets the worker reach mirrors, the list in the publish folder and the export, and the root key's
fingerprint on ``/about/``."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time

import pytest
from conftest import device_with_keys, reconfigure

from bulletin import config, create_app
from bulletin.http import nginx_headers
from bulletin.publishing import publisher
from bulletin.signing import canonical, envelopes, keys
from bulletin.signing.reasons import Rejected
from bulletin.signing.verifier import Verifier
from bulletin.site import mirrors
from bulletin.statements import db
from testbed.nginx_conf import brotli_available, write_config
from testbed.servers import HOST, fetch, free_port, start_nginx

MIRRORS = ("https://mirror-one.example/news/", "https://mirror-two.example/")

# These tests make the site's keys themselves, from none.
pytestmark = pytest.mark.unsigned


@pytest.fixture
def root_file(runner, tmp_path):
    path = tmp_path / "offline" / "root.key"
    path.parent.mkdir()
    assert runner.invoke(args=["keys", "init-root", str(path)]).exit_code == 0
    return path


@pytest.fixture
def signed_site(app, runner, root_file):
    """The app with a certified online key and two mirrors."""
    result = runner.invoke(args=["keys", "certify", "--root", str(root_file)])
    assert result.exit_code == 0, result.output
    reconfigure(app, MIRRORS=MIRRORS)
    return app


def device(client, root_file) -> Verifier:
    """A device that pinned the site's root and took the certificates and revocations /keys.json serves."""
    return device_with_keys(
        keys.raw_public(keys.read_private(root_file)), client.get("/keys.json").get_json()
    )


def listed(client) -> dict:
    response = client.get("/mirrors.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data())


def payload(envelope: dict) -> dict:
    return json.loads(envelope["payload"])


# ------------------------------------------------------------------ the setting


def test_the_setting_takes_https_base_urls_normalized(tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(
        "BULLETIN_MIRRORS",
        " https://Mirror.Example/news , https://cdn.example:8443/a/b/,,http://127.0.0.1:8081/x,"
        "http://localhost:9000, https://mirror.example/news/",
    )
    assert create_app().config["MIRRORS"] == (
        "https://mirror.example/news/",
        "https://cdn.example:8443/a/b/",
        "http://127.0.0.1:8081/x/",
        "http://localhost:9000/",
    )


def test_no_setting_is_no_mirrors(tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    assert create_app().config["MIRRORS"] == ()
    monkeypatch.setenv("BULLETIN_MIRRORS", " ")
    assert create_app().config["MIRRORS"] == ()


@pytest.mark.parametrize(
    "value, says",
    [
        ("http://mirror.example/", "http:// only for 127.0.0.1 and localhost"),
        ("http://10.0.0.1/", "http:// only for 127.0.0.1 and localhost"),
        ("mirror.example/news/", "must be an https:// base URL"),
        ("ftp://mirror.example/", "must be an https:// base URL"),
        ("https://user:secret@mirror.example/", "no user name or password"),
        ("https://mirror.example/?from=list", "no query or fragment"),
        ("https://mirror.example/#top", "no query or fragment"),
        ("https://mirror.example/a/../b/", "odd path"),
        ("https://mirror.example:99999/", "not a URL"),
        ("https://mirror.example/a b/", "ASCII form"),
        ("https://зеркало.example/", "ASCII form"),
    ],
)
def test_a_malformed_mirror_stops_start_up_saying_why(tmp_path, monkeypatch, value, says):
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BULLETIN_MIRRORS", f"https://fine.example/,{value}")
    with pytest.raises(config.ConfigError, match="BULLETIN_MIRRORS") as raised:
        create_app()
    assert says in str(raised.value)


# ------------------------------------------------------------------ /mirrors.json


def test_no_list_without_mirrors_or_without_a_key(app, runner, root_file, client):
    reconfigure(app, MIRRORS=MIRRORS)
    unsigned = client.get("/mirrors.json")  # mirrors, but no key that may sign
    assert unsigned.status_code == 404 and unsigned.get_json()["error"]["code"] == "not_found"
    assert unsigned.headers["Access-Control-Allow-Origin"] == "*"
    assert runner.invoke(args=["keys", "certify", "--root", str(root_file)]).exit_code == 0
    reconfigure(app, MIRRORS=())
    assert client.get("/mirrors.json").status_code == 404
    with app.app_context():
        assert mirrors.signed_list(db.connect(app.config["DATABASE"])) is None


def test_the_list_is_signed_by_the_online_key_and_open_to_every_origin(signed_site, client, root_file):
    response = client.get("/mirrors.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    envelope = json.loads(response.get_data())
    # The bytes as shipped: compact, in the contract's key order, the payload canonical.
    assert list(envelope) == ["payload", "sig", "kid"]
    assert response.get_data() == json.dumps(envelope, separators=(",", ":")).encode()
    assert canonical.dumps(json.loads(envelope["payload"])) == envelope["payload"]
    document = device(client, root_file).accept_mirrors(envelope)
    assert set(document) == {"type", "v", "seq", "signed_at", "mirrors"}
    assert document["type"] == "mirrors" and document["v"] == 1
    assert document["mirrors"] == list(MIRRORS)
    assert isinstance(document["seq"], int) and document["signed_at"].endswith("Z")
    assert client.get("/mirrors.json", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    with signed_site.app_context():
        assert mirrors.signed_list(db.connect(signed_site.config["DATABASE"])) == envelope


def test_every_process_serves_the_same_list_until_it_changes(signed_site, make_app, client, clock):
    first = listed(client)
    clock.advance(3600)
    # Another worker, or the site after a restart: the same bytes, not a new number.
    other = make_app(MIRRORS=MIRRORS)
    assert listed(other.test_client()) == first
    assert listed(client) == first
    # The list changes: a higher number, in every process.
    reconfigure(signed_site, MIRRORS=MIRRORS[:1])
    shorter = listed(client)
    assert payload(shorter)["seq"] > payload(first)["seq"]
    assert payload(shorter)["mirrors"] == [MIRRORS[0]]
    assert listed(make_app(MIRRORS=MIRRORS[:1]).test_client()) == shorter


def test_the_number_never_goes_back_when_an_old_list_comes_back(signed_site, client, root_file):
    phone = device(client, root_file)
    seen = [phone.accept_mirrors(listed(client))["seq"]]
    for mirrors_now in (MIRRORS[:1], MIRRORS, MIRRORS[:1]):  # the clock stands still meanwhile
        reconfigure(signed_site, MIRRORS=mirrors_now)
        seen.append(phone.accept_mirrors(listed(client))["seq"])
    assert seen == sorted(set(seen)) and len(seen) == 4


def test_the_number_rises_past_a_restored_database(signed_site, runner, client, clock, tmp_path, root_file):
    backup = tmp_path / "backup.sqlite3"
    before = listed(client)  # kept in the database the backup copies
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    clock.advance(60)
    reconfigure(signed_site, MIRRORS=MIRRORS[:1])
    newer = listed(client)
    clock.advance(60)
    assert runner.invoke(args=["restore", str(backup)]).exit_code == 0
    reconfigure(signed_site, MIRRORS=MIRRORS)
    after = listed(client)
    # The restored database remembers only the first list's number: the new one is above both.
    phone = device(client, root_file)
    phone.accept_mirrors(before)
    phone.accept_mirrors(newer)
    assert phone.accept_mirrors(after)["seq"] > payload(newer)["seq"] > payload(before)["seq"]


def test_a_busy_database_serves_the_list_without_waiting_and_keeps_its_number(signed_site, client):
    connection = sqlite3.connect(signed_site.config["DATABASE"], isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        started = time.monotonic()
        served = listed(client)
        assert time.monotonic() - started < 2
        assert listed(client) == served  # this process keeps the number it issued
    finally:
        connection.execute("ROLLBACK")
    assert connection.execute("SELECT count(*) FROM meta WHERE key = 'mirrors'").fetchone()[0] == 0
    assert listed(client) == served  # and writes it once the database takes it
    kept = json.loads(connection.execute("SELECT value FROM meta WHERE key = 'mirrors'").fetchone()[0])
    assert kept["seq"] == payload(served)["seq"]
    connection.close()


# ------------------------------------------------------------------ a device's rules


def test_a_device_takes_only_newer_lists_from_a_certified_key(signed_site, client, root_file, tmp_path):
    phone = device(client, root_file)
    old = listed(client)
    reconfigure(signed_site, MIRRORS=MIRRORS[1:])
    new = listed(client)
    assert phone.accept_mirrors(new)["mirrors"] == [MIRRORS[1]]
    assert phone.accept_mirrors(new)["mirrors"] == [MIRRORS[1]]  # the held list again: no news, no refusal
    with pytest.raises(Rejected) as replayed:
        phone.accept_mirrors(old)
    assert replayed.value.reason == "rollback"
    # Another list under the held number is no newer either.
    forged = dict(payload(new), mirrors=["https://censor.example/"])
    stranger = keys.generate()
    with pytest.raises(Rejected) as unknown:
        phone.accept_mirrors(envelopes.sign(forged, stranger))
    assert unknown.value.reason == "unknown-key"
    online = keys.read_private(next((tmp_path / "keys").glob("signing-*.key")))
    with pytest.raises(Rejected) as same_number:
        phone.accept_mirrors(envelopes.sign(forged, online))
    assert same_number.value.reason == "rollback"
    flipped = dict(new, payload=new["payload"].replace("mirror-two", "mirror-tw0"))
    with pytest.raises(Rejected) as bad:
        phone.accept_mirrors(flipped)
    assert bad.value.reason == "bad-signature"
    assert phone.refused == {"rollback": 2, "unknown-key": 1, "bad-signature": 1}
    assert phone.accept_mirrors(new)["mirrors"] == [MIRRORS[1]]  # still the one held


def test_a_revoked_keys_list_is_refused(signed_site, runner, client, root_file):
    held = listed(client)
    kid = held["kid"]
    assert runner.invoke(args=["keys", "revoke", "--root", str(root_file), "--", kid]).exit_code == 0
    with pytest.raises(Rejected) as refused:
        device(client, root_file).accept_mirrors(held)
    assert refused.value.reason == "revoked-key"
    assert client.get("/mirrors.json").status_code == 404  # no key left that may sign


def test_a_list_of_another_type_or_shape_is_malformed(signed_site, client, root_file, tmp_path):
    online = keys.read_private(next((tmp_path / "keys").glob("signing-*.key")))
    phone = device(client, root_file)
    base = payload(listed(client))
    for document in (
        dict(base, type="sync-index"),
        dict(base, mirrors="https://one.example/"),
        dict(base, seq=-1),
        dict(base, signed_at="yesterday"),
    ):
        with pytest.raises(Rejected) as refused:
            phone.accept_mirrors(envelopes.sign(document, online))
        assert refused.value.reason == "malformed", document


# ------------------------------------------------------------------ the CSP


def test_pages_and_the_worker_may_fetch_from_any_https_origin(app, client):
    for path in ("/", "/sw.js", "/about/"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert "connect-src 'self' https:;" in csp, path
        assert "default-src 'self'" in csp and "http:" not in csp.replace("https:", "")
    # The worker's own policy: only what governs a worker (no style hash every first visit pays for).
    worker = client.get("/sw.js").headers["Content-Security-Policy"]
    assert "style-src" not in worker and "object-src 'none'" in worker
    reconfigure(app, MIRRORS=("https://m.example/", "http://127.0.0.1:8089/site/"))
    csp = client.get("/").headers["Content-Security-Policy"]
    # A plain-HTTP mirror (loopback, for tests) is named by its origin alone.
    assert "connect-src 'self' https: http://127.0.0.1:8089;" in csp


# ------------------------------------------------------------------ /about/


def test_about_shows_the_root_fingerprint_only_when_the_site_has_keys(app, runner, client, tmp_path):
    assert "fingerprint" not in client.get("/about/").get_data(as_text=True)
    root = tmp_path / "root.key"
    made = runner.invoke(args=["keys", "init-root", str(root)])
    assert runner.invoke(args=["keys", "certify", "--root", str(root)]).exit_code == 0
    fingerprint = keys.fingerprint(keys.raw_public(keys.read_private(root)))
    assert fingerprint in made.output
    page = client.get("/about/").get_data(as_text=True)
    assert f'<code class="fingerprint" dir="ltr" translate="no">{fingerprint}</code>' in page
    assert "from someone you trust, from a printed notice" in page
    russian = client.get("/ru/about/").get_data(as_text=True)
    assert fingerprint in russian and "Проверьте ключ издателя" in russian
    # A new root: the page follows at once.
    new_root = tmp_path / "new-root.key"
    assert runner.invoke(args=["keys", "rotate-root", "--root", str(root), str(new_root)]).exit_code == 0
    rotated = keys.fingerprint(keys.raw_public(keys.read_private(new_root)))
    page = client.get("/about/").get_data(as_text=True)
    assert rotated in page and fingerprint not in page


# ------------------------------------------------------------------ files for hosts


def test_the_publish_folder_holds_the_list_and_the_keys(make_app, root_file, tmp_path):
    app = make_app(PUBLISH_DIR=str(tmp_path / "public"), MIRRORS=MIRRORS)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "certify", "--root", str(root_file)]).exit_code == 0
    assert runner.invoke(args=["publish", "--all"]).exit_code == 0
    folder = tmp_path / "public"
    client = app.test_client()
    assert (folder / "mirrors.json").read_bytes() == client.get("/mirrors.json").get_data()
    assert (folder / "keys.json").read_bytes() == client.get("/keys.json").get_data()
    assert (folder / "mirrors.json.br").is_file() and (folder / "mirrors.json.gz").is_file()
    # No statement changed, the list did (a deploy): the next publication follows it.
    reconfigure(app, MIRRORS=())
    publisher.publish(app)
    assert not (folder / "mirrors.json").exists() and (folder / "keys.json").is_file()


def test_the_export_holds_the_list_and_the_keys_open_to_every_origin(make_app, root_file, tmp_path):
    app = make_app(MIRRORS=MIRRORS)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "certify", "--root", str(root_file)]).exit_code == 0
    folder = tmp_path / "site"
    result = runner.invoke(args=["export", str(folder), "--base-url", "https://mirror-one.example/news/"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    assert (folder / "mirrors.json").read_bytes() == client.get("/mirrors.json").get_data()
    assert json.loads((folder / "keys.json").read_bytes()) == client.get("/keys.json").get_json()
    rules = (folder / "_headers").read_text(encoding="utf-8")
    for name in ("keys.json", "mirrors.json"):
        assert (
            f"/news/{name}\n  Access-Control-Allow-Origin: *\n  Cross-Origin-Resource-Policy: cross-origin\n"
            "  Cache-Control: public, max-age=60\n  Content-Type: application/json"
        ) in rules, name
    assert (
        "/news/sync/*\n  Access-Control-Allow-Origin: *\n  Cross-Origin-Resource-Policy: cross-origin\n"
        in rules
    )
    assert "  Content-Type: application/json" in rules.split("/news/sync/*\n")[1].split("\n\n")[0]
    nginx = (folder / "nginx-export.conf").read_text(encoding="utf-8")
    for name in ("keys.json", "mirrors.json"):
        block = nginx.split(f"location = /news/{name} {{\n")[1].split("}")[0]
        assert 'add_header Access-Control-Allow-Origin "*" always;' in block, name
        assert 'add_header Cross-Origin-Resource-Policy "cross-origin" always;' in block, name
    assert "application/json json;" in nginx


def test_an_export_without_mirrors_has_no_list_and_no_problem(make_app, tmp_path):
    app = make_app()
    folder = tmp_path / "site"
    result = app.test_cli_runner().invoke(args=["export", str(folder)])
    assert result.exit_code == 0, result.output
    assert not (folder / "mirrors.json").exists() and (folder / "keys.json").is_file()


def test_nginx_gives_the_folders_list_and_keys_the_apps_cors_and_type(signed_site):
    samples = {one.kind: one for one in nginx_headers.sample(signed_site)}
    for kind in ("keys", "mirrors"):
        assert samples[kind].headers["Access-Control-Allow-Origin"] == "*", kind
        assert samples[kind].headers["Cross-Origin-Resource-Policy"] == "cross-origin", kind
        assert samples[kind].content_type == "application/json", kind
    maps = nginx_headers.render_maps(list(samples.values()))
    assert '"~/mirrors\\.json$" mirrors;' in maps and '    mirrors "*";' in maps
    assert "application/json json;" in nginx_headers.render_headers(list(samples.values()))


def test_the_list_is_sent_with_the_headers_of_keys_json(signed_site, client):
    """So nginx's include may give a published mirrors.json the headers sampled from keys.json."""
    per_response = {"ETag", "Content-Length", "Date"}
    documents = [client.get(path) for path in ("/mirrors.json", "/keys.json")]
    listed_headers, keys_headers = (
        {name: value for name, value in reply.headers.items() if name not in per_response}
        for reply in documents
    )
    assert listed_headers == keys_headers
    reconfigure(signed_site, MIRRORS=())
    samples = {one.kind: one for one in nginx_headers.sample(signed_site)}
    assert samples["mirrors"].url == "/keys.json"
    assert samples["mirrors"].headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed: apt-get install nginx")
def test_nginx_serves_an_exports_list_and_keys_to_every_origin(make_app, root_file, tmp_path):
    app = make_app(MIRRORS=MIRRORS)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "certify", "--root", str(root_file)]).exit_code == 0
    folder, port = tmp_path / "site", free_port()
    result = runner.invoke(args=["export", str(folder), "--base-url", f"http://{HOST}:{port}/news/"])
    assert result.exit_code == 0, result.output
    snippet = (folder / "nginx-export.conf").read_text(encoding="utf-8")
    if not brotli_available():
        snippet = snippet.replace("    brotli_static on;\n", "")
    prefix = tmp_path / "nginx"
    config = write_config(
        prefix, f"server {{\n listen {HOST}:{port};\n{snippet}}}\n", brotli=brotli_available()
    )
    server = start_nginx(config, port, prefix=prefix)
    try:
        for name in ("mirrors.json", "keys.json"):
            reply = fetch(port, f"/news/{name}", {"Origin": "https://elsewhere.example"})
            assert reply.status == 200, name
            assert reply.header("access-control-allow-origin") == "*", name
            assert reply.header("cross-origin-resource-policy") == "cross-origin", name
            assert reply.header("content-type").startswith("application/json"), name
            assert reply.body == (folder / name).read_bytes(), name
    finally:
        server.stop()


# ------------------------------------------------------------------ where the list travels


def test_the_sync_index_and_a_bundle_carry_the_same_signed_list(
    signed_site, client, runner, publisher, tmp_path
):
    publisher.publish("A statement", "<p>Text.</p>")
    served = listed(client)
    index = json.loads(client.get("/sync/index.json").get_data())
    assert payload(index)["mirrors"] == served
    out = tmp_path / "bundle.html"
    result = runner.invoke(args=["bundle", str(out)])
    assert result.exit_code == 0, result.output
    block = out.read_text(encoding="utf-8").split('id="bulletin-bundle">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["mirrors"] == served
    reconfigure(signed_site, MIRRORS=())
    assert payload(json.loads(client.get("/sync/index.json").get_data()))["mirrors"] is None
