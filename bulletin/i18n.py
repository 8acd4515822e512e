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
    "offlineLine": (
        N_("Offline: %(num)d statement on this device."),
        N_("Offline: %(num)d statements on this device."),
    ),
    "offlineNone": N_("Offline: no statements on this device yet."),
    "offlineShort": N_("Offline"),
    "hideNotice": N_("Hide"),
    "justNow": N_("just now"),
    "minutesAgo": (N_("%(num)d minute ago"), N_("%(num)d minutes ago")),
    "hoursAgo": (N_("%(num)d hour ago"), N_("%(num)d hours ago")),
    "daysAgo": (N_("%(num)d day ago"), N_("%(num)d days ago")),
    "savedCopyChecking": N_("Saved copy from %(ago)s — checking for a newer one…"),
    "savedCopy": N_("Saved copy from %(ago)s."),
    "showNewer": N_("Show newer version"),
    "isCurrent": N_("This is the current version."),
    "ready": N_("Ready to read offline."),
    "newCount": (N_("%(num)d new statement."), N_("%(num)d new statements.")),
    "show": N_("Show"),
    "updateAvailable": N_("Update available."),
    "reload": N_("Reload"),
    "install": N_("Install app"),
    "installWhy": N_("Install this app to read statements without a connection."),
    "notNow": N_("Not now"),
    "iosInstall": N_("Install on iPhone or iPad"),
    "iosSteps": N_("In Safari, tap Share, then “Add to Home Screen”."),
    "linkCopied": N_("Link copied."),
    "copyLink": N_("Copy this link:"),
    "save": N_("Save for offline"),
    "unsave": N_("Remove from saved"),
    "savedLabel": N_("Saved for offline."),
    "availableOffline": N_("Available offline"),
    "storageFull": N_("Storage on this device is full."),
    "storageLost": (
        N_("%(num)d statement was removed or could not be kept."),
        N_("%(num)d statements were removed or could not be kept."),
    ),
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
