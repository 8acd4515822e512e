"""Opening a bundle in the installed app: the offline page's words for it, the share target.

The import itself happens on the device (``static/js/worker/imports.js``):
the worker verifies every record against the root it pinned, so no server
is asked and none is trusted. The server gives the words the offline page
shows, the manifest's ``share_target`` (Android offers the installed app
when a reader shares a ``.html`` file), and an answer at the share target's
address for when no worker took the form: a page that says where bundles
are opened, never an error of its own.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from bulletin.i18n import N_, Nn_, interface_lang, localized, ui_strings

bp = Blueprint("bundle_import", __name__)

# The form field the platform puts the shared file in (the worker reads it by this name).
SHARE_FIELD = "bundle"
# What the share target accepts: bundles are .html files.
SHARE_ACCEPT = ["text/html", ".html"]

# The offline page's words for an import's report (static/js/offline/import-bundle.js),
# in the page itself: a reader who never opens a bundle never pays for them.
IMPORT_STRINGS = {
    "importing": N_("Checking the bundle…"),
    "imported": Nn_("Imported %(num)d statement.", "Imported %(num)d statements."),
    "upToDate": Nn_("%(num)d already up to date.", "%(num)d already up to date."),
    "refused": Nn_(
        "Refused %(num)d update that could not be verified.",
        "Refused %(num)d updates that could not be verified.",
    ),
    "nothing": N_("This bundle holds no statements."),
    # Why a whole file was refused (imports.js's FILE_PROBLEMS), none of it read.
    "too-large": N_("This file is larger than 32 MB: it is not a bundle this app can open."),
    "not-a-bundle": N_("This file is not a bundle of statements."),
    "malformed": N_("This bundle is damaged: its statements could not be read."),
    "wrong-format": N_("This bundle was made for another version of the app and cannot be read here."),
    "no-root": N_(
        "This site does not sign its statements, so this app cannot check a bundle and opens none."
    ),
    "failed": N_("The bundle could not be imported: this device could not store it."),
    "noWorker": N_("Opening a bundle needs the app on this device: open this page once with a connection."),
}


def import_strings() -> dict:
    """The import's words in the interface language, each plural as its forms (the page picks one)."""
    return ui_strings(interface_lang(), IMPORT_STRINGS)


def share_target() -> dict:
    """The manifest's ``share_target``: a shared ``.html`` file posted to the worker, which imports it."""
    return {
        "action": url_for("bundle_import.shared"),
        "method": "POST",
        "enctype": "multipart/form-data",
        "params": {"files": [{"name": SHARE_FIELD, "accept": SHARE_ACCEPT}]},
    }


@localized(bp, "/offline/import/", methods=["GET", "POST"])
def shared():
    """The share target's address when no worker answered: where bundles are opened (400 for a form).

    The body is never read: a bundle is imported on the device, not here.
    """
    status = 400 if request.method == "POST" else 200
    return (
        render_template("reader/open_bundle.html"),
        status,
        {"X-Robots-Tag": "noindex", "Cache-Control": "no-store"},
    )
