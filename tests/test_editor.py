"""Authoring through the editor: lists, create, preview, publish, correct, withdraw, conflicts."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from conftest import sync
from editor_client import EditorClient, add_editor, form_values

from bulletin.statements import db, store


def slugs_in(payload):
    return [s["slug"] for s in payload["statements"]]


def etags(reader, *paths):
    return {path: reader.get(path).headers.get("ETag") for path in paths}


PUBLIC = ("/", "/feed.atom", "/api/statements", "/api/sync", "/tags/press/")


def test_the_home_lists_drafts_published_and_withdrawn(editor_client):
    editor_client.create("Draft one")
    published = editor_client.create("Out already", action="publish")
    withdrawn = editor_client.create("Regretted", action="publish")
    editor_client.get(f"/editor/statements/{withdrawn}")
    assert (
        editor_client.post(
            f"/editor/statements/{withdrawn}/withdraw", {"reason": "Wrong date.", "confirm": "yes"}
        ).status_code
        == 302
    )
    html = editor_client.get("/editor/").get_data(as_text=True)
    drafts, rest = html.split('id="list-published"')
    published_part, withdrawn_part = rest.split('id="list-withdrawn"')
    assert "Draft one" in drafts and "Out already" in published_part and "Regretted" in withdrawn_part
    assert published


def test_a_draft_is_nowhere_public(editor_client, reader):
    cursor = sync(reader)["cursor"]
    statement_id = editor_client.create("Not yet", slug="not-yet")
    assert reader.get("/statements/not-yet/").status_code == 404
    assert reader.get("/api/statements/not-yet").status_code == 404
    assert "Not yet" not in reader.get("/feed.atom").get_data(as_text=True)
    assert sync(reader)["cursor"] == cursor and sync(reader, cursor)["statements"] == []
    assert statement_id


def test_the_sanitizer_report_is_shown_after_saving(editor_client):
    body = 'Hello <script>alert(1)</script>\n\n<p onclick="steal()">click</p>'
    editor_client.get("/editor/statements/new")
    response = editor_client.post(
        "/editor/statements/new", {"title": "T", "body": body, "source_format": "markdown", "action": "save"}
    )
    page = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The sanitizer removed parts of the text. Check the preview." in page
    assert "Scripts were removed" in page and "A script in the onclick attribute was removed." in page
    # The editor's own text is kept as written; only the published HTML is cleaned.
    assert form_values(page)["body"] == body
    again = editor_client.save(response.headers["Location"].rsplit("/", 1)[1], title="T2")
    assert "sanitizer removed" in editor_client.get(again.headers["Location"]).get_data(as_text=True)


def test_a_clean_save_reports_nothing_removed(editor_client):
    statement_id = editor_client.create("Clean", "Plain *Markdown*.")
    assert "sanitizer" not in editor_client.get(f"/editor/statements/{statement_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "source_format, body, expected",
    [
        ("markdown", "Some *stress*.", "<p>Some <em>stress</em>.</p>"),
        ("html", "<p>Some <strong>HTML</strong>.</p>", "<p>Some <strong>HTML</strong>.</p>"),
        ("txt", "Line one\nline <two>", "<p>Line one<br>\nline &lt;two&gt;</p>"),
    ],
)
def test_bodies_in_each_format(editor_client, reader, source_format, body, expected):
    editor_client.create("Formats", body, source_format=source_format, slug="formats", action="publish")
    assert expected in reader.get("/statements/formats/").get_data(as_text=True)


def test_preview_is_the_readers_page_without_the_page_script(editor_client, reader):
    statement_id = editor_client.create("Preview me", "Body **here**.", slug="preview-me", tags="press")
    draft = editor_client.get(f"/editor/statements/{statement_id}/preview")
    assert draft.status_code == 200 and draft.headers["Cache-Control"] == "no-store"
    assert "<h1>Preview me</h1>" in draft.get_data(as_text=True)
    # The page script would keep the draft on the editor's device as a statement.
    assert "<script" not in draft.get_data(as_text=True)
    editor_client.save(statement_id, action="publish")
    page = reader.get("/statements/preview-me/").get_data(as_text=True)
    preview = editor_client.get(f"/editor/statements/{statement_id}/preview").get_data(as_text=True)
    # Less the script and the notices only it fills, the preview is the reader's page.
    script = re.search(r'<script src="[^"]+" defer></script>', page).group(0)
    notices = re.search(r'<div class="notices">.*?</div>\s*</div>', page, re.S).group(0)
    assert "<script" not in preview and 'id="offline-banner"' not in preview
    # Less the preview's own bar and title, the preview is the reader's page.
    bar = re.search(r'<section class="preview-bar".*?</section>', preview, re.S).group(0)
    assert "Preview — this version is published" in bar
    stylesheet = re.search(r'<link rel="stylesheet" href="/static/gen/preview\.\w+\.css">', preview).group(0)
    preview = preview.replace(bar, "").replace("<title>Preview: ", "<title>").replace(stylesheet, "")
    # Less what only the page script uses (the install script's address).
    install = re.search(r' data-install-script="[^"]+"', page).group(0)
    # The article's links, relative to the reader's page, are resolved in the preview as there.
    assert 'href="../../tags/press/"' in page and 'href="/tags/press/"' in preview
    page = re.sub(
        r'href="(\.[^"]*)"', lambda link: f'href="{urljoin("/statements/preview-me/", link.group(1))}"', page
    )
    assert preview == page.replace(script, "").replace(notices, "").replace(install, "")
    assert (
        editor_client.get(f"/editor/statements/{statement_id}/preview").headers["Cache-Control"] == "no-store"
    )


def test_publishing_reaches_pages_feed_api_and_sync(editor_client, reader):
    before = sync(reader)["cursor"]
    old_tags = etags(reader, *PUBLIC[:4])
    statement_id = editor_client.create("Breaking", "Text.", slug="breaking", tags="press")
    assert etags(reader, *PUBLIC[:4]) == old_tags  # a draft changes nothing public
    page = editor_client.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
    assert "Breaking" in page
    response = editor_client.save(statement_id, action="publish")
    assert "Published" in editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert reader.get("/statements/breaking/").status_code == 200
    assert reader.get("/api/statements/breaking").get_json()["title"] == "Breaking"
    assert "Breaking" in reader.get("/feed.atom").get_data(as_text=True)
    assert slugs_in(sync(reader, before)) == ["breaking"]
    new_tags = etags(reader, *PUBLIC[:4])
    assert all(new_tags[path] != old_tags[path] for path in new_tags)


def test_a_correction_shows_updated_and_reaches_devices(editor_client, reader):
    statement_id = editor_client.create(
        "Statement", "The meeting is on Monday.", slug="meeting", action="publish"
    )
    page = reader.get("/statements/meeting/")
    assert "Updated" not in page.get_data(as_text=True)
    cursor = sync(reader)["cursor"]
    old_etag = page.headers["ETag"]
    response = editor_client.save(
        statement_id, body="The meeting is on Tuesday.", correction_note="The day was wrong."
    )
    assert response.status_code == 302
    page = reader.get("/statements/meeting/")
    html = page.get_data(as_text=True)
    assert "Tuesday" in html and "Updated" in html and "The day was wrong." in html
    assert page.headers["ETag"] != old_etag
    assert reader.get("/statements/meeting/", headers={"If-None-Match": old_etag}).status_code == 200
    changed = sync(reader, cursor)
    assert (
        slugs_in(changed) == ["meeting"]
        and changed["statements"][0]["correction_note"] == "The day was wrong."
    )


def test_drafting_in_several_saves_is_not_an_update(editor_client, reader):
    statement_id = editor_client.create("Draft", "First try.", slug="drafty")
    editor_client.save(statement_id, body="Second try.")
    editor_client.save(statement_id, body="Third try.", action="publish")
    html = reader.get("/statements/drafty/").get_data(as_text=True)
    assert "Third try." in html and "Updated" not in html


def test_saving_without_changes_stores_nothing(app, editor_client, reader):
    statement_id = editor_client.create("Same", action="publish", slug="same")
    cursor = sync(reader)["cursor"]
    response = editor_client.save(statement_id)
    assert "Nothing had changed" in editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert sync(reader)["cursor"] == cursor
    connection = db.connect(app.config["DATABASE"])
    assert len(store.revisions_of(connection, statement_id)) == 1
    connection.close()


def test_changing_only_tags_of_a_published_statement_reaches_devices(editor_client, reader):
    statement_id = editor_client.create("Tagged", slug="tagged", tags="press", action="publish")
    cursor = sync(reader)["cursor"]
    old = reader.get("/statements/tagged/").headers["ETag"]
    editor_client.save(statement_id, tags="press, radio")
    assert reader.get("/statements/tagged/").headers["ETag"] != old
    assert reader.get("/tags/radio/").status_code == 200
    changed = sync(reader, cursor)
    assert slugs_in(changed) == ["tagged"] and changed["statements"][0]["tags"] == ["press", "radio"]
    assert "Updated" not in reader.get("/statements/tagged/").get_data(as_text=True)


def test_withdrawing_needs_a_reason_then_answers_410_everywhere(editor_client, reader):
    statement_id = editor_client.create("Regret", slug="regret", action="publish")
    cursor = sync(reader)["cursor"]
    editor_client.get(f"/editor/statements/{statement_id}")
    refused = editor_client.post(f"/editor/statements/{statement_id}/withdraw", {"reason": "  "})
    assert refused.status_code == 422 and "reason" in refused.get_data(as_text=True)
    assert reader.get("/statements/regret/").status_code == 200
    assert (
        editor_client.post(
            f"/editor/statements/{statement_id}/withdraw",
            {"reason": "Published by mistake.", "confirm": "yes"},
        ).status_code
        == 302
    )
    page = reader.get("/statements/regret/")
    assert page.status_code == 410 and "Published by mistake." in page.get_data(as_text=True)
    assert reader.get("/api/statements/regret").status_code == 410
    assert "Regret" not in reader.get("/feed.atom").get_data(as_text=True)
    changed = sync(reader, cursor)
    assert changed["statements"] == [] and changed["withdrawn"][0]["reason"] == "Published by mistake."


def test_a_withdrawn_statement_cannot_be_edited(editor_client):
    statement_id = editor_client.create("Gone", action="publish")
    editor_client.get(f"/editor/statements/{statement_id}")
    editor_client.post(
        f"/editor/statements/{statement_id}/withdraw", {"reason": "No longer true.", "confirm": "yes"}
    )
    page = editor_client.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
    assert "<fieldset disabled>" in page and "No longer true." in page
    data = {**form_values(page), "title": "Back again", "action": "save"}
    response = editor_client.post(f"/editor/statements/{statement_id}", data)
    assert response.status_code == 422 and "withdrawn statement cannot be changed" in response.get_data(
        as_text=True
    )


def test_a_save_against_a_newer_revision_is_409_and_keeps_the_text(app, editor_client):
    statement_id = editor_client.create("Shared", "Paragraph one.\n\nParagraph two.", action="publish")
    colleague = EditorClient(app.test_client())
    add_editor(app, "colleague@example.org")
    colleague.login("colleague@example.org")
    mine = editor_client.form_of(statement_id)
    theirs = colleague.save(statement_id, body="Paragraph one.\n\nParagraph two, corrected by a colleague.")
    assert theirs.status_code == 302
    my_text = "Paragraph one, my version.\n\nParagraph two."
    response = editor_client.post(
        f"/editor/statements/{statement_id}", {**mine, "body": my_text, "action": "save"}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert form_values(html)["body"] == my_text  # nothing lost
    assert "corrected by a colleague" in html and "colleague@example.org" in html  # both versions
    assert "<ins>" in html and "<del>" in html
    # Saving the merged text from the conflict page is accepted.
    merged = {
        **form_values(html),
        "body": "Paragraph one, my version.\n\nParagraph two, corrected.",
        "action": "save",
    }
    assert editor_client.post(f"/editor/statements/{statement_id}", merged).status_code == 302
    assert "my version" in editor_client.form_of(statement_id)["body"]


def test_invalid_form_keeps_the_text_and_says_what_to_fix(editor_client):
    editor_client.get("/editor/statements/new")
    data = {
        "title": "",
        "body": "Precious words.",
        "published": "next tuesday",
        "lang": "english!",
        "action": "save",
    }
    response = editor_client.post("/editor/statements/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "needs a title" in html and "2026-03-01 09:30" in html and "language as a code" in html
    assert "Precious words." in html and 'aria-invalid="true"' in html


def test_unknown_translation_original_is_a_form_error(editor_client):
    editor_client.get("/editor/statements/new")
    data = {"title": "Traducción", "body": "Texto.", "translation_of": "no-such-statement", "action": "save"}
    response = editor_client.post("/editor/statements/new", data)
    assert response.status_code == 422 and "no-such-statement" in response.get_data(as_text=True)


def test_a_translation_is_linked_from_its_original(editor_client, reader):
    editor_client.create("Release her", "Free her now.", slug="release", lang="en", action="publish")
    editor_client.create(
        "Liberenla", "Libérenla ya.", slug="liberenla", lang="es", translation_of="release", action="publish"
    )
    html = reader.get("/statements/release/").get_data(as_text=True)
    assert 'href="../liberenla/"' in html


def test_an_oversized_body_gets_a_clear_413_and_saves_nothing(make_app, reader):
    app = make_app(MAX_BODY=16384)
    add_editor(app)
    editor_client = EditorClient(app.test_client())
    editor_client.login()
    editor_client.get("/editor/statements/new")
    response = editor_client.post(
        "/editor/statements/new", {"title": "Huge", "body": "word " * 5000, "action": "save"}
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "too large to save" in html and "16 KB" in html and "nothing was saved" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "Huge" not in editor_client.get("/editor/").get_data(as_text=True)


def test_the_body_limit_is_a_setting(tmp_path, monkeypatch):
    from bulletin import config, create_app

    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BULLETIN_MAX_BODY", "65536")
    assert create_app().config["MAX_CONTENT_LENGTH"] == 65536
    monkeypatch.setenv("BULLETIN_MAX_BODY", "100")
    with pytest.raises(config.ConfigError, match="BULLETIN_MAX_BODY"):
        create_app()


@pytest.mark.parametrize(
    "path",
    [
        "/editor/",
        "/editor/login",
        "/editor/statements/new",
        "/editor/audit",
        "/editor/password",
        "/editor/nothing-here",
        "/editor/statements/00000000-0000-0000-0000-000000000000",
        "{edit}",
        "{preview}",
        "{history}",
    ],
)
def test_every_editor_page_is_no_store(editor_client, path):
    statement_id = editor_client.create("Any", action="publish")
    path = path.format(
        edit=f"/editor/statements/{statement_id}",
        preview=f"/editor/statements/{statement_id}/preview",
        history=f"/editor/statements/{statement_id}/history",
    )
    response = editor_client.client.get(path)
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers and "noindex" in response.headers["X-Robots-Tag"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    # Nor does the page script run there: it keeps on the device what pages show. The
    # statement form has the editor's own script only.
    scripts = re.findall(r"<script[^>]*>", response.get_data(as_text=True))
    assert all(
        re.fullmatch(r'<script src="/static/gen/editor\.[0-9a-f]+\.js" defer>', tag) for tag in scripts
    )


def test_editor_pages_name_their_form_controls(editor_client):
    statement_id = editor_client.create("Labels", action="publish")
    html = editor_client.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
    for control_id in re.findall(r'<(?:input|textarea|select) id="([^"]+)"', html):
        assert f'<label for="{control_id}"' in html, control_id


def test_language_tags_keep_their_usual_case_and_resaving_changes_nothing(editor_client, reader):
    statement_id = editor_client.create(
        "Comunicado", "Texto.", slug="comunicado", lang="pt_br", action="publish"
    )
    assert reader.get("/api/statements/comunicado").get_json()["lang"] == "pt-BR"
    cursor = sync(reader)["cursor"]
    editor_client.save(statement_id)
    editor_client.save(statement_id, lang="")  # emptied: the language stays, never re-detected
    assert sync(reader)["cursor"] == cursor
    assert reader.get("/api/statements/comunicado").get_json()["lang"] == "pt-BR"
