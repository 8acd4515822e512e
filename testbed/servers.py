"""Servers for the benchmarks and the deployment test: start, wait, stop.

Everything listens on 127.0.0.1 on a free port chosen by the kernel, every
wait is bounded by a deadline (polling, never sleeping a fixed time), and a
server is stopped by the process id this module started, never by name.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BIN = Path(sys.executable).parent  # the virtualenv's bin/: gunicorn and flask live there
GUNICORN_CONFIG = REPO / "deploy" / "gunicorn.conf.py"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def ensure_debian_packages(commands: dict[str, str]) -> None:
    """Install the Debian package of each missing command ({command: package}).

    A fresh machine has none of nginx, wrk or the Brotli module; as root the
    benchmarks install them, elsewhere they stop with what to install.
    """
    missing = sorted({package for command, package in commands.items() if not _present(command)})
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(
            f"missing: install {' '.join(missing)} (Debian: apt-get install {' '.join(missing)})"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600", *missing], check=True, env=env
    )


def _present(command: str) -> bool:
    # A path names a file (a module .so); anything else is a command on PATH.
    return Path(command).exists() if command.startswith("/") else shutil.which(command) is not None


@dataclass
class Server:
    """A server process this module started, listening on ``port``."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path
    # gunicorn's SIGTERM waits graceful_timeout for open connections; SIGINT
    # (its quick shutdown) and nginx's SIGTERM (fast shutdown) do not.
    stop_signal: int = signal.SIGTERM

    def url(self, path: str = "/") -> str:
        """An absolute URL on this server."""
        return f"http://{HOST}:{self.port}{path}"

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        """Stop the server (its own process group, by id), waiting a bounded time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # The group was created for this process alone (start_new_session).
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def _spawn(
    name: str, argv: list[str], port: int, log: Path, *, env=None, cwd=None, stop_signal=signal.SIGTERM
) -> Server:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    server = Server(name, process, port, log, stop_signal)
    try:
        wait_until_serving(server)
    except BaseException:
        server.stop()
        raise
    return server


def wait_until_serving(server: Server, timeout: float = START_TIMEOUT) -> None:
    """Return once the server answers any HTTP response; raise with its log otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            fetch(server.port, "/", timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{server.name} did not answer in {timeout} s:\n{server.log_tail()}"
                ) from None
            time.sleep(0.05)  # a poll interval, bounded by the deadline above


@dataclass(frozen=True)
class Reply:
    """An HTTP response as it came over the wire (body not decoded)."""

    status: int
    headers: dict  # lower-case names; repeated headers joined with ", "
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def fetch(
    port: int, path: str, headers: dict | None = None, *, method: str = "GET", timeout: float = 10
) -> Reply:
    """One request to 127.0.0.1:``port``; the body stays as sent (compressed or not)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        merged: dict = {}
        for name, value in response.getheaders():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return Reply(response.status, merged, body)
    finally:
        connection.close()


def start_gunicorn(
    app_spec: str, *, env: dict, log: Path, workers: int = 2, cwd: Path = REPO, config: Path = GUNICORN_CONFIG
) -> Server:
    """gunicorn with Bulletin's deploy settings serving ``app_spec`` on a free port."""
    port = free_port()
    argv = [
        str(BIN / "gunicorn"),
        "--config",
        str(config),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        app_spec,
    ]
    env = {**os.environ, **env}
    return _spawn(f"gunicorn {app_spec}", argv, port, log, env=env, cwd=cwd, stop_signal=signal.SIGINT)


def start_nginx(config: Path, port: int, *, prefix: Path) -> Server:
    """nginx in the foreground with a rendered configuration that listens on ``port``."""
    argv = [
        "nginx",
        "-p",
        str(prefix),
        "-e",
        str(prefix / "error.log"),
        "-c",
        str(config),
        "-g",
        "daemon off;",
    ]
    return _spawn("nginx", argv, port, prefix / "nginx.out")


def nginx_syntax_check(config: Path, *, prefix: Path) -> subprocess.CompletedProcess:
    """``nginx -t`` on a rendered configuration (output captured, never raises)."""
    return subprocess.run(
        ["nginx", "-t", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
