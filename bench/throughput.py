"""Throughput with wrk: Bulletin under gunicorn against nginx and WhiteNoise serving the same bytes.

    .venv/bin/python -m bench.throughput [--duration 5] [--repetitions 3] [--only folder]

One run starts, all on 127.0.0.1: Bulletin under gunicorn (deploy settings,
2 workers) with the seed and sample statements; WhiteNoise alone under the
same gunicorn settings; and one nginx with two servers, the documented
micro-cache in front of that Bulletin, and a static server. The app's exact
response bytes (identity, Brotli, gzip) are written to a temporary docroot
for the static servers, which add the app's own headers too, so all three
send the same thing. Each wrk run is bounded (``-d`` seconds, ``-c`` 16
connections, ``-t`` 2 threads) and sends ``Accept-Encoding: br, gzip``.
Runs that are compared run back to back, in an order that rotates each
repetition, and each ratio is the median of per-repetition ratios. The
micro-cache is compared with nginx static twice: as the deployment serves
/static/ (``open_file_cache``) and with nginx's defaults, which open the
file on every request as a cache hit does.

The publish folder: the deployment's nginx serving the site's files
(deploy/nginx.conf with the include ``prepare`` wrote: ``try_files``, the
pre-compressed siblings, the headers mapped by kind of file) against a
plain nginx server of the same bytes and headers (one ``location =`` per
file), with a control (that plain server on both sides), for the statement
page, the home page and a sync chunk (where the app serves sync files).
``--only folder`` runs these alone.

Every run checks every response: wrk's Lua hook counts answers whose
status or body size is not what one request before the run received, and
a run with any is refused.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import posixpath
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bulletin.http.nginx_headers import PER_RESPONSE
from testbed import folder as publish_folder
from testbed.nginx_conf import BROTLI_STATIC, brotli_available, render_site, write_config
from testbed.servers import HOST, ensure_debian_packages, fetch, free_port, start_gunicorn, start_nginx

from . import report
from .site import flask, make_site, scratch_folder
from .static_app import HEADERS_FILE

ACCEPT = {"Accept-Encoding": "br, gzip"}
# A static server sends every header of the response it stands in for but
# these, which belong to one response or one server.
NOT_COPIED = PER_RESPONSE | {"x-cache-status", "keep-alive"}
PACKAGES = {"nginx": "nginx", "wrk": "wrk", str(BROTLI_STATIC): "libnginx-mod-http-brotli-static"}


@dataclass(frozen=True)
class Target:
    """One response measured: its URL on Bulletin and the file holding its bytes."""

    name: str
    url: str
    file: str  # URL path on the static servers
    content_type: str


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


# Counts, in every wrk thread, answers whose status or body size is not the
# expected one (given after `--`); the main thread adds them up at the end.
CHECK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  expected_status = tonumber(args[1]); expected_size = tonumber(args[2]); unexpected = 0
end
function response(status, headers, body)
  if status ~= expected_status or #body ~= expected_size then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("unexpected") end
  io.write(string.format("UNEXPECTED %d\\n", total))
end
"""


def _latency_ms(output: str, percentile: int) -> float:
    found = re.search(rf"\b{percentile}%\s+([\d.]+)(us|ms|s)\b", output)
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def run_wrk(url: str, args, headers: dict, expected: tuple[int, int]) -> WrkResult:
    """One bounded wrk run; every response's status and size checked against ``expected``."""
    script = Path(args.work) / "check.lua"
    script.write_text(CHECK_SCRIPT, encoding="utf-8")
    argv = [
        "wrk",
        f"-d{args.duration}s",
        f"-c{args.connections}",
        f"-t{args.threads}",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*argv, url, "--", str(expected[0]), str(expected[1])],
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
        check=False,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    # Non-2xx answers are counted by the script too (their status is not the expected one).
    errors = sum(int(n) for n in re.findall(r"(?:timeout|UNEXPECTED)\s*(\d+)", output))
    return WrkResult(rate, _latency_ms(output, 50), _latency_ms(output, 99), errors)


def _docroot_file(docroot: Path, target: Target, port: int) -> dict:
    """Write the bytes ``port`` serves for ``target`` in every encoding; return the headers to copy."""
    path = docroot / target.file.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    for encoding, suffix in (("identity", ""), ("br", ".br"), ("gzip", ".gz")):
        reply = fetch(port, target.url, {"Accept-Encoding": encoding} if encoding != "identity" else {})
        assert reply.status == 200, (target.url, reply.status)
        if reply.header("content-encoding", "identity") == encoding:
            Path(str(path) + suffix).write_bytes(reply.body)
    return {name: value for name, value in reply.headers.items() if name not in NOT_COPIED}


def _static_server(
    port: int,
    docroot: Path,
    targets: list[Target],
    headers: dict,
    logs: Path,
    brotli: bool,
    *,
    open_file_cache: bool = True,
) -> str:
    """An nginx server block serving ``docroot`` like the deployment serves /static/."""
    lines = [
        "server {",
        f"    listen {HOST}:{port};",
        f"    root {docroot};",
        f"    access_log {logs}/static.access.log bulletin_private buffer=64k flush=5s;",
        "    server_tokens off;",
        "    gzip_static on;",
        "    brotli_static on;" if brotli else "",
        "    gzip_vary on;",
        "    open_file_cache max=1000 inactive=60s;" if open_file_cache else "",
    ]
    for target in targets:
        lines.append(f"    location = {target.file} {{")
        lines.append(f'        types {{ }} default_type "{target.content_type}";')
        for name, value in headers[target.file].items():
            lines.append(f'        add_header {name} "{value}" always;')
        lines.append("    }")
    lines.append("}")
    return "\n".join(line for line in lines if line)


def _sync_chunk(publish: Path) -> list[str]:
    """The address of a sync chunk (else the snapshot) the folder's sync index names; none without sync files."""
    index_file = publish / "sync" / "index.json"
    if not index_file.is_file():
        return []
    index = json.loads(index_file.read_text(encoding="utf-8"))
    if isinstance(index.get("payload"), str):  # a signed index carries it as its payload
        index = json.loads(index["payload"])
    named = [*(index.get("chunks") or []), index.get("snapshot") or {}]
    return [posixpath.join("/sync/", entry["path"]) for entry in named if entry.get("path")][:1]


def _deploy_server(prefix: Path, port: int, upstream: int, publish: Path, site, brotli: bool) -> str:
    """deploy/nginx.conf for 127.0.0.1, serving ``publish`` first (with ``prepare``'s include)."""
    for name in ("cache", "logs"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    return render_site(
        port=port,
        upstream_port=upstream,
        publish=publish,
        includes=site.folder,
        cache=prefix / "cache",
        logs=prefix / "logs",
        brotli=brotli,
    )


def _folder_targets(bulletin, site) -> tuple[Path, list[Target]]:
    """The site published by ``publish --all``; the statement page, home page and a sync chunk in it."""
    publish = Path(site.env["BULLETIN_PUBLISH_DIR"])
    flask(site.env, "publish", "--all")
    addresses = [publish_folder.folder_url(site.seed_url), "/", *_sync_chunk(publish)]
    names = ["statement page", "home page", "sync chunk"]
    targets = []
    for address, name in zip(addresses, names, strict=False):
        assert (publish / publish_folder.file_for(address)).is_file(), address
        suffix = posixpath.splitext(publish_folder.file_for(address))[1]
        targets.append(Target(name, address, f"/{name.replace(' ', '-')}{suffix}", ""))
    return publish, targets


def measure(args) -> dict:
    """Start everything, run the alternating repetitions, return raw results and ratios."""
    ensure_debian_packages(PACKAGES)  # the Brotli module too: the same bytes need brotli_static
    brotli = brotli_available()
    work = scratch_folder("bulletin-throughput-")
    args.work = str(work)
    site = make_site(work / "site", BULLETIN_PUBLISH_DIR=str(work / "publish"))
    servers = []
    try:
        bulletin = start_gunicorn("app:app", env=site.env, log=work / "bulletin.log")
        servers.append(bulletin)
        ports = {name: free_port() for name in ("proxy", "static", "plain", "folder", "folder-plain")}
        # The publish folder, behind the deployment's configuration, and the
        # same bytes and headers from a plain static server in the same nginx.
        publish, folder_targets = _folder_targets(bulletin, site)
        folder_conf = _deploy_server(
            work / "nginx-folder", ports["folder"], bulletin.port, publish, site, brotli
        )
        started = start_nginx(
            write_config(work / "nginx-folder", folder_conf, brotli=brotli),
            ports["folder"],
            prefix=work / "nginx-folder",
        )
        folder_docroot = work / "folder-docroot"
        folder_headers = {t.file: _docroot_file(folder_docroot, t, ports["folder"]) for t in folder_targets}
        folder_targets = [
            dataclasses.replace(t, content_type=fetch(ports["folder"], t.url).header("content-type"))
            for t in folder_targets
        ]
        started.stop()
        folder_conf += "\n" + _static_server(
            ports["folder-plain"],
            folder_docroot,
            folder_targets,
            folder_headers,
            work / "nginx-folder" / "logs",
            brotli,
            open_file_cache=False,  # as the folder's locations: a removed file is gone at once
        )
        config = write_config(work / "nginx-folder", folder_conf, brotli=brotli)
        servers.append(start_nginx(config, ports["folder"], prefix=work / "nginx-folder"))
        if args.only == "folder":
            return _repetitions(args, bulletin, None, ports, [], folder_targets)

        js = re.search(r'<script src="([^"]+)"', fetch(bulletin.port, site.seed_url).body.decode()).group(1)
        targets = [
            Target("statement page", site.seed_url, "/statement.html", "text/html; charset=utf-8"),
            Target("home page", "/", "/home.html", "text/html; charset=utf-8"),
            Target("/api/sync", "/api/sync", "/sync.json", "application/json"),
            Target("static asset (page script)", js, "/page.js", "text/javascript; charset=utf-8"),
        ]
        docroot = work / "docroot"
        headers = {t.file: _docroot_file(docroot, t, bulletin.port) for t in targets}
        (docroot / HEADERS_FILE).write_text(json.dumps(headers), encoding="utf-8")
        whitenoise = start_gunicorn(
            "bench.static_app:app", env={"BENCH_DOCROOT": str(docroot)}, log=work / "whitenoise.log"
        )
        servers.append(whitenoise)
        prefix = work / "nginx"
        # The micro-cache row: an empty publish folder, so every request reaches the app's cache.
        (work / "empty").mkdir()
        site_conf = _deploy_server(prefix, ports["proxy"], bulletin.port, work / "empty", site, brotli)
        static_conf = _static_server(ports["static"], docroot, targets, headers, prefix / "logs", brotli)
        # nginx's defaults: every request opens its file, as a cache hit does.
        plain_conf = _static_server(
            ports["plain"], docroot, targets, headers, prefix / "logs", brotli, open_file_cache=False
        )
        config = write_config(prefix, "\n".join([site_conf, static_conf, plain_conf]), brotli=brotli)
        servers.append(start_nginx(config, ports["proxy"], prefix=prefix))
        return _repetitions(args, bulletin, whitenoise, ports, targets, folder_targets)
    finally:
        for server in reversed(servers):
            server.stop()


def _expected(port: int, path: str, headers: dict, status: int, encoding: str | None) -> tuple[int, int]:
    """One request first: the status (and encoding) it must have; its status and body size for wrk's check."""
    reply = fetch(port, path, headers)
    assert reply.status == status, (port, path, reply.status)
    if encoding:
        assert reply.header("content-encoding") == encoding, (port, path, reply.header("content-encoding"))
    return reply.status, len(reply.body)


FOLDER = "nginx folder"
FOLDER_PLAIN = "nginx plain static"
CONTROL = "nginx plain static (control)"


def _groups(bulletin, whitenoise, ports: dict, targets, folder_targets) -> list[list[tuple]]:
    """The runs, in groups of those compared with each other."""
    # One group per response; the runs compared with each other sit in one
    # group, so they run within seconds of each other (neighbours on a
    # shared machine come and go), and their order rotates each repetition.
    groups = []
    for target in targets:
        groups.append(
            [
                (target.name, "bulletin", bulletin.port, target.url, ACCEPT),
                (target.name, "nginx static", ports["static"], target.file, ACCEPT),
                (target.name, "whitenoise", whitenoise.port, target.file, ACCEPT),
            ]
        )
    if targets:
        statement = targets[0]
        etag = fetch(bulletin.port, statement.url, ACCEPT).header("etag")
        groups[0] += [
            ("statement 304", "bulletin", bulletin.port, statement.url, {**ACCEPT, "If-None-Match": etag}),
            (statement.name, "nginx micro-cache", ports["proxy"], statement.url, ACCEPT),
            (statement.name, "nginx static, no open_file_cache", ports["plain"], statement.file, ACCEPT),
        ]
    for target in folder_targets:
        label = f"folder: {target.name}"
        groups.append(
            [
                (label, FOLDER, ports["folder"], target.url, ACCEPT),
                (label, FOLDER_PLAIN, ports["folder-plain"], target.file, ACCEPT),
                # The same server and file again: how far two identical runs differ.
                (label, CONTROL, ports["folder-plain"], target.file, ACCEPT),
            ]
        )
    return groups


def _repetitions(args, bulletin, whitenoise, ports: dict, targets, folder_targets) -> dict:
    groups = _groups(bulletin, whitenoise, ports, targets, folder_targets)
    results: dict = {}
    for repetition in range(args.repetitions):
        for group in groups:
            shift = repetition % len(group)
            for label, server, port, path, headers in group[shift:] + group[:shift]:
                conditional = "If-None-Match" in headers
                expected = _expected(
                    port, path, headers, 304 if conditional else 200, None if conditional else "br"
                )
                result = run_wrk(f"http://{HOST}:{port}{path}", args, headers, expected)
                if result.errors:
                    raise SystemExit(
                        f"{label} from {server}: {result.errors} answers not {expected} or timed out"
                    )
                results.setdefault((label, server), []).append(result)
                print(
                    f"  rep {repetition + 1} {label:<28} {server:<34}"
                    f" {result.requests_per_second:>9,.0f} req/s  p50 {result.p50_ms:6.2f} ms"
                    f"  p99 {result.p99_ms:6.1f} ms",
                    flush=True,
                )
    return {
        "results": results,
        "targets": targets,
        "folder_targets": folder_targets,
        "repetitions": args.repetitions,
    }


def _folder_table(measured: dict) -> tuple[str, dict]:
    results = measured["results"]

    def runs(label, server, field):
        return [getattr(r, field) for r in results[(label, server)]]

    def median_ratio(a, b):
        return report.median(report.ratio(x, y) for x, y in zip(a, b, strict=False))

    rows, ratios = [], {}
    for target in measured["folder_targets"]:
        label = f"folder: {target.name}"
        folder, plain, control = (
            runs(label, server, "requests_per_second") for server in (FOLDER, FOLDER_PLAIN, CONTROL)
        )
        ratios[label] = {
            "folder/plain": median_ratio(folder, plain),
            "control/plain": median_ratio(control, plain),
        }
        rows.append(
            [
                target.name,
                report.median(folder),
                report.median(runs(label, FOLDER, "p50_ms")),
                report.median(runs(label, FOLDER, "p99_ms")),
                report.median(plain),
                report.median(runs(label, FOLDER_PLAIN, "p50_ms")),
                report.median(runs(label, FOLDER_PLAIN, "p99_ms")),
                ratios[label]["folder/plain"],
                ratios[label]["control/plain"],
            ]
        )
    text = report.table(
        [
            "file",
            "nginx folder req/s",
            "p50 ms",
            "p99 ms",
            "nginx plain static req/s",
            "p50 ms",
            "p99 ms",
            "folder / plain",
            "control: plain / plain",
        ],
        rows,
    )
    return text, ratios


def summarize(measured: dict) -> tuple[str, dict]:
    """The printed tables and the ratios (medians of per-repetition ratios)."""
    results, n = measured["results"], measured["repetitions"]
    text, ratios = _folder_table(measured)
    if measured["targets"]:
        app_text, app_ratios = _app_tables(results, measured["targets"])
        text, ratios = app_text + "\n\n" + text, {**app_ratios, **ratios}
    text += f"\n\nmedians of {n} repetitions; ratios are medians of per-repetition ratios"
    return text, ratios


def _app_tables(results: dict, targets) -> tuple[str, dict]:
    def rates(label, server):
        return [r.requests_per_second for r in results[(label, server)]]

    def median_ratio(a, b):
        return report.median(report.ratio(x, y) for x, y in zip(a, b, strict=False))

    rows, ratios = [], {}
    for target in targets:
        b, s, w = (rates(target.name, server) for server in ("bulletin", "nginx static", "whitenoise"))
        ratios[target.name] = {
            "bulletin/whitenoise": median_ratio(b, w),
            "bulletin/nginx": median_ratio(b, s),
        }
        rows.append(
            [
                target.name,
                report.median(b),
                report.median(s),
                report.median(w),
                ratios[target.name]["bulletin/whitenoise"],
                ratios[target.name]["bulletin/nginx"],
            ]
        )
    first = targets[0].name
    not_modified = median_ratio(rates("statement 304", "bulletin"), rates(first, "bulletin"))
    micro = median_ratio(rates(first, "nginx micro-cache"), rates(first, "nginx static"))
    plain = "nginx static, no open_file_cache"
    micro_plain = median_ratio(rates(first, "nginx micro-cache"), rates(first, plain))
    ratios["304/200"] = not_modified
    ratios["micro-cache/nginx static"] = micro
    ratios["micro-cache/nginx static without open_file_cache"] = micro_plain
    text = report.table(
        [
            "response",
            "Bulletin req/s",
            "nginx static req/s",
            "WhiteNoise req/s",
            "Bulletin / WhiteNoise",
            "Bulletin / nginx",
        ],
        rows,
    )
    text += "\n\n" + report.table(
        ["comparison", "req/s", "against req/s", "ratio"],
        [
            [
                "statement 304 vs 200 (Bulletin)",
                report.median(rates("statement 304", "bulletin")),
                report.median(rates(first, "bulletin")),
                not_modified,
            ],
            [
                "statement via nginx micro-cache vs nginx static",
                report.median(rates(first, "nginx micro-cache")),
                report.median(rates(first, "nginx static")),
                micro,
            ],
            [
                "statement via nginx micro-cache vs nginx static without open_file_cache",
                report.median(rates(first, "nginx micro-cache")),
                report.median(rates(first, plain)),
                micro_plain,
            ],
        ],
    )
    return text, ratios


def main() -> None:
    """Run the benchmark and print its tables (also saved under bench/results/)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--only", choices=("folder",), help="only the publish folder's comparison")
    args = parser.parse_args()
    print(f"machine: {report.machine()}")
    measured = measure(args)
    text, ratios = summarize(measured)
    print(text)
    raw = {
        f"{label} | {server}": [vars(r) for r in runs]
        for (label, server), runs in measured["results"].items()
    }
    print("saved", report.save("throughput", {"args": vars(args), "ratios": ratios, "runs": raw}))


if __name__ == "__main__":
    main()
