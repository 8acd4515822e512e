"""Canonical JSON: one byte string per value, so a signature over it means one thing.

The rules (a subset of RFC 8785, the JSON Canonicalization Scheme, on which
both agree byte for byte): object keys are ASCII and sorted, no whitespace
between tokens, UTF-8, strings escaped only where JSON requires it (``"``,
``\\`` and the control characters below U+0020, with the short forms
``\\b \\t \\n \\f \\r`` and ``\\u00xx`` otherwise), integers within
±(2^53−1), no floats at all, and strings that are well-formed Unicode (no
lone surrogates). Refusing what RFC 8785 would still encode (floats, large
integers) keeps every verifier, JavaScript included, reading the same value.
Text is normalized (NFC) where it is written, not here: a signed payload
holds exactly the stored text.
"""

from __future__ import annotations

import json

MAX_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """The value cannot be canonical JSON; the message says which part and why."""


def dumps(value: object) -> str:
    """The canonical JSON text of ``value`` (dicts, lists, tuples, str, int, bool, None); CanonicalError otherwise."""
    _check(value, "$")
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def encode(value: object) -> bytes:
    """The canonical JSON of ``value`` as the UTF-8 bytes a signature covers."""
    return dumps(value).encode("utf-8")


def loads(text: str) -> object:
    """Parse ``text`` and require it to be canonical already; CanonicalError otherwise.

    A verifier reads a payload exactly as received; one that is valid JSON
    but not in canonical form was not made by a publisher, so it is refused
    rather than read one way here and another way elsewhere.
    """
    try:
        value = json.loads(text, parse_float=_no_float, parse_constant=_no_float)
    except (json.JSONDecodeError, RecursionError) as e:
        raise CanonicalError(f"not JSON: {e}") from e
    if dumps(value) != text:
        raise CanonicalError("not in canonical form")
    return value


def _no_float(text: str) -> object:
    raise CanonicalError(f"a number that is not an integer: {text[:20]}")


def _check(value: object, where: str) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_INTEGER:
            raise CanonicalError(f"{where}: integer beyond ±(2^53−1)")
        return
    if isinstance(value, float):
        raise CanonicalError(f"{where}: floats are not allowed")
    if isinstance(value, str):
        _check_text(value, where)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise CanonicalError(f"{where}: keys must be ASCII text, not {key!r}")
            _check(item, f"{where}.{key}")
        return
    raise CanonicalError(f"{where}: {type(value).__name__} is not a JSON value")


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CanonicalError(f"{where}: a lone surrogate at position {e.start}") from e
