"""Writing build outputs safely while a server may be reading them, and their compressed forms."""

from __future__ import annotations

import gzip
import logging
import os
import tempfile
from pathlib import Path

import brotli
import zopfli.gzip

log = logging.getLogger(__name__)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds exactly that.

    A reader (WhiteNoise indexes file sizes at start-up) never sees a
    half-written file, and an unchanged file keeps its modification time.
    """
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    return True


MIN_COMPRESS_BYTES = 256  # below this, the encoding header costs more than it saves
# The best levels cost ten to fifty times the cheap ones: worth it only for
# bytes that are kept and served many times (build outputs, kept pages).
_COMPRESSORS = (
    ("br", lambda body: brotli.compress(body, quality=11)),
    ("gzip", lambda body: gzip.compress(body, compresslevel=9, mtime=0)),
)
# Zopfli writes gzip that any client reads, 3 % smaller than level 9 and a
# hundred times slower: for bytes made once per deploy (build outputs, the
# worker's script), where every first visit of a reader without Brotli pays
# for them.
_THOROUGH = (
    ("br", lambda body: brotli.compress(body, quality=11)),
    ("gzip", lambda body: zopfli.gzip.compress(body, numiterations=15)),
)
_CHEAP = (
    ("br", lambda body: brotli.compress(body, quality=5)),
    ("gzip", lambda body: gzip.compress(body, compresslevel=6, mtime=0)),
)


def compressed(body: bytes, *, best: bool = True, thorough: bool = False) -> dict:
    """``identity`` plus Brotli and gzip forms of ``body`` when they are smaller.

    ``best``: Brotli 11 and gzip 9, for bodies served many times; otherwise
    Brotli 5 and gzip 6, for a body rendered for one request. ``thorough``:
    Brotli 11 and Zopfli's gzip, for bodies made once per deploy.
    """
    bodies = {"identity": body}
    if len(body) < MIN_COMPRESS_BYTES:
        return bodies
    for name, compress in _THOROUGH if thorough else _COMPRESSORS if best else _CHEAP:
        try:
            data = compress(body)
        except Exception:
            # Compression only saves bytes: the body is still served in its other forms.
            log.exception("%s compression of a %d-byte body failed", name, len(body))
            continue
        if len(data) < len(body):
            bodies[name] = data
    return bodies
