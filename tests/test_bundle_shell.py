"""The bundle shell: the page a bundle file is, around an empty bundle, that the worker precaches and the
offline page's "Make a bundle from this device" fills with the device's own envelopes."""

from __future__ import annotations

import json
import re

from test_worker import worker_settings

from bulletin.publishing import fileset
from bulletin.publishing.fileset import Renderer
from bulletin.site import bundle_file

DATA_BLOCK = re.compile(r'(.*<script type="application/json" id="bulletin-bundle">)(.*?)(</script>.*)', re.S)


def parts(text: str) -> tuple[str, str, str]:
    """The page before the data block's content, that content, and the page after it."""
    found = DATA_BLOCK.fullmatch(text)
    assert found, "a bundle page with one data block"
    return found[1], found[2], found[3]


def test_the_shell_is_a_document_robots_skip_in_every_language(client):
    shell = client.get("/offline/bundle-shell/")
    assert shell.status_code == 200 and shell.mimetype == "text/html"
    assert shell.headers["X-Robots-Tag"] == "noindex"
    # Kept by the worker as its other shells are: revalidated by the same rule, with an ETag.
    assert shell.headers["Cache-Control"] == client.get("/offline/shell/").headers["Cache-Control"]
    assert (
        client.get("/offline/bundle-shell/", headers={"If-None-Match": shell.headers["ETag"]}).status_code
        == 304
    )
    russian = client.get("/ru/offline/bundle-shell/").get_data(as_text=True)
    assert '<html lang="ru" dir="ltr">' in russian and "Заявления" in russian
    arabic = client.get("/ar/offline/bundle-shell/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic


def test_the_shell_holds_an_empty_bundle_and_nothing_of_the_site(client, publisher, test_keys):
    publisher.publish("Not in the shell", "<p>Only on devices.</p>")
    text = client.get("/offline/bundle-shell/").get_data(as_text=True)
    _, data, _ = parts(text)
    assert json.loads(data) == {
        "format": "bulletin-bundle/1",
        "keys": None,
        "index": None,
        "mirrors": None,
        "records": [],
    }
    assert "Not in the shell" not in text and "Only on devices" not in text


def test_filled_with_a_bundles_data_the_shell_is_that_bundle_byte_for_byte(
    client, runner, publisher, test_keys, tmp_path
):
    """The same viewer, style, meta CSP (by their hashes), title and words as ``flask bundle``'s file."""
    publisher.publish("Water for the district", "<p>The pumps stopped.</p>")
    out = tmp_path / "made.html"
    result = runner.invoke(args=["bundle", str(out)])
    assert result.exit_code == 0, result.output
    made = out.read_text("utf-8")
    before, data, after = parts(made)
    shell_before, _, shell_after = parts(client.get("/offline/bundle-shell/").get_data(as_text=True))
    assert shell_before + data + shell_after == made
    assert bundle_file.viewer().csp.replace("'", "&#39;") in shell_before


def test_the_worker_precaches_the_shell_and_a_build_writes_it(client, app):
    settings = worker_settings(client)
    assert "/offline/bundle-shell/" in settings["languagePages"]
    renderer = Renderer(app)
    with renderer.url_context():
        built = fileset.build_addresses()
    assert {"/offline/bundle-shell/", "/ru/offline/bundle-shell/", "/ar/offline/bundle-shell/"} <= set(built)
