"""The text of the editor's diffs as a sighted reader sees it and as a screen reader speaks it."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"br", "img", "input", "meta", "link", "hr"}


class _DiffText(HTMLParser):
    """Collects the text inside <ol class="diff"> lists, leaving out one kind of hidden span."""

    def __init__(self, skip: tuple[str, str]):
        super().__init__(convert_charrefs=True)
        self.skip = skip  # (attribute, value) of elements whose text is left out
        self.stack: list[bool] = []  # per open element: does it hide its text?
        self.depth_in_diff = 0
        self.lines: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        attrs = dict(attrs)
        if tag == "ol" and "diff" in (attrs.get("class") or "").split():
            self.depth_in_diff += 1
        name, value = self.skip
        self.stack.append(value in (attrs.get(name) or "").split())
        if self.depth_in_diff and tag == "li":
            self.lines.append("")

    def handle_endtag(self, tag):
        if tag in VOID or not self.stack:
            return
        self.stack.pop()
        if tag == "ol" and self.depth_in_diff:
            self.depth_in_diff -= 1

    def handle_data(self, data):
        if self.depth_in_diff and self.lines and not any(self.stack):
            self.lines[-1] += data


def seen(html: str) -> list[str]:
    """Each diff line as shown on screen (screen-reader-only words left out)."""
    parser = _DiffText(("class", "visually-hidden"))
    parser.feed(html)
    return [line.strip() for line in parser.lines]


def spoken(html: str) -> list[str]:
    """Each diff line as a screen reader reads it (aria-hidden marks left out)."""
    parser = _DiffText(("aria-hidden", "true"))
    parser.feed(html)
    return [line.strip() for line in parser.lines]
