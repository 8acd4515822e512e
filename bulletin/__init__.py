"""Bulletin: an offline-first publisher of public statements.

:func:`create_app` is the application factory. Configuration is read here,
when the app is created, never at import time: embedded defaults, then the
``BULLETIN_*`` environment, then the test mapping.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build a configured Bulletin app; raises ConfigError on a malformed setting."""
    from . import api, assets, cli, config, db, errors, feeds, http, i18n, reader, worker

    app = Flask(
        __name__,
        instance_path=os.environ.get("BULLETIN_INSTANCE_PATH", str(ROOT / "instance")),
        static_folder=None,  # whitenoise serves static/, see bulletin.assets
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_mapping(config.defaults())
    app.config["DATABASE"] = str(Path(app.instance_path) / "bulletin.sqlite3")
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.ensure_secret_key(app.instance_path)
    Path(app.config["DATABASE"]).parent.mkdir(parents=True, exist_ok=True)

    # JSON stays readable UTF-8: \u escapes made Cyrillic 2.85x larger.
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    # Every byte of a page is paid for on 2G: no blank lines left by template tags.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    db.init_app(app)
    i18n.init_app(app)
    assets.init_app(app)
    http.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    app.register_blueprint(reader.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(worker.bp)
    # The editor (issue 4): client address behind proxies, scheduled publication, /editor/.
    from . import editing, proxies, schedule

    proxies.init_app(app)
    schedule.init_app(app)
    editing.init_app(app)
    return app
