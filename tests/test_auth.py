"""Editor accounts and sessions: the commands, login, logout, timeouts, cookies, CSRF."""

from __future__ import annotations

import re

import pytest
from editor_client import EMAIL, PASSWORD, EditorClient, add_editor

from bulletin.editor import accounts, passwords
from bulletin.editor.passwords import PasswordRefused
from bulletin.http.database import get_db
from bulletin.statements import db


def editors_in(app):
    connection = db.connect(app.config["DATABASE"])
    try:
        return connection.execute("SELECT email, password_hash FROM editors").fetchall()
    finally:
        connection.close()


# ------------------------------------------------------------------ commands


def test_create_editor_reads_the_first_line_of_standard_input(app, runner):
    result = runner.invoke(args=["create-editor", "Editor@Example.org"], input=PASSWORD + "\nignored\n")
    assert result.exit_code == 0, result.output
    [(email, password_hash)] = editors_in(app)
    assert email == "editor@example.org" and password_hash.startswith("$argon2id$")
    assert EditorClient(app.test_client()).login(EMAIL, PASSWORD).status_code == 302


def test_create_editor_prompts_twice_on_a_terminal(app, runner, monkeypatch):
    from bulletin.editor import commands

    monkeypatch.setattr(commands, "stdin_is_terminal", lambda: True)
    result = runner.invoke(
        args=["create-editor", EMAIL], input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and PASSWORD not in result.output
    assert len(editors_in(app)) == 1


def test_create_editor_refuses_an_existing_email(app, runner):
    add_editor(app)
    result = runner.invoke(args=["create-editor", EMAIL.upper()], input="another fine password\n")
    assert result.exit_code == 1
    assert "already exists" in result.output and "set-password" in result.output


@pytest.mark.parametrize(
    "password, message",
    [
        ("short", "at least 8"),
        ("password123", "attackers try"),
        ("x" * 300, "at most 256"),
        ("editor@example.org", "attackers try"),
        ("", "at least 8"),
    ],
)
def test_create_editor_refuses_weak_passwords(app, runner, password, message):
    result = runner.invoke(args=["create-editor", EMAIL], input=password + "\n")
    assert result.exit_code == 1 and message in result.output
    assert editors_in(app) == []


def test_set_password_changes_it_and_ends_every_session(app, runner, editor_client):
    result = runner.invoke(args=["set-password", EMAIL], input="a brand new passphrase\r\n")
    assert result.exit_code == 0, result.output
    assert editor_client.get("/editor/").status_code == 302  # the old session is gone
    assert EditorClient(app.test_client()).login(EMAIL, PASSWORD).status_code == 401
    assert EditorClient(app.test_client()).login(EMAIL, "a brand new passphrase").status_code == 302


def test_set_password_of_an_unknown_editor_exits_1(app, runner):
    result = runner.invoke(args=["set-password", "nobody@example.org"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "no editor" in result.output


def test_password_rules_are_length_and_commonness_not_composition(app):
    with app.app_context():
        assert passwords.check_new_password("all lower case words") == "all lower case words"
        assert passwords.check_new_password("ő" * 4 + "ü" * 4 + "x")  # 9 characters of any script
        long_one = "correct horse battery staple " * 2
        assert len(long_one) >= 58 and passwords.check_new_password(long_one[:64])
        for weak in ("qwertyuiop", "Password2024!", "12345678", "aaaaaaaaaaaa", "пароль123"):
            with pytest.raises(PasswordRefused):
                passwords.check_new_password(weak)


def test_hash_is_redone_at_login_when_the_parameters_change(app):
    add_editor(app)
    [(_, before)] = editors_in(app)
    assert "m=64,t=1" in before
    app.config.update(ARGON2_TIME_COST=2, ARGON2_MEMORY_KIB=128)
    assert EditorClient(app.test_client()).login().status_code == 302
    [(_, after)] = editors_in(app)
    assert "m=128,t=2" in after and after != before
    assert EditorClient(app.test_client()).login().status_code == 302


def test_production_hash_parameters_stay_strong(tmp_path, monkeypatch):
    from bulletin import config

    defaults = config.defaults()
    assert defaults["ARGON2_MEMORY_KIB"] >= 19 * 1024 and defaults["ARGON2_TIME_COST"] >= 2


# ------------------------------------------------------------------ login and logout


def test_editor_pages_redirect_to_login_with_next(client):
    for path in ("/editor/", "/editor/statements/new", "/editor/audit?page=2"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/editor/login?next=")
    assert (
        client.get("/editor/audit?page=2").headers["Location"] == "/editor/login?next=/editor/audit?page%3D2"
    )


def test_login_form_has_the_contract_fields(client):
    html = client.get("/editor/login").get_data(as_text=True)
    assert 'name="email"' in html and 'name="password"' in html
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]{20,}">', html)


def test_login_goes_to_next_and_wrong_password_is_401_with_the_form(client, editor):
    visitor = EditorClient(client)
    visitor.get("/editor/login?next=/editor/audit")
    wrong = visitor.post(
        "/editor/login", {"email": EMAIL, "password": "not it at all", "next": "/editor/audit"}
    )
    assert wrong.status_code == 401
    assert 'name="password"' in wrong.get_data(as_text=True) and "wrong" in wrong.get_data(as_text=True)
    right = visitor.post("/editor/login", {"email": EMAIL, "password": PASSWORD, "next": "/editor/audit"})
    assert right.status_code == 302 and right.headers["Location"] == "/editor/audit"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "/statements/x/", "javascript:alert(1)"],
)
def test_next_never_leaves_the_editor(client, editor, target):
    visitor = EditorClient(client)
    visitor.get("/editor/login")
    response = visitor.post("/editor/login", {"email": EMAIL, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/editor/"


def test_unknown_account_and_wrong_password_get_the_same_answer(client, editor):
    visitor = EditorClient(client)
    visitor.get("/editor/login")
    unknown = visitor.post("/editor/login", {"email": "nobody@example.org", "password": "whatever it is"})
    wrong = visitor.post("/editor/login", {"email": EMAIL, "password": "whatever it is"})
    assert unknown.status_code == wrong.status_code == 401
    same = unknown.get_data(as_text=True).replace("nobody@example.org", EMAIL)
    assert same == wrong.get_data(as_text=True)
    assert dict(unknown.headers) == dict(wrong.headers)


def test_login_starts_a_new_session_id(client, editor):
    visitor = EditorClient(client)
    visitor.get("/editor/login")
    before = client.get_cookie("bulletin_editor").value
    visitor.post("/editor/login", {"email": EMAIL, "password": PASSWORD})
    after = client.get_cookie("bulletin_editor").value
    assert before != after
    # The token shown before login is worth nothing after it.
    stale = client.post("/editor/logout", data={"csrf_token": visitor.token})
    assert stale.status_code == 400


def test_logout_ends_the_session_even_for_a_copied_cookie(app, editor_client):
    copied = editor_client.client.get_cookie("bulletin_editor").value
    editor_client.get("/editor/")
    assert editor_client.post("/editor/logout").status_code == 302
    assert editor_client.get("/editor/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("bulletin_editor", copied)
    response = thief.get("/editor/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/editor/login")


def test_logout_is_a_post_from_a_form_on_every_editor_page(editor_client):
    for path in ("/editor/", "/editor/statements/new", "/editor/audit", "/editor/password"):
        html = editor_client.get(path).get_data(as_text=True)
        assert re.search(
            r'<form method="post" action="/editor/logout">\s*<input type="hidden" name="csrf_token"', html
        ), path
    assert editor_client.client.get("/editor/logout").status_code == 405


def test_password_change_ends_other_sessions_and_keeps_this_one(app, editor_client):
    other = EditorClient(app.test_client())
    assert other.login().status_code == 302
    editor_client.get("/editor/password")
    response = editor_client.post(
        "/editor/password",
        {"current": PASSWORD, "new": "another long passphrase", "repeat": "another long passphrase"},
    )
    assert response.status_code == 302
    assert editor_client.get("/editor/").status_code == 200
    assert other.get("/editor/").status_code == 302
    assert EditorClient(app.test_client()).login(EMAIL, "another long passphrase").status_code == 302


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"current": "wrong one here", "new": "fine new passphrase", "repeat": "fine new passphrase"},
            "not right",
        ),
        ({"current": PASSWORD, "new": "fine new passphrase", "repeat": "fine new passphrasE"}, "differ"),
        ({"current": PASSWORD, "new": "letmein1", "repeat": "letmein1"}, "attackers try"),
    ],
)
def test_password_change_refusals_keep_the_old_password(app, editor_client, fields, message):
    editor_client.get("/editor/password")
    response = editor_client.post("/editor/password", fields)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert editor_client.get("/editor/").status_code == 200
    assert EditorClient(app.test_client()).login().status_code == 302


def test_idle_timeout(app, editor_client, clock):
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    clock.advance(idle - 5)
    assert editor_client.get("/editor/").status_code == 200  # activity resets the idle clock
    clock.advance(idle - 5)
    assert editor_client.get("/editor/").status_code == 200
    clock.advance(idle + 1)
    response = editor_client.get("/editor/")
    assert response.status_code == 302
    assert "session has ended" in editor_client.get(response.headers["Location"]).get_data(as_text=True)


def test_absolute_timeout_ends_even_an_active_session(app, editor_client, clock):
    lifetime = app.config["SESSION_MAX_HOURS"] * 3600
    step = app.config["SESSION_IDLE_MINUTES"] * 60 - 60
    elapsed = 0
    while elapsed + step < lifetime:
        clock.advance(step)
        elapsed += step
        assert editor_client.get("/editor/").status_code == 200
    clock.advance(lifetime - elapsed + 1)
    assert editor_client.get("/editor/").status_code == 302


# ------------------------------------------------------------------ cookies


def test_session_cookie_is_httponly_and_lax_over_http(client):
    cookie = client.get("/editor/login").headers["Set-Cookie"]
    assert cookie.startswith("bulletin_editor=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_over_https_cookies_are_secure_with_the_host_prefix(app, editor):
    client = app.test_client()
    visitor = EditorClient(client)
    base = {"base_url": "https://bulletin.example"}
    login_page = visitor.get("/editor/login", **base)
    cookie = login_page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-bulletin_editor=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie and "HttpOnly" in cookie
    response = visitor.post("/editor/login", {"email": EMAIL, "password": PASSWORD}, **base)
    assert response.status_code == 302
    for header in response.headers.getlist("Set-Cookie"):
        assert header.startswith("__Host-") and "Secure" in header and "Domain" not in header
    assert client.get("/editor/", **base).status_code == 200
    assert "Strict-Transport-Security" in response.headers


@pytest.mark.parametrize("path", ["/", "/feed.atom", "/api/sync", "/statements/nope/", "/search/?q=x"])
def test_public_responses_never_set_a_cookie_even_for_a_logged_in_editor(editor_client, path):
    response = editor_client.client.get(path)
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_public_code_cannot_write_the_session(app):
    from flask import session

    with app.test_request_context("/"):
        app.preprocess_request()
        with pytest.raises(RuntimeError, match="only under /editor/"):
            session["x"] = 1


# ------------------------------------------------------------------ CSRF and methods


@pytest.mark.parametrize("token", [None, "", "forged-token-value"])
@pytest.mark.parametrize(
    "path", ["/editor/login", "/editor/logout", "/editor/statements/new", "/editor/password"]
)
def test_state_changing_requests_without_a_valid_token_get_400(editor_client, path, token):
    data = {"email": EMAIL, "password": PASSWORD, "title": "Sneaky", "body": "x", "action": "publish"}
    if token is not None:
        data["csrf_token"] = token
    response = editor_client.client.post(path, data=data)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert editor_client.get("/editor/").status_code == 200  # still logged in
    assert "Sneaky" not in editor_client.get("/editor/").get_data(as_text=True)


def test_a_token_from_another_session_is_refused(app, editor_client):
    other = EditorClient(app.test_client())
    other.get("/editor/login")
    response = editor_client.client.post("/editor/logout", data={"csrf_token": other.token})
    assert response.status_code == 400


def test_scripts_may_send_the_token_in_a_header(editor_client):
    editor_client.get("/editor/")
    response = editor_client.client.post("/editor/logout", headers={"X-CSRF-Token": editor_client.token})
    assert response.status_code == 302


def test_get_changes_nothing(app, editor_client):
    def snapshot():
        connection = db.connect(app.config["DATABASE"])
        try:
            return [
                connection.execute(f"SELECT * FROM {t}").fetchall()
                for t in ("statements", "revisions", "changes", "audit_log")
            ]
        finally:
            connection.close()

    statement_id = editor_client.create("Draft")
    before = [list(map(tuple, rows)) for rows in snapshot()]
    for path in (
        "/editor/",
        f"/editor/statements/{statement_id}",
        f"/editor/statements/{statement_id}/preview",
        f"/editor/statements/{statement_id}/history",
        "/editor/audit",
        "/editor/logout",
        f"/editor/statements/{statement_id}/withdraw",
        f"/editor/statements/{statement_id}/unschedule",
        "/editor/statements/new?title=x&action=publish",
    ):
        editor_client.client.get(path)
    assert [list(map(tuple, rows)) for rows in snapshot()] == before


def test_accounts_normalize_email_case(app):
    add_editor(app, "Mixed.Case@Example.ORG")
    with app.app_context():
        assert accounts.find(get_db(), "mixed.case@example.org").email == "mixed.case@example.org"


def test_timed_out_sessions_are_removed_at_the_next_login(app, editor_client, clock):
    clock.advance(app.config["SESSION_IDLE_MINUTES"] * 60 + 1)  # the first session times out unseen
    assert EditorClient(app.test_client()).login().status_code == 302
    connection = db.connect(app.config["DATABASE"])
    assert connection.execute("SELECT count(*) FROM editor_sessions").fetchone()[0] == 1
    connection.close()
