"""Editors' passwords: the rules a new one must meet, and Argon2id hashing.

The rules follow current advice rather than composition rules: long enough,
not absurdly long, and not one of the passwords guessing tools try first.
The hash parameters come from the app's config, so an operator can raise
them and tests can lower them; a hash made with other parameters is redone
at the next successful login (see :func:`needs_rehash`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from bulletin.i18n import gettext

MIN_LENGTH = 8
MAX_LENGTH = 256  # room for passphrases; bounds the work one login can cause
PARALLELISM = 4
# A password that is a common one plus digits or punctuation is still common.
_DECORATION = re.compile(r"[\d\W_]+$")

log = logging.getLogger(__name__)


class PasswordRefused(ValueError):
    """A new password that breaks a rule; the message tells the editor which."""


def normalized(password: str) -> str:
    """The form that is hashed, so one password typed on two keyboards is one password."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The refused passwords, lower-case."""
    text = resources.files("bulletin.editor").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _is_common(password: str, email: str) -> bool:
    folded = password.casefold()
    stem = _DECORATION.sub("", folded)
    local_part = email.casefold().partition("@")[0]
    known = common_passwords() | {email.casefold(), local_part}
    return folded in known or (len(stem) >= 4 and stem in known) or len(set(folded)) <= 2


def check_new_password(password: str, email: str = "") -> str:
    """Return the password to hash, or raise PasswordRefused saying what to change."""
    password = normalized(password)
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(gettext("A password needs at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(gettext("A password can have at most %(n)d characters.", n=MAX_LENGTH))
    if _is_common(password, email):
        raise PasswordRefused(
            gettext("This password is among the first ones attackers try: choose a less common one.")
        )
    return password


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=PARALLELISM, type=Type.ID)


def hasher() -> PasswordHasher:
    """The Argon2id hasher with the app's configured parameters."""
    config = current_app.config
    return _hasher(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"])


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string) of an already checked password."""
    return hasher().hash(normalized(password))


def verify(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; never raises for a wrong one."""
    try:
        return hasher().verify(stored_hash, normalized(password))
    except InvalidHashError:
        # A damaged row: no password can match it, so only an operator can let that editor in again.
        log.error("a stored password hash cannot be read: reset that editor's password with set-password")
        return False
    except VerificationError:
        # A wrong password: the login is refused like an unknown email.
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than the configured ones."""
    return hasher().check_needs_rehash(stored_hash)


@lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    return _hasher(time_cost, memory_kib).hash("no editor has this password")


def verify_nobody(password: str) -> bool:
    """Spend the time of one verification and return False.

    Used for an unknown email, so that it cannot be told from a wrong
    password by how long the answer takes.
    """
    config = current_app.config
    verify(_dummy_hash(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"]), password)
    return False
