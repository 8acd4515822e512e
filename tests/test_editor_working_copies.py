"""Working copies: the editor's unsaved form, kept on the server as the editor types.

Over HTTP: the endpoint the editor script calls (session, CSRF, sizes,
hostile input), what readers see of it (nothing), the offer on the form
without JavaScript, and a save or a discard that ends it.
"""

from __future__ import annotations

import json

import pytest
from conftest import reconfigure
from editor_client import EditorClient, add_editor, form_values

from bulletin.statements import db

JSON = {"Accept": "application/json"}


def keep(editor_client, segment: str, token: str | None = "", **fields):
    """POST the form's fields as the working copy of ``segment`` (a statement id, or ``new``)."""
    headers = dict(JSON)
    if token is not None:
        headers["X-CSRF-Token"] = token or editor_client.token
    data = {"title": "T", "body": "B", "source_format": "markdown", **fields}
    return editor_client.client.post(f"/editor/statements/{segment}/working-copy", data=data, headers=headers)


def count(app, table: str) -> int:
    connection = db.connect(app.config["DATABASE"])
    try:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


@pytest.fixture
def published(editor_client):
    """A published statement, its id; the editor's client has its form's token."""
    statement_id = editor_client.create(
        "Water for the district", "The pumps stopped.", action="publish", slug="water"
    )
    editor_client.get(f"/editor/statements/{statement_id}")
    return statement_id


def test_a_working_copy_is_kept_and_readers_never_see_it(app, client, editor_client, published):
    page = client.get("/statements/water/")
    listing = client.get("/")
    cursor = client.get("/api/sync").get_json()["cursor"]
    revisions, audit = count(app, "revisions"), count(app, "audit_log")

    response = keep(
        editor_client, published, title="Water for the district", body="The pumps stopped. zebrafinch"
    )
    assert response.status_code == 200
    assert response.get_json()["saved_at"]
    assert count(app, "working_copies") == 1

    # No revision, no audit entry, no change for sync, and every public answer the same.
    assert (count(app, "revisions"), count(app, "audit_log")) == (revisions, audit)
    assert client.get(f"/api/sync?since={cursor}").get_json()["statements"] == []
    for path, before in (("/statements/water/", page), ("/", listing)):
        again = client.get(path, headers={"If-None-Match": before.headers["ETag"]})
        assert again.status_code == 304, path
    for path in ("/statements/water/", "/", "/feed.atom", "/api/statements/water"):
        assert "zebrafinch" not in client.get(path).get_data(as_text=True), path
    assert "Water for the district" not in client.get("/search/?q=zebrafinch").get_data(as_text=True)


def test_the_form_offers_the_working_copy_and_a_save_turns_it_into_a_revision(
    app, editor, editor_client, published
):
    keep(editor_client, published, title="Water for the district", body="Typed, never saved.")
    html = editor_client.get(f"/editor/statements/{published}").get_data(as_text=True)
    assert 'id="working-copy-offer"' in html and "was never saved" in html
    assert form_values(html)["body"] == "The pumps stopped."  # the form itself is the saved revision
    assert 'data-server-copy="yes"' in html

    restored = editor_client.get(f"/editor/statements/{published}?restore=working-copy").get_data(
        as_text=True
    )
    assert form_values(restored)["body"] == "Typed, never saved."
    assert "Your unsaved text is back in the form." in restored
    assert 'id="working-copy-offer"' not in restored

    revisions = count(app, "revisions")
    data = {**form_values(restored), "action": "save"}
    assert editor_client.post(f"/editor/statements/{published}", data).status_code == 302
    assert count(app, "revisions") == revisions + 1
    assert count(app, "working_copies") == 0
    html = editor_client.get(f"/editor/statements/{published}").get_data(as_text=True)
    assert form_values(html)["body"] == "Typed, never saved."
    assert 'id="working-copy-offer"' not in html and 'data-server-copy="no"' in html
    # Once, the form names the copy the save ended, for the editor script to drop its own.
    assert f'data-gone-key="{editor.id}:{published}"' in html
    assert "data-gone-key" not in editor_client.get(f"/editor/statements/{published}").get_data(as_text=True)


def test_a_new_statement_has_its_working_copy_until_it_is_created(app, editor_client):
    editor_client.get("/editor/statements/new")
    assert keep(editor_client, "new", title="Not yet created", body="Words so far.").status_code == 200
    assert count(app, "statements") == 0
    html = editor_client.get("/editor/statements/new").get_data(as_text=True)
    assert 'id="working-copy-offer"' in html
    restored = editor_client.get("/editor/statements/new?restore=working-copy").get_data(as_text=True)
    assert form_values(restored)["title"] == "Not yet created"
    editor_client.create("Not yet created", "Words so far.")
    assert count(app, "working_copies") == 0
    assert 'id="working-copy-offer"' not in editor_client.get("/editor/statements/new").get_data(as_text=True)


def test_discarding_forgets_the_working_copy(app, editor_client, published):
    keep(editor_client, published, body="Second thoughts.")
    response = editor_client.post(f"/editor/statements/{published}/working-copy/discard")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/editor/statements/{published}"
    )
    assert count(app, "working_copies") == 0
    html = editor_client.get(f"/editor/statements/{published}").get_data(as_text=True)
    assert "Your unsaved text was discarded." in html and 'id="working-copy-offer"' not in html


def test_a_working_copy_equal_to_the_saved_form_is_not_offered(editor_client, published):
    keep(editor_client, published, **{**editor_client.form_of(published)})
    assert 'id="working-copy-offer"' not in editor_client.get(f"/editor/statements/{published}").get_data(
        as_text=True
    )


def test_each_editor_has_their_own_working_copy(app, client, editor_client, published):
    keep(editor_client, published, body="Mine.")
    add_editor(app, "second@example.org")
    other = EditorClient(app.test_client())
    assert other.login("second@example.org").status_code == 302
    assert 'id="working-copy-offer"' not in other.get(f"/editor/statements/{published}").get_data(
        as_text=True
    )


def test_the_endpoint_needs_the_csrf_token_and_a_session(app, editor_client, published):
    assert keep(editor_client, published, token=None).status_code == 400
    assert keep(editor_client, published, token="forged").status_code == 400
    stranger = app.test_client()
    response = stranger.post(f"/editor/statements/{published}/working-copy", data={"body": "x"}, headers=JSON)
    assert response.status_code in (302, 400)  # no session: to the login page, or no token to match
    assert count(app, "working_copies") == 0


def test_an_ended_session_sends_the_script_to_log_in(app, editor_client, published, clock):
    clock.advance(app.config["SESSION_IDLE_MINUTES"] * 60 + 1)
    response = keep(editor_client, published)
    assert response.status_code == 302 and "/editor/login?next=" in response.headers["Location"]
    assert count(app, "working_copies") == 0


def test_typing_keeps_the_session_alive_within_its_absolute_limit(app, editor_client, published, clock):
    reconfigure(app, SESSION_IDLE_MINUTES=30, SESSION_MAX_HOURS=2)
    for _ in range(5):  # 100 minutes of typing, never 30 idle
        clock.advance(20 * 60)
        assert keep(editor_client, published, body="Still typing.").status_code == 200
    assert editor_client.client.get("/editor/").status_code == 200
    clock.advance(21 * 60)  # past two hours since login, though active
    assert keep(editor_client, published).status_code == 302


def test_the_body_is_bounded_by_max_body(app, editor_client, published):
    limit = app.config["MAX_BODY"]
    response = keep(editor_client, published, body="x" * (limit + 1))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"]
    assert count(app, "working_copies") == 0


@pytest.mark.parametrize(
    ("segment", "fields", "status"),
    [
        ("no-such-statement", {}, 404),
        ("x" * 5000, {}, 404),
        ("%00", {}, 404),
        ("{published}", {"source_format": "exe"}, 422),
    ],
)
def test_hostile_input_gets_a_clear_4xx(app, editor_client, published, segment, fields, status):
    response = keep(editor_client, segment.format(published=published), **fields)
    assert response.status_code == status
    assert "error" in response.get_json()
    assert count(app, "working_copies") == 0


def test_odd_text_is_kept_as_typed_never_a_500(app, editor_client, published):
    odd = "\x00 \u202e ‮<script>alert(1)</script> 🙂 \r\n\ud7ff"
    assert keep(editor_client, published, body=odd).status_code == 200
    connection = db.connect(app.config["DATABASE"])
    try:
        kept = json.loads(connection.execute("SELECT fields FROM working_copies").fetchone()[0])
    finally:
        connection.close()
    assert kept["body"] == odd.replace("\r\n", "\n")
    raw = editor_client.client.post(
        f"/editor/statements/{published}/working-copy",
        data=b"body=%ff%fe%00&source_format=markdown",
        content_type="application/x-www-form-urlencoded",
        headers={**JSON, "X-CSRF-Token": editor_client.token},
    )
    assert raw.status_code < 500
    html = editor_client.get(f"/editor/statements/{published}?restore=working-copy").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html  # escaped in the form like any text


def test_a_withdrawn_statement_has_no_working_copy(app, editor_client, published):
    editor_client.post(f"/editor/statements/{published}/withdraw", {"reason": "Wrong.", "confirm": "yes"})
    response = keep(editor_client, published)
    assert response.status_code == 409 and "error" in response.get_json()
    html = editor_client.get(f"/editor/statements/{published}").get_data(as_text=True)
    assert "data-working-copy" not in html and "<script" not in html
