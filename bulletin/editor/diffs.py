"""Readable differences between two versions of a statement's text.

Lines that were only edited show the words that changed inside them, so a
corrected date in a long paragraph is easy to spot; long unchanged stretches
are shortened to a few lines of context.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

CONTEXT = 2  # unchanged lines kept around each change
# difflib's matcher is quadratic on repetitive text (a long body of similar
# paragraphs took minutes). The common start and end are set aside first, in
# linear time; a changed middle longer than this many lines (or words, within
# a line) is shown as removed and added whole instead of matched piece by piece.
MAX_MATCHED = 4000
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Line:
    """One line of a diff: ``kind`` is same, removed, added, changed or gap (skipped lines).

    ``parts`` are (same|removed|added, text) pieces; a changed line has all three.
    """

    kind: str
    parts: tuple[tuple[str, str], ...] = ()


def _opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes of ``a`` against ``b``, at a cost bounded by MAX_MATCHED (see above)."""
    shortest = min(len(a), len(b))
    head = 0
    while head < shortest and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < shortest - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    if len(middle_a) + len(middle_b) > MAX_MATCHED:
        middle = [
            ("delete", 0, len(middle_a), 0, 0),
            ("insert", len(middle_a), len(middle_a), 0, len(middle_b)),
        ]
    else:
        middle = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False).get_opcodes()
    opcodes = [("equal", 0, head, 0, head)] if head else []
    opcodes += [
        (op, i1 + head, i2 + head, j1 + head, j2 + head)
        for op, i1, i2, j1, j2 in middle
        if i2 > i1 or j2 > j1
    ]
    if tail:
        opcodes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return opcodes


def _word_parts(old: str, new: str) -> tuple[tuple[str, str], ...]:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    parts = []
    for op, i1, i2, j1, j2 in _opcodes(a, b):
        if op == "equal":
            parts.append(("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(("removed", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(("added", "".join(b[j1:j2])))
    return tuple(parts)


def _block(op: str, old: list[str], new: list[str]) -> list[Line]:
    if op == "delete":
        return [Line("removed", (("removed", line),)) for line in old]
    if op == "insert":
        return [Line("added", (("added", line),)) for line in new]
    paired = [Line("changed", _word_parts(a, b)) for a, b in zip(old, new, strict=False)]
    rest = [Line("removed", (("removed", line),)) for line in old[len(new) :]]
    rest += [Line("added", (("added", line),)) for line in new[len(old) :]]
    return paired + rest


def _context(lines: list[str], *, first: bool, last: bool) -> list[Line]:
    """Unchanged lines, shortened to CONTEXT lines next to each change."""
    keep_head = 0 if first else CONTEXT
    keep_tail = 0 if last else CONTEXT
    if len(lines) <= keep_head + keep_tail + 1:
        return [Line("same", (("same", line),)) for line in lines]
    head = [Line("same", (("same", line),)) for line in lines[:keep_head]]
    tail = [Line("same", (("same", line),)) for line in lines[len(lines) - keep_tail :]]
    return head + [Line("gap")] + tail


def line_diff(old: str, new: str) -> list[Line]:
    """The lines of ``new`` against ``old``; an empty list when they are equal."""
    a, b = old.splitlines(), new.splitlines()
    if a == b:
        return []
    opcodes = _opcodes(a, b)
    lines: list[Line] = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            lines += _context(a[i1:i2], first=index == 0, last=index == len(opcodes) - 1)
        else:
            lines += _block(op, a[i1:i2], b[j1:j2])
    return lines
