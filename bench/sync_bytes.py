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
"""

from __future__ import annotations

import argparse
import hashlib
import json

import brotli

from . import report
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
        assert api[2] == files[2] and len(api[2]) == keep, "both ways bring the same newest statements"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="statements published before the first sync")
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
    print(f"raw results: {report.save('sync_bytes', result)}")


if __name__ == "__main__":
    main()
