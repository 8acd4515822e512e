"""Reading the dates that real statements carry.

Statements arrive with dates written by many hands in several languages:
"7 January 2022", "COPENHAGEN, 6 January 2022", "(Moscow, March 14, 2011)",
"21 de octubre de 2004", "1er mai 2020", "1 мая 2020 г.", "2022-01-07T10:30Z".
A date without a time stays a `date` (a press date is a calendar day, not an
instant, so no time zone may shift it); an instant becomes an aware UTC
`datetime`. A date that could be read two ways is refused, never guessed.

Text after a date is accepted only when it is short (at most
`MAX_TRAILING_WORDS` words) and set off by a separator (a dash, "|", ",", ";"
or ":"), as in "7 January 2022 — Statement"; it is ignored. A sentence that
merely starts with a date is therefore not a date line, so an importer never
swallows a paragraph by mistake.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

__all__ = ["DateError", "ENGLISH_MONTHS", "MAX_TRAILING_WORDS", "looks_like_date", "parse_date"]

MAX_TRAILING_WORDS = 8

ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Month names and abbreviations per month: English, Spanish, French, Russian
# (nominative and genitive). Accents are optional because lookups are folded.
_MONTH_WORDS = {
    1: "january jan enero ene janvier janv январь января янв",
    2: "february feb febrero février févr фев февраль февраля февр",
    3: "march mar marzo mars март марта",
    4: "april apr abril avril avr апрель апреля апр",
    5: "may mayo mai май мая",
    6: "june jun junio juin июнь июня июн",
    7: "july jul julio juillet juil июль июля июл",
    8: "august aug agosto ago août август августа авг",
    9: "september sep sept septiembre setiembre set septembre сентябрь сентября сен сент",
    10: "october oct octubre octobre октябрь октября окт",
    11: "november nov noviembre novembre ноябрь ноября ноя нояб",
    12: "december dec diciembre dic décembre декабрь декабря дек",
}


class DateError(ValueError):
    """A text that is not a usable date; the message says what is wrong and how to fix it."""


def _fold(text: str) -> str:
    """Lower-case and drop accents, so 'FÉVRIER', 'février' and 'fevrier' compare equal."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


_MONTHS = {_fold(word): number for number, words in _MONTH_WORDS.items() for word in words.split()}

_ORDINAL = r"(?:st|nd|rd|th|er|º|°)?"
_DASH = r"[-\u2010\u2011\u2012\u2013\u2212]"  # hyphens, en dash, minus: ranges like 25–27
_RANGE_END = rf"(?:\s*{_DASH}\s*\d{{1,2}}{_ORDINAL})?"
_YEAR = r"(?P<year>\d{4})(?!\d)"

# All patterns run on folded text and are anchored at the start of a candidate.
_YEAR_FIRST = re.compile(
    r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)"
    r"(?:[t\s](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"\s*(?P<offset>z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_NUMERIC = re.compile(r"(?P<first>\d{1,2})(?P<sep>[-/.])(?P<second>\d{1,2})(?P=sep)" + _YEAR)
_DAY_MONTH = re.compile(
    rf"(?P<day>\d{{1,2}}){_ORDINAL}{_RANGE_END}\s+(?:de\s+)?(?P<month>[^\W\d_]+)\.?,?"
    rf"\s+(?:del?\s+)?{_YEAR}(?:\s*(?:года|г)\.?(?!\w))?"
)
_MONTH_DAY = re.compile(rf"(?P<month>[^\W\d_]+)\.?\s*(?P<day>\d{{1,2}}){_ORDINAL}{_RANGE_END},?\s+{_YEAR}")

# A place or label before the date: "COPENHAGEN, ", "Monday, ", "Published: ".
_PLACE = re.compile(r"[^\W\d_][^\d,:;()\u2013\u2014]{0,60}?\s*(?:[,:\u2013\u2014]|\s-\s)\s*")
_PUNCTUATION_ONLY = re.compile(r"[\s.,;:)\]]*")
_TRAILER = re.compile(r"\s*(?:[,;:|·•\u2013\u2014]|\s-)\s*(?P<words>\S.*)", re.S)


@dataclass(frozen=True)
class _Reading:
    """What a pattern read, before any validation."""

    source: str
    year: int
    month: int
    day: int
    time: tuple[int, int, int, int] | None = None
    offset: str | None = None
    ambiguous: bool = False


def _read_year_first(m: re.Match) -> _Reading:
    time = None
    if m["hour"]:
        micro = int((m["fraction"] or "0")[:6].ljust(6, "0"))
        time = (int(m["hour"]), int(m["minute"]), int(m["second"] or 0), micro)
    return _Reading(m[0], int(m["year"]), int(m["month"]), int(m["day"]), time, m["offset"])


def _read_numeric(m: re.Match) -> _Reading:
    first, second, year = int(m["first"]), int(m["second"]), int(m["year"])
    if m["sep"] == "." or first > 12:  # dots are the European day.month.year
        return _Reading(m[0], year, second, first)
    if second > 12:  # only the American month/day reading is possible
        return _Reading(m[0], year, first, second)
    return _Reading(m[0], year, second, first, ambiguous=first != second)


def _read_named(m: re.Match) -> _Reading | None:
    month = _MONTHS.get(m["month"])
    return month and _Reading(m[0], int(m["year"]), month, int(m["day"]))


_READERS = (
    (_YEAR_FIRST, _read_year_first),
    (_NUMERIC, _read_numeric),
    (_DAY_MONTH, _read_named),
    (_MONTH_DAY, _read_named),
)


def _candidates(folded: str):
    """The text, then the text after each of up to three place/label prefixes."""
    rest = folded.lstrip("([ \t")
    yield rest
    for _ in range(3):
        prefix = _PLACE.match(rest)
        if not prefix:
            return
        rest = rest[prefix.end() :]
        yield rest


def _find(text: str) -> tuple[_Reading, str] | None:
    """The first reading at the start of `text` (after a place) and the text after it."""
    for candidate in _candidates(_fold(text).strip()):
        for pattern, read in _READERS:
            m = pattern.match(candidate)
            reading = m and read(m)
            if reading:
                return reading, candidate[m.end() :]
    return None


def _trailer_ok(rest: str) -> bool:
    if _PUNCTUATION_ONLY.fullmatch(rest):
        return True
    trailer = _TRAILER.fullmatch(rest)
    return bool(trailer) and len(trailer["words"].split()) <= MAX_TRAILING_WORDS


def looks_like_date(line: str) -> bool:
    """True if `line` is written as a date line, even one parse_date would refuse.

    Ambiguous or impossible dates ("03/04/2022", "31 February 2022") count, so
    that a caller asks parse_date and reports the real problem, not "no date".
    """
    found = _find(line)
    return found is not None and _trailer_ok(found[1])


def parse_date(text: str, tz: tzinfo) -> date | datetime:
    """Read the date at the start of `text`: a `date`, or an aware UTC `datetime`.

    A timestamp without an offset is taken to be in `tz`. Raises DateError for
    no date, an ambiguous or impossible date, or too much text after it.
    """
    found = _find(text)
    if found is None:
        raise DateError(f"no date found in {_quote(text)}: write it like 7 January 2022 or 2022-01-07")
    reading, rest = found
    if not _trailer_ok(rest):
        raise DateError(
            f"unexpected text after the date in {_quote(text)}: put the date on a line of its own"
        )
    if reading.ambiguous:
        raise DateError(_ambiguity(reading))
    day = _calendar_day(reading, text.strip())
    return day if reading.time is None else _instant(reading, day, tz, text.strip())


def _quote(text: str, width: int = 60) -> str:
    """The text for an error message, shortened: a whole paragraph helps nobody."""
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def _ambiguity(r: _Reading) -> str:
    # r.source is digits and separators only, so folding left it as written.
    return (
        f"{r.source} could be {r.day} {ENGLISH_MONTHS[r.month - 1]} or {r.month} "
        f"{ENGLISH_MONTHS[r.day - 1]}: write {r.year:04d}-{r.month:02d}-{r.day:02d} "
        "or add a date: line in front matter"
    )


def _calendar_day(r: _Reading, text: str) -> date:
    try:
        return date(r.year, r.month, r.day)
    except ValueError:
        # Refused with what is wrong in the date, never rounded to a nearby day.
        if not 1 <= r.month <= 12:
            problem = f"there is no month {r.month}"
        else:
            problem = f"{ENGLISH_MONTHS[r.month - 1]} {r.year:04d} has no day {r.day}"
        raise DateError(f"{text} is not a real date ({problem}): check the day and month") from None


def _instant(r: _Reading, day: date, tz: tzinfo, text: str) -> datetime:
    hour, minute, second, micro = r.time
    try:
        naive = datetime(day.year, day.month, day.day, hour, minute, second, micro)
        zone = _offset(r.offset) if r.offset else tz
        return naive.replace(tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        # Refused with the ranges that are allowed.
        raise DateError(
            f"{text} is not a real time: use hours 00-23, minutes and seconds 00-59, offsets up to ±23:59"
        ) from None


def _offset(text: str) -> tzinfo:
    """A fixed zone from 'z', '+03', '+0300' or '+03:00'."""
    if text == "z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if minutes > 59:
        raise ValueError(text)
    delta = timedelta(hours=hours, minutes=minutes)  # timezone() refuses a day or more
    return timezone(-delta if text[0] == "-" else delta)
