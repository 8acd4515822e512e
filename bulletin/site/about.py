"""``/about/``: who publishes, the operator's own words, how to reach them, the root key's
fingerprint to compare, what the app keeps.

The operator's text is a Markdown file (``BULLETIN_ABOUT_FILE``) read once,
when the app starts, and sanitized like a statement's body. A missing or
unreadable file leaves the page without it and says so in the log: the
page must work whatever the operator's file does. The view assumes no
interface language, so a per-language twin can render the same template.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from flask import Blueprint, Flask, current_app, render_template
from markupsafe import Markup

from bulletin.http.caching import cached_response
from bulletin.i18n import localized
from bulletin.signing import keyring, keys
from bulletin.site import signatures
from bulletin.statements.bodies import render_body
from bulletin.statements.sanitize import clean

log = logging.getLogger(__name__)

bp = Blueprint("about", __name__)

EXTENSION = "bulletin_about"  # (the sanitized operator's text, its digest), kept on the app
MAX_BYTES = 256 * 1024  # a page of text; a larger file is a mistake, not an about page


def operator_text(path: str | None) -> str:
    """The operator's Markdown file as sanitized HTML; empty, with a warning logged, when it cannot be read."""
    if not path:
        return ""
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ValueError(f"it is larger than {MAX_BYTES} bytes")
        text = raw.decode("utf-8")
    except (OSError, ValueError) as e:  # UnicodeDecodeError is a ValueError
        log.warning("BULLETIN_ABOUT_FILE %s could not be read (%s): /about/ is shown without it", path, e)
        return ""
    return clean(render_body(text, "markdown"))


def _load(app: Flask) -> None:
    text = operator_text(app.config.get("ABOUT_FILE"))
    app.extensions[EXTENSION] = (text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])


@bp.record_once
def _on_register(state) -> None:
    # Read at start-up, so a bad file is in the log when the site starts, not at a reader's visit.
    _load(state.app)


@bp.app_template_global()
def about_html() -> Markup:
    """The operator's about text, sanitized (empty when there is none)."""
    return Markup(current_app.extensions[EXTENSION][0])


def root_fingerprint(folder: str | Path) -> str | None:
    """The fingerprint of the site's current root key (``keys.fingerprint``'s form); None without one.

    An unreadable keyring shows no fingerprint rather than no page (``/keys.json`` and the log say why).
    """
    try:
        root = keyring.load(folder).root
    except keyring.KeyringError:
        return None
    return keys.fingerprint(root) if root else None


@localized(bp, "/about/")
def about():
    """Who publishes, their words, how to reach them, the root key's fingerprint to compare with one
    obtained elsewhere, and what this site keeps on the reader's device."""
    config = current_app.config
    fixed = ("about", config["SITE_NAME"], config["CONTACT"], current_app.extensions[EXTENSION][1])
    folder = signatures.keys_folder()
    # Keys commands note the keyring's change in the database, which lets the hot path look again.
    return cached_response(
        lambda db: (*fixed, signatures.state(db), root_fingerprint(folder)),
        lambda: render_template("reader/about.html", fingerprint=root_fingerprint(folder)),
    )
