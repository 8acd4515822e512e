"""How languages and tags are named to readers.

A translation link names its language in that language ("Español",
"Русский"), as a reader who cannot read the interface still recognises
their own; Babel's CLDR data knows those names. Tags are stored in slug
form only (``press-freedom``), so their label is the slug made readable.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError


@lru_cache(maxsize=256)
def language_name(lang: str) -> str:
    """The language of tag ``lang`` named in itself, capitalised ("Español"); the tag itself when unknown."""
    try:
        name = Locale.parse(lang.replace("-", "_")).get_display_name(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return lang
    return name[:1].upper() + name[1:] if name else lang


def tag_label(tag: str) -> str:
    """A tag as readers read it: the words of its slug (``press-freedom`` → ``press freedom``)."""
    return tag.replace("-", " ")
