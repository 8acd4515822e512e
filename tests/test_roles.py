"""Roles: a writer writes drafts, a publisher also publishes, an administrator also manages accounts.

Every refusal is a 403 and an entry in the audit log; nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from importlib import resources

import pytest
from editor_client import PASSWORD, EditorClient, add_editor

from bulletin.authoring import audit
from bulletin.editor import accounts
from bulletin.statements import db

WRITER = "writer@example.org"
ADMIN = "admin@example.org"


def logged_in(app, email: str, role: str) -> EditorClient:
    add_editor(app, email, role=role)
    browser = EditorClient(app.test_client())
    assert browser.login(email, PASSWORD).status_code == 302
    return browser


@pytest.fixture
def writer(app):
    return logged_in(app, WRITER, "writer")


@pytest.fixture
def admin(app):
    return logged_in(app, ADMIN, "admin")


def audit_of(app, action: str) -> list[audit.Entry]:
    connection = db.connect(app.config["DATABASE"])
    try:
        return [e for e in audit.entries(connection, limit=1000) if e.action == action]
    finally:
        connection.close()


def assert_refused(app, response, statement_id=None, permission="publish"):
    """A 403 page saying why, and one more refusal in the audit log about that statement."""
    assert response.status_code == 403
    assert "Nothing was changed" in response.get_data(as_text=True)
    refusal = audit_of(app, "refused")[0]
    assert refusal.actor in (WRITER, "editor@example.org")
    assert refusal.statement_id == statement_id
    assert refusal.detail.startswith(permission + ": POST") or refusal.detail.startswith(permission + ": GET")


def test_a_writer_creates_and_edits_drafts(writer, publisher):
    statement_id = writer.create("A draft by a writer")
    assert writer.save(statement_id, title="A better title").status_code == 302
    assert publisher.get(statement_id).title == "A better title"
    assert publisher.get(statement_id).status == "draft"


def test_a_writer_cannot_publish_a_new_statement(app, writer, publisher):
    writer.get("/editor/statements/new")
    response = writer.post(
        "/editor/statements/new",
        {"title": "Out now", "body": "Text", "source_format": "markdown", "action": "publish"},
    )
    assert_refused(app, response)
    connection = publisher.connection()
    assert connection.execute("SELECT count(*) FROM statements").fetchone()[0] == 0
    connection.close()


def test_a_writer_cannot_publish_or_schedule_a_draft(app, writer, publisher, clock):
    statement_id = writer.create("A draft")
    assert_refused(app, writer.save(statement_id, action="publish"), statement_id)
    later = (clock.now + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    assert_refused(app, writer.save(statement_id, action="publish", published=later), statement_id)
    assert publisher.get(statement_id).status == "draft"
    assert len(audit_of(app, "refused")) == 2
    assert audit_of(app, "publish") == [] and audit_of(app, "schedule") == []


def test_the_edit_form_of_a_writer_offers_no_publishing(writer, publisher):
    statement_id = writer.create("A draft")
    page = writer.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
    assert 'value="save"' in page and 'value="publish"' not in page
    published = publisher.publish("Public")
    page = writer.get(f"/editor/statements/{published}").get_data(as_text=True)
    assert "Only a publisher or an administrator may correct or withdraw it." in page
    assert "/withdraw" not in page and "<fieldset disabled>" in page and 'name="action"' not in page


def test_a_writer_cannot_correct_withdraw_or_restore_a_published_statement(app, writer, publisher):
    statement_id = publisher.publish("Public", "<p>First text.</p>")
    publisher.revise(statement_id, title="Public", body="<p>Second text.</p>")
    before = publisher.get(statement_id)
    form = {
        "title": "Changed by a writer",
        "body": "Other text",
        "source_format": "markdown",
        "base_revision": before.revision,
        "action": "save",
    }
    writer.get(f"/editor/statements/{statement_id}")
    assert_refused(app, writer.post(f"/editor/statements/{statement_id}", form), statement_id)
    response = writer.post(f"/editor/statements/{statement_id}/withdraw", {"reason": "Because."})
    assert_refused(app, response, statement_id)
    connection = publisher.connection()
    first = connection.execute(
        "SELECT id FROM revisions WHERE statement_id = ? AND number = 1", (statement_id,)
    ).fetchone()[0]
    connection.close()
    response = writer.post(
        f"/editor/statements/{statement_id}/revisions/{first}/restore", {"base_revision": before.revision}
    )
    assert_refused(app, response, statement_id)
    after = publisher.get(statement_id)
    assert (after.status, after.revision, after.title) == ("published", before.revision, "Public")
    assert len(audit_of(app, "refused")) == 3


def test_a_writer_cannot_cancel_a_schedule(app, writer, publisher, clock):
    statement_id = publisher.draft("Later", published=clock.now + dt.timedelta(days=1))
    publisher.save(statement_id, publish=True)
    response = writer.post(f"/editor/statements/{statement_id}/unschedule")
    assert_refused(app, response, statement_id)
    assert audit_of(app, "unschedule") == []


def test_a_publisher_publishes_corrects_and_withdraws(editor_client, publisher):
    statement_id = editor_client.create("Out now", action="publish")
    assert publisher.get(statement_id).status == "published"
    assert editor_client.save(statement_id, title="Out now, corrected").status_code == 302
    response = editor_client.post(
        f"/editor/statements/{statement_id}/withdraw", {"reason": "Wrong.", "confirm": "yes"}
    )
    assert response.status_code == 302 and publisher.get(statement_id).status == "withdrawn"


def test_only_an_administrator_manages_accounts(app, writer, editor_client):
    for browser, actor in ((writer, WRITER), (editor_client, "editor@example.org")):
        assert browser.get("/editor/accounts").status_code == 403
        response = browser.post(
            "/editor/accounts", {"email": "new@example.org", "role": "admin", "password": "a fine passphrase"}
        )
        assert response.status_code == 403
        refusals = [e for e in audit_of(app, "refused") if e.actor == actor]
        assert [e.detail.split(":")[0] for e in refusals] == ["manage_accounts", "manage_accounts"]
    with app.app_context():
        from bulletin.http.database import get_db

        assert accounts.find(get_db(), "new@example.org") is None
    assert "/editor/accounts" not in writer.get("/editor/").get_data(as_text=True)


def test_an_administrator_creates_accounts_with_a_role_and_changes_roles(app, admin):
    page = admin.get("/editor/accounts").get_data(as_text=True)
    assert ADMIN in page and "administrator" in page
    data = {"email": "New@Example.org", "role": "writer", "password": "a fine passphrase"}
    assert admin.post("/editor/accounts", data).status_code == 302
    new = EditorClient(app.test_client())
    assert new.login("new@example.org", "a fine passphrase").status_code == 302
    new_id = next(e.id for e in accounts_of(app) if e.email == "new@example.org")
    assert {e.email: e.role for e in accounts_of(app)}["new@example.org"] == "writer"
    admin.get("/editor/accounts")
    assert admin.post(f"/editor/accounts/{new_id}/role", {"role": "publisher"}).status_code == 302
    assert {e.email: e.role for e in accounts_of(app)}["new@example.org"] == "publisher"
    # The change holds at the editor's next request, without logging in again.
    new.get("/editor/statements/new")
    response = new.post(
        "/editor/statements/new",
        {"title": "Now allowed", "body": "Text", "source_format": "markdown", "action": "publish"},
    )
    assert response.status_code == 302
    role_entry = audit_of(app, "role")[0]
    assert (role_entry.actor, role_entry.detail) == (ADMIN, "new@example.org: writer → publisher")
    assert audit_of(app, "create_editor")[0].detail == "new@example.org (writer)"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"email": "not an email", "role": "writer", "password": "a fine passphrase"}, "is not an email"),
        ({"email": "x@example.org", "role": "emperor", "password": "a fine passphrase"}, "is not a role"),
        ({"email": "x@example.org", "role": "writer", "password": "short"}, "at least 8"),
        ({"email": ADMIN, "role": "writer", "password": "a fine passphrase"}, "already exists"),
        ({"email": "x" * 5000 + "@example.org", "role": "writer", "password": "a fine passphrase"}, "email"),
    ],
)
def test_account_creation_refuses_bad_input_with_a_message(app, admin, data, message):
    response = admin.post("/editor/accounts", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert len(accounts_of(app)) == 1


def test_an_administrator_cannot_change_their_own_role_nor_give_an_unknown_one(app, admin):
    own = accounts_of(app)[0]
    response = admin.post(f"/editor/accounts/{own.id}/role", {"role": "writer"})
    assert response.status_code == 422
    add_editor(app, WRITER, role="writer")
    other = next(e for e in accounts_of(app) if e.email == WRITER)
    assert admin.post(f"/editor/accounts/{other.id}/role", {"role": "root"}).status_code == 422
    assert admin.post("/editor/accounts/99999/role", {"role": "writer"}).status_code == 404
    assert admin.post("/editor/accounts/" + "9" * 40 + "/role", {"role": "writer"}).status_code == 404
    assert admin.post("/editor/accounts/" + "9" * 40 + "/second-factor/reset").status_code == 404
    assert {e.email: e.role for e in accounts_of(app)} == {ADMIN: "admin", WRITER: "writer"}


def accounts_of(app) -> list[accounts.Editor]:
    connection = db.connect(app.config["DATABASE"])
    try:
        return accounts.every(connection)
    finally:
        connection.close()


def test_create_editor_takes_a_role_and_defaults_to_publisher(app, runner):
    result = runner.invoke(args=["create-editor", "w@example.org", "--role", "writer"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["create-editor", "p@example.org"], input=PASSWORD + "\n").exit_code == 0
    result = runner.invoke(args=["create-editor", "a@example.org", "--role", "king"], input=PASSWORD + "\n")
    assert result.exit_code == 2 and "king" in result.output
    assert {e.email: e.role for e in accounts_of(app)} == {
        "w@example.org": "writer",
        "p@example.org": "publisher",
    }


def test_set_role_makes_the_first_administrator(app, runner, editor):
    result = runner.invoke(args=["set-role", editor.email, "admin"])
    assert result.exit_code == 0, result.output
    assert accounts_of(app)[0].role == "admin"
    entry = audit_of(app, "role")[0]
    assert (entry.actor, entry.detail) == ("operator", f"{editor.email}: publisher → admin")
    assert runner.invoke(args=["set-role", "nobody@example.org", "admin"]).exit_code == 1
    assert runner.invoke(args=["set-role", editor.email, "god"]).exit_code == 2


def test_accounts_from_before_roles_become_publishers(tmp_path):
    path = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    folder = resources.files("bulletin.statements.migrations")
    for number in range(1, 8):
        name = next(entry.name for entry in folder.iterdir() if entry.name.startswith(f"{number:04d}_"))
        connection.executescript(folder.joinpath(name).read_text(encoding="utf-8"))
        connection.execute(f"PRAGMA user_version = {number}")
    connection.execute(
        "INSERT INTO editors (email, password_hash, created_at, password_changed_at)"
        " VALUES ('old@example.org', 'x', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')"
    )
    connection.close()
    assert "0009_roles_and_second_factor.sql" in db.migrate_file(path)
    connection = db.connect(path)
    old = accounts.find(connection, "old@example.org")
    connection.close()
    assert (old.role, old.second_factor) == ("publisher", False)
