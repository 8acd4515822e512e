"""Lighthouse 12.2.3 scores for the home and statement pages of a local Bulletin.

    .venv/bin/python -m bench.lighthouse [--runs 1]

Bulletin runs under gunicorn on 127.0.0.1 with the seed and sample
statements; Lighthouse (installed into ``bench/.node`` on first use, with
Node from Debian when the machine has none) audits each page with its
defaults — a mobile device on a simulated slow 4G link with 4x CPU slowdown —
in the machine's Chromium (``CHROME_PATH``, default /usr/bin/chromium).
Prints the four category scores (performance, accessibility, best
practices, SEO) and the main metrics, medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

from testbed.chromium import LAUNCH_ARGS
from testbed.servers import REPO, ensure_debian_packages, start_gunicorn

from . import report
from .site import make_site, scratch_folder

VERSION = "12.2.3"
PREFIX = REPO / "bench" / ".node"
CLI = PREFIX / "node_modules" / ".bin" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = " ".join(("--headless=new", *LAUNCH_ARGS))  # the browser tests' flags
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = (
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
    "speed-index",
    "total-byte-weight",
)
RUN_TIMEOUT = 180


def ensure_lighthouse() -> Path:
    """The Lighthouse CLI of exactly VERSION, installed under bench/.node when missing."""
    ensure_debian_packages({"node": "nodejs", "npm": "npm"})
    package = PREFIX / "node_modules" / "lighthouse" / "package.json"
    if not (CLI.exists() and json.loads(package.read_text())["version"] == VERSION):
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PREFIX), f"lighthouse@{VERSION}"],
            check=True,
            timeout=600,
        )
    return CLI


def audit(url: str, out: Path) -> dict:
    """One Lighthouse run of ``url``: category scores (0-100) and metric values."""
    env = {**os.environ, "CHROME_PATH": CHROME}
    argv = [
        str(CLI),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--only-categories={','.join(CATEGORIES)}",
    ]
    for attempt in (1, 2):
        done = subprocess.run(argv, env=env, timeout=RUN_TIMEOUT, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            break
        print(f"  Lighthouse failed (attempt {attempt}): {done.stderr.strip()[-800:]}", flush=True)
    else:
        raise RuntimeError(f"Lighthouse failed twice on {url}")
    result = json.loads(out.read_text(encoding="utf-8"))
    scores = {name: round(result["categories"][name]["score"] * 100) for name in CATEGORIES}
    metrics = {name: result["audits"][name]["numericValue"] for name in METRICS}
    failed = [
        audit_id
        for name in CATEGORIES
        for ref in result["categories"][name]["auditRefs"]
        if ref["weight"] and (audit_id := ref["id"]) and (result["audits"][audit_id]["score"] or 0) < 1
    ]
    return {"scores": scores, "metrics": metrics, "not_full_marks": failed}


def main() -> None:
    """Audit both pages, print the scores, save the raw numbers under bench/results/."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page (default 1)")
    args = parser.parse_args()
    if not Path(CHROME).exists():
        raise SystemExit(f"no Chromium at {CHROME}: apt-get install chromium, or set CHROME_PATH")
    ensure_lighthouse()
    print(f"machine: {report.machine()}; Lighthouse {VERSION}, node {_node_version()}")
    work = scratch_folder("bulletin-lighthouse-")
    site = make_site(work / "site")
    results: dict = {}
    with start_gunicorn("app:app", env=site.env, log=work / "gunicorn.log") as server:
        for name, path in (("home page", "/"), ("statement page", site.seed_url)):
            for run in range(args.runs):
                results.setdefault(name, []).append(
                    audit(server.url(path), work / f"{len(results)}-{run}.json")
                )
                print(f"  {name} run {run + 1}: {results[name][-1]['scores']}", flush=True)
    rows = []
    for name, runs in results.items():
        scores = [report.median(run["scores"][c] for run in runs) for c in CATEGORIES]
        metrics = {m: report.median(run["metrics"][m] for run in runs) for m in METRICS}
        rows.append(
            [
                name,
                *scores,
                metrics["first-contentful-paint"],
                metrics["largest-contentful-paint"],
                metrics["total-blocking-time"],
                metrics["cumulative-layout-shift"],
                metrics["total-byte-weight"],
            ]
        )
    print(report.table(["page", *CATEGORIES, "FCP ms", "LCP ms", "TBT ms", "CLS", "bytes"], rows))
    for name, runs in results.items():
        if runs[-1]["not_full_marks"]:
            print(f"{name}: audits short of full marks: {', '.join(runs[-1]['not_full_marks'])}")
    print("saved", report.save("lighthouse", {"runs": results}))


def _node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    main()
