"""Throughput with wrk: Bulletin under gunicorn against nginx and WhiteNoise serving the same bytes.

    .venv/bin/python -m bench.throughput [--duration 5] [--repetitions 3]

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
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bulletin.http.caching import SECURITY_HEADER_NAMES
from testbed.nginx_conf import BROTLI_STATIC, brotli_available, render_site, write_config
from testbed.servers import HOST, ensure_debian_packages, fetch, free_port, start_gunicorn, start_nginx

from . import report
from .site import make_site, scratch_folder
from .static_app import HEADERS_FILE

ACCEPT = {"Accept-Encoding": "br, gzip"}
# The app's headers a static server must send too for the same response.
COPIED_HEADERS = ("cache-control", *(name.lower() for name in SECURITY_HEADER_NAMES))
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
    p99_ms: float
    errors: int


def run_wrk(url: str, args, headers: dict) -> WrkResult:
    """One bounded wrk run; refuses results with errors or unexpected statuses."""
    argv = [
        "wrk",
        f"-d{args.duration}s",
        f"-c{args.connections}",
        f"-t{args.threads}",
        "--latency",
        "--timeout",
        "5s",
    ]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        argv + [url], capture_output=True, text=True, timeout=args.duration + 60, check=False
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout)\s*:?\s*(\d+)", output))
    return WrkResult(rate, float(p99.group(1)) * scale, errors)


def _docroot_file(docroot: Path, target: Target, app_port: int) -> dict:
    """Write the app's bytes for ``target`` in every encoding; return the headers to copy."""
    path = docroot / target.file.lstrip("/")
    for encoding, suffix in (("identity", ""), ("br", ".br"), ("gzip", ".gz")):
        reply = fetch(app_port, target.url, {"Accept-Encoding": encoding} if encoding != "identity" else {})
        assert reply.status == 200, (target.url, reply.status)
        if reply.header("content-encoding", "identity") == encoding:
            Path(str(path) + suffix).write_bytes(reply.body)
    return {name: reply.header(name) for name in COPIED_HEADERS if reply.header(name)}


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


def measure(args) -> dict:
    """Start everything, run the alternating repetitions, return raw results and ratios."""
    ensure_debian_packages(PACKAGES)  # the Brotli module too: the same bytes need brotli_static
    brotli = brotli_available()
    work = scratch_folder("bulletin-throughput-")
    site = make_site(work / "site")
    servers = []
    try:
        bulletin = start_gunicorn("app:app", env=site.env, log=work / "bulletin.log")
        servers.append(bulletin)
        js = re.search(r'<script src="([^"]+)"', fetch(bulletin.port, site.seed_url).body.decode()).group(1)
        targets = [
            Target("statement page", site.seed_url, "/statement.html", "text/html; charset=utf-8"),
            Target("home page", "/", "/home.html", "text/html; charset=utf-8"),
            Target("/api/sync", "/api/sync", "/sync.json", "application/json"),
            Target("static asset (page script)", js, "/page.js", "text/javascript; charset=utf-8"),
        ]
        docroot = work / "docroot"
        docroot.mkdir()
        headers = {t.file: _docroot_file(docroot, t, bulletin.port) for t in targets}
        (docroot / HEADERS_FILE).write_text(json.dumps(headers), encoding="utf-8")
        whitenoise = start_gunicorn(
            "bench.static_app:app", env={"BENCH_DOCROOT": str(docroot)}, log=work / "whitenoise.log"
        )
        servers.append(whitenoise)
        ports = {"proxy": free_port(), "static": free_port(), "plain": free_port()}
        prefix = work / "nginx"
        for name in ("cache", "logs"):
            (prefix / name).mkdir(parents=True)
        site_conf = render_site(
            port=ports["proxy"],
            upstream_port=bulletin.port,
            cache=prefix / "cache",
            logs=prefix / "logs",
            brotli=brotli,
        )
        static_conf = _static_server(ports["static"], docroot, targets, headers, prefix / "logs", brotli)
        # nginx's defaults: every request opens its file, as a cache hit does.
        plain_conf = _static_server(
            ports["plain"], docroot, targets, headers, prefix / "logs", brotli, open_file_cache=False
        )
        config = write_config(prefix, "\n".join([site_conf, static_conf, plain_conf]), brotli=brotli)
        nginx = start_nginx(config, ports["proxy"], prefix=prefix)
        servers.append(nginx)
        return _repetitions(args, bulletin, whitenoise, ports, targets)
    finally:
        for server in reversed(servers):
            server.stop()


def _check(port: int, path: str, headers: dict, status: int, encoding: str | None) -> None:
    reply = fetch(port, path, headers)
    assert reply.status == status, (port, path, reply.status)
    if encoding:
        assert reply.header("content-encoding") == encoding, (port, path, reply.header("content-encoding"))


def _repetitions(args, bulletin, whitenoise, ports: dict, targets) -> dict:
    etag = fetch(bulletin.port, targets[0].url, ACCEPT).header("etag")
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
    statement = targets[0]
    groups[0] += [
        ("statement 304", "bulletin", bulletin.port, statement.url, {**ACCEPT, "If-None-Match": etag}),
        (statement.name, "nginx micro-cache", ports["proxy"], statement.url, ACCEPT),
        (statement.name, "nginx static, no open_file_cache", ports["plain"], statement.file, ACCEPT),
    ]
    results: dict = {}
    for repetition in range(args.repetitions):
        for group in groups:
            shift = repetition % len(group)
            for label, server, port, path, headers in group[shift:] + group[:shift]:
                conditional = "If-None-Match" in headers
                _check(port, path, headers, 304 if conditional else 200, None if conditional else "br")
                result = run_wrk(f"http://{HOST}:{port}{path}", args, headers)
                results.setdefault((label, server), []).append(result)
                print(
                    f"  rep {repetition + 1} {label:<28} {server:<34}"
                    f" {result.requests_per_second:>9,.0f} req/s  p99 {result.p99_ms:6.1f} ms",
                    flush=True,
                )
    return {"results": results, "targets": targets, "repetitions": args.repetitions}


def summarize(measured: dict) -> tuple[str, dict]:
    """The printed tables and the ratios (medians of per-repetition ratios)."""
    results, n = measured["results"], measured["repetitions"]

    def rates(label, server):
        return [r.requests_per_second for r in results[(label, server)]]

    def median_ratio(a, b):
        return report.median(report.ratio(x, y) for x, y in zip(a, b, strict=False))

    rows, ratios = [], {}
    for target in measured["targets"]:
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
    first = measured["targets"][0].name
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
    text += f"\n\nmedians of {n} repetitions; ratios are medians of per-repetition ratios"
    return text, ratios


def main() -> None:
    """Run the benchmark and print its tables (also saved under bench/results/)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=3)
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
