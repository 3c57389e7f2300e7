"""Throwaway Redis and memcached servers on loopback, for ``verify --start``, ``calibrate`` and the tests.

A server started here listens on 127.0.0.1 only, on a port the system
reported free, keeps nothing on disk (no RDB, no AOF: its working folder is a
temporary one removed at stop), and is stopped by ``stop()`` or at the end of
a ``with`` block. Only a server this module started is ever stopped or
flushed; a user's own server is reached through its URL and left as it was.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tuner.errors import CachetuneError

LOOPBACK = "127.0.0.1"
CLUSTER_BUS_OFFSET = 10_000
# Debian's package names, for the error that says what to install.
_PACKAGES = {"redis-server": "redis-server", "memcached": "memcached"}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now (the system picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _free_cluster_port() -> int:
    """A free loopback port for a cluster-enabled Redis, whose bus listens 10,000 higher: the port must be
    at most 55,535 and both free (the system's own picks are often above)."""
    while True:
        port = random.randrange(20_000, 65_536 - CLUSTER_BUS_OFFSET)
        if _is_free(port) and _is_free(port + CLUSTER_BUS_OFFSET):
            return port


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def find_binary(name: str) -> str:
    """The path of ``redis-server`` or ``memcached`` on PATH; a one-line CachetuneError otherwise."""
    path = shutil.which(name)
    if path is None:
        raise CachetuneError(f"{name} not found on PATH (on Debian: apt-get install {_PACKAGES.get(name, name)})")
    return path


@dataclass
class Server:
    """A server this process started: its kind (``"redis"`` or ``"memcached"``), address and process."""

    kind: str
    port: int
    process: subprocess.Popen
    workdir: Path
    command: list[str] = field(default_factory=list)
    host: str = LOOPBACK

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0" if self.kind == "redis" else f"memcached://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and remove its working folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_redis(config: Mapping[str, str | int] | None = None, *, timeout: float = 15.0) -> Server:
    """``redis-server`` on a free loopback port with ``config`` (``{"maxmemory": 67108864,
    "maxmemory-policy": "allkeys-lru"}``: any directive, as redis.conf spells it), no persistence."""
    binary = find_binary("redis-server")

    def command(port: int, workdir: Path) -> list[str]:
        settings = {"port": port, "bind": LOOPBACK, "save": "", "appendonly": "no", "dir": str(workdir),
                    "daemonize": "no", "protected-mode": "yes", "logfile": str(workdir / "redis.log")}  # fmt: skip
        settings.update(config or {})
        return [binary, *(part for name, value in settings.items() for part in (f"--{name}", str(value)))]

    clustered = str((config or {}).get("cluster-enabled", "no")) == "yes"
    return _start_on_a_free_port("redis", command, timeout, _redis_answers,
                                 _free_cluster_port if clustered else free_port)  # fmt: skip


def start_memcached(args: Sequence[str] = (), *, timeout: float = 15.0) -> Server:
    """``memcached`` on a free loopback port (TCP only) with ``args`` (``["-m", "64", "-f", "1.25"]``)."""
    binary = find_binary("memcached")
    # memcached refuses to run as root unless told which user to be.
    as_user = ["-u", "root"] if _is_root() else []

    def command(port: int, workdir: Path) -> list[str]:
        return [binary, "-l", LOOPBACK, "-p", str(port), "-U", "0", *args, *as_user]

    return _start_on_a_free_port("memcached", command, timeout, _memcached_answers)


def _start_on_a_free_port(kind, command, timeout, answers, pick_port=free_port) -> Server:
    """Start a server on a port free a moment ago; another process may take that port in between (tests
    start servers in parallel), so a start that finds it taken tries another, up to three times."""
    tries = 3
    while True:
        port = pick_port()
        workdir = Path(tempfile.mkdtemp(prefix=f"cachetune-{kind}-"))
        try:
            return _started(kind, port, command(port, workdir), workdir, timeout, answers)
        except _PortTaken:
            tries -= 1
            if not tries:
                raise CachetuneError(f"no free loopback port for {kind} after three tries") from None


class _PortTaken(Exception):
    """The port was taken between choosing it and the server binding it."""


def _started(kind, port, command, workdir, timeout, answers) -> Server:
    log = (workdir / "stderr.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    server = Server(kind, port, process, workdir, command)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = (workdir / "stderr.log").read_text(errors="replace").strip().splitlines()
            if (workdir / "redis.log").exists():  # redis-server writes to its logfile, not to stderr
                said += (workdir / "redis.log").read_text(errors="replace").strip().splitlines()
            server.stop()
            if any("in use" in line for line in said):
                raise _PortTaken
            raise CachetuneError(f"{Path(command[0]).name} exited at start: {said[-1] if said else 'no output'}")
        if answers(port):
            return server
        time.sleep(0.05)
    server.stop()
    raise CachetuneError(f"{Path(command[0]).name} did not answer on {LOOPBACK}:{port} within {timeout:g} s")


def _ask(port: int, request: bytes) -> bytes:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0) as connection:
            connection.sendall(request)
            return connection.recv(64)
    except OSError:
        return b""


def _redis_answers(port: int) -> bool:
    return _ask(port, b"PING\r\n").startswith(b"+PONG")


def _memcached_answers(port: int) -> bool:
    return _ask(port, b"version\r\n").startswith(b"VERSION")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
