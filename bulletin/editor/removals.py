"""What the sanitizer took out of a statement, told to its editor in plain words.

:func:`bulletin.statements.sanitize.clean_report` names each removal
technically ("script element", "onclick attribute", "javascript: link",
"external image"). An editor needs to know what happened to their text and
why, so each kind becomes one sentence ("Scripts were removed…"), grouped so
that ten event handlers make one sentence, not ten.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bulletin.i18n import gettext, ngettext

# Removed with everything inside them (see sanitize.DROP_CONTENT_TAGS), by what they are to an editor.
_EMBEDDED = ("iframe", "object", "embed")
_DRAWINGS = ("svg", "math")
_HIDDEN = ("template", "noscript", "title")
_SCRIPT_SCHEMES = ("javascript", "vbscript")


@dataclass
class _Kinds:
    """clean_report's items sorted by kind, each list in first-seen order."""

    elements: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    link_schemes: list[str] = field(default_factory=list)
    image_schemes: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)  # external image, unreadable link/image, comment
    unknown: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, removed: Iterable[str]) -> _Kinds:
        kinds = cls()
        for item in removed:
            if item in (
                "external image",
                "unreadable image",
                "image without source",
                "unreadable link",
                "comment",
            ):
                kinds.flags.add(item)
            elif item.endswith(" element"):
                kinds.elements.append(item.removesuffix(" element"))
            elif item.endswith(" attribute"):
                kinds.attributes.append(item.removesuffix(" attribute"))
            elif item.endswith(": link"):
                kinds.link_schemes.append(item.removesuffix(" link"))
            elif item.endswith(": image"):
                kinds.image_schemes.append(item.removesuffix(" image"))
            else:
                kinds.unknown.append(item)
        return kinds


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


def _tags(names: Iterable[str]) -> str:
    return ", ".join(f"<{name}>" for name in names)


def plain_words(removed: Iterable[str]) -> list[str]:
    """One sentence per kind of removal in a clean_report list, most serious first; [] for none.

    Every item is accounted for: one this module does not know yet is still
    named, as the sanitizer wrote it.
    """
    kinds = _Kinds.of(removed)
    return [
        *_script_sentences(kinds),
        *_image_sentences(kinds),
        *_link_sentences(kinds),
        *_element_sentences(kinds),
        *_attribute_sentences(kinds),
        *([gettext("HTML comments were removed.")] if "comment" in kinds.flags else []),
        *([gettext("Also removed: %(items)s.", items=_names(kinds.unknown))] if kinds.unknown else []),
    ]


def _script_sentences(kinds: _Kinds) -> list[str]:
    sentences = []
    if "script" in kinds.elements:
        sentences.append(gettext("Scripts were removed: a statement cannot run code on readers’ devices."))
    handlers = [name for name in kinds.attributes if name.startswith("on")]
    if handlers:
        sentences.append(
            ngettext(
                "A script in the %(names)s attribute was removed.",
                "Scripts in the attributes %(names)s were removed.",
                len(handlers),
                names=_names(handlers),
            )
        )
    return sentences


def _image_sentences(kinds: _Kinds) -> list[str]:
    sentences = []
    if "external image" in kinds.flags:
        sentences.append(
            gettext(
                "Images from other sites are not allowed: they were removed, because loading them"
                " would tell those sites who reads the statement."
            )
        )
    if kinds.image_schemes:
        sentences.append(
            gettext(
                "Images written into the text (%(kinds)s) are not allowed and were removed.",
                kinds=_names(kinds.image_schemes),
            )
        )
    if kinds.flags & {"unreadable image", "image without source"}:
        sentences.append(gettext("Images without an address that can be read were removed."))
    return sentences


def _link_sentences(kinds: _Kinds) -> list[str]:
    scripts = [s for s in kinds.link_schemes if s.removesuffix(":") in _SCRIPT_SCHEMES]
    others = [s for s in kinds.link_schemes if s not in scripts]
    sentences = []
    if scripts:
        sentences.append(
            gettext(
                "Links that run scripts (%(kinds)s) were removed; their text was kept.", kinds=_names(scripts)
            )
        )
    if others:
        sentences.append(
            gettext(
                "Links to %(kinds)s addresses are not allowed (only web and email links are); their text was kept.",
                kinds=_names(others),
            )
        )
    if "unreadable link" in kinds.flags:
        sentences.append(gettext("Links whose address could not be read were removed; their text was kept."))
    return sentences


def _element_sentences(kinds: _Kinds) -> list[str]:
    sentences = []
    if "style" in kinds.elements:
        sentences.append(gettext("Style sheets were removed: statements use the site’s own style."))
    groups = (  # each string written out whole, so that gettext's extraction finds it
        (
            _EMBEDDED,
            lambda n: gettext(
                "Embedded frames and plug-ins (%(names)s) were removed, with their content.", names=n
            ),
        ),
        (
            _DRAWINGS,
            lambda n: gettext("Drawings and formulas (%(names)s) were removed, with their content.", names=n),
        ),
        (
            _HIDDEN,
            lambda n: gettext(
                "Hidden parts of a page (%(names)s) were removed, with their content.", names=n
            ),
        ),
    )
    for tags, sentence in groups:
        found = [name for name in kinds.elements if name in tags]
        if found:
            sentences.append(sentence(_tags(found)))
    told = {"script", "style", *_EMBEDDED, *_DRAWINGS, *_HIDDEN}
    rest = [name for name in kinds.elements if name not in told]
    if rest:
        sentences.append(
            ngettext(
                "The %(names)s element is not allowed: its tags were removed and its text kept.",
                "The elements %(names)s are not allowed: their tags were removed and their text kept.",
                len(rest),
                names=_tags(rest),
            )
        )
    return sentences


def _attribute_sentences(kinds: _Kinds) -> list[str]:
    sentences = []
    if "style" in kinds.attributes:
        sentences.append(gettext("Inline styles were removed: statements use the site’s own style."))
    rest = [name for name in kinds.attributes if name != "style" and not name.startswith("on")]
    if rest:
        sentences.append(
            ngettext(
                "The %(names)s attribute is not allowed and was removed.",
                "The attributes %(names)s are not allowed and were removed.",
                len(rest),
                names=_names(rest),
            )
        )
    return sentences
