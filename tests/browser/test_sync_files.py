"""The worker syncs from /sync/index.json and the files it names, checks them, and falls back to /api/sync."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json

import pytest
from conftest import reconfigure

from bulletin.authoring import changes
from bulletin.statements import db

from . import harness

pytestmark = pytest.mark.browser

HEARD = "window.heard = []; navigator.serviceWorker.addEventListener('message', (e) => window.heard.push(e.data));"


def publish_some(server, count: int = 3) -> None:
    for n in range(count):
        server.publisher.publish(
            f"Statement {n}",
            f"<p>Text of statement number {n}.</p>",
            slug=f"s{n}",
            published=dt.date(2022, 1, n + 1),
        )


def stored_titles(page) -> list[str]:
    return sorted(page.evaluate("async () => (await OfflineStore.all()).map((r) => r.title)"))


def sync_hits(server, pattern: str) -> list[str]:
    return [hit for hit in server.hits if fnmatch.fnmatchcase(hit.split("?")[0], pattern)]


def index(server) -> dict:
    """The index's document: the payload of the signed envelope /sync/index.json serves."""
    return json.loads(server.app.test_client().get("/sync/index.json").get_json()["payload"])


def test_a_new_device_syncs_from_the_index_and_the_snapshot_alone(page, live_server, page_errors):
    publish_some(live_server)
    harness.ready_offline(page)
    assert stored_titles(page) == ["Statement 0", "Statement 1", "Statement 2"]
    snapshot = index(live_server)["snapshot"]["path"]
    assert sync_hits(live_server, "/sync/index.json")
    assert sync_hits(live_server, "/sync/*.json") == ["/sync/index.json", f"/sync/{snapshot}"]
    assert not sync_hits(live_server, "/api/sync")
    seq = index(live_server)["seq"]
    assert page.evaluate("async () => await OfflineStore.getMeta('cursor')").endswith(f".{seq}")
    page_errors.assert_clean()


def test_a_device_with_a_cursor_fetches_the_one_new_chunk(page, live_server):
    publish_some(live_server)
    harness.ready_offline(page)
    live_server.clear_hits()
    live_server.publisher.publish(
        "Fresh news", "<p>Just out.</p>", slug="fresh", published=dt.date(2022, 2, 1)
    )
    page.goto("/")
    harness.poll(page, "async () => !!(await OfflineStore.byUrl('/statements/fresh/'))")
    newest = index(live_server)["chunks"][-1]["path"]
    assert sync_hits(live_server, "/sync/*") == ["/sync/index.json", f"/sync/{newest}"]
    assert not sync_hits(live_server, "/api/sync")


def test_a_tampered_chunk_is_refused_whole_and_reported(context, page, live_server):
    publish_some(live_server)
    harness.ready_offline(page)
    cursor = page.evaluate("async () => await OfflineStore.getMeta('cursor')")
    live_server.publisher.publish("Genuine words", "<p>What was said.</p>", slug="genuine")

    def tamper(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.body().replace(b"Genuine", b"Doctored"))

    # The worker's own requests pass through the context's routes.
    context.route("**/sync/chunk-*", tamper)
    page.add_init_script(HEARD)
    page.goto("/")
    mismatch = harness.poll(page, "() => heard.find((m) => m.type === 'hash-mismatch')")
    assert mismatch["path"] == index(live_server)["chunks"][-1]["path"]
    assert not page.evaluate("async () => !!(await OfflineStore.byUrl('/statements/genuine/'))")
    assert "Doctored" not in str(harness.device_contents(page))
    assert page.evaluate("async () => await OfflineStore.getMeta('cursor')") == cursor


def test_without_an_index_the_worker_syncs_from_the_api(page, live_server, page_errors):
    publish_some(live_server)
    live_server.stub("/sync/index.json", '{"error": "none here"}', "application/json", status=404)
    harness.ready_offline(page)
    assert stored_titles(page) == ["Statement 0", "Statement 1", "Statement 2"]
    assert sync_hits(live_server, "/api/sync") and not sync_hits(live_server, "/sync/*-*.json")
    page_errors.assert_clean(allow=["404"])


def test_a_device_far_behind_reads_the_older_list_then_every_chunk_past_it(page, live_server):
    publish_some(live_server, 2)
    harness.ready_offline(page)
    connection = live_server.publisher.connection()
    try:
        # 2,100 publications in one transaction: the device's position falls before the index's chunks.
        with db.transaction(connection):
            for n in range(2_100):
                draft = changes.Draft(
                    f"Later {n}", f"<p>Later {n}.</p>", "html", published=dt.date(2023, 1, 1)
                )
                changes.create(connection, draft, changes.tool_context("editor@example.org"), publish=True)
    finally:
        connection.close()
    current = index(live_server)
    assert current["older"]["to"] == 1_000 and current["chunks"][0]["from"] >= 1_000
    live_server.clear_hits()
    page.goto("/")
    harness.poll(
        page,
        f"async () => (await OfflineStore.getMeta('cursor') || '').endsWith('.{current['seq']}')",
        timeout=30,
    )
    fetched = sync_hits(live_server, "/sync/*")
    assert fetched[:2] == ["/sync/index.json", f"/sync/{current['older']['path']}"]
    older = live_server.app.test_client().get(f"/sync/{current['older']['path']}").get_json()["chunks"]
    # Every chunk once, in order: all of them lie past the device's position (2).
    assert fetched[2:] == [f"/sync/{chunk['path']}" for chunk in older + current["chunks"]]
    assert not sync_hits(live_server, "/api/sync")


def test_after_a_sync_by_the_api_the_files_start_from_the_snapshot_and_store_nothing_twice(page, live_server):
    publish_some(live_server)
    live_server.stub("/sync/index.json", "{}", "application/json", status=404)
    harness.ready_offline(page)  # synced by /api/sync
    live_server.unstub("/sync/index.json")
    live_server.clear_hits()
    live_server.publisher.publish(
        "Fresh news", "<p>Just out.</p>", slug="fresh", published=dt.date(2022, 2, 1)
    )
    page.goto("/")
    harness.poll(page, "async () => !!(await OfflineStore.byUrl('/statements/fresh/'))")
    # The signed index names its timeline by the database and its epoch number, which the
    # API's cursor does not carry: the device starts from the snapshot. What it holds already
    # (no newer by epoch and sequence) is left as it is.
    assert sync_hits(live_server, "/sync/*") == [
        "/sync/index.json",
        f"/sync/{index(live_server)['snapshot']['path']}",
    ]
    assert stored_titles(page) == ["Fresh news", "Statement 0", "Statement 1", "Statement 2"]


def test_a_sync_whose_index_never_answers_ends_after_the_sync_timeout_and_the_next_completes(
    context, page, live_server, app
):
    """A connection that never answers (a censor's black hole) ends the sync after the sync timeout:
    the page hears the device is offline, and the next sync is not held behind the first."""
    reconfigure(app, SYNC_TIMEOUT=3.0)
    publish_some(live_server)
    page.add_init_script(HEARD)
    harness.ready_offline(page)
    live_server.publisher.publish(
        "Fresh news", "<p>Just out.</p>", slug="fresh", published=dt.date(2022, 2, 1)
    )
    held: list = []
    # Kept, never answered: the index, then the API the worker falls back to.
    for pattern in ("**/sync/index.json", "**/api/sync?*"):
        context.route(pattern, lambda route: held.append(route.request.url))

    def check() -> dict:
        page.evaluate("() => { window.heard = []; }")
        page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync', check: true })")
        return harness.poll(
            page, "() => window.heard.find((m) => m.checked)", timeout=30, message="the check's answer"
        )

    assert check()["online"] is False
    assert {tuple(url.split("?")[0].rsplit("/", 2)[-2:]) for url in held} == {
        ("sync", "index.json"),
        ("api", "sync"),
    }
    context.unroute_all()
    assert check()["online"] is True
    assert "Fresh news" in stored_titles(page)
