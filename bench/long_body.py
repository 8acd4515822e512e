"""One very long statement: how long it takes to save, and to render its page.

    .venv/bin/python -m bench.long_body [--paragraphs 40000] [--repetitions 3]

Two bodies of about 1 MB and ``--paragraphs`` paragraphs each, the shapes
that once took half a minute: Markdown ``"a\\n\\n"`` repeated, and HTML
``<p>a</p>`` repeated. Each is saved through the write path
(``changes.create``, published) on a fresh database, then its page is
requested through the Flask test client with every kept response cleared
first, so the render is a real one. Times are medians of the repetitions;
the goal is a save within 5 s and a page within 1 s.

``--profile markdown|html`` prints where one save's time goes (cProfile, top 25 entries).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import statistics
import time

from bulletin import create_app
from bulletin.authoring import changes
from bulletin.statements import db, store

from . import report
from .site import scratch_folder

SAVE_GOAL_S = 5.0
RENDER_GOAL_S = 1.0


def bodies(paragraphs: int) -> dict[str, tuple[str, str]]:
    """name: (source format, body) of the long bodies measured: about 1 MB in ``paragraphs`` paragraphs."""
    each = max(10, 1_000_000 // paragraphs)  # bytes per paragraph, markup included
    return {
        "Markdown a\\n\\n": ("markdown", ("a" * (each - 2) + "\n\n") * paragraphs),
        "HTML <p>a</p>": ("html", ("<p>" + "a" * (each - 8) + "</p>\n") * paragraphs),
    }


def _app(folder):
    app = create_app(
        {"TESTING": True, "DATABASE": str(folder / "long.sqlite3"), "SECRET_KEY": "benchmark-only-secret"}
    )
    db.migrate_file(app.config["DATABASE"])
    return app


def save_once(app, source_format: str, body: str, title: str) -> str:
    """Create and publish the statement; its id."""
    draft = changes.Draft(
        title=title, body=body, source_format=source_format, lang="", published=dt.date(2024, 5, 1)
    )
    connection = db.connect(app.config["DATABASE"])
    try:
        return changes.create(
            connection, draft, changes.tool_context("bench@example.org"), publish=True
        ).statement_id
    finally:
        connection.close()


def render_once(app, statement_id: str) -> tuple[float, int, int]:
    """Seconds to answer the statement's page with nothing kept; status and size."""
    connection = db.connect(app.config["DATABASE"])
    try:
        url = store.get_by_id(connection, statement_id).url
    finally:
        connection.close()
    for name in ("bulletin_rendered", "bulletin_hotpath"):
        if name in app.extensions:
            app.extensions[name].clear()
    from bulletin.site import render

    render._rendered_article.cache_clear()
    client = app.test_client()
    start = time.perf_counter()
    response = client.get(url)
    return time.perf_counter() - start, response.status_code, len(response.data)


def measure(paragraphs: int, repetitions: int) -> dict:
    results = {}
    for name, (source_format, body) in bodies(paragraphs).items():
        saves, renders = [], []
        for n in range(repetitions):
            app = _app(scratch_folder("bulletin-long-body-"))
            start = time.perf_counter()
            statement_id = save_once(app, source_format, body, f"Long statement {n}")
            saves.append(time.perf_counter() - start)
            seconds, status, size = render_once(app, statement_id)
            if status != 200:
                raise RuntimeError(f"{name}: the page answered {status}")
            renders.append(seconds)
        results[name] = {
            "bytes": len(body.encode()),
            "save_s": statistics.median(saves),
            "render_s": statistics.median(renders),
            "page_bytes": size,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=40_000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument(
        "--profile", choices=("markdown", "html"), help="profile one save of that body instead of measuring"
    )
    args = parser.parse_args()
    if args.profile:
        source_format, body = next(b for b in bodies(args.paragraphs).values() if b[0] == args.profile)
        app = _app(scratch_folder("bulletin-long-body-"))
        profiler = cProfile.Profile()
        profiler.runcall(save_once, app, source_format, body, "Profiled")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return
    results = measure(args.paragraphs, args.repetitions)
    rows = [
        [
            name,
            f"{r['bytes'] / 1e6:.2f} MB",
            f"{r['save_s']:.2f} s",
            f"{r['render_s'] * 1000:.0f} ms",
            "yes" if r["save_s"] <= SAVE_GOAL_S and r["render_s"] <= RENDER_GOAL_S else "no",
        ]
        for name, r in results.items()
    ]
    print(f"{args.paragraphs:,} paragraphs, median of {args.repetitions}; goal: save <= 5 s, page <= 1 s\n")
    print(report.table(["body", "size", "save", "page render", "met"], rows))
    print(f"\n{report.machine()}")
    report.save("long_body", {"paragraphs": args.paragraphs, "results": results})


if __name__ == "__main__":
    main()
