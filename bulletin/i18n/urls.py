"""Language URLs: one registration gives a reader route its twin under every interface language's prefix.

The default language (``BULLETIN_DEFAULT_LANG``) keeps the unprefixed URLs;
every other interface language has the same page under ``/<lang>``. The
language is never a cookie or ``Accept-Language``: every page stays one
cacheable file, keyed by its URL alone.
"""

from __future__ import annotations

from flask import Blueprint, request, url_for
from werkzeug.routing import BaseConverter

from bulletin.i18n.interface import (
    INTERFACE_LANGS,
    LANGUAGE_NAMES,
    default_lang_of,
    interface_lang,
    prefix,
    use_interface,
)
from bulletin.statements.languages import text_direction

# Endpoints registered through localized(): url_for fills in their language.
LOCALIZED_ENDPOINTS: set[str] = set()
# Of those, pages whose picker offers each language's home instead of their
# own twin, as a statement's page does (its shell must match it byte for byte).
PICKER_HOME_ENDPOINTS: set[str] = set()


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


def fill_lang(endpoint: str, values: dict) -> None:
    """``url_for``'s default: a localized page's link stays in the request's interface language."""
    if endpoint in LOCALIZED_ENDPOINTS:
        values.setdefault("lang", interface_lang())


def take_lang(endpoint: str | None, values: dict | None) -> None:
    """Before a localized view: its URL's language becomes the interface's, and the view never sees it."""
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
            "url": localized_url(lang) or request.script_root + prefix(lang) + "/",
            "current": lang == here,
        }
        for lang in INTERFACE_LANGS
    ]
