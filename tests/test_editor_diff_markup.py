"""Diffs that read right without colour: words and brackets mark changes, and words never run together."""

from __future__ import annotations

import re
import sqlite3

import diff_text

from bulletin.statements import db


def latest_revision(app, statement_id: str) -> str:
    connection = db.connect(app.config["DATABASE"])
    try:
        connection.row_factory = sqlite3.Row
        return connection.execute(
            "SELECT current_revision FROM statements WHERE id = ?", (statement_id,)
        ).fetchone()[0]
    finally:
        connection.close()


def changes_page(app, editor_client) -> str:
    statement_id = editor_client.create(
        "Hours", "The office is open 24 hours a day.\n\nCall us.", action="publish"
    )
    editor_client.save(statement_id, body="The office is open 12 hours a day.\n\nCall us.\n\nNew line.")
    path = f"/editor/statements/{statement_id}/revisions/{latest_revision(app, statement_id)}"
    response = editor_client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_replaced_word_is_marked_apart_on_screen(app, editor_client):
    lines = diff_text.seen(changes_page(app, editor_client))
    assert "~ The office is open [−24] [+12] hours a day." in lines
    assert "+ [+New line.]" in lines
    assert not any("2412" in line for line in lines)


def test_a_screen_reader_hears_which_words_were_removed_and_added(app, editor_client):
    lines = diff_text.spoken(changes_page(app, editor_client))
    assert "Changed line: The office is open removed: 24 added: 12 hours a day." in lines
    assert "Added line: added: New line." in lines


def test_changes_are_del_and_ins_elements(app, editor_client):
    html = changes_page(app, editor_client)
    assert re.search(r"<del>(?:<span[^>]*>[^<]*</span>)*24<span", html)
    assert re.search(r"<ins>(?:<span[^>]*>[^<]*</span>)*12<span", html)


def test_the_comparison_line_keeps_its_spaces(app, editor_client):
    text = " ".join(re.sub(r"<[^>]+>", "", changes_page(app, editor_client)).split())
    assert "Compared with revision 1. All revisions" in text
