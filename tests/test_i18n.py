"""The interface in the readers' languages: catalogs, plurals, dates, language URLs."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from test_worker import worker_settings

from bulletin import i18n
from bulletin.assets import bundles
from bulletin.config import ROOT

TRANSLATED = [lang for lang in i18n.INTERFACE_LANGS if lang != "en"]
# The gettext keywords of the reader's sources (as `pybabel extract -k` takes them).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Nn_": (1, 2)}


def reader_messages() -> dict:
    """Every string of the reader's sources (``babel.cfg``), as Babel's extractor finds it: msgid -> plural msgid."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found[message[0] if isinstance(message, tuple) else message] = (
            message[1] if isinstance(message, tuple) else None
        )
    return found


def test_the_extractor_finds_the_reader_strings():
    messages = reader_messages()
    assert "Skip to content" in messages  # templates
    assert "Ready to read offline." in messages  # the page script's strings
    assert messages["%(num)d new statement."] == "%(num)d new statements."  # a plural pair
    assert "There is nothing at this address." in messages  # error pages
    assert len(messages) > 60


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_catalog_has_every_string(lang):
    path = i18n.CATALOG_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=lang)
    missing, untranslated = [], []
    for msgid, plural in reader_messages().items():
        entry = catalog.get(msgid)
        if entry is None or (plural is not None) != entry.pluralizable:
            missing.append(msgid)
            continue
        forms = entry.string if plural is not None else (entry.string,)
        if entry.fuzzy or not all(forms) or len(forms) != (catalog.num_plurals if plural else 1):
            untranslated.append(msgid)
    assert not missing, f"{lang} lacks {missing}"
    assert not untranslated, f"{lang} does not translate {untranslated}"
    # Placeholders as in the source: a translation that drops %(num)d or adds a name breaks formatting.
    problems = [(message.id, errors) for message, errors in catalog.check() if errors]
    assert not problems, problems


def _in(app, lang: str, call):
    with app.test_request_context("/"):
        with i18n.interface(lang):
            return call()


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1 заявление"), (2, "2 заявления"), (5, "5 заявлений"), (21, "21 заявление"), (11, "11 заявлений")],
)
def test_russian_plural_forms(app, n, expected):
    said = _in(app, "ru", lambda: i18n.ngettext("%(num)s statement", "%(num)s statements", n))
    assert said == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "لا توجد بيانات"),
        (1, "بيان واحد"),
        (2, "بيانان"),
        (3, "3 بيانات"),
        (11, "11 بيانًا"),
        (100, "100 بيان"),
    ],
)
def test_arabic_plural_forms(app, n, expected):
    said = _in(app, "ar", lambda: i18n.ngettext("%(num)s statement", "%(num)s statements", n))
    assert said == expected


def test_dates_follow_the_interface(app):
    day = dt.date(2022, 1, 7)
    assert _in(app, "en", lambda: i18n.format_date(day)) == "7 January 2022"
    assert _in(app, "ru", lambda: i18n.format_date(day)).startswith("7 января 2022")
    assert _in(app, "fr", lambda: i18n.format_date(day)) == "7 janvier 2022"
    assert "يناير" in _in(app, "ar", lambda: i18n.format_date(day))


def test_page_script_strings_carry_every_plural_category():
    strings = {lang: _script_strings(lang) for lang in ("ru", "ar", "en")}
    assert set(strings["ru"]["newCount"]) >= {"one", "few", "many"}
    assert strings["ru"]["newCount"]["few"] == "%(num)d новых заявления."
    assert set(strings["ar"]["newCount"]) == {"zero", "one", "two", "few", "many", "other"}
    assert strings["en"]["ready"] == "Ready to read offline."


def _script_strings(lang: str) -> dict:
    source = (bundles.STATIC_DIR / "gen" / "src" / f"ui-strings.{lang}.js").read_text(encoding="utf-8")
    return json.loads(re.match(r"const UI_STRINGS = (\{.*\});", source).group(1))


def _html_tag(html: str) -> str:
    return re.search(r"<html[^>]*>", html).group(0)


def test_the_url_decides_the_interface(client, publisher):
    publisher.publish("Latest", tags=("rights",))
    english = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert _html_tag(english) == '<html lang="en" dir="ltr">'
    russian = client.get("/ru/").get_data(as_text=True)
    assert _html_tag(russian) == '<html lang="ru" dir="ltr">'
    assert "Последние заявления" in russian and "7 января 2022" in russian
    arabic = client.get("/ar/").get_data(as_text=True)
    assert _html_tag(arabic) == '<html lang="ar" dir="rtl">'
    # Links stay in the interface language; the script is the language's own bundle.
    assert 'class="brand" href="/ru/"' in russian and 'action="/ru/search/"' in russian
    assert 'href="/ru/offline/"' in russian and 'rel="manifest" href="/ru/manifest.webmanifest"' in russian
    assert bundles.script_url(bundles.built(client.application), "ru") in russian
    for url in (
        "/ru/tags/rights/",
        "/ar/search/?q=x",
        "/kk/offline/",
        "/es/offline/shell/",
        "/fr/manifest.webmanifest",
    ):
        assert client.get(url).status_code == 200, url


def test_the_default_language_has_no_prefix(client):
    response = client.get("/en/")
    assert response.status_code in (301, 308) and response.headers["Location"].endswith("/")
    assert client.get("/de/").status_code == 404
    assert client.get("/ru").status_code in (301, 308)


def test_a_statement_page_speaks_the_statement_language(client, publisher):
    publisher.publish("Заявление", "<p>Текст заявления.</p>", lang="ru", slug="zayavlenie")
    publisher.publish("Erklärung", "<p>Der Text der Erklärung.</p>", lang="de", slug="erklaerung")
    russian = client.get("/statements/zayavlenie/").get_data(as_text=True)
    assert _html_tag(russian) == '<html lang="ru" dir="ltr">' and "7 января 2022" in russian
    # German has no catalog: the default interface, the statement still marked German.
    german = client.get("/statements/erklaerung/").get_data(as_text=True)
    assert _html_tag(german) == '<html lang="en" dir="ltr">'
    assert '<article class="statement" lang="de"' in german and "7 January 2022" in german
    # The article the device stores is the page's own.
    article = client.get("/api/statements/zayavlenie").get_json()["article_html"]
    assert article in russian


def test_the_picker_offers_this_page_in_every_language(client, publisher):
    publisher.publish("Tagged", tags=("rights",))
    html = client.get("/ar/tags/rights/").get_data(as_text=True)
    picker = re.search(r'<nav class="languages".*?</nav>', html).group(0)
    links = dict(re.findall(r'href="([^"]+)" lang="(\w+)"', picker))
    assert links == {
        "/tags/rights/": "en",
        "/fr/tags/rights/": "fr",
        "/es/tags/rights/": "es",
        "/ru/tags/rights/": "ru",
        "/ar/tags/rights/": "ar",
        "/kk/tags/rights/": "kk",
    }
    assert 'lang="ar" dir="rtl" aria-current="true">العربية</a>' in picker
    # A kept page never carries another reader's query into its links.
    assert "utm" not in client.get("/ru/?utm_source=x").get_data(as_text=True)


def test_tag_page_count_in_the_interface_plural(client, publisher):
    for n in range(2):
        publisher.publish(f"Statement {n}", tags=("rights",))
    assert "2 заявления" in client.get("/ru/tags/rights/").get_data(as_text=True)
    assert "بيانان" in client.get("/ar/tags/rights/").get_data(as_text=True)
    assert "2 statements" in client.get("/tags/rights/").get_data(as_text=True)


def test_error_pages_under_a_language_prefix_speak_it(client):
    html = client.get("/ru/no-such-page").get_data(as_text=True)
    assert _html_tag(html) == '<html lang="ru" dir="ltr">' and "По этому адресу ничего нет." in html


def test_each_language_has_its_manifest(client):
    manifest = client.get("/ru/manifest.webmanifest").get_json(force=True)
    assert manifest["start_url"] == "/ru/" and manifest["lang"] == "ru" and manifest["id"] == "/"
    assert [s["url"] for s in manifest["shortcuts"]] == ["/ru/", "/ru/offline/#saved"]
    arabic = client.get("/ar/manifest.webmanifest").get_json(force=True)
    assert arabic["dir"] == "rtl" and arabic["start_url"] == "/ar/"
    assert client.get("/manifest.webmanifest").get_json(force=True)["start_url"] == "/"


def test_the_worker_knows_every_language_offline_pages(client, app):
    settings = worker_settings(client)
    assert settings["defaultLang"] == "en"
    assert set(settings["languages"]) == set(i18n.INTERFACE_LANGS)
    script, revision = settings["languages"]["ru"]
    assert script == bundles.script_url(bundles.built(app), "ru") and re.fullmatch(r"[0-9a-f]{8}", revision)
    assert settings["languagePages"] == [
        "/manifest.webmanifest",
        "/offline/",
        "/offline/shell/",
        "/offline/list-shell/",
        "/offline/tag-shell/",
        "/about/",
        "/search/",
        "/offline/bundle-shell/",
    ]
    for url in [script] + ["/ru" + path for path in settings["languagePages"]]:
        with client.get(url) as response:
            assert response.status_code == 200, url
    assert "/ru/offline/" not in {entry["url"] for entry in settings["precache"]}  # only when Russian is read


def test_offline_page_and_shell_in_a_language(client):
    html = client.get("/ar/offline/").get_data(as_text=True)
    assert _html_tag(html) == '<html lang="ar" dir="rtl">' and "للقراءة دون اتصال" in html


def test_sitemap_lists_every_language_home(client):
    xml = client.get("/sitemaps/0.xml").get_data(as_text=True)
    for lang in TRANSLATED:
        assert f"/{lang}/</loc>" in xml


def test_another_default_language(make_app):
    client = make_app(DEFAULT_LANG="ru").test_client()
    # The editor's pages stay English, and say so.
    assert _html_tag(client.get("/editor/login").get_data(as_text=True)) == '<html lang="en" dir="ltr">'
    assert _html_tag(client.get("/").get_data(as_text=True)) == '<html lang="ru" dir="ltr">'
    assert _html_tag(client.get("/en/").get_data(as_text=True)) == '<html lang="en" dir="ltr">'
    assert client.get("/ru/").status_code in (301, 308)


def test_prepare_compiles_every_catalog():
    from babel.support import Translations

    written = i18n.compile_catalogs()  # what `prepare` does; unchanged catalogs are left as they are
    assert {path.parent.parent.name for path in written} == set(i18n.INTERFACE_LANGS)
    assert i18n.catalogs_compiled()
    russian = Translations.load(str(i18n.CATALOG_DIR), ["ru"])
    assert russian.gettext("Latest statements") == "Последние заявления"
    assert russian.ngettext("%(num)s statement", "%(num)s statements", 22) == "%(num)s заявления"


def test_hostile_input_under_a_language_prefix_gets_a_clear_answer_in_it(client):
    response = client.get("/ru/search/?q=x&page=abc")
    assert response.status_code == 400 and "Не удалось понять запрос." in response.get_data(as_text=True)
    asked = client.get("/ru/search/?q=x&page=abc", headers={"Accept": "application/json"})
    assert asked.status_code == 400 and asked.get_json()["error"]["message"].startswith("page должно быть")
    assert client.get("/ru/search/?q=%00%01").status_code == 200
    assert client.get("/ru/tags/" + "x" * 5000 + "/").status_code == 404
    assert client.get("/zz/search/").status_code == 404
    assert client.get("/ru/ru/").status_code == 404
