"""Nothing typed is lost: the editor script in a real Chromium, with the app's movable clock.

A session ends by moving the app's clock (never by waiting); the device
goes offline with ``context.set_offline``. After each step the database
says what was saved: a revision, or only a working copy.
"""

from __future__ import annotations

import re

import pytest
from editor_client import EMAIL, PASSWORD, add_editor

from bulletin.statements import db

from . import harness

pytestmark = pytest.mark.browser

KEPT = "kept as a working copy"
STATEMENT_URL = re.compile(r"/editor/statements/[0-9a-f-]{36}$")


@pytest.fixture
def account(live_server):
    return add_editor(live_server.app)


def log_in(page) -> None:
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()


@pytest.fixture
def editor(account, new_context):
    """A logged-in editor's page (JavaScript on) and its error collector."""
    page = new_context(service_workers="block").new_page()
    errors = harness.collect_errors(page)
    page.goto("/editor/")
    log_in(page)
    assert page.url.endswith("/editor/")
    return page, errors


def rows(live_server, sql: str, *args) -> list:
    connection = db.connect(live_server.app.config["DATABASE"])
    try:
        return [tuple(row) for row in connection.execute(sql, args).fetchall()]
    finally:
        connection.close()


def status_says(page, words: str, timeout: float = 10.0) -> str:
    """Wait until the editor script's status line contains ``words``; return it."""
    return harness.poll(
        page,
        "(words) => { const s = document.getElementById('working-copy-status');"
        " return s && s.textContent.includes(words) && s.textContent; }",
        words,
        timeout=timeout,
        message=f"the status line saying {words!r}",
    )


def banners(page) -> str:
    return " ".join(page.locator("main .banner").all_inner_texts())


def type_into(page, selector: str, text: str) -> None:
    """Type as a person does (key events: the page gets a user activation, as beforeunload needs)."""
    page.click(selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_a_save_after_the_session_ended_keeps_the_text_and_saves_after_login(editor, live_server, clock):
    page, errors = editor
    page.goto("/editor/statements/new")
    type_into(page, "#title", "Curfew from nine")
    type_into(page, "#body", "The curfew starts at nine tonight.")
    status_says(page, KEPT)

    clock.advance(live_server.app.config["SESSION_IDLE_MINUTES"] * 60 + 60)  # the editor went for lunch
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/editor/login\?next="))
    assert "Your session has ended" in banners(page)
    assert rows(live_server, "SELECT COUNT(*) FROM statements") == [(0,)]

    log_in(page)
    page.wait_for_url(re.compile(r"/editor/statements/new$"))
    status_says(page, "Your unsaved text is back in the form")
    assert page.input_value("#title") == "Curfew from nine"
    assert page.input_value("#body") == "The curfew starts at nine tonight."

    page.get_by_role("button", name="Save draft").click()  # one more click
    page.wait_for_url(STATEMENT_URL)
    assert "Saved." in banners(page)
    assert rows(live_server, "SELECT source_text FROM revisions") == [("The curfew starts at nine tonight.",)]
    assert rows(live_server, "SELECT COUNT(*) FROM working_copies") == [(0,)]
    # Nothing is offered again, on the device or from the server.
    page.goto("/editor/statements/new")
    assert page.input_value("#body") == ""
    assert page.locator("#working-copy-offer").count() == 0
    errors.assert_clean()


def test_a_save_while_offline_waits_and_saves_when_the_connection_returns(editor, live_server, publisher):
    page, errors = editor
    statement_id = publisher.draft("Water for the district", "<p>The pumps stopped.</p>")
    page.goto(f"/editor/statements/{statement_id}")
    edit_url = page.url
    type_into(page, "#body", "<p>The pumps stopped on Monday.</p>")

    page.context.set_offline(True)
    page.get_by_role("button", name="Save draft").click()
    status_says(page, "Not saved yet: the server cannot be reached")
    assert page.url == edit_url
    assert page.input_value("#body") == "<p>The pumps stopped on Monday.</p>"
    assert len(rows(live_server, "SELECT id FROM revisions WHERE statement_id = ?", statement_id)) == 1

    with page.expect_navigation():
        page.context.set_offline(False)
    page.wait_for_url(edit_url)
    assert "Saved." in banners(page)
    texts = rows(live_server, "SELECT source_text FROM revisions WHERE statement_id = ?", statement_id)
    assert ("<p>The pumps stopped on Monday.</p>",) in texts and len(texts) == 2
    assert page.input_value("#body") == "<p>The pumps stopped on Monday.</p>"
    errors.assert_clean(allow=["Failed to load resource: net::ERR_INTERNET_DISCONNECTED"])


def test_autosave_leaves_a_working_copy_readers_never_see_and_no_revision(
    editor, live_server, publisher, new_context
):
    page, errors = editor
    statement_id = publisher.publish("Water for the district", "<p>The pumps stopped.</p>", slug="water")
    page.goto(f"/editor/statements/{statement_id}")
    audit = rows(live_server, "SELECT * FROM audit_log")
    type_into(page, "#body", "<p>The pumps stopped. Unchecked rumour.</p>")
    status_says(page, KEPT)

    copies = rows(live_server, "SELECT statement_key, fields FROM working_copies")
    assert len(copies) == 1 and copies[0][0] == statement_id and "Unchecked rumour" in copies[0][1]
    assert len(rows(live_server, "SELECT id FROM revisions WHERE statement_id = ?", statement_id)) == 1
    assert rows(live_server, "SELECT * FROM audit_log") == audit

    reader = new_context(service_workers="block").new_page()
    for path in ("/statements/water/", "/", "/feed.atom", "/api/sync?since=0"):
        response = reader.goto(path)
        assert response.status == 200 and "Unchecked rumour" not in response.text(), path
    errors.assert_clean()


def test_leaving_with_unsaved_changes_asks_first(editor):
    page, errors = editor
    page.goto("/editor/statements/new")
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay

    page.on("dialog", answer)
    page.get_by_role("link", name="Statements", exact=True).click()  # nothing typed: no question
    page.wait_for_url(re.compile(r"/editor/$"))
    assert dialogs == []

    page.goto("/editor/statements/new")
    type_into(page, "#body", "Half a sentence")
    page.get_by_role("link", name="Statements", exact=True).click()
    harness.wait_until(page, lambda: dialogs, message="a beforeunload dialog")
    assert dialogs == ["beforeunload"]
    assert page.url.endswith("/editor/statements/new")  # dismissed: still on the form, text there
    assert page.input_value("#body") == "Half a sentence"
    errors.assert_clean()


def test_a_save_while_the_server_is_down_waits_and_saves_when_it_answers(editor, live_server, publisher):
    page, errors = editor
    statement_id = publisher.draft("Water for the district", "<p>The pumps stopped.</p>")
    page.goto(f"/editor/statements/{statement_id}")
    edit_url = page.url

    live_server.stop()  # the device stays online: only the server is gone
    type_into(page, "#body", "<p>The pumps stopped on Tuesday.</p>")
    status_says(page, "the server cannot be reached, so your text is kept on this device")
    page.get_by_role("button", name="Save draft").click()
    status_says(page, "will be saved when the connection returns")
    assert page.url == edit_url

    with page.expect_navigation(timeout=20_000):
        live_server.start()  # the page tries again every few seconds
    page.wait_for_url(edit_url)
    assert "Saved." in banners(page)
    texts = rows(live_server, "SELECT source_text FROM revisions WHERE statement_id = ?", statement_id)
    assert ("<p>The pumps stopped on Tuesday.</p>",) in texts
    errors.assert_clean(allow=["Failed to load resource: net::ERR_CONNECTION_REFUSED"])


def test_without_a_session_cookie_the_text_comes_back_from_the_device(editor, live_server, publisher):
    page, errors = editor
    statement_id = publisher.draft("Water for the district", "<p>The pumps stopped.</p>")
    page.goto(f"/editor/statements/{statement_id}")
    page.context.clear_cookies()  # e.g. the browser was restarted: the form's CSRF token is worth nothing now
    type_into(page, "#body", "<p>Typed before the browser lost its cookies.</p>")
    status_says(page, "Your session has ended: log in again to save.")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/editor/login"))
    log_in(page)
    page.wait_for_url(re.compile(rf"/editor/statements/{statement_id}$"))
    status_says(page, "Your unsaved text is back in the form")
    assert page.input_value("#body") == "<p>Typed before the browser lost its cookies.</p>"
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(rf"/editor/statements/{statement_id}$"))
    assert "Saved." in banners(page)
    texts = rows(live_server, "SELECT source_text FROM revisions WHERE statement_id = ?", statement_id)
    assert ("<p>Typed before the browser lost its cookies.</p>",) in texts
    errors.assert_clean(allow=["status of 400"])
