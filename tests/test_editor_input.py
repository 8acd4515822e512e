"""The editor against values that once broke it: old years, slugs as typed, control characters in ``next``."""

from __future__ import annotations

import pytest
from editor_client import EMAIL, PASSWORD, EditorClient

from bulletin.statements import db


def test_a_publication_year_below_1000_never_breaks_the_editor(editor_client, client):
    statement_id = editor_client.create(
        "Ancient", "An old text.", slug="ancient", published="0226-03-01 09:30"
    )
    assert editor_client.get("/editor/").status_code == 200
    assert editor_client.form_of(statement_id)["published"] == "0226-03-01T09:30"  # the picker's form
    saved = editor_client.save(statement_id, body="An old text, corrected.", action="publish")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert editor_client.get("/editor/").status_code == 200
    page = editor_client.get(f"/editor/statements/{statement_id}")
    assert page.status_code == 200 and "0226-03-01 09:30" in page.get_data(as_text=True)
    assert client.get("/statements/ancient/").status_code == 200
    assert client.get("/api/statements/ancient").get_json()["published"].startswith("0226-03-01T09:30")


def test_a_value_stored_unpadded_by_an_earlier_release_still_opens(app, editor_client, client):
    statement_id = editor_client.create("Stored badly", "Text.", slug="stored-badly", action="publish")
    connection = db.connect(app.config["DATABASE"])
    try:
        connection.execute(
            "UPDATE statements SET published = '226-03-01T09:30:00Z' WHERE id = ?", (statement_id,)
        )
    finally:
        connection.close()
    assert editor_client.get("/editor/").status_code == 200
    assert editor_client.get(f"/editor/statements/{statement_id}").status_code == 200
    assert client.get("/statements/stored-badly/").status_code == 200


def test_year_1_east_of_utc_is_a_message_beside_the_field(make_app):
    from conftest import add_editor

    app = make_app(TIMEZONE="Asia/Tokyo")
    add_editor(app)
    editor = EditorClient(app.test_client())
    assert editor.login().status_code == 302
    editor.get("/editor/statements/new")
    response = editor.post(
        "/editor/statements/new",
        {"title": "Too early", "body": "Text.", "source_format": "markdown", "published": "0001-01-01 05:00"},
    )
    assert response.status_code == 422
    assert "publication time" in response.get_data(as_text=True)


@pytest.mark.parametrize("typed, stored", [("a/b", "a-b"), ("Mixed Case?x#y", "mixed-case-x-y")])
def test_a_slug_is_normalized_at_creation_as_on_rename(editor_client, client, typed, stored):
    editor_client.create("Slugged", "Text.", slug=typed, action="publish")
    assert client.get(f"/statements/{stored}/").status_code == 200
    listed = client.get("/api/statements").get_json()["statements"]
    assert [s["slug"] for s in listed] == [stored]


@pytest.mark.parametrize(
    "target", ["/editor/\r\nSet-Cookie: x=1", "/editor/audit\n", "/editor/\x00", "/editor/\x85"]
)
def test_control_characters_in_next_go_to_the_editors_home(client, editor, target):
    visitor = EditorClient(client)
    visitor.get("/editor/login")
    response = visitor.post("/editor/login", {"email": EMAIL, "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/editor/"
    again = client.get("/editor/login", query_string={"next": target})
    assert again.status_code == 302 and again.headers["Location"] == "/editor/"
