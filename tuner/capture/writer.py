"""The recorder behind the decorator and the proxy: a bounded buffer that a background thread drains to a file.

Writing must never hurt the application, so the caller's side is one
``len`` and one ``deque.append`` of a tuple ``(time, op, key, size, ttl)``
(atomic under the GIL, so threads may record at once). When the buffer holds
``buffer_size`` records, a record is dropped and counted instead (never a
wait, never an exception); a burst of threads may overshoot the bound by one
record each. A daemon thread wakes every ``interval`` seconds, takes what
is buffered, turns keys into ids (hashing happens here, off the caller's
path: raw keys sit in this process's memory until then, at most
``buffer_size`` of them for at most one interval, and are never written
unless ``keep_keys``), compresses and appends it to the file with the counts
so far. A failure to write (a full disk) stops the capture quietly, logging
once; the application goes on.

One recorder per file per process: a forked child (a gunicorn worker) clears
what it inherited and writes its own file (``CaptureFile``). Everything
buffered is written at interpreter exit (``atexit``) or by ``flush()``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

from tuner.capture.file_format import CaptureFile, format_rows
from tuner.capture.keys import key_writer, resolve_salt, salt_fingerprint

DEFAULT_BUFFER = 1 << 17  # about 20 MB when full (a record and its key)
DEFAULT_INTERVAL = 0.1  # seconds between drains
_BATCH = 1 << 15  # records formatted and compressed at once

log = logging.getLogger("tuner.capture")
_RECORDERS: dict[Path, Recorder] = {}
_REGISTRY_LOCK = threading.Lock()


class Recorder:
    """A bounded buffer of requests and the thread that writes them to one capture file.

    ``record`` is the slow, general path; the decorator and the proxy append
    to ``buffer`` themselves after checking ``len(buffer) < limit`` and call
    ``drop()`` when it is full.
    """

    def __init__(self, path: str | Path, *, salt: str | bytes | None = None, keep_keys: bool = False,
                 buffer_size: int = DEFAULT_BUFFER, interval: float = DEFAULT_INTERVAL,
                 source: str = "python") -> None:  # fmt: skip
        if buffer_size < 1:
            raise ValueError("buffer_size must be at least 1")
        self.requested_path = Path(path)
        self.buffer: deque = deque()
        self.limit = self.buffer_size = buffer_size
        self.interval = interval
        self.keep_keys = keep_keys
        self.source = source
        self._salt, self.salt_source = resolve_salt(salt)
        self._key_text = key_writer(self._salt, keep_keys)
        self._file: CaptureFile | None = None
        self._failed = False
        self.dropped = self.written = 0
        self._reported = (0, 0)  # the counts the file's last summary holds
        self._last_time = 0.0  # the latest time written: no row goes back before it
        self._drop_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._start_thread()

    @property
    def path(self) -> Path | None:
        """The file this process writes (None until its first write)."""
        return self._file.path if self._file is not None else None

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"cachetune-capture {self.requested_path.name}",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def record(self, op: int, key: object, size: int = 1, ttl: float = 0.0) -> None:
        """Record one request now (or count it dropped when the buffer is full)."""
        if len(self.buffer) < self.limit:
            self.buffer.append((time.time(), op, key, size, ttl))
        else:
            self.drop()

    def drop(self) -> None:
        with self._drop_lock:
            self.dropped += 1

    def summary(self) -> dict:
        return {"format": "cachetune-capture", "version": 1, "source": self.source, "pid": os.getpid(),
                "records": self.written, "dropped": self.dropped, "hashed_keys": not self.keep_keys,
                "salt": self.salt_source, "salt_fingerprint": None if self.keep_keys else salt_fingerprint(self._salt),
                "buffer_size": self.buffer_size}  # fmt: skip

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write everything buffered now (the thread does this every ``interval``)."""
        with self._write_lock:
            if self._failed:
                return
            try:
                self._drain()
            except Exception as error:  # a full disk, a vanished folder: the application must not notice
                self._failed = True
                log.warning("cachetune capture to %s stopped: %s", self.requested_path, error)

    def _drain(self) -> None:
        pending = len(self.buffer)
        if not pending and (self._file is None or self._reported == (self.written, self.dropped)):
            return
        if self._file is None:
            self._file = CaptureFile(self.requested_path)
        take = self.buffer.popleft
        while True:
            count = min(pending, _BATCH)
            batch = [take() for _ in range(count)]
            pending -= count
            self.written += count
            rows, self._last_time = format_rows(batch, self._key_text, self._last_time)
            self._file.write(rows, self.summary())
            self._reported = (self.written, self.dropped)
            if pending <= 0:
                break

    def close(self) -> None:
        """Write what is buffered and close the file; records after this are dropped."""
        if self._closed:
            return
        self._closed = True
        self.limit = 0  # anyone still recording now counts a drop instead
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.flush()
        if self._file is not None:
            self._file.close()

    def _after_fork_in_child(self) -> None:
        """A forked child starts empty: nothing of the parent's buffer, counts or file; a thread of its own."""
        self.buffer.clear()
        self.dropped = self.written = 0
        self._last_time = 0.0
        self._reported = (0, 0)
        self._drop_lock, self._write_lock, self._wake = threading.Lock(), threading.Lock(), threading.Event()
        if self._file is not None:
            self._file.abandon()
            self._file = None
        self._pid = os.getpid()
        if not self._closed:
            self._start_thread()


def recorder_for(path: str | Path, **options) -> Recorder:
    """The process's recorder for ``path``: one per file, shared by every decorator and proxy writing there.

    A second caller's options must agree with the first's (one file has one key scheme).
    """
    key = Path(path).absolute()
    with _REGISTRY_LOCK:
        recorder = _RECORDERS.get(key)
        if recorder is None or recorder._closed:
            recorder = _RECORDERS[key] = Recorder(path, **options)
        elif "keep_keys" in options and options["keep_keys"] != recorder.keep_keys:
            raise ValueError(f"{path} is already being captured with keep_keys={recorder.keep_keys}")
        return recorder


def flush_all() -> None:
    """Write what every recorder of this process has buffered."""
    for recorder in list(_RECORDERS.values()):
        recorder.flush()


def close_all() -> None:
    """Flush and close every recorder (run at interpreter exit)."""
    for recorder in list(_RECORDERS.values()):
        recorder.close()
    _RECORDERS.clear()


def _after_fork_in_child() -> None:
    global _REGISTRY_LOCK
    _REGISTRY_LOCK = threading.Lock()
    for recorder in list(_RECORDERS.values()):
        recorder._after_fork_in_child()


atexit.register(close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
