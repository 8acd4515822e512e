"""Driving the editor from tests: an account, and a test client that fills in forms as a browser would.

The fixtures that use these (``editor``, ``editor_client``) are in conftest.py.
"""

from __future__ import annotations

import re
from html import unescape

from bulletin.editor import accounts
from bulletin.http.database import get_db
from bulletin.statements.db import transaction

EMAIL = "editor@example.org"
PASSWORD = "a long walk to the river"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_editor(app, email: str = EMAIL, password: str = PASSWORD, role: str = "publisher") -> accounts.Editor:
    """Create an editor account straight in the store (a publisher unless ``role`` says otherwise)."""
    with app.app_context():
        connection = get_db()
        with transaction(connection):
            return accounts.create(connection, email, password, role)


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    return _CSRF.search(html).group(1)


class EditorClient:
    """A test client driven as an editor's browser would be: it fetches forms before posting them."""

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

    def create(
        self, title: str = "A statement", body: str = "The *text*.", *, action: str = "save", **fields
    ):
        """Submit the new-statement form; return the new statement's id."""
        self.get("/editor/statements/new")
        data = {"title": title, "body": body, "source_format": "markdown", "action": action, **fields}
        response = self.post("/editor/statements/new", data)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.headers["Location"].rsplit("/", 1)[1]

    def form_of(self, statement_id: str) -> dict:
        """The edit form's current values, as a browser would send them back."""
        html = self.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
        return form_values(html)

    def save(self, statement_id: str, *, action: str = "save", **changes):
        """Load the edit form, change some fields, submit it."""
        data = {**self.form_of(statement_id), **changes, "action": action}
        return self.post(f"/editor/statements/{statement_id}", data)


def form_values(html: str) -> dict:
    """The named inputs, textareas and selected options of the statement form."""
    # The statement form, not the one that discards a working copy offered above it.
    start = re.search(r'<form method="post" action="/editor/statements/(?![^"]*/working-copy/)', html).start()
    form = html[start:]
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
