"""The high-water mark under concurrent writers: another process moving ahead is not a restore."""

from __future__ import annotations

import logging

from bulletin.authoring import changes
from bulletin.statements import db, epochs


def _publish(connection, n: int) -> None:
    draft = changes.Draft(f"Statement {n}", f"<p>Text {n}.</p>", "html")
    changes.create(connection, draft, changes.tool_context("test"), publish=True)


def test_a_reader_behind_a_mark_another_process_moved_keeps_the_epoch(tmp_path, caplog):
    path = tmp_path / "bulletin.sqlite3"
    db.migrate_file(str(path))
    writer = db.connect(str(path))
    _publish(writer, 1)
    # Two processes: a worker whose connection is inside a read snapshot,
    # and an import that commits more and checks (moving the mark) meanwhile.
    worker, importer = epochs.HighWater(path), epochs.HighWater(path)
    reader = db.connect(str(path))
    worker.check(reader)
    epoch = epochs.current(reader)
    _publish(writer, 2)
    # The worker's view is at 2, newer than what it last checked, but the
    # import goes on to 3 and moves the mark before the worker takes the lock
    # (a read snapshot stands for that moment here).
    reader.execute("BEGIN")
    assert epochs.position(reader).seq == 2
    _publish(writer, 3)
    importer.check(writer)
    assert epochs.Mark.from_json(epochs.mark_path(path).read_text()).furthest.seq == 3
    with caplog.at_level(logging.WARNING):
        assert worker.check(reader) is None
    reader.execute("COMMIT")
    assert epochs.current(reader) == epochs.current(writer) == epoch
    assert "went back in time" not in caplog.text
    reader.close()
    writer.close()


def test_a_database_really_behind_the_mark_still_gets_a_new_epoch(tmp_path):
    path = tmp_path / "bulletin.sqlite3"
    db.migrate_file(str(path))
    connection = db.connect(str(path))
    _publish(connection, 1)
    guard = epochs.HighWater(path)
    guard.check(connection)
    epoch = epochs.current(connection)
    # A copy from before: the mark says one change more than the database holds.
    mark = epochs.Mark.from_json(epochs.mark_path(path).read_text())
    ahead = epochs.Mark(epochs.Position(mark.furthest.epoch, mark.furthest.seq + 1, "x"), mark.retired)
    epochs.mark_path(path).write_text(ahead.to_json())
    renewed = epochs.HighWater(path).check(connection)
    assert renewed and renewed != epoch and epochs.current(connection) == renewed
    connection.close()
