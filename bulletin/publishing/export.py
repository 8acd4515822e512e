"""The static export: the public site as a standalone set of files for any static host.

Every file is rendered by the app itself, in-process, mounted at the base
URL's path (WSGI ``SCRIPT_NAME``), so links, the worker's scope and the
manifest hold that path and work at any origin serving the folder there.
Requests carry :data:`bulletin.http.static_host.ENVIRON_KEY`: the few pages
a static host cannot serve as the app does say so (the search page, a
withdrawn statement's notice with status 200).

What is exported: the publisher's file set (:mod:`bulletin.publishing.fileset`:
pages, feeds, sitemaps, sync files, ``keys.json`` and ``mirrors.json``), and what a standalone site needs
besides (the worker and its precache list, every interface language's
offline pages, shells and manifest, the files at the site's root,
withdrawn statements' notices); then whatever those name, followed until
nothing new is named. A link to something the app does not answer with a 200 is a
problem, reported. Each text file gets ``.br`` and ``.gz`` siblings.
"""

from __future__ import annotations

import collections
import html.parser
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from flask import Flask

from bulletin.http.database import get_db
from bulletin.http.static_host import ENVIRON_KEY
from bulletin.i18n import INTERFACE_LANGS
from bulletin.publishing import fileset, hosts
from bulletin.publishing.folder import SIBLINGS, UnsafePath, compressed_forms, write_atomically
from bulletin.publishing.folder import file_for as published_file_for
from bulletin.pwa import worker
from bulletin.statements import store

log = logging.getLogger(__name__)

MARKER = hosts.MARKER
# Addresses that are never files: the editor, the JSON API (the sync files replace it).
NOT_EXPORTED = ("/editor/", "/api/")
# Media types whose files get compressed siblings (the others are compressed already, or tiny).
TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript|atom\+xml|manifest\+json)|image/svg\+xml)")
# The attributes of a page that name another address of the site.
LINK_ATTRIBUTES = ("href", "src", "action", "data-script", "data-install-script")
_XML_LINKS = re.compile(r"""<loc>\s*([^<\s]+)\s*</loc>|\shref="([^"]+)\"""")
SLOT = worker.LIST_MARKERS["tag"]
WORKER = "/sw.js"


class ExportError(Exception):
    """The export was refused before anything was written; the message says why."""


@dataclass
class Exported:
    """What an export wrote, and what it could not."""

    folder: Path
    base_url: str
    files: list[str] = field(default_factory=list)  # site paths, e.g. "/statements/x/"
    raw_bytes: int = 0
    brotli_bytes: int = 0  # what a client taking Brotli downloads, every file counted
    problems: list[str] = field(default_factory=list)


# ------------------------------------------------------------ the mount


def normalized_base_url(base_url: str) -> str:
    """``base_url`` as ``scheme://host[:port]/path/`` (ending in ``/``); ExportError when it is no such address."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ExportError(f"--base-url must be an http:// or https:// address, not {base_url!r}")
    if parts.query or parts.fragment:
        raise ExportError(f"--base-url may not carry a query or a fragment: {base_url!r}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if "//" in path or any(segment in (".", "..") for segment in path.split("/")):
        raise ExportError(f"--base-url has an odd path: {base_url!r}")
    return f"{parts.scheme}://{parts.netloc}{path}"


def mount_path(base_url: str) -> str:
    """The WSGI ``SCRIPT_NAME`` the app is mounted at for ``base_url``: its path without the final ``/``."""
    return urlsplit(base_url).path.rstrip("/")


def file_for(site_path: str) -> PurePosixPath:
    """The file a site path is written to: ``/a/b/`` (or ``/a/b``) to ``a/b/index.html``, ``/a/b.ext`` to ``a/b.ext``.

    Percent-escapes are decoded (static servers decode the request's path
    before looking for the file). ValueError for a path that could leave the
    folder, name a hidden file or name no file.
    """
    decoded = unquote(site_path)
    if not decoded.startswith("/") or "\\" in decoded:
        raise ValueError(f"not a path of the site: {site_path!r}")
    try:
        return PurePosixPath(published_file_for(site_path))  # as the live folder lays it out
    except UnsafePath:
        raise ValueError(f"not a path of the site: {site_path!r}") from None


# ------------------------------------------------------------ the folder


def check_folder(folder: Path) -> None:
    """Refuse a folder the export must not write into: a file, a non-empty folder no earlier export made, links inside."""
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise ExportError(
            f"{folder} is not empty and holds no earlier export ({MARKER} is missing): "
            "name an empty or new folder"
        )
    for directory, folders, names in os.walk(folder, followlinks=False) if folder.is_dir() else ():
        for name in (*folders, *names):
            if (Path(directory) / name).is_symlink():
                raise ExportError(
                    f"{Path(directory) / name} is a symbolic link: the export writes through none"
                )


class Folder:
    """Writes inside one folder only: no path leaves it, and no symbolic link in it is followed."""

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def target(self, relative: PurePosixPath) -> Path:
        """The absolute path of ``relative`` inside the folder; ExportError when a link in the way would lead outside."""
        path = self.root
        for part in relative.parts:
            path = path / part
            if path.is_symlink():
                raise ExportError(f"{path} is a symbolic link: the export writes no file through one")
        return path

    def write(self, relative: PurePosixPath, data: bytes) -> None:
        """Write ``data`` atomically (a temporary file beside it, then a rename)."""
        path = self.target(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not flushed to the disk one by one: an export is copied to its host once it is done.
        write_atomically(path, data, durable=False)

    def remove_all_but(self, kept: set[PurePosixPath]) -> int:
        """Delete every file not in ``kept`` (an earlier export's leftovers) and the folders left empty."""
        removed = 0
        for directory, folders, names in os.walk(self.root, topdown=False, followlinks=False):
            here = Path(directory)
            for name in names:
                path = here / name
                if PurePosixPath(path.relative_to(self.root).as_posix()) not in kept:
                    path.unlink()
                    removed += 1
            for name in folders:
                sub = here / name
                if not sub.is_symlink() and not any(sub.iterdir()):
                    sub.rmdir()
        return removed


# ------------------------------------------------------------ rendering


class Renderer(fileset.Renderer):
    """The publisher's renderer mounted at the base URL's path, as a static host's pages: every
    request carries :data:`ENVIRON_KEY`, and an error is an answer (reported), not an exception."""

    server_errors_raise = False

    def __init__(self, app: Flask, base_url: str):
        super().__init__(app, base_url, environ={ENVIRON_KEY: True})
        self.prefix = mount_path(base_url)

    def site_path(self, url: str, page: str) -> str | None:
        """The site path ``url`` (found in the file at ``page``) names; None for another site or another mount."""
        absolute = urlsplit(urljoin(self.base_url.rstrip("/") + page, url))
        own = urlsplit(self.base_url)
        if absolute.scheme not in ("http", "https") or absolute.netloc != own.netloc:
            return None
        return absolute.path[len(self.prefix) :] if absolute.path.startswith(self.prefix + "/") else ""


class _PageLinks(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found.extend(value for name, value in attrs if name in LINK_ATTRIBUTES and value)


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def links_in(body: bytes, content_type: str, site_path: str) -> list[str]:
    """The addresses a file names: a page's links and sources, a feed's or sitemap's, a manifest's, the worker's settings."""
    text = body.decode("utf-8", errors="replace")
    if content_type.startswith("text/html"):
        parser = _PageLinks()
        parser.feed(text)
        return parser.found
    if "xml" in content_type:
        return [loc or href for loc, href in _XML_LINKS.findall(text)]
    if "manifest+json" in content_type:
        manifest = json.loads(text)
        return [
            *(icon["src"] for icon in manifest.get("icons", [])),
            manifest.get("start_url", ""),
            *(shortcut["url"] for shortcut in manifest.get("shortcuts", [])),
        ]
    if site_path == WORKER and text.startswith("const SETTINGS="):
        # The worker fetches what its settings name; addresses among them start with "/".
        settings = json.loads(text[len("const SETTINGS=") : text.index("\n")].rstrip(";"))
        return [value for value in _strings(settings) if value.startswith("/") and " " not in value]
    return []


# ------------------------------------------------------------ what is exported


def starting_paths(db) -> list[str]:
    """Every address the export starts from (in a request context mounted at the base URL's path).

    The publisher's whole site (:func:`fileset.site_addresses`, with the
    build's own files: the worker, every interface language's offline page,
    shells and manifest, the files at the site's root), then what a
    standalone site needs besides: what every language's worker precaches,
    and each withdrawn statement's notice, which the app answers at its
    address.
    """
    paths = list(fileset.site_addresses(db))  # the build's files (worker, manifests, ...) among them
    for lang in INTERFACE_LANGS:
        paths.extend(fileset.below_mount(entry["url"]) for entry in worker.precache_entries(lang))
    paths.extend(fileset.statement_address(s.slug) for s in store.list_by_status(db, "withdrawn"))
    return list(dict.fromkeys(paths))


# ------------------------------------------------------------ the export


def export_site(
    app: Flask, folder: Path, base_url: str, *, progress: Callable[[str], None] = lambda line: None
) -> Exported:
    """Write the public site to ``folder`` as files served at ``base_url``.

    Refuses (ExportError, nothing written) a folder that is a file or is
    not empty and holds no earlier export. An earlier export's files that
    are no longer part of the site are removed once the new ones are
    written. Never writes outside ``folder``, nor through a symbolic link.
    """
    base_url = normalized_base_url(base_url)
    check_folder(folder)
    target = Folder(folder)
    target.write(PurePosixPath(MARKER), json.dumps({"base_url": base_url}).encode("utf-8") + b"\n")
    renderer = Renderer(app, base_url)
    done = Exported(folder=target.root, base_url=base_url)
    # As /sw.js is rendered: the worker's precache list is computed there.
    with app.test_request_context("/sw.js", base_url=base_url, environ_overrides={ENVIRON_KEY: True}):
        queue = collections.deque(starting_paths(get_db()))
    queue.extend(fileset.sync_addresses(renderer) or ())
    with renderer.url_context():
        documents = fileset.document_addresses()
    # keys.json and mirrors.json where the app has them (a site without mirrors has no list to copy).
    queue.extend(address for address in documents if renderer.get(address).is_file)
    written = {PurePosixPath(MARKER)}
    seen: set[str] = set()
    headers: dict[str, dict] = {}
    while queue:
        site_path = urlsplit(queue.popleft()).path
        if site_path in seen or site_path.startswith(NOT_EXPORTED):
            continue
        seen.add(site_path)
        fetched = _fetch(renderer, site_path, done)
        if fetched is None:
            continue
        body, response_headers = fetched
        relative = file_for(site_path)
        written |= _write_with_siblings(target, relative, body, response_headers, done)
        headers[site_path] = response_headers
        done.files.append(site_path)
        if len(done.files) % 1000 == 0:
            progress(f"{len(done.files)} files written")
        for link in links_in(body, response_headers.get("Content-Type", ""), site_path):
            if SLOT in link:
                continue  # the tag shell's slot, filled on the device
            found = renderer.site_path(link, site_path)
            if found == "" and site_path == WORKER:
                found = link  # the worker reads its route table below its scope: a path below the mount
            if found == "":
                done.problems.append(f"{site_path} names {link}, outside {base_url}")
            elif found and found not in seen:
                queue.append(found)
    for name, text in hosts.host_files(base_url, headers, str(target.root)).items():
        target.write(PurePosixPath(name), text.encode("utf-8"))
        written.add(PurePosixPath(name))
    removed = target.remove_all_but(written)
    if removed:
        progress(f"removed {removed} files of the earlier export")
    return done


def _fetch(renderer: Renderer, site_path: str, done: Exported) -> tuple[bytes, dict] | None:
    try:
        file_for(site_path)
    except ValueError as e:
        done.problems.append(str(e))
        return None
    response = renderer.get(site_path)
    if response.status != 200:
        done.problems.append(f"{site_path} answered {response.status}, not exported")
        return None
    return response.body, dict(response.headers)


def _write_with_siblings(
    target: Folder,
    relative: PurePosixPath,
    body: bytes,
    response_headers: dict,
    done: Exported,
) -> set[PurePosixPath]:
    """The file and, for text, its ``.br`` and ``.gz`` siblings (written first); the paths written."""
    written = set()
    brotli_size = len(body)
    if TEXT_TYPES.match(response_headers.get("Content-Type", "")):
        forms = compressed_forms(body)  # as the live folder compresses its files
        for encoding, suffix in SIBLINGS.items():
            data = forms[encoding]
            sibling = relative.with_name(relative.name + suffix)
            target.write(sibling, data)
            written.add(sibling)
            if encoding == "br":
                brotli_size = len(data)
    target.write(relative, body)
    written.add(relative)
    done.raw_bytes += len(body)
    done.brotli_bytes += brotli_size
    return written


def describe(done: Exported) -> Iterable[str]:
    """The lines the command prints."""
    yield (
        f"exported {len(done.files)} files to {done.folder} for {done.base_url}: "
        f"{done.raw_bytes:,} bytes, {done.brotli_bytes:,} with Brotli"
    )
    yield from done.problems
