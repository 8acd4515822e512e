"""What a device believes: the rules every verifier of Bulletin's signed documents follows.

The worker applies the same rules in the browser; this one serves the tests
and the commands that check a site, an export or a bundle.

- The root is *pinned*: given when the verifier is made, replaced only by a
  ``root`` record signed by the root pinned at that moment.
- An online key counts only with a certificate signed by the pinned root,
  while it is unrevoked and expires after the *trusted time*: the newest
  ``signed_at`` the device verified, never its own clock.
- Revocations signed by the pinned root are accepted from any source and
  never forgotten.
- Signed indexes and records only move forward: an index older (by
  ``epoch``, ``seq``, ``signed_at``) than the newest one verified, or a
  statement's record older (by ``epoch``, ``seq``) than the one stored, is a
  rollback — never one refused merely for its age. A mirror list replaces
  the held one only with a higher ``seq``.

Every refusal is a :class:`~bulletin.signing.reasons.Rejected` with a reason
code, and counted in :attr:`Verifier.refused`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bulletin.signing import certificates, envelopes, keys, revocations, rotation, times
from bulletin.signing.reasons import (
    EXPIRED_KEY,
    HASH_MISMATCH,
    MALFORMED,
    REVOKED_KEY,
    ROLLBACK,
    UNKNOWN_KEY,
    Rejected,
)

T = TypeVar("T")

RECORD_TYPES = ("statement", "withdrawal")
INDEX_TYPE = "sync-index"
MIRRORS_TYPE = "mirrors"


@dataclass(frozen=True)
class Certified:
    """An online key the pinned root certified."""

    kid: str
    public_key: bytes
    expires: dt.datetime


class Verifier:
    """One device's trust: its pinned root, the keys it accepted, what it revoked, how far it got."""

    def __init__(self, pinned_root: bytes):
        keys.public_from_raw(pinned_root)  # 32 bytes of a real key, or ValueError now rather than later
        self.root = pinned_root
        self.keys: dict[str, Certified] = {}
        self.revoked: set[str] = set()
        self.trusted_time: dt.datetime | None = None
        self.newest_index: tuple[int, int, str] | None = None
        self.records: dict[str, tuple[int, int]] = {}  # statement id -> (epoch, seq) stored
        self.mirrors: tuple[int, str] | None = None  # the mirror list held: its seq and payload
        self.refused: Counter[str] = Counter()

    @property
    def root_kid(self) -> str:
        return keys.key_id(self.root)

    # -------------------------------------------------------------- what the root signs

    def follow_root(self, envelope: object) -> str:
        """Pin the new root a ``root`` record signed by the pinned root names; its key id."""
        document = self._counted(lambda: self._by_root(envelope, rotation.TYPE))
        raw = self._counted(lambda: _public_key_of(document))
        self.root = raw
        return document["kid"]

    def add_certificate(self, envelope: object) -> str:
        """Accept an online key's certificate signed by the pinned root; the key's id."""
        document = self._counted(lambda: self._by_root(envelope, certificates.TYPE))

        def read() -> Certified:
            raw = _public_key_of(document)
            return Certified(document["kid"], raw, _instant(document, "expires"))

        certified = self._counted(read)
        self.keys[certified.kid] = certified
        return certified.kid

    def add_revocation(self, envelope: object) -> str:
        """Remember for good that the pinned root revoked a key, whatever brought the revocation; its id."""
        document = self._counted(lambda: self._by_root(envelope, revocations.TYPE))
        kid = document.get("kid")
        if not isinstance(kid, str):
            self._refuse(Rejected(MALFORMED, "a revocation names a key id"))
        self.revoked.add(kid)
        return kid

    def _by_root(self, envelope: object, kind: str) -> dict:
        opened = envelopes.open_envelope(envelope, (kind,))
        if opened.kid != self.root_kid:
            raise Rejected(UNKNOWN_KEY, f"a {kind} must be signed by the pinned root, not {opened.kid}")
        return envelopes.check_signature(opened, keys.public_from_raw(self.root))

    # -------------------------------------------------------------- what online keys sign

    def verify(self, envelope: object, types: tuple[str, ...]) -> dict:
        """The document of an envelope signed by an accepted, unrevoked, unexpired key; Rejected otherwise."""
        return self._counted(lambda: self._verified(envelope, types))

    def _verified(self, envelope: object, types: tuple[str, ...]) -> dict:
        opened = envelopes.open_envelope(envelope, types)
        if opened.kid in self.revoked:
            raise Rejected(REVOKED_KEY, f"key {opened.kid} was revoked")
        certified = self.keys.get(opened.kid)
        if certified is None:
            raise Rejected(UNKNOWN_KEY, f"no certificate from the pinned root names key {opened.kid}")
        if self.trusted_time is not None and certified.expires <= self.trusted_time:
            raise Rejected(EXPIRED_KEY, f"key {opened.kid} expired at {times.instant(certified.expires)}")
        return envelopes.check_signature(opened, keys.public_from_raw(certified.public_key))

    def accept_index(self, envelope: object) -> dict:
        """A signed sync index no older than the newest verified; moves the trusted time forward."""
        document = self.verify(envelope, (INDEX_TYPE,))

        def position() -> tuple[int, int, str]:
            signed_at = _instant(document, "signed_at")
            return (_whole(document, "epoch"), _whole(document, "seq"), times.instant(signed_at))

        at = self._counted(position)
        if self.newest_index is not None and at < self.newest_index:
            self._refuse(Rejected(ROLLBACK, "an index older than the newest one verified"))
        self.newest_index = at
        self.observe(times.parse(at[2]))
        return document

    def accept_record(self, envelope: object) -> dict:
        """A statement's or withdrawal's record no older than the one stored for it."""
        document = self.verify(envelope, RECORD_TYPES)

        def position() -> tuple[str, tuple[int, int]]:
            if not isinstance(document.get("id"), str):
                raise Rejected(MALFORMED, "a record names its statement's id")
            return document["id"], (_whole(document, "epoch"), _whole(document, "seq"))

        statement_id, at = self._counted(position)
        stored = self.records.get(statement_id)
        if stored is not None and at < stored:
            self._refuse(Rejected(ROLLBACK, f"an older record of statement {statement_id}"))
        self.records[statement_id] = at
        return document

    def accept_mirrors(self, envelope: object) -> dict:
        """A signed mirror list whose ``seq`` is above the held one's; Rejected (rollback) for an older
        list or another list under the held ``seq``. The held list itself, received again, is no news
        and no refusal: it is returned as held."""
        document = self.verify(envelope, (MIRRORS_TYPE,))
        payload = envelope["payload"]  # verified: an envelope's payload text

        def read() -> tuple[int, dt.datetime]:
            listed = document.get("mirrors")
            if not isinstance(listed, list) or not all(isinstance(url, str) for url in listed):
                raise Rejected(MALFORMED, "a mirror list lists base URLs")
            return _whole(document, "seq"), _instant(document, "signed_at")

        seq, signed_at = self._counted(read)
        if self.mirrors is not None and (seq, payload) != self.mirrors and seq <= self.mirrors[0]:
            self._refuse(Rejected(ROLLBACK, f"a mirror list of seq {seq}, not above the held one's"))
        self.mirrors = (seq, payload)
        self.observe(signed_at)
        return document

    def observe(self, signed_at: dt.datetime) -> None:
        """Move the trusted time to ``signed_at`` of a verified document, never back."""
        if self.trusted_time is None or signed_at > self.trusted_time:
            self.trusted_time = signed_at

    def check_file(self, data: bytes, sha256: str) -> bytes:
        """``data`` when its SHA-256 is the hex digest an index named; Rejected (hash-mismatch) otherwise."""
        if hashlib.sha256(data).hexdigest() != sha256:
            self._refuse(Rejected(HASH_MISMATCH, "the file's bytes are not the ones its index names"))
        return data

    # -------------------------------------------------------------- counting refusals

    def _counted(self, check: Callable[[], T]) -> T:
        try:
            return check()
        except Rejected as rejected:
            self._refuse(rejected)
            raise  # unreachable: _refuse raises

    def _refuse(self, rejected: Rejected):
        self.refused[rejected.reason] += 1
        raise rejected


def _public_key_of(document: dict) -> bytes:
    """The raw public key a document names, checked against its key id."""
    try:
        raw = keys.b64url_decode(document.get("public_key"))
        keys.public_from_raw(raw)
    except ValueError as e:
        raise Rejected(MALFORMED, f"not a public key: {e}") from e
    if document.get("kid") != keys.key_id(raw):
        raise Rejected(MALFORMED, "the key id is not the public key's")
    return raw


def _instant(document: dict, name: str) -> dt.datetime:
    try:
        return times.parse(document.get(name))
    except ValueError as e:
        raise Rejected(MALFORMED, f"{name}: {e}") from e


def _whole(document: dict, name: str) -> int:
    value = document.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Rejected(MALFORMED, f"{name} must be a whole number")
    return value
