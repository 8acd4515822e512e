"""Scheduled publication: invisible before its time, everywhere at once after it, cursor included."""

from __future__ import annotations

import datetime as dt
import threading

from conftest import sync
from editor_client import EditorClient, add_editor

from bulletin.statements import db


def local(instant: dt.datetime, zone: str = "UTC") -> str:
    import zoneinfo

    return instant.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def visible(reader, slug: str) -> dict:
    return {
        "page": reader.get(f"/statements/{slug}/").status_code,
        "api": reader.get(f"/api/statements/{slug}").status_code,
        "feed": slug in reader.get("/feed.atom").get_data(as_text=True),
        "home": f"/statements/{slug}/" in reader.get("/").get_data(as_text=True),
        "snapshot": slug in [s["slug"] for s in sync(reader)["statements"]],
    }


HIDDEN = {"page": 404, "api": 404, "feed": False, "home": False, "snapshot": False}
SHOWN = {"page": 200, "api": 200, "feed": True, "home": True, "snapshot": True}


def test_scheduled_statement_appears_everywhere_at_its_time_and_moves_the_cursor_then(
    editor_client, reader, clock
):
    at = (clock.now + dt.timedelta(hours=2)).replace(second=0)
    saved_cursor = sync(reader)["cursor"]
    statement_id = editor_client.create(
        "At noon", "Embargoed text.", slug="at-noon", published=local(at), action="publish"
    )
    page = editor_client.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
    assert "Scheduled" in page and local(at) in page
    assert visible(reader, "at-noon") == HIDDEN
    assert sync(reader)["cursor"] == saved_cursor  # saving moved nothing public

    # A device syncs after the save, with a later change: its cursor passes the save.
    editor_client.create("Meanwhile", slug="meanwhile", action="publish")
    device_cursor = sync(reader)["cursor"]
    old_home = reader.get("/").headers["ETag"]

    clock.advance((at - clock.now).total_seconds() - 1)
    assert visible(reader, "at-noon") == HIDDEN
    clock.advance(1)
    changed = sync(reader, device_cursor)
    assert [s["slug"] for s in changed["statements"]] == ["at-noon"]
    assert visible(reader, "at-noon") == SHOWN
    assert reader.get("/").headers["ETag"] != old_home
    assert reader.get("/api/statements/at-noon").get_json()["published"] == at.isoformat()
    editor_client.login()  # two idle hours ended the session
    audit = editor_client.get("/editor/audit").get_data(as_text=True)
    assert "the schedule" in audit and "published" in audit


def test_a_future_date_schedules_for_midnight_in_the_site_zone(make_app, clock):
    app = make_app(TIMEZONE="Asia/Almaty")
    add_editor(app)
    editor_client, reader = EditorClient(app.test_client()), app.test_client()
    editor_client.login()
    tomorrow = (clock.now + dt.timedelta(days=2)).date()
    editor_client.create("Dated", slug="dated", published=tomorrow.isoformat(), action="publish")
    midnight = dt.datetime.combine(tomorrow, dt.time(), dt.timezone(dt.timedelta(hours=5)))
    clock.now = midnight.astimezone(dt.UTC) - dt.timedelta(seconds=1)
    assert reader.get("/statements/dated/").status_code == 404
    clock.advance(1)
    assert reader.get("/statements/dated/").status_code == 200
    # A date stays a date: no time zone shifts a press date.
    assert reader.get("/api/statements/dated").get_json()["published"] == tomorrow.isoformat()


def test_a_past_time_publishes_now_with_that_date(editor_client, reader):
    editor_client.create("Late", slug="late", published="2022-01-07", action="publish")
    assert reader.get("/api/statements/late").get_json()["published"] == "2022-01-07"


def test_saving_a_scheduled_draft_as_a_draft_cancels_the_schedule(editor_client, reader, clock):
    at = clock.now + dt.timedelta(hours=1)
    statement_id = editor_client.create("Maybe", slug="maybe", published=local(at), action="publish")
    response = editor_client.save(statement_id, body="Changed my mind.")
    assert "cancelled" in editor_client.get(response.headers["Location"]).get_data(as_text=True)
    clock.advance(7200)
    assert reader.get("/statements/maybe/").status_code == 404


def test_the_cancel_button_unschedules(editor_client, reader, clock):
    at = clock.now + dt.timedelta(hours=1)
    statement_id = editor_client.create("Hold", slug="hold", published=local(at), action="publish")
    editor_client.get(f"/editor/statements/{statement_id}")
    assert editor_client.post(f"/editor/statements/{statement_id}/unschedule").status_code == 302
    assert "scheduled for" not in editor_client.get(f"/editor/statements/{statement_id}").get_data(
        as_text=True
    )
    clock.advance(7200)
    assert reader.get("/statements/hold/").status_code == 404


def test_the_editor_list_shows_the_schedule(editor_client, clock):
    at = clock.now + dt.timedelta(days=1)
    editor_client.create("Tomorrow", published=local(at), action="publish")
    assert f"scheduled for {local(at)}" in editor_client.get("/editor/").get_data(as_text=True)


def test_concurrent_requests_publish_a_due_statement_once(app, editor_client, clock):
    at = clock.now + dt.timedelta(minutes=5)
    statement_id = editor_client.create("Once", slug="once", published=local(at), action="publish")
    clock.advance(600)
    start = threading.Barrier(6)
    statuses = []

    def read():
        client = app.test_client()
        start.wait(timeout=20)
        statuses.append(client.get("/statements/once/").status_code)

    threads = [threading.Thread(target=read, daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 6
    connection = db.connect(app.config["DATABASE"])
    kinds = [
        row[0]
        for row in connection.execute("SELECT kind FROM changes WHERE statement_id = ?", (statement_id,))
    ]
    connection.close()
    assert kinds == ["publish"]
