"""Sync bytes: a first sync and a one-statement update, by files against /api/sync.

    .venv/bin/python -m bench.sync_bytes [--count 200]

A fresh database gets the seed and ``--count`` statements as long as the
seed, of varied words. A new device then syncs as the worker does, both ways:

* by ``/api/sync``: ``?limit=<BULLETIN_OFFLINE_KEEP>`` for a new device,
  ``?since=<cursor>&limit=<BULLETIN_SYNC_LIMIT>`` for an update;
* by files: ``sync/index.json`` and the snapshot for a new device, the index
  and every chunk past the device's position for an update.

One statement is then published and the device updates. Bytes are counted on
the wire (status line, headers, body), with ``Accept-Encoding: identity``
(raw) and as Chromium asks (Brotli). Every response must be a 200, every file
exactly the size and SHA-256 its index gives, and both ways must bring the
same statements.

With ``--index-statements N`` it also measures what keeping the index costs
at N statements (published through the store in one transaction, short
bodies): the first index of a process (every chunk rendered once), then for
``--changes`` publications each, the time from the save's commit to the new
index answered (p50/p99), and the index's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import time

import brotli

from . import report
from .scale import make_app, percentile
from .site import publish as publish_one
from .site import scratch_folder
from .sync_efficiency import ACCEPT, new_app, publish, seed_shape, statement_text, wire_bytes

RAW = {"Accept-Encoding": "identity"}


def body_of(response) -> bytes:
    """The response's bytes as the client decodes them."""
    data = response.get_data()
    return brotli.decompress(data) if response.headers.get("Content-Encoding") == "br" else data


def get(client, url: str, headers: dict, entry: dict | None = None) -> tuple[int, bytes]:
    """(wire bytes, decoded body) of one GET that must answer 200 (and match its index ``entry``)."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    data = body_of(response)
    if entry is not None:
        assert len(data) == entry.get("size", len(data)), (url, len(data), entry)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], url
    return wire_bytes(response), data


def by_api(client, cursor: str | None, headers: dict, limit: int) -> tuple[int, int, set, str]:
    """(requests, wire bytes, statement ids, new cursor) of a sync through /api/sync, following ``more``."""
    requests = total = 0
    ids = set()
    while True:
        url = f"/api/sync?since={cursor}&limit={limit}" if cursor else f"/api/sync?limit={limit}"
        size, data = get(client, url, headers)
        body = json.loads(data)
        requests, total = requests + 1, total + size
        ids |= {s["id"] for s in body["statements"]}
        cursor = body["cursor"]
        if not body["more"]:
            return requests, total, ids, cursor


def by_files(client, position: int | None, headers: dict) -> tuple[int, int, set, int]:
    """(requests, wire bytes, statement ids, new position) of a sync through the files, as the worker does."""
    total, data = get(client, "/sync/index.json", headers)
    index = json.loads(data)
    requests, ids = 1, set()
    if position is None:
        size, data = get(client, "/sync/" + index["snapshot"]["path"], headers, index["snapshot"])
        requests, total = requests + 1, total + size
        ids |= {r["id"] for r in json.loads(data)["records"]}
        position = index["snapshot"]["seq"]
    chunks = index["chunks"]
    if position < index["older"]["to"]:
        size, data = get(client, "/sync/" + index["older"]["path"], headers, index["older"])
        requests, total = requests + 1, total + size
        chunks = json.loads(data)["chunks"] + chunks
    for chunk in [c for c in chunks if c["to"] > position]:
        size, data = get(client, "/sync/" + chunk["path"], headers, chunk)
        requests, total = requests + 1, total + size
        ids |= {r["id"] for r in json.loads(data)["records"] if "withdrawn_at" not in r}
    return requests, total, ids, index["seq"]


def measure(count: int) -> dict:
    vocabulary, lengths = seed_shape()
    app = new_app(scratch_folder("bulletin-sync-bytes-"))
    publish(app, [statement_text(n, vocabulary, lengths) for n in range(count)])
    keep, limit = app.config["OFFLINE_KEEP"], app.config["SYNC_LIMIT"]
    client = app.test_client()
    rows = {"raw": {}, "Brotli": {}}
    first = {}
    for name, headers in (("raw", RAW), ("Brotli", ACCEPT)):
        api = by_api(client, None, headers, keep)
        files = by_files(client, None, headers)
        assert api[2] == files[2] and len(api[2]) == min(keep, count + 1), (
            "both ways bring the same newest statements"
        )
        rows[name]["first"] = {"api": api[:2], "files": files[:2]}
        first[name] = (api[3], files[3])
    publish(app, [statement_text(count + 1, vocabulary, lengths)])
    for name, headers in (("raw", RAW), ("Brotli", ACCEPT)):
        cursor, position = first[name]
        api = by_api(client, cursor, headers, limit)
        files = by_files(client, position, headers)
        assert api[2] == files[2] and len(api[2]) == 1, "both ways bring the one new statement alone"
        rows[name]["update"] = {"api": api[:2], "files": files[:2]}
    return {"count": count, "keep": keep, "rows": rows}


def index_cost(count: int, changes: int) -> dict:
    """Seconds for the first index at ``count`` statements; ms from each later save to its new index."""
    from bulletin.statements import db, store
    from bulletin.statements.db import transaction

    app = make_app(scratch_folder("bulletin-sync-index-"))
    connection = db.connect(app.config["DATABASE"])
    start = time.perf_counter()
    with transaction(connection):
        for n in range(count):
            published = dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n)
            publish_one(connection, f"Statement {n}", f"<p>Text of statement {n}.</p>", published)
    filled = time.perf_counter() - start
    client = app.test_client()
    start = time.perf_counter()
    response = client.get("/sync/index.json")
    first = time.perf_counter() - start
    assert response.status_code == 200
    samples = []
    for n in range(changes):
        publish_one(connection, f"New {n}", f"<p>New statement {n}.</p>", dt.date(2025, 1, 1))
        start = time.perf_counter()
        response = client.get("/sync/index.json")
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and response.get_json()["seq"] == store.latest_change_seq(
            connection
        )
    connection.close()
    return {
        "statements": count,
        "fill_seconds": filled,
        "first_index_seconds": first,
        "after_a_change_ms": {
            "p50": percentile(samples, 0.5),
            "p99": percentile(samples, 0.99),
            "n": changes,
        },
        "index_bytes": len(response.get_data()),
        "index_brotli": len(brotli.compress(response.get_data(), quality=11)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="statements published before the first sync")
    parser.add_argument("--index-statements", type=int, default=0, help="also time the index at this many")
    parser.add_argument("--changes", type=int, default=50, help="publications timed with --index-statements")
    args = parser.parse_args()
    print(f"machine: {report.machine()}")
    result = measure(args.count)
    table = []
    for what in ("first", "update"):
        for name in ("raw", "Brotli"):
            api, files = result["rows"][name][what]["api"], result["rows"][name][what]["files"]
            label = f"first sync ({result['keep']} statements)" if what == "first" else "one new statement"
            table.append([label, name, api[0], api[1], files[0], files[1], report.ratio(files[1], api[1])])
    print(
        report.table(
            [
                "sync",
                "encoding",
                "/api/sync requests",
                "/api/sync bytes",
                "files requests",
                "files bytes",
                "files / api",
            ],
            table,
        )
    )
    if args.index_statements:
        cost = index_cost(args.index_statements, args.changes)
        after = cost["after_a_change_ms"]
        print(
            report.table(
                [
                    "statements",
                    "first index (s)",
                    "after a change p50 (ms)",
                    "p99 (ms)",
                    "index bytes",
                    "Brotli",
                ],
                [
                    [
                        cost["statements"],
                        cost["first_index_seconds"],
                        after["p50"],
                        after["p99"],
                        cost["index_bytes"],
                        cost["index_brotli"],
                    ]
                ],
            )
        )
        result["index_cost"] = cost
    print(f"raw results: {report.save('sync_bytes', result)}")


if __name__ == "__main__":
    main()
