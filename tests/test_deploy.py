"""The documented deployment, for real: gunicorn behind deploy/nginx.conf on 127.0.0.1.

Both servers run on free ports and are stopped by process id at the end;
every wait polls against a deadline. Needs Debian's nginx (CI installs it);
the Brotli module is used when installed.
"""

from __future__ import annotations

import dataclasses
import gzip
import http.cookiejar
import shutil
import time
import urllib.parse
import urllib.request

import pytest
from editor_client import EMAIL, PASSWORD, add_editor, csrf_of

from bulletin import config, create_app
from bulletin.authoring import changes
from bulletin.http.caching import SECURITY_HEADER_NAMES
from bulletin.site import proxy_refresh
from bulletin.statements import db, store
from testbed.nginx_conf import brotli_available, write_deploy_config
from testbed.servers import HOST, fetch, free_port, nginx_syntax_check, start_gunicorn, start_nginx

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed: apt-get install nginx (.ci/run does)"
)

BR = {"Accept-Encoding": "br, gzip"}
GZIP = {"Accept-Encoding": "gzip, deflate"}
JSON = {"Accept": "application/json"}
# Every kind of request nginx keeps its own copy for: encodings, and errors' formats.
VARIANTS = (BR, GZIP, {}, JSON)
FAST_HASHING = {"BULLETIN_ARGON2_TIME_COST": "1", "BULLETIN_ARGON2_MEMORY_KIB": "64"}
MICRO_CACHE_SECONDS = 1.0
STALE_DEADLINE = 10.0
POLL_SECONDS = 0.05
SECURITY_HEADERS = tuple(name.lower() for name in SECURITY_HEADER_NAMES)


def _publish(database: str, slug: str, body: str, tags=()) -> None:
    connection = db.connect(database)
    draft = changes.Draft(slug.title(), body, "html", slug=slug, tags=tags)
    changes.create(connection, draft, changes.tool_context("editor@example.org"), publish=True)
    connection.close()


class Stack:
    """gunicorn serving Bulletin, nginx in front of it with the deployment's configuration."""

    def __init__(self, folder, *, refresh: bool = False):
        self.folder = folder
        self.database = database = str(folder / "bulletin.sqlite3")
        db.migrate_file(database)
        for slug in ("first", "second", "third"):
            text = f"<p>The {slug} statement, long enough to be compressed. " * 8 + "</p>"
            _publish(database, slug, text, tags=("harbour",) if slug == "first" else ())
        port = free_port()
        self.env = {
            "BULLETIN_INSTANCE_PATH": str(folder),
            "BULLETIN_DATABASE": database,
            "BULLETIN_SECRET_KEY": "deploy-test",
            "BULLETIN_TRUSTED_PROXIES": "1",
            **FAST_HASHING,
        }
        if refresh:
            self.env["BULLETIN_NGINX_REFRESH_URL"] = f"http://{HOST}:{port}"
        self.app = start_gunicorn("app:app", env=self.env, log=folder / "gunicorn.log", workers=1)
        try:
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


@pytest.fixture
def refreshing_stack(tmp_path_factory):
    """A stack whose app renews nginx's copies at a withdrawal (BULLETIN_NGINX_REFRESH_URL), and may be stopped."""
    running = Stack(tmp_path_factory.mktemp("refreshing"), refresh=True)
    yield running
    running.stop()


def test_the_rendered_configuration_passes_nginx_t(tmp_path):
    for brotli in {False, brotli_available()}:
        prefix = tmp_path / f"brotli-{brotli}"
        config = write_deploy_config(prefix, port=free_port(), upstream_port=free_port(), brotli=brotli)
        result = nginx_syntax_check(config, prefix=prefix)
        assert result.returncode == 0, result.stderr


def test_a_page_through_nginx_is_the_apps_page(stack):
    direct = fetch(stack.app.port, "/statements/first/", BR)
    proxied = fetch(stack.nginx.port, "/statements/first/", BR)
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
    first, second = _pair_within_the_window(stack.nginx.port, "/statements/second/", BR)
    assert first.header("x-cache-status") in ("MISS", "EXPIRED", "HIT")
    assert second.status == 200 and second.header("x-cache-status") == "HIT"
    assert second.body == first.body and second.header("etag") == first.header("etag")


def test_each_encoding_is_cached_apart(stack):
    _pair_within_the_window(stack.nginx.port, "/statements/third/", BR)
    _gz_first, gz = _pair_within_the_window(
        stack.nginx.port, "/statements/third/", {"Accept-Encoding": "gzip"}
    )
    _plain_first, plain = _pair_within_the_window(stack.nginx.port, "/statements/third/", {})
    assert gz.header("content-encoding") == "gzip" and gz.header("x-cache-status") == "HIT"
    assert plain.header("content-encoding") is None and b"The third statement" in plain.body


def test_the_editor_is_never_cached(stack):
    for _ in range(2):
        reply = fetch(stack.nginx.port, "/editor/")
        assert reply.header("x-cache-status") is None
        assert "no-store" in reply.header("cache-control", "")


def test_static_files_come_from_disk_with_the_apps_headers(stack):
    page = fetch(stack.app.port, "/statements/first/").body.decode()
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
    good = fetch(port, "/statements/first/", BR)
    assert good.status == 200
    editor_before = fetch(port, "/editor/")
    doomed_stack.app.stop()
    # Poll until the one-second copy has expired and nginx had to fall back on it.
    deadline = time.monotonic() + STALE_DEADLINE
    while True:
        reply = fetch(port, "/statements/first/", BR)
        assert reply.status == 200 and reply.body == good.body
        if reply.header("x-cache-status") == "STALE":
            break
        assert time.monotonic() < deadline, f"still {reply.header('x-cache-status')} after {STALE_DEADLINE} s"
        time.sleep(POLL_SECONDS)  # a poll interval within the deadline, not a wait for the expiry
    assert reply.header("etag") == good.header("etag")
    assert reply.header("content-security-policy") == good.header("content-security-policy")
    # Nothing was kept for the editor, nor for a page nobody had asked for.
    assert editor_before.status != 502 and fetch(port, "/editor/").status == 502
    assert fetch(port, "/statements/second/", BR).status == 502


# ------------------------------------------------------------------ withdrawals

WITHDRAWN_TEXT = b"The first statement"
SHARED_LINK = "/statements/first/?fbclid=shared"  # how a link shared on social media comes back
# Where the withdrawn statement was: its page (also as shared), its API object, its tag's pages.
WITHDRAWN_PAGES = (
    "/statements/first/",
    SHARED_LINK,
    "/api/statements/first",
    "/tags/harbour/",
    "/tags/harbour/feed.atom",
)
# Pages that listed it and go on without it.
LISTS = ("/", "/feed.atom", "/sitemap.xml", "/api/statements")


def _read_three_times(port: int) -> None:
    for headers in (BR, GZIP, {}):
        assert fetch(port, "/statements/first/", headers).status == 200
    assert fetch(port, SHARED_LINK, BR).status == 200
    for path in (*WITHDRAWN_PAGES[2:], *LISTS):
        reply = fetch(port, path)
        assert reply.status == 200 and (WITHDRAWN_TEXT in reply.body or b"first" in reply.body), path


def _plain(reply) -> bytes:
    return gzip.decompress(reply.body) if reply.header("content-encoding") == "gzip" else reply.body


def _assert_gone(port: int) -> list[str]:
    """Every page of the withdrawn statement answers 410 or 404 (or 5xx), lists no longer show it."""
    statuses = []
    for path in WITHDRAWN_PAGES:
        for headers in VARIANTS:
            reply = fetch(port, path, headers)
            assert reply.status in (404, 410) or reply.status >= 500, (path, headers, reply.status)
            statuses.append(reply.header("x-cache-status"))
    for path in LISTS:
        reply = fetch(port, path, GZIP)
        if reply.status < 500:
            assert reply.status == 200 and WITHDRAWN_TEXT not in _plain(reply), path
            assert b"/statements/first/" not in _plain(reply), path
        statuses.append(reply.header("x-cache-status"))
    return statuses


def _assert_never_200_with_the_app_down(stack: Stack) -> None:
    """Stop the app, then poll past the micro-cache's second until nginx answers from its stale copies."""
    stack.app.stop()
    deadline = time.monotonic() + STALE_DEADLINE
    while True:
        statuses = _assert_gone(stack.nginx.port)
        if all(status == "STALE" for status in statuses):
            break
        assert time.monotonic() < deadline, f"not all answered from stale copies after {STALE_DEADLINE} s"
        time.sleep(POLL_SECONDS)  # a poll interval within the deadline
    # The withdrawn statement's notice, not a bare error: nginx kept the app's 410.
    assert b"withdrawn" in _plain(fetch(stack.nginx.port, "/statements/first/", GZIP)).lower()


class EditorBrowser:
    """An editor's browser on the editor's pages through nginx: cookies kept, forms sent with their token."""

    def __init__(self, port: int):
        self.base = f"http://{HOST}:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode()

    def submit(self, form_page: str, action: str, fields: dict) -> str:
        """Fetch the page holding the form, then post it (following the redirect); the page landed on."""
        data = urllib.parse.urlencode({"csrf_token": csrf_of(self.get(form_page)), **fields}).encode()
        with self.opener.open(self.base + action, data=data, timeout=30) as response:
            return response.read().decode()


def test_a_withdrawal_by_the_editor_reaches_nginx_before_the_next_reader(refreshing_stack):
    stack = refreshing_stack
    with create_app({"DATABASE": stack.database, "SECRET_KEY": "deploy-test"}).app_context() as context:
        context.app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_KIB=64)
        add_editor(context.app)
    connection = db.connect(stack.database)
    statement_id = store.get_by_slug(connection, "first").id
    connection.close()
    port = stack.nginx.port
    _read_three_times(port)

    editor = EditorBrowser(port)
    editor.submit("/editor/login", "/editor/login", {"email": EMAIL, "password": PASSWORD})
    page = f"/editor/statements/{statement_id}"
    landed = editor.submit(page, f"{page}/withdraw", {"reason": "Published in error.", "confirm": "yes"})
    assert "Withdrawn" in landed

    # The very first request after the withdrawal, in every variant: no window at all.
    _assert_gone(port)
    _assert_never_200_with_the_app_down(stack)


def test_a_statement_read_three_times_then_withdrawn_is_never_200_once_the_app_stops(refreshing_stack):
    stack = refreshing_stack
    _read_three_times(stack.nginx.port)
    # The write path, with the refresher the app's settings make.
    settings = {**config.defaults(), **config.from_environment(stack.env)}
    refresher = dataclasses.replace(proxy_refresh.from_config(settings), second_pass_seconds=0)
    passes = []
    ctx = dataclasses.replace(
        changes.tool_context("editor@example.org"),
        after_withdrawal=lambda connection, sid: passes.append(refresher(connection, sid)),
    )
    connection = db.connect(stack.database)
    changes.withdraw(connection, store.get_by_slug(connection, "first").id, "Published in error.", ctx)
    connection.close()
    passes[0].join(STALE_DEADLINE)  # the second pass too, before the app goes
    _assert_never_200_with_the_app_down(stack)


def test_gunicorn_does_not_name_itself(stack):
    reply = fetch(stack.app.port, "/statements/first/")
    assert reply.status == 200 and reply.header("server") is None


def test_arguments_the_app_does_not_read_share_one_copy_in_nginx(stack):
    for path, other in (
        ("/statements/second/?utm_source=a", "/statements/second/?utm_source=b"),
        ("/?page=1&fbclid=a", "/?page=1&fbclid=b"),
        ("/ru/?page=1&fbclid=a", "/ru/?page=1&fbclid=b"),  # an interface language's list
        ("/ar/offline/?x=1", "/ar/offline/?x=2"),
        ("/api/sync?limit=5&x=1", "/api/sync?limit=5&x=2"),
    ):
        for _attempt in range(3):
            start = time.monotonic()
            first = fetch(stack.nginx.port, path, BR)
            second = fetch(stack.nginx.port, other, BR)
            if time.monotonic() - start < MICRO_CACHE_SECONDS / 2:
                break
        assert first.status == second.status == 200
        assert second.header("x-cache-status") == "HIT", path
        assert second.header("etag") == first.header("etag")
