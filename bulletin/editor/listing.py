"""The editor's statement list: filters read from the query string, the search, the order.

The list is sorted by publication date unless asked otherwise, and can be
narrowed to one status, language or tag and searched. Unlike the readers'
search (published statements only, through the full-text index) it covers
drafts and withdrawn statements too, so it matches words in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bulletin.http import arguments
from bulletin.i18n import gettext
from bulletin.statements import languages, sanitize, store
from bulletin.statements.records import Statement

STATUSES = ("draft", "published", "withdrawn")
ORDERS = tuple(store.EDITOR_ORDERS)  # published (the default), revised, title
MAX_TAG = 100


@dataclass(frozen=True)
class Filters:
    """What the editor asked to see; empty strings mean "any"."""

    status: str = ""
    lang: str = ""
    tag: str = ""
    q: str = ""
    sort: str = "published"

    @property
    def narrowed(self) -> bool:
        """Whether anything is left out of the list."""
        return bool(self.status or self.lang or self.tag or self.q.strip())


def read_filters(args: Mapping[str, str]) -> Filters:
    """The list's filters from ``?status=&lang=&tag=&q=&sort=``; a 400 naming a malformed one."""
    lang = arguments.text(args, "lang", max_length=35).strip()
    if lang:
        try:
            lang = languages.language_tag(lang)
        except ValueError:
            raise arguments.BadArgument(
                gettext("lang must be a language code, such as en, ru or ar-EG.")
            ) from None
    tag = arguments.text(args, "tag", max_length=MAX_TAG).strip()
    if tag:
        normalized = store.normalized_tags([tag])
        if not normalized:
            raise arguments.BadArgument(gettext("tag must contain letters or digits."))
        tag = normalized.pop()
    return Filters(
        status=arguments.choice(args, "status", STATUSES),
        lang=lang,
        tag=tag,
        q=arguments.text(args, "q"),
        sort=arguments.choice(args, "sort", ORDERS, default="published"),
    )


def _matches(statement: Statement, words: list[str]) -> bool:
    """Whether every word is in the statement's title, summary, address, tags or text (any case)."""
    text = " ".join(
        (
            statement.title,
            statement.summary or "",
            statement.slug,
            " ".join(statement.tags),
            sanitize.plain_text(statement.body_html),
        )
    ).casefold()
    return all(word in text for word in words)


def statements(db, filters: Filters) -> dict[str, list[Statement]]:
    """Status -> the statements the filters let through, in the asked order (every status listed)."""
    found = store.list_for_editor(
        db,
        status=filters.status or None,
        lang=filters.lang or None,
        tag=filters.tag or None,
        order=filters.sort,
    )
    words = filters.q.casefold().split()
    if words:
        found = [s for s in found if _matches(s, words)]
    return {status: [s for s in found if s.status == status] for status in STATUSES}
