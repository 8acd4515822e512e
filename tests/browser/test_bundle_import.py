"""Importing a bundle in the installed app: picked, dropped or shared, verified on the device.

The live server signs with the tests' keys; bundles are made by ``flask
bundle`` (and doctored here as anyone could doctor a file passed from hand
to hand). The device installed the app before these statements existed,
then the network is cut: everything a bundle brings is verified against the
root the device pinned, refused with the verifier's reason codes where it does not
verify, and read offline with who signed it.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from bulletin.signing import envelopes, keys

from . import harness

pytestmark = pytest.mark.browser

DATA_BLOCK = re.compile(r'(<script type="application/json" id="bulletin-bundle">)(.*?)(</script>)', re.S)
VERIFIER = "async () => await OfflineStore.getMeta('verifier')"
CURSOR = "async () => await OfflineStore.getMeta('cursor')"
RESULT = "() => { const r = document.getElementById('import-result'); return r && r.textContent && !r.textContent.startsWith('Checking') && r.textContent; }"


def make_bundle(app, out, *options) -> str:
    """A bundle written by ``flask bundle``; its text."""
    result = app.test_cli_runner().invoke(args=["bundle", str(out), *options])
    assert result.exit_code == 0, result.output
    return out.read_text("utf-8")


def data_of(text: str) -> dict:
    return json.loads(DATA_BLOCK.search(text)[2])


def with_data(text: str, data: dict) -> str:
    """The bundle's text with another data block, written as the format writes it."""
    written = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    prefix, _, suffix = DATA_BLOCK.search(text).groups()
    return DATA_BLOCK.sub(lambda _: prefix + written + suffix, text, count=1)


def import_file(page, path) -> str:
    """Pick ``path`` with the offline page's file picker; the report's words."""
    page.set_input_files("#bundle-file", str(path))
    return harness.poll(page, RESULT, message="the import's report")


def refused_codes(page) -> str:
    return page.evaluate("() => document.getElementById('import-result').dataset.refused || ''")


def stored(page) -> dict:
    return {r["slug"]: r for r in page.evaluate("async () => await OfflineStore.all()")}


@pytest.fixture
def installed(live_server, context, page, test_keys):
    """A device where the app is installed (worker in control, first sync done) before anything is published."""
    harness.ready_offline(page, "/")
    return page


def open_offline_page(page, context) -> None:
    """The network cut for the page and the worker; the offline page as the worker keeps it."""
    harness.go_offline(context)
    page.goto("/offline/")
    harness.poll(page, "() => !document.getElementById('import').hidden", message="the import section")


def test_an_installed_app_with_no_network_imports_a_bundle_that_reads_offline_signed(
    app, live_server, installed, context, test_keys, tmp_path, page_errors
):
    page = installed
    publisher = live_server.publisher
    publisher.publish("Water for the district", "<p>The pumps stopped on Monday.</p>", slug="water")
    publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release")
    bundle = tmp_path / "bundle.html"
    make_bundle(app, bundle)
    open_offline_page(page, context)
    assert stored(page) == {}  # the device holds none of them
    before = page.evaluate(VERIFIER)
    cursor = page.evaluate(CURSOR)

    assert import_file(page, bundle) == "Imported 2 statements."
    assert refused_codes(page) == ""
    kept = stored(page)
    assert set(kept) == {"water", "release"}
    assert all(record["pinned"] for record in kept.values())  # saved: no budget evicts them
    envelope = kept["water"]["signed"]
    assert envelope in data_of(bundle.read_text("utf-8"))["records"]  # stored as received
    # The lists of the page show them, among the saved ones too.
    harness.poll(
        page,
        "() => document.getElementById('saved-statements').textContent.includes('Water for the district')",
    )
    # Not a sync: no index taken, so the trusted time and the newest index stay as they were.
    after = page.evaluate(VERIFIER)
    assert (after["newestIndex"], after["trustedTime"]) == (before["newestIndex"], before["trustedTime"])
    assert page.evaluate(CURSOR) == cursor

    page.goto("/statements/water/")
    assert "The pumps stopped on Monday." in page.inner_text("main")
    signed_by = page.inner_text(".signed-by")
    assert f"Signed by key {envelope['kid']}" in signed_by
    assert keys.fingerprint(test_keys.root_public) in signed_by  # the one /about shows
    page_errors.assert_clean(allow=["ERR_INTERNET_DISCONNECTED", "Failed to fetch"])


def test_records_that_do_not_verify_are_refused_with_their_reasons_and_the_rest_imported(
    app, live_server, installed, context, test_keys, tmp_path
):
    page = installed
    publisher = live_server.publisher
    for slug in ("one", "two", "three"):
        publisher.publish(f"Statement {slug}", f"<p>Text {slug}.</p>", slug=slug)
    text = make_bundle(app, tmp_path / "made.html")
    data = data_of(text)
    one, two, three = sorted(data["records"], key=lambda e: json.loads(e["payload"])["slug"] != "one")
    kid = one["kid"]
    stranger = keys.generate()
    tampered = dict(two, payload=two["payload"].replace("<p>Text", "<p>Changed text"))
    forged_document = json.loads(three["payload"]) | {"id": "forged", "slug": "forged", "title": "Forged"}
    forged = dict(envelopes.sign(forged_document, stranger), kid=kid)  # claims the publisher's key
    unknown = envelopes.sign(forged_document | {"id": "stranger", "slug": "stranger"}, stranger)
    data["records"] = [one, tampered, forged, unknown, three]
    doctored = tmp_path / "doctored.html"
    doctored.write_text(with_data(text, data), "utf-8")
    open_offline_page(page, context)

    report = import_file(page, doctored)
    assert report == "Imported 2 statements. Refused 3 updates that could not be verified."
    assert refused_codes(page) == "bad-signature unknown-key"
    kept = stored(page)
    assert set(kept) == {json.loads(one["payload"])["slug"], json.loads(three["payload"])["slug"]}
    detail = page.evaluate("async () => (await OfflineStore.getMeta('lastImport')).refused")
    assert [(r["reason"], r["n"], r["kid"]) for r in detail] == [
        ("bad-signature", 1, kid),
        ("bad-signature", 2, kid),
        ("unknown-key", 3, unknown["kid"]),
    ]


def test_a_signed_withdrawal_in_a_bundle_replaces_the_devices_copy_with_the_notice(
    app, live_server, installed, context, tmp_path
):
    page = installed
    publisher = live_server.publisher
    gone = publisher.publish("Soon withdrawn", "<p>Words taken back.</p>", slug="gone")
    page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync' })")
    harness.poll(
        page, "async () => !!(await OfflineStore.byUrl('/statements/gone/'))", message="the statement synced"
    )
    harness.go_offline(context)
    publisher.withdraw(gone, "Published in error.")
    bundle = tmp_path / "withdrawal.html"
    make_bundle(app, bundle)
    open_offline_page(page, context)

    assert import_file(page, bundle) == "Imported 1 statement."
    record = stored(page)["gone"]
    assert record["withdrawn"] is True and record["reason"] == "Published in error."
    assert "Words taken back." not in record["article_html"]
    page.goto("/statements/gone/")
    assert "This statement has been withdrawn" in page.inner_text("main")
    assert "Words taken back." not in page.inner_text("main")
    # The same bundle again: nothing newer in it.
    page.goto("/offline/")
    harness.poll(page, "() => !document.getElementById('import').hidden")
    assert import_file(page, bundle) == "1 already up to date."


def test_a_pack_downloaded_from_bundles_imports_like_any_bundle(
    app, live_server, installed, context, tmp_path
):
    page = installed
    live_server.publisher.publish("January news", "<p>Text of January.</p>", published=dt.date(2022, 1, 9))
    client = app.test_client()
    listing = client.get("/bundles/").get_data(as_text=True)
    address = re.search(r'href="([^"]*/bundles/en-2022-01\.html)"', listing)[1]
    pack = tmp_path / "en-2022-01.html"
    pack.write_bytes(client.get(address).get_data())
    open_offline_page(page, context)

    assert import_file(page, pack) == "Imported 1 statement."
    assert [r["title"] for r in stored(page).values()] == ["January news"]


HOSTILE = {
    "not a bundle": ("<!doctype html><p>Just a page.</p>", "This file is not a bundle of statements."),
    "broken JSON": (
        '<script type="application/json" id="bulletin-bundle">{"format":"bulletin-bundle/1","records":[</script>',
        "This bundle is damaged: its statements could not be read.",
    ),
    "no end": (
        '<script type="application/json" id="bulletin-bundle">{"format":"bulletin-bundle/1"',
        "This bundle is damaged: its statements could not be read.",
    ),
    "wrong format": (
        '<script type="application/json" id="bulletin-bundle">{"format":"bulletin-bundle/2","records":[]}</script>',
        "This bundle was made for another version of the app and cannot be read here.",
    ),
    "records not a list": (
        '<script type="application/json" id="bulletin-bundle">{"format":"bulletin-bundle/1","records":{}}</script>',
        "This bundle is damaged: its statements could not be read.",
    ),
}


def test_hostile_files_are_refused_whole_with_a_clear_reason(
    live_server, installed, context, tmp_path, page_errors
):
    page = installed
    open_offline_page(page, context)
    for name, (text, said) in HOSTILE.items():
        path = tmp_path / f"{name.replace(' ', '-')}.html"
        path.write_text(text, "utf-8")
        page.evaluate("() => { document.getElementById('import-result').textContent = ''; }")
        assert import_file(page, path) == said, name
    # A file over the bound, dropped on the section: refused unread.
    page.evaluate(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(33 * 1024 * 1024)], "huge.html", { type: "text/html" }));
            document.getElementById('import-result').textContent = '';
            document.getElementById('import').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }"""
    )
    assert (
        harness.poll(page, RESULT) == "This file is larger than 32 MB: it is not a bundle this app can open."
    )
    # Many broken records: each counted, the report's details bounded.
    many = tmp_path / "many.html"
    many.write_text(
        '<script type="application/json" id="bulletin-bundle">'
        + json.dumps({"format": "bulletin-bundle/1", "keys": [], "records": [{}] * 500 + ["x", None]})
        + "</script>",
        "utf-8",
    )
    page.evaluate("() => { document.getElementById('import-result').textContent = ''; }")
    assert import_file(page, many) == "Refused 502 updates that could not be verified."
    assert refused_codes(page) == "malformed"
    report = page.evaluate("async () => await OfflineStore.getMeta('lastImport')")
    assert len(report["refused"]) == 100 and report["reasons"] == {"malformed": 502}
    assert stored(page) == {}
    page_errors.assert_clean(allow=["ERR_INTERNET_DISCONNECTED", "Failed to fetch"])


def test_a_dropped_bundle_is_imported(app, live_server, installed, context, tmp_path):
    page = installed
    live_server.publisher.publish("Dropped", "<p>Dropped text.</p>", slug="dropped")
    text = make_bundle(app, tmp_path / "dropped.html")
    open_offline_page(page, context)
    page.evaluate(
        """(text) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "dropped.html", { type: "text/html" }));
            document.getElementById('import').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        text,
    )
    assert harness.poll(page, RESULT) == "Imported 1 statement."
    assert list(stored(page)) == ["dropped"]
    # The section and its report, as a reader with assistive technology meets them.
    violations = harness.axe_violations(page, context="#import")
    assert not violations, harness.format_axe(violations)


def test_a_bundle_shared_to_the_app_is_imported_by_the_worker_and_its_report_shown(
    app, live_server, installed, context, tmp_path
):
    page = installed
    live_server.publisher.publish("Shared", "<p>Shared text.</p>", slug="shared")
    text = make_bundle(app, tmp_path / "shared.html")
    manifest = app.test_client().get("/manifest.webmanifest").get_json()["share_target"]
    harness.go_offline(context)
    hits_before = len(live_server.hits)
    # As the platform posts it: the manifest's form, from a page the worker controls.
    answered = page.evaluate(
        """async ([text, target]) => {
            const form = new FormData();
            form.append(target.params.files[0].name, new File([text], "shared.html", { type: "text/html" }));
            const response = await fetch(target.action, { method: target.method, body: form });
            return { url: response.url, redirected: response.redirected, ok: response.ok };
        }""",
        [text, manifest],
    )
    # Answered by the worker with a 303 to the offline page (a fetch's URL leaves out the fragment).
    assert answered == {"url": f"{live_server.url}/offline/", "redirected": True, "ok": True}
    assert len(live_server.hits) == hits_before  # the server never saw it
    page.goto("/offline/#import-result")
    assert harness.poll(page, RESULT) == "Imported 1 statement."
    assert list(stored(page)) == ["shared"]
    # A form without the file: not a bundle, said on the page the answer opens.
    page.evaluate(
        """async (target) => {
            const form = new FormData();
            form.append("something-else", "text");
            await fetch(target.action, { method: "POST", body: form });
        }""",
        manifest,
    )
    page.goto("about:blank")  # a new document, not the same one scrolled to its fragment
    page.goto(f"{live_server.url}/offline/#import-result")
    assert harness.poll(page, RESULT) == "This file is not a bundle of statements."
    assert len(live_server.hits) == hits_before


@pytest.mark.unsigned
def test_a_device_of_a_site_without_keys_opens_no_bundle(live_server, context, page):
    harness.ready_offline(page, "/")
    open_offline_page(page, context)
    page.evaluate(
        """() => {
            const text = '<script type="application/json" id="bulletin-bundle">{"format":"bulletin-bundle/1","keys":{},"records":[]}</' + 'script>';
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "bundle.html", { type: "text/html" }));
            document.getElementById('import').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }"""
    )
    said = harness.poll(page, RESULT)
    assert said == "This site does not sign its statements, so this app cannot check a bundle and opens none."


def test_a_bundle_made_on_one_device_is_imported_and_verified_by_a_fresh_one(
    app, live_server, installed, context, new_context, test_keys, tmp_path
):
    """Hand to hand: the first device's own envelopes, carried to a second device that never synced them."""
    fresh = installed  # installed before anything was published: it holds none of the statements
    publisher = live_server.publisher
    publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release")
    gone = publisher.publish("Soon withdrawn", "<p>Words taken back.</p>", slug="gone")

    giver_context = new_context()
    giver = giver_context.new_page()
    harness.ready_offline(giver, "/")
    harness.poll(
        giver, "async () => (await OfflineStore.all()).length === 2", message="the giver synced both"
    )
    before = tmp_path / "before.html"
    make_bundle(app, before)  # a bundle of the statement, still going from hand to hand after its withdrawal
    publisher.withdraw(gone, "Published in error.")  # reaches the giver, who held it, as a signed withdrawal
    giver.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync' })")
    harness.poll(
        giver,
        "async () => (await OfflineStore.all()).some((r) => r.withdrawn)",
        message="the withdrawal synced",
    )
    harness.go_offline(giver_context)
    giver.goto("/offline/")
    with giver.expect_download() as download:
        giver.get_by_role("button", name="Make a bundle from this device").click()
    carried = tmp_path / download.value.suggested_filename
    download.value.save_as(carried)
    held = {r["slug"]: r["signed"] for r in giver.evaluate("async () => await OfflineStore.all()")}

    open_offline_page(fresh, context)
    assert stored(fresh) == {}
    assert import_file(fresh, carried) == "Imported 2 statements."
    assert refused_codes(fresh) == ""
    kept = stored(fresh)
    assert {slug: record["signed"] for slug, record in kept.items()} == held  # the giver's bytes, as received
    assert kept["gone"]["withdrawn"] is True and "Words taken back." not in kept["gone"]["article_html"]
    # The withdrawal is kept though this device never held the statement: the older bundle brings nothing back.
    assert import_file(fresh, before) == "2 already up to date."
    assert stored(fresh)["gone"]["withdrawn"] is True
    fresh.goto("/statements/release/")
    assert "Free her now." in fresh.inner_text("main")
    assert keys.fingerprint(test_keys.root_public) in fresh.inner_text(".signed-by")


IMPORT_TOGETHER = """async (texts) => {
  const worker = (await navigator.serviceWorker.getRegistration()).active;
  const ask = (text, n) => new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data.report);
    const file = new File([text], `bundle-${n}.html`, { type: "text/html" });
    worker.postMessage({ type: Bulletin.MESSAGE.importBundle, file }, [channel.port2]);
  });
  return Promise.all(texts.map(ask));
}"""


def test_bundles_imported_at_the_same_time_each_store_a_record_once(
    app, live_server, installed, context, test_keys, tmp_path
):
    """Two overlapping bundles given to the worker at once: taken one after the other, nothing counted twice."""
    page = installed
    publisher = live_server.publisher
    publisher.publish("First", "<p>One.</p>", slug="first")
    publisher.publish("Second", "<p>Two.</p>", slug="second")
    older = make_bundle(app, tmp_path / "older.html")
    publisher.publish("Third", "<p>Three.</p>", slug="third")
    newer = make_bundle(app, tmp_path / "newer.html")
    open_offline_page(page, context)

    reports = page.evaluate(IMPORT_TOGETHER, [older, newer, newer])
    assert [r["problem"] for r in reports] == [None, None, None]
    assert sum(r["imported"] for r in reports) == 3  # each statement stored by one import only
    assert sum(r["ignored"] for r in reports) == 2 + 3 + 3 - 3
    assert set(stored(page)) == {"first", "second", "third"}
    assert page.evaluate(VERIFIER)["root"] == keys.b64url(
        test_keys.root_public
    )  # no import's state lost the pin
