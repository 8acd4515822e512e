"""The worker verifies everything it syncs before storing it, with the root it pinned on its first run.

The live server signs (the tests' root and the online key it certified, in
the test's key folder). Sync files
are served to the worker through the context's routes, as a mirror or a
censor would serve them: a signed index (its payload carrying the keys) and
a snapshot of envelopes, some of them genuine, some altered, signed by a key
nobody certified or by a revoked one. Each refusal reaches the page with its
reason code; the rest is stored, built from the payload alone.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json

import pytest

from bulletin.signing import certificates, envelopes, keyring, keys, revocations, rotation, times

from . import harness

pytestmark = pytest.mark.browser

SNAPSHOT = "snapshot-signed-test.json"
CHUNK = "chunk-signed-test.json"
STATE = "async () => await OfflineStore.getMeta('verifier')"
HEARD = "window.heard = []; navigator.serviceWorker.addEventListener('message', (e) => window.heard.push(e.data));"


class SignedSite:
    """The live server with keys, and sync files for the worker made (and doctored) by the test."""

    def __init__(self, server, root_file):
        self.server = server
        self.app = server.app
        self.root_file = root_file  # the tests' root, which certified the key the app signs with
        self.root = keys.read_private(self.root_file)
        folder = self.app.config["KEYS_DIR"]
        signer = keyring.signer(folder, dt.datetime.now(dt.UTC))
        self.online, self.kid = signer.key, signer.kid
        self.served: dict = {}
        self.routed = False

    def get(self, path: str) -> dict:
        return self.app.test_client().get(path).get_json()

    def genuine(self) -> list[dict]:
        """The envelopes of every published statement, as the server signed them, by slug."""
        return [
            s["signed"] for s in sorted(self.get("/api/sync?limit=50")["statements"], key=lambda s: s["slug"])
        ]

    def serve(self, context, records: list[dict], *, seq: int, signed_at: dt.datetime, published_keys=None):
        """Route the worker's sync files: an index signed by the online key over ``records``.

        The records are both the snapshot (a new device's) and the one chunk
        (a device already synced: every change up to ``seq``).
        """
        snapshot = json.dumps({"records": records}, separators=(",", ":")).encode("utf-8")
        digest = hashlib.sha256(snapshot).hexdigest()
        served = json.loads(self.get("/sync/index.json")["payload"])  # the server's own, for its db and epoch
        document = {
            "type": "sync-index",
            "v": 1,
            "db": served["db"],
            "epoch": served["epoch"],
            "seq": seq,
            "signed_at": times.instant(signed_at),
            "keys": published_keys if published_keys is not None else self.get("/keys.json"),
            "mirrors": None,
            "snapshot": {
                "path": SNAPSHOT,
                "sha256": digest,
                "size": len(snapshot),
                "seq": seq,
            },
            "chunks": [{"path": CHUNK, "sha256": digest, "size": len(snapshot), "from": 0, "to": seq}],
            "older": {"path": "older-none.json", "sha256": "0" * 64, "to": 0},
        }
        self.served = {"index": envelopes.sign(document, self.online), "snapshot": snapshot}
        if self.routed:
            return  # the routes read what is served now
        self.routed = True
        context.route("**/sync/index.json", lambda route: route.fulfill(json=self.served["index"]))
        for name in (SNAPSHOT, CHUNK):
            context.route(
                f"**/sync/{name}",
                lambda route: route.fulfill(body=self.served["snapshot"], content_type="application/json"),
            )


def resigned(envelope: dict, key, **changes) -> dict:
    """Another statement's record, its fields changed, signed by ``key``."""
    document = json.loads(envelope["payload"])
    document.update(changes)
    return envelopes.sign(document, key)


def visit(page, path: str = "/") -> None:
    """Open ``path`` and wait for the sync it asks for to end (pages opened with HEARD)."""
    page.goto(path)
    harness.poll(page, "() => window.heard.some((m) => m.type === 'synced')", message="the sync's end")


def settle(page) -> None:
    """Wait until every sync begun so far has ended: a check waits for the running one, then syncs once more."""
    page.evaluate("() => navigator.serviceWorker.controller.postMessage({ type: 'sync', check: true })")
    harness.poll(page, "() => window.heard.some((m) => m.checked)", message="the check's answer")


def stored(page) -> dict:
    return {r["title"]: r for r in page.evaluate("async () => await OfflineStore.all()")}


def refused_on_page(page) -> str:
    return harness.poll(page, "() => document.getElementById('app-status').dataset.refused || ''")


@pytest.fixture
def signed(live_server, test_keys, page):
    page.add_init_script(HEARD)
    site = SignedSite(live_server, test_keys.root_file)
    publisher = live_server.publisher
    publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release", tags=["press"])
    publisher.publish(
        "Water for the district", "<p>The pumps stopped.</p>", slug="water", summary="Pumps <b>"
    )
    return site


def test_a_device_refuses_what_was_not_signed_as_published_and_stores_the_rest(
    context, page, signed, page_errors
):
    release, water = signed.genuine()
    assert json.loads(release["payload"])["slug"] == "release"
    stranger, revoked_key = keys.generate(), keys.generate()
    published = signed.get("/keys.json")
    now = dt.datetime.now(dt.UTC)
    # A key the root certified, then revoked: its certificate and revocation come with the keys.
    published["keys"].append(
        {
            "certificate": certificates.certify(
                signed.root, revoked_key.public_key(), issued=now, expires=now + dt.timedelta(days=9)
            )
        }
    )
    published["revocations"].append(
        revocations.revoke(signed.root, keys.key_id(keys.raw_public(revoked_key)), at=now)
    )
    altered = dict(water, payload=water["payload"].replace("The pumps stopped.", "The pumps work fine."))
    records = [
        release,
        altered,  # bad-signature
        resigned(
            water, stranger, id="forged-1", slug="forged-1", title="Forged by a stranger"
        ),  # unknown-key
        resigned(water, revoked_key, id="forged-2", slug="forged-2", title="Signed by a revoked key"),
        {"payload": "not canonical", "sig": "x", "kid": signed.kid},  # malformed
    ]
    signed.serve(context, records, seq=9, signed_at=now - dt.timedelta(hours=5), published_keys=published)
    visit(page)
    harness.wait_for_controller(page)
    assert refused_on_page(page) == "bad-signature malformed revoked-key unknown-key"
    assert "Refused 4 updates that could not be verified." in page.inner_text("#app-status")
    report = harness.poll(page, "() => heard.find((m) => m.type === 'refused')")
    assert report["reasons"] == {"bad-signature": 1, "unknown-key": 1, "revoked-key": 1, "malformed": 1}

    kept = stored(page)
    assert list(kept) == ["Release the journalist"]
    record = kept["Release the journalist"]
    # Built from the payload, with the envelope as received.
    assert record["signed"] == release and record["url"] == "/statements/release/"
    assert record["article_html"] == json.loads(release["payload"])["article_html"]
    assert "list_item_html" not in record
    state = page.evaluate(STATE)
    assert state["trustedTime"] == times.instant(now - dt.timedelta(hours=5))
    assert state["root"] == keys.b64url(keys.raw_public(signed.root))

    # Offline: the list built on the device from the record, and how fresh the source is by its signature.
    harness.go_offline(context)
    page.goto("/")
    assert "Release the journalist" in page.inner_text("main")
    assert page.get_attribute("main h2 a", "href") == "/statements/release/"
    harness.poll(page, "() => !document.getElementById('offline-banner').hidden")
    assert "Latest signed update: 5 hours ago" in page.inner_text("#offline-banner")
    page_errors.assert_clean(allow=["ERR_INTERNET_DISCONNECTED", "Failed to fetch"])


def test_an_older_validly_signed_index_is_refused_as_a_rollback(context, page, signed):
    now = dt.datetime.now(dt.UTC)
    genuine = signed.genuine()
    signed.serve(context, genuine, seq=20, signed_at=now - dt.timedelta(hours=1))
    visit(page)
    harness.wait_for_controller(page)
    harness.poll(page, "async () => (await OfflineStore.all()).length === 2")
    newest = page.evaluate(STATE)["newestIndex"]
    assert newest[1:] == [20, times.instant(now - dt.timedelta(hours=1))]

    # Signed by the same valid key, but older than the index the device verified.
    signed.serve(context, genuine, seq=19, signed_at=now)
    visit(page)
    assert refused_on_page(page) == "rollback"
    state = page.evaluate(STATE)
    assert state["newestIndex"] == newest and state["refused"]["rollback"] == 1


def test_a_revoked_keys_stored_records_are_marked_until_replaced(context, page, signed):
    now = dt.datetime.now(dt.UTC)
    release, water = signed.genuine()
    signed.serve(context, [release, water], seq=5, signed_at=now - dt.timedelta(hours=2))
    visit(page)
    harness.wait_for_controller(page)
    harness.poll(page, "async () => (await OfflineStore.all()).length === 2")
    # The root revokes the online key; a new key signs the release again (a new record), not the water.
    published = signed.get("/keys.json")
    published["revocations"].append(revocations.revoke(signed.root, signed.kid, at=now))
    fresh = keys.generate()
    published["keys"].append(
        {
            "certificate": certificates.certify(
                signed.root, fresh.public_key(), issued=now, expires=now + dt.timedelta(days=9)
            )
        }
    )
    document = json.loads(release["payload"])
    replaced = resigned(release, fresh, seq=document["seq"] + 10)
    signed.online = fresh  # the index too is signed by the valid key
    signed.serve(context, [replaced], seq=30, signed_at=now, published_keys=published)
    visit(page)
    harness.poll(page, "async () => (await OfflineStore.getMeta('verifier')).newestIndex[1] === 30")
    kept = stored(page)
    assert kept["Water for the district"].get("revokedKey") is True
    assert not kept["Release the journalist"].get("revokedKey")
    assert kept["Release the journalist"]["signed"] == replaced


# The worker installed anew, as a reader accepting the update makes it take control.
UPDATE_NOW = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  await registration.update();
  const worker = registration.installing || registration.waiting;
  await new Promise((resolve) => {
    navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true });
    const skip = () => worker.postMessage({ type: "skip-waiting" });
    if (worker.state === "installed") skip();
    else worker.addEventListener("statechange", () => worker.state === "installed" && skip());
  });
}"""


def test_the_pin_outlives_a_worker_with_another_root_and_follows_a_root_record(
    context, page, signed, tmp_path
):
    now = dt.datetime.now(dt.UTC)
    old_root = keys.b64url(keys.raw_public(signed.root))
    genuine = signed.genuine()
    published = signed.get("/keys.json")  # before the hand-over below
    signed.serve(context, genuine, seq=5, signed_at=now - dt.timedelta(hours=2), published_keys=published)
    harness.ready_offline(page)
    assert page.evaluate(STATE)["root"] == old_root

    # The publisher hands over to a new root: the next worker is built with it. The device keeps its pin.
    new_root_file = tmp_path / "new-root.key"
    result = signed.app.test_cli_runner().invoke(
        args=["keys", "rotate-root", "--root", str(signed.root_file), str(new_root_file)]
    )
    assert result.exit_code == 0, result.output
    new_root = keys.read_private(new_root_file)
    shipped = keys.b64url(keys.raw_public(new_root))
    assert shipped in signed.app.test_client().get("/sw.js").get_data(as_text=True)
    before = page.evaluate("() => navigator.serviceWorker.controller.scriptURL")
    page.evaluate(UPDATE_NOW)
    visit(page)
    harness.wait_for_controller(page)
    assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL") == before  # the same address
    assert page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).waiting") is None
    settle(page)  # the new worker's first sync too
    assert page.evaluate(STATE)["root"] == old_root

    # A key the new root certified signs a record: refused while the old root is pinned...
    next_online = keys.generate()
    by_new_root = certificates.certify(
        new_root, next_online.public_key(), issued=now, expires=now + dt.timedelta(days=9)
    )
    later = resigned(genuine[0], next_online, id="later", slug="later", title="Later news", seq=50)
    published["keys"].append({"certificate": by_new_root})
    signed.serve(context, [later], seq=50, signed_at=now - dt.timedelta(hours=1), published_keys=published)
    visit(page)
    assert refused_on_page(page) == "unknown-key"
    assert "Later news" not in stored(page)

    # ...and accepted once the pinned root signs the hand-over to the new one.
    published = copy.deepcopy(published)
    published["roots"].append(rotation.rotate(signed.root, new_root.public_key(), at=now))
    signed.serve(context, [later], seq=51, signed_at=now, published_keys=published)
    visit(page)
    harness.poll(page, "async () => !!(await OfflineStore.byUrl('/statements/later/'))")
    assert page.evaluate(STATE)["root"] == shipped


# What a browser without Ed25519 in WebCrypto does with it, put before the worker's own script.
WITHOUT_ED25519 = """(() => {
  const importKey = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
    (algorithm && (algorithm.name || algorithm) === "Ed25519")
      ? Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"))
      : importKey(format, data, algorithm, ...rest);
})();
"""


def test_without_webcrypto_ed25519_the_fallback_verifies_the_same_records(context, page, signed, live_server):
    def without_ed25519(route):
        response = route.fetch()
        route.fulfill(response=response, body=WITHOUT_ED25519 + response.text())

    context.route("**/sw.js", without_ed25519)
    now = dt.datetime.now(dt.UTC)
    release, water = signed.genuine()
    altered = dict(water, payload=water["payload"].replace("The pumps stopped.", "The pumps work fine."))
    signed.serve(context, [release, altered], seq=9, signed_at=now)
    visit(page)
    harness.wait_for_controller(page)
    assert refused_on_page(page) == "bad-signature"
    assert list(stored(page)) == ["Release the journalist"]
    ed25519 = signed.app.extensions["bulletin_assets"].urls["ed25519"]
    assert live_server.hits_for(ed25519)


def test_the_apis_objects_are_verified_and_only_their_payload_is_read(context, page, signed, live_server):
    live_server.stub("/sync/index.json", '{"error": "none here"}', "application/json", status=404)

    def doctored(route):
        response = route.fetch()
        body = response.json()
        for statement in body["statements"]:
            if statement["slug"] == "water":  # its envelope altered: refused
                statement["signed"]["payload"] = statement["signed"]["payload"].replace("pumps", "pipes")
            else:  # a field beside the envelope altered: never read
                statement["title"] = "Doctored beside the signature"
                statement["article_html"] = "<p>Doctored</p>"
        route.fulfill(response=response, json=body)

    context.route("**/api/sync*", doctored)
    visit(page)
    assert refused_on_page(page) == "bad-signature"
    kept = stored(page)
    assert list(kept) == ["Release the journalist"]
    assert (
        kept["Release the journalist"]["article_html"]
        == json.loads(signed.genuine()[0]["payload"])["article_html"]
    )
    assert "Doctored" not in json.dumps(kept)


@pytest.mark.unsigned
def test_a_site_without_keys_pins_nothing_and_syncs_unsigned_as_before(page, live_server):
    live_server.publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release")
    harness.ready_offline(page)
    assert page.evaluate(STATE) is None  # no root pinned
    record = page.evaluate("async () => (await OfflineStore.all())[0]")
    assert record["title"] == "Release the journalist" and record["signed"] is None
    assert record["list_item_html"].startswith("<li>")


def test_a_list_built_on_the_device_says_updated_only_of_a_corrected_statement(context, page, live_server):
    publisher = live_server.publisher
    publisher.publish("Release the journalist", "<p>Free her now.</p>", slug="release", tags=["press"])
    corrected = publisher.publish(
        "Water for the district", "<p>The pumps stopped.</p>", slug="water", tags=["press"]
    )
    publisher.revise(corrected, title="Water for the district", body="<p>The pumps stopped on Monday.</p>")
    harness.ready_offline(page)
    kept = stored(page)
    assert kept["Water for the district"]["signed"] and kept["Water for the district"]["corrected"] is True
    assert kept["Release the journalist"]["corrected"] is False
    harness.go_offline(context)
    page.goto("/tags/press/")  # never opened: built on the device from the tag shell and the records
    meta = dict(
        page.evaluate(
            "() => [...document.querySelectorAll('main li')].map((li) =>"
            " [li.querySelector('h2').innerText, li.querySelector('p.meta').innerText])"
        )
    )
    assert set(meta) == {"Release the journalist", "Water for the district"}
    assert "Updated" in meta["Water for the district"]
    assert "Updated" not in meta["Release the journalist"]
