"""Fixtures and helpers for the editor's tests (test_auth*.py, test_editor*.py).

The ``app`` fixture here replaces conftest's for the modules that import it:
the same real app on a temporary database, with fast Argon2 parameters (the
production defaults take a tenth of a second per hash) and a clock the test
moves instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bulletin import accounts, create_app, db
from bulletin.db import transaction
from bulletin.records import now

EMAIL = "editor@example.org"
PASSWORD = "a long walk to the river"
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 64}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """A clock for ``CLOCK`` in the app's config: it stands still until moved."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or now()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_app(tmp_path, clock):
    """Build a migrated app; keyword arguments override its config."""

    def make(**config):
        app = create_app(
            {
                "TESTING": True,
                "DATABASE": str(tmp_path / "bulletin.sqlite3"),
                "SECRET_KEY": "test-secret",
                "CLOCK": clock,
                **FAST_HASHING,
                **config,
            }
        )
        connection = db.connect(app.config["DATABASE"])
        db.migrate(connection)
        connection.close()
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


def add_editor(app, email: str = EMAIL, password: str = PASSWORD) -> accounts.Editor:
    """Create an editor account straight in the store."""
    with app.app_context():
        connection = db.get_db()
        with transaction(connection):
            return accounts.create(connection, email, password)


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    return _CSRF.search(html).group(1)


class EditorClient:
    """A test client driven like an editor's editor_client: it fetches forms before posting them."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, path: str, **kwargs):
        response = self.client.get(path, **kwargs)
        found = _CSRF.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST with the CSRF token of the last page fetched (fetching /editor/login if none)."""
        if self.token is None:
            self.get("/editor/login", **{k: v for k, v in kwargs.items() if k == "environ_base"})
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def login(self, email: str = EMAIL, password: str = PASSWORD, **kwargs):
        self.get("/editor/login", **kwargs)
        response = self.post("/editor/login", {"email": email, "password": password}, **kwargs)
        if response.status_code == 302:
            self.get("/editor/")
        return response

    def create(self, title: str = "A statement", body: str = "The *text*.", *, action: str = "save", **fields):
        """Submit the new-statement form; return the new statement's id."""
        self.get("/editor/statements/new")
        data = {"title": title, "body": body, "source_format": "markdown", "action": action, **fields}
        response = self.post("/editor/statements/new", data)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.headers["Location"].rsplit("/", 1)[1]

    def form_of(self, statement_id: str) -> dict:
        """The edit form's current values, as the editor_client would send them back."""
        html = self.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
        return form_values(html)

    def save(self, statement_id: str, *, action: str = "save", **changes):
        """Load the edit form, change some fields, submit it."""
        data = {**self.form_of(statement_id), **changes, "action": action}
        return self.post(f"/editor/statements/{statement_id}", data)


def form_values(html: str) -> dict:
    """The named inputs, textareas and selected options of the statement form."""
    from html import unescape

    form = html[html.index('<form method="post" action="/editor/statements/'):]
    form = form[: form.index("</form>")]
    values = {}
    for name, value in re.findall(r'<input [^>]*name="([^"]+)"[^>]*value="([^"]*)"', form):
        values[name] = unescape(value)
    for name, text in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>', form, re.S):
        values[name] = unescape(text)
    for name, options in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        values[name] = re.search(r'<option value="([^"]+)" selected', options).group(1)
    values.pop("csrf_token", None)
    return values


@pytest.fixture
def editor(app):
    return add_editor(app)


@pytest.fixture
def editor_client(client, editor):
    """An editor's editor_client, logged in."""
    editor_client = EditorClient(client)
    assert editor_client.login().status_code == 302
    return editor_client
