"""``flask --app app check-mirror URL``, against fake mirrors served on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time

import pytest

from bulletin.signing import envelopes, keys, times

PREFIX = "/news/"


class Mirror:
    """A static server on 127.0.0.1: each path answers a status, a body and headers, after a delay."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, dict, float]] = {}
        self.stopping = threading.Event()
        routes, stopping = self.routes, self.stopping

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status, body, headers, delay = routes.get(self.path, (404, b"not here", {}, 0.0))
                if stopping.wait(delay):
                    return  # stopped meanwhile: the client has gone
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass  # quiet

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = False  # joined at stop(), so nothing answers (or fails) into a later test

            def handle_error(self, request, client_address):
                pass  # a client that timed out and left is what some tests do

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX}"

    def serve_index(self, body: bytes, *, cors: bool = True, delay: float = 0.0) -> None:
        headers = {"Content-Type": "application/json"}
        if cors:
            headers["Access-Control-Allow-Origin"] = "*"
        self.routes[f"{PREFIX}sync/index.json"] = (200, body, headers, delay)

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror():
    served = Mirror()
    yield served
    served.stop()


@pytest.fixture
def origin_index(app, client, publisher) -> bytes:
    """The signed index the site serves now (one statement published)."""
    publisher.publish("On the mirror too")
    response = client.get("/sync/index.json")
    assert response.status_code == 200
    return response.get_data()


@pytest.fixture
def online_key(test_keys):
    return keys.read_private(test_keys.folder / f"signing-{test_keys.kid}.key")


def check(app, *args):
    return app.test_cli_runner().invoke(args=["check-mirror", *args])


def signed_earlier(index: bytes, key, minutes: int) -> bytes:
    """The origin's index signed again, ``minutes`` before the origin's own ``signed_at``."""
    document = json.loads(json.loads(index)["payload"])
    earlier = times.parse(document["signed_at"]) - dt.timedelta(minutes=minutes)
    document["signed_at"] = times.instant(earlier)
    return json.dumps(envelopes.sign(document, key), separators=(",", ":")).encode()


def test_a_copy_of_the_current_index_is_current(app, mirror, origin_index):
    mirror.serve_index(origin_index)
    result = check(app, mirror.url)
    assert result.exit_code == 0, result.output
    assert f"{mirror.url} is current" in result.output


def test_an_index_signed_within_the_hour_is_current(app, mirror, origin_index, online_key):
    mirror.serve_index(signed_earlier(origin_index, online_key, 59))
    result = check(app, mirror.url)
    assert result.exit_code == 0, result.output


def test_an_index_more_than_an_hour_behind_fails(app, mirror, origin_index, online_key):
    mirror.serve_index(signed_earlier(origin_index, online_key, 121))
    result = check(app, mirror.url)
    assert result.exit_code == 1
    assert "2.0 hours behind" in result.output and "rsync --delete" in result.output


def test_an_index_that_does_not_verify_fails_with_the_reason(app, mirror, origin_index):
    forged = json.loads(origin_index)
    forged["payload"] = forged["payload"].replace(
        '"seq":', '"seq":1', 1
    )  # a changed payload, the old signature
    mirror.serve_index(json.dumps(forged).encode())
    result = check(app, mirror.url)
    assert result.exit_code == 1 and "bad-signature" in result.output
    document = json.loads(json.loads(origin_index)["payload"])
    mirror.serve_index(json.dumps(envelopes.sign(document, keys.generate())).encode())
    result = check(app, mirror.url)
    assert result.exit_code == 1 and "unknown-key" in result.output
    mirror.serve_index(b"<html>a parked domain</html>")
    result = check(app, mirror.url)
    assert result.exit_code == 1 and "is not the site's signed index" in result.output


def test_a_mirror_other_origins_may_not_read_fails(app, mirror, origin_index):
    mirror.serve_index(origin_index, cors=False)
    result = check(app, mirror.url)
    assert result.exit_code == 1 and "Access-Control-Allow-Origin: *" in result.output


def test_a_mirror_that_cannot_be_fetched_fails_within_the_timeout(app, mirror, origin_index):
    result = check(app, mirror.url)  # nothing at sync/index.json
    assert result.exit_code == 1 and "answered 404" in result.output
    mirror.serve_index(origin_index, delay=3)
    started = time.monotonic()
    result = check(app, mirror.url, "--timeout", "0.3")
    assert result.exit_code == 1 and "cannot be fetched within 0.3 s" in result.output
    assert time.monotonic() - started < 2
    url = mirror.url
    mirror.stop()
    result = check(app, url)
    assert result.exit_code == 1 and "cannot be fetched" in result.output


@pytest.mark.parametrize(
    "args",
    [[], ["ftp://mirror.example/"], ["http://mirror.example/"], ["https://m.example/", "--timeout", "0"]],
)
def test_usage_errors_exit_2(app, args):
    result = check(app, *args)
    assert result.exit_code == 2, result.output


@pytest.mark.unsigned
def test_a_site_without_keys_has_nothing_to_check_with(app, mirror):
    result = check(app, mirror.url)
    assert result.exit_code == 1 and "no keys" in result.output and "Traceback" not in result.output
