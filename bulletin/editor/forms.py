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

from bulletin.authoring import changes
from bulletin.i18n import gettext
from bulletin.statements import store
from bulletin.statements.records import Statement

_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_INSTANT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?")


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
        try:
            return local.astimezone(dt.UTC)
        except OverflowError as e:
            # Year 1 east of UTC has no UTC year: said beside the field like any other bad time.
            raise ValueError(text) from e
    raise ValueError(text)


def shown_time(value: dt.date | dt.datetime | None, tz: dt.tzinfo) -> str:
    """How editors see a time, in the form and on every page: the inverse of parse_publication_time."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        try:
            local = value.astimezone(tz)
        except OverflowError:
            local = value  # shown in UTC when the site's zone would leave the years 1 to 9999
        # Padded by hand: strftime("%Y") gives "226" for year 226, which the form cannot read back.
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
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
    def from_request(cls, form) -> StatementForm:
        """The form as submitted; newlines normalized, nothing else touched."""
        values = {
            f.name: form.get(f.name, "").replace("\r\n", "\n") for f in fields(cls) if f.name != "errors"
        }
        return cls(**values)

    @classmethod
    def from_statement(cls, db: sqlite3.Connection, statement: Statement, tz: dt.tzinfo) -> StatementForm:
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

    def draft(self, tz: dt.tzinfo) -> changes.Draft:
        """The form's values for the write path (call after :meth:`validate`)."""
        return self._draft(self.publication_time(tz))

    def _draft(self, published: dt.date | dt.datetime | None) -> changes.Draft:
        return changes.Draft(
            title=self.title,
            body=self.body,
            source_format=self.source_format,
            summary=self.summary,
            lang=self.lang,
            tags=self.tag_list,
            slug=self.slug,
            published=published,
            translation_of=self.translation_of,
            correction_note=self.correction_note,
        )

    def validate(self, tz: dt.tzinfo) -> bool:
        """Fill :attr:`errors` with a message per wrong field; True when there is none.

        The write path's own checks, plus the one only a form can get wrong: the time as typed.
        """
        self.errors = {}
        try:
            self.publication_time(tz)
        except ValueError:
            # Said beside the field, with the forms that are understood.
            self.errors["published"] = gettext(
                "Write the publication time as 2026-03-01 or 2026-03-01 09:30."
            )
        self.errors.update(changes.problems(self._draft(None)))
        return not self.errors


def site_zone(name: str) -> zoneinfo.ZoneInfo:
    """The site's time zone (``BULLETIN_TIMEZONE``), in which editors type times."""
    return zoneinfo.ZoneInfo(name)
