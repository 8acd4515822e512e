"""The JSON API: lists, one statement, delta sync and its cursor, errors."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import sync


def test_statement_object_has_every_field(client, publisher):
    publisher.publish("Original", slug="orig", tags=["press"], summary="Short.")
    publisher.publish("Заявление", "<p>Текст.</p>", lang="ru", translation_of="orig")
    body = client.get("/api/statements/orig").get_json()
    assert list(body) == [
        "id",
        "revision",
        "slug",
        "url",
        "title",
        "summary",
        "lang",
        "dir",
        "published",
        "updated",
        "tags",
        "translations",
        "correction_note",
        "body_html",
        "article_html",
        "list_item_html",
        "list_order",
        "signed",
    ]
    assert list(body["signed"]) == ["payload", "sig", "kid"]  # its record, signed (see test_signed_sync.py)
    assert body["list_item_html"].startswith("<li>") and 'href="/statements/orig/"' in body["list_item_html"]
    assert re.fullmatch(r"2022-01-07 \d{12}", body["list_order"])
    assert body["url"] == "/statements/orig/" and body["published"] == "2022-01-07"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", body["updated"])
    assert body["translations"][0]["lang"] == "ru" and body["translations"][0]["original"] is False
    assert body["article_html"].startswith('<article class="statement" lang="en" dir="ltr"')


def test_json_is_utf8_not_escaped(client, publisher):
    publisher.publish("Заявление", "<p>Текст.</p>", lang="ru", slug="zayavlenie")
    raw = client.get("/api/statements/zayavlenie").get_data()
    assert "Заявление".encode() in raw and b"\\u" not in raw


def test_article_html_is_exactly_the_pages_article(client, publisher):
    publisher.publish("بيان", "<p>نص البيان.</p>", lang="ar", slug="bayan", tags=["x"])
    article = client.get("/api/statements/bayan").get_json()["article_html"]
    page = client.get("/statements/bayan/").get_data(as_text=True)
    assert article in page
    assert 'lang="ar" dir="rtl"' in article


def test_statement_list_pages(client, publisher, app):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        publisher.publish(f"S{n}", published=dt.date(2022, 1, n + 1))
    first = client.get("/api/statements").get_json()
    assert [s["title"] for s in first["statements"]] == ["S4", "S3"]
    second = client.get(first["next"]).get_json()
    assert [s["title"] for s in second["statements"]] == ["S2", "S1"]
    assert "before=" in first["next"]  # keyset: a deep page costs what the first does
    third = client.get(second["next"]).get_json()
    assert [s["title"] for s in third["statements"]] == ["S0"] and third["next"] is None
    by_number = client.get("/api/statements?page=3").get_json()  # plain page numbers still work
    assert [s["title"] for s in by_number["statements"]] == ["S0"]
    assert client.get("/api/statements?before=nope").status_code == 400


@pytest.mark.parametrize(
    "url, status, code",
    [
        ("/api/statements?page=0", 400, "bad_argument"),
        ("/api/statements?page=abc", 400, "bad_argument"),
        ("/api/sync?limit=0", 400, "bad_argument"),
        ("/api/sync?limit=201", 400, "bad_argument"),
        ("/api/sync?since=garbage", 400, "bad_cursor"),
        ("/api/sync?since=v1.zzzzzzzzzzzz.1", 400, "bad_cursor"),
        ("/api/sync?since=v1.000000000000.1", 410, "cursor_expired"),
        ("/api/statements/nope", 404, "not_found"),
        ("/api/nothing-here", 404, "not_found"),
    ],
)
def test_errors_are_json(client, url, status, code):
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]


def test_method_not_allowed_is_json(client):
    response = client.post("/api/sync")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_withdrawn_statement_is_410_with_reason(client, publisher):
    publisher.withdraw(publisher.publish("Gone", slug="gone"), reason="Issued in error.")
    response = client.get("/api/statements/gone")
    assert response.status_code == 410
    assert response.get_json()["error"]["message"] == "Issued in error."


def test_snapshot_is_newest_statements_not_the_archive(client, publisher):
    for n in range(8):
        publisher.publish(f"S{n}", published=dt.date(2022, 1, n + 1))
    body = sync(client, limit=3)
    assert [s["title"] for s in body["statements"]] == ["S7", "S6", "S5"]
    assert body["more"] is False and body["withdrawn"] == []
    assert sync(client, since=body["cursor"]) == {
        "cursor": body["cursor"],
        "more": False,
        "statements": [],
        "withdrawn": [],
    }


def test_sync_pages_lose_and_repeat_nothing(client, publisher):
    ids = [publisher.publish(f"S{n}") for n in range(7)]
    publisher.revise(ids[0], title="S0 corrected", body="<p>Fixed.</p>")
    publisher.withdraw(ids[1])
    seen, withdrawn, cursor, pages = [], [], "0", 0
    while True:
        body = sync(client, since=cursor, limit=2)
        pages += 1
        seen += [s["id"] for s in body["statements"]]
        withdrawn += [w["id"] for w in body["withdrawn"]]
        cursor = body["cursor"]
        if not body["more"]:
            break
    assert pages == 4
    assert sorted(seen) == sorted(set(ids) - {ids[1]}) and len(seen) == len(set(seen))
    assert withdrawn == [ids[1]]


def test_sync_sends_each_statement_once_in_its_latest_state(client, publisher):
    start = sync(client)["cursor"]
    statement_id = publisher.publish("First")
    for n in range(3):
        publisher.revise(statement_id, title=f"Take {n}", body=f"<p>{n}</p>")
    body = sync(client, since=start)
    assert [(s["id"], s["title"]) for s in body["statements"]] == [(statement_id, "Take 2")]


def test_withdrawal_reaches_devices(client, publisher):
    statement_id = publisher.publish("To withdraw", slug="w")
    cursor = sync(client)["cursor"]
    publisher.withdraw(statement_id, reason="Superseded.")
    body = sync(client, since=cursor)
    assert body["statements"] == []
    assert body["withdrawn"][0]["id"] == statement_id
    assert body["withdrawn"][0]["reason"] == "Superseded."
    assert body["withdrawn"][0]["url"] == "/statements/w/"


def test_cursor_from_another_database_is_410(tmp_path, make_app, client, publisher):
    publisher.publish()
    cursor = sync(client)["cursor"]
    other = make_app(DATABASE=str(tmp_path / "other.sqlite3"))
    response = other.test_client().get("/api/sync", query_string={"since": cursor})
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "cursor_expired"


def test_cursor_ahead_of_a_restored_database_is_410(client, publisher):
    publisher.publish()
    cursor = sync(client)["cursor"]
    ahead = cursor.rsplit(".", 1)[0] + ".99"
    assert client.get("/api/sync", query_string={"since": ahead}).status_code == 410


def test_sync_is_conditional(client, publisher):
    publisher.publish()
    first = client.get("/api/sync")
    again = client.get("/api/sync", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    publisher.publish("Another")
    changed = client.get("/api/sync", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200


def test_article_html_follows_a_new_translation(client, publisher):
    publisher.publish("Original", slug="orig")
    before = client.get("/api/statements/orig").get_json()["article_html"]
    assert 'hreflang="fr"' not in before
    publisher.publish("Traduction", lang="fr", translation_of="orig")
    after = client.get("/api/statements/orig").get_json()["article_html"]
    assert 'hreflang="fr"' in after and after in client.get("/statements/orig/").get_data(as_text=True)


def synced_articles(client, cursor: str, limit: int = 50) -> dict:
    """``{id: article_html}`` of every statement a device with ``cursor`` gets, all pages followed."""
    articles = {}
    while True:
        body = sync(client, since=cursor, limit=limit)
        for statement in body["statements"]:
            assert statement["id"] not in articles, "a statement came twice"
            articles[statement["id"]] = statement["article_html"]
        cursor = body["cursor"]
        if not body["more"]:
            return articles


def test_a_device_gets_the_original_again_when_a_translation_is_published(client, publisher, clock):
    original = publisher.publish("Release the journalist", slug="release")
    cursor = sync(client)["cursor"]
    updated = client.get("/api/statements/release").get_json()["updated"]
    clock.advance(3600)
    translation = publisher.publish(
        "Liberen al periodista", lang="es", slug="liberen", translation_of="release"
    )
    articles = synced_articles(client, cursor)
    assert set(articles) == {original, translation}
    assert 'href="../liberen/"' in articles[original] and 'hreflang="es"' in articles[original]
    now = client.get("/api/statements/release").get_json()
    assert articles[original] == now["article_html"]
    # Its own text did not change: feeds and the API do not call it updated.
    assert now["updated"] == updated


def test_a_device_gets_the_others_again_when_a_translation_is_withdrawn(client, publisher):
    original = publisher.publish("Release the journalist", slug="release")
    spanish = publisher.publish("Liberen al periodista", lang="es", slug="liberen", translation_of="release")
    french = publisher.publish("Libérez le journaliste", lang="fr", slug="liberez", translation_of="release")
    cursor = sync(client)["cursor"]
    publisher.withdraw(spanish)
    body = sync(client, since=cursor)
    assert [w["id"] for w in body["withdrawn"]] == [spanish]
    articles = {s["id"]: s["article_html"] for s in body["statements"]}
    assert set(articles) == {original, french}
    for article in articles.values():
        assert "/statements/liberen/" not in article
    assert 'href="../liberez/"' in articles[original]
    assert 'href="../release/"' in articles[french]


def test_a_translation_retitled_or_relanguaged_reaches_the_devices_holding_the_others(client, publisher):
    original = publisher.publish("Release the journalist", slug="release")
    translation = publisher.publish(
        "Liberen al periodista", lang="es", slug="liberen", translation_of="release"
    )
    cursor = sync(client)["cursor"]
    publisher.save(translation, title="Liberen a la periodista", correction_note="She, not he.")
    articles = synced_articles(client, cursor)
    assert set(articles) == {original, translation}
    assert 'title="Liberen a la periodista">Español</a>' in articles[original]

    cursor = sync(client)["cursor"]
    publisher.save(translation, lang="pt")  # no new revision: only the language changed
    articles = synced_articles(client, cursor)
    assert set(articles) == {original, translation}
    assert 'hreflang="pt"' in articles[original] and 'hreflang="es"' not in articles[original]


def test_a_translation_renamed_as_a_draft_is_linked_by_its_new_slug(client, publisher):
    original = publisher.publish("Release the journalist", slug="release")
    cursor = sync(client)["cursor"]
    translation = publisher.draft(
        "Liberen al periodista", lang="es", slug="liberen", translation_of="release"
    )
    publisher.save(translation, slug="liberen-al-periodista")
    # A draft is linked from nowhere: devices have nothing new yet.
    assert synced_articles(client, cursor) == {}
    publisher.save(translation, publish=True)
    articles = synced_articles(client, cursor)
    assert set(articles) == {original, translation}
    assert 'href="../liberen-al-periodista/"' in articles[original]
    assert 'href="../liberen/"' not in articles[original]
    # Published slugs are frozen: the link can never point at a slug that moved.
    publisher.save(translation, slug="another")
    assert publisher.get(translation).slug == "liberen-al-periodista"


def test_what_links_do_not_show_sends_only_the_changed_statement(client, publisher):
    publisher.publish("Release the journalist", slug="release")
    translation = publisher.publish(
        "Liberen al periodista", lang="es", slug="liberen", translation_of="release"
    )
    cursor = sync(client)["cursor"]
    before = client.get("/api/statements/release").get_json()
    publisher.save(translation, body="<p>Un texto corregido.</p>", tags=["prensa"])
    assert set(synced_articles(client, cursor)) == {translation}
    assert client.get("/api/statements/release").get_json() == before


def test_indirect_changes_keep_sync_paging_whole_and_oldest_first(client, publisher):
    start = sync(client)["cursor"]
    original = publisher.publish("Release the journalist", slug="release")
    others = [publisher.publish(f"Other {n}", slug=f"other{n}") for n in range(3)]
    languages = ["es", "fr", "de", "pt"]
    translations = [
        publisher.publish(f"Translation {lang}", lang=lang, slug=f"t-{lang}", translation_of="release")
        for lang in languages
    ]
    publisher.withdraw(translations[1])
    seen, cursor, previous_seq = [], start, 0
    while True:
        body = sync(client, since=cursor, limit=2)
        seen += [s["id"] for s in body["statements"]] + [w["id"] for w in body["withdrawn"]]
        seq = int(body["cursor"].rsplit(".", 1)[1])
        assert seq >= previous_seq
        previous_seq, cursor = seq, body["cursor"]
        if not body["more"]:
            break
    assert len(seen) == len(set(seen)) == 1 + len(others) + len(translations)
    # Each statement at the place of its latest change: the original and the
    # translations still published were changed by the last withdrawal.
    assert seen[: len(others)] == others
    assert set(seen[len(others) :]) == {original, *translations}
    final = synced_articles(client, start)
    for lang, statement_id in zip(languages, translations, strict=True):
        shown = f'href="../t-{lang}/"' in final[original]
        assert shown == (statement_id != translations[1])
        if statement_id != translations[1]:
            assert final[statement_id].count('hreflang="') == len(languages) - 1
