"""Helpers for driving Bulletin in a real headless Chromium (Playwright's sync API).

Facts these helpers are built on (measured with Chromium 156, Playwright 1.65):

* Bulletin's CSP has no ``'unsafe-eval'``. ``page.evaluate`` goes through the
  DevTools protocol and is never blocked by it, so every wait here polls
  ``page.evaluate`` against a deadline (:func:`poll`) rather than relying on
  ``page.wait_for_function``, which compiles its predicate inside the page.
* Init scripts (``page.add_init_script``) and bindings (``page.expose_binding``)
  are injected by DevTools too and run under the page's CSP: that is how
  :class:`ErrorCollector` hears ``securitypolicyviolation`` events.
* ``context.set_offline(True)`` cuts the page's and the service worker's
  requests. See :func:`cdp_throttle` for slowing them down.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from testbed.chromium import LAUNCH_ARGS

# ------------------------------------------------------------ the browser

CHROMIUM_ENV = "CHROMIUM_PATH"
SYSTEM_CHROMIUM = "/usr/bin/chromium"


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium(playwright=None) -> tuple[str | None, list[str]]:
    """The Chromium to drive, and what was tried.

    In order: the ``CHROMIUM_PATH`` variable (when set, it must be right: no
    silent fallback), ``/usr/bin/chromium``, then the browser Playwright
    downloads for itself, when it is there. Never downloads anything.
    """
    tried = []
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        if _executable(explicit):
            return explicit, tried
        tried.append(f"{CHROMIUM_ENV}={explicit} (no executable file there)")
        return None, tried
    tried.append(f"{CHROMIUM_ENV} (not set)")
    if _executable(SYSTEM_CHROMIUM):
        return SYSTEM_CHROMIUM, tried
    tried.append(f"{SYSTEM_CHROMIUM} (missing)")
    if playwright is not None:
        own = playwright.chromium.executable_path
        if own and _executable(own):
            return own, tried
        tried.append(f"Playwright's own Chromium at {own} (not downloaded)")
    return None, tried


def missing_chromium_message(tried: list[str]) -> str:
    return (
        "No Chromium for the browser tests. Tried: " + "; ".join(tried) + ".\n"
        "Install one of:\n"
        "  * Debian/Ubuntu: `apt-get install chromium` (provides /usr/bin/chromium)\n"
        "  * any Chromium or Chrome already installed: `CHROMIUM_PATH=/path/to/chromium make test`\n"
        "  * where the internet allows it: `.venv/bin/python -m playwright install chromium`\n"
        "Or leave the browser tests out with `-m 'not browser'`."
    )


def launch_options(executable_path: str) -> dict:
    """Keyword arguments for ``chromium.launch`` / ``launch_persistent_context``."""
    return {"executable_path": executable_path, "args": list(LAUNCH_ARGS), "headless": True}


# ------------------------------------------------------------------ waits


class PollTimeout(AssertionError):
    pass


def poll(
    page: Page, expression: str, arg=None, *, timeout: float = 10.0, interval: float = 0.05, message: str = ""
):
    """Evaluate ``expression`` (with ``arg``) until it is truthy; return that value.

    ``expression`` is what ``page.evaluate`` takes: an expression or a
    (possibly async) function source. Errors while a page navigates are
    retried. Raises :class:`PollTimeout` with the last value or error after
    ``timeout`` seconds. Use this instead of ``page.wait_for_function``.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = page.evaluate(expression, arg)
            if value:
                return value
            last = value
        except PlaywrightError as e:
            if page.is_closed():
                raise
            last = e  # e.g. "Execution context was destroyed" during a navigation
        if time.monotonic() >= deadline:
            what = message or expression
            raise PollTimeout(f"{what} was not true within {timeout}s; last value: {last!r}")
        time.sleep(interval)  # polling interval only; the wait is bounded by the deadline


def wait_until(page: Page, predicate, *, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Wait for a Python-side condition (e.g. an event a page handler records); return its value.

    Each round trip to the page lets Playwright deliver the events it holds
    (console messages, requests...), so handlers run while this waits.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            page.evaluate("0")
        except PlaywrightError:
            pass  # closed, or navigating: the predicate decides
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise PollTimeout(f"{message or predicate} was not true within {timeout}s; last value: {value!r}")
        time.sleep(interval)  # polling interval only; the wait is bounded by the deadline


def goto_fails(page: Page, url: str, timeout: float = 10.0) -> str:
    """Navigate expecting a network error (server down, offline); return Playwright's message.

    Playwright reports a failed navigation before Chromium commits its error
    page (``chrome-error://chromewebdata/``); that late commit would interrupt
    the test's next navigation (measured: most next navigations failed with
    "interrupted by another navigation to chrome-error://chromewebdata/").
    This waits for the error page.
    """
    try:
        response = page.goto(url, timeout=timeout * 1000)
    except PlaywrightError as e:
        message = e.message
    else:
        status = response.status if response else None
        raise AssertionError(f"navigation to {url} did not fail: HTTP {status}")
    if "net::ERR_" in message or "chrome-error://" in message:
        page.wait_for_url(re.compile(r"^chrome-error://"), timeout=timeout * 1000)
        page.wait_for_load_state("load", timeout=timeout * 1000)
    return message


def wait_for_controller(page: Page, timeout: float = 10.0) -> None:
    """Wait until a service worker controls the page (``navigator.serviceWorker.controller``)."""
    poll(
        page,
        "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)",
        timeout=timeout,
        message="a service worker controlling the page",
    )


def ready_offline(page: Page, path: str = "/") -> None:
    """A reader's first visit: the worker installs, takes control and finishes its first sync."""
    page.goto(path)
    wait_for_controller(page)
    poll(
        page,
        "() => document.getElementById('app-status').textContent.includes('Ready to read offline')",
        message="'Ready to read offline'",
    )


def accept_update(page: Page, timeout: float = 20.0) -> None:
    """Wait for "Update available.", press its Reload button, and wait for the new worker to control the page."""
    poll(
        page,
        "() => document.getElementById('app-status').textContent.includes('Update available.')",
        timeout=timeout,
    )
    with page.expect_navigation():
        page.click("#app-status button")
    wait_for_controller(page)


def wait_for_cached(page: Page, url: str, timeout: float = 10.0) -> None:
    """Wait until ``caches.match(url)`` finds a response (cache writes are asynchronous)."""
    poll(
        page,
        "async (url) => !!(await caches.match(url))",
        url,
        timeout=timeout,
        message=f"caches.match({url!r})",
    )


# ------------------------------------------------------ what a device holds

_DEVICE_CONTENTS = """async () => {
  const found = {urls: [], bodies: [], records: []};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      found.urls.push(new URL(request.url).pathname);
      found.bodies.push(await (await cache.match(request)).text());
    }
  }
  const settle = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  for (const info of await indexedDB.databases()) {
    const db = await settle(indexedDB.open(info.name));
    for (const name of db.objectStoreNames) {
      const records = await settle(db.transaction(name).objectStore(name).getAll());
      found.records.push(...records.map((record) => JSON.stringify(record)));
    }
    db.close();  // an open connection would block the page's own upgrades
  }
  return found;
}"""


def device_contents(page: Page) -> dict:
    """Everything the page's origin keeps on the device, read raw (no Bulletin code involved).

    ``urls``: the path of every entry of every Cache Storage cache; ``bodies``:
    their bodies as text; ``records``: every record of every IndexedDB
    database, as JSON. The page may be any page of the origin.
    """
    return page.evaluate(_DEVICE_CONTENTS)


# ---------------------------------------------------- offline and throttled

_ACTIVE_THROTTLES: list = []

NO_THROTTLE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def _conditions(latency_ms: float, down_kbps: float | None, up_kbps: float | None, offline=False) -> dict:
    def rate(kbps):  # CDP wants bytes per second; -1 is "no limit"
        return -1 if not kbps else kbps * 1000 / 8

    return {
        "offline": offline,
        "latency": latency_ms,
        "downloadThroughput": rate(down_kbps),
        "uploadThroughput": rate(up_kbps),
    }


def go_offline(context: BrowserContext) -> None:
    """Cut the network for the context's pages and service workers (``navigator.onLine`` false).

    Throttles started with :func:`cdp_throttle` are switched offline too:
    while a throttle is active its conditions would otherwise override
    ``set_offline`` for the worker it is attached to.
    """
    context.set_offline(True)
    for throttle in [t for t in _ACTIVE_THROTTLES if t.applies_to(context)]:
        throttle.set_offline(True)


def go_online(context: BrowserContext) -> None:
    """Undo :func:`go_offline` (active throttles go back to their own conditions)."""
    context.set_offline(False)
    for throttle in [t for t in _ACTIVE_THROTTLES if t.applies_to(context)]:
        throttle.set_offline(False)


class PageThrottle:
    """CDP network emulation on one page's session. See :func:`cdp_throttle`."""

    def __init__(self, page: Page, conditions: dict):
        self.page = page
        self.conditions = conditions
        self._session = page.context.new_cdp_session(page)
        self._session.send("Network.enable")
        self._session.send("Network.emulateNetworkConditions", conditions)
        _ACTIVE_THROTTLES.append(self)

    def applies_to(self, context: BrowserContext) -> bool:
        return self.page.context == context

    def set_offline(self, offline: bool) -> None:
        self._session.send("Network.emulateNetworkConditions", dict(self.conditions, offline=offline))

    def stop(self) -> None:
        """Lift the throttle and detach (an attached session makes ``navigator.onLine`` lie)."""
        if self not in _ACTIVE_THROTTLES:
            return
        _ACTIVE_THROTTLES.remove(self)
        try:
            self._session.send("Network.emulateNetworkConditions", NO_THROTTLE)
            self._session.detach()
        except PlaywrightError:
            pass  # the page or context is already closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _browser_context_id(context: BrowserContext) -> str:
    """The CDP browserContextId of a Playwright context (asked through one of its pages)."""
    page = context.pages[0] if context.pages else None
    temporary = page is None
    if temporary:
        page = context.new_page()
    session = context.new_cdp_session(page)
    try:
        return session.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    finally:
        session.detach()
        if temporary:
            page.close()


class WorkerThrottle:
    """CDP network emulation on every service worker of a browser. See :func:`cdp_throttle`.

    A browser-level CDP session discovers the service-worker targets (those
    running now and those started later), attaches to each one (non-flat
    sessions, the only kind Playwright's ``CDPSession`` can address) and sends
    ``Network.emulateNetworkConditions`` through ``Target.sendMessageToTarget``,
    waiting (bounded) for each worker to acknowledge it.
    """

    TYPES = ("service_worker",)
    ACK_TIMEOUT = 5.0

    def __init__(self, browser: Browser, conditions: dict, context: BrowserContext | None = None):
        self.browser = browser
        self.context = context
        self.conditions = conditions
        self._offline = False
        self._context_id = _browser_context_id(context) if context is not None else None
        self._session = browser.new_browser_cdp_session()
        self._claimed: set[str] = set()  # targetIds being attached or attached
        self._targets: dict[str, str] = {}  # targetId -> sessionId
        self._waiting: dict[int, str] = {}  # message id -> targetId, until acknowledged
        self._replies: dict[int, dict] = {}
        self._next_id = 0
        self._session.on("Target.receivedMessageFromTarget", self._on_message)
        self._session.on("Target.detachedFromTarget", self._on_detached)
        self._session.on("Target.targetDestroyed", lambda event: self._forget(event["targetId"]))
        # Event handlers run between other Playwright calls; _attach claims a
        # target before its first call, so a worker is never attached twice.
        self._session.on("Target.targetCreated", lambda event: self._attach(event["targetInfo"]))
        _ACTIVE_THROTTLES.append(self)
        try:
            self._session.send("Target.setDiscoverTargets", {"discover": True})
            for info in self._session.send("Target.getTargets")["targetInfos"]:
                self._attach(info)
            self.settle()
        except BaseException:
            self.stop()
            raise

    @property
    def workers(self) -> int:
        """How many service workers the throttle is attached to now."""
        return len(self._targets)

    def applies_to(self, context: BrowserContext) -> bool:
        return context == self.context if self.context is not None else context.browser == self.browser

    # -- CDP plumbing
    def _on_message(self, event) -> None:
        message = json.loads(event["message"])
        if "id" in message:
            self._replies[message["id"]] = message
            self._waiting.pop(message["id"], None)
        elif message.get("method") == "Inspector.workerScriptLoaded":
            # A stopped worker started again: it forgot its emulated conditions.
            for target_id, session_id in list(self._targets.items()):
                if session_id == event.get("sessionId") and self in _ACTIVE_THROTTLES:
                    self._send(target_id, "Network.emulateNetworkConditions", self._current())

    def _on_detached(self, event) -> None:
        for target_id, session_id in list(self._targets.items()):
            if session_id == event.get("sessionId"):
                self._forget(target_id)

    def _forget(self, target_id: str) -> None:
        self._claimed.discard(target_id)
        self._targets.pop(target_id, None)
        for message_id, waiting_for in list(self._waiting.items()):
            if waiting_for == target_id:
                del self._waiting[message_id]

    def _send(self, target_id: str, method: str, params: dict) -> None:
        self._next_id += 1
        message_id = self._next_id
        self._waiting[message_id] = target_id
        message = json.dumps({"id": message_id, "method": method, "params": params})
        try:
            params = {"sessionId": self._targets[target_id], "message": message}
            self._session.send("Target.sendMessageToTarget", params)
        except PlaywrightError:
            self._forget(target_id)  # the worker went away meanwhile

    def _attach(self, info: dict) -> None:
        target_id = info["targetId"]
        if info["type"] not in self.TYPES or target_id in self._claimed or self not in _ACTIVE_THROTTLES:
            return
        if self._context_id is not None and info.get("browserContextId") != self._context_id:
            return
        self._claimed.add(target_id)
        try:
            attached = self._session.send("Target.attachToTarget", {"targetId": target_id, "flatten": False})
        except PlaywrightError:
            self._claimed.discard(target_id)  # the worker went away meanwhile
            return
        self._targets[target_id] = attached["sessionId"]
        self._send(target_id, "Network.emulateNetworkConditions", self._current())

    def _current(self) -> dict:
        return dict(self.conditions, offline=self._offline)

    def settle(self) -> None:
        """Wait (bounded) until every running worker is attached and has acknowledged.

        A stopped worker (idle workers are stopped by the browser) is still a
        target: it is attached, and its messages wait until it starts again.
        """
        deadline = time.monotonic() + self.ACK_TIMEOUT
        while True:
            # This round trip also lets Playwright deliver pending events.
            infos = self._session.send("Target.getTargets")["targetInfos"]
            running = {info["targetId"] for info in infos if info["targetId"] in self._claimed}
            unattached = {t for t in self._claimed if t not in self._targets}
            waiting = {t for t in self._waiting.values() if t in running} | unattached
            if not waiting:
                break
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    "service workers did not acknowledge network emulation within "
                    f"{self.ACK_TIMEOUT}s: {sorted(waiting)}"
                )
        errors = [reply["error"] for reply in self._replies.values() if "error" in reply]
        self._replies.clear()
        if errors:
            raise RuntimeError(f"network emulation refused by a service worker: {errors}")

    def _broadcast(self, conditions: dict) -> None:
        for target_id in list(self._targets):
            self._send(target_id, "Network.emulateNetworkConditions", conditions)
        self.settle()

    # -- for tests
    def set_offline(self, offline: bool) -> None:
        self._offline = offline
        self._broadcast(self._current())

    def stop(self) -> None:
        if self not in _ACTIVE_THROTTLES:
            return
        _ACTIVE_THROTTLES.remove(self)
        try:
            self._session.send("Target.setDiscoverTargets", {"discover": False})
            self._broadcast(NO_THROTTLE)
            for session_id in list(self._targets.values()):
                self._session.send("Target.detachFromTarget", {"sessionId": session_id})
            self._session.detach()
        except (PlaywrightError, TimeoutError):
            pass  # the browser or the worker is gone
        self._targets.clear()
        self._claimed.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def cdp_throttle(
    target: Page | BrowserContext | Browser,
    latency_ms: float,
    down_kbps: float | None = None,
    up_kbps: float | None = None,
) -> PageThrottle | WorkerThrottle:
    """Throttle the network through CDP; returns a handle with ``.stop()`` (also a context manager).

    ``target`` is a page (that page's own requests), a context (its service
    workers) or a browser (every service worker). Rates in kilobits per
    second (None: unlimited), latency in milliseconds.

    What slows what (measured, Chromium 156, a pass-through worker):

    * Page-level ``Network.emulateNetworkConditions`` (``cdp_throttle(page)``)
      slows the page's own requests: a first visit, before a service worker
      controls the page. It does **not** slow what a controlling worker
      fetches, navigations included: a 100 kB fetch took 0.02 s under
      500 ms / 250 kbit/s.
    * ``cdp_throttle(context)`` or ``cdp_throttle(browser)`` attach a
      browser-level CDP session to each service-worker target (running ones,
      and ones started later) and emulate the conditions in the worker
      itself: the same fetch then took 3.7 s (500 ms + 100 kB at 250 kbit/s).
      Prefer the context: a browser-wide throttle also reaches workers of
      contexts still shutting down, which may never acknowledge.
    * Limits of the worker throttle: a worker that starts while the throttle
      is on (a new version installing, or a stopped worker woken by a fetch)
      makes its first requests before the throttle reaches it; later ones are
      throttled. Call ``throttle.settle()`` after waking a worker, or use the
      live server's ``slow_link(...)``, which slows every response at the
      source, deterministically, install-time precaching included.
    * Throttle both the page and its context for a whole slow network.
    * While a throttle is on, its conditions override ``context.set_offline``
      for its target (measured: the worker still fetched). :func:`go_offline`
      and :func:`go_online` switch active throttles too; use them.
    """
    conditions = _conditions(latency_ms, down_kbps, up_kbps)
    if isinstance(target, Page):
        return PageThrottle(target, conditions)
    if isinstance(target, BrowserContext):
        return WorkerThrottle(target.browser, conditions, context=target)
    if isinstance(target, Browser):
        return WorkerThrottle(target, conditions)
    raise TypeError(f"cdp_throttle takes a Page, BrowserContext or Browser, not {type(target).__name__}")


def stop_all_throttles() -> None:
    while _ACTIVE_THROTTLES:
        _ACTIVE_THROTTLES[0].stop()  # stop() takes it off the list first


# ------------------------------------------- console, exceptions and CSP

_CSP_BINDING = "__bulletinTestCspViolation"
_CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (event) => {
  const report = window[BINDING];
  if (typeof report === 'function') {
    report({
      directive: event.effectiveDirective || event.violatedDirective,
      blocked: event.blockedURI,
      source: event.sourceFile,
      line: event.lineNumber,
      sample: event.sample,
      disposition: event.disposition,
      document: event.documentURI,
    });
  }
}, true);
""".replace("BINDING", json.dumps(_CSP_BINDING))


class ErrorCollector:
    """What went wrong in a page: console errors, uncaught exceptions, CSP violations.

    CSP violations are seen twice, on purpose: as ``securitypolicyviolation``
    events (an init script forwards them through a binding; both are injected
    by DevTools and work under the page's CSP), and as the console error
    Chromium prints for each ("... violates the following Content Security
    Policy directive ..."). Service workers' console errors are collected too;
    Playwright 1.65 reports a controlling worker's messages on the page as
    well, so those may be listed twice.
    """

    def __init__(self, page: Page):
        self.page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.csp_violations: list[dict] = []
        self.worker_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.expose_binding(_CSP_BINDING, lambda _source, report: self.csp_violations.append(report))
        page.add_init_script(_CSP_LISTENER)
        self._watched_workers: set = set()
        page.context.on("serviceworker", self._watch_worker)
        for worker in page.context.service_workers:
            self._watch_worker(worker)

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = message.location or {}
            at = f"{where.get('url', '')}:{where.get('lineNumber', '')}"
            self.console_errors.append(f"{message.text} [{at}]")

    def _on_page_error(self, error) -> None:
        stack = (error.stack or "").strip().splitlines()
        at = f" [{stack[1].strip()}]" if len(stack) > 1 else ""
        self.page_errors.append(f"{error.name}: {error.message}{at}")

    def _watch_worker(self, worker) -> None:
        if worker in self._watched_workers:
            return
        self._watched_workers.add(worker)

        def on_console(message):
            if message.type == "error":
                self.worker_errors.append(f"{worker.url}: {message.text}")

        try:
            worker.on("console", on_console)
        except (PlaywrightError, ValueError):
            pass  # an older Playwright without worker console events

    @property
    def problems(self) -> list[str]:
        """Everything collected, one line each, with its kind."""
        csp = [
            f"CSP violation: {v.get('directive')} blocked {v.get('blocked') or '(inline)'} "
            f"in {v.get('source') or v.get('document')}:{v.get('line')} ({v.get('disposition')})"
            for v in self.csp_violations
        ]
        return (
            [f"console.error: {text}" for text in self.console_errors]
            + [f"uncaught exception: {text}" for text in self.page_errors]
            + csp
            + [f"service worker console.error: {text}" for text in self.worker_errors]
        )

    def clear(self) -> None:
        self.console_errors.clear()
        self.page_errors.clear()
        self.csp_violations.clear()
        self.worker_errors.clear()

    def assert_clean(self, allow: list[str] | tuple[str, ...] = ()) -> None:
        """Fail listing every problem, except those a regex in ``allow`` finds (re.search)."""
        # Console messages arrive asynchronously: one round trip delivers those already sent.
        if not self.page.is_closed():
            self.page.evaluate("0")
        patterns = [re.compile(p) for p in allow]
        left = [p for p in self.problems if not any(pattern.search(p) for pattern in patterns)]
        if left:
            raise AssertionError("the page reported problems:\n  " + "\n  ".join(left))


def collect_errors(page: Page) -> ErrorCollector:
    """Start collecting a page's errors. Attach before the first ``goto``."""
    return ErrorCollector(page)


# ------------------------------------------------------------ installability


def installability_errors(
    playwright, user_data_dir: str | Path, url: str, *, executable_path: str, timeout: float = 5.0
) -> list[str]:
    """Chromium's installability error ids for ``url``; ``[]`` means installable.

    Runs in a persistent context (``user_data_dir``; an ordinary context always
    answers ``in-incognito``) and asks CDP ``Page.getInstallabilityErrors``
    until it answers ``[]`` (the manifest and the worker load asynchronously)
    or ``timeout`` seconds pass; then returns the last answer.
    """
    options = launch_options(executable_path)
    context = playwright.chromium.launch_persistent_context(str(user_data_dir), **options)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(url)
        session = context.new_cdp_session(page)
        deadline = time.monotonic() + timeout
        while True:
            answer = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
            errors = [error["errorId"] for error in answer]
            if not errors or time.monotonic() >= deadline:
                break
            time.sleep(0.1)  # polling interval; bounded by the deadline
        session.detach()
        return errors
    finally:
        context.close()


# ------------------------------------------------------------- accessibility

DEFAULT_AXE_TAGS = ("wcag2a", "wcag2aa", "wcag22aa")
_AXE_SOURCE: str | None = None


def axe_source() -> str:
    """axe-core's ``axe.min.js`` as shipped inside the axe-playwright-python wheel (no npm, no network)."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        from importlib import resources

        try:
            shipped = resources.files("axe_playwright_python") / "axe.min.js"
            _AXE_SOURCE = shipped.read_text(encoding="utf-8")
        except ModuleNotFoundError as e:
            raise RuntimeError("axe-core is missing: `.venv/bin/pip install -r requirements-dev.txt`") from e
    return _AXE_SOURCE


# With scripting disabled the HTML parser keeps <noscript> content as elements.
_SCRIPTING_DISABLED = """() => {
  const probe = document.createElement('div');
  probe.innerHTML = '<noscript><p></p></noscript>';
  return probe.querySelector('noscript p') !== null;
}"""

_AXE_RUN = """async ([context, tags]) => {
  const results = await axe.run(context || document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
    nodes: v.nodes.map((n) => ({target: n.target, html: n.html, summary: n.failureSummary})),
  }));
}"""


def axe_violations(page: Page, tags=DEFAULT_AXE_TAGS, context: str | None = None) -> list[dict]:
    """Run axe-core on the page (or the ``context`` selector) and return its violations.

    axe is injected with ``page.evaluate`` of its source: DevTools evaluation is
    not subject to the page's CSP, and axe needs no ``eval`` of its own. axe
    needs timers, which never fire in a context with ``java_script_enabled=False``
    (``axe.run`` would never settle): such a page is refused at once.
    """
    if page.evaluate(_SCRIPTING_DISABLED):
        raise RuntimeError(
            "axe cannot run with JavaScript disabled: check the page in a context with scripts on"
        )
    if not page.evaluate("() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(axe_source())
    return page.evaluate(_AXE_RUN, [context, list(tags)])


def format_axe(violations: list[dict]) -> str:
    """A readable report of :func:`axe_violations`, for assertion messages."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:160]}")
            if node.get("summary"):
                lines.extend("      " + line for line in node["summary"].splitlines())
    return "\n".join(lines)


if __name__ == "__main__":
    # `python -m tests.browser.harness`: exit 0 and print the Chromium the
    # browser tests will drive, or exit 1 and say what was tried (make test
    # then tries Playwright's own download before the tests report it).
    import sys

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        found, attempts = find_chromium(pw)
    print(found or "no Chromium found; tried: " + "; ".join(attempts))
    sys.exit(0 if found else 1)
