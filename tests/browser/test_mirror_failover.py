"""When the origin is blocked or lies, the installed app syncs from a mirror, verifies it, and says so.

The mirror is an ``export`` of the site served by Python's static HTTP server
on another port (another origin), with ``Access-Control-Allow-Origin: *`` on
what the export's ``_headers`` opens to every origin (the sync files,
``keys.json``, ``mirrors.json``). The origin is blocked with the context's
routes, which catch the worker's own requests too; a forged index is
fulfilled the same way. ``BULLETIN_NETWORK_TIMEOUT`` is raised a little, so
that a busy machine's slow origin is not mistaken for a blocked one.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import reconfigure

from bulletin.signing import envelopes, keyring, keys

from . import harness

pytestmark = pytest.mark.browser

HEARD = "window.heard = []; navigator.serviceWorker.addEventListener('message', (e) => window.heard.push(e.data));"
STATE = "async () => await OfflineStore.getMeta('verifier')"
SOURCE = "async () => await OfflineStore.getMeta('syncSource')"
TITLES = "async () => (await OfflineStore.all()).map((r) => r.title)"
# The most a flooding mirror sends: far more than any sync file of these tests.
FLOOD_BYTES = 256 * 1024 * 1024
# Paths the export's _headers opens to every origin.
OPEN_TO_ALL = ("/sync/", "/keys.json", "/mirrors.json")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mirror:
    """An export of the site in ``folder``, served on 127.0.0.1 by Python's static server (once started).

    A slow or stalling copy on demand: ``slow(prefix, seconds)`` waits that
    long before answering any path under the prefix; ``stall_once(prefix)``
    sends the first such answer's headers and half its body, then nothing
    more until the mirror stops (a connection a censor throttles to zero);
    ``flood_once(prefix)`` answers the first such request with spaces without
    end (up to :data:`FLOOD_BYTES`, or until the reader hangs up), counted in
    ``flooded``.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.asked: list[str] = []
        self.server = None
        self.delays: dict[str, float] = {}
        self.stalls: set[str] = set()
        self.floods: set[str] = set()
        self.flooded = 0
        self.flood_ended = threading.Event()
        self.released = threading.Event()

    def export(self, runner) -> None:
        result = runner.invoke(args=["export", str(self.folder), "--base-url", self.url])
        assert result.exit_code == 0, result.output

    def slow(self, prefix: str, seconds: float) -> None:
        self.delays[prefix] = seconds

    def stall_once(self, prefix: str) -> None:
        self.stalls.add(prefix)

    def flood_once(self, prefix: str) -> None:
        self.floods.add(prefix)

    @staticmethod
    def _once(prefixes: set[str], path: str) -> bool:
        for prefix in list(prefixes):
            if path.startswith(prefix):
                prefixes.discard(prefix)
                return True
        return False

    def _flood(self, handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()  # no length: the body ends when the connection does
        block = b" " * 65536
        try:
            while self.flooded < FLOOD_BYTES and not self.released.is_set():
                handler.wfile.write(block)
                self.flooded += len(block)
        finally:
            self.flood_ended.set()
            handler.close_connection = True

    def start(self) -> None:
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                time.sleep(max((s for p, s in mirror.delays.items() if self.path.startswith(p)), default=0))
                if mirror._once(mirror.floods, self.path):
                    mirror._flood(self)
                    return
                if not mirror._once(mirror.stalls, self.path):
                    super().do_GET()
                    return
                found = self.send_head()
                if found is not None:
                    with found:
                        data = found.read()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    mirror.released.wait(60)

            def end_headers(self):
                mirror.asked.append(self.path)
                if self.path.startswith(OPEN_TO_ALL):
                    self.send_header("Access-Control-Allow-Origin", "*")
                super().end_headers()

            def handle_one_request(self):
                try:
                    super().handle_one_request()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker gave up on a slow or stalled answer: it is meant to

            def log_message(self, *args):
                pass  # quiet

        handler = functools.partial(Handler, directory=str(self.folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def mirror(app, tmp_path):
    served = Mirror(tmp_path / "mirror")
    # Slow enough for a busy machine's origin; the sync's patience kept short for the stalls below.
    reconfigure(app, MIRRORS=(served.url,), NETWORK_TIMEOUT=3.0, SYNC_TIMEOUT=8.0)
    yield served
    served.stop()


@pytest.fixture
def installed(mirror, live_server, page):
    """A device that installed the app at the origin and holds the signed mirror list."""
    live_server.publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release")
    live_server.publisher.publish("Water for the district", "<p>The pumps stopped.</p>", slug="water")
    page.add_init_script(HEARD)
    harness.ready_offline(page, "/")
    state = harness.poll(page, f"async () => {{ const s = await ({STATE})(); return s && s.mirrors && s; }}")
    assert json.loads(state["mirrors"][1])["mirrors"] == [mirror.url]
    return page


def block_origin(context, live_server) -> str:
    """Abort every request to the origin, the worker's included; the pattern, to unroute."""
    pattern = f"{live_server.url}/**"
    context.route(pattern, lambda route: route.abort("connectionrefused"))
    return pattern


def published_after(live_server, mirror, runner, title="Curfew lifted") -> None:
    live_server.publisher.publish(title, "<p>The curfew ends tonight.</p>", slug="curfew")
    mirror.export(runner)
    mirror.start()


def status(page) -> str:
    return page.inner_text("#app-status")


def wait_for_mirror_word(page, timeout: float = 10.0) -> str:
    return harness.poll(
        page,
        "() => document.getElementById('app-status').textContent.includes('via mirror') "
        "&& document.getElementById('app-status').textContent",
        timeout=timeout,
        message="the word that a mirror served the sync",
    )


def test_the_origin_blocked_the_app_syncs_from_the_mirror_says_so_and_goes_back_when_it_answers(
    context, installed, live_server, mirror, runner, page_errors
):
    page = installed
    pattern = block_origin(context, live_server)
    published_after(live_server, mirror, runner)
    page.goto("/")  # answered by the worker from the device; the page asks for a sync
    assert wait_for_mirror_word(page) == "Updated just now via mirror 1 of 1"
    harness.poll(page, f"async () => (await ({TITLES})()).includes('Curfew lifted')")
    assert "/sync/index.json" in mirror.asked
    assert page.evaluate(SOURCE)["mirror"] == mirror.url
    # Nothing is wrong with the device, and it is not offline: the news came, from elsewhere.
    assert page.is_hidden("#offline-banner")
    assert "Refused" not in status(page)
    # A later page still says where the last news came from.
    page.goto("/offline/")
    assert "via mirror 1 of 1" in wait_for_mirror_word(page)
    assert "Curfew lifted" in page.inner_text("#offline-statements")
    # The precached offline page lists the mirrors' addresses, to open in a browser.
    assert page.get_attribute("ul.mirrors a", "href") == mirror.url

    # The origin answers again: the next sync is the origin's.
    context.unroute(pattern)
    before = len(live_server.hits_for("/sync/index.json"))
    page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync', check: true })")
    harness.poll(
        page, f"async () => (await ({SOURCE})()).mirror === null", message="the origin serving again"
    )
    assert len(live_server.hits_for("/sync/index.json")) > before
    page_errors.assert_clean(allow=["ERR_CONNECTION_REFUSED", "Failed to fetch", "Failed to load resource"])


def test_a_forged_origin_index_is_refused_and_the_mirror_used_without_alarming_the_reader(
    context, installed, live_server, mirror, runner
):
    page = installed
    genuine = live_server.app.test_client().get("/sync/index.json").get_json()
    raw = bytearray(keys.b64url_decode(genuine["sig"]))
    raw[5] ^= 1
    forged = dict(genuine, sig=keys.b64url(bytes(raw)))
    context.route(f"{live_server.url}/sync/index.json", lambda route: route.fulfill(status=200, json=forged))
    published_after(live_server, mirror, runner)
    page.goto("/")
    assert wait_for_mirror_word(page) == "Updated just now via mirror 1 of 1"
    harness.poll(page, f"async () => (await ({TITLES})()).includes('Curfew lifted')")
    # The device counted the forgery; the reader is told only where the news came from.
    assert page.evaluate(STATE)["refused"].get("bad-signature") == 1
    assert page.get_attribute("#app-status", "data-refused") is None
    assert page.is_hidden("#offline-banner")


def _online_key(app):
    return keyring.signer(app.config["KEYS_DIR"], dt.datetime.now(dt.UTC)).key


def test_a_replayed_older_mirror_list_is_ignored_and_one_signed_by_another_key_refused(
    context, installed, live_server, app
):
    page = installed
    held = page.evaluate(STATE)["mirrors"]
    genuine = json.loads(app.test_client().get("/sync/index.json").get_json()["payload"])

    def index_carrying(mirror_list):
        served = envelopes.sign(dict(genuine, mirrors=mirror_list), _online_key(app))
        context.route(f"{live_server.url}/sync/index.json", lambda route: route.fulfill(json=served))

    def listing(key, seq):
        document = dict(json.loads(held[1]), seq=seq, mirrors=["http://127.0.0.1:9/"])
        return envelopes.sign(document, key)

    def synced_again():
        page.evaluate("() => { window.heard = []; }")
        page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync', check: true })")
        harness.poll(page, "() => window.heard.some((m) => m.checked)", message="the check's answer")

    # Replayed: an older list, validly signed. Ignored, and nothing said.
    index_carrying(listing(_online_key(app), held[0] - 1))
    synced_again()
    assert page.evaluate(STATE)["mirrors"] == held
    assert not any(m.get("type") == "refused" for m in page.evaluate("() => window.heard"))

    # A newer list signed by a key the root never certified: refused.
    context.unroute(f"{live_server.url}/sync/index.json")
    index_carrying(listing(keys.generate(), held[0] + 1))
    synced_again()
    assert page.evaluate(STATE)["mirrors"] == held
    report = harness.poll(page, "() => window.heard.find((m) => m.type === 'refused')")
    assert report["reasons"] == {"unknown-key": 1}


def test_a_device_that_first_visited_the_mirror_pins_the_same_root_and_reads_offline(
    browser, live_server, mirror, runner, test_keys
):
    live_server.publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release")
    published_after(live_server, mirror, runner)
    context = browser.new_context(service_workers="allow")
    try:
        page = context.new_page()
        harness.ready_offline(page, mirror.url)
        state = page.evaluate(STATE)
        assert state["root"] == keys.b64url(test_keys.root_public)
        assert "/sync/index.json" in mirror.asked
        mirror.stop()
        page.goto(f"{mirror.url}statements/curfew/")  # never opened: built on the device
        assert "The curfew ends tonight." in page.inner_text("main")
    finally:
        context.close()


def test_a_mirror_frozen_in_the_past_is_passed_over_for_one_that_is_current(
    app, context, page, live_server, runner, tmp_path
):
    frozen, current = Mirror(tmp_path / "frozen"), Mirror(tmp_path / "current")
    reconfigure(app, MIRRORS=(frozen.url, current.url), NETWORK_TIMEOUT=3.0)
    try:
        live_server.publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release")
        frozen.export(runner)  # a copy made once and never kept current
        frozen.start()
        live_server.publisher.publish("Water for the district", "<p>The pumps stopped.</p>", slug="water")
        page.add_init_script(HEARD)
        harness.ready_offline(page, "/")  # the device verified an index newer than the frozen copy's
        block_origin(context, live_server)
        published_after(live_server, current, runner)
        page.goto("/")
        assert wait_for_mirror_word(page) == "Updated just now via mirror 2 of 2"
        harness.poll(page, f"async () => (await ({TITLES})()).includes('Curfew lifted')")
        assert "/sync/index.json" in frozen.asked  # tried first, in the list's order, and passed over
        state = page.evaluate(STATE)
        assert state["refused"].get("rollback") == 1
        assert page.get_attribute("#app-status", "data-refused") is None

        # The next sync tries the mirror that worked last first: the frozen copy is not asked again.
        frozen.asked.clear()
        asked_before = current.asked.count("/sync/index.json")
        page.evaluate("() => { window.heard = []; }")
        page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync', check: true })")
        harness.poll(page, "() => window.heard.some((m) => m.checked)", message="the check's answer")
        assert current.asked.count("/sync/index.json") > asked_before
        assert "/sync/index.json" not in frozen.asked
    finally:
        frozen.stop()
        current.stop()


def test_an_origin_that_never_answers_is_given_the_network_timeout_then_the_mirror_serves(
    context, installed, live_server, mirror, runner
):
    page = installed
    held: list = []
    # A black hole: the request is kept and never answered (let go when the context closes).
    context.route(f"{live_server.url}/sync/index.json", lambda route: held.append(route))
    published_after(live_server, mirror, runner)
    page.goto("/")
    assert wait_for_mirror_word(page) == "Updated just now via mirror 1 of 1"
    assert held, "the origin's index was asked for first"
    harness.poll(page, f"async () => (await ({TITLES})()).includes('Curfew lifted')")


def test_a_mirror_slower_than_the_network_timeout_serves_when_tried_again_patiently(
    context, installed, live_server, mirror, runner
):
    """A slow link is not a blocked one: the mirror's index takes 5 s, past the network timeout (3 s)
    and within the sync timeout (8 s). Passed over at first, it serves when tried again."""
    page = installed
    block_origin(context, live_server)
    mirror.slow("/sync/index.json", 5.0)
    published_after(live_server, mirror, runner)
    page.goto("/")
    assert wait_for_mirror_word(page, timeout=40) == "Updated just now via mirror 1 of 1"
    harness.poll(page, f"async () => (await ({TITLES})()).includes('Curfew lifted')")
    assert mirror.asked.count("/sync/index.json") >= 2


def test_a_mirror_that_stalls_mid_file_is_given_up_after_the_sync_timeout_and_tried_again(
    context, installed, live_server, mirror, runner
):
    """The chunk's headers and half its body come, then nothing: after the sync timeout (8 s) without a
    byte the attempt ends, and the mirror tried again serves the chunk whole."""
    page = installed
    block_origin(context, live_server)
    mirror.stall_once("/sync/chunk-")
    published_after(live_server, mirror, runner)
    page.goto("/")
    assert wait_for_mirror_word(page, timeout=40) == "Updated just now via mirror 1 of 1"
    harness.poll(page, f"async () => (await ({TITLES})()).includes('Curfew lifted')")
    chunks = [path for path in mirror.asked if path.startswith("/sync/chunk-")]
    assert len(chunks) == 2 and chunks[0] == chunks[1]
    assert "Refused" not in status(page)


def test_a_mirror_sending_a_file_without_end_is_cut_off_at_the_size_its_index_gives(
    context, installed, live_server, mirror, runner
):
    """A hostile copy answers the chunk with bytes without end: the worker stops reading past the size the
    signed index gives and refuses the file, so the phone's memory holds a few kilobytes, not the flood."""
    page = installed
    block_origin(context, live_server)
    mirror.flood_once("/sync/chunk-")
    published_after(live_server, mirror, runner)
    page.goto("/")
    refused = harness.poll(page, "() => window.heard.find((m) => m.type === 'hash-mismatch')", timeout=30)
    assert refused["path"].startswith("chunk-")
    harness.wait_until(page, mirror.flood_ended.is_set, timeout=30, message="the reader hanging up")
    # The socket buffers between the two take a few megabytes; the rest was never sent.
    assert mirror.flooded < 64 * 1024 * 1024, mirror.flooded
    # The copy mended, the next sync takes the chunk from it.
    page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync', check: true })")
    assert wait_for_mirror_word(page, timeout=30) == "Updated just now via mirror 1 of 1"
    harness.poll(page, f"async () => (await ({TITLES})()).includes('Curfew lifted')")


def test_a_mirror_sending_an_index_without_end_is_cut_off_and_passed_over(
    context, installed, live_server, mirror, runner
):
    """The same flood in place of the index: read no further than 1 MiB, the copy passed over."""
    page = installed
    block_origin(context, live_server)
    mirror.flood_once("/sync/index.json")
    published_after(live_server, mirror, runner)
    page.goto("/")
    harness.wait_until(page, mirror.flood_ended.is_set, timeout=30, message="the reader hanging up")
    assert mirror.flooded < 64 * 1024 * 1024, mirror.flooded
    page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync', check: true })")
    assert wait_for_mirror_word(page, timeout=30) == "Updated just now via mirror 1 of 1"
    harness.poll(page, f"async () => (await ({TITLES})()).includes('Curfew lifted')")
