"""The one clock: every "now" in Bulletin, stored or decided on, comes from here.

Session timeouts, login delays, scheduled publication and every stored
timestamp (revisions, the change log, the audit log, accounts) read
:func:`now`, so a test that moves time moves all of them together and never
sleeps.

The time comes from the system unless an override is in force. The override
lives in a context variable, so it belongs to the thread or task that set it:
each app (tests build many, each with its own ``CLOCK``) sets its own for the
duration of each of its app contexts (see ``bulletin.create_app``), and code
outside any app (the hot path, scripts, tests) uses :func:`using`.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator

Source = Callable[[], dt.datetime]

_override: contextvars.ContextVar[Source | None] = contextvars.ContextVar("bulletin_clock", default=None)


def now() -> dt.datetime:
    """The current instant, aware and in UTC, to the second: the override's when one is set."""
    source = _override.get()
    moment = source() if source is not None else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        # A naive time would be read as the machine's local time: refused rather than guessed.
        raise ValueError("a clock must return an aware datetime")
    # Everything the store keeps is to the second; an override's extra precision would be lost there.
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def timestamp() -> float:
    """:func:`now` as Unix seconds, for arithmetic on timeouts and delays."""
    return now().timestamp()


def override(source: Source | None) -> None:
    """Make ``source`` the clock from here on in this context (None: the system's).

    For hooks that begin and end with something else (an app context); code
    with a block of its own uses :func:`using`.
    """
    _override.set(source)


@contextlib.contextmanager
def using(source: Source | None) -> Iterator[None]:
    """Within the block, :func:`now` asks ``source`` (None: the system); the previous clock after it."""
    token = _override.set(source)
    try:
        yield
    finally:
        _override.reset(token)
