"""Words as search compares them: folded, stemmed, and matched by prefix.

A text's words become *keys*: lower case, diacritics and Arabic tashkeel
removed (``й`` kept: it is a letter of its own in Russian), tatweel removed,
Arabic alef forms written as a bare alef and a leading article dropped, then
the Snowball stem of the statement's language where there is one (Russian,
English, French, Spanish). A query word matches a key that starts with the
word or with one of its stems, so Kazakh (no stemmer) is found by the start
of its words and "Kazakh" finds "Kazakhstan"; a word or stem shorter than
``MIN_PREFIX`` matches whole keys only.

The device's search (``static/js/search/words.js``) does the same for
Russian, Kazakh and Arabic; keep the two in step (tests compare them).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Shorter words and stems match whole keys only: "a" or "the" as a prefix would
# match most of the words of every statement, and cost a search as much.
MIN_PREFIX = 4
# Languages with a Snowball stemmer on the server; the device has Russian only.
STEMMERS = {"ru": "russian", "en": "english", "fr": "french", "es": "spanish"}
# Which stemmers a query word is tried with, by its script.
_QUERY_STEMMERS = {"cyrillic": ("ru",), "latin": ("en", "fr", "es")}

_BREVE = "\u0306"  # и + breve is й: kept so that Russian stems stay right
_ARABIC_LETTERS = str.maketrans({"\u0671": "\u0627", "\u0649": "\u064a", "\u0640": None})
_ARABIC_ARTICLES = ("\u0648\u0627\u0644", "\u0628\u0627\u0644", "\u0643\u0627\u0644", "\u0641\u0627\u0644")
_ARABIC_ARTICLE = "\u0627\u0644"  # al-
_ARABIC_LAM_LAM = "\u0644\u0644"  # li-l-
_WORD = re.compile(r"[^\W_]+")


def _marks() -> re.Pattern:
    """Every combining mark (Unicode category M) but the breve, as one character class.

    Built once, by asking unicodedata about the planes that have marks, so that
    folding a long body is one regular-expression pass instead of a Python loop.
    """
    ranges: list[tuple[int, int]] = []
    for code in (*range(0x300, 0x20000), *range(0xE0100, 0xE01F0)):
        if code != ord(_BREVE) and unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]+")


_MARKS = _marks()


def fold(text: str) -> str:
    """``text`` in lower case without diacritics, tashkeel or tatweel, alef forms as alef."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return unicodedata.normalize("NFC", _MARKS.sub("", decomposed)).translate(_ARABIC_LETTERS)


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order (letters and digits; everything else separates)."""
    return _WORD.findall(fold(text))


def _script(word: str) -> str:
    first = word[0]
    if "\u0400" <= first <= "\u04ff":
        return "cyrillic"
    if "\u0600" <= first <= "\u06ff":
        return "arabic"
    if first.isascii() or "\u00c0" <= first <= "\u024f":
        return "latin"
    return "other"


def _without_article(word: str) -> str:
    """An Arabic word without a leading definite article (and its joined preposition)."""
    for article in (*_ARABIC_ARTICLES, _ARABIC_ARTICLE, _ARABIC_LAM_LAM):
        if word.startswith(article) and len(word) - len(article) >= 2:
            return word[len(article) :]
    return word


@lru_cache(maxsize=8)
def _stemmer(lang: str):
    return snowballstemmer.stemmer(STEMMERS[lang])


@lru_cache(maxsize=100_000)  # a body repeats its words: a long one stems in a fraction of the time
def stem(word: str, lang: str) -> str:
    """The Snowball stem of a folded ``word`` in ``lang``; the word itself for other languages."""
    if lang not in STEMMERS:
        return word
    return _stemmer(lang).stemWord(word)


def key(word: str, lang: str) -> str:
    """The key a folded word of a statement in ``lang`` is indexed under."""
    if _script(word) == "arabic":
        return _without_article(word)
    return stem(word, (lang or "").split("-")[0].lower())


def keys(text: str, lang: str) -> list[str]:
    """The keys of every word of ``text``, in order."""
    return [key(word, lang) for word in words(text)]


def candidates(word: str) -> frozenset[str]:
    """The prefixes a folded query word matches keys by: the word and its stems."""
    script = _script(word)
    found = {word}
    if script == "arabic":
        found.add(_without_article(word))
    for lang in _QUERY_STEMMERS.get(script, ()):
        found.add(stem(word, lang))
    return frozenset(w for w in found if w)


def query_candidates(query: str) -> list[frozenset[str]]:
    """For each distinct word of the reader's query, the prefixes that match it (every word must match)."""
    seen: dict[str, frozenset[str]] = {}
    for word in words(query):
        seen.setdefault(word, candidates(word))
    return list(seen.values())


def matches(word_key: str, options: frozenset[str]) -> bool:
    """Whether a key matches one query word's prefixes (a short one only as the whole key)."""
    return any(
        word_key == prefix or (len(prefix) >= MIN_PREFIX and word_key.startswith(prefix))
        for prefix in options
    )


def index_row(title: str, summary: str | None, body_text: str, lang: str) -> tuple[str, str]:
    """The (title, text) keys a statement is found by, as space-separated words for FTS5."""
    return " ".join(keys(title, lang)), " ".join(keys(f"{summary or ''} {body_text}", lang))


def match_expression(query: str) -> str:
    """An FTS5 query for the keys: every word of ``query`` must match one of its prefixes.

    Candidates hold letters and digits only, so nothing the reader types
    (``"``, ``*``, ``NEAR(``, ``AND``) can become FTS syntax.
    """
    groups = []
    for options in query_candidates(query):
        terms = (f'"{prefix}"*' if len(prefix) >= MIN_PREFIX else f'"{prefix}"' for prefix in sorted(options))
        groups.append("(" + " OR ".join(terms) + ")")
    return " AND ".join(groups)
