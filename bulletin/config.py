"""Settings: read from ``BULLETIN_*`` environment variables, validated once.

Every setting has an embedded default so that ``make run`` works on a fresh
machine with nothing configured. A malformed value stops start-up with a
message naming the variable; it is never silently replaced by the default.
The README's settings table documents each one; keep the two in step.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# The repository: templates, static files and the service worker's sources live here.
ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """A setting is malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class Setting:
    """One ``BULLETIN_*`` variable: its Flask config key, default and parser."""

    env: str
    key: str
    default: object
    parse: Callable[[str], object]


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        # Re-raised as the setting's own message, which names the variable.
        raise ValueError("must be an IANA time zone such as UTC or Asia/Almaty") from e
    return value


def _language(value: str) -> str:
    lang = value.strip().lower()
    if not (2 <= len(lang) <= 3 and lang.isascii() and lang.isalpha()):
        raise ValueError("must be a two- or three-letter language code such as en")
    return lang


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL such as https://bulletin.example")
    return value.strip().rstrip("/")


def _nginx_address(value: str) -> str:
    # Renewals go to nginx on this machine over plain HTTP (deploy/nginx.conf
    # honours them from 127.0.0.1 and ::1 only), so a path or https is a mistake.
    parts = urlsplit(value.strip())
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ValueError("must be nginx's address on this machine, such as http://127.0.0.1:80")
    return f"http://{parts.netloc}"


# Loopback only: plain-HTTP mirrors exist for tests on this machine; a reader's device never reaches one.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
_URL_PATH = re.compile(r"^[A-Za-z0-9._~!$&'()*+;=:@%/-]*$")


def mirror_url(value: str) -> str:
    """One mirror's base URL, normalized as ``scheme://host[:port]/path/``; ValueError saying what is wrong."""
    try:
        parts = urlsplit(value)
        port = parts.port  # a malformed port raises here
    except ValueError as e:
        raise ValueError(f"{value!r} is not a URL ({e})") from e
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{value!r} must be an https:// base URL such as https://mirror.example/news/")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError(
            f"{value!r}: a mirror is https:// (http:// only for 127.0.0.1 and localhost, for tests)"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{value!r}: the list is public, so a mirror's URL carries no user name or password")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError(f"{value!r}: a base URL has no query or fragment")
    if not host.isascii() or not _URL_PATH.match(parts.path):
        raise ValueError(f"{value!r}: write the address in its ASCII form (punycode host, %-escaped path)")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if "//" in path or any(segment in (".", "..") for segment in path.split("/")):
        raise ValueError(f"{value!r} has an odd path")
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}{'' if port is None else f':{port}'}{path}"


def _mirrors(value: str) -> tuple[str, ...]:
    """Comma-separated mirror base URLs, each normalized, in the operator's order, each once."""
    found = [mirror_url(item.strip()) for item in value.split(",") if item.strip()]
    return tuple(dict.fromkeys(found))


def _whole_number(minimum: int, why: str = "") -> Callable[[str], int]:
    """A parser of whole numbers of at least ``minimum``; ``why`` explains the bound."""

    def parse(value: str) -> int:
        number = int(value)
        if number < minimum:
            raise ValueError(f"must be a whole number of at least {minimum}{why}")
        return number

    return parse


_positive_int = _whole_number(1)
_non_negative_int = _whole_number(0)
# Argon2 needs 8 KiB per lane and Bulletin hashes with 4 lanes.
_argon2_memory = _whole_number(32, " (KiB); the default 65536 is 64 MiB")
_body_limit = _whole_number(16 * 1024, " bytes; the default is 1048576 (1 MiB)")


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 < number <= 60:
        raise ValueError("must be a number of seconds between 0 and 60")
    return number


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be 1/0, true/false, yes/no or on/off")


def _lines(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.split("\n") if line.strip())


SETTINGS = (
    Setting("BULLETIN_DATABASE", "DATABASE", None, _text),
    Setting("BULLETIN_SECRET_KEY", "SECRET_KEY", None, _text),
    Setting("BULLETIN_SITE_NAME", "SITE_NAME", "Bulletin", _text),
    Setting("BULLETIN_BASE_URL", "BASE_URL", None, _base_url),
    # The about page: the operator's own text (a Markdown file, read at start-up) and how to reach them.
    Setting("BULLETIN_ABOUT_FILE", "ABOUT_FILE", None, _text),
    Setting("BULLETIN_CONTACT", "CONTACT", None, _text),
    Setting("BULLETIN_TIMEZONE", "TIMEZONE", "UTC", _timezone),
    Setting("BULLETIN_DEFAULT_LANG", "DEFAULT_LANG", "en", _language),
    Setting("BULLETIN_PAGE_SIZE", "PAGE_SIZE", 20, _positive_int),
    Setting("BULLETIN_SYNC_LIMIT", "SYNC_LIMIT", 50, _positive_int),
    Setting("BULLETIN_SYNC_MAX_LIMIT", "SYNC_MAX_LIMIT", 200, _positive_int),
    Setting("BULLETIN_HTML_MAX_AGE", "HTML_MAX_AGE", 60, _non_negative_int),
    Setting("BULLETIN_STALE_IF_ERROR", "STALE_IF_ERROR", 86400, _non_negative_int),
    Setting("BULLETIN_IMPORT_DROP_LINES", "IMPORT_DROP_LINES", (), _lines),
    # A statement file is a few kilobytes; 2 MiB leaves room for a long one with inline
    # markup, and refuses a stray dump or log before it is read and parsed whole.
    Setting("BULLETIN_IMPORT_MAX_BYTES", "IMPORT_MAX_BYTES", 2 * 1024 * 1024, _positive_int),
    Setting("BULLETIN_OFFLINE_KEEP", "OFFLINE_KEEP", 50, _positive_int),
    # Under a second: on a stalled link the saved copy must show within one (the page then says it is a saved copy).
    Setting("BULLETIN_NETWORK_TIMEOUT", "NETWORK_TIMEOUT", 0.6, _seconds),
    # A sync runs in the background: on a slow link (2G, a satellite hop) an answer can take many
    # seconds and still come. The bound is for a source that stopped answering, not for a slow one.
    Setting("BULLETIN_SYNC_TIMEOUT", "SYNC_TIMEOUT", 30.0, _seconds),
    # How long a request waits for another writer's lock before it says the site is busy (503).
    Setting("BULLETIN_BUSY_TIMEOUT", "BUSY_TIMEOUT", 5.0, _seconds),
    Setting("BULLETIN_SW_KILL_SWITCH", "SW_KILL_SWITCH", False, _flag),
    # Off by default: it binds every subdomain to HTTPS for a year, which only the domain's owner can promise.
    Setting("BULLETIN_HSTS_INCLUDE_SUBDOMAINS", "HSTS_INCLUDE_SUBDOMAINS", False, _flag),
    # Off by default: without an nginx of deploy/nginx.conf in front there is nothing to renew.
    Setting("BULLETIN_NGINX_REFRESH_URL", "NGINX_REFRESH_URL", None, _nginx_address),
    # The folder nginx serves the public site from (a link to its current build); unset: no files.
    Setting("BULLETIN_PUBLISH_DIR", "PUBLISH_DIR", None, _text),
    # The editor: sessions, login limits, password hashing, form size.
    Setting("BULLETIN_TRUSTED_PROXIES", "TRUSTED_PROXIES", 0, _non_negative_int),
    Setting("BULLETIN_SESSION_IDLE_MINUTES", "SESSION_IDLE_MINUTES", 30, _positive_int),
    Setting("BULLETIN_SESSION_MAX_HOURS", "SESSION_MAX_HOURS", 12, _positive_int),
    Setting("BULLETIN_LOGIN_FREE_ATTEMPTS", "LOGIN_FREE_ATTEMPTS", 5, _positive_int),
    Setting("BULLETIN_LOGIN_MAX_DELAY", "LOGIN_MAX_DELAY", 900, _positive_int),
    Setting("BULLETIN_ARGON2_TIME_COST", "ARGON2_TIME_COST", 3, _positive_int),
    Setting("BULLETIN_ARGON2_MEMORY_KIB", "ARGON2_MEMORY_KIB", 65536, _argon2_memory),
    Setting("BULLETIN_MAX_BODY", "MAX_BODY", 1024 * 1024, _body_limit),
    # Off by default so an upgrade locks nobody out; an operator turns it on once publishers have enrolled.
    Setting("BULLETIN_REQUIRE_2FA", "REQUIRE_2FA", False, _flag),
    # The online signing key kept in a file of the operator's choosing (else made in instance/ by keys certify).
    Setting("BULLETIN_SIGNING_KEY", "SIGNING_KEY", None, _text),
    # Copies of the site (made with `export`) that devices try when the origin is blocked; signed at /mirrors.json.
    Setting("BULLETIN_MIRRORS", "MIRRORS", (), _mirrors),
)


def defaults() -> dict:
    """The embedded default of every setting, keyed by Flask config key."""
    return {setting.key: setting.default for setting in SETTINGS}


def from_environment(environ: os._Environ | dict | None = None) -> dict:
    """Parse the ``BULLETIN_*`` variables that are set; raise ConfigError on a bad one."""
    environ = os.environ if environ is None else environ
    values = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None:
            continue
        try:
            values[setting.key] = setting.parse(raw)
        except ValueError as e:
            # Start-up stops with the variable named; a default in its place would hide the mistake.
            raise ConfigError(f"{setting.env}={raw!r}: {e}") from e
    return values


def ensure_secret_key(instance_path: str | Path) -> str:
    """Return the secret key kept in ``instance/secret_key``, creating it once.

    Written with O_EXCL so that two processes starting at once cannot both
    write a different key; the loser reads the winner's.
    """
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Made by an earlier start or by a process starting beside this one: every process uses that key.
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as file:
        key = secrets.token_urlsafe(48)
        file.write(key + "\n")
    # Sessions and signed cookies last only as long as this file: an operator should know it now exists.
    log.info("created a new secret key in %s (keep it across deploys, or editors must log in again)", path)
    return key
