"""Headers every response carries: resource policy, HSTS with or without subdomains."""

from __future__ import annotations

from conftest import reconfigure

from bulletin import config


def test_every_answer_is_same_origin_only(client, publisher):
    publisher.publish("First", slug="first")
    page = client.get("/statements/first/")
    script = page.data.decode().split('<script src="', 1)[1].split('"', 1)[0]
    for path in (
        "/statements/first/",
        "/api/statements/first",
        "/nowhere",
        "/healthz",
        "/editor/login",
        script,
    ):
        with client.get(path) as answer:  # a static file's answer holds the file open until closed
            assert answer.headers["Cross-Origin-Resource-Policy"] == "same-origin", path


def test_hsts_covers_subdomains_only_when_asked(app, client):
    https = {"base_url": "https://bulletin.example"}
    assert client.get("/", **https).headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/").headers
    reconfigure(app, HSTS_INCLUDE_SUBDOMAINS=True)
    assert (
        client.get("/", **https).headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    )


def test_the_subdomains_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("BULLETIN_HSTS_INCLUDE_SUBDOMAINS", "1")
    assert config.from_environment()["HSTS_INCLUDE_SUBDOMAINS"] is True
    assert config.defaults()["HSTS_INCLUDE_SUBDOMAINS"] is False
