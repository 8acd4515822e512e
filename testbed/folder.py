"""Where the publisher puts an address's file, and the address nginx serves that file at.

For the deploy tests: nginx serving a file of the folder is compared with
the app answering the same address.
"""

from __future__ import annotations

from bulletin.publishing import folder


def file_for(url: str) -> str:
    """The folder's path for a public address, as the publisher maps it: a page is its folder's index.html."""
    return folder.file_for(url)


def folder_url(url: str) -> str:
    """The address nginx serves the file for ``url`` at (a page's ends in ``/``)."""
    name = file_for(url)
    return "/" + name.removesuffix("index.html") if name.endswith("index.html") else "/" + name
