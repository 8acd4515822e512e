"""gunicorn settings for Bulletin (see README, "Deployment")."""

import os
import time

# Threads let one worker keep serving while another request waits on a
# slow 2G reader; SQLite in WAL mode allows the concurrent reads.
worker_class = "gthread"
threads = 4
# Readers on slow links keep connections open; nginx in front buffers them,
# so gunicorn's own keep-alive can stay short.
keepalive = 5
timeout = 30
graceful_timeout = 20
# Start-up work (migrations, asset builds) is done by `flask prepare` before
# gunicorn starts, so workers can be forked from a fully loaded app.
preload_app = True
accesslog = "-"
# No client address and no query string: who read what, or searched for what,
# is nobody's business (as in deploy/nginx.conf).
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# The app logs to stderr too (create_app), so one stream holds both.
errorlog = "-"
# gunicorn's control socket has one default path per user, so every gunicorn
# on the host (a second site, a benchmark, the tests) would take it over from
# the others; Bulletin does not use gunicornc.
control_socket_disable = True


def _without_server_header() -> None:
    """Drop gunicorn's ``Server: gunicorn`` line from every response.

    It tells a scanner which server and so which flaws to try, and gunicorn
    (27) has no setting to leave it out; nginx in front sends its own,
    versionless (``server_tokens off``). Workers are forked from this
    process, so they inherit the change.
    """
    from gunicorn.http import wsgi

    original = wsgi.Response.default_headers

    def default_headers(self):
        return [line for line in original(self) if not line.lower().startswith("server:")]

    wsgi.Response.default_headers = default_headers


_without_server_header()


def _fewer_malloc_arenas(limit: int = 2) -> None:
    """Let each worker's threads share at most ``limit`` glibc malloc arenas.

    glibc gives threads that allocate at the same moment arenas of their
    own, up to eight per core, and each arena keeps the memory it once
    held. Four threads compressing and rendering large answers at once then
    leave a worker 50 to 70 MB larger for good (bench/load.py measured 247
    MB against 150 to 193 MB with two arenas). Set here, in the master before
    it forks, because the setting only counts before threads exist; an
    operator's own MALLOC_ARENA_MAX wins. Other C libraries: nothing to do.
    """
    import ctypes
    import ctypes.util

    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return
    m_arena_max = -8  # from glibc's malloc.h
    mallopt(m_arena_max, limit)


_fewer_malloc_arenas()


def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


_trim = _malloc_trim()
TRIM_EVERY = 2.0  # seconds
_trimmed = {}


def post_request(worker, req, environ, resp) -> None:
    """Every few seconds, hand the memory freed since back to the system.

    A burst of large answers (a sitemap, long sync pages) frees memory that
    glibc keeps for later; the caches are bounded, but a worker's size then
    stayed at its highest (bench/load.py: 208 MB, against 150 to 190 MB
    trimmed). One ``malloc_trim`` every two seconds per worker costs about
    a millisecond.
    """
    now = time.monotonic()
    if _trim is not None and now - _trimmed.get(worker.pid, 0.0) >= TRIM_EVERY:
        _trimmed[worker.pid] = now
        _trim(0)


def when_ready(server) -> None:
    """Say at start-up, in the log, when the database cannot be written.

    The site still starts: readers are served from the database read-only
    while every write answers 503, which is better than no site at all; but
    the operator learns it now, not from an editor's failed save.
    """
    from bulletin.http.database import writability_problem

    app = server.app.wsgi()
    problem = writability_problem(app.config["DATABASE"])
    if problem:
        server.log.error("Bulletin: %s", problem)
