"""Login limits: growing delays per account and per client, under concurrency and behind proxies."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
from editor_client import EMAIL, PASSWORD, EditorClient, add_editor

from bulletin.editor import throttle
from bulletin.statements import db

ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
EDITOR_HOME = {"REMOTE_ADDR": "198.51.100.7"}


def attempt(app_or_client, email=EMAIL, password="not the password", environ=None, headers=None):
    """One login attempt from a fresh browser; returns the response."""
    client = app_or_client.test_client() if hasattr(app_or_client, "test_client") else app_or_client
    browser = EditorClient(client)
    kwargs = {"environ_base": environ or {}, "headers": headers or {}}
    browser.get("/editor/login", **kwargs)
    return browser.post("/editor/login", {"email": email, "password": password}, **kwargs)


def test_delays_grow_after_the_free_attempts_and_are_capped(make_app, clock):
    app = make_app(LOGIN_FREE_ATTEMPTS=3, LOGIN_MAX_DELAY=10)
    add_editor(app)
    assert [attempt(app).status_code for _ in range(3)] == [401, 401, 401]
    waits = []
    for _ in range(6):
        refused = attempt(app)
        assert refused.status_code == 429
        assert "Wait" in refused.get_data(as_text=True) and 'name="password"' in refused.get_data(
            as_text=True
        )
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        clock.advance(wait)
        assert attempt(app).status_code == 401
    assert waits == [1, 2, 4, 8, 10, 10]


def test_the_right_password_waits_too_then_works_and_clears_the_count(make_app, clock):
    app = make_app(LOGIN_FREE_ATTEMPTS=2)
    add_editor(app)
    attempt(app), attempt(app)
    refused = attempt(app, password=PASSWORD)
    assert refused.status_code == 429  # a guess that happens to be right is not let through early
    clock.advance(int(refused.headers["Retry-After"]))
    assert attempt(app, password=PASSWORD).status_code == 302
    assert attempt(app).status_code == 401 and attempt(app).status_code == 401  # free again


def test_a_blocked_key_is_not_lengthened_by_hammering(make_app, clock):
    app = make_app(LOGIN_FREE_ATTEMPTS=1)
    add_editor(app)
    attempt(app)
    for _ in range(10):
        assert attempt(app).headers["Retry-After"] == "1"


def _concurrently(app, count: int, make_kwargs):
    """Fire ``count`` login attempts at once from separate browsers; their status codes."""
    browsers = []
    for index in range(count):
        kwargs = make_kwargs(index)
        browser = EditorClient(app.test_client())
        browser.get("/editor/login", environ_base=kwargs["environ"])
        browsers.append((browser, kwargs))
    start = threading.Barrier(count)
    statuses = [None] * count

    def run(index):
        browser, kwargs = browsers[index]
        start.wait(timeout=20)
        data = {"email": kwargs["email"], "password": "not the password"}
        statuses[index] = browser.post("/editor/login", data, environ_base=kwargs["environ"]).status_code

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an attempt hung"
    return statuses


@pytest.mark.parametrize(
    "case, make_kwargs",
    [
        ("one account, one address", lambda i: {"email": EMAIL, "environ": ATTACKER}),
        (
            "one account, many addresses",
            lambda i: {"email": EMAIL, "environ": {"REMOTE_ADDR": f"192.0.2.{i + 1}"}},
        ),
        ("many accounts, one address", lambda i: {"email": f"guess{i}@example.org", "environ": ATTACKER}),
    ],
)
def test_the_limit_holds_under_concurrent_attempts(make_app, case, make_kwargs):
    app = make_app(LOGIN_FREE_ATTEMPTS=4)
    add_editor(app)
    statuses = _concurrently(app, 12, make_kwargs)
    assert sorted(statuses) == [401] * 4 + [429] * 8, case


def test_an_attacker_cannot_lock_the_real_editor_out(make_app, clock):
    app = make_app(LOGIN_FREE_ATTEMPTS=3, LOGIN_MAX_DELAY=60)
    add_editor(app)
    own_device = EditorClient(app.test_client())
    assert own_device.login(environ_base=EDITOR_HOME).status_code == 302
    own_device.post("/editor/logout", environ_base=EDITOR_HOME)
    for _ in range(30):  # the attacker keeps the account blocked
        clock.advance(61)
        attempt(app, environ=ATTACKER)
    assert attempt(app, environ=ATTACKER).status_code == 429
    # A new device of the editor waits, but never more than the longest delay.
    refused = attempt(app, password=PASSWORD, environ={"REMOTE_ADDR": "192.0.2.50"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 60
    # The editor's own device is not slowed down by someone else's failures,
    # even from the attacker's own network (the same address behind a NAT).
    assert own_device.login(environ_base=ATTACKER).status_code == 302


def test_the_known_device_still_has_its_own_limit(make_app):
    app = make_app(LOGIN_FREE_ATTEMPTS=2)
    add_editor(app)
    device = EditorClient(app.test_client())
    device.login()
    device.post("/editor/logout")
    statuses = [device.login(password="not the password").status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(make_app):
    app = make_app(LOGIN_FREE_ATTEMPTS=3)
    statuses = [
        attempt(app, f"guess{i}@example.org", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
        for i in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


def test_behind_one_trusted_proxy_clients_are_told_apart_and_cannot_spoof(make_app):
    app = make_app(LOGIN_FREE_ATTEMPTS=3, TRUSTED_PROXIES=1)
    proxy = {"REMOTE_ADDR": "127.0.0.1"}

    def from_client(address, email, claimed=None):
        forwarded = f"{claimed}, {address}" if claimed else address
        return attempt(app, email, environ=proxy, headers={"X-Forwarded-For": forwarded}).status_code

    assert [from_client("192.0.2.1", f"a{i}@example.org") for i in range(4)] == [401, 401, 401, 429]
    # Another reader behind the same proxy is not affected: the limit is not global.
    assert from_client("192.0.2.2", "b@example.org") == 401
    # The blocked client cannot escape by writing its own X-Forwarded-For.
    assert from_client("192.0.2.1", "c@example.org", claimed="198.51.100.99") == 429


def test_ipv6_clients_count_by_their_64_network(app):
    with app.app_context():
        _ipv6_keys()


def _ipv6_keys():
    assert throttle.address_key("2001:db8:1:2::1") == throttle.address_key("2001:db8:1:2:ffff::9")
    assert throttle.address_key("2001:db8:1:2::1") != throttle.address_key("2001:db8:1:3::1")
    assert throttle.address_key("::ffff:192.0.2.1") == throttle.address_key("192.0.2.1")


def test_the_throttle_table_names_no_address_or_email(app):
    attempt(app, "someone@example.org", environ={"REMOTE_ADDR": "192.0.2.77"})
    connection = db.connect(app.config["DATABASE"])
    keys = " ".join(row[0] for row in connection.execute("SELECT key FROM login_throttle"))
    connection.close()
    assert keys.count(":") == 2 and "192.0.2" not in keys and "someone" not in keys


def test_unknown_account_takes_as_long_as_a_wrong_password(make_app):
    # Costly enough that skipping the hash would stand out from the noise.
    app = make_app(ARGON2_TIME_COST=2, ARGON2_MEMORY_KIB=16384, LOGIN_FREE_ATTEMPTS=1000)
    add_editor(app)
    browser = EditorClient(app.test_client())
    browser.get("/editor/login")

    def timed(email):
        started = time.perf_counter()
        assert (
            browser.post("/editor/login", {"email": email, "password": "not the password"}).status_code == 401
        )
        return time.perf_counter() - started

    timed(EMAIL), timed("nobody@example.org")  # warm both paths
    known = statistics.median(timed(EMAIL) for _ in range(7))
    unknown = statistics.median(timed("nobody@example.org") for _ in range(7))
    assert 0.5 < unknown / known < 2, (unknown, known)
