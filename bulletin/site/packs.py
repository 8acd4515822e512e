"""Packs: ready-made bundles to download when a window opens, one per statement language and month.

``/bundles/`` (in every interface language) lists them with their sizes;
``/bundles/<lang>-<YYYY-MM>.html`` is the bundle (:mod:`bulletin.site.bundles`)
of the published and withdrawn statements in ``lang`` whose publication
time (as stored, UTC) falls in that calendar month, newest first, in the
interface of that language. A pack's bytes change when one of its
statements changes, when the keys do, and with the newest sync index it
carries; its ETag says so. The publisher writes them into the folder
(:mod:`bulletin.publishing.fileset`) when one of their statements changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass

from babel.dates import format_date as babel_format_date
from babel.units import format_unit
from flask import Blueprint, Response, abort, current_app, render_template, url_for

from bulletin.http.caching import cached_response
from bulletin.http.database import get_db
from bulletin.i18n import gettext, interface, interface_lang, localized, statement_interface
from bulletin.site import bundle_file, signatures, signed_records, sync_files
from bulletin.statements import epochs, store
from bulletin.statements.labels import language_name

bp = Blueprint("packs", __name__)

NAME = re.compile(r"^(?P<lang>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4})-(?P<month>\d{4}-\d{2})\.html$")
EXTENSION = "bulletin_pack_sizes"
OUTLINE_EXTENSION = "bulletin_pack_outline"
LISTED_MONTHS = 24
_KEPT_SIZES = 10_000  # a few hundred bytes each: every pack of a large site


@dataclass(frozen=True)
class Pack:
    """One pack: its statements' language, their month, and what decides its records within an epoch
    (how many statements it holds and the latest change among them: ``store.pack_outline``)."""

    lang: str
    month: str  # YYYY-MM
    state: str  # "<count>:<latest change>"

    @property
    def name(self) -> str:
        return name_of(self.lang, self.month)


def pack_name(lang: str, published: dt.date | dt.datetime | None) -> str | None:
    """The file name of the pack a statement in ``lang`` published at ``published`` is in (None if undated)."""
    if published is None:
        return None
    if isinstance(published, dt.datetime):
        published = published.astimezone(dt.UTC)  # stored as UTC: the month of the stored text
    return name_of(lang, f"{published.year:04d}-{published.month:02d}")


def name_of(lang: str, month: str) -> str:
    """The file name of the pack of ``lang`` and ``month`` (``YYYY-MM``)."""
    return f"{lang}-{month}.html"


def packs(db: sqlite3.Connection) -> list[Pack]:
    """Every pack, newest month first (none while the site has no key that may sign: no records)."""
    if not bundle_file.can_sign():
        return []
    return [Pack(lang, month, f"{count}:{latest}") for lang, month, count, latest in store.pack_outline(db)]


def listed(db: sqlite3.Connection) -> tuple[list[Pack], bool]:
    """The packs ``/bundles/`` lists, those of the newest :data:`LISTED_MONTHS` months, and whether
    older ones exist. Every pack keeps its address; a reader in a short window wants the latest, and
    a phone a short page. Read once per state of the database and kept per app (the list is asked for
    in every interface language after each change), from the newest months alone."""
    if not bundle_file.can_sign():
        return [], False
    state = (epochs.current(db), store.latest_change_seq(db))
    kept = current_app.extensions.get(OUTLINE_EXTENSION)
    if kept is None or kept[0] != state:
        months = store.recent_months(db, LISTED_MONTHS + 1)
        since = months[:LISTED_MONTHS][-1] if months else ""
        found = [
            Pack(lang, month, f"{count}:{latest}")
            for lang, month, count, latest in store.pack_outline(db, since)
        ]
        kept = (state, found, len(months) > LISTED_MONTHS)
        current_app.extensions[OUTLINE_EXTENSION] = kept  # one assignment: threads see either
    return kept[1], kept[2]


def pack_named(db: sqlite3.Connection, lang: str, month: str) -> Pack | None:
    """The pack of ``lang`` and ``month``; None when it holds nothing (or no key may sign)."""
    if not bundle_file.can_sign():
        return None
    state = store.pack_state(db, lang, month)
    return Pack(lang, month, f"{state[0]}:{state[1]}") if state else None


def pack_address(name: str) -> str:
    """The pack's URL path (under the mount prefix) for ``url_for``-made addresses."""
    return url_for("packs.pack", name=name)


def _signing(db: sqlite3.Connection) -> str:
    current = signatures.signer()
    kid = current.kid if current is not None else "unsigned"
    return f"{signatures.state(db)}:{kid}"


def _title(found: Pack, lang: str) -> str:
    year, month = (int(part) for part in found.month.split("-"))
    with interface(lang):
        return gettext(
            "Statements from %(site)s: %(language)s, %(month)s",
            site=current_app.config["SITE_NAME"],
            language=language_name(found.lang),
            month=babel_format_date(dt.date(year, month, 1), "LLLL y", locale=lang),
        )


def render_pack(db: sqlite3.Connection, found: Pack, *, index: dict | None = None) -> bytes:
    """The pack's file (``index``: the sync index it carries, by default the newest)."""
    lang = statement_interface(found.lang)
    built = bundle_file.frame(db, title=_title(found, lang), lang=lang, index=index)
    return bundle_file.make(db, store.list_in_month(db, found.lang, found.month), built).body


class _Sizes:
    """Per app: each pack's size with a null index, by what decides its bytes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.kept: OrderedDict[tuple, int] = OrderedDict()

    def get(self, key: tuple, make) -> int:
        with self.lock:
            if key in self.kept:
                self.kept.move_to_end(key)
                return self.kept[key]
        size = make()
        with self.lock:
            self.kept[key] = size
            while len(self.kept) > _KEPT_SIZES:
                self.kept.popitem(last=False)
        return size

    def clear(self) -> None:
        with self.lock:
            self.kept.clear()


def size_of(db: sqlite3.Connection, found: Pack, index_bytes: int | None = None) -> int:
    """The pack's size in bytes. Kept without its index (which every change renews, and whose size
    is simply added: ``index_bytes``, counted once for a whole list), so a change measures again only
    the packs whose statements changed: from their kept records where all are kept (nothing rendered
    or parsed), else by making the pack."""
    if index_bytes is None:
        index_bytes = _index_bytes(db)
    config = current_app.config
    key = (_signing(db), epochs.current(db), config["SITE_NAME"], config["TIMEZONE"], found)
    sizes = current_app.extensions.setdefault(EXTENSION, _Sizes())
    return sizes.get(key, lambda: _bare_size(db, found)) + index_bytes


def _index_bytes(db: sqlite3.Connection) -> int:
    """The bytes of the newest signed index in a bundle's data block."""
    return len(bundle_file.data_text(bundle_file.signed_index(db)).encode("utf-8"))


def _bare_size(db: sqlite3.Connection, found: Pack) -> int:
    """The pack's size with an empty index object."""
    empty_index = len(bundle_file.data_text({}))
    current = signatures.signer()
    wanted = store.positions_in_month(db, found.lang, found.month)
    records = signed_records.kept_size(db, current.valid, wanted) if current is not None and wanted else None
    if records is None:
        return len(render_pack(db, found, index={})) - empty_index
    lang = statement_interface(found.lang)
    around = bundle_file.frame(db, title=_title(found, lang), lang=lang, index={})
    return around.size - empty_index + records + len(wanted) - 1  # the commas between records


def human_size(size: int, lang: str) -> str:
    """``size`` bytes as the interface language writes it in the nearest unit (``12 kB``, ``1.4 MB``)."""
    if size < 1000:
        return format_unit(size, "digital-byte", length="short", locale=lang)
    if size < 1_000_000:
        return format_unit(round(size / 1000), "digital-kilobyte", length="short", locale=lang)
    return format_unit(size / 1_000_000, "digital-megabyte", length="short", locale=lang, format="#,##0.#")


def _documents_digest(db: sqlite3.Connection) -> str:
    """What a pack carries besides its records: the keys (their state), the index and the mirror list,
    digested from the bytes as served (nothing parsed: the list is asked for in every language)."""
    index = sync_files.build_index(db)
    mirrors_list = bundle_file.mirror_list(db)
    digest = hashlib.sha256(signatures.state(db).encode("utf-8"))
    digest.update(index.body if index is not None else b"")
    digest.update(bundle_file.data_text(mirrors_list).encode("utf-8"))
    return digest.hexdigest()[:16]


@localized(bp, "/bundles/")
def listing():
    """The packs of the newest months, with their sizes, to download."""
    db = get_db()
    found, more = listed(db)
    parts = ("bundles", _signing(db), _documents_digest(db), more, *(f"{p.name}={p.state}" for p in found))

    def render():
        lang = interface_lang()
        index_bytes = _index_bytes(db)
        shown = [
            {
                "url": pack_address(p.name),
                "name": p.name,
                "lang": p.lang,
                "language": language_name(p.lang),
                "month": babel_format_date(dt.date(*map(int, p.month.split("-")), 1), "LLLL y", locale=lang),
                "size": human_size(size_of(db, p, index_bytes), lang),
            }
            for p in found
        ]
        return render_template("reader/bundles.html", packs=shown, more=more)

    return cached_response(parts, render)


@bp.get("/bundles/<name>")
def pack(name: str):
    """One pack: a bundle file to download. 404 for a name that is no pack."""
    matched = NAME.match(name)
    db = get_db()
    found = pack_named(db, matched["lang"], matched["month"]) if matched else None
    if found is None:
        abort(404)
    parts = ("bundle", name, epochs.current(db), found.state, _signing(db), _documents_digest(db))

    response = cached_response(parts, lambda: Response(render_pack(db, found), mimetype="text/html"))
    # Its own policy, as the file's meta CSP says: the viewer's script and style alone. A file to
    # download and pass on, never shown as a page of the site.
    response.headers["Content-Security-Policy"] = bundle_file.viewer().csp
    response.headers["Content-Disposition"] = "attachment"  # the same for every pack: nginx repeats it
    return response
