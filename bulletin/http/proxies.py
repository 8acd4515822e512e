"""Which client a request comes from, behind ``BULLETIN_TRUSTED_PROXIES`` reverse proxies.

Behind the documented reverse proxy every request reaches gunicorn from
127.0.0.1, so limits per client address would be one global limit. With the
hop count set, the address the nearest trusted proxy saw is believed
(counted from the right of ``X-Forwarded-For``, which a client cannot
forge), and so is its ``X-Forwarded-Proto``. With the default 0 the headers
are ignored, since without a proxy anyone could write them.
"""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix


def behind_proxies(application, hops: int):
    """``application`` believing ``X-Forwarded-For``/``-Proto`` from exactly ``hops`` proxies (0: none)."""
    return ProxyFix(application, x_for=hops, x_proto=hops) if hops else application
