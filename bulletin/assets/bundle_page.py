"""The page every bundle file is: the viewer's script and style inlined, a meta CSP allowing exactly
them, and the data block.

Two makers share it, so their files are the same page around different data:
the server (:mod:`bulletin.site.bundle_file`: ``flask bundle`` and the packs)
and the device, which fills the shell the worker precaches
(:mod:`bulletin.pwa.worker`, ``/offline/bundle-shell/``) with its own stored
envelopes. Here, below both, because neither may import the other.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass

from flask import current_app, render_template
from markupsafe import Markup

from bulletin.config import ROOT
from bulletin.i18n import gettext

FORMAT = "bulletin-bundle/1"
VIEWER_SCRIPT = ROOT / "static" / "js" / "bundle" / "viewer.js"
VIEWER_STYLE = ROOT / "static" / "css" / "bundle-viewer.css"


@dataclass(frozen=True)
class Viewer:
    """The viewer's script and style, inlined in every bundle, and the CSP allowing exactly them."""

    js: str
    css: str
    csp: str


def source_hash(text: str) -> str:
    """The CSP source allowing the inline ``text`` by its SHA-256."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@functools.cache
def viewer() -> Viewer:
    """The viewer, read once per process (a deploy restarts it)."""
    js = VIEWER_SCRIPT.read_text("utf-8")
    css = VIEWER_STYLE.read_text("utf-8")
    csp = "; ".join(
        [
            "default-src 'none'",  # no fetch, frame, font, media or worker: the file works with no network
            f"script-src {source_hash(js)}",  # the viewer alone: no other script, no handler, no javascript: URL
            f"style-src {source_hash(css)}",
            "img-src data:",  # an article's own data: images, nothing fetched
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    return Viewer(js, css, csp)


def default_title() -> str:
    """A bundle's title in the current interface language (a pack has its own)."""
    return gettext("Statements from %(site)s", site=current_app.config["SITE_NAME"])


def page(title: str, data: Markup) -> str:
    """The bundle page titled ``title`` in the current interface language, ``data`` (already escaped
    as the data block requires) in its data block."""
    return render_template(
        "reader/bundle.html", viewer=viewer(), title=title, site=current_app.config["SITE_NAME"], data=data
    )
