"""What the installed app needs from the server: the worker, the manifest, the shells.

``/sw.js`` is assembled from ``service_worker/`` with its settings and the
precache list injected, so the worker's bytes change whenever an asset, the
offline page or the statement shell does, and the browser installs the new
worker. The precache list names every URL with a revision; the worker copies
unchanged entries from its previous cache instead of downloading them again.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import rjsmin
from flask import Blueprint, Response, current_app, render_template

from bulletin.assets import bundles
from bulletin.config import ROOT
from bulletin.http.caching import cached_response
from bulletin.i18n import gettext, interface_dir, interface_lang

bp = Blueprint("worker", __name__)

SOURCE_DIR = ROOT / "service_worker"
# Shared with the page bundle: the names both sides use (messages, caches,
# sync tag), and one IndexedDB layer for the page and the worker.
SHARED_NAMES = ROOT / "static" / "js" / "shared.js"
SHARED_SOURCES = (SHARED_NAMES, ROOT / "static" / "js" / "offline-store.js")
WORKER_SOURCES = ("strategies.js", "sync.js", "sw.js")
SHELL_MARKER = "<!--bulletin:article-->"
THEME_COLOR = "#0b5394"
BACKGROUND_COLOR = "#fdfdfb"


def _file_revision(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _text_revision(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def manifest() -> dict:
    """The web app manifest: what the home-screen app is called and looks like."""
    site = current_app.config["SITE_NAME"]
    icon = lambda name, size, purpose: {  # noqa: E731
        "src": f"/static/icons/{name}",
        "sizes": f"{size}x{size}",
        "type": "image/png",
        "purpose": purpose,
    }
    return {
        "id": "/",
        "name": site,
        "short_name": site[:12],
        "description": gettext("Public statements of %(site)s, readable offline.", site=site),
        "lang": interface_lang(),
        "dir": interface_dir(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            icon("icon-192.png", 192, "any"),
            icon("icon-512.png", 512, "any"),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
        "shortcuts": [
            {"name": gettext("Latest"), "url": "/", "icons": [icon("icon-192.png", 192, "any")]},
            {"name": gettext("Saved"), "url": "/offline#saved", "icons": [icon("icon-192.png", 192, "any")]},
        ],
    }


def _offline_html() -> str:
    return render_template("reader/offline.html")


def _shell_html() -> str:
    return render_template("reader/shell.html", marker=SHELL_MARKER)


def _search_html() -> str:
    return render_template("reader/search.html", query="", results=[], page=1, has_next=False)


def precache_entries() -> list[dict]:
    """Every URL the worker stores on install, each with the revision of its bytes.

    Large icons are left out: they are only needed by the install prompt,
    which the browser fetches itself.
    """
    built = bundles.built(current_app)
    static = bundles.STATIC_DIR
    return [
        {"url": built.urls["js"], "revision": built.urls["js"].rsplit(".", 2)[-2]},
        {"url": built.urls["search"], "revision": built.urls["search"].rsplit(".", 2)[-2]},
        {"url": "/static/icons/icon-192.png", "revision": _file_revision(static / "icons" / "icon-192.png")},
        {"url": "/favicon.ico", "revision": _file_revision(static / "root" / "favicon.ico")},
        {"url": "/manifest.webmanifest", "revision": _text_revision(json.dumps(manifest()))},
        {"url": "/offline", "revision": _text_revision(_offline_html())},
        {"url": "/offline/shell", "revision": _text_revision(_shell_html())},
        # Answers every search the server cannot: the device searches (static/js/search/).
        {"url": "/search", "revision": _text_revision(_search_html())},
    ]


def worker_settings() -> dict:
    """Settings the worker runs with, injected at the top of ``/sw.js``."""
    config = current_app.config
    entries = precache_entries()
    return {
        "version": _text_revision(json.dumps(entries) + _worker_source()),
        "precache": entries,
        "shellUrl": "/offline/shell",
        "offlineUrl": "/offline",
        "searchUrl": "/search",
        "shellMarker": SHELL_MARKER,
        "siteName": config["SITE_NAME"],
        "keepNewest": config["OFFLINE_KEEP"],
        "networkTimeoutMs": int(config["NETWORK_TIMEOUT"] * 1000),
        "syncLimit": config["SYNC_LIMIT"],
    }


@lru_cache(maxsize=4)
def _read_sources(paths: tuple[Path, ...]) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def _worker_source(kill_switch: bool = False) -> str:
    if kill_switch:
        return _read_sources((SHARED_NAMES, SOURCE_DIR / "kill.js"))
    return _read_sources((*SHARED_SOURCES, *(SOURCE_DIR / name for name in WORKER_SOURCES)))


def build_worker() -> str:
    """The bytes of ``/sw.js``: settings, then the sources, minified."""
    if current_app.config["SW_KILL_SWITCH"]:
        return rjsmin.jsmin(_worker_source(kill_switch=True))
    settings = json.dumps(worker_settings(), ensure_ascii=False, separators=(",", ":"))
    return rjsmin.jsmin(f"const SETTINGS = {settings};\n{_worker_source()}")


# These only change with a deploy (the build id, added by cached_response,
# covers templates and the worker's source) or with a setting.


def _settings_key() -> tuple:
    config = current_app.config
    return (
        config["SITE_NAME"],
        config["DEFAULT_LANG"],
        config["OFFLINE_KEEP"],
        config["NETWORK_TIMEOUT"],
        config["SYNC_LIMIT"],
        config["SW_KILL_SWITCH"],
    )


@bp.get("/sw.js")
def service_worker():
    """The service worker, revalidated on every update check (``no-cache``)."""
    return cached_response(
        ("sw", _settings_key()),
        lambda: Response(build_worker(), mimetype="text/javascript"),
        cache_control="no-cache",
    )


@bp.get("/manifest.webmanifest")
def web_manifest():
    """The install manifest."""
    return cached_response(
        ("manifest", _settings_key()),
        lambda: Response(json.dumps(manifest(), ensure_ascii=False), mimetype="application/manifest+json"),
    )


@bp.get("/offline")
def offline_page():
    """The page listing everything readable on this device (filled by the page script)."""
    return cached_response(("offline", _settings_key()), _offline_html)


@bp.get("/offline/shell")
def statement_shell():
    """The statement page with an empty slot, filled on the device with ``article_html``."""
    return cached_response(
        ("shell", _settings_key()), lambda: (_shell_html(), 200, {"X-Robots-Tag": "noindex"})
    )
