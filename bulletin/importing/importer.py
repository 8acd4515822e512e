"""Importing statement files (.txt, .md, .html) through the write path.

Each file is one transaction: it is imported whole or not at all, and a
broken file never stops the others. A statement is recognised again by its
front-matter ``id`` or ``slug``, else by the source key recorded at its first
import (the rules live in :mod:`bulletin.authoring.changes`), so re-importing
adds a revision instead of a duplicate, and never silently undoes an
editor's correction.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bulletin.authoring import changes
from bulletin.importing.sources import SourceError, parse_source
from bulletin.statements import store

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
SKIPPED_NAMES = {"readme.md", "readme.txt", "license.md", "license.txt"}

log = logging.getLogger(__name__)


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
    at: dt.datetime  # now, by the app's clock
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
                if _importable(file) and not any(
                    part.startswith(".") for part in file.relative_to(path).parts
                ):
                    yield file, f"{path.resolve().name}/{file.relative_to(path).as_posix()}"
        else:
            yield path, f"{path.resolve().parent.name}/{path.name}"


def _importable(file: Path) -> bool:
    return file.is_file() and file.suffix.lower() in SUFFIXES and file.name.lower() not in SKIPPED_NAMES


def import_file(db: sqlite3.Connection, path: Path, source_key: str, options: ImportOptions) -> ImportResult:
    """Import one file through the write path, in its own transaction; raise SourceError or Refused on failure."""
    parsed = parse_source(
        str(path), path.read_bytes(), drop_lines=options.drop_lines, default_date=options.date, tz=options.tz
    )
    meta = parsed.meta
    draft = changes.Draft(
        title=meta.get("title") or parsed.title,
        body=parsed.source_text,
        source_format=parsed.format,
        html=parsed.body_html,
        summary=meta.get("summary") or "",
        lang=meta.get("lang") or options.lang or "",
        tags=meta.get("tags") or (),
        slug=meta.get("slug") or "",
        published=parsed.published,
        translation_of=meta.get("translation_of") or "",
    )
    ctx = changes.Context(changes.import_actor(source_key), options.at, options.tz, options.default_lang)
    outcome = changes.import_statement(
        db, draft, ctx, source_key=source_key, statement_id=meta.get("id"), force=options.force
    )
    slug = store.get_by_id(db, outcome.statement_id).slug
    return ImportResult(str(path), outcome.action, slug, parsed.dropped_lines)


def run_import(db: sqlite3.Connection, paths: Sequence[Path], options: ImportOptions):
    """Import every file under ``paths``; yield (key, ImportResult or the error) per file."""
    for file, key in source_files(paths):
        try:
            yield key, import_file(db, file, key, options)
        except (SourceError, changes.Refused, store.StoreError, OSError) as e:
            # One file's failure is reported and the others are still imported.
            log.warning("import of %s refused: %s", key, e)
            yield key, e
