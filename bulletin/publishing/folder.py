"""One build of the published folder: files written whole, with their compressed siblings.

A URL path maps to a file as any static server looks it up: ``/a/b/`` (and
``/a/b``, an address without an extension) is ``a/b/index.html``; ``/a/b.ext``
is ``a/b.ext``. Every file gets ``.br`` and ``.gz`` siblings, written before
the file itself is renamed into place, so a server that finds the file finds
its compressed forms too; a removed file takes its siblings with it.

Each write is a temporary file in the same folder, flushed to the disk, then
renamed over the old one: a reader (nginx, a mirror's copy) sees the old file
or the new one, never half of one, and a crash leaves no partial file under
a served name.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import brotli

SIBLINGS = {"br": ".br", "gzip": ".gz"}
TEMPORARY_PREFIX = ".tmp-"


class UnsafePath(ValueError):
    """A URL path that does not name a file inside the folder (``..``, an empty or hidden segment)."""


def file_for(url_path: str) -> str:
    """The file (relative to the folder) that holds the answer at ``url_path`` (without the mount prefix).

    Percent-escapes are decoded, as nginx decodes ``$uri`` before looking a
    file up. UnsafePath for anything that would leave the folder or hide a file.
    """
    path = unquote(url_path.split("?", 1)[0])
    segments = path.strip("/").split("/") if path.strip("/") else []
    for segment in segments:
        if segment in ("", ".", "..") or segment.startswith(".") or "\x00" in segment:
            raise UnsafePath(url_path)
    if not segments:
        return "index.html"
    if path.endswith("/") or "." not in segments[-1]:
        return "/".join([*segments, "index.html"])
    return "/".join(segments)


# Brotli's best level costs ten times level 9 for a few percent: spent on the files most
# readers fetch (pages, up to this size); the feeds and sitemap parts above it get level 9
# (a part of 1,000 addresses took 120 ms at level 11, 10 ms at 9), and the largest files
# (a sync chunk of a hundred articles, rewritten when one of them changes) level 5, four
# times faster than 9 on a chunk for about 1 % more bytes.
BEST_BROTLI_BYTES = 64 * 1024
LARGE_BYTES = 256 * 1024


def brotli_quality(size: int) -> int:
    """The Brotli level a file of ``size`` bytes is compressed at when written."""
    if size <= BEST_BROTLI_BYTES:
        return 11
    return 9 if size <= LARGE_BYTES else 5


def compressed_forms(body: bytes) -> dict[str, bytes]:
    """The Brotli and gzip forms of ``body``, made once when the file is written."""
    quality = brotli_quality(len(body))
    return {
        "br": brotli.compress(body, quality=quality),
        "gzip": gzip.compress(body, compresslevel=9, mtime=0),
    }


class Folder:
    """A folder of published files: :meth:`write` and :meth:`remove`, each keeping a file's siblings."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.written = 0  # files written (siblings not counted) since this object was made
        self.bytes_written = 0  # bytes of those files and their siblings

    def path_of(self, name: str) -> Path:
        return self.root / name

    def holds(self, name: str, body: bytes) -> bool:
        """Whether ``name`` already holds exactly ``body`` (then nothing needs writing)."""
        path = self.path_of(name)
        try:
            return path.stat().st_size == len(body) and path.read_bytes() == body
        except (FileNotFoundError, NotADirectoryError):
            return False

    def write(self, name: str, body: bytes) -> bool:
        """Put ``body`` at ``name``, its Brotli and gzip forms beside it first; False when the file
        already held exactly ``body`` (nothing is compressed or written)."""
        if self.holds(name, body):
            return False
        forms = compressed_forms(body)
        path = self.path_of(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        for encoding, suffix in SIBLINGS.items():
            self._write_atomically(path.with_name(path.name + suffix), forms[encoding])
        self._write_atomically(path, body)
        self.written += 1
        self.bytes_written += len(body) + sum(len(forms[encoding]) for encoding in SIBLINGS)
        return True

    def remove(self, name: str) -> bool:
        """Remove ``name`` and then its siblings (the file first: a server stops finding it at once);
        empty folders left behind go too. False when there was nothing to remove."""
        path = self.path_of(name)
        found = False
        for each in (path, *(path.with_name(path.name + suffix) for suffix in SIBLINGS.values())):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                each.unlink()
                found = True
        parent = path.parent
        while parent != self.root and parent.is_relative_to(self.root):
            try:
                parent.rmdir()
            except OSError:
                break  # not empty (or gone): the folders above are not empty either
            parent = parent.parent
        return found

    def names(self, under: str = "") -> Iterator[str]:
        """The served files (no siblings, no temporary files) under ``under``, relative to the folder."""
        start = self.root / under if under else self.root
        if not start.is_dir():
            return
        for path in start.rglob("*"):
            if path.is_dir() or path.name.startswith(TEMPORARY_PREFIX):
                continue
            if any(path.name.endswith(suffix) for suffix in SIBLINGS.values()):
                continue
            yield path.relative_to(self.root).as_posix()

    def remove_temporaries(self) -> int:
        """Remove temporary files a publisher killed mid-write left behind (a whole pass, under the lock)."""
        found = 0
        for path in self.root.rglob(TEMPORARY_PREFIX + "*"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                found += 1
        return found

    def _write_atomically(self, path: Path, data: bytes) -> None:
        write_atomically(path, data)


def write_atomically(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Put ``data`` at ``path`` whole: a temporary file beside it, then a rename over the old file.

    ``durable``: flushed to the disk before the rename (a live folder, which
    a crash must not leave with an empty file under a served name).
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
