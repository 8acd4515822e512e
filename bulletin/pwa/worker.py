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
import logging
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for
from markupsafe import Markup

from bulletin.assets import bundle_page, bundles, scripts
from bulletin.config import ROOT
from bulletin.http.addresses import unmounted
from bulletin.http.caching import cached_response
from bulletin.http.static_host import on_static_host
from bulletin.i18n import (
    INTERFACE_LANGS,
    default_lang,
    gettext,
    interface,
    interface_dir,
    interface_lang,
    localized,
)
from bulletin.pwa import bundle_import
from bulletin.signing import keyring, keys

log = logging.getLogger(__name__)

bp = Blueprint("worker", __name__)

SOURCE_DIR = ROOT / "service_worker"
# Shared with the page bundle: the names both sides use (messages, caches,
# sync tag), and one IndexedDB layer for the page and the worker.
SHARED_NAMES = ROOT / "static" / "js" / "shared.js"
SHARED_SOURCES = (SHARED_NAMES, ROOT / "static" / "js" / "offline-store.js")
WORKER_SOURCES = ("strategies.js", "sw.js")
# Bundles the worker imports (importScripts) rather than carrying: the
# verifier with sync and the device's lists, and the Ed25519 fallback library
# (imported only where WebCrypto lacks Ed25519).
WORKER_IMPORTS = ("worker", "ed25519")
SHELL_MARKER = "<!--bulletin:article-->"
# The statement shell's line saying who signed a record (between start and
# end), its slots filled on the device, the whole line removed for a record stored unsigned.
SIGNED_SLOTS = {
    "start": "<!--bulletin:signed-->",
    "end": "<!--/bulletin:signed-->",
    "kid": "bulletin-signed-kid",
    "fingerprint": "bulletin-signed-fingerprint",
}
# The list shells' slots: the items, the numbers in the page links, the tag
# (letters and dashes only, so it reads the same in text and in a URL).
LIST_MARKERS = {
    "items": "<!--bulletin:items-->",
    "prev": "bulletin-prev-page",
    "next": "bulletin-next-page",
    "tag": "bulletin-tag-slot",
}
# What the bundle shell's data block holds: an empty bundle, so the shell is a valid file; the
# offline page's script replaces the whole block's content with the device's data.
BUNDLE_SHELL_DATA = {
    "format": bundle_page.FORMAT,
    "keys": None,
    "index": None,
    "mirrors": None,
    "records": [],
}
THEME_COLOR = "#0b5394"
BACKGROUND_COLOR = "#fdfdfb"


def _file_revision(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _text_revision(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def manifest() -> dict:
    """The web app manifest in the interface language: the app's name, look, and start page in that language."""
    site = current_app.config["SITE_NAME"]
    # Under the app's mount prefix (/news/), as everything the installed app opens.
    root = bundles.mounted(current_app).root
    home = url_for("reader.index")
    icon = lambda name, size, purpose: {  # noqa: E731
        "src": f"{root}/static/icons/{name}",
        "sizes": f"{size}x{size}",
        "type": "image/png",
        "purpose": purpose,
    }
    return {
        "id": root + "/",
        "name": site,
        "short_name": site[:12],
        "description": gettext("Public statements of %(site)s, readable offline.", site=site),
        "lang": interface_lang(),
        "dir": interface_dir(),
        "start_url": home,
        "scope": root + "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            icon("icon-192.png", 192, "any"),
            icon("icon-512.png", 512, "any"),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
        "shortcuts": [
            {"name": gettext("Latest"), "url": home, "icons": [icon("icon-192.png", 192, "any")]},
            {
                "name": gettext("Saved"),
                "url": url_for("worker.offline_page") + "#saved",
                "icons": [icon("icon-192.png", 192, "any")],
            },
        ],
        # A shared bundle file goes to the worker's import. No file handler:
        # one registered for .html would claim every web page.
        "share_target": bundle_import.share_target(),
    }


def _offline_html() -> str:
    # The mirrors' addresses, for a reader whose browser never installed the app: links to open.
    mirrors = list(current_app.config.get("MIRRORS") or ())
    return render_template(
        "reader/offline.html",
        slot=Markup('<span class="slot"></span>'),
        mirrors=mirrors,
        import_strings=bundle_import.import_strings(),
    )


def _shell_html() -> str:
    code = '<code{} dir="ltr" translate="no">{}</code>'
    signed = {
        "start": Markup(SIGNED_SLOTS["start"]),
        "end": Markup(SIGNED_SLOTS["end"]),
        "kid_slot": Markup(code.format("", SIGNED_SLOTS["kid"])),
        "fingerprint_slot": Markup(code.format(' class="fingerprint"', SIGNED_SLOTS["fingerprint"])),
    }
    return render_template("reader/shell.html", marker=SHELL_MARKER, signed=signed)


def _bundle_shell_html() -> str:
    # The page a bundle file is, as ``flask bundle`` makes it, around an empty bundle.
    data = json.dumps(BUNDLE_SHELL_DATA, separators=(",", ":"))
    return bundle_page.page(bundle_page.default_title(), Markup(data))


def _list_shell_html() -> str:
    return render_template("reader/index.html", list_slot=LIST_MARKERS, statements=[])


def _tag_shell_html() -> str:
    return render_template(
        "reader/tag.html", list_slot=LIST_MARKERS, statements=[], tag=LIST_MARKERS["tag"], count=None
    )


def _about_html() -> str:
    return render_template("reader/about.html")


def _search_html() -> str:
    return render_template("reader/search.html", query="", results=[], page=1, has_next=False)


def common_entries() -> list[dict]:
    """What the worker stores on install whatever the reader's language, each with the revision of its bytes.

    Large icons are left out: they are only needed by the install prompt,
    which the browser fetches itself.
    """
    built = bundles.mounted(current_app)
    static = bundles.STATIC_DIR
    return [
        {"url": built.urls["about"], "revision": built.urls["about"].rsplit(".", 2)[-2]},
        {"url": built.urls["offline"], "revision": built.urls["offline"].rsplit(".", 2)[-2]},
        {"url": built.urls["install"], "revision": built.urls["install"].rsplit(".", 2)[-2]},
        {"url": built.urls["search"], "revision": built.urls["search"].rsplit(".", 2)[-2]},
        {
            "url": built.root + "/static/icons/icon-192.png",
            "revision": _file_revision(static / "icons" / "icon-192.png"),
        },
        {"url": built.root + "/favicon.ico", "revision": _file_revision(static / "root" / "favicon.ico")},
    ]


# A language's own pages, as url_for names them in the default language; the
# worker puts its scope and a language's prefix before them (worker_settings' "languages").
# The worker knows them by position: new pages go at the end.
LANGUAGE_PAGES = (
    "worker.web_manifest",
    "worker.offline_page",
    "worker.statement_shell",
    "worker.list_shell",
    "worker.tag_shell",
    "about.about",
    "reader.search",
    "worker.bundle_shell",
)


def _language_pages_html() -> str:
    return "".join(
        (
            json.dumps(manifest()),
            _offline_html(),
            _shell_html(),
            _list_shell_html(),
            _tag_shell_html(),
            _about_html(),
            _bundle_shell_html(),
        )
    )


def language_entries(lang: str) -> list[dict]:
    """What one interface language adds: its page script, manifest, offline page, shells (the bundle's
    too), about and search pages."""
    script = bundles.script_url(bundles.mounted(current_app), lang)
    with interface(lang):
        revision = _text_revision(_language_pages_html())[:8]
        return [{"url": script, "revision": script.rsplit(".", 2)[-2]}] + [
            {"url": url_for(endpoint), "revision": revision} for endpoint in LANGUAGE_PAGES
        ]


def precache_entries(lang: str | None = None) -> list[dict]:
    """Every URL the worker stores on install for a reader of ``lang`` (the default language when None)."""
    return common_entries() + language_entries(lang or default_lang())


def pinned_root() -> dict | None:
    """``{"kid", "public_key"}`` of the keyring's current root, which a new device pins; None with no keys.

    The root the worker is built with, never one a response could bring: a
    device pins it on its first run and keeps its pin through every later
    worker (only a ``root`` record signed by the pinned root moves it).
    """
    try:
        root = keyring.load(current_app.config["KEYS_DIR"]).root
    except keyring.KeyringError as e:
        log.error("the worker is built without a root key: %s", e)
        return None
    if root is None:
        return None
    described = keys.description(root)
    return {"kid": described["kid"], "public_key": described["public_key"]}


def worker_imports() -> dict:
    """The versioned URLs of the bundles the worker imports, under the app's mount prefix."""
    urls = bundles.mounted(current_app).urls
    return {name: urls[name] for name in WORKER_IMPORTS}


def worker_settings() -> dict:
    """Settings the worker runs with, injected at the top of ``/sw.js``.

    ``precache`` and the default language's entries are stored on install.
    ``languages`` gives, compactly (every byte of the worker is paid on a
    first visit), each interface language's page script and one revision of
    its manifest, offline page and shell (``languagePages`` under its
    prefix); the worker adds a language's entries once a page in it is
    shown, and keeps them through updates: a reader pays for their language only.
    """
    config = current_app.config
    entries = precache_entries()
    languages = {}
    for lang in INTERFACE_LANGS:
        script, page, *_ = language_entries(lang)
        languages[lang] = [script["url"], page["revision"]]
    imports = worker_imports()
    root = pinned_root()
    return {
        "version": _text_revision(json.dumps([entries, languages, imports, root]) + _worker_source()),
        "precache": common_entries(),
        "imports": imports,
        "root": root,
        "defaultLang": default_lang(),
        "languages": languages,
        # Below the worker's scope (the app's mount prefix), which the worker puts before them.
        "languagePages": [unmounted(url_for(endpoint, lang=default_lang())) for endpoint in LANGUAGE_PAGES],
        "shellMarker": SHELL_MARKER,
        "signedSlots": SIGNED_SLOTS,
        "shareField": bundle_import.SHARE_FIELD,
        "listShellUrl": unmounted(url_for("worker.list_shell", lang=default_lang())),
        "tagShellUrl": unmounted(url_for("worker.tag_shell", lang=default_lang())),
        "listMarkers": LIST_MARKERS,
        "pageSize": config["PAGE_SIZE"],
        "siteName": config["SITE_NAME"],
        "keepNewest": config["OFFLINE_KEEP"],
        "networkTimeoutMs": int(config["NETWORK_TIMEOUT"] * 1000),
        "syncTimeoutMs": int(config["SYNC_TIMEOUT"] * 1000),
        "syncLimit": config["SYNC_LIMIT"],
        # An export's worker: its host reads no query, so list pages past the first are built on the device.
        **({"staticHost": True} if on_static_host() else {}),
    }


@lru_cache(maxsize=4)
def _read_sources(paths: tuple[Path, ...]) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def _worker_source(kill_switch: bool = False) -> str:
    if kill_switch:
        return _read_sources((SHARED_NAMES, SOURCE_DIR / "kill.js"))
    return _read_sources((*SHARED_SOURCES, *(SOURCE_DIR / name for name in WORKER_SOURCES)))


@lru_cache(maxsize=2)
def _minified_worker_source() -> str:
    return scripts.minified(_worker_source())


def build_worker() -> str:
    """The bytes of ``/sw.js``: settings, then the sources, minified."""
    if current_app.config["SW_KILL_SWITCH"]:
        return scripts.minified(_worker_source(kill_switch=True))
    settings = json.dumps(worker_settings(), ensure_ascii=False, separators=(",", ":"))
    # The settings stay JSON as written (tests and tools read them back); the sources are minified.
    return f"const SETTINGS={settings};\n{_minified_worker_source()}"


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
        config["PAGE_SIZE"],
        bundles.mounted(current_app).root,  # every address the worker and the manifest name
        # /about is precached: the operator's text (read at start-up) and contact change the worker.
        config["CONTACT"],
        current_app.extensions.get("bulletin_about"),
        pinned_root(),  # a keyring's first root, made after the deploy, is built into the worker
        tuple(config.get("MIRRORS") or ()),  # the offline page lists the mirrors
    )


@bp.get("/sw.js")
def service_worker():
    """The service worker, revalidated on every update check (``no-cache``)."""
    return cached_response(
        ("sw", _settings_key()),
        lambda: Response(build_worker(), mimetype="text/javascript"),
        cache_control="no-cache",
        thorough=True,  # made once per deploy, fetched on every first visit
    )


@localized(bp, "/manifest.webmanifest")
def web_manifest():
    """The install manifest."""
    return cached_response(
        ("manifest", _settings_key()),
        lambda: Response(json.dumps(manifest(), ensure_ascii=False), mimetype="application/manifest+json"),
    )


@localized(bp, "/offline/")
def offline_page():
    """The page listing everything readable on this device (filled by the page script)."""
    return cached_response(("offline", _settings_key()), _offline_html)


@localized(bp, "/offline/shell/", picker_links_home=True)
def statement_shell():
    """The statement page with an empty slot, filled on the device with ``article_html``."""
    return cached_response(
        ("shell", _settings_key()), lambda: (_shell_html(), 200, {"X-Robots-Tag": "noindex"})
    )


@localized(bp, "/offline/list-shell/", picker_links_home=True)
def list_shell():
    """The list of latest statements with empty slots, filled on the device with ``list_item_html``."""
    return cached_response(
        ("list-shell", _settings_key()), lambda: (_list_shell_html(), 200, {"X-Robots-Tag": "noindex"})
    )


@localized(bp, "/offline/tag-shell/", picker_links_home=True)
def tag_shell():
    """A tag's list with empty slots (the tag too), filled on the device with ``list_item_html``."""
    return cached_response(
        ("tag-shell", _settings_key()), lambda: (_tag_shell_html(), 200, {"X-Robots-Tag": "noindex"})
    )


@localized(bp, "/offline/bundle-shell/", picker_links_home=True)
def bundle_shell():
    """A bundle file holding nothing: the page the offline page's "Make a bundle from this device" fills
    with the device's own envelopes (the same viewer, style and CSP as ``flask bundle``)."""
    return cached_response(
        ("bundle-shell", _settings_key()), lambda: (_bundle_shell_html(), 200, {"X-Robots-Tag": "noindex"})
    )
