"""Verifying 500 signed records on the device, in headless Chromium at 4x CPU slowdown.

    .venv/bin/python -m bench.verify_device [--records 500] [--runs 20] [--cpu-slowdown 4]

Bulletin runs under gunicorn on 127.0.0.1 (a throwaway site) to serve the
device's verifier (``static/js/verify.js``, bundle ``verify``) and the
fallback Ed25519 library (bundle ``ed25519``) as the worker would fetch
them. A blank page of that origin loads both; 500 distinct statement
records, signed by bulletin/signing with an online key the root certified,
are handed to it (``testbed/signed_vectors.py``: every field of the
contract, emoji, right-to-left and control characters in the text). The CPU
is slowed 4x (CDP ``Emulation.setCPUThrottlingRate``) and each run starts
from a new device state (the certificates and the revocation accepted
first, outside the time measured), then verifies the 500 records with
``acceptRecord``: the envelope's shape, the canonical payload, the key, the
signature over the payload's bytes. Two ways: all at once (the verifications
started together, as a sync chunk would be) and one after another. Both
backends: WebCrypto's Ed25519 and the fallback library (forced).

Every run is checked: 500 documents back, each the record's own payload,
none refused.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from bulletin.assets import bundles
from testbed import signed_vectors
from testbed.chromium import LAUNCH_ARGS
from testbed.servers import start_gunicorn

from . import report
from .site import make_site, scratch_folder

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CPU_SLOWDOWN = 4
GOAL_MS = 1000.0
BLANK = "/verify-bench/"

SETUP = """async ({ root, setup, records }) => {
  window.benchData = { root, setup, records };
  return records.length;
}"""

RUN = """async ({ backend, together }) => {
  const { root, setup, records } = window.benchData;
  const device = BulletinVerify.create(BulletinVerify.initialState(root), backend);
  for (const s of setup) {
    if (s.op === "certificate") await device.addCertificate(s.envelope);
    else await device.addRevocation(s.envelope);
  }
  const started = performance.now();
  let documents;
  if (together) {
    documents = await Promise.all(records.map((r) => device.acceptRecord(r, null)));
  } else {
    documents = [];
    for (const r of records) documents.push(await device.acceptRecord(r, null));
  }
  const ms = performance.now() - started;
  const same = documents.every((d, i) => d.id === JSON.parse(records[i].payload).id && d.seq === i + 1);
  return { ms, verified: documents.length, same, refused: device.state.refused, backend: device.backend() };
}"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(server, browser, urls: dict, count: int, runs: int, slowdown: float = CPU_SLOWDOWN) -> dict:
    data = signed_vectors.many_records(count)
    context = browser.new_context(base_url=server.url(""))
    results: dict[str, list[float]] = {}
    try:
        page = context.new_page()
        page.route(
            f"**{BLANK}", lambda route: route.fulfill(content_type="text/html", body="<!doctype html>")
        )
        page.goto(BLANK)
        page.add_script_tag(url=urls["verify"])
        page.add_script_tag(url=urls["ed25519"])
        if not page.evaluate("BulletinVerify.hasWebCryptoEd25519()"):
            raise RuntimeError("this Chromium's WebCrypto has no Ed25519")
        page.evaluate(SETUP, data)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
        for run in range(runs + 1):  # the first run of each warms up (compiles the code), not counted
            for backend in ("webcrypto", "fallback"):
                for together in (True, False):
                    result = page.evaluate(RUN, {"backend": backend, "together": together})
                    check(result, count, backend)
                    if run:
                        name = f"{backend} {'all at once' if together else 'one after another'}"
                        results.setdefault(name, []).append(result["ms"])
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    finally:
        context.close()
    return {"records": count, "runs": runs, "ms": results}


def check(result: dict, count: int, backend: str) -> None:
    if result["verified"] != count or not result["same"] or result["refused"] or result["backend"] != backend:
        raise AssertionError(f"not every record verified: {json.dumps(result)[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cpu-slowdown", type=float, default=CPU_SLOWDOWN, help="1: no slowdown")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = scratch_folder("bulletin-verify-device-")
    site = make_site(work / "site", samples=False)
    started = time.monotonic()
    with start_gunicorn("app:app", env=site.env, log=work / "gunicorn.log") as server, sync_playwright() as p:
        from bulletin import create_app

        # The bundles' addresses from the build prepare made (static/gen/manifest.json).
        urls = bundles.built(create_app({"DATABASE": str(work / "urls.sqlite3"), "SECRET_KEY": "x"})).urls
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(LAUNCH_ARGS), headless=True)
        try:
            data = measure(server, browser, urls, args.records, args.runs, args.cpu_slowdown)
        finally:
            browser.close()
    rows = [[name, report.median(values), percentile(values, 0.99)] for name, values in data["ms"].items()]
    print(
        f"{data['records']} records, {data['runs']} runs each, CPU slowed {args.cpu_slowdown:g}x; {report.machine()}"
    )
    print(report.table(["Ed25519", "p50 ms", "p99 ms"], rows))
    worst = {name: percentile(values, 0.99) for name, values in data["ms"].items()}
    print(
        "\n"
        + "; ".join(
            f"{name}: p99 {ms:.0f} ms ({'met' if ms < GOAL_MS else 'not met'})" for name, ms in worst.items()
        )
        + f" (goal < {GOAL_MS:.0f} ms); every run checked: {data['records']} verified; run took"
        f" {time.monotonic() - started:.0f} s"
    )
    print(report.save("verify_device", {"cpu_slowdown": args.cpu_slowdown, **data}))


if __name__ == "__main__":
    main()
