"""Instants in signed documents: UTC, to the second, ``YYYY-MM-DDTHH:MM:SSZ``.

One text form, so the same instant is the same bytes wherever it is signed,
and text order is time order.
"""

from __future__ import annotations

import datetime as dt
import re

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def instant(moment: dt.datetime) -> str:
    """``moment`` (time-zone aware) as the documents write it."""
    if moment.tzinfo is None:
        raise ValueError("instants must be time-zone aware")
    u = moment.astimezone(dt.UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def parse(text: object) -> dt.datetime:
    """The instant a document wrote; ValueError for any other form."""
    if not isinstance(text, str) or not _INSTANT.match(text):
        raise ValueError(f"not an instant of the form YYYY-MM-DDTHH:MM:SSZ: {str(text)[:30]!r}")
    return dt.datetime.fromisoformat(text)
