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

import flask_babel
from flask import Flask

from bulletin.i18n.catalogs import UI_STRINGS, catalogs_compiled, compile_catalogs, plural_samples, ui_strings
from bulletin.i18n.interface import (
    CATALOG_DIR,
    INTERFACE_LANGS,
    LANGUAGE_NAMES,
    N_,
    Nn_,
    date_attribute,
    default_lang,
    default_lang_of,
    format_date,
    format_number,
    gettext,
    interface,
    interface_dir,
    interface_lang,
    ngettext,
    prefix,
    statement_interface,
    use_interface,
)
from bulletin.i18n.urls import InterfaceLanguage, fill_lang, languages, localized, localized_url, take_lang

__all__ = [
    "CATALOG_DIR",
    "INTERFACE_LANGS",
    "LANGUAGE_NAMES",
    "N_",
    "Nn_",
    "UI_STRINGS",
    "catalogs_compiled",
    "compile_catalogs",
    "date_attribute",
    "default_lang",
    "default_lang_of",
    "format_date",
    "format_number",
    "gettext",
    "init_app",
    "interface",
    "interface_dir",
    "interface_lang",
    "languages",
    "localized",
    "localized_url",
    "ngettext",
    "plural_samples",
    "prefix",
    "statement_interface",
    "ui_strings",
    "use_interface",
]


def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogs, the language converter and URL hooks, the date and number filters."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(CATALOG_DIR))
    app.config["BABEL_DEFAULT_LOCALE"] = default_lang_of(app)
    flask_babel.Babel(app, locale_selector=interface_lang)
    app.url_map.converters["ilang"] = InterfaceLanguage
    app.url_defaults(fill_lang)
    app.url_value_preprocessor(take_lang)
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["datetime_attr"] = date_attribute
    app.jinja_env.globals["interface_lang"] = interface_lang
    app.jinja_env.globals["interface_dir"] = interface_dir
    app.jinja_env.globals["interface_languages"] = languages
    app.jinja_env.globals["default_lang"] = default_lang
