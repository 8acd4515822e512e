"""Files fetched from a running app into a publish folder, as the publisher lays them out.

For the deploy tests and the benchmark: the files an export holds beside
the live folder's (the worker, the manifests, the offline pages, the
icons) are written this way, with ``.br`` and ``.gz`` siblings where the
app offers them, the app's own bytes in each, so nginx serving them can be
compared with the app answering the same address.
"""

from __future__ import annotations

from pathlib import Path

from bulletin.publishing import folder
from testbed.servers import fetch

ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def file_for(url: str) -> str:
    """The folder's path for a public address, as the publisher maps it: a page is its folder's index.html."""
    return folder.file_for(url)


def folder_url(url: str) -> str:
    """The address nginx serves the file for ``url`` at (a page's ends in ``/``)."""
    name = file_for(url)
    return "/" + name.removesuffix("index.html") if name.endswith("index.html") else "/" + name


def write_folder(port: int, urls: list[str], into: Path) -> dict[str, str]:
    """Fetch each of ``urls`` from the app on ``port`` into the folder ``into``; {address there: the app's}.

    Each file is written with its siblings in the encodings the app
    offers for it, the bytes the app sent in each.
    """
    served = {}
    for url in urls:
        plain = fetch(port, url)
        if plain.status != 200:
            raise AssertionError(f"the app answered {plain.status} for {url}")
        target = into / file_for(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for encoding, suffix in ENCODINGS:
            reply = fetch(port, url, {"Accept-Encoding": encoding})
            if reply.header("content-encoding") == encoding:
                target.with_name(target.name + suffix).write_bytes(reply.body)
        target.write_bytes(plain.body)
        served[folder_url(url)] = url
    return served
