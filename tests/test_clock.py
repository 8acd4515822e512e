"""One clock: the app's ``CLOCK`` in requests, commands and app contexts, the system's elsewhere."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from conftest import STATEMENT_FILE, Clock

from bulletin.authoring import audit
from bulletin.statements import clock as the_clock
from bulletin.statements import db, store

# Far enough from today that the system's time could never be mistaken for it.
PAST = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    """Every app of this module runs on a clock stopped in the past."""
    return Clock(PAST)


def is_system_time(moment: dt.datetime) -> bool:
    return abs(moment - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def stored(app):
    """(every published statement, every audit entry) as the database holds them."""
    connection = db.connect(app.config["DATABASE"])
    try:
        return store.list_published(connection, limit=10), audit.entries(connection, limit=50)
    finally:
        connection.close()


def test_an_import_command_stamps_everything_with_the_apps_clock(runner, app):
    result = runner.invoke(args=["import", str(STATEMENT_FILE)])
    assert result.exit_code == 0, result.output
    [statement], entries = stored(app)
    assert statement.created_at == statement.updated_at == statement.revised_at == PAST
    assert entries and {entry.at for entry in entries} == {PAST}
    assert is_system_time(the_clock.now())  # the command's clock ended with its app context


def test_requests_stamp_everything_with_the_apps_clock(app, editor_client, clock):
    clock.advance(90)
    statement_id = editor_client.create("Stamped", action="publish")
    [statement], entries = stored(app)
    later = PAST + dt.timedelta(seconds=90)
    assert statement.id == statement_id and statement.created_at == statement.revised_at == later
    times = {entry.action: entry.at for entry in entries}
    assert times["login"] == PAST and times["create"] == later and times["publish"] == later


def test_each_app_context_has_the_clock_of_its_own_app(make_app):
    later = PAST + dt.timedelta(days=400)
    app, other = make_app(), make_app(CLOCK=lambda: later)
    assert is_system_time(the_clock.now())
    with app.app_context():
        assert the_clock.now() == PAST
        with other.app_context():
            assert the_clock.now() == later
        assert the_clock.now() == PAST
        seen_by_a_thread = []
        thread = threading.Thread(target=lambda: seen_by_a_thread.append(the_clock.now()))
        thread.start()
        thread.join()
        assert is_system_time(seen_by_a_thread[0])  # another thread has no app context
    assert is_system_time(the_clock.now())


def test_an_app_without_a_clock_runs_on_the_system_time(make_app):
    app = make_app(CLOCK=None)
    with app.app_context():
        assert is_system_time(the_clock.now())


def test_using_nests_and_restores():
    with the_clock.using(lambda: PAST):
        assert the_clock.now() == PAST
        with the_clock.using(None):
            assert is_system_time(the_clock.now())
        assert the_clock.now() == PAST
    assert is_system_time(the_clock.now())


def test_the_time_is_utc_to_the_second_and_never_naive():
    moscow = dt.timezone(dt.timedelta(hours=3))
    with the_clock.using(lambda: dt.datetime(2021, 3, 4, 8, 6, 7, 999_999, tzinfo=moscow)):
        assert the_clock.now() == PAST and the_clock.now().tzinfo is dt.UTC
    with the_clock.using(lambda: dt.datetime(2021, 3, 4, 5, 6, 7)), pytest.raises(ValueError):
        the_clock.now()
