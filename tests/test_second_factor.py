"""The second factor: enrolment, codes at login, recovery codes, the throttle, resets, and the requirement.

Codes are computed with pyotp from the secret the enrolment page shows, at
the app's movable clock: time moves by ``clock.advance``, never by waiting.
"""

from __future__ import annotations

import re
from html import unescape

import pyotp
import pytest
from editor_client import EMAIL, PASSWORD, EditorClient, add_editor

from bulletin.authoring import audit
from bulletin.editor import accounts
from bulletin.statements import db

_SECRET = re.compile(r'<code id="secret">([^<]+)</code>')
_RECOVERY = re.compile(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>")


def code_at(secret: str, clock, offset: int = 0) -> str:
    """The code an authenticator app shows at the test clock's time (plus ``offset`` seconds)."""
    return pyotp.TOTP(secret).at(int(clock.now.timestamp()) + offset)


def enrol(browser: EditorClient, clock) -> tuple[str, list[str]]:
    """Set up the second factor through the page, as a person with a phone would; (secret, recovery codes)."""
    page = browser.get("/editor/second-factor").get_data(as_text=True)
    assert "<svg" in page and 'role="img"' in page
    secret = unescape(_SECRET.search(page).group(1)).replace(" ", "")
    response = browser.post("/editor/second-factor", {"code": code_at(secret, clock)})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = _RECOVERY.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def password_step(app, email=EMAIL, password=PASSWORD, browser=None) -> tuple[EditorClient, object]:
    browser = browser or EditorClient(app.test_client())
    return browser, browser.login(email, password)


def code_step(browser: EditorClient, code: str):
    browser.get("/editor/login/code")
    return browser.post("/editor/login/code", {"code": code})


def audit_actions(app) -> list[str]:
    connection = db.connect(app.config["DATABASE"])
    try:
        return [e.action for e in audit.entries(connection, limit=1000)]
    finally:
        connection.close()


def account(app, email=EMAIL) -> accounts.Editor:
    connection = db.connect(app.config["DATABASE"])
    try:
        return accounts.find(connection, email)
    finally:
        connection.close()


@pytest.fixture
def enrolled(app, editor_client, clock):
    """The editor with a second factor set up: (secret, recovery codes); logged out after."""
    secret, codes = enrol(editor_client, clock)
    editor_client.post("/editor/logout")
    clock.advance(30)  # the enrolment code's step is used up
    return secret, codes


def test_enrolment_end_to_end_then_the_password_alone_opens_nothing(app, editor_client, clock):
    assert not account(app).second_factor
    secret, codes = enrol(editor_client, clock)
    assert account(app).second_factor
    assert "second_factor" in audit_actions(app)
    # The codes are shown once: the page now only counts them.
    page = editor_client.get("/editor/second-factor").get_data(as_text=True)
    assert "10 recovery codes are left." in page and codes[0] not in page and secret not in page
    editor_client.post("/editor/logout")
    clock.advance(30)

    browser, response = password_step(app)
    assert response.status_code == 302 and response.headers["Location"].endswith("/editor/login/code")
    assert browser.get("/editor/").status_code == 302  # no session for the password alone
    response = code_step(browser, code_at(secret, clock))
    assert response.status_code == 302 and response.headers["Location"].endswith("/editor/")
    assert browser.get("/editor/").status_code == 200


def test_the_secret_stays_the_same_until_enrolment_is_done(editor_client):
    first = _SECRET.search(editor_client.get("/editor/second-factor").get_data(as_text=True)).group(1)
    again = _SECRET.search(editor_client.get("/editor/second-factor").get_data(as_text=True)).group(1)
    assert first == again


def test_a_wrong_code_at_enrolment_turns_nothing_on(app, editor_client, clock):
    page = editor_client.get("/editor/second-factor").get_data(as_text=True)
    secret = unescape(_SECRET.search(page).group(1)).replace(" ", "")
    response = editor_client.post("/editor/second-factor", {"code": code_at(secret, clock, 120)})
    assert response.status_code == 422 and "That code is not right" in response.get_data(as_text=True)
    assert not account(app).second_factor
    assert "second_factor_refused" in audit_actions(app)


def test_a_code_works_once_within_its_window(app, enrolled, clock):
    secret, _codes = enrolled
    code = code_at(secret, clock)
    browser, _ = password_step(app)
    assert code_step(browser, code).status_code == 302
    browser.post("/editor/logout")
    other, _ = password_step(app)
    refused = code_step(other, code)  # same step, same code: seen once already
    assert refused.status_code == 401 and "used already" in refused.get_data(as_text=True)
    # Nor the code of the step before, which the drift allowance would otherwise let through.
    assert code_step(other, code_at(secret, clock, -30)).status_code == 401
    clock.advance(30)
    assert code_step(other, code_at(secret, clock)).status_code == 302


def test_codes_from_a_neighbouring_step_pass_and_distant_ones_do_not(app, enrolled, clock):
    secret, _codes = enrolled
    browser, _ = password_step(app)
    assert code_step(browser, code_at(secret, clock, -300)).status_code == 401
    assert code_step(browser, code_at(secret, clock, 300)).status_code == 401
    assert code_step(browser, code_at(secret, clock, 30)).status_code == 302


def test_a_recovery_code_works_once(app, enrolled, clock):
    _secret, codes = enrolled
    browser, _ = password_step(app)
    response = code_step(browser, codes[3].upper().replace("-", " "))  # as someone might type it
    assert response.status_code == 302
    assert "9 are left" in browser.get("/editor/").get_data(as_text=True)
    browser.post("/editor/logout")
    browser, _ = password_step(app)
    assert code_step(browser, codes[3]).status_code == 401
    assert code_step(browser, codes[4]).status_code == 302


def test_new_recovery_codes_replace_the_old_ones_for_a_code_from_the_app(app, enrolled, clock):
    secret, old = enrolled
    browser, _ = password_step(app)
    code_step(browser, code_at(secret, clock))
    browser.get("/editor/second-factor")
    assert browser.post("/editor/second-factor/recovery-codes", {"code": old[0]}).status_code == 422
    response = browser.post("/editor/second-factor/recovery-codes", {"code": code_at(secret, clock, 30)})
    assert response.status_code == 200
    new = _RECOVERY.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert "recovery_codes" in audit_actions(app)
    browser.post("/editor/logout")
    browser, _ = password_step(app)
    assert code_step(browser, old[1]).status_code == 401
    assert code_step(browser, new[1]).status_code == 302


def test_wrong_codes_count_against_the_throttle_and_are_audited(make_app, clock):
    app = make_app(LOGIN_FREE_ATTEMPTS=3, LOGIN_MAX_DELAY=60)
    add_editor(app)
    setup = EditorClient(app.test_client())
    setup.login()
    secret, _codes = enrol(setup, clock)
    clock.advance(30)
    browser, response = password_step(app)  # attempt 1: the right password
    assert response.status_code == 302
    assert code_step(browser, "000000").status_code == 401  # 2
    assert code_step(browser, "111111").status_code == 401  # 3: the last free one
    refused = code_step(browser, code_at(secret, clock))  # a right code, but it must wait like a guess
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "Wait" in refused.get_data(as_text=True)
    # The password step counts under the same keys: a fresh browser does not start from zero.
    again, response = password_step(app)
    assert response.status_code == 429
    clock.advance(1)
    assert code_step(browser, code_at(secret, clock)).status_code == 302
    assert audit_actions(app).count("second_factor_refused") == 2


@pytest.mark.parametrize(
    "code, status",
    [
        ("1" * 65, 400),
        ("9" * 100_000, 400),
        ("abcdef", 401),
        ("12345", 401),
        ("1234567", 401),
        ("١٢٣٤٥٦", 401),  # digits, but not ASCII ones
        ("\x00\x01\x02", 401),
        ("", 401),
    ],
)
def test_hostile_codes_get_a_clear_answer(app, enrolled, code, status):
    browser, _ = password_step(app)
    response = code_step(browser, code)
    assert response.status_code == status
    assert 'name="code"' in response.get_data(as_text=True)


def test_hostile_input_at_enrolment_gets_a_clear_answer(editor_client):
    editor_client.get("/editor/second-factor")
    assert editor_client.post("/editor/second-factor", {"code": "7" * 1000}).status_code == 400
    assert editor_client.post("/editor/second-factor", {"code": "<script>"}).status_code == 422


def test_the_code_step_expires_and_needs_the_password_first(app, enrolled, clock):
    secret, _codes = enrolled
    fresh = EditorClient(app.test_client())
    response = fresh.get("/editor/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/editor/login")
    browser, _ = password_step(app)
    browser.get("/editor/login/code")
    clock.advance(301)  # the form stayed open too long
    response = browser.post("/editor/login/code", {"code": code_at(secret, clock)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/editor/login")
    assert browser.get("/editor/").status_code == 302


def test_next_survives_the_code_step(app, enrolled, clock):
    secret, _codes = enrolled
    browser = EditorClient(app.test_client())
    browser.get("/editor/login?next=/editor/audit")
    browser.post("/editor/login", {"email": EMAIL, "password": PASSWORD, "next": "/editor/audit"})
    response = code_step(browser, code_at(secret, clock))
    assert response.headers["Location"].endswith("/editor/audit")


def test_a_huge_next_is_dropped_rather_than_kept_in_the_cookie(app, enrolled, clock):
    secret, _codes = enrolled
    browser = EditorClient(app.test_client())
    browser.get("/editor/login")
    huge = "/editor/audit?x=" + "y" * 20_000
    browser.post("/editor/login", {"email": EMAIL, "password": PASSWORD, "next": huge})
    response = code_step(browser, code_at(secret, clock))
    assert response.status_code == 302 and response.headers["Location"].endswith("/editor/")


def test_reset_2fa_turns_it_off_and_ends_the_sessions(app, runner, enrolled, clock):
    secret, _codes = enrolled
    browser, _ = password_step(app)
    code_step(browser, code_at(secret, clock))
    assert browser.get("/editor/").status_code == 200
    result = runner.invoke(args=["reset-2fa", EMAIL.upper()])
    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    assert browser.get("/editor/").status_code == 302
    assert not account(app).second_factor
    _fresh, response = password_step(app)  # the password alone logs in again (nothing requires more)
    assert response.headers["Location"].endswith("/editor/")
    assert "second_factor_reset" in audit_actions(app)
    assert runner.invoke(args=["reset-2fa", "nobody@example.org"]).exit_code == 1


def test_an_administrator_resets_a_second_factor_from_the_accounts_page(app, enrolled, clock):
    add_editor(app, "admin@example.org", role="admin")
    admin = EditorClient(app.test_client())
    admin.login("admin@example.org", PASSWORD)
    page = admin.get("/editor/accounts").get_data(as_text=True)
    assert "on (10 recovery codes left)" in page
    editor_id = account(app).id
    assert admin.post(f"/editor/accounts/{editor_id}/second-factor/reset").status_code == 302
    assert not account(app).second_factor


def test_required_second_factor_sends_a_publisher_to_enrolment_and_nowhere_else(make_app, clock):
    app = make_app(REQUIRE_2FA=True)
    add_editor(app)
    browser, response = password_step(app)
    assert response.status_code == 302
    for path in ("/editor/", "/editor/statements/new", "/editor/audit", "/editor/password"):
        response = browser.get(path)
        assert response.status_code == 302 and "/editor/second-factor" in response.headers["Location"]
    browser.get("/editor/second-factor")
    data = {"title": "Sneaked out", "body": "Text", "source_format": "markdown", "action": "publish"}
    response = browser.post("/editor/statements/new", data)
    assert response.status_code == 302 and "/editor/second-factor" in response.headers["Location"]
    connection = db.connect(app.config["DATABASE"])
    assert connection.execute("SELECT count(*) FROM statements").fetchone()[0] == 0
    connection.close()
    enrol(browser, clock)
    assert browser.get("/editor/").status_code == 200


def test_required_second_factor_means_no_login_without_a_valid_code(make_app, clock):
    app = make_app(REQUIRE_2FA=True)
    add_editor(app)
    setup, _ = password_step(app)
    secret, _codes = enrol(setup, clock)
    clock.advance(30)
    browser, response = password_step(app)
    assert response.headers["Location"].endswith("/editor/login/code")
    assert code_step(browser, "123456").status_code == 401
    assert browser.get("/editor/").status_code == 302
    assert browser.get("/editor/statements/new").status_code == 302


def test_a_writer_is_not_required_to_enrol(make_app):
    app = make_app(REQUIRE_2FA=True)
    add_editor(app, "writer@example.org", role="writer")
    browser, _ = password_step(app, "writer@example.org")
    assert browser.get("/editor/").status_code == 200
