"""Renewing nginx's copies after a withdrawal, without nginx: the pages named, the setting, the failures.

tests/test_deploy.py runs it against the real nginx of deploy/nginx.conf.
"""

from __future__ import annotations

import dataclasses
import http.server
import logging
import threading
from urllib.parse import quote

import pytest

from bulletin import config
from bulletin.authoring import changes
from bulletin.site import proxy_refresh
from bulletin.statements import db, store
from testbed.servers import HOST, free_port

NOWHERE = f"http://{HOST}:{free_port()}"  # a port nothing listens on a moment later


def test_the_pages_of_a_withdrawn_statement_are_named_once_each(app, publisher):
    original = publisher.publish("Port closure", tags=("ports", "Страйк"), slug="port-closure")
    translation = publisher.publish("Закрытие порта", lang="ru", slug="закрытие", translation_of=original)
    connection = db.connect(app.config["DATABASE"])
    draft = changes.Draft("Renamed", "x", "html", slug="first-name")
    renamed = changes.create(connection, draft, changes.tool_context("e@example.org")).statement_id
    changes.save(
        connection, renamed, dataclasses.replace(draft, slug="second-name"), changes.tool_context("e")
    )
    statement = store.get_by_id(connection, original)
    paths = proxy_refresh.affected_paths(connection, statement, sync_limits=(1, 50))
    assert len(paths) == len(set(paths))
    for path in (
        "/statements/port-closure/",
        "/api/statements/port-closure",
        "/tags/ports/",
        "/tags/ports/?page=1",
        "/tags/ports/feed.atom",
        "/tags/%D1%81%D1%82%D1%80%D0%B0%D0%B9%D0%BA/",
        "/",
        "/?page=1",
        "/feed.atom",
        "/sitemap.xml",
        "/api/statements",
        "/api/sync?limit=1",
        "/api/sync?limit=50",
        # Lists exist once per interface language.
        "/ru/",
        "/ar/?page=1",
        "/kk/tags/ports/",
        "/fr/tags/ports/?page=1",
    ):
        assert path in paths
    # The translation's page links to the original, so it changes too; as readers' links write it.
    assert store.get_by_id(connection, translation).url in paths
    assert "/api/statements/" + quote(store.get_by_id(connection, translation).slug, safe="") in paths
    renamed_paths = proxy_refresh.affected_paths(
        connection, store.get_by_id(connection, renamed), sync_limits=()
    )
    assert {"/statements/second-name/", "/statements/first-name/", "/api/statements/first-name"} <= set(
        renamed_paths
    )
    connection.close()


def test_the_setting_is_off_by_default_and_names_nginx_on_this_machine(make_app):
    assert proxy_refresh.of(make_app()) is None
    refresher = proxy_refresh.of(make_app(NGINX_REFRESH_URL="http://127.0.0.1:8080", OFFLINE_KEEP=30))
    assert refresher.address == "http://127.0.0.1:8080" and refresher.host == "127.0.0.1:8080"
    assert refresher.sync_limits == (1, 30)
    # Readers reach nginx under the public origin: the renewed copy must be theirs.
    behind = make_app(NGINX_REFRESH_URL="http://127.0.0.1", BASE_URL="https://bulletin.example")
    assert proxy_refresh.of(behind).host == "bulletin.example"
    parsed = config.from_environment({"BULLETIN_NGINX_REFRESH_URL": "http://127.0.0.1:80/"})
    assert parsed["NGINX_REFRESH_URL"] == "http://127.0.0.1:80"


@pytest.mark.parametrize(
    "value",
    ["127.0.0.1:80", "https://127.0.0.1", "http://127.0.0.1/purge", "http://?x", "http://127.0.0.1?a=1"],
)
def test_a_malformed_nginx_address_stops_start_up(value):
    with pytest.raises(config.ConfigError, match="BULLETIN_NGINX_REFRESH_URL"):
        config.from_environment({"BULLETIN_NGINX_REFRESH_URL": value})


def test_an_unreachable_nginx_is_logged_and_the_editor_still_withdraws(publisher, editor_client, caplog):
    app = editor_client.client.application
    app.config["NGINX_REFRESH_URL"] = NOWHERE
    passes = []
    refresher = proxy_refresh.from_config(app.config)
    app.extensions[proxy_refresh.EXTENSION] = lambda db, sid: passes.append(
        dataclasses.replace(refresher, second_pass_seconds=0)(db, sid)
    )
    statement_id = publisher.publish("Published in error")
    editor_client.get(f"/editor/statements/{statement_id}")
    with caplog.at_level(logging.WARNING, logger="bulletin.site.proxy_refresh"):
        response = editor_client.post(
            f"/editor/statements/{statement_id}/withdraw", {"reason": "A mistake.", "confirm": "yes"}
        )
        passes[0].join(10)
    assert response.status_code == 302
    assert publisher.get(statement_id).is_withdrawn
    messages = [r.getMessage() for r in caplog.records if r.name == "bulletin.site.proxy_refresh"]
    assert len(messages) == 2  # the pass at the withdrawal, and the later one
    assert all("could not reach nginx" in message and NOWHERE in message for message in messages)


class _CopyServingNginx(http.server.BaseHTTPRequestHandler):
    """An nginx whose configuration lacks the renewal rule: it answers from its copy."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("X-Cache-Status", "HIT")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass  # the test reads the refresher's log, not this server's


def test_an_nginx_that_does_not_renew_is_logged_once(caplog):
    server = http.server.ThreadingHTTPServer((HOST, 0), _CopyServingNginx)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        address = f"http://{HOST}:{server.server_port}"
        refresher = proxy_refresh.Refresher(address, "bulletin.example", sync_limits=())
        with caplog.at_level(logging.WARNING, logger="bulletin.site.proxy_refresh"):
            assert refresher.renew(["/statements/a/", "/"]) is False
    finally:
        server.shutdown()
        server.server_close()
    (record,) = caplog.records
    assert "X-Cache-Status: HIT" in record.getMessage() and "X-Bulletin-Refresh" in record.getMessage()


def test_inside_a_callers_transaction_nothing_is_renewed_before_its_commit(app, publisher):
    statement_id = publisher.publish("Withdrawn in a batch")
    called = []
    ctx = dataclasses.replace(
        changes.tool_context("e@example.org"), after_withdrawal=lambda _db, sid: called.append(sid)
    )
    connection = db.connect(app.config["DATABASE"])
    with db.transaction(connection):
        changes.withdraw(connection, statement_id, "A mistake.", ctx)
        assert called == []
    connection.close()
    other = publisher.publish("Withdrawn alone")
    connection = db.connect(app.config["DATABASE"])
    changes.withdraw(connection, other, "A mistake.", ctx)
    connection.close()
    assert called == [other]
