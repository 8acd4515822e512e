"""Interface strings through gettext, and dates as readers write them.

English is the only interface language for now; every string already goes
through ``gettext``/``ngettext`` (Jinja's ``_()`` and ``ngettext()``) so that
adding a catalog under ``bulletin/translations/<lang>/LC_MESSAGES/`` is all a
new language needs. Two-letter top-level paths (``/ru/``, ``/es/``) are
reserved for those interface languages.
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import zoneinfo
from functools import cache
from pathlib import Path

from flask import Flask, current_app, has_app_context

from bulletin.statements.languages import text_direction

CATALOG_DIR = Path(__file__).parent / "translations"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)


@cache
def catalog(lang: str) -> gettext_module.NullTranslations:
    """The interface catalog for ``lang``; English (the source strings) when there is none."""
    return gettext_module.translation("messages", CATALOG_DIR, languages=[lang], fallback=True)


def interface_lang() -> str:
    """The language of the interface for the current request (outside an app, as in a tool: English)."""
    return current_app.config["DEFAULT_LANG"] if has_app_context() else "en"


def interface_dir() -> str:
    """``rtl`` or ``ltr`` for the interface language."""
    return text_direction(interface_lang())


def gettext(message: str, **variables) -> str:
    """Translate ``message`` into the interface language, then fill ``%(name)s`` variables."""
    text = catalog(interface_lang()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    """The plural form for ``n``; ``%(num)d`` is filled with ``n``."""
    return ngettext_raw(singular, plural, n) % dict(variables, num=n)


def format_date(value: dt.date | dt.datetime | None) -> str:
    """``7 January 2022``: a date as written; an instant in the site's time zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(zoneinfo.ZoneInfo(current_app.config["TIMEZONE"])).date()
    return gettext(
        "%(day)d %(month)s %(year)d", day=value.day, month=gettext(MONTHS[value.month - 1]), year=value.year
    )


def date_attribute(value: dt.date | dt.datetime | None) -> str:
    """Machine-readable form for ``<time datetime>``."""
    return value.isoformat() if value else ""


# The page script's strings. A plural is a (singular, plural) pair; the
# script picks the form with Intl.PluralRules and fills in %(num)d / %(ago)s.
UI_STRINGS = {
    "offline": N_("You are currently offline."),
    "savedNone": N_("No statements saved on this device yet."),
    "savedCount": (
        N_("%(num)d statement saved on this device."),
        N_("%(num)d statements saved on this device."),
    ),
    "savedCountUpdated": (
        N_("%(num)d statement saved on this device, updated %(ago)s."),
        N_("%(num)d statements saved on this device, updated %(ago)s."),
    ),
    "ready": N_("Ready to read offline."),
    "newCount": (N_("%(num)d new statement."), N_("%(num)d new statements.")),
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
    "storageLost": (
        N_("%(num)d statement was removed or could not be kept."),
        N_("%(num)d statements were removed or could not be kept."),
    ),
    "nothingOffline": N_(
        "Nothing is saved on this device yet. Statements you open, and the newest ones, are kept here when you are online."
    ),
    "noneSaved": N_("You have not saved any statement yet."),
    # The device's own search (static/js/search/), offline or when the server is slow.
    "searchFound": N_("Statements on this device containing “%(query)s”:"),
    "searchNone": N_("No statement on this device contains “%(query)s”."),
    "searchCovered": (
        N_("The search covered the %(num)d statement on this device."),
        N_("The search covered the %(num)d statements on this device."),
    ),
    "searchMore": N_("More results"),
    "searchFailed": N_("The statements on this device could not be searched."),
}


def ui_strings() -> dict:
    """The page script's strings in the interface language; plurals as CLDR ``one``/``other``."""
    strings = {}
    for key, message in UI_STRINGS.items():
        if isinstance(message, tuple):
            strings[key] = {"one": ngettext_raw(*message, 1), "other": ngettext_raw(*message, 5)}
        else:
            strings[key] = catalog(interface_lang()).gettext(message)
    return strings


def ngettext_raw(singular: str, plural: str, n: int) -> str:
    """The catalog's plural form for ``n``, with its placeholders left for the caller."""
    return catalog(interface_lang()).ngettext(singular, plural, n)


def init_app(app: Flask) -> None:
    """Install gettext into Jinja and add the date filters."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # Jinja's new-style gettext fills the variables itself (escaping them), so
    # it gets the bare catalog lookups rather than the formatting helpers above.
    app.jinja_env.install_gettext_callables(
        lambda message: catalog(interface_lang()).gettext(message),
        lambda singular, plural, n: catalog(interface_lang()).ngettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime_attr"] = date_attribute
    app.jinja_env.globals["interface_lang"] = interface_lang
    app.jinja_env.globals["interface_dir"] = interface_dir
