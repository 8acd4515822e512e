"""The public site as files: the published folder kept current by the change log."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest

from bulletin.publishing import publisher as publishing
from bulletin.publishing.folder import file_for

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
