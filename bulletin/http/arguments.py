"""Query arguments read one way everywhere: a malformed one is a 400 that names it."""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.exceptions import BadRequest

from bulletin.i18n import gettext


class BadArgument(BadRequest):
    """A query argument the page or endpoint cannot take; JSON answers carry the code ``bad_argument``."""

    api_code = "bad_argument"


def whole_number(
    args: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None
) -> int:
    """The argument ``name`` as a whole number from ``low`` to ``high``; ``default`` when absent."""
    raw = args.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if raw.isascii() and raw.isdigit() and low <= int(raw) and (high is None or int(raw) <= high):
        return int(raw)
    if high is not None:
        message = gettext(
            "%(name)s must be a whole number from %(low)d to %(high)d.", name=name, low=low, high=high
        )
    elif low == 1:
        message = gettext("%(name)s must be a positive whole number.", name=name)
    else:
        message = gettext("%(name)s must be a whole number of at least %(low)d.", name=name, low=low)
    raise BadArgument(message)


def page_number(args: Mapping[str, str]) -> int:
    """``?page=N`` of a list: 1 when absent, a 400 for anything but a positive whole number."""
    return whole_number(args, "page", 1, low=1)
