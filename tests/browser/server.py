"""A real HTTP server for browser tests, with test-only WSGI middleware around the app.

The stack, from the socket inwards::

    RequestRecorder -> Faults -> SlowLink -> Stubs -> the Flask app

* :class:`RequestRecorder` numbers and records every request that reaches the
  server, so a test can prove that nothing did (the page came from a cache).
* :class:`Faults` fails (503 or a dropped connection) or stalls chosen
  requests, picked by path and by their order, never at random.
* :class:`SlowLink` delays each response and caps its throughput: a slow
  network that also slows a service worker's own fetches (page-level CDP
  throttling does not, see :func:`tests.browser.harness.cdp_throttle`).
* :class:`Stubs` answers fixed bodies at chosen paths, for tests of the
  harness itself (a stub service worker, a stub manifest page).

:class:`LiveServer` runs the stack in werkzeug's threaded server on
127.0.0.1 and can be stopped and started again on the same port: the device
stays online while the server is down.

Every wait in here is bounded; holding a response (a stall, a slow link) is
done inside the server thread, never by sleeping in a test.
"""

from __future__ import annotations

import errno
import fnmatch
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

HOST = "127.0.0.1"
# Upper bound of every wait the server does on its own (stalls, stop, rebind).
DEFAULT_HOLD_SECONDS = 5.0


# ---------------------------------------------------------------- requests


@dataclass
class Hit:
    """One request that reached the server."""

    number: int  # 1-based, in arrival order, for the life of the LiveServer
    method: str
    path: str
    query: str
    headers: dict  # request headers, names lower-case
    status: int | None = None  # set once the app answers (None: dropped or still running)

    @property
    def target(self) -> str:
        """Path plus query string, as the browser asked for it."""
        return self.path + ("?" + self.query if self.query else "")


def _target_matches(hit: Hit, path: str) -> bool:
    """``/a?b=1`` matches the exact target; ``/a`` matches any query; globs allowed."""
    if "?" in path:
        return fnmatch.fnmatchcase(hit.target, path)
    return fnmatch.fnmatchcase(hit.path, path)


class RequestRecorder:
    """WSGI middleware recording every request, thread-safe."""

    def __init__(self, app):
        self.app = app
        self._hits: list[Hit] = []
        self._count = 0
        self._changed = threading.Condition()

    def __call__(self, environ, start_response):
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        with self._changed:
            self._count += 1
            hit = Hit(
                number=self._count,
                method=environ["REQUEST_METHOD"],
                path=environ.get("PATH_INFO", ""),
                query=environ.get("QUERY_STRING", ""),
                headers=headers,
            )
            self._hits.append(hit)
            self._changed.notify_all()
        environ["bulletin.test.hit"] = hit

        def recording_start_response(status, response_headers, exc_info=None):
            hit.status = int(status.split(" ", 1)[0])
            return start_response(status, response_headers, exc_info)

        return self.app(environ, recording_start_response)

    @property
    def requests(self) -> list[Hit]:
        with self._changed:
            return list(self._hits)

    @property
    def hits(self) -> list[str]:
        with self._changed:
            return [hit.target for hit in self._hits]

    def hits_for(self, path: str) -> list[str]:
        with self._changed:
            return [hit.target for hit in self._hits if _target_matches(hit, path)]

    def clear(self) -> None:
        with self._changed:
            self._hits.clear()

    def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[str]:
        """Block until ``path`` was requested ``count`` times (since the last clear)."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: sum(_target_matches(h, path) for h in self._hits) >= count, timeout
            ):
                seen = [hit.target for hit in self._hits]
                raise AssertionError(
                    f"{path} was requested fewer than {count} times within {timeout}s; the server saw {seen}"
                )
            return [hit.target for hit in self._hits if _target_matches(hit, path)]


# ------------------------------------------------------------------ faults


@dataclass
class Rule:
    """One fault: which requests it picks and what it does to them."""

    kind: str  # "fail" or "stall"
    which: object  # None, int, a collection of ints, or a callable(Hit) -> bool
    path: str | None
    status: int = 503
    drop: bool = False
    timeout: float = DEFAULT_HOLD_SECONDS
    then: object = "pass"  # stall only: "pass", "drop" or a status code
    matched: int = 0  # requests that matched path (the ordinal counter for `which`)
    applied: list = field(default_factory=list)  # the Hits it acted on
    active: bool = True

    def __post_init__(self):
        self._released = threading.Event()
        self._held = 0
        self._held_changed = threading.Condition()

    # -- selection (called with the Faults lock held)
    def picks(self, hit: Hit) -> bool:
        if not self.active or (self.path is not None and not _target_matches(hit, self.path)):
            return False
        self.matched += 1
        if self.which is None:
            return True
        if callable(self.which):
            return bool(self.which(hit))
        if isinstance(self.which, int):
            return self.matched == self.which
        return self.matched in self.which

    # -- for tests
    @property
    def count(self) -> int:
        """How many requests this rule acted on."""
        return len(self.applied)

    def cancel(self) -> None:
        """Stop picking requests (and release those a stall holds)."""
        self.active = False
        self.release()

    def release(self) -> None:
        """Stall: let every held request (and any later pick) go on at once."""
        self._released.set()

    def wait_until_held(self, count: int = 1, timeout: float = DEFAULT_HOLD_SECONDS) -> None:
        """Stall: block until ``count`` requests are being held (bounded)."""
        with self._held_changed:
            if not self._held_changed.wait_for(lambda: self._held >= count, timeout):
                raise AssertionError(f"the stall held {self._held} request(s), not {count}, in {timeout}s")

    def _hold(self, closing: threading.Event) -> None:
        with self._held_changed:
            self._held += 1
            self._held_changed.notify_all()
        deadline = time.monotonic() + self.timeout
        # Wake on release, on server stop, or at the bounded timeout.
        while not self._released.is_set() and not closing.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._released.wait(min(remaining, 0.05))
        with self._held_changed:
            self._held -= 1
            self._held_changed.notify_all()


def _drop_connection(environ, start_response) -> list[bytes]:
    """Close the connection without answering (the browser sees ERR_EMPTY_RESPONSE)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    # werkzeug's attempt to send these headers meets the closed socket: a
    # dropped connection, which it ends quietly.
    start_response("502 Dropped", [("Content-Length", "0")])
    environ["bulletin.test.hit"].status = None  # nothing was answered
    return []


def _error_response(start_response, status: int) -> list[bytes]:
    body = f"Injected test fault: {status}\n".encode()
    start_response(
        f"{status} Injected Fault",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]


class Faults:
    """WSGI middleware that fails or stalls chosen requests, deterministically.

    ``which`` picks among the requests that match ``path`` (a path, a glob such
    as ``/static/*``, or a ``path?query`` target; None for every path), counted
    from when the rule was added: ``None`` every one, ``2`` the second,
    ``{1, 3}`` the first and third, or a predicate ``f(hit) -> bool`` (``hit``
    is a :class:`Hit`; ``hit.number`` is the server-wide request number).
    Every rule counts the requests it matches; when several pick one request,
    the rule added first acts on it.
    """

    def __init__(self, app, closing: threading.Event):
        self.app = app
        self._closing = closing
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def fail(self, which=None, *, path: str | None = None, status: int = 503, drop: bool = False) -> Rule:
        """Answer ``status`` (503) to the picked requests, or drop their connection.

        A dropped connection shows as ``net::ERR_EMPTY_RESPONSE``. Chromium may
        send such a request once more (when it went out on a preconnected
        socket): pick with ``which=None`` (every request) or expect the retry.
        """
        return self._add(Rule("fail", which, path, status=status, drop=drop))

    def stall(
        self, which=None, *, path: str | None = None, timeout: float = DEFAULT_HOLD_SECONDS, then="pass"
    ) -> Rule:
        """Hold the picked requests until ``rule.release()`` or ``timeout`` seconds.

        ``then`` says what happens next: ``"pass"`` (the app answers),
        ``"drop"``, or a status code to answer instead.
        """
        if timeout > 30:
            raise ValueError("a stall is bounded: at most 30 seconds")
        return self._add(Rule("stall", which, path, timeout=timeout, then=then))

    def clear(self) -> None:
        """Remove every rule and release every held request."""
        with self._lock:
            rules, self._rules = self._rules, []
        for rule in rules:
            rule.cancel()

    def release_all(self) -> None:
        with self._lock:
            rules = list(self._rules)
        for rule in rules:
            rule.release()

    def _add(self, rule: Rule) -> Rule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def __call__(self, environ, start_response):
        hit: Hit = environ["bulletin.test.hit"]
        chosen = None
        with self._lock:
            # Every rule counts every request it matches, so each rule's
            # ordinals do not depend on the other rules.
            for rule in self._rules:
                if rule.picks(hit) and chosen is None:
                    chosen = rule
                    rule.applied.append(hit)
        if chosen is None:
            return self.app(environ, start_response)
        if chosen.kind == "fail":
            if chosen.drop:
                return _drop_connection(environ, start_response)
            return _error_response(start_response, chosen.status)
        chosen._hold(self._closing)
        if chosen.then == "drop":
            return _drop_connection(environ, start_response)
        if isinstance(chosen.then, int):
            return _error_response(start_response, chosen.then)
        return self.app(environ, start_response)


# --------------------------------------------------------------- slow link


@dataclass(frozen=True)
class LinkSpeed:
    latency_ms: float = 0  # added before the first byte of each response
    kbps: float | None = None  # download throughput cap, kilobits per second
    path: str | None = None  # only responses to this path/glob (None: all)


class SlowLink:
    """WSGI middleware: a delay before each response and a throughput cap.

    Unlike page-level CDP throttling this slows *every* client equally,
    the service worker's own fetches included.
    """

    CHUNK_SECONDS = 0.05  # the cap is applied in slices of this length

    def __init__(self, app, closing: threading.Event):
        self.app = app
        self._closing = closing
        self.speed: LinkSpeed | None = None

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)  # a server stop cuts the wait short

    def __call__(self, environ, start_response):
        speed = self.speed
        hit = environ["bulletin.test.hit"]
        if speed is None or (speed.path is not None and not _target_matches(hit, speed.path)):
            return self.app(environ, start_response)
        self._pause(speed.latency_ms / 1000)
        body = self.app(environ, start_response)
        if not speed.kbps:
            return body
        return self._throttled(body, speed.kbps * 1000 / 8)

    def _throttled(self, body: Iterable[bytes], bytes_per_second: float):
        slice_size = max(1, int(bytes_per_second * self.CHUNK_SECONDS))
        try:
            for chunk in body:
                for start in range(0, len(chunk), slice_size):
                    piece = chunk[start : start + slice_size]
                    self._pause(len(piece) / bytes_per_second)  # the time this piece takes on the wire
                    yield piece
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


# ------------------------------------------------------------------- stubs


class Stubs:
    """WSGI middleware answering fixed bodies at exact paths (test-only pages)."""

    def __init__(self, app):
        self.app = app
        self._stubs: dict[str, tuple[int, list, bytes]] = {}

    def add(self, path: str, body: str | bytes, content_type: str, status: int = 200, headers=None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        header_list = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-cache"),
        ] + list((headers or {}).items())
        self._stubs[path] = (status, header_list, data)

    def remove(self, path: str) -> None:
        self._stubs.pop(path, None)

    def __call__(self, environ, start_response):
        stub = self._stubs.get(environ.get("PATH_INFO", ""))
        if stub is None:
            return self.app(environ, start_response)
        status, headers, data = stub
        start_response(f"{status} Stub", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [data]


# ------------------------------------------------------------------ server


def _read_whole(app):
    """``app`` with each response read whole and its iterable closed at once.

    werkzeug's server closes a response's iterable only after draining the
    socket, which raises first when the browser has already dropped the
    connection (a page left while its favicon was being sent): the file
    WhiteNoise opened then stays open until garbage collection, whose warning
    fails whatever test is running at that moment.
    """

    def whole(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return whole


class _QuietHandler(WSGIRequestHandler):
    """No access log: the recorder keeps a better one (``live_server.requests``)."""

    def log_request(self, code="-", size="-") -> None:
        pass


class _TrackedServer(ThreadedWSGIServer):
    """werkzeug's threaded server that knows its open connections, to abort them on stop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_changed = threading.Condition()

    def process_request_thread(self, request, client_address):
        with self.connections_changed:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_changed:
                self.connections.discard(request)
                self.connections_changed.notify_all()

    def abort_connections(self, timeout: float) -> bool:
        """Shut every open connection down; wait (bounded) for their threads to end."""
        with self.connections_changed:
            for connection in list(self.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return self.connections_changed.wait_for(lambda: not self.connections, timeout)


def _listen(port: int, timeout: float) -> socket.socket:
    """A listening socket on HOST:port (0: any free port), retrying a busy port until timeout."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
            sock.listen(128)
            return sock
        except OSError as e:
            sock.close()
            if e.errno != errno.EADDRINUSE or time.monotonic() >= deadline:
                raise RuntimeError(f"cannot listen on {HOST}:{port}: {e}") from e
        # The old socket is closing: try again shortly (bounded by the deadline).
        time.sleep(0.05)


class LiveServer:
    """The app served over real HTTP on 127.0.0.1, for a browser.

    ``url`` stays the same across :meth:`stop` and :meth:`start`.
    """

    def __init__(self, app, publisher=None):
        self.app = app
        self.publisher = publisher
        self._closing = threading.Event()
        self._stubs = Stubs(_read_whole(app))
        self._slow = SlowLink(self._stubs, self._closing)
        self.faults = Faults(self._slow, self._closing)
        self.recorder = RequestRecorder(self.faults)
        self.port = 0
        self._server: _TrackedServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("the live server has not been started")
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self, timeout: float = DEFAULT_HOLD_SECONDS) -> None:
        """Serve (again) on the same port; the first start picks a free one."""
        if self._server is not None:
            return
        self._closing.clear()
        sock = _listen(self.port, timeout)
        try:
            server = _TrackedServer(HOST, 0, self.recorder, handler=_QuietHandler, fd=sock.fileno())
        finally:
            sock.close()  # werkzeug serves a duplicate of the descriptor
        self.port = server.server_address[1]
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"live-server-{self.port}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread

    def stop(self, timeout: float = DEFAULT_HOLD_SECONDS) -> None:
        """Stop listening and abort open connections: the port refuses connections."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self._closing.set()  # held stalls and slow-link pauses end now; the rules stay for a restart
        server.shutdown()  # returns within one poll interval
        thread.join(timeout)
        server.server_close()
        if not server.abort_connections(timeout) or thread.is_alive():
            raise RuntimeError(f"the live server did not stop within {timeout}s")

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.faults.clear()
        self.stop()

    # -- the request log
    @property
    def hits(self) -> list[str]:
        """Every path (with its query) served since the last clear, in order."""
        return self.recorder.hits

    @property
    def requests(self) -> list[Hit]:
        """The same as :attr:`hits`, with method, headers and status."""
        return self.recorder.requests

    def hits_for(self, path: str) -> list[str]:
        """The hits for one path (any query), a ``path?query`` target, or a glob."""
        return self.recorder.hits_for(path)

    def clear_hits(self) -> None:
        self.recorder.clear()

    def wait_for_hit(self, path: str, count: int = 1, timeout: float = 10.0) -> list[str]:
        """Block (bounded) until ``path`` has been requested ``count`` times."""
        return self.recorder.wait_for(path, count, timeout)

    # -- a slow network
    def slow_link(self, latency_ms: float = 0, kbps: float | None = None, path: str | None = None) -> None:
        """Delay every response (or those for ``path``) and cap its throughput; see SlowLink."""
        self._slow.speed = LinkSpeed(latency_ms, kbps, path)

    def fast_link(self) -> None:
        """Undo :meth:`slow_link`."""
        self._slow.speed = None

    # -- stub responses for harness tests
    def stub(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict | None = None,
    ) -> str:
        """Answer ``body`` at ``path`` instead of the app; returns the absolute URL."""
        self._stubs.add(path, body, content_type, status, headers)
        return self.url + path

    def unstub(self, path: str) -> None:
        self._stubs.remove(path)
