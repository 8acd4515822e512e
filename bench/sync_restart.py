"""The first ``/sync/index.json`` of a new process: cold (nothing kept) and after a restart (digests kept).

    .venv/bin/python -m bench.sync_restart [--count 100000] [--restarts 3]

The database is built as ``bench.publish`` builds it (1,000 statements
through the write path, their rows copied in SQL until ``--count``). Each
measurement is a new Python process that creates the app and times its
first ``GET /sync/index.json``:

* cold: the table ``sync_digests`` emptied first, so every chunk and the
  snapshot are rendered to learn their digests (what every worker paid at
  each start before the digests were kept);
* after a restart (``--restarts`` times): the table as the cold run left
  it, so no unchanged chunk is rendered;
* after a restart and one correction: a new process after one change
  through the write path (the chunk it left and its new position rendered).

Every index must be a 200 naming the database's latest change.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from bench import report
from bench.publish import copy_rows, seed_database
from bench.site import scratch_folder

BASE_URL = "https://news.example.org"


def _app(database: str):
    from bulletin import create_app

    return create_app({"DATABASE": database, "SECRET_KEY": "bench", "BASE_URL": BASE_URL})


def child(database: str) -> None:
    """In a new process: seconds to create the app, and to answer its first index (printed as JSON)."""
    from bulletin.statements import db, store

    start = time.perf_counter()
    app = _app(database)
    made = time.perf_counter() - start
    client = app.test_client()
    start = time.perf_counter()
    response = client.get("/sync/index.json", base_url=BASE_URL)
    answered = time.perf_counter() - start
    connection = db.connect(database)
    latest = store.latest_change_seq(connection)
    kept = connection.execute("SELECT count(*) FROM sync_digests").fetchone()[0]
    connection.close()
    assert response.status_code == 200 and response.get_json()["seq"] == latest, response.status_code
    print(json.dumps({"app_seconds": made, "index_seconds": answered, "kept_rows": kept}))


def in_new_process(database: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.sync_restart", "--child", database],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def correct_one(database: str) -> None:
    from bulletin.authoring import changes
    from bulletin.statements import db, store

    app = _app(database)
    connection = db.connect(database)
    statement_id = connection.execute(
        "SELECT id FROM statements WHERE status = 'published' ORDER BY rowid LIMIT 1 OFFSET 500"
    ).fetchone()[0]
    with app.app_context():
        current = store.get_by_id(connection, statement_id)
        draft = changes.Draft(
            f"{current.title} (corrected)",
            current.body_html + "<p>Correction.</p>",
            "html",
            summary=current.summary,
            lang=current.lang,
            tags=current.tags,
            published=current.published,
        )
        changes.save(connection, statement_id, draft, changes.tool_context("bench"))
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1_000, help="statements made through the write path")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(report.machine())
    from bulletin.statements import db

    folder = scratch_folder("bulletin-sync-restart-")
    database = str(folder / "bulletin.sqlite3")
    app = _app(database)
    db.migrate_file(database)
    start = time.perf_counter()
    seed_database(app, min(args.seed, args.count))
    copy_rows(app, min(args.seed, args.count), args.count)
    print(f"{args.count:,} statements built in {time.perf_counter() - start:.0f} s", flush=True)

    connection = db.connect(database)
    connection.execute("DELETE FROM sync_digests")
    connection.close()
    cold = in_new_process(database)
    print(f"  cold: {cold['index_seconds']:.2f} s ({cold['kept_rows']} digests kept)", flush=True)
    warm = [in_new_process(database) for _ in range(args.restarts)]
    for run in warm:
        print(f"  after a restart: {run['index_seconds'] * 1000:.0f} ms", flush=True)
    correct_one(database)
    changed = in_new_process(database)
    print(f"  after a restart and one correction: {changed['index_seconds'] * 1000:.0f} ms", flush=True)
    warm_ms = statistics.median(run["index_seconds"] * 1000 for run in warm)
    print(
        report.table(
            [
                "statements",
                "cold index (s)",
                "after a restart, median (ms)",
                "after a restart and one correction (ms)",
                "digests kept",
            ],
            [
                [
                    f"{args.count:,}",
                    f"{cold['index_seconds']:.1f}",
                    f"{warm_ms:.0f}",
                    f"{changed['index_seconds'] * 1000:.0f}",
                    changed["kept_rows"],
                ]
            ],
        )
    )
    result = {"count": args.count, "cold": cold, "warm": warm, "after_a_correction": changed}
    print(report.save("sync_restart", result))


if __name__ == "__main__":
    main()
