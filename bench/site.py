"""A throwaway Bulletin site for the benchmarks: its own database, seed and samples.

The site lives in a temporary folder and is configured by ``BULLETIN_*``
variables only, so a benchmark never touches the developer's ``instance/``.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bulletin.authoring import changes
from testbed.servers import BIN, REPO

SAMPLES = REPO / "samples"
# The real statement the figures in BENCHMARKS.md were measured on, where a
# checkout has it beside it; else the tests' fictional one of the same shape.
SHARED_SEEDS = REPO.parent / "shared" / "seeds"
OWN_STATEMENT = REPO / "tests" / "data" / "statements" / "port-meridian-dockers.txt"


def seed_file() -> Path:
    """The statement file the benchmarks import as "the seed" (see SHARED_SEEDS)."""
    seeds = sorted(SHARED_SEEDS.glob("*.txt"))
    return seeds[0] if seeds else OWN_STATEMENT


def scratch_folder(prefix: str) -> Path:
    """A temporary folder for one benchmark run, deleted when the run's process exits.

    A scale run leaves a gigabyte of database behind otherwise.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@dataclass(frozen=True)
class Site:
    """A prepared Bulletin instance: the environment that selects it, and its seed page."""

    folder: Path
    env: dict
    seed_url: str  # the seed statement's page, e.g. /statements/si-condemns-.../

    @property
    def database(self) -> Path:
        return Path(self.env["BULLETIN_DATABASE"])


def site_env(folder: Path, **extra: str) -> dict:
    """The ``BULLETIN_*`` variables of a site kept in ``folder``."""
    return {
        "BULLETIN_INSTANCE_PATH": str(folder),
        "BULLETIN_DATABASE": str(folder / "bulletin.sqlite3"),
        "BULLETIN_SECRET_KEY": "benchmark-only-secret",
        **extra,
    }


def flask(env: dict, *args: str, stdin: str | None = None) -> str:
    """Run ``flask --app app ARGS`` against the site in ``env`` (``stdin`` as its input); its output, or an error naming it."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        input=stdin,
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def make_site(folder: Path, *, samples: bool = True, **extra_env: str) -> Site:
    """Prepare a site in ``folder`` with the seed statement (and the samples)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = site_env(folder, **extra_env)
    flask(env, "prepare")
    output = flask(env, "import", str(seed_file()))
    seed_url = re.search(r"-> (\S+)", output).group(1)
    if samples:
        flask(env, "import", str(SAMPLES))
    return Site(folder, env, seed_url)


def publish(connection, title: str, body: str, published, tags=()) -> str:
    """Create and publish one statement through the write path, as an editor would; its id."""
    draft = changes.Draft(title, body, "html", tags=tags, published=published)
    return changes.create(connection, draft, changes.tool_context("bench"), publish=True).statement_id
