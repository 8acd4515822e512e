"""The statement form: what the editor typed, checked, and turned into store values.

The form keeps the editor's text exactly as typed, so a page that shows an
error or a conflict gives it back unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import zoneinfo
from dataclasses import dataclass, field, fields

from bulletin.statements import store
from bulletin.statements.bodies import FORMATS
from bulletin.i18n import gettext
from bulletin.statements.languages import detect_language
from bulletin.statements.records import Statement
from bulletin.statements.sanitize import text_of

_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_INSTANT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?")
_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
MAX_TITLE = 300
MAX_SUMMARY = 1000


def language_tag(text: str) -> str:
    """A language tag in its usual case (``en``, ``ar-EG``, ``sr-Latn``), as the importer writes it."""
    first, *rest = text.strip().replace("_", "-").split("-")
    subtags = [first.lower()]
    for subtag in rest:
        if len(subtag) == 4 and subtag.isalpha():
            subtags.append(subtag.title())  # a script
        elif len(subtag) == 2 or (len(subtag) == 3 and subtag.isdigit()):
            subtags.append(subtag.upper())  # a region
        else:
            subtags.append(subtag.lower())
    return "-".join(subtags)


def parse_publication_time(text: str, tz: dt.tzinfo) -> dt.date | dt.datetime | None:
    """``2026-03-01`` (a date stays a date), ``2026-03-01 09:30`` in ``tz`` (an aware UTC instant), or None."""
    text = text.strip()
    if not text:
        return None
    if match := _DATE.fullmatch(text):
        return dt.date(*map(int, match.groups()))
    if match := _INSTANT.fullmatch(text):
        year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
        local = dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)
        return local.astimezone(dt.timezone.utc)
    raise ValueError(text)


def start_of(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The instant a publication date or time begins: a date begins at midnight in ``tz``."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time(), tz).astimezone(dt.timezone.utc)


def shown_time(value: dt.date | dt.datetime | None, tz: dt.tzinfo) -> str:
    """How the form shows a stored publication time: the inverse of parse_publication_time."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


@dataclass
class StatementForm:
    """The fields of the create/edit form, as text, and the errors found in them."""

    title: str = ""
    summary: str = ""
    body: str = ""
    source_format: str = "markdown"
    lang: str = ""
    translation_of: str = ""
    tags: str = ""
    slug: str = ""
    published: str = ""
    correction_note: str = ""
    base_revision: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form) -> "StatementForm":
        """The form as submitted; newlines normalized, nothing else touched."""
        values = {f.name: form.get(f.name, "").replace("\r\n", "\n") for f in fields(cls) if f.name != "errors"}
        return cls(**values)

    @classmethod
    def from_statement(cls, db: sqlite3.Connection, statement: Statement, tz: dt.tzinfo) -> "StatementForm":
        """The form filled with the statement's current revision, ready to edit."""
        revision = store.get_revision(db, statement.revision)
        return cls(
            title=statement.title,
            summary=statement.summary,
            body=revision["source_text"],
            source_format=revision["source_format"],
            lang=statement.lang,
            tags=", ".join(statement.tags),
            slug=statement.slug,
            published=shown_time(statement.published, tz),
            correction_note=statement.correction_note,
            base_revision=statement.revision,
        )

    @property
    def tag_list(self) -> list[str]:
        """The tags as typed, comma-separated."""
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    def publication_time(self, tz: dt.tzinfo) -> dt.date | dt.datetime | None:
        """The publication date or instant typed (call after :meth:`validate`)."""
        return parse_publication_time(self.published, tz)

    def language(self, default: str, *, detect: bool = True) -> str:
        """The language typed (as a tag: ``ar-EG``), else the one detected from the text, else ``default``."""
        if self.lang.strip():
            return language_tag(self.lang)
        detected = detect_language(f"{self.title}\n{text_of(self.body)}") if detect else None
        return detected or default

    def validate(self, tz: dt.tzinfo) -> bool:
        """Fill :attr:`errors` with a message per wrong field; True when there is none."""
        self.errors = {}
        if not self.title.strip():
            self.errors["title"] = gettext("A statement needs a title.")
        elif len(self.title) > MAX_TITLE:
            self.errors["title"] = gettext("A title can have at most %(n)d characters.", n=MAX_TITLE)
        if len(self.summary) > MAX_SUMMARY:
            self.errors["summary"] = gettext("A summary can have at most %(n)d characters.", n=MAX_SUMMARY)
        if not self.body.strip():
            self.errors["body"] = gettext("A statement needs a text.")
        if self.source_format not in FORMATS:
            self.errors["source_format"] = gettext("Choose Markdown, HTML or plain text.")
        if self.lang.strip() and not _LANG.fullmatch(self.lang.strip().replace("_", "-")):
            self.errors["lang"] = gettext("Write the language as a code such as en, ru or ar-EG.")
        try:
            self.publication_time(tz)
        except ValueError:
            self.errors["published"] = gettext(
                "Write the publication time as 2026-03-01 or 2026-03-01 09:30."
            )
        return not self.errors


def site_zone(name: str) -> zoneinfo.ZoneInfo:
    """The site's time zone (``BULLETIN_TIMEZONE``), in which editors type times."""
    return zoneinfo.ZoneInfo(name)
