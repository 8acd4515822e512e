"""Query arguments read one way everywhere: a malformed one is a 400 that names it.

Each public route names the arguments it reads; any other argument (a
campaign tag, a cache-buster) changes neither its answer nor its cache key:
:func:`canonical_query` is the only query a kept response is keyed by.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping

from werkzeug.exceptions import BadRequest, NotFound

from bulletin.i18n import gettext

# Every argument any public route reads. The hot path, which runs before
# routing, keys replays by these alone (see bulletin.http.hotpath).
READ_BY_SOME_ROUTE = ("before", "limit", "page", "q", "since")

MAX_TEXT = 200  # the longest search a reader types; longer is a 400, never a slower search


class BadArgument(BadRequest):
    """A query argument the page or endpoint cannot take; JSON answers carry the code ``bad_argument``."""

    api_code = "bad_argument"


def canonical_query(pairs: Iterable[tuple[str, str]], names: Iterable[str]) -> str:
    """The query string of ``names`` only, sorted, each with its first value, as the route reads it."""
    wanted = set(names)
    first: dict[str, str] = {}
    for name, value in pairs:
        if name in wanted and name not in first:
            first[name] = value
    return urllib.parse.urlencode(sorted(first.items()))


def whole_number(
    args: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None
) -> int:
    """The argument ``name`` as a whole number from ``low`` to ``high``; ``default`` when absent."""
    raw = args.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    # Twenty digits at most: int() of a huge string is slow, and SQLite's integers stop at 2**63.
    if raw.isascii() and raw.isdigit() and len(raw) <= 20:
        number = int(raw)
        if low <= number and (high is None or number <= high):
            return number
    if high is not None:
        message = gettext(
            "%(name)s must be a whole number from %(low)d to %(high)d.", name=name, low=low, high=high
        )
    elif low == 1:
        message = gettext("%(name)s must be a positive whole number.", name=name)
    else:
        message = gettext("%(name)s must be a whole number of at least %(low)d.", name=name, low=low)
    raise BadArgument(message)


def page_number(args: Mapping[str, str], *, last: int | None = None) -> int:
    """``?page=N`` of a list: 1 when absent, a 400 for anything but a positive whole number.

    With ``last`` (the last page that exists, never below 1), a page past it
    is a 404 found before anything is queried or rendered: each number
    beyond the end is not a fresh empty page.
    """
    page = whole_number(args, "page", 1, low=1)
    if last is not None and page > max(last, 1):
        raise NotFound()
    return page


def pages_for(count: int, size: int) -> int:
    """How many pages of ``size`` hold ``count`` items (an empty list still has its first page)."""
    return max(1, -(-count // size))


def text(args: Mapping[str, str], name: str, *, max_length: int = MAX_TEXT) -> str:
    """The argument ``name`` as text, "" when absent; a 400 past ``max_length`` characters."""
    raw = args.get(name, "")
    if len(raw) > max_length:
        raise BadArgument(
            gettext("%(name)s must be at most %(high)d characters.", name=name, high=max_length)
        )
    return raw


def choice(args: Mapping[str, str], name: str, allowed: Iterable[str], default: str = "") -> str:
    """The argument ``name``, which must be one of ``allowed``; ``default`` when absent or empty."""
    raw = args.get(name, "")
    if not raw:
        return default
    allowed = tuple(allowed)
    if raw not in allowed:
        raise BadArgument(
            gettext("%(name)s must be one of: %(values)s.", name=name, values=", ".join(allowed))
        )
    return raw
