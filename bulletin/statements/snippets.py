"""A result's snippet: the words around the first match, the matching words marked.

Returned as ``(text, marked)`` pieces so that the template escapes every
piece and wraps only the marked ones in ``<mark>``: no markup is built here.
"""

from __future__ import annotations

import re

from bulletin.statements import words

# A word as written: letters and digits with the marks written on them (tashkeel, accents).
_SPAN = re.compile(
    r"[^\W_](?:[^\W_]|[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed])*"
)
BEFORE, AFTER = 8, 24  # words of context around the first match
MAX_WORDS_READ = 5000  # a book-length body is searched for its snippet in its first pages only

Pieces = list[tuple[str, bool]]


def _is_match(span: str, lang: str, wanted: list[frozenset[str]]) -> bool:
    keys = words.keys(span, lang)
    return any(words.matches(k, options) for k in keys for options in wanted)


def _pieces(text: str, spans: list[re.Match], marked: list[bool], start: int, end: int) -> Pieces:
    """``text`` from span ``start`` to span ``end`` (exclusive) in pieces, matches marked."""
    pieces: Pieces = []
    position = spans[start].start()
    for index in range(start, end):
        span = spans[index]
        if marked[index]:
            if span.start() > position:
                pieces.append((text[position : span.start()], False))
            pieces.append((span.group(), True))
            position = span.end()
    pieces.append((text[position : spans[end - 1].end()], False))
    return [piece for piece in pieces if piece[0]]


def marked(text: str, lang: str, wanted: list[frozenset[str]]) -> Pieces:
    """All of a short ``text`` (a title) with the words matching the query marked."""
    spans = list(_SPAN.finditer(text))
    if not spans:
        return [(text, False)] if text else []
    flags = [_is_match(span.group(), lang, wanted) for span in spans]
    head, tail = text[: spans[0].start()], text[spans[-1].end() :]
    return [p for p in [(head, False), *_pieces(text, spans, flags, 0, len(spans)), (tail, False)] if p[0]]


def snippet(text: str, lang: str, wanted: list[frozenset[str]]) -> Pieces:
    """About 30 words of ``text`` around its first match, with "…" where it was cut.

    Without a match in the words read (the title matched), the text's first words.
    """
    spans = []
    first = None
    for index, span in enumerate(_SPAN.finditer(text)):
        spans.append(span)
        if first is None and _is_match(span.group(), lang, wanted):
            first = index
        if index >= MAX_WORDS_READ or (first is not None and index >= first + AFTER):
            break
    if not spans:
        return []
    start = max(0, (first or 0) - BEFORE)
    end = min(len(spans), (first or 0) + AFTER)
    flags = [False] * start + [_is_match(s.group(), lang, wanted) for s in spans[start:end]]
    pieces = _pieces(text, spans, flags, start, end)
    if start > 0:
        pieces.insert(0, ("… ", False))
    if _SPAN.search(text, spans[end - 1].end()):
        pieces.append((" …", False))
    return pieces
