""" "Make a bundle from this device": a device that synced a signed site, offline, writes a bundle of its
own stored envelopes; the file verifies against the pinned root, is the page ``flask bundle`` makes, and
opens from ``file://`` with no network showing the statements and running nothing of them."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from conftest import device_with_keys

from . import harness
from .test_bundle_file import HOSTILE_BODY, HOSTILE_TITLE, shown

pytestmark = pytest.mark.browser

DATA_BLOCK = re.compile(r'(.*<script type="application/json" id="bulletin-bundle">)(.*?)(</script>.*)', re.S)
HEARD = "window.heard = []; navigator.serviceWorker.addEventListener('message', (e) => window.heard.push(e.data));"
STORED = "async () => (await OfflineStore.all()).map((r) => ({id: r.id, title: r.title, signed: r.signed}))"


def synced_device(page, count: int) -> list[dict]:
    """A reader's first visit, until the device holds ``count`` records and the index it verified."""
    page.add_init_script(HEARD)
    harness.ready_offline(page)
    harness.poll(
        page,
        "async (n) => (await OfflineStore.all()).length === n && !!(await OfflineStore.getMeta('signedIndex'))",
        count,
        message=f"{count} records and the verified index on the device",
    )
    return page.evaluate(STORED)


def sync_again(page) -> None:
    """One more sync, online, waited for to its end."""
    page.evaluate("() => { window.heard.length = 0; }")
    page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync', check: true })")
    harness.poll(page, "() => window.heard.some((m) => m.checked)", message="the sync's end")


def make_bundle(page, tmp_path):
    """Press the button on the offline page; the downloaded file's path and name, and the status said."""
    button = page.get_by_role("button", name="Make a bundle from this device")
    with page.expect_download() as download:
        button.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    harness.poll(page, "() => document.getElementById('device-bundle-status').textContent !== ''")
    return saved, page.inner_text("#device-bundle-status")


def data_of(text: str) -> dict:
    return json.loads(DATA_BLOCK.fullmatch(text)[2])


def test_a_device_bundles_its_own_envelopes_offline_and_they_verify(
    app, context, page, live_server, test_keys, tmp_path, offline_page
):
    publisher = live_server.publisher
    release = publisher.publish(
        "Release the journalist", "<p>Free her now.</p>", published=dt.date(2022, 1, 9)
    )
    water = publisher.publish(
        "Water for the district", "<p>The pumps stopped.</p>", published=dt.date(2022, 1, 8)
    )
    gone = publisher.publish("Gone", "<p>Withdrawn words.</p>", published=dt.date(2022, 1, 7))
    synced_device(page, 3)
    publisher.withdraw(gone, "Published in error.")  # reaches the device that holds it as a signed withdrawal
    sync_again(page)
    harness.poll(page, "async () => (await OfflineStore.all()).some((r) => r.withdrawn)")
    held = {r["id"]: r for r in page.evaluate(STORED)}

    harness.go_offline(context)
    page.goto("/offline/")
    saved, said = make_bundle(page, tmp_path)
    assert re.fullmatch(r"bulletin-\d{4}-\d{2}-\d{2}\.html", saved.name)
    assert said == f"Bundle made: {saved.name}. Statements in it: 3."
    text = saved.read_text("utf-8")
    data = data_of(text)
    assert list(data) == ["format", "keys", "index", "mirrors", "records"]
    assert data["format"] == "bulletin-bundle/1" and data["mirrors"] is None
    assert "<" not in DATA_BLOCK.fullmatch(text)[2]
    # The device's own envelopes as received, newest first: the server's signed bytes, the withdrawal's too.
    assert data["records"] == [held[release]["signed"], held[water]["signed"], held[gone]["signed"]]
    server = live_server.app.test_client()
    served = {s["id"]: s["signed"] for s in server.get("/api/sync?limit=50").get_json()["statements"]}
    assert data["records"][:2] == [served[release], served[water]]
    assert data["keys"] == server.get("/keys.json").get_json()
    assert data["index"] == page.evaluate("async () => await OfflineStore.getMeta('signedIndex')")

    # Every record verifies with the pinned root alone (and the keys and index the file carries).
    device = device_with_keys(test_keys.root_public, data["keys"])
    assert device.accept_index(data["index"])["type"] == "sync-index"
    records = [device.accept_record(envelope) for envelope in data["records"]]
    assert [(r["title"], r["type"]) for r in records] == [
        ("Release the journalist", "statement"),
        ("Water for the district", "statement"),
        ("Gone", "withdrawal"),
    ]
    assert records[2]["id"] == gone and records[2]["reason"] == "Published in error."

    # The page `flask bundle` makes, around other data: the same viewer, style, CSP and words.
    out = tmp_path / "server.html"
    result = app.test_cli_runner().invoke(args=["bundle", str(out)])
    assert result.exit_code == 0, result.output
    server_parts = DATA_BLOCK.fullmatch(out.read_text("utf-8"))
    device_parts = DATA_BLOCK.fullmatch(text)
    assert (device_parts[1], device_parts[3]) == (server_parts[1], server_parts[3])

    # Opened from a file with no network at all: the statements, nothing asked of any server.
    reader, asked, dialogs, errors = offline_page
    reader.goto(saved.as_uri())
    harness.poll(
        reader, "document.querySelectorAll('section.record').length === 3", message="every record shown"
    )
    found = shown(reader)
    assert found["contents"] == ["Release the journalist", "Water for the district", "Gone"]
    assert "Free her now." in found["text"] and "Withdrawn words." not in found["text"]
    assert asked == [] and dialogs == []
    errors.assert_clean()


def test_hostile_statements_stay_data_in_a_file_made_on_the_device(
    context, page, live_server, tmp_path, offline_page
):
    live_server.publisher.publish(HOSTILE_TITLE, HOSTILE_BODY, published=dt.date(2022, 1, 9))
    live_server.publisher.publish(
        "Water for the district", "<p>The pumps stopped.</p>", published=dt.date(2022, 1, 8)
    )
    synced_device(page, 2)
    harness.go_offline(context)
    page.goto("/offline/")
    saved, _ = make_bundle(page, tmp_path)
    assert "<" not in DATA_BLOCK.fullmatch(saved.read_text("utf-8"))[2]

    reader, asked, dialogs, errors = offline_page
    reader.goto(saved.as_uri())
    harness.poll(reader, "document.querySelectorAll('section.record').length === 2", message="both shown")
    found = shown(reader)
    assert found["contents"] == [HOSTILE_TITLE, "Water for the district"]
    assert "Before the script." in found["text"] and "After the script." in found["text"]
    assert found["scripts"] == 2 and found["active"] == 0
    assert dialogs == [] and asked == []
    errors.assert_clean()


@pytest.mark.unsigned
def test_a_device_of_a_site_without_keys_says_why_and_makes_no_file(context, page, live_server):
    live_server.publisher.publish("Release the journalist", "<p>Free her now.</p>")
    page.add_init_script(HEARD)
    harness.ready_offline(page)
    harness.poll(page, "async () => (await OfflineStore.all()).length === 1")
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    harness.go_offline(context)
    page.goto("/offline/")
    page.get_by_role("button", name="Make a bundle from this device").click()
    said = harness.poll(page, "() => document.getElementById('device-bundle-status').textContent")
    assert (
        said == "The statements on this device are not signed by the site, so they cannot go into a bundle."
    )
    assert downloads == []


def test_a_device_that_synced_by_the_api_bundles_with_no_index(
    context, page, live_server, test_keys, tmp_path
):
    """No sync files where the device looked (an older site, a blocked path): /api/sync served it, and
    /keys.json its keys. The file's index is null; its records verify with the keys it carries."""
    context.route("**/sync/index.json", lambda route: route.fulfill(status=404))
    live_server.publisher.publish("Release the journalist", "<p>Free her now.</p>")
    page.add_init_script(HEARD)
    harness.ready_offline(page)
    harness.poll(page, "async () => !!(await OfflineStore.getMeta('signedKeys'))", message="the keys kept")
    assert page.evaluate("async () => await OfflineStore.getMeta('signedIndex')") is None
    harness.go_offline(context)
    page.goto("/offline/")
    saved, _ = make_bundle(page, tmp_path)
    data = data_of(saved.read_text("utf-8"))
    assert data["index"] is None and data["mirrors"] is None
    device = device_with_keys(test_keys.root_public, data["keys"])
    assert [device.accept_record(e)["title"] for e in data["records"]] == ["Release the journalist"]

    # A device that kept no keys (it last synced before it kept them) says so, and makes nothing.
    page.evaluate("async () => await OfflineStore.setMeta('signedKeys', undefined)")
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    page.evaluate("() => { document.getElementById('device-bundle-status').textContent = ''; }")
    page.get_by_role("button", name="Make a bundle from this device").click()
    said = harness.poll(page, "() => document.getElementById('device-bundle-status').textContent")
    assert said.startswith("This device does not have the site’s keys yet.") and downloads == []


# Web Share with files, as Android offers it (headless Chromium has none): what is shared is recorded.
SHARE_SHEET = """
navigator.canShare = (data) => Boolean(data && data.files && data.files.length === 1);
navigator.share = async (data) => {
  const file = data.files[0];
  window.shared = { name: file.name, type: file.type, text: await file.text() };
};
"""


def test_where_the_platform_shares_files_the_file_made_is_offered_to_share(
    context, page, live_server, tmp_path
):
    live_server.publisher.publish("Release the journalist", "<p>Free her now.</p>")
    synced_device(page, 1)
    harness.go_offline(context)
    page.goto("/offline/")
    share = page.get_by_role("button", name="Share the file")
    assert share.is_hidden()  # no Web Share here: the download alone
    page.add_init_script(SHARE_SHEET)
    page.reload()
    assert share.is_hidden()  # nothing made yet
    saved, _ = make_bundle(page, tmp_path)
    share.click()
    shared = harness.poll(page, "() => window.shared", message="the file shared")
    assert shared == {"name": saved.name, "type": "text/html", "text": saved.read_text("utf-8")}
    violations = harness.axe_violations(page, context="#device-bundle")
    assert not violations, harness.format_axe(violations)
