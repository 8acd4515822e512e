"""What the app logs: what an operator needs, and nothing about who read, searched or tried what."""

from __future__ import annotations

import logging
import subprocess
import sys

from conftest import REPO, Publisher
from editor_client import EditorClient, add_editor

from bulletin.assets import files
from bulletin.http import errors
from bulletin.http.hotpath import HotPath
from bulletin.statements import db
from testbed.servers import fetch, start_gunicorn

ADDRESS = "203.0.113.77"
EMAIL = "ada.quill@example.org"
MARKER = "newsletter-4711"  # stands for anything a query string may carry


def logged_text(caplog) -> str:
    """Every record as an operator would read it, with its arguments and traceback."""
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), record.exc_text or ""]
    return "\n".join(parts)


def test_no_log_record_names_the_editor_the_client_or_the_query(make_app, caplog):
    app = make_app(LOGIN_FREE_ATTEMPTS=1)
    add_editor(app, EMAIL)
    Publisher(app).publish("Read me", slug="read-me")
    caplog.set_level(logging.DEBUG)
    browser = {"environ_base": {"REMOTE_ADDR": ADDRESS}}

    editor = EditorClient(app.test_client())
    statuses = [editor.login(EMAIL, "not the password at all", **browser).status_code for _ in range(3)]
    reader = app.test_client()
    for path in (
        f"/statements/read-me/?from={MARKER}",
        f"/search/?q={MARKER}",
        f"/nowhere?from={MARKER}",
        f"/api/statements?page=x&from={MARKER}",
    ):
        reader.get(path, **browser)

    assert statuses == [401, 429, 429]
    throttling = [r for r in caplog.records if r.name == "bulletin.editor.throttle"]
    assert throttling and all(r.levelno == logging.INFO for r in throttling)  # the operator is told
    text = logged_text(caplog)
    for secret in ("ada.quill", ADDRESS, MARKER):
        assert secret not in text


def _python(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"BULLETIN_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


CREATE_AND_LOG = (
    "import logging\n"
    "from bulletin import create_app\n"
    "create_app({{'DATABASE': {database!r}, 'SECRET_KEY': 'x'}})\n"
    "logging.getLogger('bulletin.somewhere').info('a line for the operator')\n"
)


def test_the_app_logs_info_to_stderr_when_nothing_configured_logging(tmp_path):
    result = _python(CREATE_AND_LOG.format(database=str(tmp_path / "b.sqlite3")), tmp_path)
    assert "[INFO] bulletin.somewhere: a line for the operator" in result.stderr


def test_a_logging_configuration_of_the_host_is_kept(tmp_path):
    host = "import logging, sys\nlogging.basicConfig(stream=sys.stdout, level=logging.INFO, format='host %(message)s')\n"
    result = _python(host + CREATE_AND_LOG.format(database=str(tmp_path / "b.sqlite3")), tmp_path)
    assert "host a line for the operator" in result.stdout
    assert "a line for the operator" not in result.stderr


def test_gunicorn_shows_the_apps_log_and_no_client_or_query(tmp_path):
    database = tmp_path / "bulletin.sqlite3"
    db.migrate_file(database)
    log = tmp_path / "gunicorn.log"
    # No secret key given: the app makes one and says so, an INFO line of the app's own.
    env = {"BULLETIN_INSTANCE_PATH": str(tmp_path), "BULLETIN_DATABASE": str(database)}
    with start_gunicorn("app:app", env=env, log=log, workers=1) as server:
        assert fetch(server.port, f"/?page=1&from={MARKER}").status == 200
    text = log.read_text()
    assert "[INFO] bulletin.config: created a new secret key" in text
    requests = [line for line in text.splitlines() if '"GET /' in line]
    assert requests and all("127.0.0.1" not in line for line in requests)
    assert MARKER not in text


def test_a_fault_in_the_hot_path_costs_a_log_line_not_the_page(client, monkeypatch, caplog):
    def broken(self, environ):
        raise RuntimeError("hot path bug")

    monkeypatch.setattr(HotPath, "_key", broken)
    assert client.get("/").status_code == 200
    assert any(r.name == "bulletin.http.hotpath" and r.levelname == "ERROR" for r in caplog.records)


def test_a_failed_compression_costs_a_log_line_not_the_page(client, publisher, monkeypatch, caplog):
    def broken(body):
        raise MemoryError("no room for Brotli")

    monkeypatch.setattr(files, "_COMPRESSORS", (("br", broken), *files._COMPRESSORS[1:]))
    publisher.publish("Long", "<p>" + "A statement long enough to compress. " * 20 + "</p>", slug="long")
    response = client.get("/statements/long/", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert any(r.name == "bulletin.assets.files" and r.levelname == "ERROR" for r in caplog.records)


def test_an_error_page_that_cannot_render_is_still_answered(client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setattr(errors, "render_template", broken)
    response = client.get("/nowhere", headers={"Accept": "text/html"})
    assert response.status_code == 404 and "nothing at this address" in response.get_data(as_text=True)
    assert any(r.name == "bulletin.http.errors" and r.levelname == "ERROR" for r in caplog.records)
