"""Importing statement files (.txt, .md, .html) into the store.

Each file is one transaction: it is imported whole or not at all, and a
broken file never stops the others. A statement is recognised again by its
front-matter ``id`` or ``slug``, else by the source key recorded at its first
import, so re-importing adds a revision instead of a duplicate, and never
silently undoes an editor's correction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from bulletin.statements import store
from bulletin.statements.db import transaction
from bulletin.statements.languages import detect_language
from bulletin.statements.records import Statement
from bulletin.statements.sanitize import clean, text_of
from bulletin.importing.sources import SourceError, parse_source

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
SKIPPED_NAMES = {"readme.md", "readme.txt", "license.md", "license.txt"}
IMPORT_AUTHOR_PREFIX = "import: "


class ImportRefused(ValueError):
    """The file was read but importing it would lose or break something."""


@dataclass
class ImportResult:
    """What happened to one file: created, revised or unchanged."""

    path: str
    action: str
    slug: str
    dropped_lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportOptions:
    """Choices that apply to every file of one import."""

    default_lang: str
    tz: dt.tzinfo
    lang: str | None = None
    date: dt.date | None = None
    drop_lines: Sequence[str] = ()
    force: bool = False


def source_files(paths: Sequence[Path]) -> Iterator[tuple[Path, str]]:
    """(file, source key) for every importable file under the given paths, sorted.

    The source key is the file's path from its import root's own name on
    (``samples/01-x.md``), so importing a folder or one file of it gives the
    same key wherever the folder lives.
    """
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if _importable(file) and not any(part.startswith(".") for part in file.relative_to(path).parts):
                    yield file, f"{path.resolve().name}/{file.relative_to(path).as_posix()}"
        else:
            yield path, f"{path.resolve().parent.name}/{path.name}"


def _importable(file: Path) -> bool:
    return file.is_file() and file.suffix.lower() in SUFFIXES and file.name.lower() not in SKIPPED_NAMES


def _find_existing(db: sqlite3.Connection, meta: dict, source_key: str) -> Statement | None:
    if meta.get("id"):
        return store.get_by_id(db, meta["id"])
    if meta.get("slug"):
        slug = meta["slug"]
        return store.get_by_slug(db, slug) or store.get_by_slug(db, store.current_slug_for(db, slug) or "")
    return store.get_by_source_key(db, source_key)


def _checked_id(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as e:
        raise ImportRefused(f"id {value!r} is not a UUID: remove it to let Bulletin choose one") from e


def import_file(db: sqlite3.Connection, path: Path, source_key: str, options: ImportOptions) -> ImportResult:
    """Import one file in its own transaction; raise SourceError or ImportRefused on failure."""
    parsed = parse_source(
        str(path), path.read_bytes(), drop_lines=options.drop_lines, default_date=options.date, tz=options.tz
    )
    meta = parsed.meta
    title = meta.get("title") or parsed.title
    body_html = clean(parsed.body_html)
    lang = meta.get("lang") or options.lang or detect_language(f"{title}\n{text_of(body_html)}") or options.default_lang
    author = IMPORT_AUTHOR_PREFIX + source_key
    revision = dict(
        title=title,
        summary=meta.get("summary") or "",
        source_text=parsed.source_text,
        source_format=parsed.format,
        body_html=body_html,
        author=author,
    )
    with transaction(db):
        existing = _find_existing(db, meta, source_key)
        if existing is None:
            statement_id = store.create_statement(
                db,
                title=title,
                lang=lang,
                published=parsed.published,
                tags=meta.get("tags") or (),
                slug=meta.get("slug"),
                statement_id=_checked_id(meta.get("id")),
                translation_of=meta.get("translation_of"),
                source_key=source_key,
            )
            store.add_revision(db, statement_id, **revision)
            store.publish(db, statement_id)
            return ImportResult(str(path), "created", store.get_by_id(db, statement_id).slug, parsed.dropped_lines)
        action = _revise(db, existing, revision, meta, parsed.published, options.force)
        return ImportResult(str(path), action, existing.slug, parsed.dropped_lines)


def _revise(db, existing: Statement, revision: dict, meta: dict, published, force: bool) -> str:
    """Add a revision to an already imported statement when the file changed."""
    if existing.is_withdrawn and not force:
        raise ImportRefused(f"statement {existing.slug} was withdrawn: pass --force to import it again")
    last_author = store.revisions_of(db, existing.id)[-1]["author"]
    if not last_author.startswith(IMPORT_AUTHOR_PREFIX) and not force:
        raise ImportRefused(
            f"statement {existing.slug} was changed by {last_author} since it was imported:"
            " pass --force to replace that change with this file"
        )
    tags = tuple(sorted(store.normalized_tags(meta.get("tags") or existing.tags)))
    unchanged = (
        (existing.title, existing.summary, existing.body_html, existing.tags, existing.published)
        == (revision["title"], revision["summary"], revision["body_html"], tags, published or existing.published)
    )
    if unchanged:
        return "unchanged"
    store.set_tags(db, existing.id, tags)
    if published:
        store.set_published(db, existing.id, published)
    store.add_revision(db, existing.id, **revision)
    return "revised"


def run_import(db: sqlite3.Connection, paths: Sequence[Path], options: ImportOptions):
    """Import every file under ``paths``; yield (key, ImportResult or the error) per file."""
    for file, key in source_files(paths):
        try:
            yield key, import_file(db, file, key, options)
        except (SourceError, ImportRefused, store.StoreError, OSError) as e:
            yield key, e
