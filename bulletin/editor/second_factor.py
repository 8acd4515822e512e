"""A second factor for editors: TOTP codes (RFC 6238) from an app, and one-time recovery codes.

Enrolment chooses a secret, shows it as a QR code and as text, and turns the
second factor on only once the editor types a code made from it; ten
recovery codes are then shown once and kept only as hashes. From then on
every login asks for a code after the password.

A code is accepted for the time step before, at or after now (clock drift of
up to 30 seconds either way), and only for a step later than the last one
accepted, so a code seen over a shoulder or in a log cannot be used again.
Every "now" comes from :mod:`bulletin.statements.clock`.

Writers call these inside :func:`bulletin.statements.db.transaction`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3

import pyotp
import segno

from bulletin.editor import roles, sessions
from bulletin.editor.accounts import Editor
from bulletin.statements import clock
from bulletin.statements.records import stored_time

STEP = 30  # seconds per code, what every authenticator app assumes
DRIFT = 1  # steps accepted either side of now
RECOVERY_CODES = 10
_RECOVERY_GROUPS = 3  # of 4 characters: 12 base32 characters, 60 bits
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
LONGEST_INPUT = 64  # characters; anything longer is no code at all
_SEPARATORS = re.compile(r"[\s\-]+")


class Malformed(ValueError):
    """Input too long to be a code (a 400, not a guess)."""


def new_secret() -> str:
    """A random TOTP secret, base32 (160 bits)."""
    return pyotp.random_base32()


def pending_secret(db: sqlite3.Connection, editor: Editor) -> str:
    """The secret enrolment shows: the one chosen earlier when there is one, else a new one (stored)."""
    row = db.execute("SELECT totp_secret FROM editors WHERE id = ?", (editor.id,)).fetchone()
    if row["totp_secret"]:
        # Reloading the page must not change the secret the editor may have scanned already.
        return row["totp_secret"]
    secret = new_secret()
    db.execute("UPDATE editors SET totp_secret = ? WHERE id = ?", (secret, editor.id))
    return secret


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> str:
    """The address as an inline SVG QR code, black on white (scannable in a dark theme too)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", title=title)
    return svg.replace("<svg ", '<svg role="img" ', 1)


def spaced(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _normalized(text: str) -> str:
    if len(text) > LONGEST_INPUT:
        raise Malformed(text[:10])
    return _SEPARATORS.sub("", text).lower()


def _step_now() -> int:
    return int(clock.timestamp()) // STEP


def accept_totp(db: sqlite3.Connection, editor_id: int, secret: str, text: str) -> bool:
    """Whether ``text`` is a code of ``secret`` for a step near now not used before; marks it used.

    Raises Malformed for input longer than any code.
    """
    code = _normalized(text)
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return False
    totp = pyotp.TOTP(secret, interval=STEP)
    now = _step_now()
    for step in range(now - DRIFT, now + DRIFT + 1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            # The step moves forward only: a second use of this code (or an older one) finds nothing to update.
            moved = db.execute(
                "UPDATE editors SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
                (step, editor_id, step),
            ).rowcount
            return moved == 1
    return False


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_BASE32) for _ in range(4 * _RECOVERY_GROUPS))
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_recovery_codes(db: sqlite3.Connection, editor_id: int) -> list[str]:
    """Replace the editor's recovery codes with new ones; the codes, to be shown once and never again."""
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.execute("DELETE FROM editor_recovery_codes WHERE editor_id = ?", (editor_id,))
    db.executemany(
        "INSERT INTO editor_recovery_codes (editor_id, code_hash) VALUES (?, ?)",
        [(editor_id, _recovery_hash(code.replace("-", ""))) for code in codes],
    )
    return codes


def use_recovery_code(db: sqlite3.Connection, editor_id: int, text: str) -> bool:
    """Whether ``text`` is one of the editor's unused recovery codes; it is used up if so.

    Raises Malformed for input longer than any code.
    """
    code = _normalized(text)
    if len(code) != 4 * _RECOVERY_GROUPS or not code.isascii():
        return False
    used = db.execute(
        "UPDATE editor_recovery_codes SET used_at = ? WHERE editor_id = ? AND code_hash = ? AND used_at IS NULL",
        (stored_time(clock.now()), editor_id, _recovery_hash(code)),
    ).rowcount
    return used == 1


def recovery_codes_left(db: sqlite3.Connection, editor_id: int) -> int:
    """How many of the editor's recovery codes are still unused."""
    return db.execute(
        "SELECT count(*) FROM editor_recovery_codes WHERE editor_id = ? AND used_at IS NULL", (editor_id,)
    ).fetchone()[0]


def secret_of(db: sqlite3.Connection, editor: Editor) -> str | None:
    """The secret of the editor's second factor when it is on, else None."""
    row = db.execute(
        "SELECT totp_secret FROM editors WHERE id = ? AND second_factor_at IS NOT NULL", (editor.id,)
    ).fetchone()
    return row["totp_secret"] if row else None


def check(db: sqlite3.Connection, editor: Editor, text: str) -> str | None:
    """``"code"`` or ``"recovery code"`` when ``text`` passes as the editor's second factor, else None.

    Raises Malformed for input longer than any code.
    """
    secret = secret_of(db, editor)
    if secret is None:
        return None
    if accept_totp(db, editor.id, secret, text):
        return "code"
    if use_recovery_code(db, editor.id, text):
        return "recovery code"
    return None


def enrol(db: sqlite3.Connection, editor: Editor, text: str) -> list[str] | None:
    """Turn the second factor on when ``text`` is a code of the pending secret; the recovery codes, or None.

    Raises Malformed for input longer than any code.
    """
    secret = pending_secret(db, editor)
    if editor.second_factor or not accept_totp(db, editor.id, secret, text):
        return None
    db.execute("UPDATE editors SET second_factor_at = ? WHERE id = ?", (stored_time(clock.now()), editor.id))
    return new_recovery_codes(db, editor.id)


def reset(db: sqlite3.Connection, editor: Editor) -> int:
    """Turn the editor's second factor off and end their sessions; how many sessions ended.

    For a lost phone: at the next login the editor enrols again (and must,
    where a second factor is required of their role).
    """
    db.execute(
        "UPDATE editors SET totp_secret = NULL, second_factor_at = NULL, totp_last_step = 0 WHERE id = ?",
        (editor.id,),
    )
    db.execute("DELETE FROM editor_recovery_codes WHERE editor_id = ?", (editor.id,))
    return sessions.end_all(db, editor.id)


def required_of(editor: Editor, config) -> bool:
    """Whether this editor must enrol before doing anything: the operator requires it of publishing roles."""
    return bool(config["REQUIRE_2FA"]) and roles.may(editor, roles.PUBLISH) and not editor.second_factor
