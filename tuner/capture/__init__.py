"""Capture a trace where the traffic is: a Python function's calls, a cache object's requests.

``@capture.calls("app.trace")`` above ``@functools.lru_cache(maxsize=…)``
records each call as a GET; ``capture.wrap(cache, "app.trace")`` records the
GETs, SETs and DELETEs a cache object receives. Both write through one
recorder per file (``writer``) that never blocks the caller, hash keys
(``keys``) and write a zstd CSV every reader command takes as ``--trace``
(``file_format``). A live Redis is captured by ``tuner.live.redis_capture``.
"""

from tuner.capture.calls import calls
from tuner.capture.file_format import read_summary
from tuner.capture.keys import SALT_VARIABLE, hashed_id
from tuner.capture.proxy import RecordingCache, value_size, wrap
from tuner.capture.writer import Recorder, close_all, flush_all, recorder_for

__all__ = ["SALT_VARIABLE", "Recorder", "RecordingCache", "calls", "close_all", "flush_all", "hashed_id",
           "read_summary", "recorder_for", "value_size", "wrap"]  # fmt: skip
