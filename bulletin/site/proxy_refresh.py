"""Renewing nginx's copies of a statement's pages once its withdrawal is committed.

nginx in front (deploy/nginx.conf) keeps each public answer for a second and
serves the last one for up to a day while the app is down, so without help a
withdrawn statement's last 200 would be exactly that copy. With
``BULLETIN_NGINX_REFRESH_URL`` set, a withdrawal asks nginx for every page
that showed the statement (:func:`affected_paths`, the one list of them), in
every variant nginx keeps apart, with an ``X-Bulletin-Refresh`` header that
nginx honours from this machine only: it skips its copy, asks the app, and
keeps the new answer (the 410, a list without the statement) in its place.

A page whose render began before the commit can reach nginx after the first
pass and put the old answer back; a second pass a few seconds later replaces
that one too.

Nothing here raises into the withdrawal: it is stored whatever nginx does,
and every failure is logged with what it leaves behind.
"""

from __future__ import annotations

import http.client
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from flask import Flask

from bulletin.i18n import INTERFACE_LANGS
from bulletin.statements import store
from bulletin.statements.records import Statement

EXTENSION = "bulletin_proxy_refresh"
HEADER = "X-Bulletin-Refresh"
# What deploy/nginx.conf keeps apart besides the path: the scheme, the
# encoding it asked the app for (none, br, gzip), the format of error pages.
SCHEMES = ("http", "https")
ENCODINGS = ("", "br", "gzip")
FORMATS = ("text/html", "application/json")
# Long enough for a render that began before the commit to have reached nginx.
SECOND_PASS_SECONDS = 5.0
REQUEST_TIMEOUT = 5.0
PASS_DEADLINE = 30.0  # a slow nginx must not hold the editor's request for long

log = logging.getLogger(__name__)


def affected_paths(db: sqlite3.Connection, statement: Statement, *, sync_limits: Iterable[int]) -> list[str]:
    """Every public path whose kept copy may show ``statement``, as readers' links name them."""
    paths = []
    for slug in (statement.slug, *store.former_slugs(db, statement.id)):
        paths += ["/statements/" + quote(slug, safe="") + "/", "/api/statements/" + quote(slug, safe="")]
    # Their translation links name it.
    for other in store.translations_of(db, statement):
        paths += [other.url, "/api/statements/" + quote(other.slug, safe="")]
    # A list's first page is also reached as ?page=1 (its "Newer" link from page 2),
    # and lists exist once per interface language (/ru/tags/...).
    lists = ["/", "/?page=1"]
    for tag in statement.tags:
        listing = "/tags/" + quote(tag, safe="") + "/"
        lists += [listing, listing + "?page=1"]
        paths.append(listing + "feed.atom")
    paths += lists + [f"/{lang}{path}" for lang in INTERFACE_LANGS for path in lists]
    paths += ["/api/statements", "/api/statements?page=1", "/feed.atom", "/sitemap.xml"]
    # The snapshots the service worker starts from (deploy/nginx.conf serves no stale sync).
    paths += [f"/api/sync?limit={limit}" for limit in sync_limits]
    return list(dict.fromkeys(paths))


@dataclass(frozen=True)
class Refresher:
    """Renews nginx's copies through ``address`` for readers of ``host``; called after a withdrawal."""

    address: str  # nginx on this machine: http://host:port
    host: str  # the Host readers send, so the renewed copy is the one they are served
    sync_limits: tuple[int, ...]
    second_pass_seconds: float = SECOND_PASS_SECONDS

    def __call__(self, db: sqlite3.Connection, statement_id: str) -> threading.Timer | None:
        """Renew now, and again after ``second_pass_seconds``; returns that second pass, started."""
        try:
            statement = store.get_by_id(db, statement_id)
            paths = affected_paths(db, statement, sync_limits=self.sync_limits)
        except Exception:
            # The withdrawal is committed already; an error here must not turn it into a failure.
            log.exception("nginx's copies of statement %s were not renewed", statement_id)
            return None
        self.renew(paths)
        later = threading.Timer(self.second_pass_seconds, self.renew, (paths,))
        later.daemon = True  # a worker stopping does not wait for it
        later.start()
        return later

    def renew(self, paths: list[str]) -> bool:
        """Ask nginx for each path in every variant it keeps; False (and logged) when a copy may be left."""
        parts = urlsplit(self.address)
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=REQUEST_TIMEOUT)
        deadline = time.monotonic() + PASS_DEADLINE
        failed = []
        try:
            for path in paths:
                if time.monotonic() > deadline:
                    log.warning(
                        "renewing nginx's copies took over %d s; not renewed: %s",
                        PASS_DEADLINE,
                        " ".join(paths[paths.index(path) :]),
                    )
                    return False
                for headers in self._variants():
                    response = _get(connection, path, headers)
                    if response.getheader("X-Cache-Status") != "BYPASS":
                        log.warning(
                            "nginx answered %s from its copy (X-Cache-Status: %s) instead of renewing it: "
                            "does its configuration have deploy/nginx.conf's %s rule, and is %s on this "
                            "machine? Its copies may show a withdrawn statement until they expire",
                            path,
                            response.getheader("X-Cache-Status"),
                            HEADER,
                            self.address,
                        )
                        return False
                    if response.status >= 500 and path not in failed:
                        failed.append(path)
        except (OSError, http.client.HTTPException) as e:
            log.warning(
                "could not reach nginx at %s to renew its copies (%s): until they expire it may serve "
                "a withdrawn statement's pages as they were",
                self.address,
                e,
            )
            return False
        finally:
            connection.close()
        if failed:
            # nginx keeps no 5xx, so the copy from before the withdrawal is still its last good one.
            log.warning(
                "the app failed renewing these pages, so nginx kept its old copies: %s", " ".join(failed)
            )
        return not failed

    def _variants(self):
        for scheme in SCHEMES:
            for encoding in ENCODINGS:
                for accept in FORMATS:
                    headers = {"Host": self.host, HEADER: scheme, "Accept": accept}
                    if encoding:
                        headers["Accept-Encoding"] = encoding
                    yield headers


def _get(connection: http.client.HTTPConnection, path: str, headers: dict) -> http.client.HTTPResponse:
    try:
        return _send(connection, path, headers)
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
        # nginx closed the kept-alive connection between two requests: once more on a new one.
        connection.close()
        return _send(connection, path, headers)


def _send(connection: http.client.HTTPConnection, path: str, headers: dict) -> http.client.HTTPResponse:
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()  # the connection is reused for the next request
    return response


def from_config(config) -> Refresher | None:
    """The refresher ``BULLETIN_NGINX_REFRESH_URL`` asks for, or None when it is not set."""
    address = config.get("NGINX_REFRESH_URL")
    if not address:
        return None
    # Readers reach nginx under the public origin's host; without one, under the address itself.
    host = urlsplit(config.get("BASE_URL") or address).netloc
    return Refresher(address, host, sync_limits=(1, config["OFFLINE_KEEP"]))


def of(app: Flask) -> Refresher | None:
    """The app's refresher (None when off), for :attr:`bulletin.authoring.changes.Context.after_withdrawal`."""
    # Made on first use from the settings, which do not change while the app runs.
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = from_config(app.config)
    return app.extensions[EXTENSION]
