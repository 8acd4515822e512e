"""The editor's guard rails: the marked preview and its Publish, a confirmed and undoable withdrawal,
the date-time picker in the site's zone, and "Translate this"."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from conftest import sync
from editor_client import EditorClient, add_editor, form_values

from bulletin.site import proxy_refresh
from bulletin.statements import db, store


def audit_actions(app, statement_id):
    connection = db.connect(app.config["DATABASE"])
    try:
        rows = connection.execute(
            "SELECT actor, action, detail FROM audit_log WHERE statement_id = ? ORDER BY id", (statement_id,)
        )
        return [tuple(row) for row in rows]
    finally:
        connection.close()


def hidden_fields(html: str, action: str) -> dict:
    """The hidden inputs of the page's form that posts to ``action``."""
    form = html[html.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    }


# ------------------------------------------------------------------ the preview


def test_the_preview_of_a_draft_is_marked_and_has_publish_and_back_to_editing(editor_client, reader):
    statement_id = editor_client.create("Marked", "The *text*.", slug="marked")
    html = editor_client.get(f"/editor/statements/{statement_id}/preview").get_data(as_text=True)
    assert "Preview — not published" in html
    assert f'<a href="/editor/statements/{statement_id}">Back to editing</a>' in html
    fields = hidden_fields(html, f"/editor/statements/{statement_id}/publish")
    assert fields["revision"] == store_revision(editor_client, statement_id)
    assert reader.get("/statements/marked/").status_code == 404

    response = editor_client.post(f"/editor/statements/{statement_id}/publish", fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(statement_id)
    assert reader.get("/statements/marked/").status_code == 200
    assert "Published" in editor_client.get(response.headers["Location"]).get_data(as_text=True)


def store_revision(editor_client, statement_id) -> str:
    return form_values(editor_client.get(f"/editor/statements/{statement_id}").get_data(as_text=True))[
        "base_revision"
    ]


def test_publish_from_the_preview_publishes_exactly_the_previewed_revision(app, editor_client, reader):
    statement_id = editor_client.create("Seen", "The version the editor looked at.", slug="seen")
    html = editor_client.get(f"/editor/statements/{statement_id}/preview").get_data(as_text=True)
    previewed = hidden_fields(html, f"/editor/statements/{statement_id}/publish")

    # A colleague saves a newer revision after the preview was shown.
    colleague = EditorClient(app.test_client())
    add_editor(app, "colleague@example.org")
    colleague.login("colleague@example.org")
    colleague.save(statement_id, body="A version nobody previewed.")

    refused = editor_client.post(f"/editor/statements/{statement_id}/publish", previewed)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Not published: the statement was saved again" in page and "A version nobody previewed." in page
    assert reader.get("/statements/seen/").status_code == 404
    assert [a for _, a, _ in audit_actions(app, statement_id)] == ["create", "save"]

    # Publishing the version now shown publishes that one.
    shown = hidden_fields(page, f"/editor/statements/{statement_id}/publish")
    assert shown["revision"] != previewed["revision"]
    assert editor_client.post(f"/editor/statements/{statement_id}/publish", shown).status_code == 302
    public = reader.get("/api/statements/seen").get_json()
    assert public["revision"] == shown["revision"]
    assert "A version nobody previewed." in public["article_html"]
    assert audit_actions(app, statement_id)[-1][:2] == ("editor@example.org", "publish")


def test_publish_from_the_preview_schedules_a_time_still_to_come(editor_client, reader, clock):
    later = (clock.now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    statement_id = editor_client.create("Later", "Embargoed.", slug="later", published=later)
    html = editor_client.get(f"/editor/statements/{statement_id}/preview").get_data(as_text=True)
    assert "Publish schedules it for" in html
    fields = hidden_fields(html, f"/editor/statements/{statement_id}/publish")
    response = editor_client.post(f"/editor/statements/{statement_id}/publish", fields)
    assert "Scheduled" in editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert reader.get("/statements/later/").status_code == 404
    clock.advance(3 * 86400)
    assert reader.get("/statements/later/").status_code == 200


def test_the_preview_of_a_published_statement_offers_no_publish(editor_client):
    statement_id = editor_client.create("Out", action="publish")
    html = editor_client.get(f"/editor/statements/{statement_id}/preview").get_data(as_text=True)
    assert "Preview — not published" not in html and "Back to editing" in html
    assert f"/editor/statements/{statement_id}/publish" not in html
    response = editor_client.post(
        f"/editor/statements/{statement_id}/publish",
        {"revision": store_revision(editor_client, statement_id)},
    )
    assert response.status_code == 409 and "Only a draft can be published" in response.get_data(as_text=True)


# ------------------------------------------------------------------ withdrawal and its undoing


def test_withdrawal_needs_the_confirmation_step(app, editor_client, reader):
    statement_id = editor_client.create("Regret", slug="regret", action="publish")
    cursor = sync(reader)["cursor"]
    editor_client.get(f"/editor/statements/{statement_id}")
    asked = editor_client.post(f"/editor/statements/{statement_id}/withdraw", {"reason": "Wrong <date>."})
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Withdraw “Regret”?" in page and "Wrong &lt;date&gt;." in page and "Yes, withdraw it" in page
    # Asking changed nothing.
    assert reader.get("/statements/regret/").status_code == 200
    assert sync(reader, cursor)["withdrawn"] == []
    assert [a for _, a, _ in audit_actions(app, statement_id)] == ["create", "publish"]

    # The confirmation is a form with the CSRF token: without it, nothing happens.
    fields = hidden_fields(page, f"/editor/statements/{statement_id}/withdraw")
    assert fields["confirm"] == "yes" and fields["reason"] == "Wrong <date>."
    forged = editor_client.client.post(
        f"/editor/statements/{statement_id}/withdraw", data={**fields, "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert reader.get("/statements/regret/").status_code == 200

    done = editor_client.post(f"/editor/statements/{statement_id}/withdraw", fields)
    assert done.status_code == 302
    gone = reader.get("/statements/regret/")
    assert gone.status_code == 410 and "Wrong &lt;date&gt;." in gone.get_data(as_text=True)


def test_the_confirmation_step_refuses_an_empty_reason_at_once(editor_client, reader):
    statement_id = editor_client.create("Kept", slug="kept", action="publish")
    editor_client.get(f"/editor/statements/{statement_id}")
    response = editor_client.post(f"/editor/statements/{statement_id}/withdraw", {"reason": " "})
    assert response.status_code == 422 and "Give the reason" in response.get_data(as_text=True)
    assert reader.get("/statements/kept/").status_code == 200


def test_undoing_a_withdrawal_republishes_is_audited_and_reaches_devices(app, editor_client, reader):
    statement_id = editor_client.create(
        "Back", "The text stands.", slug="back", tags="press", action="publish"
    )
    editor_client.get(f"/editor/statements/{statement_id}")
    editor_client.post(
        f"/editor/statements/{statement_id}/withdraw", {"reason": "Too soon.", "confirm": "yes"}
    )
    # A device syncs the withdrawal.
    device = sync(reader)
    device = sync(reader, device["cursor"]) if device["statements"] else device
    page = editor_client.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
    assert "Undo the withdrawal" in page

    response = editor_client.post(f"/editor/statements/{statement_id}/republish")
    assert response.status_code == 302
    assert "Published again" in editor_client.get(response.headers["Location"]).get_data(as_text=True)

    page = reader.get("/statements/back/")
    assert page.status_code == 200 and "The text stands." in page.get_data(as_text=True)
    assert "/statements/back/" in reader.get("/tags/press/").get_data(as_text=True)
    assert "Back" in reader.get("/feed.atom").get_data(as_text=True)
    back = sync(reader, device["cursor"])
    assert [s["id"] for s in back["statements"]] == [statement_id] and back["withdrawn"] == []
    assert "The text stands." in back["statements"][0]["article_html"]
    assert audit_actions(app, statement_id)[-2:] == [
        ("editor@example.org", "withdraw", "Too soon."),
        ("editor@example.org", "republish", "Too soon."),
    ]
    assert "undid the withdrawal of" in editor_client.get("/editor/audit").get_data(as_text=True)

    # A second click (or a colleague's) changes nothing and says why.
    again = editor_client.post(f"/editor/statements/{statement_id}/republish")
    assert "Only a withdrawn statement" in editor_client.get(again.headers["Location"]).get_data(as_text=True)
    assert [a for _, a, _ in audit_actions(app, statement_id)].count("republish") == 1


def test_undoing_the_withdrawal_of_a_translation_gives_back_its_link(editor_client, publisher, reader):
    original = publisher.publish("Release him", slug="release")
    spanish = publisher.publish("Liberenlo", lang="es", slug="liberen", translation_of="release")
    publisher.withdraw(spanish)
    cursor = sync(reader)["cursor"]
    assert "/statements/liberen/" not in reader.get("/statements/release/").get_data(as_text=True)
    editor_client.get(f"/editor/statements/{spanish}")
    editor_client.post(f"/editor/statements/{spanish}/republish")
    assert "../liberen/" in reader.get("/statements/release/").get_data(as_text=True)
    assert {s["id"] for s in sync(reader, cursor)["statements"]} == {original, spanish}


# ------------------------------------------------------------------ the date-time picker


@pytest.mark.parametrize(
    "zone, typed, utc",
    [
        ("Asia/Kathmandu", "2031-05-01T09:30", dt.datetime(2031, 5, 1, 3, 45, tzinfo=dt.UTC)),
        ("America/New_York", "2031-01-15T18:05", dt.datetime(2031, 1, 15, 23, 5, tzinfo=dt.UTC)),
    ],
)
def test_the_picker_round_trips_a_time_in_the_site_zone(make_app, zone, typed, utc):
    app = make_app(TIMEZONE=zone)
    add_editor(app)
    editor = EditorClient(app.test_client())
    editor.login()
    html = editor.get("/editor/statements/new").get_data(as_text=True)
    assert 'type="datetime-local"' in html and zone in html
    statement_id = editor.create("Timed", published=typed, action="publish")
    with app.app_context():
        connection = db.connect(app.config["DATABASE"])
        try:
            assert store.scheduled_at(connection, statement_id) == utc
        finally:
            connection.close()
    page = editor.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
    assert f'type="datetime-local" min="0001-01-01T00:00" max="9999-12-31T23:59" value="{typed}"' in page
    assert zone in page
    # Saved again untouched, it stays the same instant.
    assert editor.save(statement_id, action="publish").status_code == 302
    assert (
        form_values(editor.get(f"/editor/statements/{statement_id}").get_data(as_text=True))["published"]
        == typed
    )


@pytest.mark.parametrize(
    "typed, message, kept",
    [
        (
            "2026-02-30T10:00",
            "There is no such publication time",
            'type="text" value="2026-02-30T10:00"',
        ),
        ("10000-01-01T00:00", "There is no such publication time", 'value="10000-01-01T00:00"'),
        ("9999-12-31T23:30", "There is no such publication time", 'value="9999-12-31T23:30"'),
        ("next tuesday <b>", "Choose the publication time", 'value="next tuesday &lt;b&gt;"'),
        (
            "2026-03-01T99:99",
            "There is no such publication time",
            'type="text" value="2026-03-01T99:99"',
        ),
        # The night the clocks go from 02:00 to 03:00 there.
        ("2031-03-09T02:30", "There is no such time in America/Los_Angeles", 'value="2031-03-09T02:30"'),
    ],
)
def test_a_wrong_time_is_a_message_and_the_text_is_kept(make_app, typed, message, kept):
    app = make_app(TIMEZONE="America/Los_Angeles")
    add_editor(app)
    editor = EditorClient(app.test_client())
    editor.login()
    editor.get("/editor/statements/new")
    response = editor.post(
        "/editor/statements/new",
        {"title": "Kept title", "body": "Kept text.", "source_format": "markdown", "published": typed},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and kept in page and "Kept text." in page


def test_a_date_without_a_time_stays_a_date_through_the_picker(app, editor_client, publisher, reader):
    statement_id = publisher.draft("Dated", published=dt.date(2022, 1, 7), slug="dated")
    values = editor_client.form_of(statement_id)
    assert values["published"] == "2022-01-07T00:00" and values["published_date"] == "2022-01-07"
    assert editor_client.save(statement_id, action="publish").status_code == 302
    assert reader.get("/api/statements/dated").get_json()["published"] == "2022-01-07"


# ------------------------------------------------------------------ Translate this


def test_translate_this_links_the_new_draft_to_the_original(editor_client, reader):
    original = editor_client.create(
        "Free the journalist", "He was **arrested**.", slug="free", tags="press", action="publish"
    )
    page = editor_client.get(f"/editor/statements/{original}").get_data(as_text=True)
    assert f'href="/editor/statements/{original}/translate">Translate this</a>' in page

    form = editor_client.get(f"/editor/statements/{original}/translate").get_data(as_text=True)
    assert "<h1>New translation of “Free the journalist”</h1>" in form
    assert "The original" in form and "<strong>arrested</strong>" in form and 'lang="en"' in form
    values = form_values(form)
    assert values["translation_of"] == original and values["tags"] == "press"

    response = editor_client.post(
        "/editor/statements/new",
        {
            **values,
            "title": "Liberen al periodista",
            "body": "Fue **detenido**.",
            "lang": "es",
            "slug": "liberen",
            "action": "publish",
        },
    )
    assert response.status_code == 302
    english = reader.get("/statements/free/").get_data(as_text=True)
    spanish = reader.get("/statements/liberen/").get_data(as_text=True)
    assert 'href="../liberen/" lang="es"' in english
    assert 'href="../free/" lang="en"' in spanish and "(original)" in spanish


def test_translate_this_refuses_what_cannot_be_translated(editor_client, publisher):
    assert editor_client.get("/editor/statements/no-such-id/translate").status_code == 404
    gone = publisher.publish("Gone")
    publisher.withdraw(gone)
    response = editor_client.get(f"/editor/statements/{gone}/translate")
    assert response.status_code == 409 and "undo the withdrawal first" in response.get_data(as_text=True)


def test_an_original_gone_meanwhile_is_a_message_with_the_text_kept(editor_client):
    editor_client.get("/editor/statements/new")
    response = editor_client.post(
        "/editor/statements/new",
        {"title": "Orphan", "body": "Kept words.", "source_format": "markdown", "translation_of": "nowhere"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "is not here any more" in page and "Kept words." in page


def test_undoing_a_withdrawal_renews_the_copies_kept_outside_once_committed(app, editor_client, publisher):
    seen = []

    def renew(connection, statement_id):
        # Called after the commit: another connection already sees the statement public.
        seen.append((statement_id, publisher.get(statement_id).status))

    app.extensions[proxy_refresh.EXTENSION] = renew
    statement_id = publisher.publish("Renewed")
    publisher.withdraw(statement_id)
    editor_client.get(f"/editor/statements/{statement_id}")
    assert editor_client.post(f"/editor/statements/{statement_id}/republish").status_code == 302
    assert seen == [(statement_id, "published")]


@pytest.mark.parametrize("action", ["publish", "withdraw", "republish"])
def test_a_get_on_a_guarded_action_changes_nothing(app, editor_client, action):
    statement_id = editor_client.create("Untouched", action="publish" if action != "publish" else "save")
    before = audit_actions(app, statement_id)
    assert editor_client.get(f"/editor/statements/{statement_id}/{action}").status_code == 405
    assert audit_actions(app, statement_id) == before
