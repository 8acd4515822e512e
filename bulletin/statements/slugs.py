"""Readable slugs in any script.

A slug keeps the letters and digits of the title in their own script
(Cyrillic and Arabic titles give Cyrillic and Arabic slugs, percent-encoded
only when put into a URL), lower-cased, joined by hyphens.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 80


def slugify(title: str) -> str:
    """A slug for the title; empty when the title has no letters or digits."""
    text = unicodedata.normalize("NFKC", title).casefold()
    words, current = [], []
    for char in text:
        # Letters (L*), digits (Nd) and combining marks (M*, needed by Arabic
        # and Indic scripts) belong to words; everything else separates them.
        if unicodedata.category(char)[0] in "LM" or unicodedata.category(char) == "Nd":
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_LENGTH:
            break
        slug = candidate
    return slug or (words[0][:MAX_LENGTH] if words else "")


def is_valid(slug: str) -> bool:
    """Whether a slug given by hand (front matter, editor) is already in slug form."""
    return bool(slug) and slugify(slug) == slug
