"""HTTP caching and security headers, for Flask's responses and WhiteNoise's alike.

Public pages are cacheable by any CDN or reverse proxy for a short time and
may be served stale when the origin fails, so a surge or an outage is
absorbed by caches. Conditional requests are answered from a cheap key
(:func:`etag_for`) before anything is rendered.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable

from flask import Flask, Response, current_app, request

from bulletin.assets import bundles
from bulletin.assets.files import compressed
from bulletin.http import hotpath
from bulletin.http.arguments import canonical_query
from bulletin.http.compress import Rendered, RenderedCache, RenderedCaches, negotiate
from bulletin.http.database import get_db
from bulletin.http.static_host import on_static_host
from bulletin.statements import epochs

# Headers of a rendered response that are part of what is cached with it.
KEPT_HEADERS = ("Content-Type", "X-Robots-Tag", "Location")
# Set in a request's WSGI environ by the publisher (bulletin.publishing): the answer uncompressed,
# neither kept nor replayed (see _identity_only).
IDENTITY_ONLY = "bulletin.identity_only"
# Per process. The kept pages' budget holds the pages readers read; one-off
# answers get a small share of their own (see compress.RenderedCaches). With
# the hot path's and the article cache's, these keep a gunicorn worker under
# 200 MB however many distinct queries arrive (bench/load.py measures it).
RENDERED_CACHE_BYTES = 24 * 1024 * 1024
RENDERED_CACHE_ENTRIES = 4096
ONE_OFF_CACHE_BYTES = 4 * 1024 * 1024
ONE_OFF_CACHE_ENTRIES = 1024

REFERRER_POLICY = "no-referrer"  # never tell a linked site where its reader came from
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"


def content_security_policy() -> str:
    """The CSP of every response: our own origin only, the inline CSS by its hash."""
    style_hash = bundles.built(current_app).style_hash
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' {style_hash}",
            "img-src 'self' data:",
            "font-src 'none'",
            # connect-, manifest- and worker-src fall back to default-src.
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def _security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": REFERRER_POLICY,
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        # No other site may embed our answers (a script tag, an image, a fetch without CORS).
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }


# Every document carries these (a static server or cache in front must keep them).
SECURITY_HEADER_NAMES = tuple(_security_headers("").keys())

# What a response that is not a document needs: an image, a stylesheet, a
# script a page loads, JSON. The others (CSP, Referrer-, Permissions- and
# Cross-Origin-Opener-Policy, X-Frame-Options) govern a document or a worker
# and nothing else; on the first visit's script, manifest and favicon they
# were 1,200 bytes of a 2G reader's 20,000.
SUBRESOURCE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "same-origin"}
SUBRESOURCE_TYPES = ("image/", "text/css", "text/javascript", "application/javascript", "application/json")
# A worker's script is its document: its CSP and referrer policy govern the
# worker, and nothing frames, opens or grants permissions to a worker.
WORKER_SCRIPTS = ("/sw.js",)
WORKER_ONLY = ("Content-Security-Policy", "Referrer-Policy")


def is_subresource(mimetype: str, path: str) -> bool:
    """Whether an answer of ``mimetype`` at ``path`` is never a document nor a worker's script.

    Types that can run script when opened (HTML, SVG, XML such as a feed)
    are documents; the manifest's ``application/manifest+json`` is JSON.
    """
    kind = mimetype.removesuffix("+json").replace("/manifest", "/json")
    return path not in WORKER_SCRIPTS and kind.startswith(SUBRESOURCE_TYPES) and kind != "image/svg+xml"


# Static files are never documents that run anything: the tightest policy.
STATIC_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def add_static_headers(headers, path: str, url: str) -> None:
    """WhiteNoise hook: the security headers a static file needs (all of them on anything but a subresource)."""
    chosen = SUBRESOURCE_HEADERS if is_subresource(headers.get("Content-Type", ""), url) else None
    for name, value in (chosen or _security_headers(STATIC_CSP)).items():
        headers[name] = value


def etag_for(*parts: object) -> str:
    """A strong ETag (unquoted) from everything a response shows, cheap to compute."""
    key = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def public_cache_control() -> str:
    """Cache-Control for public pages and API answers: short, shareable, stale on error."""
    max_age = current_app.config["HTML_MAX_AGE"]
    stale = current_app.config["STALE_IF_ERROR"]
    return f"public, max-age={max_age}, stale-while-revalidate={max_age}, stale-if-error={stale}"


def not_modified(etag: str, cache_control: str | None = None) -> Response | None:
    """A 304 when the client already holds ``etag``; None when the body must be sent.

    The 304 carries the same ``Cache-Control`` as the full response would,
    since a cache updates its stored headers from it.
    """
    if etag in request.if_none_match:
        response = Response(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = cache_control or public_cache_control()
        # As the full response would say (public bodies are kept compressed).
        response.vary.add("Accept-Encoding")
        return response
    return None


def _epoch() -> str:
    # Every request opened the database already (scheduled publication looks first): one indexed read.
    return epochs.current(get_db()) or ""


def _render(render: Callable, *, best: bool, thorough: bool = False, compress: bool = True) -> Rendered:
    response = current_app.make_response(render())
    headers = tuple((name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers)
    body = response.get_data()
    bodies = compressed(body, best=best, thorough=thorough) if compress else {"identity": body}
    return Rendered(response.status_code, headers, bodies)


EtagParts = tuple | Callable[[sqlite3.Connection], tuple]


def cached_response(
    etag_parts: EtagParts,
    render: Callable,
    *,
    reads: Iterable[str] = (),
    cache_control: str | None = None,
    one_off: bool = False,
    thorough: bool = False,
    replayable: bool = True,
) -> Response:
    """A public response keyed by everything it shows: 304, a kept copy, or rendered once.

    ``etag_parts`` must change whenever the body would: either a tuple of
    values, or a function of a database connection returning them, which
    the hot path may call again after a commit to learn, with a few cheap
    reads and without Flask, whether its kept copy still stands. The build
    of the assets, the database's epoch, the path and the query arguments
    named in ``reads`` (the only ones the route looks at) are added here;
    any other argument changes nothing, so ``?utm_source=...`` is answered
    with the page's one kept copy. ``render`` returns anything a view may
    return and runs only on a cache miss.

    ``one_off``: an answer to a value few readers send alike (a search's
    words, a device's own cursor), compressed cheaply; the best levels are
    spent on answers whose number is bounded by what is published.
    ``thorough``: an answer made once per deploy and asked for on every
    first visit (the worker's script): gzip by Zopfli as well.
    ``replayable=False``: an answer that changes with time as well as with
    the database (a signed index re-signed each hour), which the hot path
    must not replay on the database's word alone.
    """
    canonical = canonical_query(request.args.items(multi=True), reads)
    recheck = etag_parts if callable(etag_parts) else None
    parts = recheck(get_db()) if recheck is not None else etag_parts
    epoch = _epoch()
    # A page for a static host (the export) differs from the live site's at the same address.
    site = ("static-host",) if on_static_host() else ()
    etag = etag_for(
        bundles.built(current_app).build_id,
        epoch,
        request.script_root + request.path,
        canonical,
        *site,
        *parts,
    )
    if request.environ.get(IDENTITY_ONLY):
        return _identity_only(etag, render, one_off=one_off, cache_control=cache_control)
    # Tells the hot path (bulletin.hotpath) that this answer may be replayed, and how to check it later.
    if replayable:
        request.environ[hotpath.MARK] = etag
    request.environ[hotpath.CANONICAL] = canonical
    if recheck is not None:
        request.environ[hotpath.RECHECK] = (_with_epoch(recheck), (epoch, *parts))
    if one_off:
        request.environ[hotpath.ONE_OFF] = True
    unchanged = not_modified(etag, cache_control)
    if unchanged is not None:
        return unchanged
    cache = current_app.extensions["bulletin_rendered"].cache_for(one_off=one_off)
    entry = cache.get_or_make(etag, lambda: _render(render, best=not one_off, thorough=thorough))
    encoding = negotiate(request, entry.bodies)
    response = Response(entry.bodies[encoding], status=entry.status, headers=list(entry.headers))
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    if len(entry.bodies) > 1:
        response.vary.add("Accept-Encoding")
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control or public_cache_control()
    return response


def _identity_only(etag: str, render: Callable, *, one_off: bool, cache_control: str | None) -> Response:
    """The uncompressed answer, from the kept copy when there is one, else rendered and not kept:
    for the publisher, which compresses only the files whose bytes changed (and nothing else
    when none did), where a kept page would be compressed with the best levels at every commit."""
    entry = current_app.extensions["bulletin_rendered"].cache_for(one_off=one_off).get(etag)
    if entry is None:
        entry = _render(render, best=False, compress=False)
    response = Response(entry.bodies["identity"], status=entry.status, headers=list(entry.headers))
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control or public_cache_control()
    return response


def _with_epoch(parts: Callable[[sqlite3.Connection], tuple]) -> Callable[[sqlite3.Connection], tuple]:
    """``parts`` with the database's epoch first, as the ETag was computed (for the hot path's check)."""
    return lambda db: (epochs.current(db) or "", *parts(db))


def hsts() -> str:
    """Strict-Transport-Security for a request that came over HTTPS."""
    value = "max-age=31536000"
    if current_app.config.get("HSTS_INCLUDE_SUBDOMAINS"):
        value += "; includeSubDomains"
    return value


def _after_request(response: Response) -> Response:
    if is_subresource(response.mimetype or "", request.path):
        chosen = SUBRESOURCE_HEADERS
    else:
        chosen = _security_headers(content_security_policy())
        if request.path in WORKER_SCRIPTS:
            chosen = SUBRESOURCE_HEADERS | {name: chosen[name] for name in WORKER_ONLY}
    for name, value in chosen.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", hsts())
    # Anything not explicitly made public is private to the one reader.
    response.headers.setdefault("Cache-Control", "no-store")
    if "Set-Cookie" in response.headers and "public" in response.headers["Cache-Control"]:
        # A shared cache must never hand one reader's cookie to another.
        raise RuntimeError(f"public response for {request.path} tried to set a cookie")
    return response


def init_app(app: Flask) -> None:
    """Add security and cache headers to every response; keep rendered responses."""
    app.extensions["bulletin_rendered"] = RenderedCaches(
        kept=RenderedCache(RENDERED_CACHE_BYTES, RENDERED_CACHE_ENTRIES),
        one_off=RenderedCache(ONE_OFF_CACHE_BYTES, ONE_OFF_CACHE_ENTRIES),
    )
    app.after_request(_after_request)
