"""Scale: Bulletin with 100,000 statements — import, lists, search, sync, size.

    .venv/bin/python -m bench.scale [--count 100000]

A fresh database receives ``--count`` generated statements (the seed's
length, varied words, three a day, a tag each) through the store functions,
one transaction per ``--batch``; a smaller sample goes through the real
``flask import`` command for comparison. Then, in-process:

* queries (direct calls): the list's first page, its last page by OFFSET
  and by keyset (``store.list_published_older_than``), full-text search for
  a rare and a common word (``store.search``, and ``store.search_recent``
  which ranks only the newest 1,000 matches), sync since a recent cursor
  and a snapshot;
* requests through the Flask test client, nothing cached (the rendered and
  hot-path caches are cleared before each), and cached (the normal case);

each as p50 and p99 over ``--iterations`` (fewer for slow ones, at most
``--seconds`` each). And the database's size. The goal is p99 <= 20 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import subprocess
import time
from pathlib import Path

from testbed.servers import BIN, REPO

from . import report
from .site import publish, scratch_folder
from .sync_efficiency import seed_shape, statement_text

RARE_WORD = "quillwort"  # in one statement of every RARE_EVERY
RARE_EVERY = 10_000
TAGS = ("press", "elections", "media", "rights", "appeal")
GOAL_MS = 20.0
PAGE_SIZE = 20


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def timed(call, *, iterations: int, seconds: float) -> dict:
    """p50/p99 in ms of ``call()`` over ``iterations`` runs, or fewer (at least 5) if ``seconds`` run out."""
    samples = []
    deadline = time.monotonic() + seconds
    while len(samples) < iterations and (len(samples) < 5 or time.monotonic() < deadline):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99), "n": len(samples)}


def make_app(folder: Path):
    """A Bulletin app on a fresh, migrated database in ``folder``."""
    from bulletin import create_app
    from bulletin.statements import db

    folder.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {"DATABASE": str(folder / "bulletin.sqlite3"), "SECRET_KEY": "bench", "PAGE_SIZE": PAGE_SIZE}
    )
    db.migrate_file(app.config["DATABASE"])
    return app


def generated(n: int, vocabulary, lengths) -> tuple[str, str]:
    """Statement ``n``'s title and body; every RARE_EVERY-th one mentions the rare word."""
    title, body = statement_text(n, vocabulary, lengths)
    if n % RARE_EVERY == 7:
        body = body.replace("</p>", f" The {RARE_WORD} grows here.</p>", 1)
    return title, body


def import_through_store(app, count: int, batch: int) -> dict:
    """Publish ``count`` statements through the store, a transaction per batch; the rate."""
    from bulletin.statements import db
    from bulletin.statements.db import transaction

    vocabulary, lengths = seed_shape()
    connection = db.connect(app.config["DATABASE"])
    start = time.perf_counter()
    for first in range(0, count, batch):
        with transaction(connection):
            for n in range(first, min(first + batch, count)):
                title, body = generated(n, vocabulary, lengths)
                published = dt.date(1990, 1, 1) + dt.timedelta(days=n // 3)
                publish(connection, title, body, published, tags=[TAGS[n % len(TAGS)]])
        done = min(first + batch, count)
        if done % (batch * 10) == 0 or done == count:
            rate = done / (time.perf_counter() - start)
            print(f"  imported {done:,} through the store ({rate:,.0f}/s)", flush=True)
    seconds = time.perf_counter() - start
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return {"count": count, "seconds": seconds, "per_second": count / seconds}


def import_through_cli(folder: Path, sample: int) -> dict:
    """``flask import`` of ``sample`` plain-text files into a fresh database; the rate."""
    vocabulary, lengths = seed_shape()
    files = folder / "files"
    files.mkdir(parents=True)
    for n in range(sample):
        title, body = generated(n, vocabulary, lengths)
        paragraphs = body.replace("<p>", "").split("</p>")
        day = dt.date(1990, 1, 1) + dt.timedelta(days=n)
        text = f"{title}\n\n{day.isoformat()}\n\n" + "\n\n".join(p for p in paragraphs if p) + "\n"
        (files / f"{n:06d}.txt").write_text(text, encoding="utf-8")
    make_app(folder / "db")
    env = {
        **os.environ,
        "BULLETIN_DATABASE": str(folder / "db" / "bulletin.sqlite3"),
        "BULLETIN_INSTANCE_PATH": str(folder / "db"),
        "BULLETIN_SECRET_KEY": "bench",
    }
    start = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "app", "import", "--lang", "en", str(files)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"flask import failed:\n{result.stderr[-2000:]}")
    return {"count": sample, "seconds": seconds, "per_second": sample / seconds}


def database_size(app) -> dict:
    """The database file's size (WAL checkpointed), in all and per statement."""
    from bulletin.statements import db

    connection = db.connect(app.config["DATABASE"])
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    count = connection.execute("SELECT count(*) FROM statements").fetchone()[0]
    connection.close()
    size = os.path.getsize(app.config["DATABASE"])
    return {"bytes": size, "statements": count, "per_statement": size / max(count, 1)}


def hits(connection, word: str) -> int:
    """How many statements the search index finds ``word`` in (as the search matches it)."""
    from bulletin.statements import words

    return connection.execute(
        "SELECT count(*) FROM statements_terms WHERE statements_terms MATCH ?",
        (words.match_expression(word),),
    ).fetchone()[0]


def common_word(connection) -> tuple[str, int]:
    """The word of the seed's vocabulary found in the most statements, and how many."""
    candidates = ["the", "and", "of", "violence", "government", "protests", "Kazakhstan"]
    counts = {word: hits(connection, word) for word in candidates}
    word = max(counts, key=counts.get)
    return word, counts[word]


def query_latencies(app, args) -> tuple[dict, dict]:
    """Direct calls to the store and sync functions; also the words searched for."""
    from bulletin.site import sync
    from bulletin.statements import db, store

    connection = db.connect(app.config["DATABASE"])
    total = store.count_published(connection)
    last_page = max(1, math.ceil(total / PAGE_SIZE))
    offset = (last_page - 1) * PAGE_SIZE
    anchor = store.list_published(connection, limit=1, offset=offset - 1)[0].id
    word, common_hits = common_word(connection)
    rare_hits = hits(connection, RARE_WORD)
    recent = store.latest_change_seq(connection) - 10
    words = {"common": (word, common_hits), "rare": (RARE_WORD, rare_hits), "last_page": last_page}
    calls = {
        "list, page 1": lambda: store.list_published(connection, limit=PAGE_SIZE + 1),
        f"list, page {last_page:,} (OFFSET)": lambda: store.list_published(
            connection, limit=PAGE_SIZE + 1, offset=offset
        ),
        f"list, page {last_page:,} (keyset)": lambda: store.list_published_older_than(
            connection, anchor, limit=PAGE_SIZE + 1
        ),
        f"search, rare word ({rare_hits:,} hits)": lambda: store.search(
            connection, RARE_WORD, limit=PAGE_SIZE + 1
        ),
        f"search, common word ({common_hits:,} hits)": lambda: store.search(
            connection, word, limit=PAGE_SIZE + 1
        ),
        "search, common word (newest 1,000 ranked)": lambda: store.search_recent(
            connection, word, limit=PAGE_SIZE + 1
        ),
        "sync, since a recent cursor (10 changes)": lambda: sync.changes(connection, recent, limit=50),
        "sync, snapshot (50 statements)": lambda: sync.snapshot(connection, limit=50),
    }
    results = {}
    with app.test_request_context("/"):  # statement objects render their article
        for name, call in calls.items():
            result = results[name] = timed(call, iterations=args.iterations, seconds=args.seconds)
            print(
                f"  query   {name:<44} p50 {result['p50']:8.2f} ms  p99 {result['p99']:8.2f} ms", flush=True
            )
    connection.close()
    return results, words


def request_latencies(app, args, words: dict) -> dict:
    """Requests through the test client: nothing cached, and cached."""
    from bulletin.site import sync
    from bulletin.statements import db, store

    connection = db.connect(app.config["DATABASE"])
    recent = sync.encode_cursor(store.database_id(connection), store.latest_change_seq(connection) - 10)
    connection.close()
    client = app.test_client()
    urls = {
        "list, page 1": "/",
        f"list, page {words['last_page']:,} (OFFSET)": f"/?page={words['last_page']}",
        "search, rare word": f"/search/?q={words['rare'][0]}",
        "search, common word": f"/search/?q={words['common'][0]}",
        "sync, since a recent cursor": f"/api/sync?since={recent}",
        "sync, snapshot": "/api/sync",
    }
    headers = {"Accept-Encoding": "gzip, deflate, br, zstd"}

    def uncached(url):
        app.extensions["bulletin_rendered"].clear()
        app.extensions["bulletin_hotpath"].clear()
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)

    results = {}
    for name, url in urls.items():
        cold = timed(lambda url=url: uncached(url), iterations=args.iterations // 4, seconds=args.seconds)
        warm = timed(
            lambda url=url: client.get(url, headers=headers), iterations=args.iterations, seconds=args.seconds
        )
        results[name] = {"uncached": cold, "cached": warm}
        print(
            f"  request {name:<36} uncached p50 {cold['p50']:8.2f} p99 {cold['p99']:8.2f} ms;"
            f" cached p50 {warm['p50']:6.3f} p99 {warm['p99']:6.3f} ms",
            flush=True,
        )
    return results


def main() -> None:
    """Run the whole benchmark and print its tables (raw numbers saved under bench/results/)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="statements to generate (default 100,000)")
    parser.add_argument("--batch", type=int, default=1000, help="statements per transaction (default 1,000)")
    parser.add_argument("--cli-sample", type=int, default=500, help="files for `flask import` (default 500)")
    parser.add_argument("--iterations", type=int, default=200, help="timed calls per query (default 200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit per query (default 10 s)")
    args = parser.parse_args()
    print(f"machine: {report.machine()}")
    work = scratch_folder("bulletin-scale-")
    app = make_app(work / "big")
    store_rate = import_through_store(app, args.count, args.batch)
    cli_rate = import_through_cli(work / "cli", args.cli_sample)
    print(f"  flask import: {cli_rate['count']:,} files in {cli_rate['seconds']:.1f} s", flush=True)
    size = database_size(app)
    queries, words = query_latencies(app, args)
    requests = request_latencies(app, args, words)

    print()
    print(
        report.table(
            ["import", "statements", "seconds", "statements/s"],
            [
                [
                    "store functions, a transaction per batch",
                    store_rate["count"],
                    store_rate["seconds"],
                    store_rate["per_second"],
                ],
                [
                    "`flask import` (a transaction per file)",
                    cli_rate["count"],
                    cli_rate["seconds"],
                    cli_rate["per_second"],
                ],
            ],
        )
    )
    print()
    print(
        report.table(
            ["query (direct call)", "p50 ms", "p99 ms", "calls", f"p99 <= {GOAL_MS:.0f} ms"],
            [
                [name, r["p50"], r["p99"], r["n"], "yes" if r["p99"] <= GOAL_MS else "no"]
                for name, r in queries.items()
            ],
        )
    )
    print()
    print(
        report.table(
            ["request (test client)", "nothing cached p50 ms", "p99 ms", "cached p50 ms", "p99 ms"],
            [
                [name, r["uncached"]["p50"], r["uncached"]["p99"], r["cached"]["p50"], r["cached"]["p99"]]
                for name, r in requests.items()
            ],
        )
    )
    print()
    print(
        f"database: {size['bytes'] / 2**20:,.0f} MiB for {size['statements']:,} statements "
        f"({size['per_statement']:,.0f} bytes each, source text, sanitized HTML and full-text index)"
    )
    saved = report.save(
        "scale",
        {
            "args": vars(args),
            "import": {"store": store_rate, "cli": cli_rate},
            "size": size,
            "queries": queries,
            "requests": requests,
            "words": words,
        },
    )
    print("saved", saved)


if __name__ == "__main__":
    main()
