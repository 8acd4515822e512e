"""The public site as files: the published folder kept current by the change log."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import brotli
import pytest

from bulletin.authoring import changes
from bulletin.publishing import publisher as publishing
from bulletin.publishing.folder import file_for

REPO = Path(__file__).resolve().parent.parent

WITHDRAWN_BODY = "Body that must vanish"


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def app(make_app, folder):
    return make_app(PUBLISH_DIR=str(folder), BASE_URL="https://news.example.org")


def contents(root: Path) -> dict[str, bytes]:
    """Every file of a published folder (siblings included) by its name."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def readable(name: str, data: bytes) -> bytes:
    if name.endswith(".br"):
        return brotli.decompress(data)
    if name.endswith(".gz"):
        return gzip.decompress(data)
    return data


PACK = re.compile(r"^bundles/[^/]+-\d{4}-\d{2}\.html(\.br|\.gz)?$")
DATA_BLOCK = re.compile(rb'(<script type="application/json" id="bulletin-bundle">)(.*?)(</script>)', re.S)


def comparable(name: str, data: bytes) -> bytes:
    """A file as the live folder and a whole build must hold it alike. A pack (a bundle of one language
    and month) is written when one of its statements changes and carries the newest sync index of that
    moment, so its index is left out, once checked to be a signed index."""
    if not PACK.match(name):
        return data
    text = readable(name, data)
    opening, block, closing = DATA_BLOCK.search(text).groups()
    parsed = json.loads(block)
    assert parsed["index"] is None or json.loads(parsed["index"]["payload"])["type"] == "sync-index"
    parsed["index"] = None
    return text.replace(opening + block + closing, opening + json.dumps(parsed).encode() + closing)


def first_difference(live: dict, whole: dict, names: list[str]) -> str:
    """Where the first differing file's two versions part, for the failure's message."""
    name = names[0]
    a, b = readable(name, live[name]), readable(name, whole[name])
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, at - 200)
    return f"{names}: {name} live {a[start : at + 200]!r} whole {b[start : at + 200]!r}"


def test_paths_map_to_files():
    assert file_for("/") == "index.html"
    assert file_for("/ru/") == "ru/index.html"
    assert file_for("/statements/a-b") == "statements/a-b/index.html"
    assert file_for("/statements/a-b/") == "statements/a-b/index.html"
    assert file_for("/tags/x/feed.atom") == "tags/x/feed.atom"
    assert file_for("/statements/%D0%B0") == "statements/а/index.html"
    for hostile in ("/statements/%2E%2E/x", "/a//b", "/.hidden"):
        with pytest.raises(ValueError):
            file_for(hostile)


def test_whole_build_and_a_withdrawal(app, publisher, folder):
    kept = publisher.publish("Kept statement", slug="kept", tags=("press",))
    gone = publisher.publish("Gone statement", f"<p>{WITHDRAWN_BODY}</p>", slug="gone", tags=("press",))
    report = publishing.publish_all(app)
    assert folder.is_symlink() and report.written > 0
    page = folder / "statements/gone/index.html"
    assert WITHDRAWN_BODY.encode() in page.read_bytes()
    assert brotli.decompress((folder / "statements/gone/index.html.br").read_bytes()) == page.read_bytes()
    assert gzip.decompress((folder / "statements/gone/index.html.gz").read_bytes()) == page.read_bytes()
    # The same bytes a reader's request gets.
    assert page.read_bytes() == app.test_client().get("/statements/gone/").get_data()
    for name in (
        "index.html",
        "ru/index.html",
        "tags/press/index.html",
        "ar/tags/press/index.html",
        "tags/press/feed.atom",
        "feed.atom",
        "sitemap.xml",
        "sitemaps/0.xml",
    ):
        assert (folder / name).is_file(), name

    publisher.withdraw(gone)
    publishing.publish(app)
    assert not page.exists() and not Path(f"{page}.br").exists() and not Path(f"{page}.gz").exists()
    assert not (folder / "statements/gone").exists()
    for name, data in contents(folder).items():
        assert WITHDRAWN_BODY.encode() not in readable(name, data), name
    assert (folder / "statements/kept/index.html").is_file()
    assert publisher.get(kept).status == "published"


def test_nothing_written_without_a_change(app, publisher, folder):
    publisher.publish("One", slug="one")
    publishing.publish_all(app)
    report = publishing.publish(app)
    assert (report.changes, report.written, report.removed) == (0, 0, 0)


def test_a_correction_rewrites_its_files_only(app, publisher, folder):
    first = publisher.publish("First", slug="first", tags=("a",))
    publisher.publish("Second", slug="second", tags=("b",))
    publishing.publish_all(app)
    before = contents(folder)
    publisher.revise(first, title="First, corrected", body="<p>New text.</p>")
    report = publishing.publish(app)
    after = contents(folder)
    changed = {name for name in after if before.get(name) != after[name]}
    assert "statements/first/index.html" in changed and "tags/a/index.html" in changed
    assert not any(name.startswith(("statements/second/", "tags/b/")) for name in changed)
    assert report.changes == 1 and 0 < report.written < len(
        [n for n in after if not n.endswith((".br", ".gz"))]
    )


def test_a_tag_taken_off_removes_its_pages(app, publisher, folder):
    statement = publisher.publish("Tagged", slug="tagged", tags=("old",))
    publishing.publish_all(app)
    assert (folder / "tags/old/index.html").is_file()
    publisher.save(statement, tags=("new",))
    publishing.publish(app)
    assert not (folder / "tags/old").exists()
    assert (folder / "tags/new/index.html").is_file() and (folder / "ru/tags/new/index.html").is_file()


def test_save_in_the_editor_publishes(app, editor_client, folder):
    publishing.publish_all(app)
    statement_id = editor_client.create(title="From the editor", body="Hello readers.", action="publish")
    assert statement_id
    slugs = [p.name for p in (folder / "statements").iterdir()]
    assert slugs and "From the editor" in (folder / "statements" / slugs[0] / "index.html").read_text()


def test_publish_all_swaps_and_keeps_a_withdrawal_made_meanwhile(app, publisher, folder, monkeypatch):
    gone = publisher.publish("Gone", f"<p>{WITHDRAWN_BODY}</p>", slug="gone")
    publishing.publish_all(app)
    old_build = folder.resolve()
    real_whole = publishing._whole

    def whole_then_withdraw(*args, **kwargs):
        report = real_whole(*args, **kwargs)
        # Withdrawn while the new build is written: the trigger updates the old build...
        publisher.withdraw(gone)
        publishing.publish(app)
        return report

    monkeypatch.setattr(publishing, "_whole", whole_then_withdraw)
    publishing.publish_all(app)
    assert folder.resolve() != old_build and not old_build.exists()
    # ...and the catch-up before the swap the new one.
    assert not (folder / "statements/gone/index.html").exists()
    for name, data in contents(folder).items():
        assert WITHDRAWN_BODY.encode() not in readable(name, data), name


def test_failure_halfway_leaves_whole_files_and_publish_all_repairs(app, publisher, folder, monkeypatch):
    for n in range(3):
        publisher.publish(f"Statement {n}", slug=f"s{n}", tags=("t",))
    publishing.publish_all(app)
    reference = contents(folder)
    ids = [publisher.publish(f"More {n}", slug=f"m{n}", tags=("t",)) for n in range(3)]
    monkeypatch.setattr(publishing.Writer, "fail_after", 4)
    with pytest.raises(RuntimeError):
        publishing.publish(app)
    monkeypatch.setattr(publishing.Writer, "fail_after", None)
    names = contents(folder)
    assert not [name for name in names if name.rsplit("/", 1)[-1].startswith(".tmp-")]
    for name, data in names.items():
        readable(name, data)  # every sibling decompresses: written whole
    assert reference != names
    publishing.publish_all(app)
    repaired = contents(folder)
    assert all(f"statements/m{n}/index.html" in repaired for n in range(3)) and ids


def test_scheduled_statement_appears_after_publish_due_once_due(app, publisher, folder, clock):
    publishing.publish_all(app)
    runner = app.test_cli_runner()
    statement = publisher.draft("Scheduled news", slug="scheduled", tags=("later",))
    publisher.save(statement, publish=True, published=clock.now + dt.timedelta(hours=1))
    assert publisher.get(statement).status == "draft"
    result = runner.invoke(args=["publish-due"])
    assert result.exit_code == 0, result.output
    assert not (folder / "statements/scheduled").exists()
    assert "Scheduled news" not in (folder / "index.html").read_text()

    clock.advance(3600)
    result = runner.invoke(args=["publish-due"])
    assert result.exit_code == 0, result.output
    assert "Scheduled news" in (folder / "statements/scheduled/index.html").read_text()
    assert "Scheduled news" in (folder / "index.html").read_text()
    assert (folder / "tags/later/feed.atom").is_file()
    # Idempotent: nothing more to publish, nothing written.
    before = contents(folder)
    assert runner.invoke(args=["publish-due"]).exit_code == 0
    assert contents(folder) == before


def test_request_time_go_live_publishes_the_folder(app, publisher, folder, clock):
    publishing.publish_all(app)
    statement = publisher.draft("Goes live", slug="goes-live")
    publisher.save(statement, publish=True, published=clock.now + dt.timedelta(minutes=5))
    clock.advance(600)
    app.test_client().get("/healthz")  # exempt: publishes nothing
    assert not (folder / "statements/goes-live").exists()
    app.test_client().get("/about/")
    assert (folder / "statements/goes-live/index.html").is_file()


def test_publish_commands(app, publisher, folder):
    runner = app.test_cli_runner()
    publisher.publish("Via the command", slug="via")
    result = runner.invoke(args=["publish"])  # no build yet: the first one is whole
    assert result.exit_code == 0, result.output
    assert (folder / "statements/via/index.html").is_file()
    first = folder.resolve()
    result = runner.invoke(args=["publish", "--all"])
    assert result.exit_code == 0, result.output
    assert folder.resolve() != first and not first.exists()
    assert (folder / "statements/via/index.html").is_file()


def test_publish_all_refuses_a_plain_folder(make_app, tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "mine.txt").write_text("an operator's file")
    app = make_app(PUBLISH_DIR=str(tmp_path / "plain"))
    result = app.test_cli_runner().invoke(args=["publish", "--all"])
    assert result.exit_code == 1 and "move it away" in result.output
    assert (tmp_path / "plain" / "mine.txt").read_text() == "an operator's file"


def test_publish_without_a_folder_set(make_app):
    result = make_app().test_cli_runner().invoke(args=["publish"])
    assert result.exit_code == 1 and "BULLETIN_PUBLISH_DIR is not set" in result.output


def test_a_failing_publication_never_fails_the_save(app, editor_client, folder, monkeypatch, caplog):
    publishing.publish_all(app)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(publishing.Folder, "write", broken)
    statement_id = editor_client.create(title="Saved anyway", body="Text.", action="publish")
    monkeypatch.undo()
    assert statement_id and "publishing to" in caplog.text
    assert not list((folder / "statements").glob("*"))
    publishing.publish(app)  # the next publication catches up
    assert len(list((folder / "statements").glob("*/index.html"))) == 1


def test_after_random_changes_the_live_folder_equals_a_whole_build(app, publisher, folder, clock, tmp_path):
    """Publications, corrections, tag changes, translations, withdrawals and their undoing, scheduled
    go-lives through publish-due and a restore, each published as its trigger would: the folder then
    holds exactly what ``publish --all`` builds, and nothing of a withdrawn body."""
    app.config["SITEMAP_PART_SIZE"] = 7  # several sitemap parts, and changes across them
    app.config["PAGE_SIZE"] = 5  # statements fall off the first pages, and shorter renders
    rng = random.Random(14)
    runner = app.test_cli_runner()
    tags = ("press", "health", "port", "жизнь")
    published, withdrawn, scheduled = [], {}, []
    publishing.publish_all(app)
    for step in range(200):
        choice = rng.random()
        if step == 120:
            assert runner.invoke(args=["backup", str(tmp_path / "at-120.sqlite3")]).exit_code == 0
        if step == 160:
            result = runner.invoke(args=["restore", str(tmp_path / "at-120.sqlite3")])
            assert result.exit_code == 0, result.output
            published = [s for s in published if publisher.get(s) is not None]
            withdrawn = {s: body for s, body in withdrawn.items() if publisher.get(s) is not None}
            continue  # the restore's own trigger rebuilt the folder
        if choice < 0.35 or len(published) < 3:
            body = f"<p>Body {step} {WITHDRAWN_BODY if rng.random() < 0.3 else 'kept'} {step}.</p>"
            original = rng.choice(published) if published and rng.random() < 0.15 else None
            published.append(
                publisher.publish(
                    f"Statement {step}",
                    body,
                    slug=f"s{step}",
                    tags=rng.sample(tags, rng.randint(0, 2)),
                    lang="ru" if original else "en",
                    translation_of=original,
                )
            )
        elif choice < 0.55:
            statement_id = rng.choice(published)
            if publisher.get(statement_id).status == "published":
                publisher.revise(statement_id, title=f"Corrected {step}", body=f"<p>Corrected {step}.</p>")
        elif choice < 0.65:
            statement_id = rng.choice(published)
            if publisher.get(statement_id).status == "published":
                publisher.save(statement_id, tags=rng.sample(tags, rng.randint(0, 3)))
        elif choice < 0.78:
            statement_id = rng.choice(published)
            if publisher.get(statement_id).status == "published":
                publisher.withdraw(statement_id)
                withdrawn[statement_id] = publisher.get(statement_id).body_html
        elif choice < 0.82 and withdrawn:
            statement_id = rng.choice(sorted(withdrawn))
            if publisher.get(statement_id).status == "withdrawn":
                publisher._write(changes.republish, statement_id)
                withdrawn.pop(statement_id)
        elif choice < 0.92:
            statement_id = publisher.draft(
                f"Scheduled {step}",
                f"<p>Scheduled body {step}.</p>",
                slug=f"d{step}",
                tags=rng.sample(tags, 1),
            )
            publisher.save(
                statement_id, publish=True, published=clock.now + dt.timedelta(minutes=rng.randint(1, 30))
            )
            scheduled.append(statement_id)
            published.append(statement_id)
        else:
            clock.advance(rng.randint(60, 900))
            assert runner.invoke(args=["publish-due"]).exit_code == 0
            continue
        publishing.publish(app)
    clock.advance(3600)
    assert runner.invoke(args=["publish-due"]).exit_code == 0

    live = contents(folder)
    assert any(name.startswith("sitemaps/2") for name in live)
    publishing.publish_all(app)
    whole = contents(folder)
    assert sorted(live) == sorted(whole)
    differing = [name for name in live if comparable(name, live[name]) != comparable(name, whole[name])]
    assert differing == [], first_difference(live, whole, differing)
    withdrawn_now = [s for s in published if publisher.get(s).status == "withdrawn"]
    assert withdrawn_now
    for name, data in live.items():
        text = readable(name, data)
        for statement_id in withdrawn_now:
            body = publisher.get(statement_id).body_html.encode()
            assert body not in text, (name, statement_id)


PUBLISHER_PROCESS = """
import os, sys, time
from pathlib import Path
from bulletin import create_app
from bulletin.publishing import publisher
app = create_app({"DATABASE": sys.argv[1], "PUBLISH_DIR": sys.argv[2], "SECRET_KEY": "x",
                  "BASE_URL": "https://news.example.org", "KEYS_DIR": sys.argv[4]})
stop = Path(sys.argv[3])
publisher.publish(app)
(stop.parent / f"ready-{os.getpid()}").touch()
while not stop.exists():
    publisher.publish(app)
    time.sleep(0.01)
"""


def finished(process: subprocess.Popen) -> int | None:
    """The process's exit code once it ends on its own within a minute; else it is killed (never left
    running into other tests) and None."""
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def test_concurrent_publishers_never_regress_a_file(app, publisher, folder, tmp_path):
    """Two processes publish in a loop while a statement is corrected again and again: the page in the
    folder only ever moves forward, and ends at the last correction."""
    statement = publisher.publish("Version 0", slug="versioned")
    publishing.publish_all(app)
    stop = tmp_path / "stop"
    # The same keys as the test's app: another signing state would be another build, which a
    # publisher leaves alone (and a developer's instance/ keys must never sign a test's files).
    keys_dir = app.config["KEYS_DIR"]
    args = [sys.executable, "-c", PUBLISHER_PROCESS, app.config["DATABASE"], str(folder), str(stop), keys_dir]
    processes = [subprocess.Popen(args, cwd=REPO) for _ in range(2)]
    seen = []

    def shown() -> int:
        page = (folder / "statements/versioned/index.html").read_text()
        seen.append(int(re.search(r"<h1[^>]*>Version (\d+)", page)[1]))
        return seen[-1]

    try:
        # Both publishing before the first correction (starting a process takes seconds on a busy machine).
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("ready-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(tmp_path.glob("ready-*"))) == 2
        for version in range(1, 16):
            publisher.revise(statement, title=f"Version {version}", body=f"<p>Text {version}.</p>")
            # Read while the publishers race, until one of them wrote this version.
            deadline = time.monotonic() + 30
            while shown() < version and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        stop.touch()
        codes = [finished(process) for process in processes]
    assert codes == [0, 0]
    publishing.publish(app)
    final = (folder / "statements/versioned/index.html").read_text()
    assert "Version 15" in final
    assert seen == sorted(seen) and seen[-1] == 15, str(seen)


def test_a_site_under_a_path_prefix(make_app, publisher, tmp_path):
    """Mounted at /news (BULLETIN_BASE_URL's path): the folder holds the paths below the mount, and
    the pages in it link under the prefix, as a request through the prefix gets them."""
    app = make_app(PUBLISH_DIR=str(tmp_path / "news"), BASE_URL="https://example.org/news")
    publisher.app = app
    publisher.publish("Under a prefix", slug="prefixed", tags=("press",))
    publishing.publish_all(app)
    folder = tmp_path / "news"
    page = (folder / "statements/prefixed/index.html").read_bytes()
    assert not (folder / "news").exists()
    assert (
        page == app.test_client().get("/statements/prefixed/", base_url="https://example.org/news").get_data()
    )
    assert b'href="/news/' in (folder / "index.html").read_bytes()
    assert b"https://example.org/news/statements/prefixed/" in (folder / "sitemaps/0.xml").read_bytes()


def test_import_publishes_the_folder(app, folder):
    publishing.publish_all(app)
    statement_file = REPO / "tests/data/statements/port-meridian-dockers.txt"
    result = app.test_cli_runner().invoke(args=["import", str(statement_file)])
    assert result.exit_code == 0, result.output
    pages = list((folder / "statements").glob("*/index.html"))
    assert len(pages) == 1
    assert pages[0].parent.name.encode() in (folder / "index.html").read_bytes()


BUILD_FILES = (
    "sw.js",
    "manifest.webmanifest",
    "ru/manifest.webmanifest",
    "offline/index.html",
    "offline/shell/index.html",
    "offline/list-shell/index.html",
    "offline/tag-shell/index.html",
    "ar/offline/index.html",
    "ar/offline/tag-shell/index.html",
    "robots.txt",
)


def test_a_whole_build_writes_the_build_files_and_a_change_leaves_them(app, publisher, folder):
    first = publisher.publish("First", slug="first", tags=("a",))
    publishing.publish(app)  # the first build is whole
    client = app.test_client()
    for name in BUILD_FILES:
        assert (folder / name).is_file(), name
        assert brotli.decompress((folder / f"{name}.br").read_bytes()) == (folder / name).read_bytes()
    # The bytes a reader's request gets.
    assert (folder / "sw.js").read_bytes() == client.get("/sw.js").get_data()
    assert (folder / "ru/offline/index.html").read_bytes() == client.get("/ru/offline/").get_data()
    before = {name: (folder / name).stat().st_mtime_ns for name in BUILD_FILES}
    publisher.revise(first, title="First, corrected", body="<p>New text.</p>")
    report = publishing.publish(app)
    assert report.changes == 1
    assert {name: (folder / name).stat().st_mtime_ns for name in BUILD_FILES} == before


def test_after_a_deploy_publish_waits_for_publish_all(app, publisher, folder, monkeypatch, caplog):
    first = publisher.publish("First", slug="first")
    publishing.publish_all(app)
    worker = (folder / "sw.js").read_bytes()
    monkeypatch.setattr(publishing, "build_key", lambda app: "another-build:")
    publisher.revise(first, title="First, corrected", body="<p>New text.</p>")
    assert publishing.publish(app) is None
    assert "publish --all" in caplog.text
    assert b"First, corrected" not in (folder / "statements/first/index.html").read_bytes()
    result = app.test_cli_runner().invoke(args=["publish"])
    assert result.exit_code == 1 and "publish --all" in result.output
    (folder / "sw.js").write_bytes(b"// an old build's worker")
    report = publishing.publish_all(app)
    assert report.whole and publishing.Build(folder.resolve()).position().build == "another-build:"
    assert (folder / "sw.js").read_bytes() == worker
    assert b"First, corrected" in (folder / "statements/first/index.html").read_bytes()
