"""The device's verifier (static/js/verify.js) gives the Python verifier's verdict and reason for every case.

Test vectors are made by bulletin/signing (testbed/signed_vectors.py): good
records, a flipped payload byte, keys uncertified, revoked and expired at the
trusted time, older indexes and records, root records, malformed envelopes
and payloads. Each runs in Chromium with WebCrypto's Ed25519 and with the
fallback library forced, and must end in the same state as Python's. Then
real records: what /api/sync and /api/statements serve after `keys certify`.
"""

from __future__ import annotations

import json

import pytest

from bulletin.assets import bundles
from bulletin.signing import keys, rotation
from bulletin.signing.verifier import Verifier
from testbed import signed_vectors

from . import harness

pytestmark = pytest.mark.browser

BLANK = "/verify-test/"  # a page of the test server's origin with nothing in it: no page script, no worker

# Runs every case's steps from a new device state; returns each step's verdict and the state at the end.
RUN_CASES = """async ({ vectors, backend }) => {
  const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const results = [];
  for (const c of vectors.cases) {
    const device = BulletinVerify.create(BulletinVerify.initialState(vectors.root), backend);
    const verdicts = [];
    for (const s of c.steps) {
      try {
        let value;
        if (s.op === "certificate") value = await device.addCertificate(s.envelope);
        else if (s.op === "revocation") value = await device.addRevocation(s.envelope);
        else if (s.op === "root") value = await device.followRoot(s.envelope);
        else if (s.op === "index") value = await device.acceptIndex(s.envelope);
        else if (s.op === "mirrors") value = await device.acceptMirrors(s.envelope);
        else if (s.op === "record") value = await device.acceptRecord(s.envelope, s.stored || null);
        else if (s.op === "file") { await device.checkFile(bytes(s.data), s.sha256); value = "ok"; }
        verdicts.push({ ok: true, value });
      } catch (error) {
        if (error.name !== "Refused") throw error;
        verdicts.push({ ok: false, reason: error.reason });
      }
    }
    results.push({ name: c.name, verdicts, state: device.state, backend: device.backend() });
  }
  return results;
}"""


def open_blank(page, live_server, *, without_webcrypto_ed25519: bool = False):
    """A blank page of the server's origin with the verifier and the fallback library loaded."""
    page.route(
        f"**{BLANK}",
        lambda route: route.fulfill(content_type="text/html", body="<!doctype html><title>t</title>"),
    )
    if without_webcrypto_ed25519:
        # A browser whose WebCrypto has no Ed25519: what importKey does there.
        page.add_init_script(
            """(() => {
              const importKey = crypto.subtle.importKey.bind(crypto.subtle);
              crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
                (algorithm && (algorithm.name || algorithm) === "Ed25519")
                  ? Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"))
                  : importKey(format, data, algorithm, ...rest);
            })();"""
        )
    page.goto(live_server.url + BLANK)
    urls = bundles.built(live_server.app).urls
    page.add_script_tag(url=urls["verify"])
    page.add_script_tag(url=urls["ed25519"])


@pytest.mark.parametrize("backend", ["webcrypto", "fallback"])
def test_the_device_gives_pythons_verdict_and_reason_for_every_case(page, live_server, page_errors, backend):
    vectors = signed_vectors.vectors()
    open_blank(page, live_server)
    assert page.evaluate("BulletinVerify.hasWebCryptoEd25519()") is True
    results = page.evaluate(RUN_CASES, {"vectors": vectors, "backend": backend})
    assert len(results) == len(vectors["cases"]) > 40
    for case, result in zip(vectors["cases"], results, strict=True):
        assert result["backend"] == backend
        assert result["verdicts"] == case["expected"]["verdicts"], case["name"]
        assert result["state"] == case["expected"]["state"], case["name"]
    # The cases the device must meet, each with the reason Python gives.
    reasons = {r["name"]: [v.get("reason") for v in r["verdicts"][4:]] for r in results}
    assert reasons["a flipped payload byte"] == ["bad-signature"]
    assert reasons["an uncertified key"] == ["unknown-key"]
    assert reasons["a revoked key"] == ["revoked-key"]
    assert reasons["a key expired at the trusted time"] == [None, "expired-key"]
    assert reasons["a newer index, then an older valid one"] == [None, "rollback"]
    assert reasons["a root record signed by another key"] == ["unknown-key", "unknown-key"]
    assert reasons["files and their digests"] == [None, "hash-mismatch"]
    assert reasons["mirror lists by seq"] == [None, None, "rollback", "rollback", None]
    assert reasons["a mirror list by an uncertified key"] == ["unknown-key"]
    assert reasons["a mirror list of numbers"] == ["malformed"]
    assert reasons["a validly signed payload with whitespace"] == ["malformed"]
    page_errors.assert_clean()


def test_without_webcrypto_ed25519_the_fallback_verifies_the_same(page, live_server, page_errors):
    vectors = signed_vectors.vectors()
    open_blank(page, live_server, without_webcrypto_ed25519=True)
    assert page.evaluate("BulletinVerify.hasWebCryptoEd25519()") is False
    results = page.evaluate(RUN_CASES, {"vectors": vectors, "backend": "fallback"})
    for case, result in zip(vectors["cases"], results, strict=True):
        assert result["verdicts"] == case["expected"]["verdicts"], case["name"]
    page_errors.assert_clean()


def test_a_verifier_without_the_fallback_library_says_so(page, live_server):
    page.route(
        f"**{BLANK}",
        lambda route: route.fulfill(content_type="text/html", body="<!doctype html><title>t</title>"),
    )
    page.goto(live_server.url + BLANK)
    page.add_script_tag(url=bundles.built(live_server.app).urls["verify"])
    message = page.evaluate(
        """() => { try { BulletinVerify.create(BulletinVerify.initialState("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"), "fallback"); return "made"; }
                   catch (error) { return error.message; } }"""
    )
    assert "not loaded" in message


# Every signed envelope the app serves, verified on the device after the keys /keys.json names.
VERIFY_SERVED = """async ({ root, backend, since }) => {
  const get = async (path) => (await fetch(path)).json();
  const device = BulletinVerify.create(BulletinVerify.initialState(root), backend);
  const refusedKeys = await device.addKeys(await get("/keys.json"));
  const sync = await get("/api/sync?since=" + encodeURIComponent(since));
  const listed = await get("/api/statements");
  const envelopes = [...sync.statements, ...sync.withdrawn, ...listed.statements].map((o) => o.signed);
  const documents = [];
  for (const envelope of envelopes) documents.push(await device.acceptRecord(envelope, null));
  return { refusedKeys, documents, envelopes };
}"""


@pytest.mark.unsigned  # its own root and key, made below
@pytest.mark.parametrize("backend", ["webcrypto", "fallback"])
def test_both_verifiers_accept_the_apps_real_records_after_keys_certify(
    page, live_server, tmp_path, page_errors, backend
):
    app, publisher = live_server.app, live_server.publisher
    publisher.publish("Release the journalist", "<p>Free her now — «сейчас» الآن 😀.</p>", slug="release")
    publisher.publish("Water for the district", "<p>The pumps stopped.</p>", slug="water", lang="ru")
    gone = publisher.publish("Gone", "<p>Soon withdrawn.</p>", slug="gone")
    since = app.test_client().get("/api/sync").get_json()["cursor"]
    publisher.publish("Later", "<p>After the cursor.</p>", slug="later")
    publisher.withdraw(gone)
    runner = app.test_cli_runner()
    root_file = tmp_path / "root.key"
    assert runner.invoke(args=["keys", "init-root", str(root_file)]).exit_code == 0
    result = runner.invoke(args=["keys", "certify", "--root", str(root_file)])
    assert result.exit_code == 0, result.output
    root = keys.raw_public(keys.read_private(root_file))

    open_blank(page, live_server)
    served = page.evaluate(VERIFY_SERVED, {"root": keys.b64url(root), "backend": backend, "since": since})
    assert served["refusedKeys"] == []
    assert len(served["envelopes"]) == 1 + 1 + 3  # new since the cursor, the withdrawal, the list

    python = Verifier(root)
    published = app.test_client().get("/keys.json").get_json()
    for entry in published["keys"]:
        python.add_certificate(entry["certificate"])
    for envelope, document in zip(served["envelopes"], served["documents"], strict=True):
        assert python.verify(envelope, ("statement", "withdrawal")) == document
        assert document == json.loads(envelope["payload"])
    assert {d["type"] for d in served["documents"]} == {"statement", "withdrawal"}
    page_errors.assert_clean()


KEEP_PIN = """async ({ builtIn, later, rotation, byBuiltIn, byLater }) => {
  const reason = (promise) => promise.then(() => "accepted", (error) => error.reason);
  // A device that pinned `builtIn`, its state kept; then a worker update built with another root.
  const kept = JSON.parse(JSON.stringify(BulletinVerify.initialState(builtIn)));
  const state = BulletinVerify.stateFor(kept, later);
  const device = BulletinVerify.create(state);
  const before = { root: state.root, byLater: await reason(device.addCertificate(byLater)) };
  const followed = await reason(device.followRoot(rotation));
  const after = { root: state.root, byLater: await reason(device.addCertificate(byLater)),
                  byBuiltIn: await reason(device.addCertificate(byBuiltIn)) };
  const fresh = BulletinVerify.stateFor(null, later).root;
  return { before, followed, after, fresh, refused: state.refused };
}"""


def test_a_kept_pin_outlives_a_worker_built_with_another_root_until_a_root_record(page, live_server):
    k = signed_vectors.Keys()
    builtin, later = (keys.b64url(keys.raw_public(key)) for key in (k.root, k.new_root))
    rotation_record = rotation.rotate(k.root, k.new_root.public_key(), at=signed_vectors.T0)
    open_blank(page, live_server)
    answer = page.evaluate(
        KEEP_PIN,
        {
            "builtIn": builtin,
            "later": later,
            "rotation": rotation_record,
            "byBuiltIn": signed_vectors.certify(k.root, k.online, signed_vectors.DAY),
            "byLater": signed_vectors.certify(k.new_root, k.next_online, signed_vectors.DAY),
        },
    )
    assert answer["before"] == {"root": builtin, "byLater": "unknown-key"}
    assert answer["followed"] == "accepted"
    assert answer["after"] == {"root": later, "byLater": "accepted", "byBuiltIn": "unknown-key"}
    assert answer["fresh"] == later  # a new device pins the root its worker was built with
    assert answer["refused"] == {"unknown-key": 2}


# A worker of its own scope that loads the verifier as the app's worker would: the verifier at
# the top, the fallback while installing where WebCrypto lacks Ed25519 (forced here by ?force).
TEST_WORKER = """
importScripts(%(verify)s);
var FALLBACK = %(ed25519)s;
var FORCE = location.search.indexOf("force") >= 0;
var log = ["start " + self.serviceWorker.state + " " + BulletinVerify.importFallbackAtStart(FALLBACK)];
self.addEventListener("install", function (event) {
  event.waitUntil(BulletinVerify.importFallbackAtInstall(FALLBACK, FORCE).then(function (backend) {
    log.push("install " + backend);
  }));
});
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
self.addEventListener("message", function (event) {
  var data = event.data;
  BulletinVerify.chooseBackend(FORCE ? "fallback" : null).then(function (backend) {
    var device = BulletinVerify.create(BulletinVerify.initialState(data.root), backend);
    return device.addCertificate(data.certificate)
      .then(function () { return device.acceptRecord(data.record, null); })
      .then(function (d) { return d.id; }, function (error) { return error.reason; })
      .then(function (verdict) {
        event.source.postMessage({ log: log.slice(), backend: backend, loaded: !!self.nobleEd25519, verdict: verdict });
      });
  });
});
"""
TEST_WORKER_PAGE = """<!doctype html><title>t</title><script>
window.answers = [];
navigator.serviceWorker.addEventListener("message", function (e) { window.answers.push(e.data); });
navigator.serviceWorker.register("sw.js" + location.search);
</script>"""
ASK_WORKER = """async (data) => {
  const registration = await navigator.serviceWorker.ready;
  registration.active.postMessage(data);
}"""


@pytest.mark.parametrize("force", [False, True])
def test_a_worker_imports_the_fallback_only_where_needed_and_again_at_each_start(
    context, page, live_server, page_errors, force
):
    urls = bundles.built(live_server.app).urls
    worker = TEST_WORKER % {"verify": json.dumps(urls["verify"]), "ed25519": json.dumps(urls["ed25519"])}
    live_server.stub("/verify-worker/sw.js", worker, "text/javascript")
    live_server.stub("/verify-worker/", TEST_WORKER_PAGE)
    k = signed_vectors.Keys()
    data = {
        "root": keys.b64url(keys.raw_public(k.root)),
        "certificate": signed_vectors.certify(k.root, k.online, signed_vectors.DAY),
        "record": signed_vectors.record(k.online, n=3),
    }
    worker_errors = []
    context.on("console", lambda m: worker_errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/verify-worker/" + ("?force" if force else ""))

    def answer(count):
        page.evaluate(ASK_WORKER, data)
        return harness.poll(page, f"() => window.answers.length >= {count} && window.answers[{count - 1}]")

    first = answer(1)
    backend = "fallback" if force else "webcrypto"
    assert first["log"] == ["start parsed false", f"install {backend}"]
    assert first["backend"] == backend and first["loaded"] is force and first["verdict"] == "statement-3"
    # A later start of the same worker: the fallback comes again from what the browser kept, or not at all.
    cdp = context.new_cdp_session(page)
    cdp.send("ServiceWorker.enable")
    cdp.send("ServiceWorker.stopAllWorkers")
    cdp.detach()
    again = answer(2)
    assert again["log"] == [f"start activated {'true' if force else 'false'}"]
    assert again["backend"] == backend and again["loaded"] is force and again["verdict"] == "statement-3"
    fetched = [hit for hit in live_server.hits if hit.startswith(urls["ed25519"])]
    assert len(fetched) == (1 if force else 0)
    assert worker_errors == []
    page_errors.assert_clean()
