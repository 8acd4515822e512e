"""Asset bundles (flask-assets), their pre-compressed files, and static serving.

Bundles are built by ``flask --app app prepare`` into ``static/gen/`` with the
content hash in the file name, then compressed once (Brotli 11 and gzip 9)
next to themselves. WhiteNoise serves ``static/`` under ``/static/`` (hashed
files with a far-future immutable lifetime) and ``static/root/`` at the site
root (``/favicon.ico``, ``/robots.txt``).

The stylesheet is small enough to inline into every page, which saves readers
a render-blocking round trip; its hash goes into the CSP so no
``'unsafe-inline'`` is needed. The editor's own rules are a separate, linked
stylesheet, so that they add no byte to a reader's page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from dataclasses import dataclass, replace

from flask import Flask, has_request_context, request
from flask_assets import Bundle, Environment
from werkzeug.local import LocalProxy
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from bulletin.assets import scripts
from bulletin.assets.files import compressed, write_if_changed
from bulletin.assets.icons import build_icons
from bulletin.config import ROOT
from bulletin.i18n import INTERFACE_LANGS, catalogs_compiled, compile_catalogs, ui_strings

log = logging.getLogger(__name__)

STATIC_DIR = ROOT / "static"
STATIC_URL = "/static"
# Static files whose URL carries no hash still get cached a day.
UNVERSIONED_MAX_AGE = 86400
SUFFIXES = {"br": "br", "gzip": "gz"}  # the names WhiteNoise looks for

# shared.js and offline-store.js are shared with the service worker (see
# bulletin.pwa.worker); the interface strings are written by build() from
# the gettext catalogs, so they are paid for once per deploy, not on every page:
# one page script per interface language ("js-ru"), each starting with its strings.
# The page script is one file per concern, concatenated in this order into
# one script: each adds its part to the Bulletin namespace that shared.js
# starts, and main.js, last, starts it all.
PAGE_SCRIPT = (
    "js/shared.js",
    "js/offline-store.js",
    "js/page/strings.js",
    "js/page/languages.js",
    "js/page/notices.js",
    "js/page/statements.js",
    "js/page/search-page.js",
    "js/page/worker-client.js",
    "js/page/install.js",
    "js/page/share.js",
    "js/page/main.js",
)
# The fallback Ed25519 library: an ES module in node_modules (npm ci), made a classic script at build.
ED25519_MODULE = ROOT / "node_modules" / "@noble" / "ed25519" / "index.js"
ED25519_SCRIPT = "noble-ed25519.js"
ED25519_EXPORTS = ("verifyAsync", "hashes", "etc")

BUNDLES = {
    "css": Bundle("css/site.css", filters="rcssmin", output="gen/site.%(version)s.css"),
    # Editor pages only, linked rather than inlined: readers never pay for it.
    "editor_css": Bundle("css/editor.css", filters="rcssmin", output="gen/editor.%(version)s.css"),
    # The preview's bar, over the reader's page as served.
    "preview_css": Bundle("css/preview.css", filters="rcssmin", output="gen/preview.%(version)s.css"),
    **{
        f"js-{lang}": Bundle(
            f"gen/src/ui-strings.{lang}.js",
            *PAGE_SCRIPT,
            filters=scripts.FILTER,
            output=f"gen/page.{lang}.%(version)s.js",
        )
        for lang in INTERFACE_LANGS
    },
    # The editor's own script, only on the statement form (templates/editor/edit.html):
    # working copies on the server and the device, saves that wait for the
    # connection or a new login, the question before leaving unsaved text.
    # Never precached by the worker and never on a reader's page.
    "editor_js": Bundle(
        "js/editor/local-copies.js",
        "js/editor/working-copy.js",
        filters=scripts.FILTER,
        output="gen/editor.%(version)s.js",
    ),
    # The "Readable offline" page's own script (its lists, opening a bundle and making
    # one from the device), loaded there only: every other first visit would pay for
    # it. Precached with the page.
    "offline": Bundle(
        "js/offline/offline-page.js",
        "js/offline/import-bundle.js",
        "js/offline/device-bundle.js",
        filters=scripts.FILTER,
        output="gen/offline.%(version)s.js",
    ),
    # Installing's entries and card, fetched by js/page/install.js only when
    # the browser offers installation or on an iPhone. Precached.
    "install": Bundle(
        "js/install/install-entries.js", filters=scripts.FILTER, output="gen/install.%(version)s.js"
    ),
    # The about page's own script ("Remove everything from this device"), loaded there only.
    "about": Bundle("js/about/remove-all.js", filters=scripts.FILTER, output="gen/about.%(version)s.js"),
    # The device's verifier of signed documents (bulletin/signing/verifier.py's
    # rules): the worker's, loaded beside /sw.js rather than inside it, so the
    # first visit does not pay for it; pages never load it.
    "verify": Bundle("js/verify.js", filters=scripts.FILTER, output="gen/verify.%(version)s.js"),
    # What the worker imports at its start (importScripts, the URL in /sw.js's
    # SETTINGS.imports): the verifier, then sync and the lists built on the
    # device, which verify every record before storing it. Apart from /sw.js
    # so a first visit does not pay for them; the browser keeps it with the worker.
    "worker": Bundle(
        "js/verify.js",
        "js/worker/records.js",
        "js/worker/sync.js",
        "js/worker/imports.js",
        "js/worker/lists.js",
        filters=scripts.FILTER,
        output="gen/worker.%(version)s.js",
    ),
    # Ed25519 for browsers whose WebCrypto lacks it, loaded by the worker only
    # there: the npm package @noble/ed25519 (pinned in package-lock.json) as a
    # classic script defining `nobleEd25519`, written by build().
    "ed25519": Bundle(
        f"gen/src/{ED25519_SCRIPT}", filters=scripts.FILTER, output="gen/ed25519.%(version)s.js"
    ),
    # The device's search, loaded by js/page/search-page.js at the first search
    # only: pages that never search never pay for it.
    "search": Bundle(
        "js/search/words.js",
        "js/search/device-search.js",
        "js/search/start.js",
        filters=scripts.FILTER,
        output="gen/search.%(version)s.js",
    ),
}


@dataclass(frozen=True)
class BuiltAssets:
    """What the pages and headers need from one build of the bundles."""

    inline_css: str
    style_hash: str  # CSP source for the inline stylesheet
    urls: dict  # bundle name -> versioned URL
    build_id: str  # changes whenever a bundle, a template or the worker's source does
    root: str = ""  # the path the app is mounted at (``/news``), which ``urls`` start with


def _environment(app: Flask) -> Environment:
    env = Environment(app)
    env.directory = str(STATIC_DIR)
    env.load_path = [str(STATIC_DIR)]  # sources from static/, not Flask's static folder
    env.url = STATIC_URL
    env.versions = "hash"
    env.manifest = f"json:{STATIC_DIR / 'gen' / 'manifest.json'}"
    env.url_expire = False  # the version is in the file name, not a query string
    env.auto_build = False  # built once by `prepare`, never per request
    env.cache = False
    for name, bundle in BUNDLES.items():
        env.register(name, bundle)
    return env


def build(app: Flask) -> list[str]:
    """Build every bundle and pre-compress static files; return the files built."""
    env = app.extensions["bulletin_assets_env"]
    built = [str(path) for path in build_icons()]
    built.extend(str(path) for path in compile_catalogs())
    with app.app_context():
        _write_ui_strings()
        _write_ed25519_script()
        for name in BUNDLES:
            env[name].build(force=True)
            built.extend(_output_paths(env, name))
    compressor = Compressor(quiet=True)  # only for its list of formats not worth compressing
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and compressor.should_compress(path.name):
            forms = compressed(path.read_bytes(), thorough=True)
            for encoding, suffix in SUFFIXES.items():
                sibling = path.with_name(f"{path.name}.{suffix}")
                if encoding in forms:
                    write_if_changed(sibling, forms[encoding])
                elif sibling.exists():
                    # Not worth compressing any more: a copy left by an earlier build
                    # would still be served in its place, the old bytes.
                    sibling.unlink()
    write_if_changed(SOURCES_STAMP, _sources_digest().encode("ascii"))
    return built


def _write_ui_strings() -> None:
    """Each language's page script strings, as the script its bundle starts with."""
    for lang in INTERFACE_LANGS:
        strings = json.dumps(ui_strings(lang), ensure_ascii=False, separators=(",", ":"))
        script = f"const UI_STRINGS = {strings};\n"
        write_if_changed(STATIC_DIR / "gen" / "src" / f"ui-strings.{lang}.js", script.encode("utf-8"))


def ed25519_script(module: str) -> str:
    """The ES module ``module`` (@noble/ed25519's file) as a classic script defining ``nobleEd25519``.

    A service worker loads scripts with ``importScripts`` only, never as
    modules: the module's one ``export {...}`` becomes the object that
    global holds, the rest unchanged.
    """
    exports = re.compile(r"^export \{[^}]*\};?\s*$", re.MULTILINE)
    if len(exports.findall(module)) != 1:
        raise RuntimeError(f"{ED25519_MODULE} is not the module this build knows: check its version")
    names = ", ".join(f"{name}: {name}" for name in ED25519_EXPORTS)
    body = exports.sub("", module)
    return f'var nobleEd25519 = (function () {{\n"use strict";\n{body}\nreturn {{ {names} }};\n}})();\n'


def _write_ed25519_script() -> None:
    try:
        module = ED25519_MODULE.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise RuntimeError(
            f"{ED25519_MODULE.relative_to(ROOT)} is missing: run `npm ci` (make prepare does) first"
        ) from e
    write_if_changed(STATIC_DIR / "gen" / "src" / ED25519_SCRIPT, ed25519_script(module).encode("utf-8"))


def script_url(built_assets: BuiltAssets, lang: str) -> str:
    """The versioned URL of the page script in ``lang``'s interface."""
    return built_assets.urls[f"js-{lang}"]


def _output_paths(env: Environment, name: str) -> list[str]:
    return [str(STATIC_DIR / url[len(STATIC_URL) + 1 :]) for url in env[name].urls()]


def _load(app: Flask) -> BuiltAssets:
    env = app.extensions["bulletin_assets_env"]
    with app.app_context():
        urls = {name: env[name].urls()[0] for name in BUNDLES}
    css = (STATIC_DIR / urls["css"][len(STATIC_URL) + 1 :]).read_text(encoding="utf-8")
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    build_id = _build_id(urls)
    return BuiltAssets(
        inline_css=css,
        style_hash="'sha256-" + base64.b64encode(digest).decode("ascii") + "'",
        urls=urls,
        build_id=build_id,
    )


# Everything besides the bundles that shapes a response: a deploy that changes
# any of it must change every ETag, or readers would keep stale pages.
BUILD_INPUTS = ("templates", "service_worker", "bulletin/translations")


def _build_id(urls: dict) -> str:
    digest = hashlib.sha256("".join(sorted(urls.values())).encode())
    for folder in BUILD_INPUTS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# What the bundles and icons are made from (the page script's strings come
# from the i18n module and its catalogs).
BUNDLE_INPUTS = (
    "static/css",
    "static/js",
    "static/icons/source.png",
    "bulletin/assets/icons.py",
    "bulletin/assets/scripts.py",
    "bulletin/i18n",
    "bulletin/translations",
    "package-lock.json",
)
SOURCES_STAMP = STATIC_DIR / "gen" / "sources.sha256"


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for name in BUNDLE_INPUTS:
        root = ROOT / name
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            # Python's bytecode is written whenever a module is imported: no source of anything built.
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def is_built() -> bool:
    """Whether the bundles and icons were built from the current sources."""
    return (
        (STATIC_DIR / "gen" / "manifest.json").exists()
        and (STATIC_DIR / "root" / "favicon.ico").exists()
        and SOURCES_STAMP.exists()
        and catalogs_compiled()
        and SOURCES_STAMP.read_text(encoding="ascii") == _sources_digest()
    )


def built(app: Flask) -> BuiltAssets:
    """The current build's inline CSS, CSP hash and versioned URLs; loaded once ``prepare`` built it."""
    if "bulletin_assets" not in app.extensions:
        if not is_built():
            raise RuntimeError("the asset bundles are not built: run `flask --app app prepare`")
        app.extensions["bulletin_assets"] = _load(app)
    return app.extensions["bulletin_assets"]


def mounted(app: Flask) -> BuiltAssets:
    """:func:`built`, its URLs under the request's mount prefix (WSGI ``SCRIPT_NAME``), for pages and the worker."""
    assets = built(app)
    root = request.script_root if has_request_context() else ""
    if not root:
        return assets
    known = app.extensions.setdefault("bulletin_assets_mounted", {})
    found = known.get(root)
    if found is None or found.build_id != assets.build_id:
        found = known[root] = replace(
            assets, urls={name: root + url for name, url in assets.urls.items()}, root=root
        )
    return found


def _immutable(path: str, url: str) -> bool:
    return url.startswith(STATIC_URL + "/gen/")


def init_app(app: Flask) -> None:
    """Register the bundles and load the build that ``prepare`` made; never builds.

    A missing or stale build is logged now and refused at the first page
    that needs it, with the command that fixes it.
    """
    app.extensions["bulletin_assets_env"] = _environment(app)
    if is_built():
        app.extensions["bulletin_assets"] = _load(app)
    else:
        log.warning("asset bundles missing or older than their sources: run `flask --app app prepare`")
    app.jinja_env.globals["assets"] = LocalProxy(lambda: mounted(app))


def static_files(application, add_headers_function) -> WhiteNoise:
    """WhiteNoise serving ``static/`` (and ``static/root/`` at ``/``) in front of ``application``."""
    static = WhiteNoise(
        application,
        max_age=UNVERSIONED_MAX_AGE,
        immutable_file_test=_immutable,
        add_headers_function=add_headers_function,
        allow_all_origins=False,
    )
    static.add_files(str(STATIC_DIR), prefix=STATIC_URL)
    static.add_files(str(STATIC_DIR / "root"), prefix="/")
    return static
