"""The catalogs: the page script's strings in each language, and the ``.mo`` files ``prepare`` compiles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import flask_babel
from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bulletin.i18n.interface import CATALOG_DIR, N_, Nn_, gettext, interface

# The page script's strings. A plural is a (singular, plural) pair; the
# script picks the form with Intl.PluralRules and fills in %(num)d / %(ago)s.
UI_STRINGS = {
    "offlineLine": Nn_(
        "Offline: %(num)d statement on this device.", "Offline: %(num)d statements on this device."
    ),
    "offlineNone": N_("Offline: no statements on this device yet."),
    "offlineShort": N_("Offline"),
    "hideNotice": N_("Hide"),
    "justNow": N_("just now"),
    "minutesAgo": Nn_("%(num)d minute ago", "%(num)d minutes ago"),
    "hoursAgo": Nn_("%(num)d hour ago", "%(num)d hours ago"),
    "daysAgo": Nn_("%(num)d day ago", "%(num)d days ago"),
    "savedCopyChecking": N_("Saved copy from %(ago)s — checking for a newer one…"),
    "savedCopy": N_("Saved copy from %(ago)s."),
    "showNewer": N_("Show newer version"),
    "isCurrent": N_("This is the current version."),
    "ready": N_("Ready to read offline."),
    "newCount": Nn_("%(num)d new statement.", "%(num)d new statements."),
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
    # The newest signed_at the device verified (notices.js), and what a sync refused to store.
    "latestSigned": N_("Latest signed update: %(ago)s"),
    # The last sync came from a mirror, the n-th of the device's list (notices.js).
    "viaMirror": N_("Updated %(ago)s via mirror %(n)d of %(total)d"),
    "refused": Nn_(
        "Refused %(num)d update that could not be verified.",
        "Refused %(num)d updates that could not be verified.",
    ),
    # The device's own search (static/js/search/), offline or when the server is slow.
    "searchFound": N_("Statements on this device containing “%(query)s”:"),
    "searchNone": N_("No statement on this device contains “%(query)s”."),
    "searchCovered": Nn_(
        "The search covered the %(num)d statement on this device.",
        "The search covered the %(num)d statements on this device.",
    ),
    "searchMore": N_("More results"),
    "searchFailed": N_("The statements on this device could not be searched."),
    "storageLost": Nn_(
        "%(num)d statement was removed or could not be kept.",
        "%(num)d statements were removed or could not be kept.",
    ),
}


def plural_samples(lang: str) -> dict[str, int]:
    """One number for each CLDR plural category of ``lang`` (``{"one": 1, "few": 2, "many": 5, "other": ...}``)."""
    rule = Locale.parse(lang).plural_form
    samples: dict[str, int] = {}
    for n in range(0, 1000):
        samples.setdefault(rule(n), n)
    return samples


def ui_strings(lang: str, messages: dict | None = None) -> dict:
    """The page script's strings (or ``messages``, of the same shape) in ``lang``; a plural as its form
    for each CLDR category of ``lang``."""
    strings = {}
    with interface(lang):
        for key, message in (UI_STRINGS if messages is None else messages).items():
            if isinstance(message, tuple):
                translations = flask_babel.get_translations()
                strings[key] = {
                    category: translations.ungettext(*message, n)
                    for category, n in plural_samples(lang).items()
                }
            else:
                strings[key] = gettext(message)
    return strings


FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def compile_catalogs() -> list[Path]:
    """Write each catalog's ``.mo`` beside its ``.po`` (only when its bytes change); return the files."""
    written = []
    for po_path in sorted(CATALOG_DIR.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parent.parent.name)
        # Babel stamps a catalog without dates with "now": the same .po must give
        # the same bytes, or every build would look stale to the next one.
        catalog.creation_date = catalog.revision_date = FIXED_DATE
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
