"""Static export: time and size of `flask --app app export` at 1,000 and 10,000 statements.

    .venv/bin/python -m bench.export [--counts 1000 10000]

For each count, a fresh database receives that many generated statements
(the seed's length, varied words, three a day, one of five tags, every
fiftieth withdrawn) through the write path, then the real command runs in
a subprocess:

    flask --app app export DIR --base-url http://127.0.0.1:8080/news/   (--base-url)

and the folder is measured: files (without their siblings), their raw
bytes, what a client taking Brotli downloads (each file's ``.br`` sibling
where it has one, else the file), and everything on disk (siblings and the
hosts' files included). Every file the sync index names must be there and
no withdrawn body anywhere, or the run fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

from testbed.servers import BIN, REPO

from . import report
from .scale import TAGS, make_app
from .site import publish, scratch_folder, site_env
from .sync_efficiency import seed_shape, statement_text

BASE_URL = "http://127.0.0.1:8080/news/"
WITHDRAW_EVERY = 50
WITHDRAWN_MARK = "withdrawn-body-marker"


def fill(app, count: int, batch: int = 500) -> None:
    """Publish ``count`` generated statements through the write path; withdraw every WITHDRAW_EVERY-th."""
    from bulletin.authoring import changes
    from bulletin.statements import db
    from bulletin.statements.db import transaction

    vocabulary, lengths = seed_shape()
    connection = db.connect(app.config["DATABASE"])
    withdrawn = []
    for first in range(0, count, batch):
        with transaction(connection):
            for n in range(first, min(first + batch, count)):
                title, body = statement_text(n, vocabulary, lengths)
                if n % WITHDRAW_EVERY == 0:
                    body = body.replace("</p>", f" {WITHDRAWN_MARK}</p>", 1)
                published = dt.date(1990, 1, 1) + dt.timedelta(days=n // 3)
                made = publish(connection, title, body, published, tags=[TAGS[n % len(TAGS)]])
                if n % WITHDRAW_EVERY == 0:
                    withdrawn.append(made)
    for statement_id in withdrawn:
        changes.withdraw(
            connection, statement_id, "Withdrawn for the benchmark.", changes.tool_context("bench")
        )
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def run_export(folder: Path, target: Path, base_url: str) -> float:
    """Seconds the export command took; fails when it does."""
    env = {**os.environ, **site_env(folder)}
    start = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "app", "export", str(target), "--base-url", base_url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"flask export failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return seconds


def measure(target: Path) -> dict:
    """Files, raw and Brotli bytes, bytes on disk; checks the sync files and that no withdrawn body is there."""
    files = raw = brotli_bytes = on_disk = 0
    for path in target.rglob("*"):
        if not path.is_file():
            continue
        size = path.stat().st_size
        on_disk += size
        if path.suffix in (".br", ".gz") or path.name.startswith((".", "_")) or path.suffix == ".conf":
            continue
        data = path.read_bytes()
        if WITHDRAWN_MARK.encode() in data:
            raise RuntimeError(f"{path} holds a withdrawn body")
        files += 1
        raw += size
        sibling = path.with_name(path.name + ".br")
        brotli_bytes += sibling.stat().st_size if sibling.exists() else size
    index = json.loads((target / "sync" / "index.json").read_text(encoding="utf-8"))
    for entry in [index["snapshot"], index["older"], *index["chunks"]]:
        if not (target / "sync" / entry["path"]).is_file():
            raise RuntimeError(f"the sync index names {entry['path']}, which is not in the export")
    return {"files": files, "raw": raw, "brotli": brotli_bytes, "on_disk": on_disk}


def one(count: int, base_url: str) -> dict:
    folder = scratch_folder(f"bench-export-{count}-")
    app = make_app(folder)
    start = time.perf_counter()
    fill(app, count)
    print(f"  {count:,} statements published in {time.perf_counter() - start:.0f} s", flush=True)
    target = folder / "export"
    seconds = run_export(folder, target, base_url)
    sizes = measure(target)
    print(f"  exported in {seconds:.1f} s: {sizes}", flush=True)
    return {"statements": count, "seconds": seconds, **sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--base-url", default=BASE_URL)
    args = parser.parse_args()
    rows = [one(count, args.base_url) for count in args.counts]
    mib = 1024 * 1024
    print(report.machine())
    print(
        report.table(
            [
                "statements",
                "export s",
                "files",
                "raw MiB",
                "Brotli MiB",
                "on disk MiB",
                "Brotli KB/statement",
            ],
            [
                [
                    r["statements"],
                    r["seconds"],
                    r["files"],
                    r["raw"] / mib,
                    r["brotli"] / mib,
                    r["on_disk"] / mib,
                    r["brotli"] / 1024 / r["statements"],
                ]
                for r in rows
            ],
        )
    )
    print(report.save("export", {"runs": rows}))


if __name__ == "__main__":
    main()
