"""Settings: defaults, environment, validation, the secret key."""

from __future__ import annotations

import pytest

from bulletin import config, create_app


def test_defaults_run_without_any_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["DATABASE"] == str(tmp_path / "bulletin.sqlite3")
    assert app.config["TIMEZONE"] == "UTC" and app.config["DEFAULT_LANG"] == "en"
    assert app.config["SITE_NAME"] == "Bulletin" and app.config["BASE_URL"] is None


def test_secret_key_is_generated_once(tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    assert len(first) >= 64 and first == create_app().config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BULLETIN_SITE_NAME", "Voice of the Coalition")
    monkeypatch.setenv("BULLETIN_BASE_URL", "https://bulletin.example/")
    monkeypatch.setenv("BULLETIN_TIMEZONE", "Asia/Almaty")
    monkeypatch.setenv("BULLETIN_DATABASE", str(tmp_path / "other.sqlite3"))
    monkeypatch.setenv("BULLETIN_IMPORT_DROP_LINES", "Share this\nPrint this page\n")
    app = create_app()
    assert app.config["SITE_NAME"] == "Voice of the Coalition"
    assert app.config["BASE_URL"] == "https://bulletin.example"
    assert app.config["TIMEZONE"] == "Asia/Almaty"
    assert app.config["DATABASE"] == str(tmp_path / "other.sqlite3")
    assert app.config["IMPORT_DROP_LINES"] == ("Share this", "Print this page")


@pytest.mark.parametrize(
    "name, value",
    [
        ("BULLETIN_TIMEZONE", "Mars/Olympus"),
        ("BULLETIN_DEFAULT_LANG", "english"),
        ("BULLETIN_BASE_URL", "bulletin.example"),
        ("BULLETIN_PAGE_SIZE", "0"),
        ("BULLETIN_PAGE_SIZE", "ten"),
        ("BULLETIN_SITE_NAME", "   "),
        ("BULLETIN_NETWORK_TIMEOUT", "-1"),
        ("BULLETIN_SYNC_TIMEOUT", "61"),
        ("BULLETIN_SW_KILL_SWITCH", "maybe"),
    ],
)
def test_malformed_setting_stops_start_up_naming_it(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name):
        create_app()


def test_every_setting_is_documented_in_the_readme():
    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for setting in config.SETTINGS:
        assert f"`{setting.env}`" in readme, setting.env
