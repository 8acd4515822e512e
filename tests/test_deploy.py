"""The documented deployment, for real: gunicorn behind deploy/nginx.conf on 127.0.0.1.

Both servers run on free ports and are stopped by process id at the end;
every wait polls against a deadline. Needs Debian's nginx (CI installs it);
the Brotli module is used when installed.
"""

from __future__ import annotations

import shutil
import time

import pytest

from bulletin.authoring import changes
from bulletin.http.caching import SECURITY_HEADER_NAMES
from bulletin.statements import db
from testbed.nginx_conf import brotli_available, write_deploy_config
from testbed.servers import fetch, free_port, nginx_syntax_check, start_gunicorn, start_nginx

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed: apt-get install nginx (.ci/run does)"
)

BR = {"Accept-Encoding": "br, gzip"}
MICRO_CACHE_SECONDS = 1.0
STALE_DEADLINE = 10.0
POLL_SECONDS = 0.05
SECURITY_HEADERS = tuple(name.lower() for name in SECURITY_HEADER_NAMES)


def _publish(database: str, slug: str, body: str) -> None:
    connection = db.connect(database)
    draft = changes.Draft(slug.title(), body, "html", slug=slug)
    changes.create(connection, draft, changes.tool_context("editor@example.org"), publish=True)
    connection.close()


class Stack:
    """gunicorn serving Bulletin, nginx in front of it with the deployment's configuration."""

    def __init__(self, folder):
        self.folder = folder
        database = str(folder / "bulletin.sqlite3")
        db.migrate_file(database)
        for slug in ("first", "second", "third"):
            _publish(database, slug, f"<p>The {slug} statement, long enough to be compressed. " * 8 + "</p>")
        env = {
            "BULLETIN_INSTANCE_PATH": str(folder),
            "BULLETIN_DATABASE": database,
            "BULLETIN_SECRET_KEY": "deploy-test",
            "BULLETIN_TRUSTED_PROXIES": "1",
        }
        self.app = start_gunicorn("app:app", env=env, log=folder / "gunicorn.log", workers=1)
        try:
            port = free_port()
            config = write_deploy_config(folder / "nginx", port=port, upstream_port=self.app.port)
            self.nginx = start_nginx(config, port, prefix=folder / "nginx")
        except BaseException:
            self.app.stop()
            raise

    def stop(self) -> None:
        self.nginx.stop()
        self.app.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()


@pytest.fixture
def doomed_stack(tmp_path_factory):
    """A stack whose app the test may stop."""
    running = Stack(tmp_path_factory.mktemp("doomed"))
    yield running
    running.stop()


def test_the_rendered_configuration_passes_nginx_t(tmp_path):
    for brotli in {False, brotli_available()}:
        prefix = tmp_path / f"brotli-{brotli}"
        config = write_deploy_config(prefix, port=free_port(), upstream_port=free_port(), brotli=brotli)
        result = nginx_syntax_check(config, prefix=prefix)
        assert result.returncode == 0, result.stderr


def test_a_page_through_nginx_is_the_apps_page(stack):
    direct = fetch(stack.app.port, "/statements/first", BR)
    proxied = fetch(stack.nginx.port, "/statements/first", BR)
    assert proxied.status == direct.status == 200
    assert proxied.header("etag") == direct.header("etag")
    assert proxied.header("content-encoding") == "br" and proxied.body == direct.body
    assert "accept-encoding" in proxied.header("vary", "").lower()
    for name in (*SECURITY_HEADERS, "cache-control"):
        assert proxied.header(name) == direct.header(name), name


def _pair_within_the_window(nginx_port: int, path: str, headers: dict):
    """Two requests less than the micro-cache's lifetime apart (retried if the machine stalled)."""
    for _attempt in range(3):
        start = time.monotonic()
        first = fetch(nginx_port, path, headers)
        second = fetch(nginx_port, path, headers)
        if time.monotonic() - start < MICRO_CACHE_SECONDS / 2:
            return first, second
    pytest.fail("two local requests kept taking longer than half a second")


def test_a_second_request_within_the_window_is_a_cache_hit(stack):
    first, second = _pair_within_the_window(stack.nginx.port, "/statements/second", BR)
    assert first.header("x-cache-status") in ("MISS", "EXPIRED", "HIT")
    assert second.status == 200 and second.header("x-cache-status") == "HIT"
    assert second.body == first.body and second.header("etag") == first.header("etag")


def test_each_encoding_is_cached_apart(stack):
    _pair_within_the_window(stack.nginx.port, "/statements/third", BR)
    _gz_first, gz = _pair_within_the_window(
        stack.nginx.port, "/statements/third", {"Accept-Encoding": "gzip"}
    )
    _plain_first, plain = _pair_within_the_window(stack.nginx.port, "/statements/third", {})
    assert gz.header("content-encoding") == "gzip" and gz.header("x-cache-status") == "HIT"
    assert plain.header("content-encoding") is None and b"The third statement" in plain.body


def test_the_editor_is_never_cached(stack):
    for _ in range(2):
        reply = fetch(stack.nginx.port, "/editor/")
        assert reply.header("x-cache-status") is None
        assert "no-store" in reply.header("cache-control", "")


def test_static_files_come_from_disk_with_the_apps_headers(stack):
    page = fetch(stack.app.port, "/statements/first").body.decode()
    js = page.split('<script src="', 1)[1].split('"', 1)[0]
    direct = fetch(stack.app.port, js, BR)
    from_disk = fetch(stack.nginx.port, js, BR)
    assert from_disk.status == 200 and from_disk.header("x-cache-status") is None
    assert from_disk.header("content-encoding") == ("br" if brotli_available() else "gzip")
    if brotli_available():
        assert from_disk.body == direct.body
    for name in SECURITY_HEADERS:
        assert from_disk.header(name) == direct.header(name), name
    cache_control = {part.strip() for part in from_disk.header("cache-control").split(",")}
    assert cache_control == {part.strip() for part in direct.header("cache-control").split(",")}


def test_the_last_good_copy_is_served_while_the_app_is_down(doomed_stack):
    port = doomed_stack.nginx.port
    good = fetch(port, "/statements/first", BR)
    assert good.status == 200
    editor_before = fetch(port, "/editor/")
    doomed_stack.app.stop()
    # Poll until the one-second copy has expired and nginx had to fall back on it.
    deadline = time.monotonic() + STALE_DEADLINE
    while True:
        reply = fetch(port, "/statements/first", BR)
        assert reply.status == 200 and reply.body == good.body
        if reply.header("x-cache-status") == "STALE":
            break
        assert time.monotonic() < deadline, f"still {reply.header('x-cache-status')} after {STALE_DEADLINE} s"
        time.sleep(POLL_SECONDS)  # a poll interval within the deadline, not a wait for the expiry
    assert reply.header("etag") == good.header("etag")
    assert reply.header("content-security-policy") == good.header("content-security-policy")
    # Nothing was kept for the editor, nor for a page nobody had asked for.
    assert editor_before.status != 502 and fetch(port, "/editor/").status == 502
    assert fetch(port, "/statements/second", BR).status == 502
