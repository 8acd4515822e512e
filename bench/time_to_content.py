"""Time to content in headless Chromium on emulated slow links, with 4x CPU slowdown.

    .venv/bin/python -m bench.time_to_content [--runs 3]

Bulletin runs under gunicorn on 127.0.0.1 with the seed and sample
statements. For each network profile (DevTools "3G": 2,000 ms, 400 kbit/s;
2G: 800 ms, 280 kbit/s) and each run, a fresh browser context opens the seed
statement's page and records its first contentful paint:

* cold: the first visit, nothing cached;
* warm online: the second visit, once the service worker controls the page
  and has synced (answered by the worker's network-first fetch);
* offline: the third visit with the device offline, answered by the worker.

The network is emulated with CDP on the page *and* on the service worker's
own target (page-level emulation does not slow the worker's fetches); the
CPU is slowed 4x with ``Emulation.setCPUThrottlingRate``. Waits poll
``page.evaluate`` against a deadline: the page's CSP forbids
``wait_for_function``. Medians of the runs are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from testbed.chromium import LAUNCH_ARGS
from testbed.servers import start_gunicorn

from . import report
from .site import make_site, scratch_folder

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = list(LAUNCH_ARGS)  # the flags the browser tests use, for the same reasons
CPU_SLOWDOWN = 4
PROFILES = {
    # latency ms, kbit/s down and up (DevTools' presets throttle both ways alike here)
    'DevTools "3G"': (2000, 400),
    "2G": (800, 280),
}
GOALS = {"cold": 2300.0, "offline": 1000.0}  # ms: the goals set for first paint (cold on "3G", offline)
WAIT_SECONDS = 60.0
SHELL = "/offline/shell/"  # precached by the worker's install
# The page script's storage layer (static/js/offline-store.js) records each sync.
SYNCED = 'typeof OfflineStore !== "undefined" && Boolean(await OfflineStore.getMeta("lastSync"))'


def conditions(latency_ms: float, kbps: float, *, offline: bool = False) -> dict:
    """CDP ``Network.emulateNetworkConditions`` parameters (throughput in bytes/s)."""
    rate = kbps * 1000 / 8
    return {"offline": offline, "latency": latency_ms, "downloadThroughput": rate, "uploadThroughput": rate}


class WorkerThrottle:
    """Network emulation on every service worker target, through a browser-level CDP session.

    Playwright cannot open a CDP session on a worker, so this attaches to each
    worker target without flattening and speaks to it with
    ``Target.sendMessageToTarget``.
    """

    def __init__(self, browser, params: dict):
        self.params = params
        self.sessions: dict = {}  # targetId -> sessionId
        self._ids = iter(range(1, 1_000_000))
        self.cdp = browser.new_browser_cdp_session()
        self.cdp.on("Target.targetCreated", lambda event: self._attach(event["targetInfo"]))
        self.cdp.on("Target.targetInfoChanged", lambda event: self._attach(event["targetInfo"]))
        self.cdp.on("Target.detachedFromTarget", self._detached)
        self.cdp.on("Target.receivedMessageFromTarget", self._message)
        self.cdp.send("Target.setDiscoverTargets", {"discover": True})

    def _attach(self, info: dict) -> None:
        if info.get("type") != "service_worker" or info["targetId"] in self.sessions:
            return
        # Claimed before the call: events arriving during it would attach twice.
        self.sessions[info["targetId"]] = None
        try:
            session = self.cdp.send("Target.attachToTarget", {"targetId": info["targetId"], "flatten": False})
        except PlaywrightError:  # the worker stopped meanwhile; it is attached when it starts again
            del self.sessions[info["targetId"]]
            return
        self.sessions[info["targetId"]] = session["sessionId"]
        self._send(session["sessionId"], "Network.enable", {})
        self._send(session["sessionId"], "Inspector.enable", {})
        self._emulate(session["sessionId"])

    def _detached(self, event: dict) -> None:
        for target, session in list(self.sessions.items()):
            if session and session == event.get("sessionId"):
                del self.sessions[target]

    def _send(self, session_id: str, method: str, params: dict) -> None:
        message = json.dumps({"id": next(self._ids), "method": method, "params": params})
        try:
            self.cdp.send("Target.sendMessageToTarget", {"sessionId": session_id, "message": message})
        except PlaywrightError:  # detached meanwhile: attached again, and told again, when it restarts
            return

    def _emulate(self, session_id: str) -> None:
        self._send(session_id, "Network.emulateNetworkConditions", self.params)

    def _message(self, event: dict) -> None:
        # A worker that starts (again) forgets the conditions sent before its
        # script loaded: send them again then.
        if '"Inspector.workerScriptLoaded"' in event.get("message", ""):
            self._emulate(event["sessionId"])

    def set(self, params: dict) -> None:
        """Apply new conditions to every attached worker (and to those attached later)."""
        self.params = params
        for session in list(self.sessions.values()):
            if session:
                self._emulate(session)

    def close(self) -> None:
        self.cdp.detach()


def poll(page, expression: str, *, timeout: float = WAIT_SECONDS, what: str):
    """The first truthy value of ``expression`` evaluated in the page, polled until a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)  # poll interval, bounded by the deadline


FCP = """() => {
  const entry = performance.getEntriesByName("first-contentful-paint")[0];
  return entry ? entry.startTime : 0;
}"""


def visit(page, url: str, throttle: WorkerThrottle) -> float:
    """Navigate to ``url`` and return its first contentful paint in ms since navigation start."""
    throttle.set(throttle.params)  # the worker may have been stopped and started since
    page.goto(url, wait_until="load", timeout=WAIT_SECONDS * 1000)
    return poll(page, FCP, what=f"first contentful paint of {url}")


def one_run(browser, base: str, path: str, profile: tuple[float, float]) -> dict:
    """Cold, warm online and offline FCP of ``path`` in a fresh context."""
    latency, kbps = profile
    context = browser.new_context()
    throttle = WorkerThrottle(browser, conditions(latency, kbps))
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", conditions(latency, kbps))
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        url = base + path
        cold = visit(page, url, throttle)
        poll(
            page,
            "async () => Boolean(navigator.serviceWorker.controller)"
            f" && Boolean(await caches.match({json.dumps(SHELL)}))",
            what="the service worker to control the page and finish its precache",
        )
        # As if the reader came back after the page's max-age: nothing from the
        # HTTP cache, the worker's network-first fetch goes to the network.
        cdp.send("Network.clearBrowserCache")
        warm = visit(page, url, throttle)
        poll(
            page,
            f"async () => Boolean(await caches.match({json.dumps(url)})) && {SYNCED}",
            what="the statement page in the worker's cache and a first sync",
        )
        context.set_offline(True)
        cdp.send("Network.emulateNetworkConditions", conditions(latency, kbps, offline=True))
        throttle.set(conditions(latency, kbps, offline=True))
        offline = visit(page, url, throttle)
        return {"cold": cold, "warm online": warm, "offline": offline}
    finally:
        throttle.close()
        context.close()


def main() -> None:
    """Run the benchmark and print medians per profile (raw runs saved under bench/results/)."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per network profile (default 3)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH")
    print(f"machine: {report.machine()}")
    work = scratch_folder("bulletin-ttc-")
    site = make_site(work / "site")
    results: dict = {}
    with start_gunicorn("app:app", env=site.env, log=work / "gunicorn.log") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            for name, profile in PROFILES.items():
                for run in range(args.runs):
                    measured = one_run(browser, server.url("").rstrip("/"), site.seed_url, profile)
                    results.setdefault(name, []).append(measured)
                    print(
                        f"  {name:<14} run {run + 1}: "
                        + ", ".join(f"{k} {v:,.0f} ms" for k, v in measured.items()),
                        flush=True,
                    )
        finally:
            browser.close()
    rows = []
    for name, runs in results.items():
        medians = {kind: report.median(run[kind] for run in runs) for kind in runs[0]}
        rows.append([name, medians["cold"], medians["warm online"], medians["offline"]])
    print(
        report.table(
            ["profile (4x CPU slowdown)", "FCP cold ms", "FCP warm online ms", "FCP offline ms"], rows
        )
    )
    print(
        f'medians of {args.runs} runs; goals: cold on "3G" <= {GOALS["cold"]:,.0f} ms,'
        f" offline <= {GOALS['offline']:,.0f} ms"
    )
    print(
        "saved",
        report.save("time_to_content", {"runs": results, "cpu_slowdown": CPU_SLOWDOWN, "profiles": PROFILES}),
    )


if __name__ == "__main__":
    main()
