"""Small helpers every benchmark shares: medians, ratios, tables, result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

from testbed.servers import REPO

RESULTS = REPO / "bench" / "results"


def median(values) -> float:
    """The median of the values (NaN for none)."""
    values = list(values)
    return statistics.median(values) if values else float("nan")


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is zero."""
    return numerator / denominator if denominator else float("nan")


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table (numbers formatted), ready to paste into BENCHMARKS.md."""

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.2f}" if abs(value) < 100 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line naming the machine the numbers come from."""
    load = os.getloadavg()[0]
    return (
        f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {load:.1f}"
    )


def save(name: str, data: dict) -> Path:
    """Write the raw results as JSON under bench/results/ (ignored by git); return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, default=str), encoding="utf-8")
    return path
