"""Bulletin: an offline-first publisher of public statements.

:func:`create_app` is the application factory. Configuration is read here,
when the app is created, never at import time: embedded defaults, then the
``BULLETIN_*`` environment, then the test mapping.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, appcontext_popped, appcontext_pushed, current_app, has_app_context

from bulletin import cli, config, editor, i18n
from bulletin.assets import bundles
from bulletin.authoring import schedule
from bulletin.http import addresses, caching, database, errors, static_host
from bulletin.http.hotpath import HotPath
from bulletin.http.proxies import behind_proxies
from bulletin.publishing import publisher
from bulletin.pwa import bundle_import, worker
from bulletin.site import about, api, feeds, health, keys, mirrors, packs, reader, sync_files
from bulletin.statements import clock

log = logging.getLogger(__name__)

# gunicorn's own error-log format, with the logger's name: one stream an operator reads.
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"


def create_app(test_config: dict | None = None) -> Flask:
    """Build a configured Bulletin app; raises ConfigError on a malformed setting.

    Builds nothing: bundles, icons and compressed files are made by ``prepare``.
    """
    _log_to_stderr()
    app = Flask(
        __name__,
        instance_path=os.environ.get("BULLETIN_INSTANCE_PATH", str(config.ROOT / "instance")),
        static_folder=None,  # WhiteNoise serves static/, see _wsgi_stack
        template_folder=str(config.ROOT / "templates"),
    )
    app.config.from_mapping(config.defaults())
    app.config["DATABASE"] = str(Path(app.instance_path) / "bulletin.sqlite3")
    try:
        app.config.update(config.from_environment())
    except config.ConfigError as e:
        log.error("refusing to start: %s", e)
        raise
    if test_config:
        app.config.update(test_config)
    # The keyring and the online signing keys live beside the database unless a test says otherwise.
    app.config.setdefault("KEYS_DIR", app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.ensure_secret_key(app.instance_path)
    Path(app.config["DATABASE"]).parent.mkdir(parents=True, exist_ok=True)

    # JSON stays readable UTF-8: \u escapes made Cyrillic 2.85x larger.
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    # Every byte of a page is paid for on 2G: no blank lines left by template tags.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    _follow_app_clock(app)
    database.init_app(app)
    i18n.init_app(app)
    bundles.init_app(app)
    caching.init_app(app)
    static_host.init_app(app)
    errors.init_app(app)
    addresses.init_app(app)
    cli.init_app(app)
    schedule.init_app(app, after_publish=publisher.trigger_of(app))
    for blueprint in (
        reader.bp,
        about.bp,
        feeds.bp,
        api.bp,
        sync_files.bp,
        mirrors.bp,
        packs.bp,
        worker.bp,
        bundle_import.bp,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    keys.init_app(app)
    # The only place the editor is wired in: nothing public imports it.
    editor.init_app(app)
    app.wsgi_app = _wsgi_stack(app)
    # `prepare` makes a second app after building the assets, to ask it for the headers nginx repeats.
    app.extensions["bulletin_factory"] = create_app
    return app


def _log_to_stderr() -> None:
    """INFO and above on stderr, which gunicorn and ``flask`` commands show, unless logging is set up already.

    A host that configured logging itself (a gunicorn ``logconfig``, a test
    runner capturing records) keeps its configuration: ``basicConfig`` does
    nothing when the root logger has a handler.
    """
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, datefmt=LOG_DATE_FORMAT)


def _follow_app_clock(app: Flask) -> None:
    """Make the app's ``CLOCK`` (tests') the clock of every app context it pushes.

    Requests, ``flask`` commands and ``with app.app_context()`` blocks all
    push one, so one hook covers them all; between contexts the clock is the
    system's again.
    """
    appcontext_pushed.connect(_clock_of_current_app, app)
    appcontext_popped.connect(_clock_of_current_app, app)


def _clock_of_current_app(sender: Flask, **extra) -> None:
    # Flask sends "pushed" once the context is current and "popped" once it is
    # gone, so the context current now decides: this app's, an outer one's, or none.
    clock.override(current_app.config.get("CLOCK") if has_app_context() else None)


def _wsgi_stack(app: Flask):
    """The WSGI layers around Flask, outermost first.

    1. ProxyFix, with ``BULLETIN_TRUSTED_PROXIES`` hops: the client address
       and scheme every layer below sees.
    2. WhiteNoise: static files, which never pay for the hot path's check.
    3. HotPath: finished public responses replayed without entering Flask.
    4. Flask.
    """
    hot = app.extensions["bulletin_hotpath"] = HotPath(app.wsgi_app, app)
    static = bundles.static_files(hot, add_headers_function=caching.add_static_headers)
    return behind_proxies(static, app.config["TRUSTED_PROXIES"])
