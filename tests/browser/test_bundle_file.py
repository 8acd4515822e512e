"""A bundle file opened from ``file://`` with no network, and a pack downloaded from /bundles/.

The file shows its statements readably and runs nothing that came with
them: neither the publisher's hostile title and body, nor a record someone
slipped into the file afterwards (the viewer verifies nothing; its CSP and
its cleaning are what stand).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from bulletin.signing import keys
from bulletin.signing.verifier import Verifier

from . import harness

pytestmark = pytest.mark.browser

HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_BODY = "<p>Before the script.</p></script><script>alert(1)</script><p>After the script.</p>"
# What anyone could add to the file after it was made: the viewer shows it, runs none of it.
SLIPPED_IN = (
    '<p>Slipped in.</p><img src="x" onerror="alert(2)"><script>alert(3)</script>'
    '<a href="javascript:alert(4)">a link</a><iframe srcdoc="<script>alert(5)</script>"></iframe>'
    '<p style="background:url(https://example.org/x)" onclick="alert(6)">Styled.</p>'
)
DATA_BLOCK = re.compile(r'(<script type="application/json" id="bulletin-bundle">)(.*?)(</script>)', re.S)


@pytest.fixture
def root_file(test_keys):
    """The root the test app's online key is certified by."""
    return test_keys.root_file


def with_slipped_in_record(path):
    """The file with one more record, unsigned, added to its data as anyone could."""
    text = path.read_text("utf-8")
    prefix, data, suffix = DATA_BLOCK.search(text).groups()
    parsed = json.loads(data)
    payload = {"type": "statement", "id": "slipped", "title": "Slipped in", "lang": "en", "dir": "ltr"}
    payload |= {"epoch": 0, "seq": 0, "article_html": SLIPPED_IN}
    parsed["records"].append({"payload": json.dumps(payload), "sig": "", "kid": "nobody"})
    written = json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    path.write_text(text.replace(prefix + data + suffix, prefix + written + suffix), "utf-8")


def shown(page) -> dict:
    return page.evaluate(
        """() => ({
            sections: document.querySelectorAll('section.record').length,
            contents: Array.from(document.querySelectorAll('nav li a')).map(a => a.textContent),
            text: document.getElementById('statements').innerText,
            scripts: document.scripts.length,
            active: document.querySelectorAll('main img[src], main iframe, main script, main [onerror], main [onclick], main [style], main a[href^="javascript"]').length,
            notice: document.querySelector('.notice').textContent,
        })"""
    )


def test_a_bundle_opened_from_a_file_shows_its_statements_and_runs_nothing_of_them(
    app, publisher, root_file, tmp_path, offline_page
):
    page, asked, dialogs, errors = offline_page
    publisher.publish(HOSTILE_TITLE, HOSTILE_BODY, published=dt.date(2022, 1, 9))
    publisher.publish(
        "Water for the district", "<p>The pumps stopped on Monday.</p>", published=dt.date(2022, 1, 8)
    )
    gone = publisher.publish("Gone", "<p>Withdrawn words.</p>", published=dt.date(2022, 1, 7))
    publisher.withdraw(gone, "Published in error.")
    out = tmp_path / "bundle.html"
    result = app.test_cli_runner().invoke(args=["bundle", str(out)])
    assert result.exit_code == 0, result.output
    with_slipped_in_record(out)

    page.goto(out.as_uri())
    harness.poll(
        page, "document.querySelectorAll('section.record').length === 4", message="every record shown"
    )
    found = shown(page)
    assert found["contents"] == [HOSTILE_TITLE, "Water for the district", "Gone", "Slipped in"]
    assert "Before the script." in found["text"] and "After the script." in found["text"]
    assert "The pumps stopped on Monday." in found["text"]
    assert "This statement has been withdrawn" in found["text"] and "Withdrawn words." not in found["text"]
    assert "Slipped in." in found["text"] and "Styled." in found["text"]
    assert "proves nothing by itself" in found["notice"]
    assert found["scripts"] == 2 and found["active"] == 0
    assert dialogs == [] and asked == []
    assert page.evaluate("document.title") == "Statements from Bulletin"
    # The slipped-in handlers and style met the CSP while the article was parsed (Chromium checks a
    # parsed document against its creator's policy): blocked and reported, nothing else went wrong.
    blocked = {v.get("directive") for v in errors.csp_violations}
    assert "script-src-attr" in blocked and blocked <= {"script-src-attr", "style-src-attr"}
    errors.assert_clean(
        allow=[r"Content Security Policy directive", r"^CSP violation: (script|style)-src-attr"]
    )


def test_a_pack_is_listed_with_its_size_and_its_download_reads_offline(
    app, publisher, root_file, live_server, page, offline_page, tmp_path
):
    publisher.publish("January news", "<p>Text of January.</p>", published=dt.date(2022, 1, 9))
    page.goto(live_server.url + "/bundles/")
    link = page.locator('a[href$="/bundles/en-2022-01.html"]')
    item = link.locator("xpath=..").inner_text()
    assert re.search(r"January 2022 \(\d+ kB\)", item), item
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "downloaded.html"
    download.value.save_as(saved)
    body = saved.read_bytes()
    data = json.loads(DATA_BLOCK.search(body.decode("utf-8"))[2])
    device = Verifier(keys.raw_public(keys.read_private(root_file)))
    for entry in data["keys"]["keys"]:
        device.add_certificate(entry["certificate"])
    assert [device.accept_record(e)["title"] for e in data["records"]] == ["January news"]

    reader, asked, dialogs, errors = offline_page
    reader.goto(saved.as_uri())
    harness.poll(reader, "document.querySelectorAll('section.record').length === 1", message="the pack shown")
    assert "Text of January." in shown(reader)["text"] and asked == [] and dialogs == []
    errors.assert_clean()
