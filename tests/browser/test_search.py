"""Search on a phone with no server: the same search box searches the statements on the device."""

from __future__ import annotations

import pytest
from conftest import STATEMENT_FILES

from . import harness

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(new_context, live_server, runner):
    """A 360×740 phone that visited once, holding the 21 Russian, Kazakh and Arabic test statements."""
    result = runner.invoke(args=["import", str(STATEMENT_FILES / "search")])
    assert result.exit_code == 0, result.output
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    harness.ready_offline(page)
    assert page.evaluate("async () => (await OfflineStore.summary()).count") == 21
    return context, page


def search_from_box(page, query: str) -> None:
    """Type ``query`` into the page's search box and send it, as a reader does; wait for the device's results.

    From another page the search is a navigation; from the device's search page, offline, it stays in the page.
    """
    page.evaluate(
        "() => { const line = document.getElementById('search-covered'); if (line) line.dataset.old = ''; }"
    )
    page.fill("#q", query)
    page.press("#q", "Enter")
    harness.poll(
        page,
        "() => !!document.querySelector('#search-covered:not([data-old])')",
        message=f"the device's results for {query!r}",
    )


def results(page) -> list[dict]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('#device-search li')).map((li) => ({
            title: li.querySelector('h2').textContent,
            snippet: (li.querySelector('.snippet') || {}).textContent || '',
            marked: Array.from(li.querySelectorAll('mark')).map((m) => m.textContent),
        }))"""
    )


def test_offline_search_finds_word_forms_with_snippets(phone, live_server, page_errors):
    context, page = phone
    # The search code is not part of any page until a search starts.
    assert page.evaluate("() => typeof Bulletin.searchOnDevice") == "undefined"
    assert not page.evaluate("() => !!document.querySelector('script[src*=\"/static/gen/search.\"]')")
    harness.go_offline(context)
    live_server.stop()

    search_from_box(page, "свобода")
    found = results(page)
    titles = [r["title"] for r in found]
    assert "Требуем свободы слова для журналистов Заречья" in titles
    assert "Свободные выборы невозможны без свободной прессы" in titles
    first = found[titles.index("Требуем свободы слова для журналистов Заречья")]
    assert "свободы" in first["marked"] and "свободы слова" in first["snippet"]
    covered = page.inner_text("#search-covered")
    assert covered == "The search covered the 21 statements on this device."
    assert page.input_value("#q") == "свобода"
    # Nothing sideways on the phone, and the results pass axe.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    violations = harness.axe_violations(page)
    assert not violations, harness.format_axe(violations)

    page.evaluate("() => { window.samePage = true; }")
    search_from_box(page, "الحرية")
    plain = results(page)
    # Offline, the device's search page searches again without a navigation, and says so in its address.
    assert page.evaluate("() => window.samePage === true")
    assert "/search/?q=" in page.url
    search_from_box(page, "الحُرِّيَّة")
    voweled = results(page)
    expected = {"بيان حول حُرِّيَّة الصحافة", "الحرية للمعتقلين في سجن الـــشمال"}
    assert {r["title"] for r in plain} == {r["title"] for r in voweled} == expected
    assert all(r["marked"] for r in voweled)
    assert any("حُرِّيَّة" in r["marked"] for r in plain)  # the text's own spelling is what is marked

    search_from_box(page, "бостанды")
    assert [r["title"] for r in results(page)] == ["Сөз бостандығы туралы мәлімдеме"]
    search_from_box(page, "несуществующееслово")
    assert results(page) == []
    assert "No statement on this device contains" in page.inner_text("#device-search")
    page_errors.assert_clean()


def test_a_server_that_does_not_answer_in_time_gets_the_device_search(phone):
    context, page = phone
    context.route("**/search/?*", lambda route: None)  # a black hole: the request never returns
    page.goto("/")
    search_from_box(page, "связь")
    assert [r["title"] for r in results(page)] == ["Связь на севере отключена восьмой день"]
