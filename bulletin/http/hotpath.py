"""The hot path: public responses replayed without entering Flask while nothing changed.

:func:`bulletin.http.cached_response` already renders and compresses a page
once per ETag, but computing that ETag still costs a Flask request, a SQLite
connection and a few queries, several times what serving the bytes costs. So
this WSGI middleware keeps the finished response (status, headers, body) of
every ``cached_response`` answer, keyed by everything in the request it
depends on, and replays it while the database is unchanged:

* "unchanged" is SQLite's ``PRAGMA data_version`` on one connection of this
  process that never writes: it moves whenever any other connection, in any
  process, commits. It is read before Flask runs, so a write racing a render
  can only make an entry look older than it is, never newer;
* when it moved, an entry is not dropped but checked: ``cached_response``
  left the function that computes its ETag parts (the latest change, the
  statement's group's latest change, the epoch), and the entry is replayed
  again when those few indexed reads give what they gave before. A commit
  that changed one statement (or only a session, an audit line) leaves every
  other page's entry standing;
* the key holds only the query arguments some route reads: ``?utm_source=``
  and the like reach the same entry, and an entry is kept only for the
  query its route reads exactly (``cached_response`` says which), so a
  stray ``?page=`` on a statement page is answered by Flask from the
  rendered copy, never kept as one more entry;
* a scheduled draft becomes public at the first request after its time
  (:mod:`bulletin.authoring.schedule`, a ``before_request`` hook that a replay would
  skip), so replays stop at the earliest scheduled time, on the app's clock;
* only GET requests without cookies or credentials are replayed, and only
  responses ``cached_response`` produced (it marks the WSGI environment with
  its ETag) that left Flask still public, with that ETag and no cookie.

Every request, replayable or not, first passes the database's high-water
check (:class:`bulletin.statements.epochs.HighWater`) when ``data_version``
moved: a database that went back in time, restored through SQLite behind
Bulletin's back (``.restore``, the backup API), gets a new epoch before
anything is answered or written, so no ETag or cursor of the old timeline
is reused. A database replaced as a *file* under running workers is not
noticed at all (this connection keeps reading the old file): restore with
``flask --app app restore``, or restart the workers after such a swap (the
first request then notices it).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sqlite3
import threading
import urllib.parse
from dataclasses import dataclass

from werkzeug.http import parse_accept_header, parse_etags

from bulletin.http.arguments import READ_BY_SOME_ROUTE, canonical_query
from bulletin.http.compress import ENCODINGS
from bulletin.http.database import high_water
from bulletin.http.static_host import ENVIRON_KEY as STATIC_HOST
from bulletin.statements import clock, epochs, store

MARK = "bulletin.etag"  # set in the WSGI environ by cached_response
CANONICAL = "bulletin.query"  # the query arguments the route read, as cached_response keyed them
RECHECK = "bulletin.recheck"  # (function of a connection, the ETag parts it gave), when the route has one
ONE_OFF = "bulletin.one_off"  # set when the answer is one-off (a search, a device's own cursor)
MAX_ENTRIES = 4096
MAX_BYTES = 16 * 1024 * 1024
# A one-off answer is replayed only when small: the answer every up-to-date
# device gets ("nothing new since your cursor") is asked for again and
# again, a search's or an old cursor's long answer hardly ever.
ONE_OFF_MAX_BYTES = 16 * 1024
# Request headers that decide a public response besides its path and query.
# X-Forwarded-* count too, in case a ProxyFix ever sits inside this middleware.
KEY_HEADERS = (
    "HTTP_HOST",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_PREFIX",
    STATIC_HOST,  # not a header: set by the export, whose pages differ from the live site's
)
# Requests that may carry someone's identity are never answered from here.
PERSONAL_HEADERS = ("HTTP_COOKIE", "HTTP_AUTHORIZATION")
KEPT_STATUSES = ("200", "304", "410")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One replayable response and the database version it was computed at."""

    version: int
    etag: str
    status: str
    headers: list
    body: bytes
    not_modified: tuple | None  # (status, headers) of the matching 304, once seen
    recheck: object = (
        None  # function of a connection giving the ETag parts; None: dropped when the database moves
    )
    parts: tuple = ()  # what recheck gave when the response was made


class DataVersion:
    """This process's view of whether the database changed, and when a schedule falls due."""

    def __init__(self, path: str, guard: epochs.HighWater | None = None):
        self.path = path
        self.guard = guard
        self._lock = threading.Lock()
        self._pid = None
        self._db = None
        self._deadline_version = None
        self._deadline = None

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross gunicorn's fork: open one per process.
        if self._pid != os.getpid():
            # mode=rw: never create an empty database where none was prepared.
            uri = "file:" + urllib.parse.quote(os.path.abspath(self.path)) + "?mode=rw"
            self._db = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10
            )
            self._pid = os.getpid()
            self._deadline_version = None
        return self._db

    def current(self) -> tuple[int, object]:
        """(data version, earliest scheduled publication or None) as of now."""
        with self._lock:
            db = self._connection()
            version = db.execute("PRAGMA data_version").fetchone()[0]
            if version != self._deadline_version:
                if self.guard is not None and self.guard.check(db) is not None:
                    # The new epoch was committed by another connection: this one's version moved.
                    version = db.execute("PRAGMA data_version").fetchone()[0]
                self._deadline = store.next_publication_at(db)
                self._deadline_version = version
            return version, self._deadline

    def read(self, function):
        """``function(connection)`` in one read transaction of this process's connection."""
        with self._lock:
            db = self._connection()
            db.execute("BEGIN")
            try:
                return function(db)
            finally:
                db.execute("COMMIT")


def _names(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match`` holds ``etag`` as cached_response decides (Werkzeug's strong match)."""
    quoted = f'"{etag}"'
    if quoted in if_none_match and "W/" not in if_none_match:
        return True  # what browsers send back: no need to parse
    if quoted in if_none_match or "*" in if_none_match:
        return etag in parse_etags(if_none_match)
    return False


def _still_public(headers: list, etag: str) -> bool:
    """Whether the response Flask finished is still the public one ``cached_response`` made."""
    found = {name.lower(): value for name, value in headers}
    cache_control = found.get("cache-control", "")
    return (
        "set-cookie" not in found
        and found.get("etag") == f'"{etag}"'
        and "private" not in cache_control
        and "no-store" not in cache_control
    )


class HotPath:
    """WSGI middleware replaying ``cached_response`` answers until the database changes."""

    def __init__(self, wsgi_app, flask_app):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.entries: dict = {}
        self.bytes = 0
        self._versions: DataVersion | None = None
        self._encodings: dict = {}
        self._lock = threading.Lock()
        # Off only to measure what the check saves (bench/invalidation.py).
        self.recheck_enabled = True
        self.rechecked = self.dropped = 0

    def __call__(self, environ, start_response):
        replayable = environ.get("REQUEST_METHOD") == "GET" and not any(
            name in environ for name in PERSONAL_HEADERS
        )
        key = replay = None
        try:
            # Every request, an editor's write included, learns first whether the database went back.
            version, deadline = self._state()
            if replayable:
                key = self._key(environ)
                replay = self._lookup(key, version, deadline, environ.get("HTTP_IF_NONE_MATCH"))
        except sqlite3.Error:
            # No database yet, or one being migrated: Flask answers as usual.
            return self.wsgi_app(environ, start_response)
        except Exception:
            # This layer only saves work: a fault in it must not cost the reader the page.
            log.exception("hot path lookup failed; the request goes to Flask")
            return self.wsgi_app(environ, start_response)
        if key is None:
            return self.wsgi_app(environ, start_response)
        if replay is not None:
            status, headers, body = replay
            # A copy: a middleware outside may add to the list it is given.
            start_response(status, list(headers))
            return [body]
        return self._record(key, version, environ, start_response)

    def _lookup(self, key, version, deadline, if_none_match):
        """The kept (status, headers, body) to replay, or None when Flask must answer."""
        entry = self.entries.get(key)
        if entry is None or self._due(deadline):
            return None
        if entry.version != version:
            entry = self._revalidate(key, entry, version)
            if entry is None:
                return None
        return self._replay(entry, if_none_match)

    def _revalidate(self, key, entry: Entry, version: int) -> Entry | None:
        """The entry again at ``version`` when its ETag parts did not change; None (and forgotten) otherwise."""
        if entry.recheck is not None and self.recheck_enabled:
            if self._versions.read(entry.recheck) == entry.parts:
                renewed = dataclasses.replace(entry, version=version)
                with self._lock:
                    if self.entries.get(key) is entry:
                        self.entries[key] = renewed
                self.rechecked += 1
                return renewed
        with self._lock:
            if self.entries.get(key) is entry:
                del self.entries[key]
                self.bytes -= len(entry.body)
        self.dropped += 1
        return None

    def _state(self) -> tuple[int, object]:
        if self._versions is None:
            self._versions = DataVersion(self.flask_app.config["DATABASE"], high_water(self.flask_app))
        return self._versions.current()

    def _due(self, deadline) -> bool:
        if deadline is None:
            return False
        # Outside Flask no app context sets the app's clock: this layer sets it itself.
        with clock.using(self.flask_app.config.get("CLOCK")):
            return clock.now() >= deadline

    def _key(self, environ) -> tuple:
        accepted = environ.get("HTTP_ACCEPT_ENCODING", "")
        encodings = self._encodings.get(accepted)
        if encodings is None:
            # What compress.negotiate() decides on, for any set of bodies.
            parsed = parse_accept_header(accepted)
            encodings = frozenset(name for name in ENCODINGS if parsed[name] > 0)
            if len(self._encodings) < 256:  # bounded: the header is the client's to vary
                self._encodings[accepted] = encodings
        return (
            environ.get("wsgi.url_scheme"),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            canonical_query(
                urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True),
                READ_BY_SOME_ROUTE,
            ),
            encodings,
            *(environ.get(name) for name in KEY_HEADERS),
        )

    @staticmethod
    def _replay(entry: Entry, if_none_match: str | None):
        if if_none_match is not None and _names(if_none_match, entry.etag):
            if entry.not_modified is None:
                return None  # Flask answers the first 304; later ones replay it
            return (*entry.not_modified, b"")
        return entry.status, entry.headers, entry.body

    def _record(self, key, version, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        etag = environ.get(MARK)
        if etag is None or not captured.get("status", "").startswith(KEPT_STATUSES):
            return result
        if environ.get(CANONICAL) != key[3]:
            # An argument this route does not read (a stray ?page= on a statement): not worth an entry.
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if environ.get(ONE_OFF) and len(body) > ONE_OFF_MAX_BYTES:
            return [body]
        try:
            recheck, parts = environ.get(RECHECK) or (None, ())
            self._keep(
                key, version, etag, captured["status"], list(captured["headers"]), body, recheck, parts
            )
        except Exception:
            # The response is complete already: a copy not kept costs the next request a trip through Flask.
            log.exception("hot path could not keep a response")
        return [body]

    def _keep(self, key, version, etag, status, headers, body, recheck=None, parts=()) -> None:
        if not _still_public(headers, etag):
            return
        old = self.entries.get(key)
        if status.startswith("304"):
            if old is None or old.version != version or old.etag != etag:
                return  # a 304 alone has nothing to replay to a client without the page
            entry = dataclasses.replace(old, not_modified=(status, headers))
        else:
            kept_304 = old.not_modified if old and old.version == version and old.etag == etag else None
            entry = Entry(version, etag, status, headers, body, kept_304, recheck, parts)
        with self._lock:
            previous = self.entries.pop(key, None)
            if previous is not None:
                self.bytes -= len(previous.body)
            self.entries[key] = entry
            self.bytes += len(entry.body)
            # Oldest first (insertion order): a hot page evicted is kept again on its next request.
            while len(self.entries) > MAX_ENTRIES or self.bytes > MAX_BYTES:
                evicted = self.entries.pop(next(iter(self.entries)))
                self.bytes -= len(evicted.body)

    def clear(self) -> None:
        """Forget every kept response (tests, or a change outside the database)."""
        with self._lock:
            self.entries.clear()
            self.bytes = 0
