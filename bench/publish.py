"""Publication: what keeping the folder of files current adds to a save, at 10,000 and 100,000 statements.

    .venv/bin/python -m bench.publish [--counts 10000 100000] [--changes 40]

The database: ``--seed`` statements (1,000; the seed's length, varied words,
three a day, one of five tags) published through the write path, a
transaction per 100, then copied in SQL until ``count`` (each copy of the
rows gets new ids, slugs and later dates, its own change-log entries and
sitemap rows; only the search index is not copied, which publishing never
reads). Building 100,000 through the write path takes about 10 minutes
(BENCHMARKS.md, Scale); copying takes seconds.

The folder: ``publish --all``'s whole build, except that statements' own
pages are written only for the statements the run changes (every other
file is written: lists, tags, feeds, the sitemap index and parts). A
change touches its own statement's page and the shared files, never the
other statements' pages, so what is measured is the same; the whole build
of 100,000 pages would take most of an hour on this machine.

Then ``--changes`` changes through the write path, each followed by the
publication every save triggers, in a mix: corrections of a random
statement (most), new publications, tag changes and withdrawals. Per
change: the save alone, the publication alone, and the two together ("save
to all files written"), p50 and p99; files and bytes written and files
removed, and how many of the files written were sync files (the index and
the chunks and snapshot it newly names). Then a restart (a new app, nothing
in memory) and one more change: what the first save after a deploy or a
worker's restart costs, with the sync digests kept in the database. The
goal: publishing adds at most 1 s to a save at 100,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from bench import report
from bench.site import publish as publish_statement
from bench.site import scratch_folder
from bench.sync_efficiency import seed_shape, statement_text
from bulletin import create_app
from bulletin.authoring import changes
from bulletin.publishing import fileset
from bulletin.publishing import publisher as publishing
from bulletin.signing import keyring, keys
from bulletin.statements import db, store
from bulletin.statements.db import transaction

TAGS = ("press", "elections", "media", "rights", "appeal")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def seed_database(app, seed: int) -> None:
    """``seed`` statements through the write path, a transaction per 100."""
    vocabulary, lengths = seed_shape()
    connection = db.connect(app.config["DATABASE"])
    for first in range(0, seed, 100):
        with transaction(connection):
            for n in range(first, min(first + 100, seed)):
                title, body = statement_text(n, vocabulary, lengths)
                published = dt.date(1990, 1, 1) + dt.timedelta(days=n // 3)
                publish_statement(connection, title, body, published, tags=[TAGS[n % len(TAGS)]])
    connection.close()


def copy_rows(app, seed: int, count: int) -> None:
    """Copy the seed's rows until ``count`` statements: new ids, slugs, later dates, change-log entries."""
    connection = db.connect(app.config["DATABASE"])
    days = seed // 3 + 1
    with transaction(connection):
        originals = "SELECT id FROM statements WHERE rowid <= ?"
        for k in range(1, count // seed):
            suffix = f"-c{k}"
            connection.execute(
                "INSERT INTO statements (id, slug, lang, translation_group, is_original, status, published,"
                " slug_frozen, current_revision, source_key, created_at, updated_at, withdrawn_at,"
                " withdrawal_reason, change_seq, publish_at, first_public_revision)"
                " SELECT id || ?1, slug || ?1, lang, translation_group || ?1, is_original, status,"
                " date(published, '+' || ?2 || ' days'), slug_frozen, current_revision || ?1, NULL,"
                " created_at, updated_at, withdrawn_at, withdrawal_reason, NULL, publish_at,"
                " first_public_revision FROM statements WHERE rowid <= ?3 ORDER BY rowid",
                (suffix, k * days, seed),
            )
            connection.execute(
                "INSERT INTO revisions (id, statement_id, number, source_text, source_format, body_html,"
                " title, summary, correction_note, author, created_at, description)"
                " SELECT id || ?1, statement_id || ?1, number, source_text, source_format, body_html,"
                " title || ' (' || ?2 || ')', summary, correction_note, author, created_at, description"
                f" FROM revisions WHERE statement_id IN ({originals})",
                (suffix, k, seed),
            )
            connection.execute(
                f"INSERT INTO statement_tags (statement_id, tag) SELECT statement_id || ?, tag"
                f" FROM statement_tags WHERE statement_id IN ({originals})",
                (suffix, seed),
            )
            connection.execute(
                "INSERT INTO changes (statement_id, kind, revision_id, at)"
                " SELECT id || ?1, 'publish', current_revision || ?1, updated_at"
                " FROM statements WHERE rowid <= ?2 ORDER BY rowid",
                (suffix, seed),
            )
        connection.execute(
            "CREATE TEMP TABLE latest AS SELECT statement_id, max(seq) AS seq FROM changes GROUP BY statement_id"
        )
        connection.execute("CREATE INDEX temp.latest_by_id ON latest (statement_id)")
        connection.execute(
            "UPDATE statements SET change_seq = (SELECT seq FROM latest WHERE statement_id = statements.id)"
            " WHERE change_seq IS NULL"
        )
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def build_folder(app, kept_pages: set[str]) -> float:
    """``publish --all`` without the statements' own pages but those in ``kept_pages``; seconds."""
    whole = publishing.site_addresses

    def without_most_pages(connection):
        for address in whole(connection):
            if not address.startswith("/statements/") or address in kept_pages:
                yield address

    publishing.site_addresses = without_most_pages
    try:
        start = time.perf_counter()
        publishing.publish_all(app)
        return time.perf_counter() - start
    finally:
        publishing.site_addresses = whole


def sync_names(app) -> set[str]:
    """The sync files in the published folder (compressed siblings not counted)."""
    folder = publishing.places_of(app).link / publishing.SYNC_FOLDER
    return {p.name for p in folder.iterdir() if p.suffix == ".json"} if folder.is_dir() else set()


def change(connection, rng: random.Random, ids: list[str], number: int, ctx) -> str:
    """One change through the write path; its kind."""
    roll = rng.random()
    statement_id = rng.choice(ids)
    current = store.get_by_id(connection, statement_id)
    if roll < 0.15:
        draft = changes.Draft(
            f"New statement {number}", f"<p>Published now, number {number}.</p>" * 20, "html"
        )
        ids.append(changes.create(connection, draft, ctx, publish=True).statement_id)
        return "publish"
    if roll < 0.25 and current.status == "published":
        changes.withdraw(connection, statement_id, "Published in error.", ctx)
        ids.remove(statement_id)
        return "withdraw"
    tags = current.tags if roll < 0.85 else (rng.choice(TAGS),)
    draft = changes.Draft(
        f"{current.title} (corrected {number})",
        current.body_html + f"<p>Correction {number}.</p>",
        "html",
        summary=current.summary,
        lang=current.lang,
        tags=tags,
        published=current.published,
    )
    changes.save(connection, statement_id, draft, ctx)
    return "correct" if roll < 0.85 else "retag"


def measure(count: int, args) -> dict:
    folder = scratch_folder(f"bulletin-publish-{count}-")
    config = {
        "DATABASE": str(folder / "bulletin.sqlite3"),
        "SECRET_KEY": "bench",
        "PUBLISH_DIR": str(folder / "site"),
        "BASE_URL": "https://news.example.org",
        "KEYS_DIR": str(folder / "keys"),
    }
    # A certified online key: the site signs its records and serves its sync files.
    keyring.init_root(folder / "root.key")
    keyring.certify(folder / "keys", keys.read_private(folder / "root.key"), now=dt.datetime.now(dt.UTC))
    app = create_app(config)
    db.migrate_file(app.config["DATABASE"])
    start = time.perf_counter()
    seed_database(app, min(args.seed, count))
    seeded = time.perf_counter() - start
    start = time.perf_counter()
    copy_rows(app, min(args.seed, count), count)
    copied = time.perf_counter() - start
    connection = db.connect(app.config["DATABASE"])
    ids = [row[0] for row in connection.execute("SELECT id FROM statements WHERE status = 'published'")]
    print(f"{count:,} statements: {seeded:.0f} s through the write path, {copied:.0f} s copying", flush=True)

    rng = random.Random(count)
    plan = rng.sample(ids, min(len(ids), args.changes * 3))
    with app.test_request_context("/", base_url=app.config["BASE_URL"]):
        kept = {
            fileset.statement_address(row[0])
            for row in connection.execute(
                f"SELECT slug FROM statements WHERE id IN ({','.join('?' * len(plan))})", plan
            )
        }
    built = build_folder(app, kept)
    print(f"  folder built in {built:.0f} s (statement pages only for the {len(kept)} the run may change)")

    ctx = changes.tool_context("bench")
    saves, publications, totals, kinds = [], [], [], []
    written, removed, written_bytes, sync_written = [], [], [], []
    for number in range(args.changes):
        sync_before = sync_names(app)
        start = time.perf_counter()
        kinds.append(change(connection, rng, plan, number, ctx))
        saved = time.perf_counter()
        done = publishing.publish(app)
        end = time.perf_counter()
        saves.append(saved - start)
        publications.append(end - saved)
        totals.append(end - start)
        written.append(done.written)
        removed.append(done.removed)
        written_bytes.append(done.bytes_written)
        # Sync files are named by their content: a new name is a file written (and the index, always).
        sync_written.append(len(sync_names(app) - sync_before) + 1)
    # A restart: a new app, nothing in memory; its first save publishes with the digests kept.
    restarted = create_app(config)
    start = time.perf_counter()
    change(connection, rng, plan, args.changes, ctx)
    saved = time.perf_counter()
    done = publishing.publish(restarted)
    after_restart = {"save_ms": (saved - start) * 1000, "total_ms": (time.perf_counter() - start) * 1000}
    after_restart["files_written"] = done.written
    connection.close()
    result = {
        "count": count,
        "changes": args.changes,
        "kinds": {kind: kinds.count(kind) for kind in sorted(set(kinds))},
        "folder_seconds": built,
        "save_ms": {"p50": percentile(saves, 0.5) * 1000, "p99": percentile(saves, 0.99) * 1000},
        "publish_ms": {
            "p50": percentile(publications, 0.5) * 1000,
            "p99": percentile(publications, 0.99) * 1000,
        },
        "total_ms": {"p50": percentile(totals, 0.5) * 1000, "p99": percentile(totals, 0.99) * 1000},
        "files_written": {"median": statistics.median(written), "max": max(written)},
        "files_removed": {"median": statistics.median(removed), "max": max(removed)},
        "bytes_written": {"median": statistics.median(written_bytes), "max": max(written_bytes)},
        "sync_files_written": {"median": statistics.median(sync_written), "max": max(sync_written)},
        "after_restart": after_restart,
    }
    print(
        f"  save p50 {result['save_ms']['p50']:.0f} ms p99 {result['save_ms']['p99']:.0f} ms; "
        f"publication p50 {result['publish_ms']['p50']:.0f} ms p99 {result['publish_ms']['p99']:.0f} ms; "
        f"save to all files written p50 {result['total_ms']['p50']:.0f} ms p99 {result['total_ms']['p99']:.0f} ms; "
        f"files written per change median {result['files_written']['median']} (max {result['files_written']['max']}), "
        f"bytes median {result['bytes_written']['median']:,.0f}; "
        f"first save after a restart to all files written {after_restart['total_ms']:.0f} ms",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1_000, help="statements made through the write path")
    args = parser.parse_args()
    print(report.machine())
    results = [measure(count, args) for count in args.counts]
    rows = [
        [
            f"{r['count']:,}",
            f"{r['save_ms']['p50']:.0f} / {r['save_ms']['p99']:.0f}",
            f"{r['publish_ms']['p50']:.0f} / {r['publish_ms']['p99']:.0f}",
            f"{r['total_ms']['p50']:.0f} / {r['total_ms']['p99']:.0f}",
            f"{r['files_written']['median']:.0f} ({r['files_written']['max']})",
            f"{r['sync_files_written']['median']:.0f} ({r['sync_files_written']['max']})",
            f"{r['bytes_written']['median'] / 1024:,.0f} KiB",
            f"{r['after_restart']['total_ms']:.0f}",
            "yes"
            if max(r["publish_ms"]["p99"], r["after_restart"]["total_ms"] - r["after_restart"]["save_ms"])
            <= 1000
            else "no",
        ]
        for r in results
    ]
    print(
        report.table(
            [
                "statements",
                "save p50 / p99 ms",
                "publication p50 / p99 ms",
                "save to all files written p50 / p99 ms",
                "files written per change, median (max)",
                "of them sync files, median (max)",
                "bytes written per change, median",
                "first save after a restart to all files written ms",
                "publication ≤ 1 s",
            ],
            rows,
        )
    )
    print(report.save("publish", {"results": results}))


if __name__ == "__main__":
    main()
