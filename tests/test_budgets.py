"""Byte budgets: what a reader on a 2G link pays, counted on the wire.

Bytes are deterministic, so these are tests; speed is measured in bench/.
Sizes include the status line and headers, as a reader's radio sends them.
Every budget holds in every interface language: a statement's page speaks
its statement's language, with that language's page script and manifest.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import STATEMENT_FILE, shared_seeds

from bulletin.assets import bundles
from bulletin.i18n import INTERFACE_LANGS

SEED_PAGE_BUDGET = 5_600  # text.npr.org's whole page
ONE_ROUND_TRIP = 14_000  # about ten TCP segments: one initial congestion window
FIRST_VISIT_BUDGET = 20_000
PRECACHE_AND_FIRST_SYNC_BUDGET = 100_000


def wire_bytes(client, url: str, encoding: str) -> int:
    """Status line, headers and body as sent to a client accepting ``encoding``."""
    with client.get(url, headers={"Accept-Encoding": encoding}) as response:
        assert response.status_code == 200, url
        head = f"HTTP/1.1 {response.status}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in response.headers.items()) + "\r\n"
        return len(head.encode("latin-1")) + len(response.get_data())


@pytest.fixture(params=INTERFACE_LANGS)
def lang(request):
    """Each interface language in turn."""
    return request.param


def prefix(lang: str) -> str:
    return "" if lang == "en" else f"/{lang}"


@pytest.fixture(params=["own", "shared seed"])
def seed_url(request, runner, app, lang):
    """A real-sized statement page in ``lang``'s interface: the tests' own file, and the real seed where present."""
    path = STATEMENT_FILE if request.param == "own" else shared_seeds()[0]
    result = runner.invoke(args=["import", "--lang", lang, str(path)])
    assert result.exit_code == 0, result.output
    return re.search(r"-> (\S+)", result.output).group(1)


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_seed_page_fits_the_lightest_news_page(client, seed_url, encoding):
    # (seed_url is in each interface language in turn.)
    assert wire_bytes(client, seed_url, encoding) <= SEED_PAGE_BUDGET


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_10_kb_statement_arrives_in_one_round_trip(client, publisher, lang, encoding):
    # Varied text, so that compression cannot cheat on repetition.
    words = [f"word{n * 7919 % 10007}" for n in range(1400)]
    paragraphs = "".join(f"<p>{' '.join(words[i : i + 70])}.</p>" for i in range(0, len(words), 70))
    assert len(re.sub("<[^>]+>", "", paragraphs)) >= 10_000
    publisher.publish("A long statement", paragraphs, slug="long", lang=lang)
    assert wire_bytes(client, "/statements/long/", encoding) < ONE_ROUND_TRIP


def test_statement_page_has_one_render_critical_request(client, seed_url):
    html = client.get(seed_url).get_data(as_text=True)
    assert 'rel="stylesheet"' not in html and "@font-face" not in html and "@import" not in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(" defer" in tag or 'type="application/json"' in tag for tag in scripts)
    assert "<style>" in html


def first_visit_urls(app, page_url: str, lang: str) -> list[str]:
    script = bundles.script_url(bundles.built(app), lang)
    return [page_url, script, f"{prefix(lang)}/manifest.webmanifest", "/favicon.ico", "/sw.js"]


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_first_visit_fits_the_budget(client, app, seed_url, lang, encoding):
    page = client.get(seed_url).get_data(as_text=True)
    assert f'<html lang="{lang}"' in page  # the statement's own interface
    assert bundles.script_url(bundles.built(app), lang) in page
    sizes = {url: wire_bytes(client, url, encoding) for url in first_visit_urls(app, seed_url, lang)}
    assert sum(sizes.values()) <= FIRST_VISIT_BUDGET, sizes


def test_precache_and_first_sync_of_50_statements_fit_the_budget(client, app, publisher, lang):
    seed_text = STATEMENT_FILE.read_text(encoding="utf-8")
    paragraphs = [p for p in seed_text.split("\n\n")[2:] if p.strip()]
    for n in range(50):
        # Each statement differs, so the sync answer cannot compress them to one.
        body = "".join(f"<p>{n} {p}</p>" for p in paragraphs[n % 2 :])
        publisher.publish(f"Statement number {n}", body, lang=lang)
    # What the worker stores on install, and the entries of the reader's language it adds.
    precache = {entry["url"] for entry in _precache_list(client)}
    settings = _settings(client)
    for code in ("en", lang):  # the default language's on install, the reader's when a page in it shows
        precache.add(settings["languages"][code][0])
        precache |= {prefix(code) + path for path in settings["languagePages"]}
    precached = sum(wire_bytes(client, url, "br") for url in precache)
    by_api = wire_bytes(client, "/api/sync?limit=50", "br")
    assert len(client.get("/api/sync?limit=50").get_json()["statements"]) == 50
    assert precached + by_api <= PRECACHE_AND_FIRST_SYNC_BUDGET
    # By files, as the worker syncs where the index is found: the index and the snapshot.
    index = json.loads(client.get("/sync/index.json").get_json()["payload"])  # a signed envelope
    snapshot = "/sync/" + index["snapshot"]["path"]
    by_files = wire_bytes(client, "/sync/index.json", "br") + wire_bytes(client, snapshot, "br")
    assert len(client.get(snapshot).get_json()["records"]) == 50
    assert precached + by_files <= PRECACHE_AND_FIRST_SYNC_BUDGET


def _settings(client) -> dict:
    source = client.get("/sw.js").get_data(as_text=True)
    return json.loads(re.match(r"const SETTINGS=(\{.*?\});", source).group(1))


def _precache_list(client) -> list[dict]:
    return _settings(client)["precache"]


def test_large_icons_are_not_precached(client):
    urls = [entry["url"] for entry in _precache_list(client)]
    assert "/static/icons/icon-512.png" not in urls and "/static/icons/icon-maskable-512.png" not in urls
