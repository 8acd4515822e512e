"""The current time for decisions that tests must be able to move.

Session timeouts, login delays and scheduled publication ask this module
rather than the system clock, so a test sets ``CLOCK`` in the app's config
(a function returning an aware UTC datetime) instead of sleeping. Stored
timestamps (revisions, the change log) keep using the real time.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from bulletin.statements.records import now as system_now


def now() -> dt.datetime:
    """The current instant in UTC, to the second: the config's ``CLOCK`` when one is set."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else system_now()


def timestamp() -> float:
    """:func:`now` as Unix seconds, for arithmetic on timeouts and delays."""
    return now().timestamp()
