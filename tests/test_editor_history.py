"""Revision history with readable diffs, restore, and the audit log."""

from __future__ import annotations

import sqlite3

import diff_text
import pytest
from editor_client import EMAIL, EditorClient, add_editor
from hypothesis import given, settings
from hypothesis import strategies as st

from bulletin.editor import diffs
from bulletin.statements import db


def revision_ids(app, statement_id):
    connection = db.connect(app.config["DATABASE"])
    try:
        return [
            row[0]
            for row in connection.execute(
                "SELECT id FROM revisions WHERE statement_id = ? ORDER BY number", (statement_id,)
            )
        ]
    finally:
        connection.close()


@pytest.fixture
def corrected(editor_client):
    """A published statement corrected once: revisions 1 and 2."""
    statement_id = editor_client.create(
        "Call", "We meet on Monday at the square.\n\nBring water.", slug="call", action="publish"
    )
    editor_client.save(
        statement_id, body="We meet on Tuesday at the square.\n\nBring water.", correction_note="Day fixed."
    )
    return statement_id


def test_history_lists_every_revision_with_author(editor_client, corrected):
    html = editor_client.get(f"/editor/statements/{corrected}/history").get_data(as_text=True)
    assert (
        "Revision 2" in html and "Revision 1" in html and html.index("Revision 2") < html.index("Revision 1")
    )
    assert EMAIL in html and "Day fixed." in html and "Restore revision 1" in html
    assert "Restore revision 2" not in html  # it is the current one


def test_the_diff_shows_the_changed_words(app, editor_client, corrected):
    first, second = revision_ids(app, corrected)
    html = editor_client.get(f"/editor/statements/{corrected}/revisions/{second}").get_data(as_text=True)
    assert any("[−Monday] [+Tuesday]" in line for line in diff_text.seen(html))
    assert "Compared with revision 1" in html and "+ [+Day fixed.]" in diff_text.seen(html)
    first_page = editor_client.get(f"/editor/statements/{corrected}/revisions/{first}").get_data(as_text=True)
    assert "compared with nothing" in first_page
    against = editor_client.get(
        f"/editor/statements/{corrected}/revisions/{first}?against={second}"
    ).get_data(as_text=True)
    assert any("[−Tuesday] [+Monday]" in line for line in diff_text.seen(against))


def test_a_revision_of_another_statement_is_404(app, editor_client, corrected):
    other = editor_client.create("Other")
    [other_revision] = revision_ids(app, other)
    assert editor_client.get(f"/editor/statements/{corrected}/revisions/{other_revision}").status_code == 404


def test_restore_adds_a_revision_copying_the_old_one(app, editor_client, reader, corrected):
    first, second = revision_ids(app, corrected)
    cursor = reader.get("/api/sync").get_json()["cursor"]
    editor_client.get(f"/editor/statements/{corrected}/history")
    response = editor_client.post(
        f"/editor/statements/{corrected}/revisions/{first}/restore", {"base_revision": second}
    )
    assert response.status_code == 302
    ids = revision_ids(app, corrected)
    assert len(ids) == 3 and ids[:2] == [first, second]  # history is kept
    html = reader.get("/statements/call/").get_data(as_text=True)
    assert "Monday" in html and "Tuesday" not in html
    assert [s["slug"] for s in reader.get(f"/api/sync?since={cursor}").get_json()["statements"]] == ["call"]


def test_restore_from_a_stale_history_page_is_409(app, editor_client, corrected):
    first, second = revision_ids(app, corrected)
    editor_client.get(f"/editor/statements/{corrected}/history")
    editor_client.save(corrected, body="A third text.")
    response = editor_client.post(
        f"/editor/statements/{corrected}/revisions/{first}/restore", {"base_revision": second}
    )
    assert response.status_code == 409 and "newer revision" in response.get_data(as_text=True)
    assert len(revision_ids(app, corrected)) == 3


def test_the_audit_log_says_who_did_what_and_when(app, editor_client, corrected):
    colleague = EditorClient(app.test_client())
    add_editor(app, "colleague@example.org")
    colleague.login("colleague@example.org")
    colleague.get(f"/editor/statements/{corrected}")
    colleague.post(f"/editor/statements/{corrected}/withdraw", {"reason": "Cancelled.", "confirm": "yes"})
    html = editor_client.get("/editor/audit").get_data(as_text=True)
    rows = html[html.index("<tbody>") : html.index("</tbody>")].split("<tr>")[1:]
    assert "colleague@example.org" in rows[0] and "withdrew" in rows[0] and "Cancelled." in rows[0]
    described = [(EMAIL, "corrected"), (EMAIL, "published"), (EMAIL, "created")]
    statement_rows = [row for row in rows if "Call" in row]
    for (who, what), row in zip(described, statement_rows[1:], strict=False):
        assert who in row and what in row
    assert all("<time datetime=" in row for row in rows)
    only = editor_client.get(f"/editor/audit?statement={corrected}").get_data(as_text=True)
    assert "logged in" not in only and "withdrew" in only


def test_the_audit_log_is_append_only(app, editor_client, corrected):
    connection = db.connect(app.config["DATABASE"])
    try:
        for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(sql)
    finally:
        connection.close()


def test_commands_are_audited_too(app, runner):
    runner.invoke(args=["create-editor", "new@example.org"], input="a good long passphrase\n")
    runner.invoke(args=["set-password", "new@example.org"], input="another long passphrase\n")
    connection = db.connect(app.config["DATABASE"])
    actions = [row[0] for row in connection.execute("SELECT action FROM audit_log ORDER BY id")]
    connection.close()
    assert actions == ["editor", "password"]


def test_long_unchanged_stretches_are_shortened():
    old = "\n".join(f"line {n}" for n in range(20))
    new = old.replace("line 10", "line ten")
    lines = diffs.line_diff(old, new)
    assert [line.kind for line in lines] == ["gap", "same", "same", "changed", "same", "same", "gap"]
    assert diffs.line_diff(old, old) == []


ONE_LINE = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    )
)


@settings(max_examples=60, deadline=None)
@given(ONE_LINE, ONE_LINE)
def test_a_changed_line_keeps_both_versions_word_for_word(old, new):
    lines = diffs.line_diff(old, new)
    if old == new:
        assert lines == []
        return
    old_again = "".join(text for line in lines for kind, text in line.parts if kind != "added")
    new_again = "".join(text for line in lines for kind, text in line.parts if kind != "removed")
    assert old_again == old and new_again == new


def test_a_bad_audit_page_number_is_400(editor_client):
    response = editor_client.get("/editor/audit?page=0")
    assert response.status_code == 400 and "positive whole number" in response.get_data(as_text=True)
