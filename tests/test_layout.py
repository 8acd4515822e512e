"""The layout's rules that import-linter cannot see: one write path, tests and benchmarks apart."""

from __future__ import annotations

import ast
from pathlib import Path

from bulletin.authoring import audit
from bulletin.statements import db

REPO = Path(__file__).resolve().parent.parent
# The store's functions that change statements: only the write path may call them.
WRITERS = {
    "create_statement",
    "set_tags",
    "set_published",
    "add_revision",
    "publish",
    "schedule",
    "unschedule",
    "promote_due",
    "clear_published",
    "set_language",
    "mark_changed",
    "withdraw",
    "republish",
    "rename",
}
WRITE_PATH = REPO / "bulletin" / "authoring" / "changes.py"
STORE = REPO / "bulletin" / "statements" / "store.py"


def store_writes(path: Path) -> list[str]:
    """``store.<writer>`` uses and imports of writers from the store, in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in WRITERS:
            if isinstance(node.value, ast.Name) and node.value.id == "store":
                found.append(f"{path}:{node.lineno} store.{node.attr}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("statements.store"):
            found += [f"{path}:{node.lineno} imports {a.name}" for a in node.names if a.name in WRITERS]
    return found


def test_the_store_detector_sees_a_write(tmp_path):
    module = tmp_path / "sneaky.py"
    module.write_text("from bulletin.statements import store\nstore.publish(db, 'x')\n")
    assert store_writes(module) == [f"{module}:2 store.publish"]
    module.write_text("from bulletin.statements.store import withdraw\n")
    assert store_writes(module) == [f"{module}:1 imports withdraw"]


def test_only_the_write_path_changes_statements():
    modules = [p for p in (REPO / "bulletin").rglob("*.py") if p not in (WRITE_PATH, STORE)]
    assert [hit for module in modules for hit in store_writes(module)] == []
    assert store_writes(WRITE_PATH)  # the write path itself does call them


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_tests_and_benchmarks_never_import_each_other():
    test_modules = {p.stem for p in (REPO / "tests").rglob("*.py")} | {"tests"}
    bench_imports = {path.name: imported_roots(path) & test_modules for path in (REPO / "bench").glob("*.py")}
    test_imports = {path.name: imported_roots(path) & {"bench"} for path in (REPO / "tests").rglob("*.py")}
    assert {name: found for name, found in {**bench_imports, **test_imports}.items() if found} == {}


def test_an_import_and_an_editors_save_store_the_same_body_both_audited(app, runner, editor_client, tmp_path):
    source = "Same words\n\n7 January 2022\n\nFirst *paragraph* & more.\n\nSecond <b>one</b>."
    (tmp_path / "same-words.txt").write_text(source, encoding="utf-8")
    assert runner.invoke(args=["import", str(tmp_path / "same-words.txt")]).exit_code == 0
    typed = "First *paragraph* & more.\n\nSecond <b>one</b>."
    edited_id = editor_client.create("Same words typed", typed, source_format="txt", action="publish")
    connection = db.connect(app.config["DATABASE"])
    imported, edited = (
        row["body_html"]
        for row in connection.execute(
            "SELECT r.body_html FROM statements s JOIN revisions r ON r.id = s.current_revision ORDER BY s.rowid"
        )
    )
    assert imported == edited == "<p>First *paragraph* &amp; more.</p>\n<p>Second &lt;b&gt;one&lt;/b&gt;.</p>"
    entries = audit.entries(connection, limit=10)
    actions = {(entry.actor, entry.action) for entry in entries}
    # An import acts as its file's source key: here, with no .bulletin-source above it, its absolute path.
    importer = "import: " + (tmp_path / "same-words.txt").resolve().as_posix()
    assert (importer, "create") in actions and (importer, "publish") in actions
    assert ("editor@example.org", "create") in actions and ("editor@example.org", "publish") in actions
    assert edited_id in {entry.statement_id for entry in entries}
