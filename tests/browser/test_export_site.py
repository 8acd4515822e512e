"""The static export, served by `python -m http.server` on another port (another origin), under a sub-path.

The app is not running: the folder is all there is. A reader's first visit
installs the worker, which syncs the statements from the sync files; with
the server stopped, a statement the reader never opened reads from the
device. A search runs on the device, and a list's "Older" page is built
there: the host answers both with a page that ignores the query. Chromium
finds the export installable.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import reconfigure

from . import harness

pytestmark = pytest.mark.browser

SUB = "sub"
BODIES = {
    "release": "Free Ana Petrova now. She reported what she saw in the square.",
    "water": "The pumps stopped on Monday and the district has no water.",
    "radio": "The community radio must be allowed back on the air.",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StaticServer:
    """``python -m http.server`` serving ``folder`` on 127.0.0.1:``port``; its log names every path asked for."""

    def __init__(self, folder: Path, port: int, log: Path):
        self.folder, self.port, self.log = folder, port, log
        self.process = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1"],
                cwd=self.folder,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1).close()
                return
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # polling interval while the server starts; bounded by the deadline

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def asked(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def exported(app, publisher, runner, tmp_path):
    """The site exported for http://127.0.0.1:<port>/sub/ into <tmp>/served/sub, and a server for it (stopped).

    Two statements a page: the home page has an "Older" page, which a static host cannot serve.
    """
    reconfigure(app, PAGE_SIZE=2)
    for day, (slug, text) in enumerate(BODIES.items(), start=1):
        publisher.publish(
            slug.title(), f"<p>{text}</p>", slug=slug, tags=["press"], published=dt.date(2022, 1, day)
        )
    port = free_port()
    served = tmp_path / "served"
    result = runner.invoke(
        args=["export", str(served / SUB), "--base-url", f"http://127.0.0.1:{port}/{SUB}/"]
    )
    assert result.exit_code == 0, result.output
    server = StaticServer(served, port, tmp_path / "http.log")
    server.start()
    yield server
    server.stop()


def test_an_export_on_another_origin_installs_syncs_from_files_and_reads_offline(
    browser, exported, installability
):
    home = f"http://127.0.0.1:{exported.port}/{SUB}/"
    context = browser.new_context(service_workers="allow")
    try:
        page = context.new_page()
        errors = harness.collect_errors(page)
        harness.ready_offline(page, home)
        scope = page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).scope")
        assert scope == home
        # Every statement came from the sync files (no app here to answer /api/sync).
        stored = harness.device_contents(page)["records"]
        for text in BODIES.values():
            assert any(text in record for record in stored), text
        asked = exported.asked()
        assert f"GET /{SUB}/sync/index.json" in asked and f"GET /{SUB}/sync/snapshot-" in asked
        assert "/api/sync" not in asked
        assert installability(home) == []

        # "Older": the host would answer the first page again; the worker builds it from the device.
        page.goto(home)
        with page.expect_navigation():
            page.click("a[rel=next]")
        assert "?page=2" in page.url or "before=" in page.url
        assert "Release" in page.inner_text("ol.statements")
        assert "Radio" not in page.inner_text("ol.statements")

        # Search, online: the host answers search/?q= with the search page; the device searches.
        page.goto(f"{home}search/?q=pumps")
        assert "search runs on your device" in page.inner_text("main")
        harness.poll(
            page,
            "() => document.querySelectorAll('#device-search li').length > 0",
            message="the device's search results",
        )
        assert page.inner_text("#device-search li h2") == "Water"

        exported.stop()
        for slug, text in BODIES.items():  # never opened: built on the device from the synced record
            page.goto(f"{home}statements/{slug}/")
            assert text in page.inner_text("main"), slug
        errors.assert_clean(allow=[r"net::ERR_CONNECTION_REFUSED", r"Failed to load resource"])
    finally:
        context.close()
