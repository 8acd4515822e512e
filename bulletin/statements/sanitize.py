"""The one sanitizer for statement HTML of every origin: imports, the editor,
Markdown output.

bleach cleans and linkifies, then nh3 cleans again.  bleach 6.4.0 is its
final release and gets no more security fixes, so nh3 (Rust's ammonia, still
maintained) is an independent second line of defence.  Both read the same
constants, so their policies cannot drift apart.
"""

from __future__ import annotations

import html as _html
import re
import threading
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser
from types import MappingProxyType
from urllib.parse import urlsplit

import bleach
import nh3
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import INVISIBLE_CHARACTERS_RE, INVISIBLE_REPLACEMENT_CHAR

# No h1: the statement's title is the page's h1.  An h1 in the input becomes
# h2 rather than plain text, because imports use it for their top section.
ALLOWED_TAGS = frozenset(
    "p br h2 h3 h4 h5 h6 ul ol li blockquote em strong b i u s sub sup small"
    " mark abbr cite q code pre hr a table thead tbody tfoot tr th td caption"
    " figure figcaption img time dl dt dd span div".split()
)
ALLOWED_ATTRIBUTES = MappingProxyType(
    {  # read-only, so it cannot drift either
        "*": frozenset({"lang", "dir"}),
        "a": frozenset({"href", "title", "hreflang"}),
        "abbr": frozenset({"title"}),
        "blockquote": frozenset({"cite"}),
        "img": frozenset({"src", "alt", "width", "height"}),
        "time": frozenset({"datetime"}),
        "th": frozenset({"colspan", "rowspan", "scope"}),
        "td": frozenset({"colspan", "rowspan"}),
    }
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# Removed with everything inside: their content is code or a foreign document,
# never statement text.  Imported whole pages also bring a <title>.
DROP_CONTENT_TAGS = frozenset("script style iframe object embed template noscript svg math title".split())
LINK_REL = "nofollow noopener"

_URL_JUNK = re.compile(r"[\x00-\x20\x7f-\xa0\s`]+")  # what browsers skip in URLs


def _scheme(url: str) -> str | None:
    """Lower-case scheme of a decoded URL ("" if relative, None if unreadable)."""
    url = _URL_JUNK.sub("", url).lower()
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        # Unreadable (a bad IPv6 host, say): "unknown scheme", which the caller refuses.
        return None
    # A ":" before any "/?#" that urlsplit did not read as a scheme: refuse.
    return scheme or (None if ":" in re.split(r"[/?#]", url, maxsplit=1)[0] else "")


def _same_origin(src: str) -> bool:
    url = _URL_JUNK.sub("", src)
    # Browsers read "\" as "/", so "/\host" is as protocol-relative as "//host".
    return bool(url) and _scheme(url) == "" and not re.match(r"[/\\]{2}", url)


def _attribute_ok(tag: str, attr: str, value: str) -> bool:
    """Rules the allowlist cannot express, for both sanitizers (value decoded)."""
    if tag == "img" and attr == "src":
        return _same_origin(value)
    if attr == "cite":  # ammonia does not check cite as a URL at all
        return _scheme(value) in {"http", "https"}
    return True


class _StatementFilter(Filter):
    """After bleach's own filter: drops DROP_CONTENT_TAGS with their content,
    applies _attribute_ok, drops images left without a source, demotes h1, and
    decodes entities in text so that linkify sees the same text every pass."""

    def __iter__(self):
        depth, text = 0, []
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if depth or (kind == "StartTag" and name in DROP_CONTENT_TAGS):
                depth += {"StartTag": 1, "EndTag": -1}.get(kind, 0)
            elif kind == "Entity":  # bleach's own decoder misses "&colon;" etc.
                text.append(_html.unescape(f"&{name};"))
            elif kind in ("Characters", "SpaceCharacters"):
                text.append(token["data"])
            else:
                if text:
                    yield self._text(text)
                    text = []
                if kind in ("StartTag", "EmptyTag"):
                    token["data"] = {  # bleach leaves these values undecoded
                        key: value
                        for key, value in (token.get("data") or {}).items()
                        if _attribute_ok(name, key[1], _html.unescape(value))
                    }
                    if name in DROP_CONTENT_TAGS or (name == "img" and (None, "src") not in token["data"]):
                        continue
                token["name"] = "h2" if name == "h1" else name
                yield token
        if text:
            yield self._text(text)

    @staticmethod
    def _text(parts):
        # bleach masks control characters only in the text it saw, not in
        # whitespace runs or decoded entities; the next pass would, so do it now.
        text = INVISIBLE_CHARACTERS_RE.sub(INVISIBLE_REPLACEMENT_CHAR, "".join(parts))
        return {"type": "Characters", "data": text}


class _Linkify(LinkifyFilter):
    # The linkifier re-reads "&copy;" in text as an entity, so "&amp;copy;"
    # would come out as a copyright sign.  _StatementFilter decoded every
    # real entity already: any "&" left is a literal one.
    def extract_entities(self, token):
        yield token


def _linkable(attrs, new):
    """Linkify callback (not for rel: nh3 sets that): make only links whose
    href nh3 keeps.  bleach's URL pattern accepts what a URL parser does not
    ("example.org:99999", a host mixing scripts); such text stays text."""
    if not new:
        return attrs
    probe = '<a href="{}"></a>'.format(_html.escape(attrs[(None, "href")]))
    return attrs if "href=" in _nh3.clean(probe) else None


def _bleach_cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        # Dropped tags and h1 must reach _StatementFilter as elements: bleach's
        # tokenizer turns any tag not listed here into text on sight.
        tags=ALLOWED_TAGS | DROP_CONTENT_TAGS | {"h1"},
        attributes={tag: sorted(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[
            _StatementFilter,
            partial(_Linkify, callbacks=[_linkable], skip_tags={"pre", "code"}),
        ],
    )


_nh3 = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROP_CONTENT_TAGS),
    attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=lambda tag, attr, value: value if _attribute_ok(tag, attr, value) else None,
    strip_comments=True,
    link_rel=LINK_REL,
    url_schemes=set(ALLOWED_PROTOCOLS),
    url_relative="pass_through",  # bleach keeps relative URLs, so must nh3
)
_local = threading.local()  # a bleach Cleaner is not thread-safe
_SURROGATE = re.compile("[\ud800-\udfff]")
# Parsers drop a newline right after <pre>, nh3 does not write it back, and
# bleach's parser forgets to drop it inside table cells: such leading blank
# lines could not come out the same twice, so they go.  The pattern consumes
# every tag whole, so it cannot match inside an attribute value.
_TAG_THEN_NEWLINES = re.compile(r'<[^\s>]+(?: [\w-]+="[^"]*")*>(\n*)')


def _trim_pre(tag: re.Match) -> str:
    pre = tag[1] and tag[0].startswith(("<pre>", "<pre "))
    return tag[0][: -len(tag[1])] if pre else tag[0]


def clean(html: str) -> str:
    """Return `html` reduced to the statement allowlist, bare URLs linkified,
    every link with rel="nofollow noopener".  Safe to insert in a page as is,
    for any input; clean(clean(x)) == clean(x)."""
    if not hasattr(_local, "bleach"):
        _local.bleach = _bleach_cleaner()
    html = _SURROGATE.sub("\ufffd", html)  # JSON can carry them; nh3 raises
    out = _nh3.clean(_local.bleach.clean(html))
    # nh3 writes a decoded "&#13;" in an attribute as a raw CR, which the next
    # parse would read as LF.
    return _TAG_THEN_NEWLINES.sub(_trim_pre, out).replace("\r", "&#13;")


@dataclass(frozen=True)
class Cleaned:
    html: str
    removed: tuple[str, ...]


class _Removals(HTMLParser):
    """Walks the input with the stdlib parser and names what clean() will
    take out.  Only a message for the author: clean() does the sanitizing."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.removed: dict[str, None] = {}  # ordered and deduplicated
        self.inside: list[str] = []  # open dropped elements (all one name)

    def handle_starttag(self, tag, attrs, void=False):
        if self.inside:  # their content goes unmentioned: it all goes
            self.inside += [tag] if tag == self.inside[0] and not void else []
        elif tag in DROP_CONTENT_TAGS or tag not in ALLOWED_TAGS | {"h1"}:
            self.removed[f"{tag} element"] = None
            if tag in DROP_CONTENT_TAGS and not void and tag != "embed":
                self.inside.append(tag)
        else:
            self._attributes(tag, [(attr, value or "") for attr, value in attrs])

    def _attributes(self, tag, attrs):
        allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
        for attr, value in attrs:
            scheme = _scheme(value)
            if attr not in allowed:
                self.removed[f"{attr} attribute"] = None
            elif tag == "img" and attr == "src":
                if value.strip() and not _same_origin(value):
                    far = scheme in {"http", "https", ""}  # "" here: "//host"
                    label = f"{scheme}: image" if scheme else "unreadable image"
                    self.removed["external image" if far else label] = None
            elif attr == "href" and scheme not in ALLOWED_PROTOCOLS | {""}:
                self.removed[f"{scheme}: link" if scheme else "unreadable link"] = None
            elif not _attribute_ok(tag, attr, value):
                self.removed[f"{attr} attribute"] = None
        if tag == "img" and not any(a == "src" and v.strip() for a, v in attrs):
            self.removed["image without source"] = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs, void=True)

    def handle_endtag(self, tag):
        if self.inside and tag == self.inside[0]:
            self.inside.pop()

    def handle_comment(self, data):
        if not self.inside:
            self.removed["comment"] = None


def clean_report(html: str) -> Cleaned:
    """clean(html), with `removed` naming in plain English what was taken out
    ("script element", "onclick attribute", "javascript: link", "external
    image"...), deduplicated, in first-seen order, for telling an editor.  The
    list is a best-effort description; an h1 demoted to h2 is not listed."""
    finder = _Removals()
    finder.feed(html)
    finder.close()
    return Cleaned(clean(html), tuple(finder.removed))


_INLINE_TAGS = frozenset("a abbr b cite code em i img mark q s small span strong sub sup time u".split())
# clean() output is regular: every "<" opens a tag, attribute values hold no ">".
_BLOCKS = "|".join(sorted(ALLOWED_TAGS - _INLINE_TAGS))
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCKS})\b[^>]*>")


def text_of(html: str) -> str:
    """Plain text of clean(html), for search indexing and summaries: block
    boundaries become spaces, and runs of whitespace one space."""
    return plain_text(clean(html))


def plain_text(cleaned_html: str) -> str:
    """:func:`text_of` for HTML that :func:`clean` already produced (it is not cleaned again)."""
    text = re.sub(r"<[^>]*>", "", _BLOCK_TAG.sub(" ", cleaned_html))
    return " ".join(_html.unescape(text).split())


DESCRIPTION_LENGTH = 160
# Language detection and the description need only the start of a body:
# reading a bounded prefix keeps their cost the same for a page and a book.
_CUT_TAIL = re.compile(r"<[^>]*\Z|&[#\w]*\Z")


def text_start(cleaned_html: str, max_html: int) -> str:
    """:func:`plain_text` of the first ``max_html`` characters of :func:`clean` output
    (a tag or entity cut at the end of that prefix is left out)."""
    prefix = cleaned_html[:max_html]
    if len(prefix) < len(cleaned_html):
        prefix = _CUT_TAIL.sub("", prefix)
    return plain_text(prefix)


def description(cleaned_html: str, length: int = DESCRIPTION_LENGTH) -> str:
    """The start of the plain text of :func:`clean` output, at most ``length`` characters, cut
    at a word with "…": a page's description, stored with each revision so no page view derives it."""
    text = text_start(cleaned_html, length * 64)
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    word_end = cut.rfind(" ")
    return (cut[:word_end] if word_end > length // 2 else cut).rstrip() + "…"
