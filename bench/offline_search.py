"""The device's own search over 1,000 stored statements, in headless Chromium at 4x CPU slowdown.

    .venv/bin/python -m bench.offline_search [--statements 1000] [--rounds 5]

Bulletin runs under gunicorn on 127.0.0.1 (a throwaway site). A fresh
browser context visits once (the worker installs and syncs), then 1,000
statements are stored on the device as sync stores them: records holding
the server's article markup, made from the Russian, Kazakh and Arabic test
statements' paragraphs (tests/data/statements/search/), about 1,900
characters of text each. The device then goes offline and the CPU is slowed
4x (CDP ``Emulation.setCPUThrottlingRate``); each search is a navigation to
``/search/?q=...`` answered by the worker, as when a reader sends the search
box offline, and its time is what the page script measures (User Timing
``bulletin-search``: loading the search script, reading the index, the
search, the first 10 results with their snippets):

* first search after the stored statements changed: the index is built;
* every later search: the index is read from the device's storage.

Every answer is checked: the titles shown must be the newest 10 of the
statements the server's word code (bulletin/statements/words.py) says
match, and the line must name all the statements. The index's size
(UTF-8 bytes of its JSON) is compared with the statements' text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import random
import time
import urllib.parse

from bulletin.statements import words
from testbed.chromium import LAUNCH_ARGS
from testbed.servers import REPO, start_gunicorn

from . import report
from .site import make_site, scratch_folder

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CPU_SLOWDOWN = 4
GOAL_MS = 100.0
GOAL_INDEX_RATIO = 0.30
SHOWN = 10  # results the device shows at first (static/js/search/device-search.js)
SOURCES = REPO / "tests" / "data" / "statements" / "search"
QUERIES = [
    "свобода",  # Russian endings
    "связь отключена",  # two words, both must match
    "журналист",  # Russian and Kazakh words starting so
    "бостанды",  # a Kazakh prefix
    "الحرية",  # Arabic without tashkeel
    "الحُرِّيَّة",  # and with it
    "несуществующееслово",  # nothing
]
WAIT_SECONDS = 60.0


def paragraphs_by_language() -> dict[str, tuple[list[str], list[str]]]:
    """(titles, paragraphs) of the test statements, by language (the file name's start)."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for path in sorted(SOURCES.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        titles, paragraphs = found.setdefault(path.name[:2], ([], []))
        titles.append(lines[0])
        paragraphs.extend(
            line for line in lines[3:] if line and not line.startswith("You are currently offline")
        )
    return found


def make_records(count: int) -> tuple[list[dict], list[str]]:
    """``count`` device records (newest first by number) and the plain text of each."""
    pool = paragraphs_by_language()
    langs = sorted(pool)
    chance = random.Random(7)
    records, texts = [], []
    start = dt.date(2020, 1, 1)
    for n in range(count):
        lang = langs[n % len(langs)]
        titles, paragraphs = pool[lang]
        title = f"{chance.choice(titles)} {n}"
        body = chance.sample(paragraphs, 8)
        day = (start + dt.timedelta(days=n)).isoformat()
        direction = "rtl" if lang == "ar" else "ltr"
        article = (
            f'<article class="statement" lang="{lang}" dir="{direction}" data-id="bench-{n:04d}" data-revision="r1">'
            f"<h1>{html.escape(title)}</h1>"
            f'<p class="meta" lang="en" dir="ltr"><time datetime="{day}">{day}</time></p>'
            + "".join(f"<p>{html.escape(p)}</p>" for p in body)
            + "</article>"
        )
        records.append(
            {
                "id": f"bench-{n:04d}",
                "revision": "r1",
                "url": f"/statements/bench-{n:04d}/",
                "title": title,
                "lang": lang,
                "dir": direction,
                "published": day,
                "article_html": article,
                "pinned": False,
                "withdrawn": False,
            }
        )
        texts.append(f"{title} {' '.join(body)}")
    return records, texts


def expected_titles(records: list[dict], texts: list[str], query: str) -> list[str]:
    """The titles the device must show first: the newest matches, by the server's word code."""
    wanted = words.query_candidates(query)
    hits = []
    for record, text in zip(records, texts, strict=True):
        keys = set(words.keys(text, record["lang"]))
        if all(any(words.matches(k, options) for k in keys) for options in wanted):
            hits.append(record)
    hits.sort(key=lambda r: r["published"], reverse=True)
    return [r["title"] for r in hits[:SHOWN]]


STORE = """async (records) => {
  const now = Date.now();
  await OfflineStore.putAll(records.map((r) => Object.assign(r, { lastRead: now })));
  return OfflineStore.count();
}"""
RESULT = """(seen) => {
  const timings = performance.getEntriesByName("bulletin-search");
  const timing = timings[timings.length - 1];
  const covered = document.getElementById("search-covered");
  if (timings.length <= seen || !covered) return null;
  return {
    ms: timing.duration, sinceNavigation: timing.startTime + timing.duration, covered: covered.textContent,
    titles: Array.from(document.querySelectorAll("#device-search li h2")).map((h) => h.textContent),
    marks: document.querySelectorAll("#device-search mark").length,
  };
}"""
INDEX_SIZE = """async () => {
  const index = await OfflineStore.getMeta("searchIndex");
  return new TextEncoder().encode(JSON.stringify(index)).length;
}"""


def wait_for(page, script: str, *args):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = page.evaluate(script, *args)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"waited {WAIT_SECONDS} s for {script[:60]!r}")


def search(page, query: str) -> dict:
    """A search sent from another page: the worker answers the navigation, the page searches."""
    page.goto("/search/?q=" + urllib.parse.quote(query))
    return wait_for(page, RESULT, 0)


def search_again(page, query: str) -> dict:
    """Another search from the box of the device's search page: searched in the page."""
    seen = page.evaluate('() => performance.getEntriesByName("bulletin-search").length')
    page.fill("#q", query)
    page.press("#q", "Enter")
    return wait_for(page, RESULT, seen)


def check(result: dict, expected: list[str], count: int, query: str) -> None:
    if result["titles"] != expected:
        raise AssertionError(f"{query!r}: shown {result['titles'][:3]}..., expected {expected[:3]}...")
    if f" {count} statements" not in result["covered"]:
        raise AssertionError(f"{query!r}: the line says {result['covered']!r}, not {count} statements")
    if expected and not result["marks"]:
        raise AssertionError(f"{query!r}: no word marked")


def measure(server, browser, count: int, rounds: int) -> dict:
    records, texts = make_records(count)
    expected = {query: expected_titles(records, texts, query) for query in QUERIES}
    context = browser.new_context(base_url=server.url(""), service_workers="allow")
    try:
        page = context.new_page()
        page.goto("/")
        wait_for(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
        wait_for(page, 'async () => Boolean(await OfflineStore.getMeta("lastSync"))')
        stored = page.evaluate(STORE, records)
        context.set_offline(True)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        # An attached CDP session makes the next documents report navigator.onLine true; the
        # page's offline emulation on that session keeps it false, as a reader's offline phone.
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        builds, first, since_navigation, queries = [], [], [], {query: [] for query in QUERIES}
        for build in range(3):  # a changed store: the next search builds the index again
            page.evaluate("(n) => OfflineStore.setMeta('lastSync', Date.now() + n)", build)
            result = search(page, QUERIES[0])
            check(result, expected[QUERIES[0]], stored, QUERIES[0])
            builds.append(result["ms"])
        for round_number in range(rounds):
            query = QUERIES[round_number % len(QUERIES)]
            result = search(page, query)
            check(result, expected[query], stored, query)
            first.append(result["ms"])
            since_navigation.append(result["sinceNavigation"])
            for query in QUERIES:
                result = search_again(page, query)
                check(result, expected[query], stored, query)
                queries[query].append(result["ms"])
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        index_bytes = page.evaluate(INDEX_SIZE)
    finally:
        context.close()
    text_bytes = sum(len(text.encode("utf-8")) for text in texts)
    return {
        "statements": stored,
        "build_ms": builds,
        "first_ms": first,
        "query_ms": queries,
        "since_navigation_ms": since_navigation,
        "index_bytes": index_bytes,
        "text_bytes": text_bytes,
        "hits": {query: len(titles) for query, titles in expected.items()},
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="searches of each query (default 5)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = scratch_folder("bulletin-offline-search-")
    site = make_site(work / "site", samples=False)
    started = time.monotonic()
    with start_gunicorn("app:app", env=site.env, log=work / "gunicorn.log") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(LAUNCH_ARGS), headless=True)
        try:
            data = measure(server, browser, args.statements, args.rounds)
        finally:
            browser.close()
    every = [ms for values in data["query_ms"].values() for ms in values]
    rows = [
        [query, data["hits"][query], report.median(values), percentile(values, 0.99)]
        for query, values in data["query_ms"].items()
    ]
    rows.append(
        ["every search from the device's search page", "", report.median(every), percentile(every, 0.99)]
    )
    rows.append(
        ["first search of a page (index read)", "", report.median(data["first_ms"]), max(data["first_ms"])]
    )
    rows.append(
        [
            "first search after a change (index built)",
            "",
            report.median(data["build_ms"]),
            max(data["build_ms"]),
        ]
    )
    print(f"{data['statements']:,} statements on the device, CPU slowed {CPU_SLOWDOWN}x; {report.machine()}")
    print(report.table(["query", "shown (of 10)", "p50 ms", "p99 ms"], rows))
    ratio = report.ratio(data["index_bytes"], data["text_bytes"])
    print(
        f"\nindex {data['index_bytes']:,} bytes against {data['text_bytes']:,} bytes of text: {ratio:.0%}"
        f" (goal ≤ {GOAL_INDEX_RATIO:.0%}); every search p99 {percentile(every, 0.99):.0f} ms (goal ≤ {GOAL_MS:.0f} ms);"
        f" a search from another page: results {report.median(data['since_navigation_ms']):.0f} ms after"
        " the navigation started (p50);"
        f" run took {time.monotonic() - started:.0f} s"
    )
    print(report.save("offline_search", {"cpu_slowdown": CPU_SLOWDOWN, **data}))


if __name__ == "__main__":
    main()
