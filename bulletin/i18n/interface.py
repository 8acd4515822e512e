"""The request's interface language, and words, plurals, dates and numbers in it (Flask-Babel).

The URL decides the interface language (see :mod:`bulletin.i18n.urls`); a
statement's page takes its statement's (:func:`use_interface`). Outside a
request, as in a command, the interface is English.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from pathlib import Path

import flask_babel
from babel.dates import format_date as babel_format_date
from flask import Flask, current_app, g, has_app_context, has_request_context, request

from bulletin.statements.languages import text_direction

CATALOG_DIR = Path(__file__).parent.parent / "translations"

# Every interface language with a catalog, in the order the picker lists them.
INTERFACE_LANGS = ("en", "fr", "es", "ru", "ar", "kk")
# Each language's name in itself, as the picker shows it.
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ru": "Русский",
    "ar": "العربية",
    "kk": "Қазақша",
}
# Dates as statements write them: day, month name, year (CLDR's own order
# and month forms for each language; English says "7 January 2022").
DATE_PATTERNS = {"en": "d MMMM y"}

EDITOR_PREFIX = "/editor"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for extraction (as one entry with its plural forms) without translating it yet."""
    return singular, plural


def interface_lang() -> str:
    """The interface language of the current request: its URL's, else the default; outside an app, English."""
    if not has_app_context():
        return "en"
    if g.get("interface_lang"):
        return g.interface_lang
    # The editor's pages are written in English only: they say so (lang="en") whatever the default.
    if has_request_context() and request.path.startswith(EDITOR_PREFIX):
        return "en"
    return default_lang()


def default_lang() -> str:
    """The language of the unprefixed URLs (``BULLETIN_DEFAULT_LANG`` when it has a catalog, else English)."""
    return default_lang_of(current_app)


def interface_dir() -> str:
    """``rtl`` or ``ltr`` for the interface language."""
    return text_direction(interface_lang())


def statement_interface(lang: str) -> str:
    """The interface a statement in ``lang`` is shown with: its own language's, else the default."""
    return lang if lang in INTERFACE_LANGS else default_lang()


def use_interface(lang: str) -> None:
    """Show the rest of this request in ``lang``'s interface (the default's when it has no catalog)."""
    g.interface_lang = statement_interface(lang)
    flask_babel.refresh()


@contextlib.contextmanager
def interface(lang: str):
    """Within the block, gettext, dates and templates speak ``lang``; then the request's language again."""
    before = g.get("interface_lang")
    use_interface(lang)
    try:
        yield
    finally:
        g.interface_lang = before
        flask_babel.refresh()


def prefix(lang: str) -> str:
    """The path prefix of ``lang``'s pages: empty for the default language, ``/ru`` for Russian."""
    return "" if lang == default_lang() else f"/{lang}"


def gettext(message: str, **variables) -> str:
    """Translate ``message`` into the interface language, then fill ``%(name)s`` variables."""
    return flask_babel.gettext(message, **variables)


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    """The CLDR plural form of the interface language for ``n``; ``%(num)d`` is filled with ``n``."""
    return flask_babel.ngettext(singular, plural, n, **variables)


def format_date(value: dt.date | dt.datetime | None) -> str:
    """A date as written in the interface language (``7 January 2022``, ``7 января 2022 г.``); an instant in the site's time zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(zoneinfo.ZoneInfo(current_app.config["TIMEZONE"])).date()
    lang = interface_lang()
    return babel_format_date(value, DATE_PATTERNS.get(lang, "long"), locale=lang)


def format_number(value: int) -> str:
    """A whole number as the interface language writes it."""
    return flask_babel.format_decimal(value)


def date_attribute(value: dt.date | dt.datetime | None) -> str:
    """Machine-readable form for ``<time datetime>``."""
    return value.isoformat() if value else ""


def default_lang_of(app: Flask) -> str:
    """The app's default interface language (English when the setting names one without a catalog)."""
    lang = app.config["DEFAULT_LANG"]
    return lang if lang in INTERFACE_LANGS else "en"
