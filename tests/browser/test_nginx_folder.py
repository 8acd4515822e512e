"""A reader's device behind the documented nginx serving the publish folder, then the app stopped.

gunicorn publishes every change to the folder; nginx (deploy/nginx.conf)
serves the folder first. A device that synced before receives a correction
and a withdrawal from the files; then, with gunicorn stopped, nginx still
serves every public page and sync file, byte for byte, the worker,
manifests and offline pages with the app's headers, and a first-time reader
installs the app from nginx alone.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from bulletin.authoring import changes
from bulletin.publishing import publisher
from bulletin.statements import db, store
from testbed.servers import fetch
from testbed.stack import BUILD_FILES, Stack, published_files

from . import harness

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed: apt-get install nginx"),
]

CORRECTED = "Corrected: the harbour reopened on Tuesday."
WITHDRAWN_TEXT = "The third statement"


@pytest.fixture
def stack(tmp_path):
    running = Stack(tmp_path, files=True)
    yield running
    running.stop()


@pytest.fixture
def nginx_page(browser, stack):
    """A fresh device whose every request goes to nginx."""
    context = browser.new_context(base_url=stack.nginx.url(""), service_workers="allow")
    yield context.new_page()
    context.close()


def _change_as_the_editor_does(stack: Stack, change, *args) -> None:
    """A change through the write path, publishing the folder after it as an editor's save does."""
    app = stack.make_app()
    ctx = dataclasses.replace(
        changes.tool_context("editor@example.org"), after_commit=publisher.trigger_of(app)
    )
    connection = db.connect(stack.database)
    try:
        change(connection, *args, ctx)
    finally:
        connection.close()


def _statement(stack: Stack, slug: str):
    connection = db.connect(stack.database)
    try:
        return store.get_by_slug(connection, slug)
    finally:
        connection.close()


def test_a_device_behind_nginx_gets_a_correction_and_a_withdrawal_then_nginx_serves_without_the_app(
    stack, nginx_page, browser, installability
):
    page = nginx_page
    errors = harness.collect_errors(page)
    harness.ready_offline(page)
    # By id: the device's records as the worker stores them, whatever the pages' addresses.
    ids = {slug: _statement(stack, slug).id for slug in ("second", "third")}
    for statement_id in ids.values():
        harness.poll(page, "async (id) => !!(await OfflineStore.get(id))", statement_id, message=statement_id)
    # It synced from the folder's files, through nginx.
    assert page.evaluate("async () => await OfflineStore.getMeta('cursor')")
    assert (stack.publish / "sync" / "index.json").is_file()

    second = _statement(stack, "second")
    draft = changes.Draft(
        second.title,
        f"<p>{CORRECTED}</p>",
        "html",
        slug="second",
        tags=second.tags,
        published=second.published,
        correction_note="The date was wrong.",
    )
    _change_as_the_editor_does(stack, changes.save, second.id, draft)
    _change_as_the_editor_does(stack, changes.withdraw, ids["third"], "Published in error.")

    page.goto("/")  # a visit while online syncs
    harness.poll(
        page,
        "async (id) => { const r = await OfflineStore.get(id); return r && r.article_html.includes('Corrected'); }",
        ids["second"],
        message="the correction on the device",
    )
    harness.poll(
        page,
        "async (id) => { const r = await OfflineStore.get(id); return r && r.withdrawn; }",
        ids["third"],
        message="the withdrawal on the device",
    )
    assert WITHDRAWN_TEXT not in str(harness.device_contents(page))
    # At the position of the folder's index: it synced from the files.
    index = json.loads((stack.publish / "sync" / "index.json").read_text())  # a signed envelope
    seq = json.loads(index["payload"])["seq"]
    assert page.evaluate("async () => await OfflineStore.getMeta('cursor')").endswith(f".{seq}")
    errors.assert_clean()

    # Every public page and sync file the folder holds, as nginx serves it with the app up.
    files = published_files(stack.make_app(), stack.publish)
    assert any(name.startswith("/sync/") for name in files) and "/" in files
    assert not any("third" in name for name in files)  # its page was removed at the withdrawal
    assert set(BUILD_FILES) <= set(files)  # what only a deploy changes is in the folder too
    served = {name: fetch(stack.nginx.port, name) for name in files}
    # The app's own headers for the build's files, to hold nginx's to once the app is gone.
    apps = {name: fetch(stack.app.port, name) for name in OPENED}
    for name, reply in served.items():
        assert reply.status == 200, (name, reply.status)
        assert WITHDRAWN_TEXT.encode() not in reply.body, name

    stack.app.stop()
    for name, before in served.items():
        reply = fetch(stack.nginx.port, name)
        assert reply.status == 200, (name, reply.status)
        assert reply.body == before.body, name
        assert reply.header("x-cache-status") is None, name  # the file, not a copy of the app's answer
    assert CORRECTED.encode() in fetch(stack.nginx.port, files_for(files, "second")).body

    # The worker, a manifest and the offline page, from nginx alone, with the app's headers.
    for name, direct in apps.items():
        reply = fetch(stack.nginx.port, name)
        assert reply.status == 200 and reply.body == direct.body, name
        for header in APP_HEADERS:
            assert reply.header(header) == direct.header(header), (name, header)
    # (Service-Worker-Allowed, compared above, is sent only by a site under a sub-path.)
    assert apps["/sw.js"].header("content-security-policy")
    assert "no-cache" in apps["/sw.js"].header("cache-control")
    assert apps["/manifest.webmanifest"].header("content-type").startswith("application/manifest+json")

    # A first-time reader installs the app from nginx alone.
    context = browser.new_context(base_url=stack.nginx.url(""), service_workers="allow")
    try:
        fresh = context.new_page()
        fresh_errors = harness.collect_errors(fresh)
        harness.ready_offline(fresh)
        harness.poll(
            fresh,
            "async () => { const r = await navigator.serviceWorker.getRegistration();"
            " return !!(r && r.active && r.active.state === 'activated'); }",
            message="an active registration",
        )
        fresh_errors.assert_clean()
    finally:
        context.close()
    assert installability(stack.nginx.url("/")) == []


# The build's files opened with the app stopped (tests/test_deploy.py compares every file's headers).
OPENED = ("/sw.js", "/manifest.webmanifest", "/ru/manifest.webmanifest", "/offline/", "/offline/tag-shell/")
APP_HEADERS = (
    "content-type",
    "cache-control",
    "content-security-policy",
    "service-worker-allowed",
    "x-content-type-options",
)


def files_for(files: dict[str, str], slug: str) -> str:
    """The folder address of the statement page for ``slug``."""
    return next(name for name in files if name.startswith("/statements/") and slug in name)
