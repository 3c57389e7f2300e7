"""``cachetune capture redis://HOST:PORT``: record a live Redis's commands into a trace file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tuner.cli.console import stderr
from tuner.live.redis_capture import MONITOR_WARNING, capture_redis


def capture_command(
    url: Annotated[str, typer.Argument(help="The server: redis://[:password@]HOST:PORT[/db].")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The trace file to write (must not exist).")],
    duration: Annotated[float, typer.Option(help="Seconds to record.")] = 60.0,
    max_requests: Annotated[int | None, typer.Option(help="Stop after this many requests.")] = None,
    probe_sizes: Annotated[
        bool, typer.Option("--probe-sizes", help="Ask STRLEN of keys read before any SET is seen (adds load).")
    ] = False,
    salt: Annotated[
        str | None, typer.Option(help="Salt of the key hashes (default: $CACHETUNE_CAPTURE_SALT, else random).")
    ] = None,
    keep_keys: Annotated[bool, typer.Option("--keep-keys", help="Write raw keys, not salted hashes.")] = False,
) -> None:
    """Record a Redis server's commands with MONITOR (GETs, SETs, DELETEs, TTLs) into a trace for --trace."""

    def warn() -> None:
        stderr.print(f"warning: {MONITOR_WARNING}; recording for at most {duration:g} s", soft_wrap=True)

    def progress(requests: int, seconds: float) -> None:
        if stderr.is_terminal:
            stderr.print(f"\r{requests:,} requests in {seconds:.0f} s", end="")

    result = capture_redis(url, output, duration=duration, max_requests=max_requests, probe_sizes=probe_sizes,
                           salt=salt, keep_keys=keep_keys, progress=progress, on_start=warn)  # fmt: skip
    others = sum(result.other_commands.values())
    stderr.print(f"\rwrote {result.requests:,} requests to {result.path} in {result.seconds:.1f} s "
                 f"(stopped by {result.stopped_by}); {others:,} other commands skipped; "
                 f"{result.unknown_sizes:,} reads of keys of unknown size",
                 highlight=False, soft_wrap=True)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("capture")(capture_command)
