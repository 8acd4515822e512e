"""`flask import`: the seed, the samples, re-imports, failures and exit codes."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SAMPLES, STATEMENT_FILE, shared_seeds

from bulletin.statements import db, store


def statements(app):
    connection = db.connect(app.config["DATABASE"])
    try:
        return store.list_published(connection, limit=100)
    finally:
        connection.close()


@dataclass(frozen=True)
class Expected:
    """What importing one statement file must give."""

    title: str
    published: dt.date
    written: str  # the date as the page shows it
    paragraphs: int


OWN = Expected(
    "Harbour union condemns the arrest of striking dockers in Port Meridian",
    dt.date(2023, 3, 14),
    "14 March 2023",
    4,
)
SEED = Expected("SI condemns violence in Kazakhstan", dt.date(2022, 1, 7), "7 January 2022", 4)


def statement_file(which: str) -> tuple[Path, Expected]:
    return (STATEMENT_FILE, OWN) if which == "own" else (shared_seeds()[0], SEED)


@pytest.mark.parametrize("which", ["own", "shared seed"])
def test_a_statement_file_imports(runner, app, client, which):
    path, expected = statement_file(which)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "dropped trailing line: You are currently offline." in result.output
    [statement] = statements(app)
    assert statement.title == expected.title
    assert statement.published == expected.published
    assert statement.lang == "en"
    assert statement.body_html.count("<p>") == expected.paragraphs
    assert "You are currently offline" not in statement.body_html
    html = client.get(statement.url).get_data(as_text=True)
    assert f'<time datetime="{expected.published.isoformat()}">{expected.written}</time>' in html
    assert "You are currently offline" not in html


@pytest.mark.parametrize("which", ["own", "shared seed"])
@pytest.mark.parametrize("timezone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
def test_the_date_is_the_same_in_every_time_zone(runner, app, client, timezone, which):
    path, expected = statement_file(which)
    app.config["TIMEZONE"] = timezone
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    [statement] = statements(app)
    assert expected.written in client.get(statement.url).get_data(as_text=True)
    published = client.get(f"/api/statements/{statement.slug}").get_json()["published"]
    assert published == expected.published.isoformat()


def test_samples_import_in_every_language(runner, app, client):
    result = runner.invoke(args=["import", str(SAMPLES)])
    assert result.exit_code == 0, result.output
    imported = statements(app)
    assert len(imported) == 7
    assert {s.lang for s in imported} >= {"en", "es", "fr", "ru", "ar"}
    arabic = next(s for s in imported if s.lang == "ar")
    assert 'dir="rtl"' in client.get(arabic.url).get_data(as_text=True)
    spanish = next(s for s in imported if s.lang == "es")
    assert not spanish.is_original
    assert "README" not in result.output


def test_if_empty_imports_only_once(runner, app):
    assert runner.invoke(args=["import", "--if-empty", str(SAMPLES)]).exit_code == 0
    result = runner.invoke(args=["import", "--if-empty", str(SAMPLES)])
    assert result.exit_code == 0 and "nothing imported" in result.output
    assert len(statements(app)) == 7


def test_reimport_adds_a_revision_not_a_duplicate(runner, app, tmp_path):
    folder = tmp_path / "statements"
    folder.mkdir()
    file = folder / "a.txt"
    file.write_text("Title\n\n7 January 2022\n\nFirst text.\n")
    assert runner.invoke(args=["import", str(folder)]).exit_code == 0
    again = runner.invoke(args=["import", str(folder)])
    assert again.exit_code == 0 and again.output.startswith("unchanged")
    file.write_text("Title\n\n7 January 2022\n\nCorrected text.\n")
    revised = runner.invoke(args=["import", str(file)])
    assert revised.exit_code == 0 and revised.output.startswith("revised"), revised.output
    [statement] = statements(app)
    assert statement.revision_number == 2 and "Corrected text." in statement.body_html


def test_reimport_after_an_editors_change_needs_force(runner, app, publisher, tmp_path):
    file = tmp_path / "a.txt"
    file.write_text("Title\n\n7 January 2022\n\nImported text.\n")
    assert runner.invoke(args=["import", str(file)]).exit_code == 0
    [statement] = statements(app)
    publisher.revise(statement.id, title="Title", body="<p>Editor's correction.</p>")
    file.write_text("Title\n\n7 January 2022\n\nImported text, changed.\n")
    refused = runner.invoke(args=["import", str(file)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert "Editor's correction." in statements(app)[0].body_html
    forced = runner.invoke(args=["import", "--force", str(file)])
    assert forced.exit_code == 0
    assert "Imported text, changed." in statements(app)[0].body_html


def test_two_files_with_one_title_stay_two_statements(runner, app, tmp_path):
    for name, text in [("a.txt", "One text."), ("b.txt", "Another text.")]:
        (tmp_path / name).write_text(f"Same title\n\n7 January 2022\n\n{text}\n")
    assert runner.invoke(args=["import", str(tmp_path)]).exit_code == 0
    assert sorted(s.slug for s in statements(app)) == ["same-title", "same-title-2"]


def test_a_broken_file_leaves_the_database_unchanged(runner, app, tmp_path, caplog):
    (tmp_path / "good.txt").write_text("Good\n\n7 January 2022\n\nFine.\n")
    (tmp_path / "nodate.txt").write_text("No date here\n\nJust a paragraph.\n")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9\n\n7 January 2022\n\nx\n".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("Title\n\n7 January 2022\n\n")
    (tmp_path / "ambiguous.txt").write_text("Title\n\n03/04/2022\n\nText.\n")
    connection = db.connect(app.config["DATABASE"])
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 1
    refused = [r.getMessage() for r in caplog.records if r.name == "bulletin.importing.importer"]
    for name in ("nodate.txt", "latin1.txt", "empty.txt", "ambiguous.txt"):
        assert f"failed    {tmp_path.name}/{name}" in result.output
        assert any(
            f"{tmp_path.name}/{name} refused" in message for message in refused
        )  # the operator's log too
    assert "line" in result.output
    assert [s.title for s in statements(app)] == ["Good"]
    assert connection.execute("SELECT count(*) FROM revisions").fetchone()[0] == 1
    assert connection.execute("SELECT count(*) FROM changes").fetchone()[0] == 1


def test_date_option_fills_missing_dates(runner, app, tmp_path):
    (tmp_path / "nodate.txt").write_text("No date here\n\nJust a paragraph.\n")
    assert runner.invoke(args=["import", "--date", "2022-02-01", str(tmp_path)]).exit_code == 0
    assert statements(app)[0].published == dt.date(2022, 2, 1)


def test_usage_errors_exit_2(runner, tmp_path):
    assert runner.invoke(args=["import"]).exit_code == 2
    assert runner.invoke(args=["import", str(tmp_path / "missing")]).exit_code == 2
    assert runner.invoke(args=["import", "--date", "03/04/2022", str(tmp_path)]).exit_code == 2


def test_extra_drop_lines(runner, app, tmp_path):
    (tmp_path / "a.txt").write_text("Title\n\n7 January 2022\n\nText.\n\nShare this page\n")
    result = runner.invoke(args=["import", "--drop-line", "Share this page", str(tmp_path)])
    assert result.exit_code == 0 and "dropped trailing line: Share this page" in result.output
    assert "Share" not in statements(app)[0].body_html


def test_front_matter_identity_and_translation(runner, app, tmp_path):
    (tmp_path / "en.md").write_text("---\nslug: call\ntags: [a, b]\n---\n# Call\n\n2022-03-01\n\nText.\n")
    (tmp_path / "fr.md").write_text(
        "---\ntitle: Appel\nlang: fr\ntranslation_of: call\ndate: 2022-03-02\n---\nTexte.\n"
    )
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    by_lang = {s.lang: s for s in statements(app)}
    assert by_lang["en"].slug == "call" and by_lang["en"].tags == ("a", "b")
    assert by_lang["fr"].translation_group == by_lang["en"].id
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(tmp_path / "en.md", moved / "renamed.md")
    again = runner.invoke(args=["import", str(moved)])
    assert again.output.startswith("unchanged"), again.output


def test_import_refuses_an_unprepared_database(tmp_path, runner, app):
    app.config["DATABASE"] = str(tmp_path / "fresh.sqlite3")
    result = runner.invoke(args=["import", str(STATEMENT_FILE)])
    assert result.exit_code == 2 and "prepare" in result.output


def test_prepare_migrates_and_builds(tmp_path, runner, app):
    app.config["DATABASE"] = str(tmp_path / "fresh.sqlite3")
    result = runner.invoke(args=["prepare"])
    assert result.exit_code == 0, result.output
    assert "migrated: 0001_initial.sql" in result.output
    assert "migrated" not in runner.invoke(args=["prepare"]).output
