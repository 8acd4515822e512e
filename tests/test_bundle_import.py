"""Opening a bundle in the app, the server's part: the share target, its address, the offline page's words."""

from __future__ import annotations

import io
import json
import re

import pytest

from bulletin.i18n import INTERFACE_LANGS, plural_samples
from bulletin.pwa import bundle_import, worker


def prefix(lang: str) -> str:
    return "" if lang == "en" else f"/{lang}"


@pytest.mark.parametrize("lang", INTERFACE_LANGS)
def test_the_manifest_shares_html_files_with_the_app_and_claims_no_file_type(client, lang):
    manifest = client.get(f"{prefix(lang)}/manifest.webmanifest").get_json()
    assert manifest["share_target"] == {
        "action": f"{prefix(lang)}/offline/import/",
        "method": "POST",
        "enctype": "multipart/form-data",
        "params": {"files": [{"name": "bundle", "accept": ["text/html", ".html"]}]},
    }
    assert "file_handlers" not in manifest  # one for .html would claim every web page


def test_the_worker_reads_the_field_the_manifest_names(client):
    body = client.get("/sw.js").get_data(as_text=True)
    settings = json.loads(re.match(r"const SETTINGS=(.*?);\n", body)[1])
    assert settings["shareField"] == bundle_import.SHARE_FIELD
    assert settings["signedSlots"] == worker.SIGNED_SLOTS


@pytest.mark.parametrize("lang", INTERFACE_LANGS)
def test_a_shared_file_the_server_receives_gets_a_page_saying_where_bundles_open(client, lang):
    form = {"bundle": (io.BytesIO(b"<!doctype html><p>not read</p>" * 1000), "bundle.html", "text/html")}
    answer = client.post(f"{prefix(lang)}/offline/import/", data=form, content_type="multipart/form-data")
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/html")
    html = answer.get_data(as_text=True)
    assert f'href="{prefix(lang)}/offline/#import"' in html
    if lang == "en":
        assert "Bundles are opened by the app on your device" in html
    # Opened in a browser, the address is the same page, and no error.
    assert client.get(f"{prefix(lang)}/offline/import/").status_code == 200


def test_a_malformed_form_is_no_error_either(client):
    answer = client.post(
        "/offline/import/", data=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"
    )
    assert answer.status_code == 400


@pytest.mark.parametrize("lang", INTERFACE_LANGS)
def test_the_offline_page_carries_the_imports_words_in_its_language(client, lang):
    html = client.get(f"{prefix(lang)}/offline/").get_data(as_text=True)
    assert 'id="import"' in html and 'id="bundle-file"' in html and 'id="import-result"' in html
    strings = json.loads(
        re.search(r'<script type="application/json" id="import-strings">(.*?)</script>', html)[1]
    )
    assert set(strings) == set(bundle_import.IMPORT_STRINGS)
    # Each plural in every form the language has, filled with its number.
    for key in ("imported", "upToDate", "refused"):
        assert set(strings[key]) == set(plural_samples(lang)), key
    if lang == "en":
        assert strings["imported"] == {
            "one": "Imported %(num)d statement.",
            "other": "Imported %(num)d statements.",
        }
    else:
        assert strings["nothing"] != "This bundle holds no statements."  # translated
