"""The canonical statement record and how its dates are stored.

Everything that shows a statement — pages, the JSON API, sync, the feed, and
later exports and signatures — starts from one :class:`Statement`, built from
one row of the store. Nothing else reads statement columns directly.
"""

from __future__ import annotations

import datetime as dt
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
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def parse_stored_time(text: str | None) -> dt.date | dt.datetime | None:
    """Inverse of :func:`stored_time`; a date stays a date."""
    if not text:
        return None
    if "T" in text:
        return dt.datetime.fromisoformat(text)  # "...Z" reads as UTC
    return dt.date.fromisoformat(text)


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

    @property
    def dir(self) -> str:
        """Text direction of the statement's own language."""
        return text_direction(self.lang)

    @property
    def url(self) -> str:
        """Root-relative URL of the statement page."""
        return "/statements/" + quote(self.slug, safe="")

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
            correction_note=row["correction_note"],
            revised_at=parse_stored_time(row["revised_at"]),
            withdrawn_at=parse_stored_time(row["withdrawn_at"]),
            withdrawal_reason=row["withdrawal_reason"],
            change_seq=row["change_seq"],
            source_key=row["source_key"],
        )
