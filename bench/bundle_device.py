"""Bundles on the device: importing one and making one, in headless Chromium at 4x CPU slowdown.

    .venv/bin/python -m bench.bundle_device [--records 500] [--runs 10] [--cpu-slowdown 4]

Bulletin runs under gunicorn on 127.0.0.1: a throwaway site with a root key
and a certified online key (made as ``flask keys init-root`` and ``keys
certify`` make them), so
every record is signed, holding N published statements of several KB each
(the samples' texts in English, Spanish, Arabic and Russian, repeated)
and nothing else. ``flask bundle`` writes the bundle of the N.

* Import: each run, a fresh browser context installs the app (the worker
  controls the page) while the sync files and ``/api/sync`` are refused, so
  the device holds none of the statements; then the network is cut, the
  offline page opened, the CPU slowed (the page's; the service worker's,
  which does the import, only where Chromium allows it: Chromium 156 does
  not, and the bench says so), and the time taken from the file set on
  ``#bundle-file`` to the report in ``#import-result``. Each run imports
  twice, on two contexts prepared alike (A and B, in alternating order); the
  import row is over both, the control row is A / B per run: the noise.
* Make: one device synced the N (``BULLETIN_OFFLINE_KEEP`` is N), offline,
  CPU slowed; each run times the click on "Make a bundle from this device"
  to the download event.

Every run is checked, and a failed check fails the run (exit status 1, no
figure): the import's report is exactly "Imported N statements." and the
device's store holds N records; a file made holds N records and is within
1% of the first file's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from bulletin.signing import keyring, keys
from testbed.chromium import LAUNCH_ARGS
from testbed.servers import start_gunicorn

from . import report
from .site import SAMPLES, flask, scratch_folder, site_env

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CPU_SLOWDOWN = 4
WAIT_SECONDS = 60.0  # the longest any single wait may take
BODY_BYTES = 4000  # at least this much text in each statement's body
# The samples with front matter (Markdown and HTML), one per language.
SOURCES = ("01-release-teodora-valesk.md", "02-liberen-a-teodora-valesk.md", "07-tadamun-idhaat-al-jisr.md")
HTML_SOURCE = "06-nablyudenie-za-vyborami-2026.html"
FRONT = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)
DATA_BLOCK = re.compile(r'<script type="application/json" id="bulletin-bundle">(.*?)</script>', re.S)

# Set on the offline page before a run: when the picker's file arrives (a listener on the document
# in the capture phase runs before the page's own), and when the report replaces "Checking…".
TIMER = """() => {
  window.benchImport = {};
  document.addEventListener("change", () => { window.benchImport.started = performance.now(); }, true);
  const result = document.getElementById("import-result");
  new MutationObserver(() => {
    const text = result.textContent;
    if (window.benchImport.started !== undefined && text && text !== window.benchImport.checking) {
      window.benchImport.ended = performance.now();
      window.benchImport.text = text;
    }
  }).observe(result, { childList: true, characterData: true, subtree: true });
  return true;
}"""
# The first words the import shows ("Checking the file…") are not its report.
CHECKING = "() => { window.benchImport.checking = JSON.parse(document.getElementById('import-strings').textContent).importing; }"
ENDED = "() => window.benchImport.ended !== undefined && window.benchImport"
# When the button's click reaches the page (the document's capture listener runs before the button's).
CLICK_TIMER = """() => {
  window.benchClicked = undefined;
  if (window.benchClickTimer) return;
  window.benchClickTimer = true;
  document.addEventListener("click", (event) => {
    if (event.target.id === "make-bundle") window.benchClicked = performance.timeOrigin + performance.now();
  }, true);
}"""
STORED = "async () => (await OfflineStore.all()).length"
CONTROLLED = "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)"
IMPORT_SHOWN = "() => !document.getElementById('import').hidden"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def wait_for(page, expression: str, what: str, timeout: float = WAIT_SECONDS):
    """The first truthy value of ``expression`` in the page, polled until a deadline; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(expression)
        except PlaywrightError:  # a navigation destroyed the context meanwhile
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.02)  # poll interval, bounded by the deadline


# -- the site


def sample_parts(name: str) -> tuple[dict, str]:
    """A sample's front matter (the simple ``key: value`` lines) and its body."""
    front, body = FRONT.match((SAMPLES / name).read_text("utf-8")).groups()
    fields = dict(
        line.split(": ", 1) for line in front.splitlines() if ": " in line and not line.startswith(" ")
    )
    return fields, body.strip()


def write_statements(folder: Path, count: int) -> int:
    """``count`` statement files in ``folder``, each of several KB and its own words; their bodies' bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [(name, *sample_parts(name)) for name in (*SOURCES, HTML_SOURCE)]
    total = 0
    for number in range(count):
        name, fields, body = sources[number % len(sources)]
        html = name.endswith(".html")
        opening = f"<p>Update {number + 1}.</p>" if html else f"Update {number + 1}."
        text = opening
        while len(text.encode("utf-8")) < BODY_BYTES:
            text += "\n\n" + body
        day = dt.date(2026, 11, 1) - dt.timedelta(days=number)
        (folder / f"{number:05d}{Path(name).suffix}").write_text(
            f"---\nslug: bench-{number + 1}\ntitle: {fields['title']} ({number + 1})\n"
            f"date: {day.isoformat()}\nlang: {fields['lang']}\n---\n\n{text}\n",
            "utf-8",
        )
        total += len(text.encode("utf-8"))
    return total


def make_signed_site(folder: Path, count: int) -> tuple[dict, Path, int]:
    """A site in ``folder`` with keys and ``count`` published statements; its environment, the bundle of them
    written by ``flask bundle``, and the bodies' bytes."""
    env = site_env(folder, BULLETIN_OFFLINE_KEEP=str(max(count, 1)))
    folder.mkdir(parents=True, exist_ok=True)
    # A root kept outside the site's folder certifies an online key in it (what `flask keys init-root` and
    # `keys certify` do), before `prepare`, which would otherwise make development keys.
    root = folder.parent / "root.key"
    keyring.init_root(root)
    keyring.certify(folder, keys.read_private(root), now=dt.datetime.now(dt.UTC))
    flask(env, "prepare")
    signed = json.loads(flask(env, "keys", "show", "--json"))
    if not signed["root"] or not signed["keys"]:
        raise RuntimeError(f"the site has no keys to sign with: {signed}")
    body_bytes = write_statements(folder / "statements", count)
    flask(env, "import", str(folder / "statements"))
    bundle = folder / "bundle.html"
    flask(env, "bundle", str(bundle), "--max-bytes", str(64 * 1024 * 1024))
    held = len(records_in(bundle))
    if held != count:
        raise AssertionError(f"flask bundle wrote {held} records, not {count}")
    return env, bundle, body_bytes


def records_in(path: Path) -> list:
    """The records of a bundle file's data block."""
    return json.loads(DATA_BLOCK.search(path.read_text("utf-8"))[1])["records"]


# -- the worker's CPU


class WorkerSlowdown:
    """``Emulation.setCPUThrottlingRate`` on one context's service worker (where the import runs).

    Playwright opens no CDP session on a worker: a browser-level session
    attaches to the worker's target (not flattened) and speaks to it with
    ``Target.sendMessageToTarget``; each message is waited for (bounded) and
    an error from the worker fails the run, so a slowdown the worker did not
    take is never measured as one.
    """

    def __init__(self, browser, page):
        page_session = page.context.new_cdp_session(page)
        self.context_id = page_session.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
        page_session.detach()
        self.cdp = browser.new_browser_cdp_session()
        self.replies: dict[int, dict] = {}
        self.next_id = 0
        self.cdp.on("Target.receivedMessageFromTarget", self._message)
        workers = [
            info
            for info in self.cdp.send("Target.getTargets")["targetInfos"]
            if info["type"] == "service_worker" and info.get("browserContextId") == self.context_id
        ]
        if len(workers) != 1:
            raise RuntimeError(f"expected one service worker in the context, found {len(workers)}")
        attached = self.cdp.send(
            "Target.attachToTarget", {"targetId": workers[0]["targetId"], "flatten": False}
        )
        self.session_id = attached["sessionId"]

    def _message(self, event: dict) -> None:
        message = json.loads(event["message"])
        if "id" in message:
            self.replies[message["id"]] = message

    def slow(self, rate: float) -> None:
        """Set the worker's CPU slowdown; waits for the worker's answer."""
        self.next_id += 1
        message = {"id": self.next_id, "method": "Emulation.setCPUThrottlingRate", "params": {"rate": rate}}
        self.cdp.send(
            "Target.sendMessageToTarget", {"sessionId": self.session_id, "message": json.dumps(message)}
        )
        deadline = time.monotonic() + 10
        while self.next_id not in self.replies:
            if time.monotonic() > deadline:
                raise TimeoutError("the service worker did not answer the CPU slowdown")
            self.cdp.send("Target.getTargets")  # a round trip: Playwright delivers pending events
        reply = self.replies.pop(self.next_id)
        if "error" in reply:
            raise RuntimeError(f"the service worker refused the CPU slowdown: {reply['error']}")

    def close(self) -> None:
        self.cdp.detach()


def slow_down(browser, page, rate: float) -> WorkerSlowdown | None:
    """The page's CPU slowed ``rate`` times, and its service worker's where Chromium allows it: the worker's
    handle (to close), or None where Chromium refuses (it says "only supported for pages, not workers")."""
    session = page.context.new_cdp_session(page)
    session.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    worker = WorkerSlowdown(browser, page)
    try:
        worker.slow(rate)
    except RuntimeError as e:
        if "only supported for pages" not in str(e):
            raise
        worker.close()
        return None
    return worker


# -- import


def refuse(route) -> None:
    """A request answered by no server: as if the network failed."""
    route.abort()


def imported_words(count: int) -> str:
    """The report of an import of ``count`` new statements and nothing else, as the app words it in English."""
    return f"Imported {count} statement{'' if count == 1 else 's'}."


def installed_without_statements(browser, base_url: str):
    """A fresh context where the app is installed (the worker controls the page) but holds no statement:
    the sync files and /api/sync are refused while it installs. Then offline, on the offline page."""
    context = browser.new_context(base_url=base_url, service_workers="allow", accept_downloads=True)
    context.route("**/sync/**", refuse)
    context.route("**/api/sync*", refuse)
    page = context.new_page()
    page.set_default_timeout(WAIT_SECONDS * 1000)
    page.goto("/")
    wait_for(page, CONTROLLED, "a service worker controlling the page")
    context.set_offline(True)
    page.goto("/offline/")
    wait_for(page, IMPORT_SHOWN, "the offline page's import section")
    held = page.evaluate(STORED)
    if held:
        raise AssertionError(f"the fresh device already holds {held} records")
    return context, page


def import_once(browser, base_url: str, bundle: Path, count: int, slowdown: float) -> tuple[float, bool]:
    """One import of ``bundle`` on a freshly installed, offline, slowed device: its milliseconds (checked),
    and whether the worker's CPU was slowed too."""
    context, page = installed_without_statements(browser, base_url)
    worker = None
    try:
        page.evaluate(TIMER)
        page.evaluate(CHECKING)
        worker = slow_down(browser, page, slowdown)
        page.set_input_files("#bundle-file", str(bundle))
        timed = wait_for(page, ENDED, "the import's report")
        expected = imported_words(count)
        if timed["text"] != expected:
            raise AssertionError(f"the import said {timed['text']!r}, not {expected!r}")
        held = page.evaluate(STORED)
        if held != count:
            raise AssertionError(f"the device holds {held} records after the import, not {count}")
        return timed["ended"] - timed["started"], worker is not None
    finally:
        if worker is not None:
            worker.close()
        context.close()


def measure_imports(browser, base_url: str, bundle: Path, count: int, runs: int, slowdown: float) -> dict:
    """Per run: A and B, each a fresh device importing the same file, in alternating order."""
    # The first warms up the browser and the server, not counted; it tells whether the worker is slowed.
    _, worker_slowed = import_once(browser, base_url, bundle, count, slowdown)
    times: dict[str, list[float]] = {"A": [], "B": []}
    for run in range(runs):
        for label in ("A", "B") if run % 2 == 0 else ("B", "A"):
            ms, slowed = import_once(browser, base_url, bundle, count, slowdown)
            if slowed != worker_slowed:
                raise RuntimeError("the worker's CPU slowdown was taken in some runs and not in others")
            times[label].append(ms)
    return {**times, "worker_slowed": worker_slowed}


# -- make


def synced_device(browser, base_url: str, count: int):
    """A device that synced the ``count`` statements (and the signed index), then offline on the offline page."""
    context = browser.new_context(base_url=base_url, service_workers="allow", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_SECONDS * 1000)
    page.goto("/")
    wait_for(page, CONTROLLED, "a service worker controlling the page")
    wait_for(
        page,
        f"async () => (await OfflineStore.all()).length === {count} && !!(await OfflineStore.getMeta('signedIndex'))",
        f"{count} records and the signed index on the device",
        timeout=WAIT_SECONDS * 2,
    )
    context.set_offline(True)
    page.goto("/offline/")
    wait_for(page, "() => !document.getElementById('device-bundle').hidden", "the make-a-bundle section")
    return context, page


def make_once(page, folder: Path, run: int) -> tuple[float, Path]:
    """One click on "Make a bundle from this device"; the milliseconds from the click as the page got it to
    the download event, and the file."""
    arrived: list[float] = []
    # Wall-clock milliseconds on both sides (one machine, one clock): Playwright's own work before the
    # click reaches the page is left out, the download event's way to this process is in.
    page.once("download", lambda _download: arrived.append(time.time() * 1000))
    page.evaluate(CLICK_TIMER)
    button = page.get_by_role("button", name="Make a bundle from this device")
    with page.expect_download(timeout=WAIT_SECONDS * 1000) as download:
        button.click()
    saved = folder / f"made-{run}.html"
    download.value.save_as(saved)
    wait_for(page, "() => !document.getElementById('make-bundle').disabled", "the button back")
    clicked = page.evaluate("() => window.benchClicked")
    if not arrived or not clicked:
        raise RuntimeError("the click or the download was not seen")
    return arrived[0] - clicked, saved


def measure_makes(browser, base_url: str, folder: Path, count: int, runs: int, slowdown: float) -> dict:
    """Runs of "Make a bundle from this device" on one synced device; each file checked."""
    context, page = synced_device(browser, base_url, count)
    worker = None
    try:
        worker = slow_down(browser, page, slowdown)
        make_once(page, folder, -1)[1].unlink()  # warms up; not counted
        times, sizes = [], []
        for run in range(runs):
            ms, saved = make_once(page, folder, run)
            held = len(records_in(saved))
            if held != count:
                raise AssertionError(f"the file made holds {held} records, not {count}")
            sizes.append(saved.stat().st_size)
            if abs(sizes[-1] - sizes[0]) > sizes[0] / 100:
                raise AssertionError(f"the file made is {sizes[-1]:,} bytes, the first one {sizes[0]:,}")
            times.append(ms)
            saved.unlink()
        return {"ms": times, "bytes": sizes}
    finally:
        if worker is not None:
            worker.close()
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cpu-slowdown", type=float, default=CPU_SLOWDOWN, help="1: no slowdown")
    args = parser.parse_args()
    if args.records < 1 or args.runs < 1:
        parser.error("--records and --runs must be at least 1")
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    work = scratch_folder("bulletin-bundle-device-")
    try:
        env, bundle, body_bytes = make_signed_site(work / "site", args.records)
        print(f"site ready in {time.monotonic() - started:.0f} s: {args.records} statements", flush=True)
        with (
            start_gunicorn("app:app", env=env, log=work / "gunicorn.log") as server,
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=list(LAUNCH_ARGS), headless=True)
            try:
                imports = measure_imports(
                    browser, server.url(""), bundle, args.records, args.runs, args.cpu_slowdown
                )
                makes = measure_makes(
                    browser, server.url(""), work, args.records, args.runs, args.cpu_slowdown
                )
            finally:
                browser.close()
    except (AssertionError, TimeoutError, RuntimeError, PlaywrightError) as e:
        print(f"a run failed, no figures: {e}", file=sys.stderr)
        sys.exit(1)

    both = imports["A"] + imports["B"]
    slowed = (
        "the pages and the worker"
        if imports["worker_slowed"]
        else "the pages (this Chromium slows no service worker: the import's work in the worker runs at full speed)"
    )
    ratios = [a / b for a, b in zip(imports["A"], imports["B"], strict=True)]
    bundle_bytes = bundle.stat().st_size
    made_bytes = makes["bytes"][0]
    print(
        f"{args.records} statements ({body_bytes / args.records / 1000:.1f} kB of body each), {args.runs} runs,"
        f" CPU slowed {args.cpu_slowdown:g}x: {slowed}; {report.machine()}"
    )
    print(
        report.table(
            ["bundle", "p50 ms", "p99 ms", "file bytes"],
            [
                [
                    "import (flask bundle's file, fresh device, offline)",
                    report.median(both),
                    percentile(both, 0.99),
                    bundle_bytes,
                ],
                [
                    "make on the device (click to download)",
                    report.median(makes["ms"]),
                    percentile(makes["ms"], 0.99),
                    made_bytes,
                ],
            ],
        )
    )
    print()
    print(
        report.table(
            ["control", "p50", "p99"],
            [
                [
                    "import A / import B (same file, alike devices, order alternating)",
                    report.median(ratios),
                    percentile(ratios, 0.99),
                ]
            ],
        )
    )
    print(
        f"\nevery run checked: {imported_words(args.records)!r} and {args.records} records on the device;"
        f" every file made holds {args.records} records, within 1% of the first's size; run took"
        f" {time.monotonic() - started:.0f} s"
    )
    print(
        report.save(
            "bundle_device",
            {
                "records": args.records,
                "runs": args.runs,
                "cpu_slowdown": args.cpu_slowdown,
                "body_bytes": body_bytes,
                "bundle_bytes": bundle_bytes,
                "worker_slowed": imports["worker_slowed"],
                "import_ms": {"A": imports["A"], "B": imports["B"]},
                "import_ratio_a_b": ratios,
                "make_ms": makes["ms"],
                "made_bytes": makes["bytes"],
            },
        )
    )


if __name__ == "__main__":
    main()
