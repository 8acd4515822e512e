"""Search finds word forms: Russian endings, Kazakh by prefix, Arabic spellings; snippets mark the words."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse

import pytest
import snowballstemmer
from conftest import REPO, STATEMENT_FILES

from bulletin.statements import db, store, words

SEARCH_FILES = STATEMENT_FILES / "search"
WORDS_JS = REPO / "static" / "js" / "search" / "words.js"


@pytest.fixture
def searchable(app, runner):
    """The app with the Russian, Kazakh and Arabic test statements imported."""
    result = runner.invoke(args=["import", str(SEARCH_FILES)])
    assert result.exit_code == 0, result.output
    return app


def titles_found(client, query: str) -> list[str]:
    page = client.get("/search/?q=" + urllib.parse.quote(query))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return [
        re.sub(r"<[^>]+>", "", title)
        for title in re.findall(r'<h2[^>]*><a href="[^"]+">(.*?)</a></h2>', html)
    ]


def test_the_test_statements_cover_three_languages(searchable):
    connection = db.connect(searchable.config["DATABASE"])
    langs = dict(connection.execute("SELECT lang, count(*) FROM statements GROUP BY lang").fetchall())
    assert langs == {"ru": 8, "kk": 6, "ar": 7}


def test_russian_word_forms_find_each_other(searchable, client):
    # The texts say "свободы", "свободные", "свободу"; nobody wrote "свобода".
    found = titles_found(client, "свобода")
    assert "Требуем свободы слова для журналистов Заречья" in found
    assert "Свободные выборы невозможны без свободной прессы" in found
    assert titles_found(client, "СВОБОДА больница") == ["Требуем свободы слова для журналистов Заречья"]
    assert "Задержания после мирного митинга" in titles_found(client, "задержанные")


def test_kazakh_words_are_found_by_their_start(searchable, client):
    assert titles_found(client, "бостандық") == []  # the text has бостандығы: the start differs
    assert titles_found(client, "бостанды") == ["Сөз бостандығы туралы мәлімдеме"]
    found = titles_found(client, "журналист")
    assert "Сөз бостандығы туралы мәлімдеме" in found  # журналистер, журналистерді
    assert "Бейбіт жиналыстан кейінгі ұстаулар" in titles_found(client, "ұсталғ")


def test_arabic_with_and_without_tashkeel_alef_forms_and_tatweel(searchable, client):
    # One statement writes الحُرِّيَّة with tashkeel, the other الحرية and حرية without.
    plain = titles_found(client, "الحرية")
    voweled = titles_found(client, "الحُرِّيَّة")
    assert set(plain) == set(voweled) == {"بيان حول حُرِّيَّة الصحافة", "الحرية للمعتقلين في سجن الـــشمال"}
    assert titles_found(client, "حرية") == plain  # without the article
    assert titles_found(client, "اعلان") == ["إعلان مشترك من المحررين بشأن حجب المواقع"]  # إ written as ا
    assert titles_found(client, "الشمال") and titles_found(client, "الشـــمال") == titles_found(
        client, "الشمال"
    )


def test_english_is_stemmed_and_matched_by_prefix(app, client, publisher):
    publisher.publish("Kazakhstan protests", "<p>Protesters were detained in Almaty.</p>", lang="en")
    publisher.publish("Observers", "<p>Irregularities reported.</p>", lang="en")
    assert titles_found(client, "Kazakh") == ["Kazakhstan protests"]
    assert titles_found(client, "detaining") == ["Kazakhstan protests"]
    assert titles_found(client, "protest irregularity") == []


def test_results_have_a_snippet_with_the_words_marked(searchable, client):
    html = client.get("/search/?q=" + urllib.parse.quote("свобода")).get_data(as_text=True)
    snippets = re.findall(r'<p class="snippet"[^>]*>(.*?)</p>', html)
    assert any("<mark>свободы</mark> слова" in snippet for snippet in snippets)
    assert any("<mark>свободу</mark>" in snippet for snippet in snippets)
    assert "<mark>Требуем свободы" not in html  # only words are marked, never more
    assert re.search(r"<a href=\"[^\"]+\">Требуем <mark>свободы</mark> слова", html)


def test_a_snippet_starts_near_its_first_match(app, client, publisher):
    filler = " ".join(f"word{n}" for n in range(200))
    publisher.publish("Long one", f"<p>{filler} the needle is here {filler}</p>", lang="en")
    html = client.get("/search/?q=needle").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet"[^>]*>(.*?)</p>', html).group(1)
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "<mark>needle</mark>" in snippet and "word100 " not in snippet
    assert len(snippet) < 400


def test_marked_text_is_escaped(app, client, publisher):
    publisher.publish("<b>Tagged</b> title", "<p>Fish &amp; chips &lt;script&gt; here</p>", lang="en")
    html = client.get("/search/?q=chips").get_data(as_text=True)
    assert "&lt;script&gt;" in html and "<script>" not in html.split("<main", 1)[1]
    assert "<mark>chips</mark>" in html


def test_the_index_follows_corrections_and_withdrawals(app, client, publisher):
    statement_id = publisher.publish("Заявление", "<p>Мы требуем свободы.</p>", lang="ru")
    assert titles_found(client, "свобода") == ["Заявление"]
    publisher.revise(statement_id, title="Заявление", body="<p>Мы требуем справедливости.</p>")
    assert titles_found(client, "свобода") == []
    assert titles_found(client, "справедливость") == ["Заявление"]
    publisher.withdraw(statement_id)
    assert titles_found(client, "справедливость") == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "*",
        "NEAR(",
        "NEAR(a b)",
        "a OR",
        "title:x",
        "(",
        "-",
        "%00",
        "свобода*",
        '"свобода',
        "^a",
        "AND NOT",
    ],
)
def test_fts_syntax_is_searched_as_words(searchable, client, query):
    page = client.get("/search/?q=" + urllib.parse.quote(query, safe="%"))
    assert page.status_code == 200


def test_hostile_lengths_and_bytes_are_refused_or_searched(searchable, client):
    assert client.get("/search/?q=" + "с" * 10_000).status_code == 400
    assert client.get("/search/?q=%00%01свобода").status_code == 200
    assert client.get("/search/?q=%FF%FE").status_code in (200, 400)
    assert client.get("/search/?q=" + "а " * 100).status_code == 200


def test_migration_backfills_the_keys_of_statements_published_before_it(searchable):
    connection = db.connect(searchable.config["DATABASE"])
    connection.execute("DELETE FROM statements_terms")
    from bulletin.statements import migrations

    migrations.BACKFILLS[10](connection)
    connection.commit()
    assert [s.title for s in store.search(connection, "бостанды", limit=5)] == [
        "Сөз бостандығы туралы мәлімдеме"
    ]
    assert connection.execute("SELECT count(*) FROM statements_terms").fetchone()[0] == 21


def test_folding_keeps_russian_short_i_and_drops_diacritics():
    assert words.words("Ёлка, ЙОД; Déclaration") == ["елка", "йод", "declaration"]
    assert words.words("حُرِّيَّة ـــكتب أحمد إعلان آمال ٱلكتاب ى") == [
        "حرية",
        "كتب",
        "احمد",
        "اعلان",
        "امال",
        "الكتاب",
        "ي",
    ]
    assert words.key("الكتاب", "ar") == "كتاب" and words.key("والكتاب", "ar") == "كتاب"
    assert words.match_expression('" * NEAR(') == '("near"*)'


def _russian_word_list() -> list[str]:
    """Real words of the test statements, and every ending of the algorithm on many stems."""
    text = " ".join(path.read_text(encoding="utf-8") for path in sorted(SEARCH_FILES.glob("ru-*.txt")))
    found = {w for w in words.words(text) if re.fullmatch("[а-яё]+", w)}
    roots = "свобод говор писа чита красн больш нов стран прав народ работ сво люб дела сказ бы зна сил реш а я и ост"
    endings = (
        "в вши вшись ив ивши ившись ыв ывши ывшись ее ие ые ое ими ыми ей ий ый ой ем им ым ом его ого ему ому их ых"
        " ую юю ая яя ою ею нн вш ющ щ ивш ывш ующ ся сь ла на ете йте ли й л н ло но ет ют ны ть ешь нно ила ыла ена"
        " ейте уйте ите или ыли уй ил ыл ен ило ыло ено ят ует уют ит ыт ены ить ыть ишь ю а ев ов ье е иями ями ами"
        " еи ии и ией иям ям ием ам о у ах иях ях ы ь ию ью ия ья я ейш ейше ост ость ённый енность ейшая нного ющийся"
    ).split()
    middles = ["", "а", "я", "н", "ост", "ейш", "ну", "и"]
    found |= {root + middle + ending for root in roots.split() for middle in middles for ending in endings}
    return sorted(found)


NODE_STEMS = """
const fs = require("fs"); const vm = require("vm");
const context = {};
vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8") + "\\nthis.SearchWords = SearchWords;", context);
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const W = context.SearchWords;
process.stdout.write(JSON.stringify({
  stems: input.words.map((w) => W.stemRussian(w)),
  keys: input.texts.map(([text, lang]) => W.keys(text, lang)),
}));
"""


def test_the_device_stems_and_folds_as_the_server_does():
    node = shutil.which("node")
    assert node, "Node.js is needed to run the device's word code (it runs ESLint too)"
    word_list = _russian_word_list()
    assert len(word_list) > 20_000
    texts = [(path.read_text(encoding="utf-8"), path.name[:2]) for path in sorted(SEARCH_FILES.glob("*.txt"))]
    payload = json.dumps({"words": word_list, "texts": texts})
    result = subprocess.run(
        [node, "-e", NODE_STEMS, str(WORDS_JS)], input=payload, capture_output=True, text=True, check=True
    )
    device = json.loads(result.stdout)
    stemmer = snowballstemmer.stemmer("russian")
    differing = [(w, d) for w, d in zip(word_list, device["stems"], strict=True) if stemmer.stemWord(w) != d]
    assert differing == []
    assert device["keys"] == [words.keys(text, lang) for text, lang in texts]


def test_short_words_match_whole_keys_only(app, client, publisher):
    publisher.publish("Theory", "<p>A theory of them.</p>", lang="en")
    publisher.publish("The end", "<p>The end.</p>", lang="en")
    assert titles_found(client, "the") == ["The end"]
    assert titles_found(client, "theories") == ["Theory"]
