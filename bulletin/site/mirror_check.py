"""``flask --app app check-mirror URL``: does a mirror serve the site's signed index, and is it current?

A mirror is a copy of an export that its operator keeps current by any
means (rsync, an object store's sync, a CDN). Devices take from it only
what verifies and pass over one frozen in the past; this command tells the
operator before readers find out. It fetches ``URL``'s ``sync/index.json``
as a device's worker would (one request, another origin, the device's
timeout), checks that other origins may read it, verifies it with the
site's own keys (its keyring, never keys the mirror serves), and compares
its ``signed_at`` with that of the index the site serves now.

Exit status: 0 when the mirror is current; 1 with a message when it cannot
be fetched, other origins may not read it, its index does not verify, or it
was signed more than an hour before the site's own; 2 for a usage error.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

import brotli
import click
from flask import current_app
from flask.cli import with_appcontext

from bulletin.config import mirror_url
from bulletin.signing import keyring, times
from bulletin.signing.verifier import INDEX_TYPE, Verifier
from bulletin.site import signatures

INDEX = "sync/index.json"
MAX_LAG = dt.timedelta(hours=1)
MAX_BYTES = 4 * 1024 * 1024  # an index is a few kilobytes; anything this large is not one


class MirrorProblem(Exception):
    """Why a mirror fails the check (or cannot be checked); the message says what to look at."""


@dataclass(frozen=True)
class Fetched:
    """A mirror's answer: its body (decoded) and headers."""

    body: bytes
    headers: Message


def fetch(url: str, timeout: float, origin: str) -> Fetched:
    """GET ``url`` as another origin's worker would, all of it within ``timeout`` seconds; MirrorProblem otherwise."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        url,
        headers={
            "Accept": "application/json",
            "Accept-Encoding": "identity",
            # Some object stores send CORS headers only to a request that names its origin.
            "Origin": origin,
            "User-Agent": "Bulletin check-mirror",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            chunks, size = [], 0
            while chunk := response.read(64 * 1024):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise MirrorProblem(f"{url} is larger than a sync index can be ({MAX_BYTES} bytes)")
                if time.monotonic() > deadline:
                    raise TimeoutError("timed out")
                chunks.append(chunk)
            headers = response.headers
    except urllib.error.HTTPError as e:
        e.close()  # it holds the connection
        raise MirrorProblem(f"{url} answered {e.code} {e.reason}") from e
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise MirrorProblem(f"{url} cannot be fetched within {timeout:g} s: {reason}") from e
    return Fetched(_decoded(b"".join(chunks), headers.get("Content-Encoding", ""), url), headers)


def _decoded(body: bytes, encoding: str, url: str) -> bytes:
    # Asked for none, but a store may keep the file compressed and say so.
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "br":
            return brotli.decompress(body)
    except (OSError, brotli.error) as e:
        raise MirrorProblem(f"{url}: its {encoding} body cannot be decompressed") from e
    return body


def site_verifier() -> Verifier:
    """A device's verifier pinned to the site's own root, with its certificates and revocations."""
    try:
        ring = keyring.load(signatures.keys_folder())
    except keyring.KeyringError as e:
        raise MirrorProblem(f"the site's keyring cannot be read: {e}") from e
    if ring.root is None:
        raise MirrorProblem(
            "the site has no keys to verify a mirror with (keys init-root, then keys certify)"
        )
    verifier = Verifier(ring.root)
    published = keyring.published(ring)
    for entry in published["keys"]:
        verifier.add_certificate(entry["certificate"])
    for revocation in published["revocations"]:
        verifier.add_revocation(revocation)
    return verifier


def origin_index(verifier: Verifier) -> dict:
    """The payload of the index the site serves now, verified as a device would."""
    base_url = current_app.config.get("BASE_URL") or "http://localhost"
    response = current_app.test_client(use_cookies=False).get("/" + INDEX, base_url=base_url)
    body = response.get_data()
    response.close()
    if response.status_code != 200:
        raise MirrorProblem(
            f"the site serves no sync index ({response.status_code}): with no online key that may sign "
            "(keys show) there is nothing to compare a mirror with"
        )
    try:
        document = verifier.verify(json.loads(body), (INDEX_TYPE,))
        _signed_at(document)
    except ValueError as e:  # not JSON, Rejected, or no signed_at: not the contract's index
        raise MirrorProblem(f"the site's own sync index does not verify with its keys ({e})") from e
    return document


def _signed_at(document: dict) -> dt.datetime:
    return times.parse(document.get("signed_at"))


def check(url: str, timeout: float) -> str:
    """The line saying ``url`` (a mirror's base URL) is current; MirrorProblem saying why it is not."""
    verifier = site_verifier()
    origin = origin_index(verifier)
    # A device that verified the site's index trusts its time: a key expired by then does not count.
    verifier.observe(_signed_at(origin))
    index_url = urljoin(url, INDEX)
    base_url = current_app.config.get("BASE_URL")
    own_origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url)) if base_url else "null"
    fetched = fetch(index_url, timeout, own_origin)
    if fetched.headers.get("Access-Control-Allow-Origin") not in ("*", own_origin):
        raise MirrorProblem(
            f"{index_url} is sent without Access-Control-Allow-Origin: *, so installed apps of other "
            "origins cannot read it: configure the host to send it (see the export's _headers)"
        )
    try:
        mirror = verifier.accept_index(json.loads(fetched.body))
    except ValueError as e:  # Rejected is a ValueError too: both say the bytes are not the site's index
        raise MirrorProblem(f"{index_url} is not the site's signed index ({e})") from e
    lag = _signed_at(origin) - _signed_at(mirror)
    position = f"epoch {mirror['epoch']}, seq {mirror['seq']}, signed at {mirror['signed_at']}"
    theirs = (
        f"the site's: epoch {origin.get('epoch')}, seq {origin.get('seq')}, signed at {origin['signed_at']}"
    )
    if lag > MAX_LAG:
        hours = lag.total_seconds() / 3600
        raise MirrorProblem(
            f"{url} is {hours:.1f} hours behind ({position}; {theirs}): devices pass it over. "
            "Is its sync (rsync --delete, the store's sync) still running?"
        )
    return f"{url} is current ({position}; {theirs})"


@click.command("check-mirror")
@click.argument("url")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, max=60, min_open=True),
    default=None,
    help="Seconds for the whole answer (default: BULLETIN_NETWORK_TIMEOUT, as a device waits).",
)
@with_appcontext
def check_mirror_command(url, timeout):
    """Check that the mirror at URL serves this site's signed sync index, no more than an hour behind.

    Exit status: 0 current; 1 with a message (cannot be fetched, not readable by other origins, does
    not verify with this site's keys, or more than an hour behind); 2 usage.
    """
    try:
        url = mirror_url(url.strip())
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="URL") from e
    seconds = timeout if timeout is not None else current_app.config["NETWORK_TIMEOUT"]
    try:
        click.echo(check(url, seconds))
    except MirrorProblem as e:
        click.echo(f"check-mirror: {e}", err=True)
        sys.exit(1)
