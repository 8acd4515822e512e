"""The canonical statement record and how its dates are stored.

Everything that shows a statement — pages, the JSON API, sync, the feed, and
later exports and signatures — starts from one :class:`Statement`, built from
one row of the store. Nothing else reads statement columns directly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import quote

from bulletin.statements.languages import text_direction

UTC = dt.UTC


def stored_time(value: dt.date | dt.datetime) -> str:
    """Text form kept in SQLite: ``YYYY-MM-DD`` for a date, ``...Z`` for an instant.

    The two forms sort together correctly as text (a date sorts before any
    instant of the same day), so one column orders mixed statements.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("instants must be time-zone aware")
        try:
            u = value.astimezone(UTC)
        except OverflowError as e:
            # An instant of year 1 east of UTC, or of 9999 west of it, has no UTC year to store.
            raise ValueError(f"{value.isoformat()} is outside the years 1 to 9999 in UTC") from e
        # Written field by field: strftime("%Y") does not pad years below 1000 on every
        # platform, and an unpadded year neither sorts nor reads back.
        return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


# What earlier releases could store for a year below 1000: the year without its zeros.
_UNPADDED = re.compile(r"(\d{1,4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z)?")


def parse_stored_time(text: str | None) -> dt.date | dt.datetime | None:
    """Inverse of :func:`stored_time`; a date stays a date."""
    if not text:
        return None
    try:
        if "T" in text:
            return dt.datetime.fromisoformat(text)  # "...Z" reads as UTC
        return dt.date.fromisoformat(text)
    except ValueError:
        # A value stored before years were padded must still read, or its statement
        # could no longer be listed, shown or corrected.
        m = _UNPADDED.fullmatch(text)
        if not m:
            raise
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m[4] is None:
            return day
        return dt.datetime(day.year, day.month, day.day, int(m[4]), int(m[5]), int(m[6]), tzinfo=UTC)


def iso(value: dt.date | dt.datetime | None) -> str | None:
    """ISO 8601 for JSON and feeds: a date as ``2022-01-07``, an instant with its offset."""
    if value is None:
        return None
    return value.isoformat()


@dataclass(frozen=True)
class Statement:
    """A statement in its current revision, as the store holds it."""

    rowid: int
    id: str
    slug: str
    lang: str
    status: str
    published: dt.date | dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    translation_group: str
    is_original: bool
    tags: tuple[str, ...]
    revision: str
    revision_number: int
    title: str
    summary: str
    body_html: str
    correction_note: str
    revised_at: dt.datetime
    withdrawn_at: dt.datetime | None
    withdrawal_reason: str | None
    change_seq: int | None
    source_key: str | None
    # The page description: the start of the body's plain text, stored with the revision.
    description: str = ""

    @property
    def dir(self) -> str:
        """Text direction of the statement's own language."""
        return text_direction(self.lang)

    @property
    def url(self) -> str:
        """Root-relative URL of the statement page (a folder: it ends in ``/``), before any mount prefix."""
        return "/statements/" + quote(self.slug, safe="") + "/"

    @property
    def is_corrected(self) -> bool:
        """Whether readers should see "Updated": a revision after the first."""
        return self.revision_number > 1

    @property
    def is_withdrawn(self) -> bool:
        return self.status == "withdrawn"

    @classmethod
    def from_row(cls, row) -> Statement:
        tags = tuple(sorted(row["tags"].split("\x1f"))) if row["tags"] else ()
        return cls(
            rowid=row["rowid"],
            id=row["id"],
            slug=row["slug"],
            lang=row["lang"],
            status=row["status"],
            published=parse_stored_time(row["published"]),
            created_at=parse_stored_time(row["created_at"]),
            updated_at=parse_stored_time(row["updated_at"]),
            translation_group=row["translation_group"],
            is_original=bool(row["is_original"]),
            tags=tags,
            revision=row["revision"],
            revision_number=row["revision_number"],
            title=row["title"],
            summary=row["summary"],
            body_html=row["body_html"],
            description=row["description"] or "",
            correction_note=row["correction_note"],
            revised_at=parse_stored_time(row["revised_at"]),
            withdrawn_at=parse_stored_time(row["withdrawn_at"]),
            withdrawal_reason=row["withdrawal_reason"],
            change_seq=row["change_seq"],
            source_key=row["source_key"],
        )
