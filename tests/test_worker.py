"""What the server gives the installed app: /sw.js, the manifest, the shells."""

from __future__ import annotations

import json
import re

import pytest

from bulletin import create_app
from bulletin.assets import bundles
from bulletin.pwa import worker


def worker_settings(client) -> dict:
    source = client.get("/sw.js").get_data(as_text=True)
    return json.loads(re.match(r"const SETTINGS=(\{.*?\});", source).group(1))


def test_service_worker_is_served_for_revalidation(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert client.get("/sw.js", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert "Service-Worker-Allowed" not in response.headers  # root scope, no widening needed


def test_precache_lists_revisioned_urls_that_all_exist(client, app):
    settings = worker_settings(client)
    # The default language's entries are stored on install with the rest (the worker builds them from "languages").
    script, revision = settings["languages"][settings["defaultLang"]]
    entries = settings["precache"] + [{"url": script, "revision": script.split(".")[2]}]
    entries += [{"url": path, "revision": revision} for path in settings["languagePages"]]
    urls = [entry["url"] for entry in entries]
    assert bundles.script_url(bundles.built(app), "en") in urls
    assert {"/offline/", "/offline/shell/", "/manifest.webmanifest", "/static/icons/icon-192.png"} <= set(
        urls
    )
    for entry in entries:
        assert re.fullmatch(r"[0-9a-f]{8,16}", entry["revision"]), entry
        with client.get(entry["url"]) as response:
            assert response.status_code == 200, entry["url"]
    assert settings["networkTimeoutMs"] == 600 and settings["keepNewest"] == 50
    assert settings["syncTimeoutMs"] == 30_000


def test_worker_bytes_change_with_what_it_precaches(app, client):
    before = client.get("/sw.js").get_data()
    # A new deploy with another site name: the offline page and shell change.
    redeployed = create_app({**app.config, "SITE_NAME": "Another name"}).test_client()
    after = redeployed.get("/sw.js").get_data()
    assert before != after
    assert worker_settings(redeployed)["version"] not in before.decode()


def test_manifest_has_what_installation_needs(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    for key in (
        "id",
        "name",
        "short_name",
        "start_url",
        "scope",
        "theme_color",
        "background_color",
        "lang",
        "dir",
    ):
        assert manifest[key], key
    assert manifest["display"] == "standalone"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as image:
            assert image.status_code == 200 and image.mimetype == "image/png"
    assert [s["url"] for s in manifest["shortcuts"]] == ["/", "/offline/#saved"]


def test_pages_link_the_manifest_and_ios_icons(client):
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert '<link rel="apple-touch-icon" href="/apple-touch-icon.png">' in html
    with client.get("/apple-touch-icon.png") as icon:
        assert icon.status_code == 200
    assert "<script>" not in html  # the worker is registered by the deferred external script


def test_shell_is_the_statement_page_with_an_empty_slot(client, publisher):
    publisher.publish("Shell test", "<p>Body.</p>", slug="shell-test")
    shell = client.get("/offline/shell/")
    page = client.get("/statements/shell-test/").get_data(as_text=True)
    article = client.get("/api/statements/shell-test").get_json()["article_html"]
    assert shell.headers["X-Robots-Tag"] == "noindex"
    filled = shell.get_data(as_text=True).replace(worker.SHELL_MARKER, article)
    # The line saying who signed the record, with its two slots, is the device's to fill or remove.
    slots = worker.SIGNED_SLOTS
    start, end = filled.index(slots["start"]), filled.index(slots["end"]) + len(slots["end"])
    signed_line = filled[start:end]
    assert "Signed by key" in signed_line
    assert slots["kid"] in signed_line and slots["fingerprint"] in signed_line
    filled = filled[:start] + filled[end:]
    # Same page around the article, up to the head's per-statement metadata.
    strip_head = lambda html: re.sub(r"<head>.*</head>", "", html, flags=re.S)  # noqa: E731
    assert strip_head(filled) == strip_head(page)


def test_offline_page_has_its_lists(client):
    html = client.get("/offline/").get_data(as_text=True)
    assert 'id="offline-statements"' in html and 'id="saved-statements"' in html
    assert 'id="offline-banner"' in html and 'role="status"' in html


def test_the_offline_page_lists_the_mirrors_to_open_in_a_browser(client, app):
    from conftest import reconfigure

    assert 'class="mirrors"' not in client.get("/offline/").get_data(as_text=True)
    before = client.get("/sw.js").get_data(as_text=True)
    reconfigure(app, MIRRORS=("https://copy.example/news/", "http://127.0.0.1:8001/"))
    html = client.get("/offline/").get_data(as_text=True)
    assert '<a href="https://copy.example/news/" rel="external">' in html
    assert '<a href="http://127.0.0.1:8001/" rel="external">' in html
    assert "Copies of this site" in html
    assert "Копии этого сайта" in client.get("/ru/offline/").get_data(as_text=True)
    # The offline page is precached: a new list is a new worker.
    assert client.get("/sw.js").get_data(as_text=True) != before


def fill_list_shell(
    shell: str, items: list[str], *, prev: int | None, next_href: str | None, tag: str = ""
) -> str:
    """What the worker does with a list shell (service_worker/lists.js), for a page with both links."""
    markers = worker.LIST_MARKERS
    html = shell.replace(markers["items"], "\n".join(items))
    html = html.replace(markers["prev"], str(prev)).replace(markers["next"], next_href)
    return html.replace(f"/tags/{markers['tag']}", f"/tags/{tag}").replace(markers["tag"], tag)


def links_and_list(html: str) -> tuple[str, str]:
    """The list of statements and the page links of a list page, whitespace folded."""
    fold = lambda text: re.sub(r">\s+<", "><", re.sub(r"\s+", " ", text)).strip()  # noqa: E731
    items = re.search(r'<ol class="statements">(.*?)</ol>', html, flags=re.S).group(1)
    nav = re.search(r"<nav class=\"pages\".*?</nav>", html, flags=re.S).group(0)
    return fold(items), fold(nav)


def test_list_shells_filled_with_list_items_are_the_servers_list_pages(client, app, publisher):
    import datetime as dt

    from conftest import reconfigure

    reconfigure(app, PAGE_SIZE=2)
    for n in range(5):
        # Two on one day: the list order breaks the tie as the server does.
        publisher.publish(
            f"S{n}", "<p>x</p>", slug=f"s{n}", tags=["press"], published=dt.date(2022, 1, 1 + n // 2)
        )
    synced = client.get("/api/sync?limit=50").get_json()["statements"]
    ordered = sorted(synced, key=lambda s: s["list_order"], reverse=True)
    page = client.get("/?page=2").get_data(as_text=True)
    older = re.search(r'href="\?page=3&amp;before=([^"]+)"', page).group(1)
    assert older == ordered[3]["id"]
    for shell_url, page_url, tag in (
        ("/offline/list-shell/", "/?page=2", ""),
        ("/offline/tag-shell/", "/tags/press/?page=2", "press"),
    ):
        shell = client.get(shell_url)
        assert shell.status_code == 200 and shell.headers["X-Robots-Tag"] == "noindex"
        filled = fill_list_shell(
            shell.get_data(as_text=True),
            [s["list_item_html"] for s in ordered[2:4]],
            prev=1,
            next_href=f"3&amp;before={older}",
            tag=tag,
        )
        assert links_and_list(filled) == links_and_list(client.get(page_url).get_data(as_text=True))
    tag_shell = client.get("/offline/tag-shell/").get_data(as_text=True)
    assert "Tagged “bulletin-tag-slot”" in tag_shell and "/tags/bulletin-tag-slot/feed.atom" in tag_shell


def test_the_worker_carries_the_keyrings_root_for_a_new_device_to_pin(client, app, test_keys):
    from bulletin.signing import keys

    root = worker_settings(client)["root"]
    assert root == {
        "kid": keys.key_id(test_keys.root_public),
        "public_key": keys.b64url(test_keys.root_public),
    }


@pytest.mark.unsigned
def test_a_site_without_keys_builds_its_worker_with_no_root(client, app, tmp_path):
    assert worker_settings(client)["root"] is None
    # A first root made after the deploy is built into the worker at once.
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "init-root", str(tmp_path / "root.key")]).exit_code == 0
    assert runner.invoke(args=["keys", "certify", "--root", str(tmp_path / "root.key")]).exit_code == 0
    assert worker_settings(client)["root"]["public_key"]


def test_the_worker_imports_sync_and_the_verifier_and_carries_neither(client, app):
    source = client.get("/sw.js").get_data(as_text=True)
    urls = bundles.built(app).urls
    assert worker_settings(client)["imports"] == {"worker": urls["worker"], "ed25519": urls["ed25519"]}
    with client.get(urls["worker"]) as response:  # a static file: closed when read
        worker_bundle = response.get_data(as_text=True)
    assert "BulletinVerify" in worker_bundle and "acceptIndex" in worker_bundle
    assert "acceptIndex" not in source  # the first visit does not pay for it
