"""The interface in the readers' languages: Flask-Babel catalogs, CLDR plurals and dates, language URLs.

The URL decides the interface language, never a cookie or ``Accept-Language``,
so every page is one cacheable file. The default language
(``BULLETIN_DEFAULT_LANG``) keeps the unprefixed URLs; every other interface
language gets the same page under ``/<lang>/``: :func:`localized` registers a
reader route once and gives it a twin per language. A statement's page has
the interface of the statement's own language (:func:`statement_interface`).

Catalogs are ``translations/<lang>/LC_MESSAGES/messages.po`` (kept in the
repository); :func:`compile_catalogs` writes the ``.mo`` files beside them at
``prepare`` time. The editor's pages stay English: only the reader's sources
are extracted (``babel.cfg``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from pathlib import Path

import flask_babel
from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, current_app, g, has_app_context, has_request_context, request, url_for
from werkzeug.routing import BaseConverter

from bulletin.statements.languages import text_direction

CATALOG_DIR = Path(__file__).parent / "translations"

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

# Endpoints registered through localized(): url_for fills in their language.
LOCALIZED_ENDPOINTS: set[str] = set()
# Of those, pages whose picker offers each language's home instead of their
# own twin, as a statement's page does (its shell must match it byte for byte).
PICKER_HOME_ENDPOINTS: set[str] = set()


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


# The page script's strings. A plural is a (singular, plural) pair; the
# script picks the form with Intl.PluralRules and fills in %(num)d / %(ago)s.
UI_STRINGS = {
    "offline": N_("You are currently offline."),
    "savedNone": N_("No statements saved on this device yet."),
    "savedCount": Nn_("%(num)d statement saved on this device.", "%(num)d statements saved on this device."),
    "savedCountUpdated": Nn_(
        "%(num)d statement saved on this device, updated %(ago)s.",
        "%(num)d statements saved on this device, updated %(ago)s.",
    ),
    "ready": N_("Ready to read offline."),
    "newCount": Nn_("%(num)d new statement.", "%(num)d new statements."),
    "show": N_("Show"),
    "updateAvailable": N_("Update available."),
    "reload": N_("Reload"),
    "install": N_("Install app"),
    "iosHint": N_("To install this app: tap Share, then Add to Home Screen."),
    "save": N_("Save for offline"),
    "unsave": N_("Remove from saved"),
    "savedLabel": N_("Saved for offline."),
    "availableOffline": N_("Available offline"),
    "withdrawn": N_("Withdrawn"),
    "storageFull": N_("Storage on this device is full."),
    "storageLost": Nn_(
        "%(num)d statement was removed or could not be kept.",
        "%(num)d statements were removed or could not be kept.",
    ),
    "nothingOffline": N_(
        "Nothing is saved on this device yet. Statements you open, and the newest ones, are kept here when you are online."
    ),
    "noneSaved": N_("You have not saved any statement yet."),
}


def plural_samples(lang: str) -> dict[str, int]:
    """One number for each CLDR plural category of ``lang`` (``{"one": 1, "few": 2, "many": 5, "other": ...}``)."""
    rule = Locale.parse(lang).plural_form
    samples: dict[str, int] = {}
    for n in range(0, 1000):
        samples.setdefault(rule(n), n)
    return samples


def ui_strings(lang: str) -> dict:
    """The page script's strings in ``lang``; a plural as its form for each CLDR category of ``lang``."""
    strings = {}
    with interface(lang):
        for key, message in UI_STRINGS.items():
            if isinstance(message, tuple):
                translations = flask_babel.get_translations()
                strings[key] = {
                    category: translations.ungettext(*message, n)
                    for category, n in plural_samples(lang).items()
                }
            else:
                strings[key] = gettext(message)
    return strings


def compile_catalogs() -> list[Path]:
    """Write each catalog's ``.mo`` beside its ``.po`` (only when its bytes change); return the files."""
    written = []
    for po_path in sorted(CATALOG_DIR.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.with_suffix(".mo.tmp").open("wb") as out:
            write_mo(out, catalog)
        tmp = mo_path.with_suffix(".mo.tmp")
        if mo_path.exists() and mo_path.read_bytes() == tmp.read_bytes():
            tmp.unlink()
            mo_path.touch()  # as new as its .po: catalogs_compiled() compares the times
        else:
            tmp.replace(mo_path)
        written.append(mo_path)
    return written


def catalogs_compiled() -> bool:
    """Whether every catalog has a ``.mo`` at least as new as its ``.po``."""
    for po_path in CATALOG_DIR.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            return False
    return True


# ---------------------------------------------------------------- language URLs


class InterfaceLanguage(BaseConverter):
    """A path segment naming an interface language (``ru``, ``ar``): nothing else matches."""

    regex = "(?:" + "|".join(INTERFACE_LANGS) + ")"


def localized(bp: Blueprint, rule: str, *, picker_links_home: bool = False, **options):
    """Register a reader route at ``rule`` in the default language and at ``/<lang>rule`` for every other.

    One registration gives a list-type page its twin in each interface
    language. ``url_for`` fills in the current interface language, so links
    stay in it; ``/<default lang>/...`` redirects to the unprefixed URL.
    The view never sees the language: it is the request's interface language.
    ``picker_links_home``: the language picker on this page leads to each
    language's home page rather than to this page's twins.
    """

    def decorator(view):
        endpoint = options.pop("endpoint", view.__name__)
        LOCALIZED_ENDPOINTS.add(f"{bp.name}.{endpoint}")
        if picker_links_home:
            PICKER_HOME_ENDPOINTS.add(f"{bp.name}.{endpoint}")

        def register(state):
            state.add_url_rule(rule, endpoint, view, defaults={"lang": default_lang_of(state.app)}, **options)
            state.add_url_rule(f"/<ilang:lang>{rule}", endpoint, view, **options)

        bp.record(register)
        return view

    return decorator


def _fill_lang(endpoint: str, values: dict) -> None:
    if endpoint in LOCALIZED_ENDPOINTS:
        values.setdefault("lang", interface_lang())


def _take_lang(endpoint: str | None, values: dict | None) -> None:
    if endpoint in LOCALIZED_ENDPOINTS and values and "lang" in values:
        use_interface(values.pop("lang"))


def localized_url(lang: str) -> str | None:
    """This page in ``lang``'s interface; None when the page has no language twins.

    Without the query: a kept page is keyed by the arguments its route reads
    only, so an argument copied into its links could reach other readers.
    (The page script adds a search's words to the picker's links.)
    """
    if request.endpoint not in LOCALIZED_ENDPOINTS or request.endpoint in PICKER_HOME_ENDPOINTS:
        return None
    return url_for(request.endpoint, **(request.view_args or {}), lang=lang)


def languages() -> list[dict]:
    """The picker: each interface language with its name and where this page is in it."""
    here = interface_lang()
    return [
        {
            "lang": lang,
            "name": LANGUAGE_NAMES[lang],
            "dir": text_direction(lang),
            "url": localized_url(lang) or prefix(lang) + "/",
            "current": lang == here,
        }
        for lang in INTERFACE_LANGS
    ]


def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogs, the language converter and URL hooks, the date and number filters."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(CATALOG_DIR))
    app.config["BABEL_DEFAULT_LOCALE"] = default_lang_of(app)
    flask_babel.Babel(app, locale_selector=interface_lang)
    app.url_map.converters["ilang"] = InterfaceLanguage
    app.url_defaults(_fill_lang)
    app.url_value_preprocessor(_take_lang)
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["datetime_attr"] = date_attribute
    app.jinja_env.globals["interface_lang"] = interface_lang
    app.jinja_env.globals["interface_dir"] = interface_dir
    app.jinja_env.globals["interface_languages"] = languages
    app.jinja_env.globals["default_lang"] = default_lang


def default_lang_of(app: Flask) -> str:
    """The app's default interface language (English when the setting names one without a catalog)."""
    lang = app.config["DEFAULT_LANG"]
    return lang if lang in INTERFACE_LANGS else "en"
