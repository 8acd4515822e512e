"""The one sanitizer for statement HTML, whatever produced it (imports, the
editor, Markdown output).

Two independent sanitizers run in series: bleach (which also linkifies) and
then nh3.  bleach 6.4.0 is its final release and will get no security fixes,
so nh3 (Rust's ammonia, maintained) re-checks everything with the same
allowlist.  Both read the constants below so the policies cannot drift.
"""

from __future__ import annotations

import html as _html
import re
import threading
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser
from urllib.parse import urlsplit

import bleach
import nh3
from bleach.html5lib_shim import Filter
from bleach.sanitizer import INVISIBLE_CHARACTERS_RE, INVISIBLE_REPLACEMENT_CHAR
from bleach.linkifier import LinkifyFilter

# h1 is the page title, so a statement must not bring its own; we demote it
# to h2 rather than unwrap it, because imported documents often use h1 for
# their top section and unwrapping would turn a heading into loose text.
ALLOWED_TAGS = frozenset(
    "p br h2 h3 h4 h5 h6 ul ol li blockquote em strong b i u s sub sup small"
    " mark abbr cite q code pre hr a table thead tbody tfoot tr th td caption"
    " figure figcaption img time dl dt dd span div".split()
)
ALLOWED_ATTRIBUTES = {
    "*": frozenset({"lang", "dir"}),
    "a": frozenset({"href", "title", "hreflang"}),
    "abbr": frozenset({"title"}),
    "blockquote": frozenset({"cite"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "time": frozenset({"datetime"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "td": frozenset({"colspan", "rowspan"}),
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# Removed together with everything inside them: their content is code or a
# foreign document, never statement text.  <title> is here because imported
# whole documents carry one that is not part of the statement.
DROP_CONTENT_TAGS = frozenset(
    "script style iframe object embed template noscript svg math title".split()
)
LINK_REL = "nofollow noopener"

_SURROGATE = re.compile("[\ud800-\udfff]")
_URL_JUNK = re.compile(r"[\x00-\x20\x7f-\xa0\s`]+")


def _scheme(url: str) -> str | None:
    """Lower-case scheme of a (decoded) attribute value as a browser would
    read it: "" if relative, None if unreadable.  The whitespace and control
    characters browsers skip are removed first ("jav\tascript:")."""
    url = _URL_JUNK.sub("", url).lower()
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        return None
    # urlsplit reads "1x:y" as schemeless; refuse such oddities outright.
    return scheme or (None if ":" in re.split(r"[/?#]", url, maxsplit=1)[0] else "")


def _same_origin(src: str) -> bool:
    url = _URL_JUNK.sub("", src)
    # Browsers read "\" as "/", so "/\host" is as protocol-relative as "//host".
    return bool(url) and _scheme(src) == "" and not re.match(r"[/\\]{2}", url)


def _attribute_ok(tag: str, attr: str, value: str) -> bool:
    """Value rules the plain allowlist cannot express, shared by both
    sanitizers; `value` must already be entity-decoded."""
    if tag == "img" and attr == "src":
        return _same_origin(value)
    if attr == "cite":  # ammonia does not treat cite as a URL, so check it here
        return _scheme(value) in {"http", "https"}
    return True


class _StatementFilter(Filter):
    """Runs right after bleach's own filter: drops DROP_CONTENT_TAGS with their
    content, applies _attribute_ok, drops images left without a source,
    demotes h1, and resolves entities so linkify sees whole runs of text."""

    def __iter__(self):
        depth, text = 0, []
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if depth or (kind == "StartTag" and name in DROP_CONTENT_TAGS):
                depth += {"StartTag": 1, "EndTag": -1}.get(kind, 0)
                continue
            if kind == "Entity":
                # not bleach's convert_entity: it misses HTML5 names ("&colon;")
                text.append(_html.unescape(f"&{name};"))
                continue
            if kind in ("Characters", "SpaceCharacters"):
                text.append(token["data"])
                continue
            if text:
                yield self._text(text)
                text = []
            if kind in ("StartTag", "EmptyTag"):
                token["data"] = {
                    key: value
                    for key, value in (token.get("data") or {}).items()
                    # bleach leaves entities in attribute values undecoded
                    if _attribute_ok(name, key[1], _html.unescape(value))
                }
                if name in DROP_CONTENT_TAGS or (
                    name == "img" and (None, "src") not in token["data"]
                ):
                    continue
            if name == "h1":
                token["name"] = "h2"
            yield token
        if text:
            yield self._text(text)

    @staticmethod
    def _text(parts):
        # bleach masks control characters only in text it saw as such, not
        # in whitespace-only runs nor in what entities decode to; the next
        # pass would, so do it now.
        text = INVISIBLE_CHARACTERS_RE.sub(INVISIBLE_REPLACEMENT_CHAR, "".join(parts))
        return {"type": "Characters", "data": text}


class _Linkify(LinkifyFilter):
    # bleach's linkifier turns "&name;" found in text back into entities, so
    # text that read "&amp;copy;" would come out as "(c)". _StatementFilter
    # already resolved every real entity, so any "&" left is a literal one.
    def extract_entities(self, token):
        yield token


def _linkable(attrs, new):
    """Linkify callback: only make links whose href nh3 will keep.  bleach's
    URL pattern is looser than a real URL parser (it accepts port 99999, or a
    host mixing Arabic and Latin), and nh3 would strip such an href and leave
    an empty link; such text stays text."""
    if not new:
        return attrs
    probe = '<a href="%s"></a>' % _html.escape(attrs[(None, "href")])
    return attrs if "href=" in _nh3.clean(probe) else None


def _bleach_cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        # h1 and the dropped tags must reach _StatementFilter as elements, or
        # bleach's tokenizer would already have flattened them into text.
        tags=ALLOWED_TAGS | DROP_CONTENT_TAGS | {"h1"},
        attributes={tag: sorted(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[
            _StatementFilter,
            # No rel callback: nh3 sets rel itself and would refuse a rel attribute.
            partial(_Linkify, callbacks=[_linkable], skip_tags={"pre", "code"}),
        ],
    )


def _nh3_attribute_filter(tag: str, attr: str, value: str) -> str | None:
    return value if _attribute_ok(tag, attr, value) else None


_nh3 = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROP_CONTENT_TAGS),
    attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_nh3_attribute_filter,
    strip_comments=True,
    link_rel=LINK_REL,
    url_schemes=set(ALLOWED_PROTOCOLS),
    url_relative="pass_through",  # bleach keeps relative links; so must nh3
)
# Parsers drop one newline right after <pre>, nh3 does not write it back,
# and bleach's parser forgets to drop it inside table cells: so newlines that
# open a <pre> could never come out the same twice.  They are blank lines at
# the top of a block; remove them.  The pattern consumes every tag whole, so
# it never matches a "<pre>" inside an attribute value (nh3 leaves "<" there).
_TAG_AND_NEWLINES = re.compile(r'<[^\s>]+(?: [\w-]+="[^"]*")*>(\n*)')


def _no_pre_newlines(tag: re.Match) -> str:
    if tag[1] and tag[0].startswith(("<pre>", "<pre ")):
        return tag[0][: -len(tag[1])]
    return tag[0]


_local = threading.local()  # bleach's parser keeps state: one per thread


def clean(html: str) -> str:
    """Return `html` reduced to the statement allowlist, bare URLs linkified,
    every link carrying rel="nofollow noopener".  Safe to embed unescaped in a
    page; clean(clean(x)) == clean(x)."""
    if not hasattr(_local, "bleach"):
        _local.bleach = _bleach_cleaner()
    # Lone surrogates (JSON "\\ud800" decodes to one) would make nh3 raise.
    html = _SURROGATE.sub("\ufffd", html)
    out = _nh3.clean(_local.bleach.clean(html))
    # nh3 writes a decoded "&#13;" in an attribute as a raw CR, which the next
    # parse would read as LF; keeping it encoded keeps clean() idempotent.
    return _TAG_AND_NEWLINES.sub(_no_pre_newlines, out).replace("\r", "&#13;")


@dataclass(frozen=True)
class Cleaned:
    html: str
    removed: tuple[str, ...]


class _Removals(HTMLParser):
    """Approximates, with the stdlib parser, what clean() takes out; it only
    feeds a message to the author, the sanitizing is done by clean()."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.removed: dict[str, None] = {}  # an ordered set
        self.dropping: list[str] = []

    def handle_starttag(self, tag, attrs, void=False):
        if self.dropping:
            self.dropping += [tag] if tag == self.dropping[0] and not void else []
            return
        if tag in DROP_CONTENT_TAGS or (tag not in ALLOWED_TAGS and tag != "h1"):
            self.removed[f"{tag} element"] = None
            if tag in DROP_CONTENT_TAGS and not void and tag != "embed":
                self.dropping.append(tag)
            return
        allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, frozenset())
        for attr, value in attrs:
            value = value or ""
            if attr not in allowed:
                self.removed[f"{attr} attribute"] = None
            elif tag == "img" and attr == "src" and not _same_origin(value):
                scheme = _scheme(value)
                external = scheme in {"http", "https"} or re.match(r"\s*[/\\]{2}", value)
                self.removed["external image" if external else f"{scheme}: image"] = None
            elif attr == "href" and _scheme(value) not in ALLOWED_PROTOCOLS | {""}:
                scheme = _scheme(value)
                self.removed[f"{scheme}: link" if scheme else "unreadable link"] = None
            elif not _attribute_ok(tag, attr, value):
                self.removed[f"{attr} attribute"] = None
        if tag == "img" and not any(attr == "src" and value for attr, value in attrs):
            self.removed["image without source"] = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs, void=True)

    def handle_endtag(self, tag):
        if self.dropping and tag == self.dropping[0]:
            self.dropping.pop()

    def handle_comment(self, data):
        if not self.dropping:
            self.removed["comment"] = None


def clean_report(html: str) -> Cleaned:
    """clean(html), plus a plain-English list of what was taken out (e.g.
    "script element", "onclick attribute", "javascript: link"), deduplicated
    in first-seen order, for telling an editor.  The list is a best effort
    description; the html is exactly clean(html)."""
    finder = _Removals()
    finder.feed(html)
    finder.close()
    return Cleaned(clean(html), tuple(finder.removed))


_BLOCKS = frozenset(
    "p br h2 h3 h4 h5 h6 ul ol li blockquote pre hr table thead tbody tfoot tr"
    " th td caption figure figcaption dl dt dd div".split()
)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs=None):
        self.parts.append(" " if tag in _BLOCKS else "")

    handle_endtag = handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.parts.append(data)


def text_of(html: str) -> str:
    """Plain text of clean(html), for search indexing and summaries: block
    boundaries become spaces, runs of whitespace collapse to one space."""
    reader = _Text()
    reader.feed(clean(html))
    reader.close()
    return " ".join("".join(reader.parts).split())
