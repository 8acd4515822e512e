"""The documented deployment on 127.0.0.1: gunicorn serving Bulletin, deploy/nginx.conf in front.

For the deploy tests and the browser test of nginx in front of the publish
folder. Both servers run on free ports and are stopped by process id.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bulletin import config, create_app
from bulletin.authoring import changes
from bulletin.http import nginx_headers
from bulletin.publishing import fileset, publisher
from bulletin.signing import keyring, keys
from bulletin.statements import db
from testbed import folder as publish_folder
from testbed.nginx_conf import write_deploy_config
from testbed.servers import HOST, free_port, start_gunicorn, start_nginx

# Argon2 parameters that take a millisecond (an editor logs in through nginx in some tests).
FAST_HASHING = {"BULLETIN_ARGON2_TIME_COST": "1", "BULLETIN_ARGON2_MEMORY_KIB": "64"}


def certify_online_key(instance: Path) -> None:
    """A certified online key in the instance folder, its root kept outside it (as a publisher keeps it
    offline), so the site signs its records and serves its sync files."""
    root_file = instance.parent / f"{instance.name}-root.key"
    keyring.init_root(root_file)
    keyring.certify(instance, keys.read_private(root_file), now=dt.datetime.now(dt.UTC))


def publish_statement(database: str, slug: str, body: str, tags=()) -> None:
    """Create and publish one statement through the write path."""
    connection = db.connect(database)
    draft = changes.Draft(slug.title(), body, "html", slug=slug, tags=tags)
    changes.create(connection, draft, changes.tool_context("editor@example.org"), publish=True)
    connection.close()


def write_includes(database: str, folder) -> None:
    """The header includes, as `prepare` writes them into the instance folder."""
    app = create_app({"DATABASE": database, "SECRET_KEY": "deploy-test", "KEYS_DIR": str(folder)})
    nginx_headers.write(app, folder)


def published_files(app, publish: Path) -> dict[str, str]:
    """{address nginx serves a file of the folder at: the app's address of it} for every file published."""
    renderer = fileset.Renderer(app)
    connection = db.connect(app.config["DATABASE"])
    with renderer.url_context():
        addresses = list(fileset.site_addresses(connection))
    connection.close()
    addresses += fileset.sync_addresses(renderer) or []
    found = {}
    for address in addresses:
        name = publish_folder.file_for(address)
        if (publish / name).is_file():
            found[publish_folder.folder_url(address)] = address
    return found


SLUGS = ("first", "second", "third")
# What only a deploy changes, written by the publisher's whole build: the worker, manifests,
# offline page and shells (here and under a language), the files at the site's root.
BUILD_FILES = (
    "/sw.js",
    "/manifest.webmanifest",
    "/ru/manifest.webmanifest",
    "/offline/",
    "/offline/shell/",
    "/offline/list-shell/",
    "/offline/tag-shell/",
    "/ar/offline/shell/",
    "/favicon.ico",
    "/apple-touch-icon.png",
    "/robots.txt",
)


class Stack:
    """gunicorn serving Bulletin, nginx in front of it with the deployment's configuration.

    ``files``: the app publishes the public site to the folder nginx serves
    (``publish --all`` first, the worker, manifests and offline pages
    included; each change after); else the folder stays empty and everything reaches the app.
    """

    def __init__(self, folder, *, refresh: bool = False, files: bool = False):
        self.folder = folder
        self.database = database = str(folder / "bulletin.sqlite3")
        self.publish = folder / "publish"
        self.files: dict[str, str] = {}  # address in the folder -> the app's address of the same file
        db.migrate_file(database)
        for slug in SLUGS:
            text = f"<p>The {slug} statement, long enough to be compressed. " * 8 + "</p>"
            publish_statement(database, slug, text, tags=("harbour",) if slug == "first" else ())
        certify_online_key(folder)
        write_includes(database, folder)
        port = free_port()
        self.env = {
            "BULLETIN_INSTANCE_PATH": str(folder),
            "BULLETIN_DATABASE": database,
            "BULLETIN_SECRET_KEY": "deploy-test",
            "BULLETIN_TRUSTED_PROXIES": "1",
            # Feeds and sitemaps name the origin readers use, whoever renders them.
            "BULLETIN_BASE_URL": f"http://{HOST}:{port}",
            **FAST_HASHING,
        }
        if files:
            self.env["BULLETIN_PUBLISH_DIR"] = str(self.publish)
            publisher.publish_all(self.make_app())
        else:
            self.publish.mkdir()
        if refresh:
            self.env["BULLETIN_NGINX_REFRESH_URL"] = f"http://{HOST}:{port}"
        self.app = start_gunicorn("app:app", env=self.env, log=folder / "gunicorn.log", workers=1)
        try:
            if files:
                self.files = published_files(self.make_app(), self.publish)
            config = write_deploy_config(
                folder / "nginx",
                port=port,
                upstream_port=self.app.port,
                publish=self.publish,
                includes=folder,
            )
            self.nginx = start_nginx(config, port, prefix=folder / "nginx")
        except BaseException:
            self.app.stop()
            raise

    def make_app(self):
        """The app as gunicorn runs it, in this process (to publish, or to render an address)."""
        settings = config.from_environment(self.env)
        # gunicorn's instance folder holds its keys; this process's own instance folder is another.
        return create_app({**settings, "SECRET_KEY": "deploy-test", "KEYS_DIR": str(self.folder)})

    def stop(self) -> None:
        self.nginx.stop()
        self.app.stop()
