"""The nginx include that gives files served from the publish folder the app's own headers.

nginx serves the publish folder without asking the app, so it must send
what the app would have sent for the same file: the CSP with the current
build's style hash, nosniff and the other security headers, the cache
lifetimes, CORS on sync files, the content type. Those are never copied
here: for each kind of file the folder holds, the app is asked in-process
for one file of that kind (exactly as a reader's request would be
answered, over HTTP and over HTTPS) and its headers are written out as
nginx configuration. Change a header in the app, run ``prepare``, and
nginx follows.

Two files, because nginx wants maps at its ``http`` level and the headers
in the location that serves files:

* :data:`MAPS_FILE` (``http`` level): the kind of the served file from its
  path (``$uri`` once ``try_files`` found the file), then one ``map`` per
  header from the kind to the value the app sends for that kind of file;
  ``""`` when it sends none (nginx then sends none either).
* :data:`HEADERS_FILE` (``location`` level): the content type of each
  extension, the charset where the app names one, and one ``add_header``
  per header name.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, url_for
from werkzeug.test import TestResponse

MAPS_FILE = "nginx-header-maps.conf"
HEADERS_FILE = "nginx-headers.conf"

# Headers that belong to one response or to the server that sends it, not to
# the kind of file: nginx sets its own (its ETag and Last-Modified are as
# good validators for a file as the app's), or derives them from the
# compressed sibling it picks (Content-Encoding), or from the extension
# (Content-Type, below). Vary is the kind's: nginx's own (gzip_vary) is
# sent only to requests that name an encoding, and a cache that stored an
# answer to one that named none would hand everyone the uncompressed body.
PER_RESPONSE = frozenset(
    name.lower()
    for name in (
        "Content-Length",
        "Content-Encoding",
        "Content-Type",
        "ETag",
        "Last-Modified",
        "Date",
        "Server",
        "Accept-Ranges",
        "Connection",
    )
)


@dataclass(frozen=True)
class Sample:
    """What the app answered for one file of a kind: its headers over HTTP and the ones only HTTPS adds."""

    kind: str
    pattern: str
    extension: str
    url: str
    content_type: str
    headers: dict[str, str]
    https_only: dict[str, str]


@dataclass(frozen=True)
class Kind:
    """A kind of file in the publish folder.

    ``pattern`` is an nginx regular expression on the file's path in the
    folder (``/statements/x/index.html``, ``/feed.atom``); the first kind
    whose pattern matches gives a file its headers. ``urls`` names, given
    a test client of the app, the addresses one of which the app serves a
    file of this kind at (the first that answers 200 is the sample); a
    kind the app serves nowhere yet is left out.
    """

    name: str
    pattern: str
    extension: str
    urls: Callable[[object], Iterable[str]]


def _endpoint(name: str, **values) -> Callable[[object], list[str]]:
    return lambda _client: [url_for(name, **values)]


def _path(path: str) -> Callable[[object], list[str]]:
    return lambda _client: [path]


def _sync_file(client) -> list[str]:
    """A content-hashed sync file the app's sync index names (a snapshot or chunk), if any."""
    reply = client.get("/sync/index.json")
    body = reply.get_data()
    reply.close()
    if reply.status_code != 200:
        return []
    try:
        index = json.loads(body)
        if isinstance(index.get("payload"), str):  # a signed envelope carries the index as its payload
            index = json.loads(index["payload"])
        named = [index.get("snapshot") or {}, *(index.get("chunks") or []), index.get("older") or {}]
    except (ValueError, AttributeError, TypeError):
        return []
    return [
        posixpath.join("/sync/", entry["path"])
        for entry in named
        if isinstance(entry, dict) and entry.get("path")
    ]


def _pack(client) -> list[str]:
    """A pack (a bundle file of one language and month) the app lists at ``/bundles/``, if any."""
    reply = client.get("/bundles/")
    body = reply.get_data(as_text=True)
    reply.close()
    return re.findall(r'href="([^"]*/bundles/[^"/]+\.html)"', body)[:1] if reply.status_code == 200 else []


# Most particular first: nginx takes the first regular expression that matches.
# Not anchored at the root: a site served under a path (/news/sw.js) matches too.
KINDS = (
    Kind("worker", r"/sw\.js$", "js", _endpoint("worker.service_worker")),
    Kind("manifest", r"\.webmanifest$", "webmanifest", _endpoint("worker.web_manifest")),
    # The offline shells are documents robots must not index.
    Kind(
        "shell",
        r"/([a-z][a-z]/)?offline/(shell|list-shell|tag-shell|bundle-shell)/index\.html$",
        "html",
        _endpoint("worker.statement_shell"),
    ),
    # Bundle files carry their own CSP (their viewer's hash) and are downloads, never pages of the site.
    Kind("bundle", r"/bundles/[^/]+-[0-9]{4}-[0-9]{2}\.html$", "html", _pack),
    Kind("page", r"\.html$", "html", _endpoint("reader.index")),
    Kind("feed", r"\.atom$", "atom", _endpoint("feeds.feed")),
    Kind("sitemap", r"\.xml$", "xml", _endpoint("feeds.sitemap")),
    Kind("sync-index", r"/sync/index\.json$", "json", _path("/sync/index.json")),
    # Before the sync files: named, not content-hashed, wherever they sit.
    Kind("keys", r"/keys\.json$", "json", _path("/keys.json")),
    # Sent as keys.json is (the same route headers): its sample stands in where prepare's app
    # serves no list yet (no mirror configured, or no key that may sign it then).
    Kind("mirrors", r"/mirrors\.json$", "json", lambda _client: ["/mirrors.json", "/keys.json"]),
    Kind("sync-file", r"/sync/[^/]+\.json$", "json", _sync_file),
    Kind("favicon", r"\.ico$", "ico", _path("/favicon.ico")),
    Kind("touch-icon", r"\.png$", "png", _path("/apple-touch-icon.png")),
    Kind("robots", r"/robots\.txt$", "txt", _path("/robots.txt")),
)
# A file of no known kind gets the headers of a page: the strictest set.
DEFAULT_KIND = "page"

# A value inside nginx's double quotes is taken as written unless it holds
# one of these (a quote, an escape, a variable, a line break).
_SAFE_VALUE = re.compile(r'^[^"\\$\r\n]*$')
# A pattern keeps its backslashes and its end anchor (map keys hold no variables).
_SAFE_PATTERN = re.compile(r'^[^"\r\n]*$')


class IncludeError(RuntimeError):
    """The app's headers cannot be said in nginx's configuration as they are."""


def _kept(response: TestResponse) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower() not in PER_RESPONSE}


def sample(app: Flask, kinds: Iterable[Kind] = KINDS) -> list[Sample]:
    """Ask the app in-process for one file of each kind it serves; their headers."""
    samples = []
    client = app.test_client()
    for kind in kinds:
        with app.test_request_context():
            urls = list(kind.urls(client))
        for url in urls:
            plain, secure = client.get(url), client.get(url, base_url="https://localhost")
            plain.close()  # a static file's answer holds the file open
            secure.close()
            if plain.status_code != 200:
                continue
            headers, over_https = _kept(plain), _kept(secure)
            content_type = plain.headers.get("Content-Type", "")
            if not content_type.startswith("image/"):
                # The folder keeps compressed siblings of every text file, so the
                # answer varies even where this sample was too small to compress.
                headers.setdefault("Vary", "Accept-Encoding")
            samples.append(
                Sample(
                    kind=kind.name,
                    pattern=kind.pattern,
                    extension=kind.extension,
                    url=url,
                    content_type=content_type,
                    headers=headers,
                    https_only={name: value for name, value in over_https.items() if name not in headers},
                )
            )
            break
    return samples


def _quoted(value: str, *, pattern: bool = False) -> str:
    if not (_SAFE_PATTERN if pattern else _SAFE_VALUE).match(value):
        raise IncludeError(f"a header value nginx cannot carry as written: {value!r}")
    return f'"{value}"'


def _variable(name: str) -> str:
    return "$bulletin_file_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _names(samples: list[Sample]) -> list[str]:
    names: dict[str, None] = {}
    for one in samples:
        names.update(dict.fromkeys(one.headers))
    return list(names)


def _https_only(samples: list[Sample]) -> dict[str, str]:
    """Headers the app adds over HTTPS alone (HSTS), the same for every kind of file."""
    found: dict[str, str] = {}
    for one in samples:
        for name, value in one.https_only.items():
            if found.setdefault(name, value) != value:
                raise IncludeError(f"{name} differs between kinds of file over HTTPS")
    return found


KIND_VARIABLE = "$bulletin_file_kind"


def render_maps(samples: list[Sample]) -> str:
    """The ``http``-level include: the served file's kind by its path, then each header by kind.

    The path's regular expressions are tried once per request (for the
    kind); each header is then a lookup by the kind's name.
    """
    lines = [HEADER_NOTE, "", f"map $uri {KIND_VARIABLE} {{", f"    default {DEFAULT_KIND};"]
    lines += [f"    {_quoted('~' + one.pattern, pattern=True)} {one.kind};" for one in samples]
    lines += ["}", ""]
    default = next((one for one in samples if one.kind == DEFAULT_KIND), None)
    for name in _names(samples):
        fallback = default.headers.get(name, "") if default else ""
        lines.append(f"map {KIND_VARIABLE} {_variable(name)} {{")
        lines.append(f"    default {_quoted(fallback)};")
        lines += [f"    {one.kind} {_quoted(one.headers.get(name, ''))};" for one in samples]
        lines += ["}", ""]
    for name, value in _https_only(samples).items():
        lines += [
            f"map $scheme {_variable(name)} {{",
            '    default "";',
            f"    https {_quoted(value)};",
            "}",
            "",
        ]
    return "\n".join(lines)


def _types(samples: list[Sample]) -> tuple[dict[str, str], list[str]]:
    """Content type by extension, and the types the app names the charset of."""
    by_extension: dict[str, str] = {}
    with_charset: dict[str, bool] = {}
    for one in samples:
        mimetype, _, parameters = one.content_type.partition(";")
        mimetype = mimetype.strip()
        # ``charset="utf-8"`` (what WhiteNoise sends for robots.txt) is the same parameter, quoted.
        charset = parameters.strip().lower().replace('"', "")
        if charset not in ("", "charset=utf-8"):
            raise IncludeError(f"{one.url}: a content type nginx cannot repeat: {one.content_type!r}")
        if by_extension.setdefault(one.extension, mimetype) != mimetype:
            raise IncludeError(f".{one.extension} files are sent as two content types")
        if with_charset.setdefault(mimetype, bool(charset)) != bool(charset):
            raise IncludeError(f"{mimetype} is sent both with and without a charset")
    return by_extension, [mimetype for mimetype, named in with_charset.items() if named]


def render_headers(samples: list[Sample]) -> str:
    """The ``location``-level include: content types, charset, and every header from its map."""
    by_extension, charset_types = _types(samples)
    lines = [HEADER_NOTE, "", "types {"]
    lines += [f"    {mimetype} {extension};" for extension, mimetype in by_extension.items()]
    lines += ["}", "charset utf-8;"]
    if charset_types:
        lines.append(f"charset_types {' '.join(charset_types)};")
    for name in [*_names(samples), *_https_only(samples)]:
        lines.append(f"add_header {name} {_variable(name)};")
    return "\n".join(lines) + "\n"


HEADER_NOTE = (
    "# Written by `flask --app app prepare` from the headers the app itself sends\n"
    "# (bulletin/http/nginx_headers.py); edits here are lost at the next prepare."
)


def write(app: Flask, folder: str | Path) -> list[Path]:
    """Write both includes into ``folder`` (the instance folder); return their paths."""
    samples = sample(app)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in ((MAPS_FILE, render_maps(samples)), (HEADERS_FILE, render_headers(samples))):
        path = folder / name
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # nginx's workers read it
        os.replace(temporary, path)  # a reload never reads half a file
        written.append(path)
    return written
