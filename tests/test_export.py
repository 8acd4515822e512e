"""The static export: `flask --app app export DIR [--base-url URL]`."""

from __future__ import annotations

import gzip
import html.parser
import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import brotli
import pytest

from bulletin.i18n import INTERFACE_LANGS
from bulletin.publishing.export import Renderer
from bulletin.pwa.worker import LIST_MARKERS
from testbed.nginx_conf import brotli_available, write_config
from testbed.servers import HOST, fetch, free_port, nginx_syntax_check, start_nginx

ROOT_BASE = "http://127.0.0.1:8000/"
SUB_BASE = "http://mirror.example.org/news/"
MOUNT = "/news"  # where nginx serves the export
SECRET = "The minister's unreleased phone number is 555-0199."
TEXT_SUFFIXES = (".html", ".js", ".css", ".json", ".webmanifest", ".atom", ".xml", ".txt")


@pytest.fixture
def statements(publisher):
    """Published statements in three languages, with tags and a translation; one withdrawn."""
    ids = {
        "first": publisher.publish(
            "Release the journalist", "<p>Free her now.</p>", slug="release", tags=["press"]
        ),
        "water": publisher.publish("Water for the district", "<p>The pumps stopped.</p>", slug="water"),
        "withdrawn": publisher.publish("Wrong statement", f"<p>{SECRET}</p>", slug="wrong", tags=["press"]),
    }
    ids["ru"] = publisher.publish(
        "Освободите журналиста",
        "<p>Свобода слова.</p>",
        lang="ru",
        slug="osvobodite",
        translation_of=ids["first"],
    )
    publisher.withdraw(ids["withdrawn"], "Published in error.")
    return ids


def export(runner, folder: Path, base_url: str | None = None):
    args = ["export", str(folder)] + (["--base-url", base_url] if base_url else [])
    return runner.invoke(args=args)


def files_of(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


class Links(html.parser.HTMLParser):
    """Every href, src and form action of a page."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.extend(value for name, value in attrs if name in ("href", "src", "action") and value)


def broken_links(folder: Path, base_url: str) -> list[str]:
    """Every same-site href/src/action of the export's pages that names no file of the export.

    A static server maps a URL's path under the base URL's path to a file:
    ``x/`` to ``x/index.html``, ``x`` to the file ``x`` or (redirected) to ``x/index.html``.
    """
    base = urlsplit(base_url)
    broken = []
    pages = [path for path in folder.rglob("*.html")]
    assert pages, "no page exported"
    for page in pages:
        page_url = urljoin(base_url, page.relative_to(folder).as_posix())
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.found:
            if LIST_MARKERS["tag"] in link:
                continue  # the tag shell's slot: the device puts a tag there
            url = urlsplit(urljoin(page_url, link))
            if url.scheme not in ("http", "https") or url.netloc != base.netloc:
                continue
            path = unquote(url.path)
            if not path.startswith(base.path):
                broken.append(f"{page.relative_to(folder)}: {link} is outside {base.path}")
                continue
            target = folder / path[len(base.path) :]
            if path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(folder)}: {link} names no file")
    return broken


def decoded_forms(path: Path) -> list[bytes]:
    """A file's bytes and, decompressed, its siblings' (those that exist)."""
    forms = [path.read_bytes()]
    br, gz = path.with_name(path.name + ".br"), path.with_name(path.name + ".gz")
    if br.exists():
        forms.append(brotli.decompress(br.read_bytes()))
    if gz.exists():
        forms.append(gzip.decompress(gz.read_bytes()))
    return forms


def test_export_writes_every_public_page_in_every_language(runner, statements, tmp_path):
    folder = tmp_path / "site"
    result = export(runner, folder, ROOT_BASE)
    assert result.exit_code == 0, result.output
    assert "exported" in result.output and "with Brotli" in result.output
    files = files_of(folder)
    for slug in ("release", "water", "osvobodite", "wrong"):
        assert f"statements/{slug}/index.html" in files
    for lang in INTERFACE_LANGS:
        at = "" if lang == "en" else f"{lang}/"
        for page in ("", "about/", "search/", "offline/", "offline/shell/", "offline/list-shell/"):
            assert f"{at}{page}index.html" in files, f"{at}{page}"
        assert f"{at}offline/tag-shell/index.html" in files
        assert f"{at}tags/press/index.html" in files
        assert f"{at}manifest.webmanifest" in files
    for name in ("feed.atom", "tags/press/feed.atom", "sitemap.xml", "sw.js", "favicon.ico", "robots.txt"):
        assert name in files, name
    assert "apple-touch-icon.png" in files and "static/icons/icon-192.png" in files
    scripts = [name for name in files if name.startswith("static/gen/page.") and name.endswith(".js")]
    assert len(scripts) == len(INTERFACE_LANGS)
    assert "_headers" in files and "nginx-export.conf" in files


def test_every_text_file_has_brotli_and_gzip_siblings_of_the_same_bytes(runner, statements, tmp_path):
    folder = tmp_path / "site"
    assert export(runner, folder, ROOT_BASE).exit_code == 0
    texts = [
        path
        for path in folder.rglob("*")
        if path.is_file() and path.suffix in TEXT_SUFFIXES and path.name not in ("_headers",)
    ]
    assert len(texts) > 60
    for path in texts:
        assert path.with_name(path.name + ".br").is_file(), path
        assert path.with_name(path.name + ".gz").is_file(), path
        raw, *decoded = decoded_forms(path)
        assert decoded == [raw, raw], path


def test_pages_render_as_the_app_renders_them(runner, statements, tmp_path, reader):
    folder = tmp_path / "site"
    assert export(runner, folder, ROOT_BASE).exit_code == 0
    page = (folder / "statements" / "water" / "index.html").read_text(encoding="utf-8")
    assert "The pumps stopped." in page
    ru = (folder / "ru" / "index.html").read_text(encoding="utf-8")
    assert 'lang="ru"' in ru and "Освободите журналиста" in ru
    manifest = json.loads((folder / "ru" / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert manifest["lang"] == "ru"


@pytest.mark.parametrize("base_url", [ROOT_BASE, SUB_BASE])
def test_every_link_of_every_page_names_a_file_of_the_export(runner, statements, tmp_path, base_url):
    folder = tmp_path / "site"
    result = export(runner, folder, base_url)
    assert result.exit_code == 0, result.output
    assert broken_links(folder, base_url) == []


def test_a_withdrawn_statement_is_its_notice_and_its_body_is_nowhere(runner, statements, tmp_path):
    folder = tmp_path / "site"
    assert export(runner, folder, ROOT_BASE).exit_code == 0
    notice = (folder / "statements" / "wrong" / "index.html").read_text(encoding="utf-8")
    assert "Published in error." in notice
    assert '<meta name="robots" content="noindex">' in notice
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.endswith((".br", ".gz")):
            for form in decoded_forms(path):
                assert SECRET.encode() not in form, path


def test_the_search_page_says_search_runs_on_the_device(runner, statements, tmp_path, reader):
    folder = tmp_path / "site"
    assert export(runner, folder, ROOT_BASE).exit_code == 0
    exported = (folder / "search" / "index.html").read_text(encoding="utf-8")
    assert "search runs on your device" in exported
    assert 'data-query=""' in exported
    # The live site's page is its own: a page made for a static host never reaches its readers.
    live = reader.get("/search/").get_data(as_text=True)
    assert "search runs on your device" not in live
    assert reader.get("/statements/wrong/").status_code == 410


def test_hosts_files_carry_the_apps_headers(runner, statements, tmp_path):
    folder = tmp_path / "site"
    assert export(runner, folder, SUB_BASE).exit_code == 0
    rules = (folder / "_headers").read_text(encoding="utf-8")
    assert "/news/static/gen/*\n  Cache-Control: max-age=315360000, public, immutable" in rules
    assert "/news/sw.js\n  Cache-Control: no-cache" in rules
    assert "/news/*\n  Content-Security-Policy: default-src 'self'" in rules
    assert "/news/manifest.webmanifest\n  Content-Type: application/manifest+json" in rules
    nginx = (folder / "nginx-export.conf").read_text(encoding="utf-8")
    assert "location /news/ {" in nginx and f"alias {folder.resolve()}/;" in nginx
    assert "gzip_static on;" in nginx and "location = /news/sw.js {" in nginx


def test_a_non_empty_folder_that_is_no_export_is_refused(runner, statements, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    result = export(runner, folder, ROOT_BASE)
    assert result.exit_code == 1
    assert "is not empty and holds no earlier export" in result.output
    assert files_of(folder) == {"notes.txt"}
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = export(runner, a_file, ROOT_BASE)
    assert result.exit_code == 1 and "is not a folder" in result.output


def test_an_earlier_export_is_replaced_and_its_leftovers_removed(runner, statements, publisher, tmp_path):
    folder = tmp_path / "site"
    assert export(runner, folder, ROOT_BASE).exit_code == 0
    assert (folder / "statements" / "water" / "index.html").is_file()
    publisher.withdraw(statements["water"])
    (folder / "leftover.html").write_text("old")
    result = export(runner, folder, ROOT_BASE)
    assert result.exit_code == 0, result.output
    assert not (folder / "leftover.html").exists()
    notice = (folder / "statements" / "water" / "index.html").read_text(encoding="utf-8")
    assert "The pumps stopped." not in notice and "noindex" in notice


def test_nothing_is_written_through_a_link_in_the_folder(runner, statements, tmp_path):
    folder = tmp_path / "site"
    assert export(runner, folder, ROOT_BASE).exit_code == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(folder / "statements" / "water")
    (folder / "statements" / "water").symlink_to(outside, target_is_directory=True)
    result = export(runner, folder, ROOT_BASE)
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    "base_url", ["ftp://example.org/", "example.org", "http://example.org/?q=1", "http://example.org/a/../b/"]
)
def test_a_base_url_that_is_no_web_address_is_refused(runner, tmp_path, base_url):
    folder = tmp_path / "site"
    result = export(runner, folder, base_url)
    assert result.exit_code == 1 and "--base-url" in result.output
    assert not folder.exists()


def test_the_sync_files_are_exported_as_the_app_serves_them(runner, statements, tmp_path, reader):
    folder = tmp_path / "site"
    assert export(runner, folder, ROOT_BASE).exit_code == 0
    exported = (folder / "sync" / "index.json").read_bytes()
    # Rendered after pages of every language, the records are still the app's own (no language leaks in).
    assert exported == reader.get("/sync/index.json").get_data()
    index = json.loads(json.loads(exported)["payload"])  # a signed envelope
    named = [index["snapshot"]["path"], index["older"]["path"], *(chunk["path"] for chunk in index["chunks"])]
    for path in named:
        assert (folder / "sync" / path).read_bytes() == reader.get(f"/sync/{path}").get_data(), path
    rules = (folder / "_headers").read_text(encoding="utf-8")
    assert "/sync/*\n  Access-Control-Allow-Origin: *\n  Cross-Origin-Resource-Policy: cross-origin" in rules
    assert "/sync/index.json\n  Cache-Control: public, max-age=" in rules


def test_each_file_is_rendered_in_a_request_of_its_own(app, statements, reader):
    renderer = Renderer(app, ROOT_BASE)
    with app.app_context():  # as under a command: one app context around every request
        renderer.get("/statements/osvobodite")  # a Russian statement's page speaks Russian
        index = renderer.get("/sync/index.json").body
        feed = renderer.get("/feed.atom").body
    assert index == reader.get("/sync/index.json").get_data()
    assert feed == reader.get("/feed.atom", base_url=ROOT_BASE).get_data()


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed: apt-get install nginx")
def test_nginx_serves_the_export_with_its_snippet(runner, statements, tmp_path):
    folder = tmp_path / "site"
    port = free_port()
    base = f"http://{HOST}:{port}{MOUNT}/"
    assert export(runner, folder, base).exit_code == 0
    snippet = (folder / "nginx-export.conf").read_text(encoding="utf-8")
    brotli = brotli_available()
    if not brotli:
        snippet = snippet.replace("    brotli_static on;\n", "")
    prefix = tmp_path / "nginx"
    config = write_config(prefix, f"server {{\n listen {HOST}:{port};\n{snippet}}}\n", brotli=brotli)
    assert nginx_syntax_check(config, prefix=prefix).returncode == 0
    server = start_nginx(config, port, prefix=prefix)
    try:
        page = fetch(port, f"{MOUNT}/statements/water/", {"Accept-Encoding": "gzip"})
        assert page.status == 200 and page.header("content-encoding") == "gzip"
        assert b"The pumps stopped." in gzip.decompress(page.body)
        assert page.header("content-type") == "text/html; charset=utf-8"
        assert page.header("content-security-policy").startswith("default-src 'self'")
        assert fetch(port, f"{MOUNT}/statements/water").status == 301  # to the folder
        worker = fetch(port, f"{MOUNT}/sw.js")
        assert worker.header("cache-control") == "no-cache" and "javascript" in worker.header("content-type")
        index = fetch(port, f"{MOUNT}/sync/index.json")
        assert index.header("access-control-allow-origin") == "*"
        snapshot = fetch(
            port, f"{MOUNT}/sync/" + json.loads(json.loads(index.body)["payload"])["snapshot"]["path"]
        )
        assert snapshot.status == 200 and "immutable" in snapshot.header("cache-control")
        assert snapshot.header("access-control-allow-origin") == "*"
        assert snapshot.header("cross-origin-resource-policy") == "cross-origin"
        manifest = fetch(port, f"{MOUNT}/manifest.webmanifest")
        assert manifest.header("content-type").startswith("application/manifest+json")
        assert json.loads(manifest.body)["start_url"].startswith(f"{MOUNT}/")
        for private in ("nginx-export.conf", "_headers", ".bulletin-export"):
            assert fetch(port, f"{MOUNT}/{private}").status == 404, private
        script = next((folder / "static" / "gen").glob("page.en.*.js")).name
        assert "immutable" in fetch(port, f"{MOUNT}/static/gen/{script}").header("cache-control")
    finally:
        server.stop()


def test_a_folder_that_cannot_be_made_is_a_message(runner, statements, tmp_path):
    (tmp_path / "a-file").write_text("x")
    result = export(runner, tmp_path / "a-file" / "site", ROOT_BASE)
    assert result.exit_code == 1 and "export stopped" in result.output
    assert "Traceback" not in result.output
