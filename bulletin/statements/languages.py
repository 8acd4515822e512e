"""Guessing the language of a statement, and which way its text runs.

Deterministic and dependency-free, tuned for statements (whole paragraphs of
ordinary prose), not for tweets: the script decides first, then letters
peculiar to one language, then, for Latin script, counts of the commonest
function words. When the evidence is thin or tied the answer is None, so the
caller asks an editor instead of publishing a wrong `lang` attribute.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["RTL_LANGUAGES", "detect_language", "text_direction"]

MIN_LETTERS = 12  # fewer letters than this is too little text to judge
MIN_WORD_HITS = 3  # Latin script needs at least this many function words

RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ps", "sd", "syr", "ug", "ur", "yi"})
_RTL_SCRIPTS = frozenset({"adlm", "arab", "hebr", "nkoo", "rohg", "syrc", "thaa"})

# (first code point, last code point, script); letters outside these are ignored.
_SCRIPT_RANGES = (
    (0x0041, 0x024F, "latin"),
    (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0xFB1D, 0xFB4F, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0E00, 0x0E7F, "thai"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1200, 0x137F, "ethiopic"),
    (0x1100, 0x11FF, "hangul"),
    (0x3130, 0x318F, "hangul"),
    (0xAC00, 0xD7AF, "hangul"),
    (0x3040, 0x30FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xF900, 0xFAFF, "han"),
)

# Scripts that, in statements, almost always mean one language.
_SCRIPT_LANGUAGE = {
    "greek": "el",
    "armenian": "hy",
    "georgian": "ka",
    "thai": "th",
    "hangul": "ko",
    "devanagari": "hi",
    "bengali": "bn",
    "ethiopic": "am",
}

# The most frequent short words of each language, chosen by hand; words shared
# by several languages count for each of them, distinctive ones break the tie.
_FUNCTION_WORDS = {
    "en": "the and of to in is that for it with as was on are be by this have from has not "
    "its which were been will their all must against",
    "es": "el la los las de del que y en un una por con para es se no su sus al lo como más "
    "pero este esta han ha sobre entre",
    "fr": "le la les de des du et un une est en que qui dans pour pas sur au aux avec ce cette "
    "son sa ses ont sont nous par été",
    "de": "der die das und ist nicht den dem des ein eine einer zu mit von auf für sich auch im "
    "wir sind hat werden wird dass aus bei nach",
    "pt": "o os as de do da dos das e que em no na um uma para com não por se mais ao foi são "
    "pelo pela seu sua também",
    "it": "il lo la gli le di del della che e è un una per con non in sono da al alla si anche "
    "nel nella ha più questo dei",
}
_WORD_SETS = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")


def _script_of(char: str) -> str | None:
    code = ord(char)
    for first, last, script in _SCRIPT_RANGES:
        if first <= code <= last:
            return script
    return None


def detect_language(text: str) -> str | None:
    """The BCP 47 primary language code of `text`, or None when unsure."""
    letters = [c for c in text if c.isalpha()]
    scripts = Counter(s for s in map(_script_of, letters) if s)
    ranked = scripts.most_common(2)
    if not ranked or ranked[0][1] < MIN_LETTERS or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    script = ranked[0][0]
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    if script in ("kana", "han"):
        # Japanese mixes kana into Han; Chinese has none.
        return "ja" if scripts["kana"] else "zh"
    chars = Counter(letters)
    if script == "arabic":
        return _arabic_language(chars, scripts["arabic"])
    if script == "hebrew":
        return "yi" if _count(chars, "װױײ") else "he"
    if script == "cyrillic":
        return _cyrillic_language(chars)
    return _latin_language(text)


def _count(chars: Counter, letters: str) -> int:
    return sum(chars[c] for c in letters)


def _arabic_language(chars: Counter, total: int) -> str:
    # Urdu letters never occur in Persian; Persian's letters (shared by Urdu)
    # replace Arabic's yeh and kaf, so whichever set is more common wins.
    urdu = _count(chars, "ٹڈڑںھہے")
    persian = _count(chars, "پچژگیک")
    arabic = _count(chars, "يكةى")
    if urdu + persian <= arabic:
        return "ar"
    return "ur" if urdu * 30 >= total else "fa"


def _cyrillic_language(chars: Counter) -> str | None:
    # Ordered tests on letters that one language has and its neighbours lack.
    if _count(chars, "ўЎ"):
        return "be"
    if _count(chars, "әғқңөұӘҒҚҢӨҰ"):
        return "kk"
    if _count(chars, "ѓќѕЃЌЅ"):
        return "mk"
    if _count(chars, "ђћџјљњЂЋЏЈЉЊ"):
        return "sr"
    ukrainian, russian = _count(chars, "іїєґІЇЄҐ"), _count(chars, "ыэёЫЭЁ")
    if ukrainian > russian:
        return "uk"
    if russian:
        return "ru"
    # Bulgarian writes ъ as a vowel in many words and has no ы or э.
    return "bg" if _count(chars, "ъЪ") else None


def _latin_language(text: str) -> str | None:
    words = Counter(w.casefold() for w in _WORD.findall(text))
    scores = {lang: sum(words[w] for w in wordset) for lang, wordset in _WORD_SETS.items()}
    (best, top), (_, runner_up) = sorted(scores.items(), key=lambda item: -item[1])[:2]
    if top < MIN_WORD_HITS or top == runner_up:
        return None
    return best


def text_direction(lang: str) -> str:
    """'rtl' for a right-to-left language tag such as 'ar', 'ar-EG' or 'az-Arab', else 'ltr'."""
    subtags = lang.replace("_", "-").casefold().split("-")
    if len(subtags) > 1 and len(subtags[1]) == 4:  # an explicit script subtag decides
        return "rtl" if subtags[1] in _RTL_SCRIPTS else "ltr"
    return "rtl" if subtags[0] in RTL_LANGUAGES else "ltr"


LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def language_tag(text: str) -> str:
    """A language tag in its usual case (``en``, ``ar-EG``, ``sr-Latn``, ``es-419``); ValueError if it is none.

    ``_`` is read as ``-`` (``en_gb`` is ``en-GB``).
    """
    tag = text.strip().replace("_", "-")
    if not LANGUAGE_TAG.fullmatch(tag):
        raise ValueError(f"{tag!r} is not a language tag: write e.g. en, ru or ar-EG")
    first, *rest = tag.split("-")
    return "-".join([first.lower()] + [_subtag_case(subtag) for subtag in rest])


def _subtag_case(subtag: str) -> str:
    """BCP 47 conventions: scripts like Latn, regions like EG or 419, the rest lower case."""
    if len(subtag) == 4 and subtag.isalpha():
        return subtag.title()
    if len(subtag) == 2 or (len(subtag) == 3 and subtag.isdigit()):
        return subtag.upper()
    return subtag.lower()
