"""Responses rendered once and kept compressed, keyed by their ETag.

A public page's ETag is computed from everything the page shows (see
:func:`bulletin.http.cached_response`), so the ETag is also the key of its
rendered bytes: the first request renders and compresses (Brotli 11 and
gzip 9 for kept pages, Brotli 5 and gzip 6 for one-off answers such as a
search), later ones only pick the encoding the client accepts. Compression happens
lazily, on first request, so a bulk import never waits for it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Request

ENCODINGS = ("br", "gzip")


@dataclass(frozen=True)
class Rendered:
    """One rendered response: status, headers that belong to it, and its bodies by encoding."""

    status: int
    headers: tuple[tuple[str, str], ...]
    bodies: dict  # "identity", and "br"/"gzip" when worth it

    @property
    def size(self) -> int:
        return sum(len(body) for body in self.bodies.values())


def negotiate(request: Request, available) -> str:
    """The best encoding the client accepts among ``available``; ``identity`` otherwise."""
    accepted = request.accept_encodings
    for name in ENCODINGS:
        if name in available and accepted[name] > 0:
            return name
    return "identity"


class RenderedCache:
    """A thread-safe LRU of rendered responses, bounded by their total bytes and their number.

    The count matters as much as the bytes: many small answers (a 404's
    worth of JSON each) would otherwise fill memory with entries and their
    keys long before the byte budget noticed.
    """

    def __init__(self, max_bytes: int, max_entries: int = 4096):
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Rendered] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._making: dict[str, list] = {}  # key -> [lock, threads waiting on it]

    def get(self, key: str) -> Rendered | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Rendered) -> None:
        if entry.size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                _key, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    def get_or_make(self, key: str, make) -> Rendered:
        """The entry for ``key``, made by ``make()`` and kept when missing.

        Threads that miss the same key at once wait for the first one's
        ``make()`` instead of each rendering and compressing the same page:
        after a commit, the sitemap asked for by four clients would
        otherwise be made four times over, with Brotli 11, while readers
        wait for a core.
        """
        entry = self.get(key)
        if entry is not None:
            return entry
        with self._lock:
            making = self._making.setdefault(key, [threading.Lock(), 0])
            making[1] += 1
        try:
            with making[0]:
                entry = self.get(key)
                if entry is None:
                    entry = make()
                    self.put(key, entry)
                return entry
        finally:
            with self._lock:
                making[1] -= 1
                if not making[1]:
                    del self._making[key]

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


class RenderedCaches:
    """Kept pages and one-off answers, each in a budget of its own.

    One-off answers (a search's words, a device's own cursor) can be asked
    for in endless variety; in a budget shared with the kept pages, a flood
    of them would push out every page readers actually read, and each
    process would hold the largest budget the two could fill. Apart, the
    flood recycles its own small share.
    """

    def __init__(self, kept: RenderedCache, one_off: RenderedCache):
        self.kept = kept
        self.one_off = one_off

    def cache_for(self, *, one_off: bool) -> RenderedCache:
        """The budget an answer of this kind lives in."""
        return self.one_off if one_off else self.kept

    def __len__(self) -> int:
        return len(self.kept) + len(self.one_off)

    def clear(self) -> None:
        self.kept.clear()
        self.one_off.clear()
