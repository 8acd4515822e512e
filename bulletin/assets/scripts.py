"""JavaScript as readers download it: minified, local names shortened.

rjsmin only strips spaces and comments; tdewolff's minifier also renames
what is local to a function and rewrites what it safely can, which makes
the page script and the worker about 12 % smaller after gzip. The names a
script shares between its files (top-level ones: ``Bulletin``,
``OfflineStore``, ``SETTINGS``) are never renamed.
"""

from __future__ import annotations

import minify
from webassets.filter import Filter, register_filter


def minified(source: str) -> str:
    """``source`` minified: the same behaviour in fewer bytes."""
    return minify.string("application/javascript", source)


class MinifiedScript(Filter):
    """webassets output filter: the bundle's concatenated scripts through :func:`minified`."""

    name = "bulletin-js"

    def output(self, _in, out, **kwargs):
        out.write(minified(_in.read()))


register_filter(MinifiedScript)
FILTER = MinifiedScript.name
