"""A statement body (Markdown, HTML or plain text) turned into HTML, one way for every writer.

The importer's readers and the editor both render bodies here, so a body
typed in the editor and the same body imported from a file give the same
HTML. The result is NOT sanitized: the write path sanitizes every body once.
"""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

FORMATS = ("markdown", "html", "txt")

# Raw HTML stays allowed in Markdown: the caller sanitizes every body anyway.
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def render_txt(text: str) -> str:
    """Blank lines separate paragraphs; a single newline is a line break."""
    paragraphs = re.split(r"\n(?:[ \t]*\n)+", text.strip())
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line.strip(), quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def render_body(text: str, source_format: str) -> str:
    """Unsanitized HTML of ``text`` in ``source_format`` (one of FORMATS)."""
    if source_format == "markdown":
        return MARKDOWN.render(text)
    if source_format == "txt":
        return render_txt(text)
    if source_format == "html":
        return text
    raise ValueError(f"unknown body format {source_format!r}: use one of {', '.join(FORMATS)}")
