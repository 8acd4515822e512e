"""Sync efficiency: what a device pays to learn of 1, 10 and 100 new statements.

    .venv/bin/python -m bench.sync_efficiency

For each N, a fresh database gets the seed statement, a device takes its
starting snapshot (as the service worker does), then N new statements are
published, each about as long as the seed and made of varied words so that
they do not compress into each other. The device then syncs from its cursor
the way the worker does (``since=CURSOR&limit=50``, following ``more``), and
again in one request (``limit=200``). Bytes are counted on the wire (status
line, headers and body, Brotli as Chromium asks for it) and compared with
Brotli 11 of the N statements' bodies alone, concatenated. For N = 100 the
sync body is also compressed without ``article_html`` and without
``body_html``, to show what carrying both costs.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

import brotli

from . import report
from .site import publish as publish_one
from .site import scratch_folder, seed_file

ACCEPT = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Chromium sends
COUNTS = (1, 10, 100)
WORKER_LIMIT = 50  # BULLETIN_SYNC_LIMIT's default: what the service worker asks for
ONE_REQUEST_LIMIT = 200  # BULLETIN_SYNC_MAX_LIMIT's default
GOAL = 1.15


def seed_shape() -> tuple[list[str], list[int]]:
    """The seed statement's vocabulary and its paragraphs' lengths in words."""
    text = seed_file().read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n")[2:] if p.strip() and "currently offline" not in p]
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    return sorted(set(words)), [len(p.split()) for p in paragraphs]


def statement_text(number: int, vocabulary: list[str], lengths: list[int]) -> tuple[str, str]:
    """(title, body HTML) of generated statement ``number``: the seed's length, its own words."""
    rng = random.Random(number)
    # A Zipf-like choice, as in real text: common words often, rare words seldom.
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    order = vocabulary[:]
    rng.shuffle(order)

    def sentence(count: int) -> str:
        words = rng.choices(order, weights, k=count)
        return " ".join(words).capitalize() + "."

    paragraphs = []
    for length in lengths:
        sentences, left = [], length
        while left > 0:
            size = min(left, rng.randint(8, 24))
            sentences.append(sentence(size))
            left -= size
        paragraphs.append(f"<p>{' '.join(sentences)}</p>")
    title = f"Statement {number}: " + sentence(rng.randint(4, 9)).rstrip(".")
    return title, "".join(paragraphs)


def wire_bytes(response) -> int:
    """Status line, headers and body as they travel."""
    head = f"HTTP/1.1 {response.status}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in response.headers.items()) + "\r\n"
    return len(head.encode("latin-1")) + len(response.get_data())


def new_app(folder: Path):
    """A Bulletin app on a fresh database in ``folder``, with the seed imported."""
    from bulletin import create_app
    from bulletin.statements import db

    app = create_app({"DATABASE": str(folder / "bulletin.sqlite3"), "SECRET_KEY": "bench"})
    db.migrate_file(app.config["DATABASE"])
    result = app.test_cli_runner().invoke(args=["import", str(seed_file())])
    assert result.exit_code == 0, result.output
    return app


def publish(app, statements: list[tuple[str, str]]) -> list[str]:
    """Publish the (title, body) pairs in one transaction; return their bodies as stored."""
    from bulletin.statements import db
    from bulletin.statements.db import transaction

    connection = db.connect(app.config["DATABASE"])
    with transaction(connection):
        for n, (title, body) in enumerate(statements):
            publish_one(connection, title, body, dt.date(2022, 1, 8) + dt.timedelta(days=n))
    stored = [
        row[0]
        for row in connection.execute(
            "SELECT r.body_html FROM statements s JOIN revisions r ON r.id = s.current_revision"
            " WHERE r.author = 'bench' ORDER BY s.change_seq"
        )
    ]
    connection.close()
    return stored


def sync(client, cursor: str, limit: int) -> tuple[int, int, list[dict]]:
    """Follow ``more`` from ``cursor``: (requests, wire bytes, the last response's JSON statements)."""
    requests = total = 0
    received = []
    while True:
        response = client.get(f"/api/sync?since={cursor}&limit={limit}", headers=ACCEPT)
        assert response.status_code == 200, response.status_code
        requests += 1
        total += wire_bytes(response)
        body = json.loads(
            brotli.decompress(response.get_data())
            if response.headers.get("Content-Encoding") == "br"
            else response.get_data()
        )
        received += body["statements"]
        cursor = body["cursor"]
        if not body["more"]:
            return requests, total, received


def br(data: bytes) -> int:
    """Brotli 11 size of ``data``."""
    return len(brotli.compress(data, quality=11))


def measure_one(count: int, vocabulary, lengths, folder: Path) -> dict:
    """Sync cost of ``count`` new statements, at the worker's limit and in one request."""
    app = new_app(folder)
    client = app.test_client()
    cursor = client.get(f"/api/sync?limit={WORKER_LIMIT}").get_json()["cursor"]
    bodies = publish(app, [statement_text(n, vocabulary, lengths) for n in range(count)])
    alone = br("".join(bodies).encode("utf-8"))
    requests, worker_bytes, received = sync(client, cursor, WORKER_LIMIT)
    assert len(received) == count, (len(received), count)
    one_requests, one_bytes, received = sync(client, cursor, ONE_REQUEST_LIMIT)
    result = {
        "count": count,
        "bodies_br": alone,
        "text_bytes": len("".join(bodies).encode()),
        "worker_requests": requests,
        "worker_bytes": worker_bytes,
        "one_requests": one_requests,
        "one_bytes": one_bytes,
    }
    if count == max(COUNTS):
        result["parts"] = _parts(client, cursor)
    return result


def _parts(client, cursor: str) -> dict:
    """Brotli 11 of the one-request body as sent, without article_html, without body_html."""
    body = client.get(f"/api/sync?since={cursor}&limit={ONE_REQUEST_LIMIT}").get_json()

    def without(field: str) -> int:
        trimmed = dict(
            body, statements=[{k: v for k, v in s.items() if k != field} for s in body["statements"]]
        )
        return br(json.dumps(trimmed, ensure_ascii=False, separators=(",", ":")).encode())

    return {
        "as_sent": br(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()),
        "without_article_html": without("article_html"),
        "without_body_html": without("body_html"),
    }


def main() -> None:
    """Measure, print the tables, save the raw numbers under bench/results/."""
    print(f"machine: {report.machine()}")
    vocabulary, lengths = seed_shape()
    work = scratch_folder("bulletin-sync-")
    results = [measure_one(count, vocabulary, lengths, work / str(count)) for count in COUNTS]
    rows = [
        [
            r["count"],
            r["text_bytes"],
            r["bodies_br"],
            r["worker_requests"],
            r["worker_bytes"],
            report.ratio(r["worker_bytes"], r["bodies_br"]),
            r["one_requests"],
            r["one_bytes"],
            report.ratio(r["one_bytes"], r["bodies_br"]),
        ]
        for r in results
    ]
    print(
        report.table(
            [
                "new statements",
                "bodies (HTML bytes)",
                "bodies alone, Brotli 11",
                f"requests (limit {WORKER_LIMIT})",
                "wire bytes",
                "ratio",
                f"requests (limit {ONE_REQUEST_LIMIT})",
                "wire bytes",
                "ratio",
            ],
            rows,
        )
    )
    parts = results[-1]["parts"]
    print()
    print(
        report.table(
            [f"{COUNTS[-1]} statements in one body, Brotli 11", "bytes", "vs bodies alone"],
            [
                [name.replace("_", " "), size, report.ratio(size, results[-1]["bodies_br"])]
                for name, size in parts.items()
            ],
        )
    )
    print(f"goal: {COUNTS[-1]} statements in one request <= {GOAL}x the Brotli size of their bodies")
    print("saved", report.save("sync_efficiency", {"results": results}))


if __name__ == "__main__":
    main()
