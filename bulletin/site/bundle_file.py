"""A bundle: one self-contained ``.html`` file of signed records, passed from hand to hand.

When there is no network, statements travel on USB sticks, over Bluetooth
and by messaging apps. A bundle is one file that any browser opens from a
download folder and that shows its statements with no network; the app
imports it and verifies every record (the viewer verifies nothing: anyone
can edit the file). The format is a contract that older and newer apps and
other tools read:

    <script type="application/json" id="bulletin-bundle">
    {"format":"bulletin-bundle/1","keys":<the /keys.json object>,
     "index":<the newest signed sync index, an envelope object, or null>,
     "mirrors":<the signed mirror list, or null>,
     "records":[<envelopes exactly as in the sync files>]}
    </script>

compact JSON with every ``<`` written ``\\u003c``, so no text in it can
close the element or open a comment. The viewer (``static/js/bundle/``) is
the page's only script, allowed by its hash in a meta CSP that allows
nothing else; it builds the page with DOM calls from the data, which never
runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from bulletin.assets import bundle_page
from bulletin.i18n import default_lang, interface, statement_interface
from bulletin.signing import keyring
from bulletin.site import mirrors, signatures, signed_records, sync_files
from bulletin.statements.records import Statement, stored_time

log = logging.getLogger(__name__)

FORMAT = bundle_page.FORMAT
DATA_ID = "bulletin-bundle"
DEFAULT_MAX_BYTES = 8_000_000  # 8 MB: what messaging apps pass on without complaint
MAX_MAX_BYTES = 1 << 30  # a file any phone can still open; more is a mistake
# The viewer and its CSP: the same page as the device's bundles (bulletin/assets/bundle_page.py).
Viewer = bundle_page.Viewer
viewer = bundle_page.viewer
_source_hash = bundle_page.source_hash
# Where the data goes in the rendered page: a text no template output can hold.
_MARK = "\x00bulletin-bundle-data\x00"


class BundleError(Exception):
    """No bundle can be made as asked; the message says why."""


def data_text(value: object) -> str:
    """``value`` as the data block holds it: compact JSON, every ``<`` escaped, so the element cannot end early."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def keys_document() -> dict | None:
    """The ``/keys.json`` object; None when the keyring cannot be read (the site cannot sign then either)."""
    try:
        return signatures.published_keys()
    except keyring.KeyringError as e:
        log.warning("a bundle cannot carry the keys: %s", e)
        return None


def signed_index(db: sqlite3.Connection) -> dict | None:
    """The newest signed sync index (``/sync/index.json``) as an envelope object; None when no key may sign."""
    found = sync_files.build_index(db)
    return json.loads(found.body) if found is not None else None


def mirror_list(db: sqlite3.Connection) -> dict | None:
    """The signed mirror list (an envelope object); None while the site has none."""
    return mirrors.signed_list(db)


def can_sign() -> bool:
    """Whether the site has an online key that may sign: without one there are no records to bundle."""
    return signatures.signer() is not None


def envelope_of(db: sqlite3.Connection, statement: Statement) -> dict | None:
    """The envelope of a published or withdrawn statement's current record, as the sync files carry it."""
    return signed_records.envelope(db, statement)


@dataclass(frozen=True)
class Frame:
    """A bundle without its records: the page around the data block, and the data's first part."""

    head: str
    top: str  # the data up to the records' opening bracket
    tail: str

    @property
    def size(self) -> int:
        """Bytes of a bundle with no record."""
        return len((self.head + self.top + "]}" + self.tail).encode("utf-8"))

    def file(self, records: Iterable[str]) -> bytes:
        """The whole file, with ``records`` (data texts of envelopes) in the data block."""
        return (self.head + self.top + ",".join(records) + "]}" + self.tail).encode("utf-8")


def frame(db: sqlite3.Connection, *, title: str, lang: str, index: dict | None = None) -> Frame:
    """The page of a bundle titled ``title`` in the interface language ``lang``, with the site's keys,
    index (``index``, else the newest) and mirror list. BundleError when the keys cannot be read."""
    keys = keys_document()
    if keys is None:
        raise BundleError("the site's keyring cannot be read")
    with interface(lang):
        page = bundle_page.page(title, Markup(_MARK))
    head, tail = page.split(_MARK)
    documents = {
        "format": FORMAT,
        "keys": keys,
        "index": index if index is not None else signed_index(db),
        "mirrors": mirror_list(db),
    }
    return Frame(head, data_text(documents)[:-1] + ',"records":[', tail)


@dataclass
class Made:
    """A bundle file and what it holds, and what did not fit."""

    body: bytes
    statements: int = 0
    withdrawals: int = 0
    left_out: int = 0
    left_out_newest: Statement | None = None  # the newest statement left out, and the oldest
    left_out_oldest: Statement | None = None


def make(
    db: sqlite3.Connection, candidates: Iterable[Statement], built: Frame, *, max_bytes: int | None = None
) -> Made:
    """The bundle of ``candidates`` (newest first), adding records while the file stays within
    ``max_bytes``; the first that does not fit and every one after it are left out (and counted),
    so the file holds the newest ones without a gap. BundleError without an online key that may sign,
    or when not even the viewer fits."""
    if not can_sign():
        raise BundleError("the site has no online key that may sign (keys certify): there are no records")
    size = built.size
    if max_bytes is not None and size > max_bytes:
        raise BundleError(f"the file's viewer and keys alone take {size:,} bytes, more than {max_bytes:,}")
    made = Made(b"")
    texts: list[str] = []
    for statement in candidates:
        if made.left_out == 0:
            text = _fitting(envelope_of(db, statement), size + (1 if texts else 0), max_bytes)
            if text is not None:
                texts.append(text)
                size += len(text.encode("utf-8")) + (1 if len(texts) > 1 else 0)
                if statement.is_withdrawn:
                    made.withdrawals += 1
                else:
                    made.statements += 1
                continue
        made.left_out += 1
        made.left_out_newest = made.left_out_newest or statement
        made.left_out_oldest = statement
    made.body = built.file(texts)
    return made


def _fitting(envelope: dict | None, size: int, max_bytes: int | None) -> str | None:
    """The envelope's data text when it fits in ``max_bytes`` after ``size`` bytes; None when it does
    not, or when there is no envelope (the key stopped signing meanwhile: nothing goes in unsigned)."""
    if envelope is None:
        return None
    text = data_text(envelope)
    if max_bytes is not None and size + len(text.encode("utf-8")) > max_bytes:
        return None
    return text


def interface_for(langs: Iterable[str]) -> str:
    """The interface language of a bundle of statements in ``langs``: theirs when they share one, else the default."""
    found = {statement_interface(lang) for lang in langs}
    return found.pop() if len(found) == 1 else default_lang()


def title(lang: str) -> str:
    """A bundle's title in the interface language ``lang``."""
    with interface(lang):
        return bundle_page.default_title()


def since_text(day: dt.date | dt.datetime) -> str:
    """The stored time a ``--since`` date starts at: a date as stored (before every instant of that
    day, so the day's statements of either kind are in), or the instant given."""
    return stored_time(day)
