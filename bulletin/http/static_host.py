"""Pages rendered for a static host: the export's requests say so in the WSGI environment.

A static host (``python -m http.server``, an object store, a CDN) serves
files and nothing else: no status but 200 and 404, no query string read,
no search. The export (:mod:`bulletin.publishing.export`) renders its pages
through the app with :data:`ENVIRON_KEY` set, and the few pages that must
differ there ask :func:`on_static_host`. The flag is part of every key a
response is kept under (its ETag, the hot path's key), so a page rendered
for a static host is never answered to a request of the live site.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request

ENVIRON_KEY = "bulletin.static_host"


def on_static_host() -> bool:
    """Whether this request renders a page for a static host (the export) rather than for the live site."""
    return has_request_context() and bool(request.environ.get(ENVIRON_KEY))


def init_app(app: Flask) -> None:
    """Let templates ask ``on_static_host()``."""
    app.jinja_env.globals["on_static_host"] = on_static_host
