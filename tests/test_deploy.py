"""The documented deployment, for real: gunicorn behind deploy/nginx.conf on 127.0.0.1.

Both servers run on free ports and are stopped by process id at the end;
every wait polls against a deadline. Needs Debian's nginx (CI installs it);
the Brotli module is used when installed. nginx serves a publish folder
first: empty for the micro-cache's tests (everything reaches the app), the
public site's files for the tests of the folder.
"""

from __future__ import annotations

import dataclasses
import gzip
import http.cookiejar
import shutil
import time
import urllib.parse
import urllib.request

import brotli
import pytest
from editor_client import EMAIL, PASSWORD, add_editor, csrf_of

from bulletin import config, create_app
from bulletin.authoring import changes
from bulletin.http import nginx_headers
from bulletin.http.caching import SECURITY_HEADER_NAMES
from bulletin.publishing import publisher
from bulletin.site import proxy_refresh
from bulletin.statements import db, store
from testbed import folder as publish_folder
from testbed.nginx_conf import brotli_available, write_deploy_config
from testbed.servers import HOST, fetch, free_port, nginx_syntax_check
from testbed.stack import BUILD_FILES, Stack, write_includes

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed: apt-get install nginx (.ci/run does)"
)

BR = {"Accept-Encoding": "br, gzip"}
GZIP = {"Accept-Encoding": "gzip, deflate"}
JSON = {"Accept": "application/json"}
# Every kind of request nginx keeps its own copy for: encodings, and errors' formats.
VARIANTS = (BR, GZIP, {}, JSON)
MICRO_CACHE_SECONDS = 1.0
STALE_DEADLINE = 10.0
POLL_SECONDS = 0.05
SECURITY_HEADERS = tuple(name.lower() for name in SECURITY_HEADER_NAMES)


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
    database = str(tmp_path / "bulletin.sqlite3")
    db.migrate_file(database)
    write_includes(database, tmp_path)
    for with_brotli in {False, brotli_available()}:
        prefix = tmp_path / f"brotli-{with_brotli}"
        config = write_deploy_config(
            prefix,
            port=free_port(),
            upstream_port=free_port(),
            publish=tmp_path,
            includes=tmp_path,
            brotli=with_brotli,
        )
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
# (The sitemap is an index of parts now, the parts files of the publish
# folder; the app's renewal at a withdrawal does not name the parts.)
LISTS = ("/", "/feed.atom", "/api/statements")


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


# ------------------------------------------------------------------ the publish folder

# Headers that belong to one response or one server: nginx's own validators
# stand in for the app's (a file's ETag and Last-Modified), and nginx may
# offer byte ranges of a file.
OWN_HEADERS = frozenset(
    ("date", "server", "etag", "last-modified", "content-length", "accept-ranges", "connection")
)


@pytest.fixture(scope="module")
def files_stack(tmp_path_factory):
    """nginx in front of a publish folder holding the public site's files (the app may be stopped)."""
    running = Stack(tmp_path_factory.mktemp("files"), files=True)
    yield running
    running.stop()


def _decoded(reply) -> bytes:
    encoding = reply.header("content-encoding")
    if encoding == "br":
        return brotli.decompress(reply.body)
    return gzip.decompress(reply.body) if encoding == "gzip" else reply.body


def _compared(reply) -> dict:
    found = {name: value for name, value in reply.headers.items() if name not in OWN_HEADERS}
    if "content-type" in found:  # a quoted parameter is the same parameter: charset="utf-8" is charset=utf-8
        found["content-type"] = found["content-type"].replace('"', "")
    return found


def test_every_file_from_the_folder_has_the_apps_headers_and_bytes(files_stack):
    stack = files_stack
    encodings = (BR, GZIP, {}) if brotli_available() else (GZIP, {})
    assert len(stack.files) >= 20
    kinds = {name for name in stack.files if name.startswith("/sync/")}
    assert "/sync/index.json" in kinds and len(kinds) >= 2  # the index and what it names
    # What only a deploy changes is in the folder too, written by the publisher's whole build.
    for address in BUILD_FILES:
        assert address in stack.files, address
    # The signed documents other origins read, with the app's CORS (mirrors.json's from keys.json's sample).
    assert "/keys.json" in stack.files and "/mirrors.json" in stack.files
    for address, app_address in stack.files.items():
        for headers in encodings:
            direct = fetch(stack.app.port, app_address, headers)
            served = fetch(stack.nginx.port, address, headers)
            assert served.status == direct.status == 200, (address, served.status)
            # Served from the file: nginx's own validator, nothing from the micro-cache.
            assert served.header("x-cache-status") is None, address
            assert served.header("etag") and served.header("last-modified"), address
            expected, got = _compared(direct), _compared(served)
            if "vary" not in expected:
                # A body the app keeps in one form only (too small to gain) still
                # has siblings in the folder: nginx may send one (and say it
                # varies), the same bytes decoded.
                for name in ("content-encoding", "vary"):
                    got.pop(name, None)
            assert got == expected, (address, headers)
            assert _decoded(served) == _decoded(direct), address


def test_the_headers_over_https_add_only_hsts(tmp_path):
    database = str(tmp_path / "bulletin.sqlite3")
    db.migrate_file(database)
    write_includes(database, tmp_path)
    maps = (tmp_path / nginx_headers.MAPS_FILE).read_text()
    app = create_app({"DATABASE": database, "SECRET_KEY": "deploy-test"})
    hsts = app.test_client().get("/", base_url="https://localhost").headers["Strict-Transport-Security"]
    assert (
        f'map $scheme $bulletin_file_strict_transport_security {{\n    default "";\n    https "{hsts}";'
        in maps
    )


def test_hidden_files_and_compressed_siblings_are_never_served(files_stack):
    stack = files_stack
    (stack.publish / ".publisher-state.json").write_text('{"seq": 1}')
    (stack.publish / "statements" / ".tmp-page").mkdir(parents=True, exist_ok=True)
    (stack.publish / "statements" / ".tmp-page" / "index.html").write_text("half written")
    home = publish_folder.file_for("/")
    for path in ("/.publisher-state.json", "/statements/.tmp-page/", f"/{home}.br", f"/{home}.gz"):
        reply = fetch(stack.nginx.port, path)
        assert reply.status == 404, (path, reply.status)
        assert b"seq" not in reply.body and b"half written" not in reply.body
    # A page has one address: its folder's.
    moved = fetch(stack.nginx.port, f"/{home}?x=1")
    assert moved.status == 301 and moved.header("location").endswith("/?x=1")


def test_a_list_page_past_the_first_and_a_search_go_to_the_app(files_stack):
    stack = files_stack
    home = fetch(stack.nginx.port, "/?fbclid=shared", BR)
    assert home.status == 200 and home.header("x-cache-status") is None  # the file
    for path in ("/?page=2", "/?before=1", "/search?q=first"):
        reply = fetch(stack.nginx.port, path, BR)
        assert reply.header("x-cache-status") is not None, path  # through the micro-cache to the app
        assert reply.status == fetch(stack.app.port, path, BR).status, path


def test_a_withdrawn_statements_removed_file_gets_the_apps_410_through_nginx(doomed_files_stack):
    stack = doomed_files_stack
    address = next(url for url in stack.files if "first" in url and "statements" in url)
    assert fetch(stack.nginx.port, address).status == 200
    connection = db.connect(stack.database)
    statement_id = store.get_by_slug(connection, "first").id
    changes.withdraw(
        connection, statement_id, "Published in error.", changes.tool_context("editor@example.org")
    )
    connection.close()
    publisher.publish(stack.make_app())  # as the editor's save does it
    assert not (stack.publish / publish_folder.file_for(address)).exists()
    for headers in (BR, GZIP, {}):
        reply = fetch(stack.nginx.port, stack.files[address], headers)
        direct = fetch(stack.app.port, stack.files[address], headers)
        assert reply.status == direct.status == 410
        assert b"withdrawn" in _decoded(reply).lower() and WITHDRAWN_TEXT not in _decoded(reply)
        assert _decoded(reply) == _decoded(direct)
        for name in (*SECURITY_HEADERS, "cache-control"):
            assert reply.header(name) == direct.header(name), name


@pytest.fixture
def doomed_files_stack(tmp_path_factory):
    """A stack with the site's files whose statements the test may withdraw."""
    running = Stack(tmp_path_factory.mktemp("doomed-files"), files=True)
    yield running
    running.stop()


def test_prepare_writes_the_header_includes_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE": str(tmp_path / "bulletin.sqlite3"), "SECRET_KEY": "deploy-test"})
    result = app.test_cli_runner().invoke(args=["prepare"])
    assert result.exit_code == 0, result.output
    maps = (tmp_path / nginx_headers.MAPS_FILE).read_text()
    headers = (tmp_path / nginx_headers.HEADERS_FILE).read_text()
    page = app.test_client().get("/")
    assert f'"{page.headers["Content-Security-Policy"]}"' in maps
    assert "add_header Content-Security-Policy $bulletin_file_content_security_policy;" in headers
    assert "text/html html;" in headers
