"""deploy/nginx.conf made concrete for a test or a benchmark on 127.0.0.1.

The deployment file stays a real, readable configuration with production
values; :func:`render_site` drops what needs a certificate (the port-80
redirect server, the TLS listens and ``ssl_`` lines) and swaps exactly
those values (listen address, the
app's port, the static root, the publish folder, the folder holding the
header includes ``prepare`` writes, cache and log folders) and fails loudly when
one is no longer found, so the file and this renderer cannot drift apart
silently. :func:`write_config` wraps the result in the few main-level lines
nginx needs to run unprivileged in a temporary folder.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from testbed.servers import HOST, REPO

DEPLOY_CONF = REPO / "deploy" / "nginx.conf"
MODULES = Path("/usr/lib/nginx/modules")
BROTLI_STATIC = MODULES / "ngx_http_brotli_static_module.so"
MIME_TYPES = Path("/etc/nginx/mime.types")
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class RenderError(RuntimeError):
    """deploy/nginx.conf no longer has a value the renderer replaces."""


def brotli_available() -> bool:
    """Whether Debian's Brotli module for nginx (``libnginx-mod-http-brotli-static``) is installed."""
    return BROTLI_STATIC.exists()


def _swap(text: str, old: str, new: str) -> str:
    if old not in text:
        raise RenderError(f"deploy/nginx.conf no longer contains {old!r}: update testbed/nginx_conf.py")
    return text.replace(old, new)


def _cut_server(text: str, marker: str) -> str:
    """``text`` without the ``server { ... }`` block holding ``marker`` (blocks start at column 0)."""
    at = text.find(marker)
    if at < 0:
        raise RenderError(f"deploy/nginx.conf no longer contains {marker!r}: update testbed/nginx_conf.py")
    start = text.rfind("\nserver {\n", 0, at) + 1
    end = text.index("\n}\n", at) + len("\n}\n")
    return text[:start] + text[end:]


def _drop_lines_starting(text: str, prefix: str) -> str:
    kept = [line for line in text.splitlines(keepends=True) if not line.startswith(prefix)]
    if len(kept) == len(text.splitlines()):
        raise RenderError(
            f"deploy/nginx.conf no longer has lines starting {prefix!r}: update testbed/nginx_conf.py"
        )
    return "".join(kept)


def render_site(
    *,
    port: int,
    upstream_port: int,
    static_root: Path = REPO,
    publish: Path,
    includes: Path,
    cache: Path,
    logs: Path,
    brotli: bool,
) -> str:
    """The deployment's server configuration, listening on 127.0.0.1:``port``."""
    text = DEPLOY_CONF.read_text(encoding="utf-8")
    # Plain HTTP on one loopback port: no certificate exists here, and a
    # redirect to HTTPS would leave the tests nothing to talk to.
    text = _cut_server(text, "    return 301 https://$host$request_uri;\n")
    for line in (
        "    listen 443 ssl http2;\n",
        "    listen [::]:443 ssl http2;\n",
        "    listen 127.0.0.1:8080;\n",
    ):
        text = _swap(text, line, "")
    text = _drop_lines_starting(text, "    ssl_")
    text = _swap(
        text,
        "    server_name bulletin.example;\n",
        f"    listen {HOST}:{port};\n    server_name bulletin.example;\n",
    )
    text = _swap(text, "server 127.0.0.1:8000;", f"server {HOST}:{upstream_port};")
    text = _swap(text, "root /srv/bulletin/publish;", f"root {publish};")
    text = _swap(text, "include /srv/bulletin/instance/", f"include {includes}/")
    text = _swap(text, "root /srv/bulletin;", f"root {static_root};")
    text = _swap(text, "/var/cache/nginx-bulletin", str(cache))
    text = _swap(text, "/var/log/nginx/", f"{logs}/")
    if not brotli:
        text = _swap(text, "        brotli_static on;\n", "")  # every location that has it
    return text


def main_config(http_body: str, prefix: Path, *, brotli: bool, workers: int = 2) -> str:
    """A whole nginx.conf around ``http_body``, with every writable path under ``prefix``."""
    lines = []
    if brotli:
        lines.append(f"load_module {BROTLI_STATIC};")
    if os.geteuid() == 0:
        # Workers would otherwise run as nobody, who cannot read a private temp folder.
        lines.append(f"user {getpass.getuser()};")
    lines += [
        f"worker_processes {workers};",
        f"pid {prefix / 'nginx.pid'};",
        "events { worker_connections 1024; }",
        "http {",
        f"    include {MIME_TYPES};" if MIME_TYPES.exists() else "    types { text/html html; }",
        "    default_type application/octet-stream;",
        "    sendfile on;",
        "    tcp_nopush on;",
        *(f"    {name}_temp_path {prefix / 'temp' / name};" for name in TEMP_PATHS),
        http_body,
        "}",
    ]
    return "\n".join(lines) + "\n"


def write_config(prefix: Path, http_body: str, *, brotli: bool) -> Path:
    """Write ``nginx.conf`` under ``prefix`` (made with its temp folders); return its path."""
    for name in TEMP_PATHS:
        (prefix / "temp" / name).mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(main_config(http_body, prefix, brotli=brotli), encoding="utf-8")
    return path


def write_deploy_config(
    prefix: Path,
    *,
    port: int,
    upstream_port: int,
    publish: Path,
    includes: Path,
    brotli: bool | None = None,
) -> Path:
    """The deployment configuration, rendered for 127.0.0.1 under ``prefix``; returns its path.

    ``publish`` is the folder nginx serves first (BULLETIN_PUBLISH_DIR);
    ``includes`` the instance folder where ``prepare`` wrote the header includes.
    """
    brotli = brotli_available() if brotli is None else brotli
    for name in ("cache", "logs"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    site = render_site(
        port=port,
        upstream_port=upstream_port,
        publish=publish,
        includes=includes,
        cache=prefix / "cache",
        logs=prefix / "logs",
        brotli=brotli,
    )
    return write_config(prefix, site, brotli=brotli)
