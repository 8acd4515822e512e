"""nginx's header include is what the app answers, written as nginx configuration (no nginx needed here)."""

from __future__ import annotations

import pytest

from bulletin.http import nginx_headers


def _sample(kind="page", extension="html", content_type="text/html; charset=utf-8", **headers):
    return nginx_headers.Sample(
        kind=kind,
        pattern=r"\.html$",
        extension=extension,
        url="/",
        content_type=content_type,
        headers=headers,
        https_only={},
    )


def test_a_header_the_app_adds_reaches_the_include_with_its_value(make_app):
    app = make_app()

    @app.after_request
    def _extra(response):
        response.headers["X-Added-Later"] = "by the app"
        return response

    samples = nginx_headers.sample(app)
    maps, headers = nginx_headers.render_maps(samples), nginx_headers.render_headers(samples)
    assert "add_header X-Added-Later $bulletin_file_x_added_later;" in headers
    assert '    page "by the app";' in maps


def test_each_kind_gets_what_the_app_sends_for_it(make_app):
    app = make_app()
    samples = {one.kind: one for one in nginx_headers.sample(app)}
    client = app.test_client()
    worker = client.get("/sw.js")
    assert samples["worker"].headers["Cache-Control"] == worker.headers["Cache-Control"]
    assert "X-Frame-Options" not in samples["worker"].headers
    home = client.get("/")
    assert samples["page"].headers["Content-Security-Policy"] == home.headers["Content-Security-Policy"]
    index = client.get("/sync/index.json")
    if index.status_code == 200:
        assert samples["sync-index"].headers["Access-Control-Allow-Origin"] == "*"
        assert "immutable" in samples["sync-file"].headers["Cache-Control"]
    assert samples["page"].https_only == {"Strict-Transport-Security": "max-age=31536000"}
    assert "Strict-Transport-Security" not in samples["page"].headers


def test_a_kind_the_app_does_not_serve_is_left_out(make_app):
    kinds = (nginx_headers.Kind("nowhere", r"^/nowhere\.json$", "json", lambda _client: ["/nowhere.json"]),)
    assert nginx_headers.sample(make_app(), kinds) == []


@pytest.mark.parametrize("value", ['say "hi"', "costs $5", "two\nlines", "back\\slash"])
def test_a_value_nginx_would_read_differently_is_refused(value):
    with pytest.raises(nginx_headers.IncludeError):
        nginx_headers.render_maps([_sample(**{"X-Odd": value})])


def test_one_extension_with_two_content_types_is_refused():
    samples = [_sample(), _sample(kind="other", content_type="application/xhtml+xml")]
    with pytest.raises(nginx_headers.IncludeError):
        nginx_headers.render_headers(samples)


def test_the_charset_is_named_only_for_the_types_the_app_names_it_for():
    samples = [_sample(), _sample(kind="data", extension="json", content_type="application/json")]
    headers = nginx_headers.render_headers(samples)
    assert "charset_types text/html;" in headers
    assert "application/json json;" in headers


def test_prepare_says_so_when_the_instance_folder_cannot_take_the_include(tmp_path, monkeypatch, make_app):
    blocked = tmp_path / "instance"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv("BULLETIN_INSTANCE_PATH", str(blocked))
    app = make_app()
    result = app.test_cli_runner().invoke(args=["prepare"])
    assert result.exit_code == 1
    assert "nginx's header include cannot be written" in result.output
    assert "Traceback" not in result.output
