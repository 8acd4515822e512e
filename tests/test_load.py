"""The load run of bench/load.py, short: readers, imports and editors at once never fail.

Only failures are asserted (errors, timeouts, failed saves or imports);
speed is measured by the benchmark itself, not here. Select it with
``-m load``; it needs Debian's nginx, as the deployment test does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from testbed.servers import REPO

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(
        shutil.which("nginx") is None, reason="nginx is not installed: apt-get install nginx (.ci/run does)"
    ),
]

SHORT_RUN = [
    "--seconds", "15", "--attack-seconds", "4", "--rounds", "2", "--warmup", "2",
    "--readers", "50", "--statements", "600", "--files", "100",
]  # fmt: skip


def test_a_short_load_run_has_no_error_timeout_or_failed_write(tmp_path):
    results_file = tmp_path / "load.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.load", *SHORT_RUN, "--json", str(results_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert results_file.exists(), run.stdout + run.stderr
    results = json.loads(results_file.read_text(encoding="utf-8"))
    for phase in ("mixed", "warm-up", "quiet", "attack", "control"):
        for clients in ("readers", "attackers"):
            tally = results.get(phase, {}).get(clients)
            if tally:
                assert tally["requests"] > 0, (phase, clients)
                assert (tally["errors"], tally["timeouts"]) == (0, 0), (phase, clients, tally["examples"])
    editors = results["mixed"]["editors"]
    assert editors["saves"] > 0 and editors["failed"] == 0, editors["examples"]
    for imported in results["mixed"]["imports"]:
        assert imported["exit"] == 0, imported
        assert imported["created"] == 100, imported
    assert results["published_after"] == results["expected_published"]
    assert run.returncode == 0, run.stderr[-3000:]
