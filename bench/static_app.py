"""WhiteNoise alone serving a folder of files: the baseline for Python serving bytes.

``gunicorn bench.static_app:app`` with ``BENCH_DOCROOT`` set serves that
folder at the root, pre-compressed ``.br``/``.gz`` files included, and adds
the headers recorded in ``headers.json`` (URL -> headers), so each response
carries what Bulletin's own response for the same bytes carries.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from whitenoise import WhiteNoise

HEADERS_FILE = "headers.json"


def _not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


def create(docroot: Path) -> WhiteNoise:
    """A WhiteNoise app serving ``docroot``, with each URL's recorded headers."""
    extra = json.loads((docroot / HEADERS_FILE).read_text()) if (docroot / HEADERS_FILE).exists() else {}

    def add_headers(headers, _path, url):
        for name, value in extra.get(url, {}).items():
            headers[name] = value

    return WhiteNoise(_not_found, root=str(docroot), add_headers_function=add_headers, max_age=60)


app = create(Path(os.environ["BENCH_DOCROOT"])) if "BENCH_DOCROOT" in os.environ else None
