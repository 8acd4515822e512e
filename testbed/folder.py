"""A publish folder written by fetching the public site from a running app, for the deploy tests.

The folder has the shape the publisher writes (a page at ``/a/b/`` is
``a/b/index.html``, a file keeps its name, every text file has ``.br``
and ``.gz`` siblings) and holds the app's own bytes for each address, so
nginx serving it can be compared with the app answering the same address.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from testbed.servers import fetch

ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def file_for(url: str) -> str:
    """The folder's path for a public address: a page is its folder's index.html."""
    path = url.split("?", 1)[0].lstrip("/")
    if not path or path.endswith("/"):
        return path + "index.html"
    if "." not in posixpath.basename(path):
        return path + "/index.html"  # a page still at its slashless address
    return path


def folder_url(url: str) -> str:
    """The address nginx serves the file for ``url`` at (a page's ends in ``/``)."""
    name = file_for(url)
    return "/" + name.removesuffix("index.html") if name.endswith("index.html") else "/" + name


def write_folder(port: int, urls: list[str], folder: Path) -> dict[str, str]:
    """Fetch each of ``urls`` from the app on ``port`` into ``folder``; {address in the folder: the app's}.

    Each file is written with its siblings in the encodings the app
    offers for it, the bytes the app sent in each.
    """
    served = {}
    for url in urls:
        plain = fetch(port, url)
        if plain.status != 200:
            raise AssertionError(f"the app answered {plain.status} for {url}")
        target = folder / file_for(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for encoding, suffix in ENCODINGS:
            reply = fetch(port, url, {"Accept-Encoding": encoding})
            if reply.header("content-encoding") == encoding:
                target.with_name(target.name + suffix).write_bytes(reply.body)
        target.write_bytes(plain.body)
        served[folder_url(url)] = url
    return served


def remove(folder: Path, url: str) -> None:
    """Remove the file for ``url`` and its siblings, as the publisher does at a withdrawal."""
    target = folder / file_for(url)
    for suffix in ("", *(suffix for _, suffix in ENCODINGS)):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
