"""Which files make the public site, and each one rendered by the app itself.

Every address is made by ``url_for`` (never written out here), so the files
follow the routes wherever they move; every file's bytes are what a request
for it gets, since they come from the app through its WSGI stack in-process
(:class:`Renderer`). Pages reached only with a query string (``?page=``,
``?before=``, a search) stay with the app and are not files.

- :func:`site_addresses`: every file of the whole site (``publish --all``,
  an export).
- :func:`build_addresses`: the files only a deploy changes (the worker,
  every language's manifest, offline page and shells, the files at the
  site's root), written by a whole build and by the export.
- :func:`change_addresses`: the files a set of changed statements affects.
- :func:`sync_addresses`: the sync files, found by following
  ``sync/index.json`` (nothing when the app has no such route).
- :func:`document_addresses`: the public signed documents beside them
  (``keys.json``, ``mirrors.json``), files where the app answers them.
- :func:`site_files`: ``(address, Rendered)`` for the whole site, rendered
  under any base URL: what an export writes.
"""

from __future__ import annotations

import gzip
import json
import posixpath
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import brotli
from flask import Flask, request, url_for
from werkzeug.datastructures import Headers
from werkzeug.exceptions import MethodNotAllowed, NotFound

from bulletin.assets import bundles
from bulletin.http.caching import IDENTITY_ONLY
from bulletin.i18n import INTERFACE_LANGS
from bulletin.pwa import worker
from bulletin.site import feeds, packs
from bulletin.statements import store
from bulletin.statements.records import Statement

# Where the sync files start (issue's contract); not a page, so not a url_for.
SYNC_INDEX = "/sync/index.json"
# The host absolute URLs (feeds, sitemaps) name when BULLETIN_BASE_URL is not set.
FALLBACK_BASE_URL = "http://localhost"


@dataclass(frozen=True)
class Rendered:
    """The app's answer at one address: its status and uncompressed body."""

    address: str  # the URL path below the mount point (``/statements/x``), no query
    status: int
    body: bytes = b""
    headers: Headers = field(default_factory=Headers)

    @property
    def is_file(self) -> bool:
        """A 200: the answer is a file; anything else (404, 410, a redirect) means no file there."""
        return self.status == 200


class Renderer:
    """Requests the app in-process, as a reader without cookies would, mounted at ``base_url``'s path.

    ``base_url`` (``https://example.org/news``) sets the host and the mount
    point (``SCRIPT_NAME``) every link is made under; by default the app's
    ``BULLETIN_BASE_URL``. ``environ``: more WSGI environment for every
    request (the export's static-host marker).
    """

    # A 5xx raises (a publication must not put an error page in the folder); False: it is returned.
    server_errors_raise = True

    def __init__(self, app: Flask, base_url: str | None = None, environ: dict | None = None):
        self.app = app
        self.base_url = (base_url or app.config.get("BASE_URL") or FALLBACK_BASE_URL).rstrip("/")
        self.client = app.test_client(use_cookies=False)
        self.environ = {IDENTITY_ONLY: True, **(environ or {})}

    def url_context(self):
        """A request context under the base URL, for ``url_for`` (used by the address functions)."""
        return self.app.test_request_context("/", base_url=self.base_url)

    def get(self, address: str) -> Rendered:
        """The app's answer at ``address``, uncompressed (the folder compresses only what changed)."""
        # An app context of its own, as a server's request has: a command's context (its ``g``, the
        # interface language a page sets) must neither shape the page nor be changed by it.
        with self.app.app_context():
            response = self.client.get(address, base_url=self.base_url, environ_overrides=self.environ)
        try:
            body = response.get_data()
        finally:
            response.close()  # a static file's answer (robots.txt) holds the file open
        if response.status_code >= 500 and self.server_errors_raise:
            raise RuntimeError(f"the app answered {response.status_code} for {address}")
        if response.status_code != 200:
            return Rendered(address, response.status_code, headers=response.headers)
        # An answer replayed by the hot path may come compressed all the same.
        encoding = response.headers.get("Content-Encoding")
        if encoding == "br":
            body = brotli.decompress(body)
        elif encoding == "gzip":
            body = gzip.decompress(body)
        return Rendered(address, 200, body, response.headers)

    def exists(self, address: str) -> bool:
        """Whether the app has a route for ``address`` at all (the sync files may not exist yet)."""
        adapter = self.app.url_map.bind("localhost")
        try:
            adapter.match(address, method="GET")
        except (NotFound, MethodNotAllowed):
            return False
        except Exception:
            return True  # a redirect is a route too
        return True


def below_mount(url: str) -> str:
    """``url_for``'s URL without the mount point (``/news/statements/x`` → ``/statements/x``)."""
    root = request.script_root
    return url[len(root) :] if root and url.startswith(root) else url


def _url(endpoint: str, **values) -> str:
    return below_mount(url_for(endpoint, **values))


def home_addresses() -> list[str]:
    """The first page of the newest statements in every interface language."""
    return [_url("reader.index", lang=lang) for lang in INTERFACE_LANGS]


def tag_addresses(tag: str) -> list[str]:
    """A tag's first page in every interface language, and its feed."""
    return [
        *(_url("reader.tag", tag=tag, lang=lang) for lang in INTERFACE_LANGS),
        _url("feeds.tag_feed", tag=tag),
    ]


def statement_address(slug: str) -> str:
    return _url("reader.statement", slug=slug)


def sitemap_part_address(part: int) -> str:
    return _url("feeds.sitemap_part", part=part)


def pack_addresses(names: Iterable[str | None], listed: set[str] | None = None) -> list[str]:
    """The packs (bundles of one language and month) of these names, and their list in every interface
    language: always, or, given the names the list shows (``listed``), only when it shows one of them
    (a correction of a statement years old leaves the list of the newest months as it was)."""
    names = [name for name in dict.fromkeys(names) if name]
    lists = listed is None or any(name in listed for name in names)
    return [
        *(_url("packs.listing", lang=lang) for lang in INTERFACE_LANGS if lists),
        *(_url("packs.pack", name=name) for name in names),
    ]


def fixed_addresses() -> list[str]:
    """Pages no statement changes (the about page, the empty search page), in every interface language:
    files, so that they are served with the app stopped; written by a whole build."""
    found = []
    for lang in INTERFACE_LANGS:
        found += [_url("about.about", lang=lang), _url("reader.search", lang=lang)]
    return found


def build_addresses() -> list[str]:
    """The files that change only with a deploy, in a request context: the worker, every interface
    language's manifest, offline page and shells (and the other pages its worker stores on install),
    and the files at the site's root (favicon, icons, robots.txt).

    They depend on the app's build alone, so a change's publication never
    rewrites them; with them in the folder a first-time reader can install
    the app while the app itself is stopped.
    """
    found = [_url("worker.service_worker")]
    found += [f"/{path.name}" for path in sorted((bundles.STATIC_DIR / "root").iterdir())]
    for lang in INTERFACE_LANGS:
        found += [_url(endpoint, lang=lang) for endpoint in worker.LANGUAGE_PAGES]
    return list(dict.fromkeys(found))


def site_addresses(db: sqlite3.Connection) -> Iterator[str]:
    """Every file of the whole site but the sync files, the build's own included, in a request context (:meth:`Renderer.url_context`).

    Statements' pages come last and in creation order, so a long build
    writes the pages every reader starts from first.
    """
    yield from home_addresses()
    yield from fixed_addresses()
    yield from build_addresses()
    yield _url("feeds.feed")
    yield _url("feeds.sitemap")
    size = feeds.part_size()
    yield from dict.fromkeys(
        sitemap_part_address(part) for part in (0, *(part for part, _ in store.sitemap_parts(db, size)))
    )
    outline = list(store.published_outline(db))
    for tag in sorted({tag for _, _, tags, _ in outline for tag in tags}):
        yield from tag_addresses(tag)
    for _, slug, _, _ in outline:
        yield statement_address(slug)
    yield from pack_addresses(found.name for found in packs.packs(db))


@dataclass(frozen=True)
class Shown:
    """What the folder shows of one published statement: enough to find its files after it changes."""

    slug: str
    tags: tuple[str, ...]
    part: int  # its sitemap part
    pack: str = ""  # the name of the pack (language and month) holding it


def change_addresses(
    db: sqlite3.Connection, changed: Iterable[Statement], shown: dict[str, Shown]
) -> tuple[list[str], dict[str, Shown | None]]:
    """The files a set of changed statements affects, and what the folder will show of each of them.

    ``changed``: the statements in their current state; ``shown``: what the
    folder shows of those it showed before the change (by id). The files:
    each statement's page under its slug now and before, its translations'
    pages, the first list pages in every interface language, its tags' pages
    and feeds before and after, the feed, the sitemap index and the parts
    that list it, the packs that hold it (a withdrawal too) and their list. Each address either renders (a file) or does not (404,
    410, a redirect: no file there). In a request context.
    """
    size = feeds.part_size()
    addresses = [*home_addresses(), _url("feeds.feed"), _url("feeds.sitemap")]
    now_shown: dict[str, Shown | None] = {}
    pack_names: list[str | None] = []
    for statement in changed:
        before = shown.get(statement.id)
        after = None
        pack = packs.pack_name(statement.lang, statement.published) if statement.status != "draft" else None
        pack_names += [before.pack if before else None, pack]
        if statement.status == "published":
            after = Shown(statement.slug, statement.tags, store.sitemap_part_of(statement, size), pack or "")
        now_shown[statement.id] = after
        for each in (before, after):
            if each is not None:
                addresses.append(statement_address(each.slug))
                addresses.append(sitemap_part_address(each.part))
                for tag in each.tags:
                    addresses += tag_addresses(tag)
        if statement.status != "draft":
            addresses += [statement_address(other.slug) for other in store.translations_of(db, statement)]
    addresses += pack_addresses(pack_names, {found.name for found in packs.listed(db)[0]})
    return list(dict.fromkeys(addresses)), now_shown


def sync_addresses(renderer: Renderer) -> list[str] | None:
    """Every sync file the app names, the index last; None when the app serves no sync files.

    Followed from ``sync/index.json``: its snapshot, chunks and ``older``
    list, and the chunks that list names (paths relative to the index).
    """
    if not renderer.exists(SYNC_INDEX):
        return None
    index = renderer.get(SYNC_INDEX)
    if not index.is_file:
        return None
    folder = posixpath.dirname(SYNC_INDEX)
    data = index_document(index.body)
    documents = [data]
    older = data.get("older") if isinstance(data, dict) else None
    if isinstance(older, dict) and isinstance(older.get("path"), str):
        older_address = posixpath.normpath(posixpath.join(folder, older["path"]))
        documents.append(json.loads(renderer.get(older_address).body))
    named = []
    for document in documents:
        for path in _paths_in(document):
            target = posixpath.normpath(posixpath.join(folder, path))
            if target.startswith(folder + "/") and target not in named:
                named.append(target)
    return [*named, SYNC_INDEX]


# The public documents a mirror or a device of another origin reads beside the sync files: the
# keys (root, certificates, revocations) and the signed list of mirrors. Endpoints, not paths.
DOCUMENT_ENDPOINTS = ("keys.keys_json", "mirrors.mirrors_json")


def document_addresses() -> list[str]:
    """``/keys.json`` and ``/mirrors.json`` below the mount (in a request context); each is a file
    only where the app answers it with a 200 (no keys, no mirrors: no file)."""
    return [_url(endpoint) for endpoint in DOCUMENT_ENDPOINTS]


def index_document(body: bytes) -> dict:
    """The payload of a signed index's envelope (read, not verified: the files it names are the app's own)."""
    data = json.loads(body)
    if isinstance(data, dict) and isinstance(data.get("payload"), str):
        return json.loads(data["payload"])
    return data


def _paths_in(data) -> list[str]:
    """The ``path`` of each file an index (or an ``older`` list) names."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "path" and isinstance(value, str):
                found.append(value)
            elif key not in ("records", "keys", "mirrors"):
                found += _paths_in(value)
    elif isinstance(data, list):
        for value in data:
            found += _paths_in(value)
    return found


def site_files(app: Flask, db: sqlite3.Connection, base_url: str | None = None) -> Iterator[Rendered]:
    """Every file of the whole site rendered by ``app`` mounted at ``base_url`` (its host and path),
    the sync files included: the pages that are files (status 200) and the ones that answer
    otherwise (a tag emptied meanwhile), for the caller to skip."""
    renderer = Renderer(app, base_url)
    with renderer.url_context():
        addresses = [*site_addresses(db), *document_addresses()]
    for address in addresses:
        yield renderer.get(address)
    for address in sync_addresses(renderer) or ():
        yield renderer.get(address)
