"""Bundles: one self-contained .html file of signed records (``flask bundle``), and the packs at /bundles/."""

from __future__ import annotations

import datetime as dt
import html.parser
import json
import re

import pytest
from conftest import Publisher, device_with_keys

from bulletin.http import nginx_headers
from bulletin.http.database import get_db
from bulletin.publishing import fileset
from bulletin.publishing import publisher as publishing
from bulletin.signing import keys
from bulletin.site import bundle_file, packs, signatures, signed_records
from bulletin.statements import store

DATA_BLOCK = re.compile(rb'<script type="application/json" id="bulletin-bundle">(.*?)</script>', re.S)
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_BODY = "<p>Before.</p></script><script>alert(1)</script><p>After.</p>"


@pytest.fixture
def root_file(test_keys):
    """The root the test app's online key is certified by: the site signs."""
    return test_keys.root_file


def data_of(body: bytes) -> dict:
    """The bundle's data block, parsed; it holds no '<' at all."""
    found = DATA_BLOCK.findall(body)
    assert len(found) == 1
    assert b"<" not in found[0]
    return json.loads(found[0])


class _Scripts(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "img", "iframe", "object", "embed"):
            self.scripts.append({"tag": tag, **dict(attrs)})


def elements_that_could_run(body: bytes) -> list[dict]:
    parser = _Scripts()
    parser.feed(body.decode("utf-8"))
    return parser.scripts


def verified(data: dict, root_file) -> list[dict]:
    """Every record's payload, verified as a device would against the bundle's own keys and the pinned root
    (the index first, when there is one)."""
    device = device_with_keys(keys.raw_public(keys.read_private(root_file)), data["keys"])
    if data["index"] is not None:
        assert device.accept_index(data["index"])["type"] == "sync-index"
    return [device.accept_record(envelope) for envelope in data["records"]]


def bundle(runner, tmp_path, *args, name="out.html"):
    out = tmp_path / name
    result = runner.invoke(args=["bundle", str(out), *args])
    return result, (out.read_bytes() if out.exists() else None)


def test_a_bundle_holds_exactly_the_contracts_data_and_its_records_verify(
    app, runner, root_file, publisher, client, tmp_path
):
    older = publisher.publish("Older", published=dt.date(2022, 1, 3))
    newer = publisher.publish("Newer", published=dt.date(2022, 1, 9), tags=("press",))
    gone = publisher.publish("Gone", published=dt.date(2022, 1, 5))
    publisher.withdraw(gone, "Published in error.")
    result, body = bundle(runner, tmp_path)
    assert result.exit_code == 0, result.output
    assert "2 statement(s), 1 withdrawal(s)" in result.output
    data = data_of(body)
    assert list(data) == ["format", "keys", "index", "mirrors", "records"]
    assert data["format"] == "bulletin-bundle/1"
    assert data["keys"] == client.get("/keys.json").get_json()
    # The newest signed index, the very envelope /sync/index.json serves; no mirror list on this site.
    assert data["index"] == json.loads(client.get("/sync/index.json").get_data())
    assert json.loads(data["index"]["payload"])["keys"] == data["keys"]
    assert data["mirrors"] is None
    assert all(list(envelope) == ["payload", "sig", "kid"] for envelope in data["records"])
    records = verified(data, root_file)
    # Newest first; the withdrawal is its notice, nothing of its text.
    assert [(r["id"], r["type"]) for r in records] == [
        (newer, "statement"),
        (gone, "withdrawal"),
        (older, "statement"),
    ]
    assert (
        records[1]["reason"] == "Published in error."
        and "Text of the statement" not in records[1]["article_html"]
    )
    # The envelopes are the very ones the site serves (the API's "signed"), byte for byte.
    served = {s["id"]: s["signed"] for s in client.get("/api/statements").get_json()["statements"]}
    assert data["records"][0] == served[newer] and data["records"][2] == served[older]
    snapshot = json.loads(data["index"]["payload"])["snapshot"]["path"]
    synced = json.loads(client.get(f"/sync/{snapshot}").get_data())["records"]
    assert synced == [data["records"][0], data["records"][2]]
    # The file says what it is and that it proves nothing by itself; no "verified" mark.
    text = body.decode("utf-8")
    assert "proves nothing by itself" in text and "verified" not in text.lower().replace("verifier", "")
    assert '<meta http-equiv="Content-Security-Policy"' in text


def test_the_viewer_is_allowed_by_its_hash_and_nothing_else(app, runner, root_file, publisher, tmp_path):
    publisher.publish("One")
    _, body = bundle(runner, tmp_path)
    text = body.decode("utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)[1].replace("&#39;", "'")
    viewer = bundle_file.viewer()
    assert csp == viewer.csp
    assert "default-src 'none'" in csp and "unsafe" not in csp
    script = bundle_file._source_hash(viewer.js)
    assert f"script-src {script}" in csp and f"<script>{viewer.js}</script>" in text
    # The CSP comes before every script and style it governs.
    assert text.index("Content-Security-Policy") < text.index("<style>") < text.index("<script")


def test_text_that_closes_the_element_stays_data():
    hostile = {"t": "</script><script>alert(1)</script><!--<script>", "u": "\u2028 é"}
    written = bundle_file.data_text(hostile)
    assert "<" not in written and json.loads(written) == hostile


def test_a_hostile_statement_cannot_break_out_of_the_data_block(app, runner, root_file, publisher, tmp_path):
    publisher.publish(HOSTILE_TITLE, HOSTILE_BODY, summary=HOSTILE_TITLE)
    result, body = bundle(runner, tmp_path)
    assert result.exit_code == 0, result.output
    found = elements_that_could_run(body)
    # Two scripts: the data (never run) and the viewer; no element from the statement.
    assert [(e["tag"], e.get("type"), e.get("id")) for e in found] == [
        ("script", "application/json", "bulletin-bundle"),
        ("script", None, None),
    ]
    assert body.count(b"</script>") == 2
    data = data_of(body)
    (record,) = verified(data, root_file)
    assert record["title"] == HOSTILE_TITLE


def three_long_statements(publisher) -> list[str]:
    body = "<p>" + "Words of the statement. " * 400 + "</p>"
    return [publisher.publish(f"Statement {n}", body, published=dt.date(2022, n, 1)) for n in (1, 2, 3)]


def test_max_bytes_keeps_the_newest_and_says_what_was_left_out(app, runner, root_file, publisher, tmp_path):
    first, second, third = three_long_statements(publisher)
    result, whole = bundle(runner, tmp_path, name="whole.html")
    assert result.exit_code == 0 and "left out" not in result.output
    result, exact = bundle(runner, tmp_path, "--max-bytes", str(len(whole)), name="exact.html")
    assert result.exit_code == 0 and "left out" not in result.output and exact == whole
    cap = len(whole) - 1000  # one statement (about 10 KB) too many
    result, body = bundle(runner, tmp_path, "--max-bytes", str(cap))
    assert result.exit_code == 0, result.output
    assert len(body) <= cap
    assert [r["id"] for r in verified(data_of(body), root_file)] == [third, second]
    assert "left out 1 older statement(s), published 2022-01-01 to 2022-01-01" in result.output
    # Asked for everything since a date, and not all of it fits: the newest are written, and it says so.
    result, body = bundle(
        runner, tmp_path, "--since", "2022-01-01", "--max-bytes", str(cap), name="since.html"
    )
    assert result.exit_code == 1 and "left out 1" in result.output
    assert len(data_of(body)["records"]) == 2
    # Not even the viewer fits: nothing written.
    result, body = bundle(runner, tmp_path, "--max-bytes", "2000", name="tiny.html")
    assert result.exit_code == 1 and "nothing written" in result.output and body is None


def test_since_takes_what_was_published_from_that_date(app, runner, root_file, publisher, clock, tmp_path):
    old = publisher.publish("Old", published=dt.date(2022, 1, 31))
    new = publisher.publish("New", published=dt.date(2022, 3, 1))
    gone = publisher.publish("Gone", published=dt.date(2022, 2, 1))
    publisher.withdraw(gone)
    result, body = bundle(runner, tmp_path, "--since", "2022-02-01")
    assert result.exit_code == 0, result.output
    records = verified(data_of(body), root_file)
    assert [(r["id"], r["type"]) for r in records] == [(new, "statement"), (gone, "withdrawal")]
    assert old not in json.dumps(data_of(body))
    result, body = bundle(runner, tmp_path, "--since", "1 March 2022", name="march.html")
    assert [r["id"] for r in verified(data_of(body), root_file)] == [new]
    result, body = bundle(runner, tmp_path, "--since", "2023-01-01", name="none.html")
    assert result.exit_code == 1 and "no statement matches" in result.output and body is None


def test_lang_chooses_the_statements_and_the_interface(app, runner, root_file, publisher, tmp_path):
    publisher.publish("In English", lang="en")
    french = publisher.publish("En français", "<p>Le texte de la déclaration.</p>", lang="fr")
    result, body = bundle(runner, tmp_path, "--lang", "fr")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in verified(data_of(body), root_file)] == [french]
    assert body.startswith(b'<!doctype html><html lang="fr"') and "ne prouve donc rien" in body.decode()


@pytest.mark.parametrize(
    "args, option",
    [
        (["--max-bytes", "-1"], "--max-bytes"),
        (["--max-bytes", "0"], "--max-bytes"),
        (["--max-bytes", str(10**40)], "--max-bytes"),
        (["--max-bytes", "8MB"], "--max-bytes"),
        (["--since", "31/31/2022"], "--since"),
        (["--since", "03/04/2022"], "--since"),  # read two ways: refused, never guessed
        (["--lang", "xx"], "--lang"),
        (["--lang", "../../etc"], "--lang"),
        (["--lang", "en\x00"], "--lang"),
    ],
)
def test_hostile_arguments_are_usage_errors(app, runner, root_file, publisher, tmp_path, args, option):
    publisher.publish("One")
    result, body = bundle(runner, tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert option in result.output and body is None


@pytest.mark.unsigned
def test_without_a_key_that_may_sign_nothing_is_written(app, runner, publisher, tmp_path):
    publisher.publish("Unsigned")
    result, body = bundle(runner, tmp_path)
    assert result.exit_code == 1 and "nothing written" in result.output and body is None


def test_an_unwritable_place_is_a_message(app, runner, root_file, publisher, tmp_path):
    publisher.publish("One")
    result = runner.invoke(args=["bundle", str(tmp_path / "missing" / "out.html")])
    assert result.exit_code == 1 and "cannot be written" in result.output


# ------------------------------------------------------------------ packs


def test_packs_are_listed_with_their_sizes_and_verify(app, runner, root_file, publisher, client):
    january = publisher.publish("January", published=dt.date(2022, 1, 7))
    publisher.publish("February", published=dt.date(2022, 2, 7))
    russian = publisher.publish("Январь", "<p>Текст заявления.</p>", lang="ru", published=dt.date(2022, 1, 8))
    listing = client.get("/bundles/")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    names = re.findall(r'href="/bundles/([^"]+)"', page)
    assert names == ["en-2022-02.html", "en-2022-01.html", "ru-2022-01.html"]
    pack = client.get("/bundles/en-2022-01.html")
    assert pack.status_code == 200 and pack.mimetype == "text/html"
    assert pack.headers["Content-Security-Policy"] == bundle_file.viewer().csp
    assert "attachment" in pack.headers["Content-Disposition"]
    body = pack.get_data()
    assert [r["id"] for r in verified(data_of(body), root_file)] == [january]
    assert f"({packs.human_size(len(body), 'en')})" in page
    # In the statements' own interface language.
    russian_pack = client.get("/bundles/ru-2022-01.html").get_data()
    assert [r["id"] for r in verified(data_of(russian_pack), root_file)] == [russian]
    assert russian_pack.startswith(b'<!doctype html><html lang="ru"')
    # Revalidated by its ETag, like every page.
    again = client.get("/bundles/en-2022-01.html", headers={"If-None-Match": pack.headers["ETag"]})
    assert again.status_code == 304
    # The list is translated.
    assert "Заявления, чтобы передать дальше" in client.get("/ru/bundles/").get_data(as_text=True)


def test_a_pack_follows_a_change_of_its_statements(app, runner, root_file, publisher, client):
    statement = publisher.publish("January", published=dt.date(2022, 1, 7))
    before = client.get("/bundles/en-2022-01.html")
    publisher.withdraw(statement, "Wrong.")
    after = client.get("/bundles/en-2022-01.html", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    (record,) = verified(data_of(after.get_data()), root_file)
    assert record["type"] == "withdrawal" and record["reason"] == "Wrong."


@pytest.mark.parametrize(
    "name", ["xx-2022-01.html", "en-2022-13.html", "en-1999-01.html", "..html", "en-2022-01"]
)
def test_a_name_that_is_no_pack_is_a_404(app, runner, root_file, publisher, client, name):
    publisher.publish("January", published=dt.date(2022, 1, 7))
    assert client.get(f"/bundles/{name}").status_code == 404


@pytest.mark.unsigned
def test_without_a_key_there_are_no_packs(app, publisher, client):
    publisher.publish("January", published=dt.date(2022, 1, 7))
    assert "There is nothing to download yet." in client.get("/bundles/").get_data(as_text=True)
    assert client.get("/bundles/en-2022-01.html").status_code == 404


def test_the_publisher_writes_the_packs_a_change_affects(make_app, root_file, tmp_path):
    folder = tmp_path / "site"
    app = make_app(PUBLISH_DIR=str(folder), BASE_URL="https://news.example.org")
    runner = app.test_cli_runner()
    root = root_file
    publisher = Publisher(app)
    january = publisher.publish("January", published=dt.date(2022, 1, 7))
    publisher.publish("February", published=dt.date(2022, 2, 7))
    publishing.publish(app)
    pack = folder / "bundles" / "en-2022-01.html"
    other = folder / "bundles" / "en-2022-02.html"
    assert pack.is_file() and other.is_file() and (folder / "bundles" / "index.html").is_file()
    assert (folder / "ru" / "bundles" / "index.html").is_file()
    other_before = other.stat().st_mtime_ns
    publisher.revise(january, title="January, corrected", body="<p>New text.</p>")
    publishing.publish(app)
    (record,) = verified(data_of(pack.read_bytes()), root)
    assert record["title"] == "January, corrected"
    assert other.stat().st_mtime_ns == other_before  # not its statements: not written again
    assert runner.invoke(args=["publish", "--all"]).exit_code == 0
    assert (folder / "bundles" / "en-2022-01.html").is_file()


def test_a_change_to_an_unlisted_month_leaves_the_list_alone(make_app, root_file, tmp_path, monkeypatch):
    monkeypatch.setattr(packs, "LISTED_MONTHS", 1)
    folder = tmp_path / "site"
    app = make_app(PUBLISH_DIR=str(folder), BASE_URL="https://news.example.org")
    publisher = Publisher(app)
    january = publisher.publish("January", published=dt.date(2022, 1, 7))
    february = publisher.publish("February", published=dt.date(2022, 2, 7))
    publishing.publish(app)
    listing = folder / "bundles" / "index.html"
    assert "en-2022-02.html" in listing.read_text() and "en-2022-01.html" not in listing.read_text()
    rendered = []
    real_get = fileset.Renderer.get
    monkeypatch.setattr(
        fileset.Renderer, "get", lambda self, address: rendered.append(address) or real_get(self, address)
    )
    publisher.revise(january, title="January, corrected", body="<p>A longer text. " * 40 + "</p>")
    publishing.publish(app)
    assert "January, corrected" in (folder / "bundles" / "en-2022-01.html").read_text()
    assert "/bundles/en-2022-01.html" in rendered
    assert not [a for a in rendered if a.endswith("/bundles/")]  # the list shows February alone
    rendered.clear()
    publisher.revise(february, title="February, corrected", body="<p>A longer text. " * 400 + "</p>")
    publishing.publish(app)
    assert "/bundles/" in rendered and "/ru/bundles/" in rendered


def test_nginx_gives_packs_their_own_headers_and_the_list_a_pages(app, runner, root_file, publisher):
    publisher.publish("January", published=dt.date(2022, 1, 7))
    samples = {s.kind: s for s in nginx_headers.sample(app)}
    bundle = samples["bundle"]
    assert bundle.headers["Content-Security-Policy"] == bundle_file.viewer().csp
    assert bundle.headers["Content-Disposition"] == "attachment"
    pattern = re.compile(bundle.pattern)
    assert pattern.search("/bundles/en-2022-01.html") and pattern.search("/news/bundles/zh-Hant-2022-01.html")
    assert not pattern.search("/bundles/index.html") and not pattern.search("/ru/bundles/index.html")


def test_an_export_under_a_path_holds_the_packs_with_the_same_signed_bytes(
    app, runner, root_file, publisher, client, tmp_path
):
    statement = publisher.publish("January", "<p>Text with a <a href='https://example.org/'>link</a>.</p>")
    publisher.publish("Январь", "<p>Текст.</p>", lang="ru", translation_of=statement)
    result = runner.invoke(
        args=["export", str(tmp_path / "site"), "--base-url", "https://mirror.example.org/news/"]
    )
    assert result.exit_code == 0, result.output
    listing = (tmp_path / "site" / "bundles" / "index.html").read_text("utf-8")
    assert 'href="/news/bundles/en-2022-01.html"' in listing
    exported = data_of((tmp_path / "site" / "bundles" / "en-2022-01.html").read_bytes())
    at_origin = data_of(client.get("/bundles/en-2022-01.html").get_data())
    # The same envelopes, byte for byte, at the origin and under the mirror's path, and in the command's file.
    assert exported["records"] == at_origin["records"]
    _, body = bundle(runner, tmp_path, "--lang", "en")
    assert data_of(body)["records"] == at_origin["records"]
    assert [r["id"] for r in verified(exported, root_file)] == [statement]


def test_a_packs_listed_size_is_its_exact_size_counted_from_kept_records(app, publisher, client):
    for n in range(3):
        publisher.publish(
            f"Statement <{n}> «{n}»",
            f"<p>Text {n} with <b>markup</b> &amp; more.</p>",
            published=dt.date(2022, 3, n + 1),
        )
    client.get("/api/sync")  # every current record made and kept
    body = client.get("/bundles/en-2022-03.html").get_data()
    with app.test_request_context():
        db = get_db()
        wanted = store.positions_in_month(db, "en", "2022-03")
        assert len(wanted) == 3
        counted = signed_records.kept_size(db, signatures.signer().valid, wanted)
        assert counted is not None  # from the kept records, nothing made
        assert packs.size_of(db, packs.packs(db)[0]) == len(body)
    # Where a record is not kept, the pack is made and measured: the same size.
    app.extensions.pop(packs.EXTENSION, None)
    with app.test_request_context():
        db = get_db()
        db.execute("DELETE FROM signed_records WHERE statement_id = ?", (wanted[0][0],))
        db.commit()
        assert signed_records.kept_size(db, signatures.signer().valid, wanted) is None
        assert packs.size_of(db, packs.packs(db)[0]) == len(body)


def test_the_list_shows_the_newest_months_and_every_pack_keeps_its_address(app, publisher, client):
    months = packs.LISTED_MONTHS + 2
    for n in range(months):
        publisher.publish(f"Month {n}", published=dt.date(2000 + n // 12, n % 12 + 1, 5))
    page = client.get("/bundles/").get_data(as_text=True)
    names = re.findall(r'href="/bundles/([^"]+)"', page)
    assert len(names) == packs.LISTED_MONTHS
    assert names[0] == "en-2002-02.html" and "en-2000-01.html" not in names
    assert "Only the files of recent months are listed here." in page
    oldest = client.get("/bundles/en-2000-01.html")
    assert oldest.status_code == 200 and b"Month 0" in oldest.get_data()
    assert client.get("/bundles/en-1999-12.html").status_code == 404
    # A December's pack ends at the year's end.
    december = client.get("/bundles/en-2000-12.html").get_data()
    assert b"Month 11" in december and b"Month 12" not in december
