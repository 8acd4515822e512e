"""Load: readers, imports and editors at once, then unique query strings, against the deployment.

    .venv/bin/python -m bench.load [--seconds 60] [--readers 200] [--statements 6000] [--files 1000]

Everything runs on 127.0.0.1: gunicorn with deploy/gunicorn.conf.py (2
workers) behind deploy/nginx.conf as testbed/nginx_conf.py renders it, on a
fresh site of ``--statements`` generated statements. Every client goes
through nginx. Three stages, one after the other in one run:

1. *mixed*, ``--seconds``: ``--readers`` readers (each one keep-alive
   connection reading ``/``, statement pages, ``/feed.atom`` and
   ``/api/sync?since=<recent cursor>``, a pause of up to ``--think`` seconds
   between requests, as a person or a device does), 2 ``flask import`` runs
   of ``--files`` new files each, and 2 editors saving corrections through
   the editor's form (log in, fetch the form, post it, expect a 302; at the
   end every statement's form shows the last correction);
2. *warm-up*, ``--warmup`` seconds of the readers alone, unmeasured (the
   imports leave thousands of pages never rendered and a long WAL behind,
   which is not what the quiet run measures);
3. ``--rounds`` rounds of three segments of ``--attack-seconds / --rounds``
   each, in an order rotated from round to round: *quiet* (the readers
   alone), *attack* (the readers, and ``--attackers`` clients sending unique
   query strings and unique valid values without pause:
   ``/sitemap.xml?x=``, ``/?utm_source=``, ``/?page=`` within the pages that
   exist, ``/api/sync?since=<valid cursor>&limit=1..200``) and *control*
   (the readers alone again). Each round compares its attack's and its
   control's p99 with its quiet p99; the figures are the medians of those
   ratios, the control's showing what the machine's noise alone does.

Every response is checked: status 200 (302 for a save), and a body of the
length announced and at least a minimum size. Every request has a 10 s
timeout (a timeout counts as 10 s in the percentiles); every phase and
every import is bounded. Any error, timeout,
failed save or failed import makes the run fail (exit 1). The gunicorn
workers' VmRSS is sampled from /proc twice a second.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import html
import json
import math
import os
import random
import re
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from testbed.nginx_conf import BROTLI_STATIC, write_deploy_config
from testbed.servers import BIN, HOST, REPO, ensure_debian_packages, free_port, start_gunicorn, start_nginx

from . import report
from .site import flask, scratch_folder, site_env
from .sync_efficiency import seed_shape, statement_text

TIMEOUT = 10.0
BATCH = 500
PAGE_SIZE = 20
EDITORS = 2
IMPORTERS = 2
EDITOR_PASSWORD = "a long walk along the load test"
IMPORT_DEADLINE = 900.0  # an import that has not ended by then counts as failed
PACKAGES = {"nginx": "nginx", str(BROTLI_STATIC): "libnginx-mod-http-brotli-static"}
# Below these a 200 is an empty or truncated answer, not the page.
MIN_BYTES = {"home": 1000, "statement": 1000, "feed": 1000, "sync": 30, "attack": 30}
RSS_EVERY = 0.5


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples`` (0 when there are none)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --- a small HTTP/1.1 client over asyncio streams ---------------------------


class HttpError(Exception):
    """A response that was not what the request should get."""


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes


class Connection:
    """One keep-alive connection to nginx, opened again after any failure."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict, body: bytes = b"") -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        parsed: dict = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                name = name.strip().lower()
                value = value.strip()
                parsed[name] = f"{parsed[name]}, {value}" if name in parsed else value
        if parsed.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunked()
        elif "content-length" in parsed:
            content = await self.reader.readexactly(int(parsed["content-length"]))
        elif status in (204, 304) or method == "HEAD":
            content = b""
        else:
            raise HttpError(f"{path}: {status} with neither Content-Length nor chunks")
        if parsed.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, parsed, content)

    async def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are expected
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- what the clients record -------------------------------------------------


@dataclass
class Tally:
    """Requests of one kind of client in one phase."""

    latencies: list[float] = field(default_factory=list)  # ms, successful requests
    errors: int = 0
    timeouts: int = 0
    examples: list[str] = field(default_factory=list)

    def fail(self, kind: str, text: str) -> None:
        if kind == "timeout":
            self.timeouts += 1
            # Counted in the percentiles at the timeout, a lower bound of its
            # latency: leaving it out would make the slowest runs look fastest.
            self.latencies.append(TIMEOUT * 1000)
        else:
            self.errors += 1
        if len(self.examples) < 5:
            self.examples.append(text[:300])

    def absorb(self, other: Tally) -> None:
        """Add ``other``'s requests to this tally (a phase's segments pooled)."""
        self.latencies += other.latencies
        self.errors += other.errors
        self.timeouts += other.timeouts
        self.examples += other.examples[: max(0, 5 - len(self.examples))]

    def summary(self) -> dict:
        return {
            "requests": len(self.latencies) + self.errors,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "p50_ms": percentile(self.latencies, 0.5),
            "p99_ms": percentile(self.latencies, 0.99),
            "examples": self.examples,
        }


async def checked_get(
    connection: Connection, path: str, kind: str, tally: Tally, headers: dict
) -> Answer | None:
    """GET ``path``; record its latency or why it failed (status, size, timeout, connection)."""
    start = time.perf_counter()
    try:
        answer = await asyncio.wait_for(connection.request("GET", path, headers), TIMEOUT)
    except TimeoutError:
        connection.close()
        tally.fail("timeout", f"{path}: no answer in {TIMEOUT} s")
        return None
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError, ValueError) as e:
        connection.close()
        tally.fail("error", f"{path}: {type(e).__name__}: {e}")
        return None
    if answer.status != 200 or len(answer.body) < MIN_BYTES[kind]:
        tally.fail("error", f"{path}: {answer.status}, {len(answer.body)} bytes: {answer.body[:120]!r}")
        return None
    tally.latencies.append((time.perf_counter() - start) * 1000)
    return answer


@dataclass
class Shared:
    """What all clients read: the site's addresses, the newest cursor seen, the clock."""

    port: int
    slugs: list[str]
    epoch: str  # the cursor's epoch part
    pages: int
    cursor: str
    latest_seq: int
    stop_at: float = 0.0


READER_MIX = ("home", "statement", "statement", "feed", "sync")


async def reader(shared: Shared, tally: Tally, think: float, rng: random.Random) -> None:
    connection = Connection(shared.port)
    try:
        while time.monotonic() < shared.stop_at:
            kind = rng.choice(READER_MIX)
            if kind == "home":
                path = "/"
            elif kind == "statement":
                path = "/statements/" + rng.choice(shared.slugs) + "/"
            elif kind == "feed":
                path = "/feed.atom"
            else:
                path = "/api/sync?since=" + urllib.parse.quote(shared.cursor)
            # gzip for sync, so its cursor can be read as a device reads it.
            encoding = "gzip" if kind == "sync" else "br, gzip"
            answer = await checked_get(connection, path, kind, tally, {"Accept-Encoding": encoding})
            if answer is not None and kind == "sync":
                _follow_cursor(shared, answer)
            await asyncio.sleep(rng.uniform(0, think))
    finally:
        connection.close()


def _follow_cursor(shared: Shared, answer: Answer) -> None:
    body = answer.body
    if answer.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    cursor = json.loads(body)["cursor"]
    seq = int(cursor.rsplit(".", 1)[1])
    if seq > shared.latest_seq:
        shared.cursor, shared.latest_seq = cursor, seq


async def attacker(shared: Shared, tally: Tally, rng: random.Random) -> None:
    """Unique query strings and unique valid values, without pause."""
    connection = Connection(shared.port)
    n = 0
    try:
        while time.monotonic() < shared.stop_at:
            n += 1
            unique = f"{rng.getrandbits(48):x}{n}"
            choice = n % 4
            if choice == 0:
                path = f"/sitemap.xml?x={unique}"
            elif choice == 1:
                path = f"/?utm_source={unique}"
            elif choice == 2:
                path = f"/?page={rng.randint(1, shared.pages)}"
            else:
                since = f"v1.{shared.epoch}.{rng.randint(0, shared.latest_seq)}"
                path = f"/api/sync?since={urllib.parse.quote(since)}&limit={rng.randint(1, 200)}"
            await checked_get(connection, path, "attack", tally, {"Accept-Encoding": "br, gzip"})
    finally:
        connection.close()


# --- editors -----------------------------------------------------------------


class _FormReader(HTMLParser):
    """The fields of the statement form, as a browser would submit them (no button)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: dict = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_form = (attrs.get("action") or "").startswith("/editor/statements/") and not (
                attrs.get("action") or ""
            ).endswith(("/withdraw", "/unschedule"))
        elif not self._in_form:
            return
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs.get("name")
            self.fields[self._textarea] = ""
        elif tag == "select":
            self._select = attrs.get("name")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(page: str) -> dict:
    parser = _FormReader()
    parser.feed(page)
    fields = parser.fields
    for name in ("summary", "body", "correction_note"):
        # The template starts each textarea's text on a new line, which browsers drop.
        if name in fields:
            fields[name] = fields[name].removeprefix("\n").replace("\r\n", "\n")
    return fields


@dataclass
class EditorTally:
    saves: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    last_text: dict = field(default_factory=dict)  # statement id -> correction last saved

    def fail(self, text: str) -> None:
        self.failed += 1
        if len(self.examples) < 5:
            self.examples.append(text[:300])


class EditorSession:
    """An editor's browser: a cookie jar of one cookie, the form's CSRF token."""

    def __init__(self, port: int, email: str):
        self.connection = Connection(port)
        self.email = email
        self.cookies: dict = {}

    def _headers(self, extra: dict | None = None) -> dict:
        headers = dict(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _keep_cookies(self, answer: Answer) -> None:
        for cookie in re.findall(r"(?:^|, )([^=;, ]+)=([^;]*)", answer.headers.get("set-cookie", "")):
            self.cookies[cookie[0]] = cookie[1]

    async def call(self, method: str, path: str, form: dict | None = None) -> Answer:
        body = urllib.parse.urlencode(form or {}).encode()
        extra = {"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else {}
        answer = await asyncio.wait_for(
            self.connection.request(method, path, self._headers(extra), body), TIMEOUT
        )
        self._keep_cookies(answer)
        return answer

    async def login(self) -> None:
        page = await self.call("GET", "/editor/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.body.decode()).group(1)
        answer = await self.call(
            "POST", "/editor/login", {"csrf_token": token, "email": self.email, "password": EDITOR_PASSWORD}
        )
        if answer.status != 302:
            raise HttpError(f"login of {self.email}: {answer.status} {answer.body[:200]!r}")


async def editor(shared: Shared, session: EditorSession, ids: list[str], tally: EditorTally, pause: float):
    """Correct the statements in ``ids`` one after the other until the phase ends."""
    await session.login()
    n = 0
    while time.monotonic() < shared.stop_at:
        statement_id = ids[n % len(ids)]
        n += 1
        correction = f"Correction {n} by {session.email} at {time.time():.3f}."
        start = time.perf_counter()
        try:
            page = await session.call("GET", f"/editor/statements/{statement_id}")
            if page.status != 200:
                raise HttpError(f"form: {page.status}")
            fields = form_fields(page.body.decode())
            fields["body"] = re.sub(r"\n\nCorrection \d+ by .*\Z", "", fields["body"]) + "\n\n" + correction
            fields["correction_note"] = correction
            fields["action"] = "save"
            answer = await session.call("POST", f"/editor/statements/{statement_id}", fields)
            if answer.status != 302:
                raise HttpError(f"save: {answer.status} {answer.body[:200]!r}")
            # The redirect's page must answer too: the save's end, as a browser sees it.
            after = await session.call("GET", urllib.parse.urlsplit(answer.headers["location"]).path)
            if after.status != 200:
                raise HttpError(f"after save: {after.status}")
        except (TimeoutError, OSError, asyncio.IncompleteReadError, HttpError, KeyError, ValueError) as e:
            session.connection.close()
            tally.fail(f"{statement_id}: {type(e).__name__}: {e}")
        else:
            tally.saves += 1
            tally.latencies.append((time.perf_counter() - start) * 1000)
            tally.last_text[statement_id] = correction
        await asyncio.sleep(pause)


async def check_saves_kept(session: EditorSession, tally: EditorTally) -> None:
    """Every statement's form shows the correction last saved to it: no save was lost."""
    for statement_id, correction in tally.last_text.items():
        page = await session.call("GET", f"/editor/statements/{statement_id}")
        if html.escape(correction, quote=False) not in page.body.decode():
            tally.fail(f"{statement_id}: the last saved correction is not in its form")


# --- importers and workers ---------------------------------------------------


async def run_import(env: dict, folder: Path) -> dict:
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        str(BIN / "flask"),
        "--app",
        "app",
        "import",
        str(folder),
        cwd=REPO,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), IMPORT_DEADLINE)
    except TimeoutError:
        process.kill()  # our own child, by its handle
        await process.wait()
        return {
            "folder": folder.name,
            "exit": None,
            "seconds": IMPORT_DEADLINE,
            "created": 0,
            "error": "timeout",
        }
    created = sum(1 for line in out.decode().splitlines() if line.startswith("created"))
    return {
        "folder": folder.name,
        "exit": process.returncode,
        "seconds": time.perf_counter() - start,
        "created": created,
        "error": err.decode()[-500:] if process.returncode else "",
    }


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children, its workers."""
    found = []
    for task in Path(f"/proc/{master}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(pid) for pid in children]
    return sorted(found)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


async def sample_rss(master: int, peaks: dict, until: asyncio.Event) -> None:
    """Peak VmRSS per worker pid, per phase (``peaks[phase][pid]``), until ``until`` is set."""
    while not until.is_set():
        phase = peaks["current"]
        for pid in worker_pids(master):
            peaks.setdefault(phase, {})[pid] = max(peaks.get(phase, {}).get(pid, 0.0), rss_mb(pid))
        try:
            await asyncio.wait_for(until.wait(), RSS_EVERY)
        except TimeoutError:
            pass


# --- the site ----------------------------------------------------------------


def build_site(folder: Path, args) -> tuple[dict, list[str], list[Path]]:
    """A prepared site of ``args.statements`` statements, its editors, and the import folders."""
    from bulletin.authoring import changes
    from bulletin.statements import db
    from bulletin.statements.db import transaction

    env = site_env(folder, BULLETIN_TRUSTED_PROXIES="1")
    flask(env, "prepare")
    vocabulary, lengths = seed_shape()
    connection = db.connect(env["BULLETIN_DATABASE"])
    ids = []
    start = time.perf_counter()
    day0 = dt.date(2026, 11, 27) - dt.timedelta(days=args.statements // 3 + 1)
    with transaction(connection):
        for first in range(0, args.statements, BATCH):
            with transaction(connection):  # a savepoint: a batch fails alone
                for n in range(first, min(first + BATCH, args.statements)):
                    title, body = statement_text(n, vocabulary, lengths)
                    draft = changes.Draft(
                        f"{title} {n}", body, "html", published=day0 + dt.timedelta(days=n // 3)
                    )
                    outcome = changes.create(connection, draft, changes.tool_context("bench"), publish=True)
                    ids.append(outcome.statement_id)
    connection.close()
    print(f"  {args.statements:,} statements in {time.perf_counter() - start:.1f} s", flush=True)
    for k in range(EDITORS):
        flask(env, "create-editor", f"editor{k}@example.org", stdin=EDITOR_PASSWORD + "\n")
    folders = []
    for k in range(IMPORTERS):
        files = folder / f"import-{k}"
        files.mkdir()
        for n in range(args.files):
            title, body = statement_text(100_000 * (k + 1) + n, vocabulary, lengths)
            paragraphs = [p for p in body.replace("<p>", "").split("</p>") if p.strip()]
            day = dt.date(2026, 1, 1) + dt.timedelta(days=n % 300)
            text = f"Imported {k}-{n}: {title}\n\n{day.isoformat()}\n\n" + "\n\n".join(paragraphs) + "\n"
            (files / f"{n:05d}.txt").write_text(text, encoding="utf-8")
        folders.append(files)
    # The editors correct statements of their own, so two saves never race for one revision.
    return env, ids[: EDITORS * 3], folders


def published_count(env: dict) -> int:
    from bulletin.statements import db

    connection = db.connect(env["BULLETIN_DATABASE"])
    try:
        return connection.execute("SELECT count(*) FROM statements WHERE status = 'published'").fetchone()[0]
    finally:
        connection.close()


# --- the run -----------------------------------------------------------------


async def phase(
    shared: Shared, name: str, seconds: float, args, peaks: dict, *, attack: bool = False, pooled=None
) -> dict:
    """Readers (and attackers) for ``seconds``; their tallies are also added to ``pooled`` when given."""
    peaks["current"] = name
    load_before = os.getloadavg()[0]
    shared.stop_at = time.monotonic() + seconds
    readers = Tally()
    attackers = Tally()
    tasks = [reader(shared, readers, args.think, random.Random(f"{name}-{i}")) for i in range(args.readers)]
    if attack:
        tasks += [attacker(shared, attackers, random.Random(f"attack-{i}")) for i in range(args.attackers)]
    started = time.perf_counter()
    await asyncio.gather(*tasks)
    result = {
        "seconds": time.perf_counter() - started,
        "readers": readers.summary(),
        "load": [load_before, os.getloadavg()[0]],
    }
    if attack:
        result["attackers"] = attackers.summary()
    if pooled is not None:
        pooled.add(name, result, readers, attackers if attack else None)
    return result


# The order of the three segments in each round, rotated so that none of
# them always comes first (after a warm-up) or always follows the attack.
ROUND_ORDERS = (
    ("quiet", "attack", "control"),
    ("attack", "control", "quiet"),
    ("control", "quiet", "attack"),
)


@dataclass
class Pooled:
    """Every round's segments of one kind, pooled: requests, seconds and load."""

    readers: dict = field(default_factory=dict)
    attackers: Tally = field(default_factory=Tally)
    seconds: dict = field(default_factory=dict)
    load: dict = field(default_factory=dict)

    def add(self, name: str, result: dict, readers: Tally, attackers: Tally | None) -> None:
        self.readers.setdefault(name, Tally()).absorb(readers)
        if attackers is not None:
            self.attackers.absorb(attackers)
        self.seconds[name] = self.seconds.get(name, 0.0) + result["seconds"]
        first, last = result["load"]
        self.load[name] = [self.load.get(name, [first])[0], last]

    def results(self, name: str) -> dict:
        result = {
            "seconds": self.seconds[name],
            "readers": self.readers[name].summary(),
            "load": self.load[name],
        }
        if name == "attack":
            result["attackers"] = self.attackers.summary()
        return result


async def rounds(shared: Shared, args, peaks: dict) -> dict:
    """``args.rounds`` rounds of quiet, attack and control segments in rotated order.

    Each segment lasts ``attack_seconds / rounds``. Within a round the three
    ran under the same machine conditions, so their p99s are compared there
    (attack / quiet, and control / quiet for the noise) and the medians of
    those per-round ratios are the figures; the pooled phases give the
    requests, errors and percentiles over the whole time.
    """
    segment = args.attack_seconds / args.rounds
    pooled = Pooled()
    per_round = []
    for number in range(args.rounds):
        order = ROUND_ORDERS[number % len(ROUND_ORDERS)]
        print(f"  round {number + 1}: {', '.join(order)}, {segment:g} s each", flush=True)
        segments = {}
        for name in order:
            segments[name] = await phase(
                shared, name, segment, args, peaks, attack=name == "attack", pooled=pooled
            )
        per_round.append({name: segments[name]["readers"]["p99_ms"] for name in order})
    results = {name: pooled.results(name) for name in ("quiet", "attack", "control")}
    results["rounds"] = per_round
    return results


async def mixed_phase(shared: Shared, env: dict, ids: list[str], folders: list[Path], args, peaks: dict):
    peaks["current"] = "mixed"
    load_before = os.getloadavg()[0]
    shared.stop_at = time.monotonic() + args.seconds
    readers = Tally()
    editor_tally = EditorTally()
    sessions = [EditorSession(shared.port, f"editor{k}@example.org") for k in range(EDITORS)]
    started = time.perf_counter()
    imports = [asyncio.create_task(run_import(env, folder)) for folder in folders]
    tasks = [reader(shared, readers, args.think, random.Random(f"mixed-{i}")) for i in range(args.readers)]
    tasks += [
        editor(shared, session, ids[k::EDITORS], editor_tally, args.editor_pause)
        for k, session in enumerate(sessions)
    ]
    await asyncio.gather(*tasks)
    reading_seconds = time.perf_counter() - started
    import_results = await asyncio.gather(*imports)
    await check_saves_kept(sessions[0], editor_tally)
    for session in sessions:
        session.connection.close()
    return {
        "seconds": reading_seconds,
        "readers": readers.summary(),
        "load": [load_before, os.getloadavg()[0]],
        "editors": {
            "saves": editor_tally.saves,
            "failed": editor_tally.failed,
            "p50_ms": percentile(editor_tally.latencies, 0.5),
            "p99_ms": percentile(editor_tally.latencies, 0.99),
            "examples": editor_tally.examples,
        },
        "imports": import_results,
    }


async def drive(gunicorn_pid: int, port: int, env: dict, ids, folders, args) -> dict:
    # The clients' starting point, read as a device would: a snapshot's cursor.
    first = Connection(port)
    snapshot = await first.request("GET", "/api/sync", {"Accept-Encoding": "gzip"})
    first.close()
    cursor = json.loads(
        gzip.decompress(snapshot.body) if snapshot.headers.get("content-encoding") else snapshot.body
    )["cursor"]
    _v, epoch, seq = cursor.split(".")
    slugs = _slugs(env)
    shared = Shared(port, slugs, epoch, max(1, args.statements // PAGE_SIZE), cursor, int(seq))
    peaks: dict = {"current": "mixed"}
    done = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(gunicorn_pid, peaks, done))
    results = {}
    try:
        print(f"  phase mixed: {args.seconds} s", flush=True)
        results["mixed"] = await mixed_phase(shared, env, ids, folders, args, peaks)
        shared.slugs = _slugs(env)  # the imported statements are read too from now on
        if args.warmup:
            print(f"  warm-up (not measured): {args.warmup} s", flush=True)
            results["warm-up"] = await phase(shared, "warm-up", args.warmup, args, peaks)
        results.update(await rounds(shared, args, peaks))
    finally:
        done.set()
        await sampler
    peaks.pop("current")
    results["rss_mb"] = {
        phase_name: {str(pid): mb for pid, mb in by_pid.items()} for phase_name, by_pid in peaks.items()
    }
    results["published_after"] = published_count(env)
    return results


def _slugs(env: dict) -> list[str]:
    from bulletin.statements import db

    connection = db.connect(env["BULLETIN_DATABASE"])
    try:
        rows = connection.execute("SELECT slug FROM statements WHERE status = 'published'").fetchall()
    finally:
        connection.close()
    return [urllib.parse.quote(row[0], safe="") for row in rows]


def measure(args) -> dict:
    ensure_debian_packages(PACKAGES)
    work = scratch_folder("bulletin-load-")
    print(f"site: {args.statements:,} statements, {IMPORTERS} x {args.files:,} files to import", flush=True)
    env, ids, folders = build_site(work / "site", args)
    servers = []
    try:
        app = start_gunicorn("app:app", env=env, log=work / "gunicorn.log", workers=2)
        servers.append(app)
        port = free_port()
        config = write_deploy_config(work / "nginx", port=port, upstream_port=app.port)
        servers.append(start_nginx(config, port, prefix=work / "nginx"))
        results = asyncio.run(drive(app.process.pid, port, env, ids, folders, args))
    finally:
        for server in reversed(servers):
            server.stop()
    results["statements"] = args.statements
    results["expected_published"] = args.statements + IMPORTERS * args.files
    return results


def failures(results: dict) -> list[str]:
    """Why the run failed; empty when it did not."""
    found = []
    for name in ("mixed", "warm-up", "quiet", "attack", "control"):
        for who in ("readers", "attackers"):
            tally = results.get(name, {}).get(who)
            if tally and (tally["errors"] or tally["timeouts"]):
                found.append(
                    f"{name} {who}: {tally['errors']} errors, {tally['timeouts']} timeouts: {tally['examples']}"
                )
    editors = results["mixed"]["editors"]
    if editors["failed"] or not editors["saves"]:
        found.append(f"editors: {editors['saves']} saves, {editors['failed']} failed: {editors['examples']}")
    for result in results["mixed"]["imports"]:
        if result["exit"] != 0:
            found.append(f"import {result['folder']}: exit {result['exit']}: {result['error']}")
    if results["published_after"] != results["expected_published"]:
        found.append(
            f"{results['published_after']} statements published, {results['expected_published']} expected"
        )
    return found


def ratios_of(round_p99: dict) -> tuple[float, float]:
    """One round's attack / quiet and control / quiet p99 ratios."""
    quiet = round_p99["quiet"]
    return report.ratio(round_p99["attack"], quiet), report.ratio(round_p99["control"], quiet)


def median_ratios(per_round: list[dict]) -> tuple[float, float]:
    """The medians, over the rounds, of attack / quiet and of control / quiet."""
    pairs = [ratios_of(r) for r in per_round]
    return report.median(a for a, _ in pairs), report.median(c for _, c in pairs)


def summarize(results: dict, args) -> str:
    rows = []
    for name in ("mixed", "quiet", "attack", "control"):
        r = results[name]["readers"]
        rows.append(
            [
                f"readers, {name}",
                r["requests"],
                r["requests"] / results[name]["seconds"],
                r["errors"],
                r["timeouts"],
                r["p50_ms"],
                r["p99_ms"],
                "{:.1f} → {:.1f}".format(*results[name]["load"]),
            ]
        )
    a = results["attack"]["attackers"]
    rows.append(
        [
            "attackers, attack",
            a["requests"],
            a["requests"] / results["attack"]["seconds"],
            a["errors"],
            a["timeouts"],
            a["p50_ms"],
            a["p99_ms"],
            "",
        ]
    )
    text = report.table(
        [
            "clients, phase",
            "requests",
            "req/s",
            "errors",
            "timeouts",
            "p50 ms",
            "p99 ms",
            "load avg start → end",
        ],
        rows,
    )
    e = results["mixed"]["editors"]
    text += "\n\n" + report.table(
        ["editors (mixed phase)", "saves done", "saves failed", "p50 ms (form + save + redirect)", "p99 ms"],
        [[f"{EDITORS} editors", e["saves"], e["failed"], e["p50_ms"], e["p99_ms"]]],
    )
    text += "\n\n" + report.table(
        ["import (mixed phase)", "files", "exit status", "created", "seconds"],
        [
            [i["folder"], args.files, i["exit"], i["created"], i["seconds"]]
            for i in results["mixed"]["imports"]
        ],
    )
    text += "\n\n" + report.table(
        ["round", "quiet p99 ms", "attack p99 ms", "control p99 ms", "attack / quiet", "control / quiet"],
        [
            [n + 1, r["quiet"], r["attack"], r["control"], *ratios_of(r)]
            for n, r in enumerate(results["rounds"])
        ],
    )
    attack_ratio, noise_ratio = median_ratios(results["rounds"])
    text += "\n\n" + report.table(
        ["readers' p99, median of the rounds' ratios", "ratio", "goal"],
        [
            ["attack vs quiet", attack_ratio, "≤ 2"],
            ["control (quiet again) vs quiet: the noise", noise_ratio, ""],
        ],
    )
    rss_rows = []
    for name, by_pid in results["rss_mb"].items():
        for pid, mb in sorted(by_pid.items()):
            rss_rows.append([name, pid, mb])
    text += "\n\n" + report.table(["phase", "gunicorn worker pid", "peak VmRSS MB (goal < 200)"], rss_rows)
    text += (
        f"\n\n{results['published_after']:,} statements published at the end"
        f" ({results['expected_published']:,} expected)"
    )
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="the mixed phase (default 60)")
    parser.add_argument(
        "--attack-seconds",
        type=float,
        default=None,
        help="the quiet, attack and control phases each, split over the rounds (default: --seconds)",
    )
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--statements", type=int, default=6000)
    parser.add_argument("--files", type=int, default=1000, help="files per import (2 imports)")
    parser.add_argument("--attackers", type=int, default=4)
    parser.add_argument(
        "--rounds", type=int, default=4, help="rounds of quiet, attack and control (rotated order); default 4"
    )
    parser.add_argument("--warmup", type=float, default=15, help="unmeasured reading before the quiet phase")
    parser.add_argument("--think", type=float, default=1.0, help="a reader's pause, uniform in 0..THINK s")
    parser.add_argument("--editor-pause", type=float, default=1.0, help="seconds between an editor's saves")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.attack_seconds is None:
        args.attack_seconds = args.seconds
    print(f"machine: {report.machine()}", flush=True)
    results = measure(args)
    text = summarize(results, args)
    print(text)
    report.save("load", {"args": vars(args) | {"json": None}, "results": results, "table": text})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    problems = failures(results)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
