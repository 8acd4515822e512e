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

# Years of up to six digits are read, so that a year the picker allows but
# Bulletin cannot store (after 9999) is "out of range", not "malformed".
_DATE = re.compile(r"(\d{4,6})-(\d{1,2})-(\d{1,2})")
_INSTANT = re.compile(r"(\d{4,6})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?")


class OutOfRange(ValueError):
    """A publication time written correctly that names no time Bulletin can store (2026-02-30, year 10000)."""


class SkippedTime(OutOfRange):
    """A time of day the site's zone skips (clocks going forward): it would be stored as another."""


def parse_publication_time(text: str, tz: dt.tzinfo) -> dt.date | dt.datetime | None:
    """``2026-03-01`` (a date stays a date), ``2026-03-01 09:30`` or the picker's ``2026-03-01T09:30``
    in ``tz`` (an aware UTC instant), or None; ValueError (OutOfRange for a time that does not exist)."""
    text = text.strip()
    if not text:
        return None
    if match := _DATE.fullmatch(text):
        try:
            return dt.date(*map(int, match.groups()))
        except ValueError as e:
            raise OutOfRange(text) from e
    if match := _INSTANT.fullmatch(text):
        year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
        try:
            local = dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)
            instant = local.astimezone(dt.UTC)
        except (ValueError, OverflowError) as e:
            # Year 1 east of UTC has no UTC year, nor 9999 west of it: said beside the field like any other bad time.
            raise OutOfRange(text) from e
        if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
            # Typed 02:30 on the night the clocks jump from 02:00 to 03:00: the editor would see 03:30.
            raise SkippedTime(text)
        return instant
    raise ValueError(text)


def picker_value(text: str) -> str | None:
    """The form's time as the date-time picker's value (``2026-03-01T09:30``; a date at midnight),
    or None when the picker could not hold it (the page then offers a text field, so nothing typed is lost)."""
    text = text.strip()
    if not text:
        return ""
    if match := _DATE.fullmatch(text):
        parts = (*map(int, match.groups()), 0, 0)
    elif match := _INSTANT.fullmatch(text):
        parts = tuple(int(part or 0) for part in match.groups()[:5])
    else:
        return None
    year, month, day, hour, minute = parts
    # The picker's own range: it empties a value outside it, which would lose the text.
    if not (1 <= year <= 275760 and 1 <= month <= 12 and hour < 24 and minute < 60):
        return None
    if not 1 <= day <= _days_in_month(year, month):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}"


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
    # A publication date without a time (an imported statement's, say): the
    # picker shows it at midnight, and an untouched picker keeps it a date.
    published_date: str = ""
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
            published_date=_date_only(statement.published),
            correction_note=statement.correction_note,
            base_revision=statement.revision,
        )

    @property
    def tag_list(self) -> list[str]:
        """The tags as typed, comma-separated."""
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

    @classmethod
    def translating(cls, original: Statement) -> StatementForm:
        """An empty form for a translation of ``original``: linked to it, with its tags and format."""
        return cls(tags=", ".join(original.tags), translation_of=original.id)

    @property
    def published_picker(self) -> str | None:
        """The publication time as the picker's value; None: show the text as typed in a text field."""
        return picker_value(self.published)

    def publication_time(self, tz: dt.tzinfo) -> dt.date | dt.datetime | None:
        """The publication date or instant typed (call after :meth:`validate`)."""
        if self.published_date and picker_value(self.published) == picker_value(self.published_date):
            # The picker untouched on a date without a time: it stays that date.
            return parse_publication_time(self.published_date, tz)
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
        except SkippedTime:
            self.errors["published"] = gettext(
                "There is no such time in %(zone)s: the clocks go forward then. Choose another time.",
                zone=getattr(tz, "key", str(tz)),
            )
        except OutOfRange:
            self.errors["published"] = gettext(
                "There is no such publication time: choose a real date and time between the years 1 and 9999."
            )
        except ValueError:
            # Said beside the field, with the forms that are understood.
            self.errors["published"] = gettext(
                "Choose the publication time in the picker, or write it as 2026-03-01 09:30."
            )
        self.errors.update(changes.problems(self._draft(None)))
        return not self.errors


def _days_in_month(year: int, month: int) -> int:
    # By hand: datetime stops at year 9999, the picker does not.
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _date_only(value: dt.date | dt.datetime | None) -> str:
    if value is None or isinstance(value, dt.datetime):
        return ""
    return value.isoformat()


def site_zone(name: str) -> zoneinfo.ZoneInfo:
    """The site's time zone (``BULLETIN_TIMEZONE``), in which editors type times."""
    return zoneinfo.ZoneInfo(name)
