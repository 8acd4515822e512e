"""A statement body as the editor writes it (Markdown, HTML or plain text) turned into HTML.

The importer's readers do the rendering, so a body typed in the editor and
the same body imported from a file give the same HTML. The result is NOT
sanitized: the store sanitizes every body it keeps.
"""

from __future__ import annotations

from . import sources

FORMATS = ("markdown", "html", "txt")


def render_body(text: str, source_format: str) -> str:
    """Unsanitized HTML of ``text`` in ``source_format`` (one of FORMATS)."""
    if source_format == "markdown":
        # sources has no public renderer yet; these are the importer's own.
        return sources._MARKDOWN.render(text)
    if source_format == "txt":
        return sources._render_txt(text)
    if source_format == "html":
        return text
    raise ValueError(f"unknown body format {source_format!r}: use one of {', '.join(FORMATS)}")
