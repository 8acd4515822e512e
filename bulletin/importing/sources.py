"""Reading one statement source file (plain text, Markdown or HTML) into a record.

Nothing is stored here: the importer calls `parse_source` and stores the
result. Every problem is a SourceError naming the file and line, so an editor
can fix the file without reading code.

Rules shared by all formats:

- Optional YAML front matter between `---` fences at the very top; its keys
  are `META_KEYS` and its values win over what the body says.
- The title comes from front matter, else from the top of the body (first
  line, `# Heading` or `<h1>`). When front matter gives the title, a top line
  or heading repeating it is removed; a different one stays in the body.
- The date comes from front matter, else from a date line just after the
  title (or `<time datetime>`), else `default_date`. A date line is always
  removed from the body, even when front matter gives the date, so an author
  can settle an ambiguous date line in front matter without editing it.
- `source_text` is the body as written, without front matter, title, date line
  or page chrome; rendering it in its format gives `body_html` (unsanitized).
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import PurePath

import yaml

from bulletin.statements.bodies import MARKDOWN, render_txt
from bulletin.statements.dates import looks_like_date, parse_date
from bulletin.statements.languages import language_tag

__all__ = ["DEFAULT_DROP_LINES", "META_KEYS", "ParsedSource", "SourceError", "parse_source"]

UTC = UTC
DEFAULT_DROP_LINES = ("You are currently offline. Some pages or content may fail to load.",)
META_KEYS = ("id", "slug", "title", "date", "lang", "tags", "translation_of", "summary")
_FORMATS = {".txt": "txt", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


class SourceError(ValueError):
    """A source file that cannot be imported; `path`, `line` (1-based or None) and a fix in the message."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path, self.line, self.reason = path, line, message
        super().__init__(f"{path}, line {line}: {message}" if line else f"{path}: {message}")


@dataclass
class ParsedSource:
    """One statement as read from its source file, ready for the importer.

    `published` is always set by parse_source (it raises when no date is
    found); None is allowed for records built elsewhere. `meta` holds only the
    front-matter keys the file gave, normalized.
    """

    title: str
    published: date | datetime | None
    source_text: str
    format: str  # "txt", "markdown" or "html"
    body_html: str  # NOT sanitized: the caller must sanitize before storing
    meta: dict = field(default_factory=dict)
    dropped_lines: list[str] = field(default_factory=list)


@dataclass
class _Doc:
    """The body lines after front matter, and how to point at one of them."""

    path: str
    lines: list[str]
    first_line: int  # file line number of lines[0]
    meta: dict
    tz: tzinfo
    whole: str  # everything after front matter, for an HTML <title> outside <body>

    def error(self, index: int | None, message: str) -> SourceError:
        return SourceError(self.path, None if index is None else self.first_line + index, message)


@dataclass
class _Parts:
    """What a format reader found; indexes point into _Doc.lines for error messages."""

    title: str
    date_line: tuple[int, str] | None  # (index, text) of a date line or <time datetime>
    expected_date_at: int | None  # where a date line would have been
    expected_text: str | None  # what stood there instead
    body: str
    body_at: int | None  # where the body starts, or the last line before it


def parse_source(
    path: str,
    data: bytes,
    *,
    drop_lines: Sequence[str] = DEFAULT_DROP_LINES,
    default_date: date | datetime | str | None = None,
    tz: tzinfo = UTC,
) -> ParsedSource:
    """Read one source file; raise SourceError naming the file and line when it cannot be imported."""
    fmt = _FORMATS.get(PurePath(path).suffix.lower())
    if fmt is None:
        raise SourceError(
            path,
            None,
            f"unsupported file type {PurePath(path).suffix!r}: name it .txt, .md, .markdown, .html or .htm",
        )
    meta, lines, first_line = _split_front_matter(path, _decode(path, data), tz)
    whole = "\n".join(lines)
    if fmt == "html":
        lines, first_line = _html_body_lines(lines, first_line)
        _refuse_deep_nesting(path, lines, first_line)
    lines, dropped = _drop_chrome(lines, drop_lines, _html_text if fmt == "html" else str)
    doc = _Doc(path, lines, first_line, meta, tz, whole)
    parts = _read_html(doc) if fmt == "html" else _read_lines(doc, fmt)
    published = _published(doc, parts, default_date)
    if not parts.body.strip() or (fmt == "html" and not _html_text(parts.body)):
        raise doc.error(
            parts.body_at or 0, "the statement has no text after its title and date: add the text"
        )
    body_html = {"txt": render_txt, "markdown": MARKDOWN.render, "html": str}[fmt](parts.body)
    return ParsedSource(parts.title, published, parts.body, fmt, body_html, meta, dropped)


# --- decoding and front matter -------------------------------------------------


def _decode(path: str, data: bytes) -> str:
    """UTF-8 text (BOM dropped) with \n newlines and NFC, so comparisons and line numbers agree."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        # Refused with the line of the first bad byte, so the writer can find it.
        before = data[: e.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        raise SourceError(
            path, line, f"not UTF-8 (byte 0x{data[e.start]:02x}): save the file as UTF-8"
        ) from e
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _split_front_matter(path: str, text: str, tz: tzinfo) -> tuple[dict, list[str], int]:
    """Front matter as normalized meta, the remaining lines, and the file line they start at."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, lines, 1
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise SourceError(path, 1, "front matter opened with --- is never closed: add a --- line after it")
    fm_lines = lines[1:end]

    def line_of(key: str) -> int:
        pattern = re.compile(rf"\s*['\"]?{re.escape(key)}['\"]?\s*:")
        return next((i + 2 for i, line in enumerate(fm_lines) if pattern.match(line)), 1)

    front = "\n".join(fm_lines)
    try:
        _refuse_aliases(path, front)
        raw = yaml.safe_load(front)
    except yaml.MarkedYAMLError as e:
        # Refused with the file's line of the YAML problem.
        line = e.problem_mark.line + 2 if e.problem_mark else 1
        raise SourceError(
            path, line, f"front matter is not valid YAML ({e.problem}): check quoting and indentation"
        ) from e
    except (yaml.YAMLError, ValueError, OverflowError) as e:
        # PyYAML raises ValueError for 2022-02-31: refused at the date's line.
        if isinstance(e, SourceError):
            raise
        raise SourceError(
            path, line_of("date"), f"front matter cannot be read ({_snippet(str(e), 200)}): check the values"
        ) from e
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SourceError(
            path, 2, "front matter must be 'key: value' lines: write e.g. 'title: ...' and 'date: 2022-01-07'"
        )
    return _normalize_meta(path, raw, line_of, tz), lines[end + 1 :], end + 2


def _refuse_aliases(path: str, front: str) -> None:
    """Refuse YAML anchors and aliases: front matter never needs them, and a few hundred
    bytes of nested aliases expand into gigabytes once anything walks or prints the value."""
    for token in yaml.scan(front, Loader=yaml.SafeLoader):
        if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
            raise SourceError(
                path,
                token.start_mark.line + 2,
                "front matter uses a YAML anchor or alias (& or *): write the value itself,"
                " or put it in quotes",
            )


def _normalize_meta(path: str, raw: dict, line_of: Callable[[str], int], tz: tzinfo) -> dict:
    meta = {}
    for key, value in raw.items():
        name = str(key)
        if name not in _META_NORMALIZERS:
            raise SourceError(
                path, line_of(name), f"unknown front matter key {name!r}: use only {', '.join(META_KEYS)}"
            )
        if value is None:  # "summary:" with nothing after it means no summary
            continue
        try:
            meta[name] = _META_NORMALIZERS[name](value, tz)
        except (ValueError, OverflowError) as e:
            # Includes DateError: refused at the key's line.
            raise SourceError(path, line_of(name), f"front matter {name}: {e}") from e
    return meta


def _plain(value, _tz=None) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("must be text: put it in quotes")
    text = " ".join(str(value).split())
    if not text:
        raise ValueError("is empty: give a value or remove the line")
    return text


def _slug(value, _tz=None) -> str:
    slug = _plain(value).lower()
    if re.search(r"[\s/?#]", slug):
        raise ValueError(f"{slug!r} cannot be part of an address: use letters, digits and hyphens")
    return slug


def _lang(value, _tz=None) -> str:
    return language_tag(_plain(value))


def _tags(value, _tz=None) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("must be a list or comma-separated text: write e.g. 'tags: [asia, protests]'")
    tags: list[str] = []
    for item in items:
        tag = " ".join(str(item).split()) if isinstance(item, (str, int, float)) else _plain(item)
        if tag and tag.casefold() not in (t.casefold() for t in tags):
            tags.append(tag)
    return tags


def _as_date(value, tz: tzinfo) -> date | datetime:
    """A date stays a date; a datetime becomes aware UTC (naive ones are in `tz`)."""
    if isinstance(value, datetime):
        try:
            return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
        except OverflowError as e:
            # Year 1 east of UTC (or 9999 west of it) falls outside the years a date can have.
            raise ValueError(
                f"{value.isoformat()} is outside the years 1 to 9999 in UTC: give a later (or earlier) time"
            ) from e
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return parse_date(value, tz)
    raise ValueError(f"{_snippet(repr(value))} is not a date: write e.g. 2022-01-07")


_META_NORMALIZERS = {
    "id": _plain,
    "slug": _slug,
    "title": _plain,
    "date": _as_date,
    "lang": _lang,
    "tags": _tags,
    "translation_of": _plain,
    "summary": _plain,
}


# --- chrome, title, date ---------------------------------------------------------


def _drop_chrome(
    lines: list[str], drop_lines: Sequence[str], text_of: Callable[[str], str]
) -> tuple[list[str], list[str]]:
    """Remove trailing lines equal to one of `drop_lines` (ignoring case and spacing)."""
    unwanted = {" ".join(line.split()).casefold() for line in drop_lines if line.strip()}
    lines, dropped = list(lines), []
    while lines:
        last = lines[-1].strip()
        if not last:
            lines.pop()
        elif " ".join(text_of(last).split()).casefold() in unwanted:
            dropped.insert(0, last)
            lines.pop()
        else:
            break
    return lines, dropped


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _published(doc: _Doc, parts: _Parts, default_date) -> date | datetime:
    if "date" in doc.meta:
        return doc.meta["date"]
    try:
        if parts.date_line:
            return parse_date(parts.date_line[1], doc.tz)
        if default_date is not None:
            return _as_date(default_date, doc.tz)
    except ValueError as e:
        # A DateError, or a default_date of the wrong type: refused at the date line.
        raise doc.error(parts.date_line and parts.date_line[0], str(e)) from e
    found = f'("{_snippet(parts.expected_text)}")' if parts.expected_text else "after the title"
    raise doc.error(
        parts.expected_date_at or 0,
        f"no date found {found}: add a date line under the title, "
        "a date: line in front matter, or pass --date",
    )


def _snippet(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --- plain text and Markdown ------------------------------------------------------

_ATX_H1 = re.compile(r" {0,3}#[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*")
_SETEXT_H1 = re.compile(r" {0,3}=+[ \t]*")
_EMPHASIS = re.compile(r"(?P<mark>[*_]{1,3})(?P<text>.+?)(?P=mark)")


def _next_text(lines: list[str], start: int) -> int | None:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), None)


def _title_line(lines: list[str], i: int, fmt: str) -> tuple[str | None, int]:
    """The title written at line i, and the index after it (a Setext heading is two lines)."""
    if fmt == "txt":
        return lines[i].strip(), i + 1
    if m := _ATX_H1.fullmatch(lines[i]):
        return _markdown_plain(m["text"]), i + 1
    if i + 1 < len(lines) and _SETEXT_H1.fullmatch(lines[i + 1]):
        return _markdown_plain(lines[i].strip()), i + 2
    return None, i


def _markdown_plain(inline: str) -> str:
    """The text of an inline Markdown span, without its markup."""
    children = MARKDOWN.parseInline(inline)[0].children or []
    return "".join(t.content for t in children if t.type in ("text", "code_inline")).strip()


def _read_lines(doc: _Doc, fmt: str) -> _Parts:
    """Plain text and Markdown: title line, optional date line, then the body."""
    lines, given = doc.lines, doc.meta.get("title")
    top = _next_text(lines, 0)
    title, after = _title_line(lines, top, fmt) if top is not None else (None, 0)
    if given and (title is None or not _same(title, given)):
        title, after = given, top or 0  # the top line is body, not a title
    title = given or title
    if not title:
        hint = "start the file with its title" if fmt == "txt" else "start the file with a '# Title' line"
        raise doc.error(top or 0, f"no title found: {hint} or add title: to front matter")
    consumed = after - 1 if top is not None and after > top else None  # last line of the title
    candidate = _next_text(lines, after)
    text, date_line, body_start = None, None, candidate
    if candidate is not None:
        text = lines[candidate].strip()
        if fmt == "markdown" and (m := _EMPHASIS.fullmatch(text)):
            text = m["text"]  # "*7 January 2022*" is still a date line
        if looks_like_date(text):
            date_line, consumed = (candidate, text), candidate
            body_start = _next_text(lines, candidate + 1)
    body = "\n".join(lines[body_start:]) if body_start is not None else ""
    return _Parts(
        title,
        date_line,
        candidate if candidate is not None else consumed,
        text,
        body,
        body_start if body_start is not None else consumed,
    )


# --- HTML ---------------------------------------------------------------------------

# Every pattern stops at the next "<", and an element is looked for as its first
# opening tag and then its closing tag (see _element): a lazy ".*?" between the two
# in one pattern is retried from every unclosed opening tag, which is quadratic
# (20,000 unclosed <h1> took 43 s).
_BODY = re.compile(r"<body\b[^<>]*>(.*?)(?:</body\s*>|\Z)", re.I | re.S)
_TITLE = (re.compile(r"<title\b[^<>]*>", re.I), re.compile(r"</title\s*>", re.I))
_H1 = (re.compile(r"<h1\b[^<>]*>", re.I), re.compile(r"</h1\s*>", re.I))
_PARAGRAPH = (re.compile(r"<p\b[^<>]*>", re.I), re.compile(r"</p\s*>", re.I))
_TIME = re.compile(r"<time\b[^<>]*?\bdatetime\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s<>]+))", re.I)
_TAG = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class _Element:
    """The first element of a kind: where it starts and ends, and its inner HTML."""

    start: int
    end: int
    inner: str
    text: str  # everything it spans, for _cut


def _element(kind: tuple[re.Pattern, re.Pattern], text: str) -> _Element | None:
    """The first opening tag of ``kind`` that is closed, found in linear time.

    When the first opening tag is never closed, no later one is either.
    """
    opening, closing = kind
    first = opening.search(text)
    if not first:
        return None
    close = closing.search(text, first.end())
    if not close:
        return None
    return _Element(
        first.start(), close.end(), text[first.end() : close.start()], text[first.start() : close.end()]
    )


# Deeper than any statement is written; past it, parsing and sanitizing grow with the
# square of the depth (20,000 nested <div> took 18 s to import).
MAX_HTML_DEPTH = 256
_ANY_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*?(/?)>")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# Elements a sibling of the same name closes without an end tag (an unclosed
# <p> or <li> is ordinary HTML, not nesting).
_CLOSED_BY_SIBLING = frozenset("p li dt dd option tr td th h1 h2 h3 h4 h5 h6".split())


def _refuse_deep_nesting(path: str, lines: list[str], first_line: int) -> None:
    """Refuse HTML nested deeper than MAX_HTML_DEPTH, in time linear in its size."""
    text = "\n".join(lines)
    stack: list[str] = []
    for tag in _ANY_TAG.finditer(text):
        name = tag[2].lower()
        if name in _VOID or tag[3]:
            continue
        if tag[1]:  # an end tag closes its element and whatever was left open inside it
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name) :]
            continue
        if name in _CLOSED_BY_SIBLING and stack and stack[-1] == name:
            stack.pop()
        stack.append(name)
        if len(stack) > MAX_HTML_DEPTH:
            line = first_line + text.count("\n", 0, tag.start())
            raise SourceError(
                path,
                line,
                f"the HTML is nested more than {MAX_HTML_DEPTH} elements deep:"
                " close the elements left open, or simplify the markup",
            )


def _html_text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def _html_body_lines(lines: list[str], first_line: int) -> tuple[list[str], int]:
    """The lines inside <body>, if there is a body element, and the file line they start at."""
    rest = "\n".join(lines)
    body = _BODY.search(rest)
    if not body:
        return lines, first_line
    return body[1].split("\n"), first_line + rest.count("\n", 0, body.start(1))


def _cut(fragment: str, m: _Element) -> str:
    """Remove an element but keep its newlines, so later line numbers stay right."""
    return fragment[: m.start] + "\n" * m.text.count("\n") + fragment[m.end :]


def _read_html(doc: _Doc) -> _Parts:
    """HTML: title from the first <h1> or <title>; date from <time> or a date-only first paragraph."""
    fragment = "\n".join(doc.lines)

    def line_at(offset: int) -> int:  # an index into doc.lines; _cut keeps newlines
        return fragment.count("\n", 0, offset)

    title, given, anchor = None, doc.meta.get("title"), None
    if h1 := _element(_H1, fragment):
        title, anchor = _html_text(h1.inner), line_at(h1.end)
        if not title or (given and not _same(title, given)):
            title, anchor = None, None
        else:
            fragment = _cut(fragment, h1)
    if not title and not given and (head := _element(_TITLE, doc.whole)):
        title = _html_text(head.inner)
    title = given or title
    if not title:
        raise doc.error(0, "no title found: add an <h1>, a <title> or title: to front matter")

    # Only a date near the top is the statement's own: up to the first paragraph's end.
    first_p = _element(_PARAGRAPH, fragment)
    first_text = _html_text(first_p.inner) if first_p else None
    date_line, expected_at = None, line_at(first_p.start) if first_p else anchor
    if stamp := _TIME.search(fragment[: first_p.end] if first_p else fragment):
        date_line = (line_at(stamp.start()), next(g for g in stamp.groups() if g is not None))
    if first_p and looks_like_date(first_text):
        date_line = date_line or (line_at(first_p.start), first_text)
        anchor = line_at(first_p.end)
        fragment = _cut(fragment, first_p)
    return _Parts(title, date_line, expected_at, first_text, fragment.strip(), anchor)
