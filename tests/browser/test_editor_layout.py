"""Every editor page on a phone (360×740) and a laptop, in a real Chromium.

On the phone: no page scrolls sideways, every control can be scrolled to and
is not covered by anything else, and axe finds nothing (WCAG 2 A/AA, 2.2 AA),
in the light and the dark colour scheme. On the laptop the column is wider.
"""

from __future__ import annotations

import pytest
from editor_client import EMAIL, PASSWORD, add_editor

from .harness import axe_violations, format_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
# A title and text with long words, the way real statements break layouts.
LONG_TITLE = "Statement on the detention of journalists at the Zaporizhzhia checkpoint, 24 to 12 hours"
LONG_WORD = "Antidisestablishmentarianism-and-other-very-long-compound-words-without-spaces"

# Everything a reader of the page can operate.
_CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary"

# For each visible control: brought into view as the browser would (focus, then scroll),
# is it inside the viewport, and is the element at its centre the control itself?
_UNREACHABLE = """(selector) => {
  const problems = [];
  const describe = (el) => el.outerHTML.slice(0, 120);
  for (const el of document.querySelectorAll(selector)) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    el.focus({preventScroll: true});
    el.scrollIntoView({block: 'center', inline: 'center'});
    const box = el.getClientRects()[0];
    if (box.width < 1 || box.height < 1) continue;  // visually hidden on purpose
    if (box.left < 0 || box.right > innerWidth + 0.5 || box.top < 0 || box.bottom > innerHeight + 0.5) {
      problems.push('outside the viewport: ' + describe(el));
      continue;
    }
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (!hit || !(hit === el || el.contains(hit) || hit.closest('label') === el.labels?.[0])) {
      problems.push('covered by ' + (hit ? describe(hit) : 'nothing') + ': ' + describe(el));
    }
  }
  document.activeElement?.blur();
  scrollTo(0, 0);
  return problems;
}"""

# A box scrolling sideways inside the page (a table cut off at the screen's edge) hides text too.
_INNER_SCROLL = """() => [...document.querySelectorAll('main *')]
  .filter((el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX) && el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.outerHTML.slice(0, 120))"""

_SMALL_FIELDS = """() => {
  const body = getComputedStyle(document.body).fontFamily;
  return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => parseFloat(getComputedStyle(el).fontSize) < 16 || getComputedStyle(el).fontFamily !== body)
    .map((el) => el.id + ' ' + getComputedStyle(el).fontSize + ' ' + getComputedStyle(el).fontFamily);
}"""


@pytest.fixture
def statements(live_server):
    """A corrected published statement, a draft and a withdrawn one, with long words and tags."""
    add_editor(live_server.app)
    publisher = live_server.publisher
    published = publisher.publish(
        LONG_TITLE,
        f"<p>The office is open 24 hours a day. {LONG_WORD}.</p><p>Call us.</p>",
        tags=["press", "detention", "checkpoints"],
        summary="Journalists held for hours.",
        slug="detention",
    )
    publisher.revise(
        published,
        title=LONG_TITLE,
        body=f"<p>The office is open 12 hours a day. {LONG_WORD}.</p><p>Call us.</p><p>Added.</p>",
        correction_note="Opening hours fixed.",
    )
    draft = publisher.draft("A draft in progress", f"<p>{LONG_WORD}</p>", tags=["water"])
    withdrawn = publisher.publish("Withdrawn one", "<p>Gone.</p>", slug="gone", lang="ru")
    publisher.withdraw(withdrawn)
    return {"published": published, "draft": draft, "withdrawn": withdrawn}


def editor_pages(page, ids) -> dict[str, str]:
    """Every editor page behind the login, by name; the diff is the correction's revision."""
    page.goto(f"/editor/statements/{ids['published']}/history")
    diff = page.get_by_role("link", name="What changed in this revision").first.get_attribute("href")
    return {
        "list": "/editor/",
        "filtered list": "/editor/?status=published&tag=press&q=office",
        "new": "/editor/statements/new",
        "edit (published)": f"/editor/statements/{ids['published']}",
        "edit (draft)": f"/editor/statements/{ids['draft']}",
        "edit (withdrawn)": f"/editor/statements/{ids['withdrawn']}",
        "preview": f"/editor/statements/{ids['draft']}/preview",
        "history": f"/editor/statements/{ids['published']}/history",
        "diff": diff,
        "translate": f"/editor/statements/{ids['published']}/translate",
        "audit": "/editor/audit",
        "password": "/editor/password",
        "second factor": "/editor/second-factor",
    }


def log_in(page) -> None:
    page.goto("/editor/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():  # read the page the click leads to, not the one before
        page.get_by_role("button", name="Log in", exact=True).click()
    assert page.url.endswith("/editor/")


def layout_problems(page, name: str) -> list[str]:
    """What is wrong with the page as it is now shown, each problem named with the page."""
    problems = []
    width = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
    if width[0] > width[1]:
        problems.append(f"{name}: scrolls sideways ({width[0]} px on a {width[1]} px screen)")
    problems += [f"{name}: scrolls sideways inside {p}" for p in page.evaluate(_INNER_SCROLL)]
    problems += [f"{name}: {p}" for p in page.evaluate(_UNREACHABLE, _CONTROLS)]
    problems += [f"{name}: field font {p}" for p in page.evaluate(_SMALL_FIELDS)]
    return problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_editor_page_fits_a_phone_and_passes_axe(statements, new_context, scheme):
    page = new_context(viewport=PHONE, service_workers="block", color_scheme=scheme).new_page()
    problems, violations = [], []

    page.goto("/editor/login")
    problems += layout_problems(page, "login")
    violations += [("login", v) for v in axe_violations(page)]

    log_in(page)
    for name, path in editor_pages(page, statements).items():
        assert page.goto(path).status == 200, name
        problems += layout_problems(page, name)
        violations += [(name, v) for v in axe_violations(page)]

    # The withdrawal's confirmation step, a page of its own.
    page.goto(f"/editor/statements/{statements['published']}")
    page.fill("#reason", "Published by mistake.")
    page.get_by_role("button", name="Withdraw this statement").click()
    page.get_by_role("button", name="Yes, withdraw it").wait_for()
    problems += layout_problems(page, "withdrawal confirmation")
    violations += [("withdrawal confirmation", v) for v in axe_violations(page)]

    # The Markdown help, opened, fits too.
    page.goto("/editor/statements/new")
    page.get_by_text("Markdown help").click()
    assert page.get_by_role("columnheader", name="You write").count() == 1
    problems += layout_problems(page, "new, with the help open")
    violations += [("help", v) for v in axe_violations(page)]

    assert not problems, "\n".join(problems)
    assert not violations, "\n".join(f"{name}: {format_axe([v])}" for name, v in violations)


def test_buttons_have_room_between_them_and_the_header_is_the_editors_own(statements, new_context):
    page = new_context(viewport=PHONE, service_workers="block").new_page()
    log_in(page)
    page.goto("/editor/statements/new")
    save = page.get_by_role("button", name="Save draft").bounding_box()
    publish = page.get_by_role(
        "button", name="Publish (or schedule, if the time is still to come)"
    ).bounding_box()
    apart = max(
        publish["x"] - (save["x"] + save["width"]),
        save["x"] - (publish["x"] + publish["width"]),
        publish["y"] - (save["y"] + save["height"]),
        save["y"] - (publish["y"] + publish["height"]),
    )
    assert apart >= 8, (save, publish)
    header = page.inner_text("header")
    assert "Statements" in header and "Audit log" in header and "Log out" in header
    everything = page.inner_text("body")
    assert "Readable offline" not in everything and "Atom feed" not in everything
    assert page.locator("header input[type=search]").count() == 0


def test_a_laptop_gets_a_wider_column_with_fields_that_fill_it(statements, new_context):
    page = new_context(viewport=LAPTOP, service_workers="block").new_page()
    log_in(page)
    page.goto(f"/editor/statements/{statements['published']}")
    main = page.locator("main").bounding_box()
    body = page.locator("#body").bounding_box()
    assert main["width"] >= 900
    assert body["width"] >= main["width"] - 2 and body["x"] + body["width"] <= main["x"] + main["width"] + 1
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= innerWidth")
