"""Addresses as folders: every HTML page's URL ends in ``/``, as the file a static host serves for it does.

A page is written as a folder's ``index.html`` (``/statements/<slug>/``),
so a web server, an object store or ``python -m http.server`` finds it with
no rewriting. The slashless form of such an address (every link before
folders) answers a permanent redirect to the folder, the query kept.
Links inside a statement's article are relative to its page, so the same
bytes work at any origin and under any mount prefix.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from flask import Flask, has_request_context, redirect, request
from werkzeug.routing import RequestRedirect


def init_app(app: Flask) -> None:
    """Answer the router's own redirects to a canonical address (the added ``/``) with 301."""
    app.before_request(_permanent_redirect)


def _permanent_redirect():
    # Werkzeug redirects a slashless address to its folder (and /<default lang>/...
    # to the unprefixed one) with 308. For readers' GETs a 301 says the same
    # thing to every crawler and cache; other methods keep 308, which keeps the body.
    found = request.routing_exception
    if not isinstance(found, RequestRedirect) or request.method not in ("GET", "HEAD"):
        return None
    # Root-relative: behind a proxy the scheme and host werkzeug sees may not be the reader's.
    target = urlsplit(found.new_url)
    return redirect(target.path + (f"?{target.query}" if target.query else ""), 301)


def unmounted(url: str) -> str:
    """A root-relative ``url`` (as ``url_for`` makes it) without the app's mount prefix: the path below the app's root.

    Absolute addresses are the app's root (``BULLETIN_BASE_URL``, or the
    request's) followed by this, so the prefix is never written twice.
    """
    root = request.script_root if has_request_context() else ""
    return url[len(root) :] if root and url.startswith(root + "/") else url


def relative_url(page: str, target: str) -> str:
    """``target`` as a link written in the page at ``page`` (both root-relative paths; a folder ends in ``/``).

    ``relative_url("/statements/a/", "/tags/port/") == "../../tags/port/"``.
    """
    base = page if page.endswith("/") else posixpath.dirname(page) + "/"
    path, _, query = target.partition("?")
    found = posixpath.relpath(path, base)
    if path.endswith("/"):
        found = "./" if found == "." else found + "/"
    return found + (f"?{query}" if query else "")
