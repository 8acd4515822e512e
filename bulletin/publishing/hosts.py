"""What a static host needs beside the exported files: the headers the app would send.

Two files, written from the headers the app actually sent for the exported
files (so they follow the app's settings and its CSP hash):

* ``_headers``, the rules file of hosts that read one (Netlify, Cloudflare
  Pages and the like): security headers for every file, cache lifetimes and
  ``Access-Control-Allow-Origin: *`` (on the sync files, ``keys.json`` and
  ``mirrors.json``) and JSON's media type where they differ. Such hosts add up the
  headers of every rule a path matches, so each header is set by one rule
  only: the pages get the host's own (revalidating) cache lifetime.
* ``nginx-export.conf``, a ``location`` block serving the folder at the base
  URL's path, pre-compressed siblings first, with every header per kind of file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from urllib.parse import urlsplit

HEADERS_FILE = "_headers"
# Written first in an export's folder: a later export may replace what it finds there. No page.
MARKER = ".bulletin-export"
NGINX_FILE = "nginx-export.conf"
# What a page (a document) carries whatever its kind; the cache lifetime is set apart.
DOCUMENT_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
)
SYNC_INDEX = "/sync/index.json"
# Public signed documents any origin reads (a mirror's worker, a tool), like the sync files.
OPEN_DOCUMENTS = ("/keys.json", "/mirrors.json")
# Media types a static host may not know by the file's extension.
NAMED_TYPES = (".webmanifest", ".atom")


def _first(headers: Mapping[str, dict], test) -> dict:
    return next((value for path, value in sorted(headers.items()) if test(path)), {})


def _kinds(headers: Mapping[str, dict]) -> dict[str, dict]:
    """One example of the app's headers per kind of file."""
    return {
        "page": headers.get("/") or _first(headers, lambda path: path.endswith("/")),
        "worker": _first(headers, lambda path: path == "/sw.js"),
        "static": _first(headers, lambda path: path.startswith("/static/gen/")),
        "sync-index": headers.get(SYNC_INDEX, {}),
        "sync": _first(headers, lambda path: path.startswith("/sync/") and path != SYNC_INDEX),
    }


def _sync_folders(headers: Mapping[str, dict]) -> list[str]:
    """Folders under ``sync/`` holding the immutable files (the index sits apart)."""
    return sorted(
        {str(PurePosixPath(path).parent) + "/" for path in headers if path.startswith("/sync/")} - {"/sync/"}
    )


def _sync_top_files(headers: Mapping[str, dict]) -> list[str]:
    return sorted(
        path
        for path in headers
        if path.startswith("/sync/") and path != SYNC_INDEX and str(PurePosixPath(path).parent) == "/sync"
    )


def _typed(headers: Mapping[str, dict]) -> list[tuple[str, str]]:
    return sorted(
        (path, value["Content-Type"])
        for path, value in headers.items()
        if path.endswith(NAMED_TYPES) and "Content-Type" in value
    )


def headers_file(prefix: str, headers: Mapping[str, dict]) -> str:
    """The ``_headers`` rules (paths under ``prefix``, the base URL's path)."""
    kinds = _kinds(headers)
    blocks = [
        "# Headers for the Bulletin export, as the app sends them. Put this file at the top of\n"
        "# what the host publishes. Each header is set by one rule only (hosts add up matching rules).",
        _block(
            f"{prefix}/*", {name: kinds["page"][name] for name in DOCUMENT_HEADERS if name in kinds["page"]}
        ),
    ]
    if "Cache-Control" in kinds["static"]:
        blocks.append(_block(f"{prefix}/static/gen/*", {"Cache-Control": kinds["static"]["Cache-Control"]}))
    if "Cache-Control" in kinds["worker"]:
        blocks.append(_block(f"{prefix}/sw.js", {"Cache-Control": kinds["worker"]["Cache-Control"]}))
    if kinds["sync-index"]:
        blocks.append(
            _block(
                f"{prefix}/sync/*",
                _open_to_all(kinds["sync-index"]) | _pick(kinds["sync-index"], "Content-Type"),
            )
        )
        blocks.append(_block(f"{prefix}{SYNC_INDEX}", _pick(kinds["sync-index"], "Cache-Control")))
        immutable = _pick(kinds["sync"], "Cache-Control")
        for folder in _sync_folders(headers):
            blocks.append(_block(f"{prefix}{folder}*", immutable))
        for path in _sync_top_files(headers):
            blocks.append(_block(f"{prefix}{path}", immutable))
    for path in OPEN_DOCUMENTS:
        if path in headers:
            chosen = _open_to_all(headers[path]) | _pick(headers[path], "Cache-Control", "Content-Type")
            blocks.append(_block(f"{prefix}{path}", chosen))
    for path, content_type in _typed(headers):
        blocks.append(_block(f"{prefix}{path}", {"Content-Type": content_type}))
    return "\n\n".join(block for block in blocks if block) + "\n"


def _open_to_all(headers: dict) -> dict:
    """What lets every origin (a mirror, another origin's worker) read the sync files, as the app sends it."""
    return {"Access-Control-Allow-Origin": "*", **_pick(headers, "Cross-Origin-Resource-Policy")}


def _pick(headers: dict, *names: str) -> dict:
    return {name: headers[name] for name in names if name in headers}


def _block(pattern: str, headers: dict) -> str:
    if not headers:
        return ""
    return pattern + "\n" + "\n".join(f"  {name}: {value}" for name, value in headers.items())


def _types(headers: Mapping[str, dict]) -> dict[str, str]:
    """File extension to media type, as the app answered them (``index.html`` pages included)."""
    found: dict[str, str] = {}
    for path, value in sorted(headers.items()):
        name = "index.html" if path.endswith("/") else PurePosixPath(path).name
        suffix = PurePosixPath(name).suffix.lstrip(".")
        if suffix and "Content-Type" in value:
            found.setdefault(suffix, value["Content-Type"].split(";")[0].strip())
    return found


def _nginx_headers(headers: dict, indent: str) -> str:
    return "".join(f'{indent}add_header {name} "{value}" always;\n' for name, value in headers.items())


def nginx_file(prefix: str, folder: str, headers: Mapping[str, dict]) -> str:
    """A ``location`` block for a ``server`` that serves ``folder`` at ``prefix`` (the base URL's path)."""
    kinds = _kinds(headers)
    document = _pick(kinds["page"], *DOCUMENT_HEADERS, "Cache-Control")
    by_type: dict[str, list[str]] = {}
    for suffix, media in _types(headers).items():
        by_type.setdefault(media, []).append(suffix)
    types = "".join(
        f"        {media} {' '.join(sorted(suffixes))};\n" for media, suffixes in sorted(by_type.items())
    )
    where = f"alias {folder}/;" if prefix else f"root {folder};"
    nested = []
    # add_header in a nested location replaces the outer ones: each repeats what it keeps.
    nosniff = _pick(kinds["page"], "X-Content-Type-Options")
    if kinds["static"]:
        nested.append((f"{prefix}/static/gen/", nosniff | _pick(kinds["static"], "Cache-Control")))
    if kinds["worker"]:
        nested.append((f"= {prefix}/sw.js", _pick(kinds["worker"], *DOCUMENT_HEADERS, "Cache-Control")))
    cors = _open_to_all(kinds["sync-index"])
    if kinds["sync-index"]:
        nested.append(
            (f"= {prefix}{SYNC_INDEX}", nosniff | cors | _pick(kinds["sync-index"], "Cache-Control"))
        )
        nested.append((f"{prefix}/sync/", nosniff | cors | _pick(kinds["sync"], "Cache-Control")))
    for path in OPEN_DOCUMENTS:
        if path in headers:
            values = nosniff | _open_to_all(headers[path]) | _pick(headers[path], "Cache-Control")
            nested.append((f"= {prefix}{path}", values))
    inner = "".join(
        f"    location {pattern} {{\n{_nginx_headers(values, ' ' * 8)}    }}\n" for pattern, values in nested
    )
    # The files written for the hosts are not the site's (this one names the folder's path).
    private = "|".join(re.escape(name) for name in (MARKER, HEADERS_FILE, NGINX_FILE))
    inner += f"    location ~ ^{re.escape(prefix)}/({private})$ {{\n        return 404;\n    }}\n"
    return (
        "# nginx: serve the Bulletin export in this folder at "
        f"{prefix or '/'} (include this inside a server block).\n"
        "# brotli_static needs the ngx_brotli module: without it, remove that line.\n"
        f"location {prefix}/ {{\n"
        f"    {where}\n"
        "    index index.html;\n"
        "    brotli_static on;\n"
        "    gzip_static on;\n"
        "    charset utf-8;\n"
        "    charset_types text/css text/javascript text/plain text/xml application/json\n"
        "        application/manifest+json application/atom+xml application/xml;\n"
        "    types {\n"
        f"{types}"
        "    }\n"
        f"{_nginx_headers(document, '    ')}"
        f"{inner}"
        "}\n"
    )


def host_files(base_url: str, headers: Mapping[str, dict], folder: str) -> dict[str, str]:
    """The files written beside the export, by name."""
    prefix = urlsplit(base_url).path.rstrip("/")
    return {HEADERS_FILE: headers_file(prefix, headers), NGINX_FILE: nginx_file(prefix, folder, headers)}
