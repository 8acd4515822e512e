"""Importing statement files (.txt, .md, .html) through the write path.

Each file is one transaction: it is imported whole or not at all, and a
broken file never stops the others: whatever goes wrong with one file (its
text, its size, the disk, the database) is reported for that file and the
run goes on. Symbolic links are never followed, neither to files nor to
folders: they are reported as skipped, so a link planted in a statements
folder cannot publish a file from elsewhere on the machine.

A statement is recognised again by its front-matter ``id`` or ``slug``, else
by its source key (see :func:`source_key`); a file may revise only a
statement that the same source created, unless forced (the rules live in
:mod:`bulletin.authoring.changes`). So re-importing adds a revision instead of
a duplicate, never overwrites another file's statement, and never silently
undoes an editor's correction.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bulletin.authoring import changes
from bulletin.importing.sources import SourceError, parse_source
from bulletin.statements import store

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
SKIPPED_NAMES = {"readme.md", "readme.txt", "license.md", "license.txt"}
# An empty file of this name marks the top of a statements tree: source keys are
# the paths below it, so the tree can move or be imported in parts.
MARKER = ".bulletin-source"
# Keys stored before keys were stable (the folder named on the command line and
# the path below it) carry this prefix since migration 0007.
LEGACY_PREFIX = "legacy:"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    """What happened to one file: created, revised or unchanged."""

    path: str
    action: str
    slug: str
    dropped_lines: list[str] = field(default_factory=list)


@dataclass
class Skipped:
    """A path that was not imported on purpose (a symbolic link); not a failure."""

    path: str
    reason: str

    def __str__(self) -> str:
        return self.reason


class ImportFailure(Exception):
    """A file that failed for a reason outside its text: memory, the disk, the database."""


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
    max_bytes: int = DEFAULT_MAX_BYTES


def source_key(file: Path) -> str:
    """The key that recognises a file's statement at its next import.

    With a ``.bulletin-source`` file in the file's folder or a folder above it,
    the key is the nearest such folder's name and the path below it
    (``statements/2022/x.md``); without one it is the file's absolute path.
    Either way it does not depend on which folder was named on the command
    line. Folders above the file are resolved, so ``./statements`` and
    ``/srv/statements`` give one key.
    """
    real = Path(os.path.realpath(file.parent)) / file.name
    for folder in real.parents:
        if (folder / MARKER).is_file() and not (folder / MARKER).is_symlink():
            return f"{folder.name}/{real.relative_to(folder).as_posix()}"
    return real.as_posix()


def earlier_keys(file: Path) -> list[str]:
    """The keys an earlier release may have stored for this file, longest first.

    They were the named folder's name and the path below it, so any tail of
    the path of at least two parts; migration 0007 marked them as legacy.
    """
    parts = (Path(os.path.realpath(file.parent)) / file.name).parts[1:]
    return [LEGACY_PREFIX + "/".join(parts[i:]) for i in range(len(parts) - 1)]


def source_files(paths: Sequence[Path]) -> Iterator[tuple[Path, str, str | None]]:
    """(path, label, reason to skip or None) for every importable file under ``paths``, sorted.

    The label names the file for the person importing: the named folder's
    name and the path below it. Symbolic links are listed with a reason to
    skip them and never followed; hidden files and folders are left out.
    """
    for path in paths:
        label_root = path.absolute().name
        if path.is_symlink():
            yield path, path.name, "a symbolic link: skipped, links are never followed"
        elif path.is_dir():
            for file in _walk(path):
                label = f"{label_root}/{file.relative_to(path).as_posix()}"
                if file.is_symlink() and (_importable(file) or file.is_dir()):
                    yield file, label, "a symbolic link: skipped, links are never followed"
                elif not file.is_symlink() and _importable(file):
                    yield file, label, None
        else:
            yield path, f"{Path(os.path.realpath(path.parent)).name}/{path.name}", None


def _walk(root: Path) -> list[Path]:
    """Files and links under ``root`` without entering linked folders; hidden ones left out."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        # os.walk lists a link to a folder among the folders; it is reported, never entered.
        found += [here / d for d in dirs if (here / d).is_symlink()]
        found += [here / f for f in files if not f.startswith(".")]
    return sorted(found)


def _importable(file: Path) -> bool:
    return file.suffix.lower() in SUFFIXES and file.name.lower() not in SKIPPED_NAMES


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refused before reading when over ``max_bytes``; a link is never opened."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if path.is_symlink():
            # Replaced by a link since the folder was listed.
            raise SourceError(str(path), None, "a symbolic link: links are never followed") from e
        raise
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(str(path), None, "not a regular file: import only statement files")
        too_big = SourceError(
            str(path),
            None,
            f"the file has more than {max_bytes} bytes (BULLETIN_IMPORT_MAX_BYTES): "
            "split the statement or raise the limit",
        )
        if info.st_size > max_bytes:
            raise too_big
        data = f.read(max_bytes + 1)  # the file may grow after fstat
        if len(data) > max_bytes:
            raise too_big
        return data


def import_file(db: sqlite3.Connection, path: Path, source_key_: str, options: ImportOptions) -> ImportResult:
    """Import one file through the write path, in its own transaction; raise SourceError or Refused on failure."""
    parsed = parse_source(
        str(path),
        read_limited(path, options.max_bytes),
        drop_lines=options.drop_lines,
        default_date=options.date,
        tz=options.tz,
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
    ctx = changes.Context(changes.import_actor(source_key_), options.at, options.tz, options.default_lang)
    outcome = changes.import_statement(
        db,
        draft,
        ctx,
        source_key=source_key_,
        statement_id=meta.get("id"),
        force=options.force,
        earlier_keys=earlier_keys(path),
    )
    slug = store.get_by_id(db, outcome.statement_id).slug
    return ImportResult(str(path), outcome.action, slug, parsed.dropped_lines)


def run_import(db: sqlite3.Connection, paths: Sequence[Path], options: ImportOptions):
    """Import every file under ``paths``; yield (label, ImportResult, Skipped or the error) per file."""
    for file, label, skip in source_files(paths):
        if skip:
            yield label, Skipped(str(file), skip)
            continue
        try:
            yield label, import_file(db, file, source_key(file), options)
        except (SourceError, changes.Refused, store.StoreError) as e:
            # One file's failure is reported and the others are still imported.
            log.warning("import of %s refused: %s", label, e)
            yield label, e
        except Exception as e:  # noqa: BLE001 - any failure is this file's; the run goes on
            # Memory, an overflow, a full disk or a database that cannot be written: the
            # file's transaction was rolled back; the next file may still succeed.
            log.exception("import of %s failed", label)
            yield label, ImportFailure(_failure(e))


def _failure(error: Exception) -> str:
    if isinstance(error, MemoryError):
        return "ran out of memory while importing it: nothing of it was stored"
    if isinstance(error, RecursionError):
        return "its markup is nested too deeply: nothing of it was stored"
    detail = str(error) or type(error).__name__
    if isinstance(error, OSError):
        return f"could not be read or stored ({detail}): nothing of it was stored"
    if isinstance(error, sqlite3.Error):
        return f"the database refused it ({detail}): nothing of it was stored"
    return f"could not be imported ({type(error).__name__}: {detail}): nothing of it was stored"
