"""What one commit costs the kept pages: rechecking their ETag parts against dropping them all.

In process, no server: a site of N statements, every statement page (HTML
and API) read once so the hot path keeps it, then one statement corrected
through the write path, then every page read again. Measured twice, with
the hot path's check of each entry's ETag parts (what runs) and with it
off (every entry dropped when SQLite's data_version moves, as before).
Also the same after a write no page shows (an editor's session, the audit).

    .venv/bin/python -m bench.invalidation [--statements 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from flask import request_started

from bench.site import publish, scratch_folder
from bulletin import create_app
from bulletin.authoring import changes
from bulletin.statements import db

BODY = "<p>" + "A paragraph of a statement, as long as a real one is. " * 40 + "</p>"


def make_site(count: int):
    folder = scratch_folder("bulletin-invalidation-")
    app = create_app({"DATABASE": str(folder / "bulletin.sqlite3"), "SECRET_KEY": "bench"})
    db.migrate_file(app.config["DATABASE"])
    connection = db.connect(app.config["DATABASE"])
    ids = [
        publish(connection, f"Statement {n}", BODY, dt.date(2020, 1, 1) + dt.timedelta(days=n))
        for n in range(count)
    ]
    connection.close()
    return app, ids


def paths_of(app) -> list[str]:
    connection = db.connect(app.config["DATABASE"])
    slugs = [row[0] for row in connection.execute("SELECT slug FROM statements")]
    connection.close()
    return [f"/statements/{slug}/" for slug in slugs] + [f"/api/statements/{slug}" for slug in slugs]


def correct_one(app, statement_id: str, round_number: int) -> None:
    connection = db.connect(app.config["DATABASE"])
    draft = changes.Draft(f"Corrected {round_number}", BODY + f"<p>{round_number}</p>", "html")
    changes.save(connection, statement_id, draft, changes.tool_context("bench"))
    connection.close()


def unrelated_write(app) -> None:
    connection = db.connect(app.config["DATABASE"])
    with connection:
        connection.execute("CREATE TABLE IF NOT EXISTS bench_unrelated (x)")
        connection.execute("INSERT INTO bench_unrelated VALUES (1)")
    connection.close()


def one_round(app, paths, write) -> tuple[float, int]:
    """Seconds to read every page again after ``write``, and how many reached Flask."""
    client = app.test_client()
    for path in paths:  # every page kept by the hot path
        client.get(path, headers={"Accept-Encoding": "br"})
    reached = []

    def count(sender, **extra):
        reached.append(1)

    write()
    request_started.connect(count, app)
    start = time.perf_counter()
    for path in paths:
        client.get(path, headers={"Accept-Encoding": "br"})
    elapsed = time.perf_counter() - start
    request_started.disconnect(count, app)
    return elapsed, len(reached)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app, ids = make_site(args.statements)
    paths = paths_of(app)
    hot = app.extensions["bulletin_hotpath"]
    print(
        f"{args.statements} statements, {len(paths)} kept pages (HTML and API), median of {args.rounds} rounds\n"
    )
    print("| after | hot path | read all pages again | reached Flask |")
    print("|---|---|---|---|")
    for label, make_write in (
        ("one statement corrected", lambda n: lambda: correct_one(app, ids[0], n)),
        ("a write no page shows", lambda n: lambda: unrelated_write(app)),
    ):
        for checking in (False, True):
            hot.recheck_enabled = checking
            results = [one_round(app, paths, make_write(n)) for n in range(args.rounds)]
            seconds = statistics.median(r[0] for r in results)
            reached = statistics.median(r[1] for r in results)
            mode = "parts checked" if checking else "all dropped"
            print(f"| {label} | {mode} | {seconds * 1000:.0f} ms | {reached:.0f} of {len(paths)} |")


if __name__ == "__main__":
    main()
