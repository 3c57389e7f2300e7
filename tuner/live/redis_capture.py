"""``cachetune capture redis://…``: a live Redis's commands, recorded with MONITOR into a capture file.

MONITOR makes the server copy every command it runs to this client: on a
busy server that costs throughput (the Redis documentation measured about
half with one monitor attached), so the capture is bounded (``duration``
seconds, ``max_requests`` requests), says so before it starts, and reads
nothing it does not need. It writes nothing to the server and changes no
setting: its connections (the monitor, and with ``probe_sizes`` one that
asks ``STRLEN`` of keys read before any SET of them was seen, whose own
commands are left out of the trace) are closed when it stops. Each MONITOR
line goes through ``MonitorTranslator``, the same code that reads a saved
``redis-cli monitor`` log, and the requests are written as a capture file
(``tuner.capture.file_format``) with keys hashed as the Python capture
hashes them.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import redis

from tuner.capture.file_format import CaptureFile, format_rows
from tuner.capture.keys import key_writer, resolve_salt, salt_fingerprint
from tuner.errors import CachetuneError
from tuner.readers.redis_monitor import MonitorTranslator

MONITOR_WARNING = ("MONITOR sends every command the server runs to this capture: a busy server loses "
                   "throughput (up to about half) while it runs")  # fmt: skip
_WRITE_EVERY = 0.5  # seconds between writes to the file
_POLL = 0.1  # longest wait for a line, so the deadline is kept


@dataclass
class RedisCapture:
    """What a capture recorded: the file, the requests, and what it left out."""

    path: Path
    requests: int
    lines: int
    seconds: float
    stopped_by: str  # "duration", "max_requests" or "server closed the connection"
    other_commands: dict[str, int] = field(default_factory=dict)
    unknown_sizes: int = 0
    ttl_changes: int = 0
    probed: int = 0


def _where(url: str) -> str:
    """The URL without any password, for messages and the file's summary."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path if parts.path not in ('', '/') else ''}"


# No CLIENT SETINFO: the capture's connections leave no name or library version behind (redis-py 8 spells it
# driver_info=None, earlier versions lib_name=None).
_NO_SETINFO = ({"driver_info": None} if "driver_info" in inspect.signature(redis.Redis.__init__).parameters
               else {"lib_name": None, "lib_version": None})  # fmt: skip


def _client(url: str) -> redis.Redis:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5, single_connection_client=True,
                                    **_NO_SETINFO)  # fmt: skip
    except ValueError as error:
        raise CachetuneError(f"{url}: not a Redis URL ({error})", parameter="url") from None
    except redis.AuthenticationError as error:
        raise CachetuneError(f"{_where(url)}: authentication failed: {error}") from None
    except redis.RedisError as error:  # a single-connection client connects at once
        raise CachetuneError(f"{_where(url)}: cannot reach Redis: {error}") from None


def capture_redis(url: str, output: str | Path, *, duration: float = 60.0, max_requests: int | None = None,
                  probe_sizes: bool = False, salt: str | bytes | None = None, keep_keys: bool = False,
                  progress: Callable[[int, float], None] | None = None,
                  on_start: Callable[[], None] | None = None) -> RedisCapture:  # fmt: skip
    """Record the commands the Redis at ``url`` runs for ``duration`` seconds (or ``max_requests`` requests).

    ``output`` must not exist (a capture never overwrites). ``progress`` is
    called about twice a second with the requests so far and the seconds
    elapsed; ``on_start`` once the server answered, just before MONITOR
    begins (the CLI warns there).
    """
    if duration <= 0:
        raise CachetuneError(f"duration must be positive, got {duration:g}", parameter="duration")
    if max_requests is not None and max_requests < 1:
        raise CachetuneError(f"max_requests must be at least 1, got {max_requests}", parameter="max_requests")
    output = Path(output)
    if output.exists():
        raise CachetuneError(f"{output} exists; a capture never overwrites a file", parameter="output")
    if not output.parent.is_dir():
        raise CachetuneError(f"{output.parent} is not a folder", parameter="output")
    where = _where(url)
    monitor_client = _client(url)
    probe_client = _client(url) if probe_sizes else None
    try:
        try:
            monitor_client.ping()
            ignore = probe_client.client_info()["addr"].encode() if probe_client is not None else None
        except redis.AuthenticationError as error:
            raise CachetuneError(f"{where}: authentication failed: {error}") from None
        except redis.RedisError as error:
            raise CachetuneError(f"{where}: cannot reach Redis: {error}") from None
        translator = MonitorTranslator(probe=_prober(probe_client) if probe_client else None, ignore_client=ignore)
        if on_start is not None:
            on_start()
        return _record(monitor_client, translator, output, where, duration, max_requests, salt, keep_keys, progress)
    finally:
        monitor_client.close()
        if probe_client is not None:
            probe_client.close()


def _prober(client: redis.Redis) -> Callable[[bytes], int | None]:
    def probe(key: bytes) -> int | None:
        probe.count += 1
        try:
            return int(client.strlen(key)) or None
        except redis.ResponseError:  # not a string (a hash, a list): its size is unknown
            return None

    probe.count = 0
    return probe


def _record(client, translator, output, where, duration, max_requests, salt, keep_keys, progress) -> RedisCapture:
    salt_bytes, salt_source = resolve_salt(salt)
    key_text = key_writer(salt_bytes, keep_keys)
    started = time.monotonic()
    deadline = started + duration
    records, lines, written, stopped_by = [], 0, 0, "duration"
    file = None

    def summary() -> dict:
        return {"format": "cachetune-capture", "version": 1, "source": "redis", "server": where,
                "records": written, "dropped": 0, "hashed_keys": not keep_keys, "salt": salt_source,
                "salt_fingerprint": None if keep_keys else salt_fingerprint(salt_bytes),
                **translator.info()}  # fmt: skip

    try:
        with client.monitor() as monitor:
            connection = monitor.connection
            file = CaptureFile(output)
            last_write = started
            while (now := time.monotonic()) < deadline:
                if connection.can_read(timeout=min(_POLL, deadline - now)):
                    line = connection.read_response()
                    lines += 1
                    records += translator.translate(line if isinstance(line, bytes) else line.encode()) or []
                    if max_requests is not None and written + len(records) >= max_requests:
                        del records[max_requests - written :]
                        stopped_by = "max_requests"
                if stopped_by == "max_requests" or now - last_write >= _WRITE_EVERY:
                    written += len(records)
                    file.write(format_rows(records, key_text)[0], summary())
                    records, last_write = [], now
                    if progress is not None:
                        progress(written, now - started)
                if stopped_by == "max_requests":
                    break
    except (redis.ConnectionError, redis.TimeoutError) as error:
        if file is None:
            raise CachetuneError(f"{where}: cannot start MONITOR: {error}") from None
        stopped_by = f"server closed the connection ({error})"
    except redis.ResponseError as error:
        raise CachetuneError(f"{where}: MONITOR refused: {error}") from None
    finally:
        if file is not None:
            written += len(records)
            file.write(format_rows(records, key_text)[0], summary())
            file.close()
    probed = translator.probe.count if translator.probe is not None else 0
    return RedisCapture(file.path, written, lines, time.monotonic() - started, stopped_by,
                        dict(translator.other_commands), translator.unknown_sizes, translator.ttl_changes,
                        probed)  # fmt: skip
