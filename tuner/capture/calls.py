"""``@capture.calls(path)``: each call of a function recorded as a GET of its arguments.

Stacked above the cache it observes (``@capture.calls("app.trace")`` over
``@functools.lru_cache(maxsize=1024)``), it sees every lookup the cache sees,
in the same order, so a replay of the trace through LRU at the same size hits
exactly as often as ``cache_info()`` says. The key is the call's arguments as
``lru_cache`` keys them (positional, then keyword in the order given); its id
is taken from their ``repr`` in the writer thread. The call's path gains one
clock read, one tuple and one ``deque.append`` (``benchmarks/bench_capture.py``
measures it); ``key=`` and ``size=`` run on the caller's path when given.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuner.capture.writer import DEFAULT_BUFFER, DEFAULT_INTERVAL, recorder_for
from tuner.trace import GET

_CACHE_ATTRIBUTES = ("cache_info", "cache_clear", "cache_parameters")  # lru_cache's, passed up through the wrapper


def calls(path: str | Path, *, key: Callable[..., Any] | None = None, size: Callable[[Any], int] | None = None,
          salt: str | bytes | None = None, keep_keys: bool = False, buffer_size: int = DEFAULT_BUFFER,
          interval: float = DEFAULT_INTERVAL) -> Callable[[Callable], Callable]:  # fmt: skip
    """A decorator recording each call of the function it wraps as a GET to ``path``.

    ``key(*args, **kwargs)`` gives a call's key (default: the arguments);
    ``size(result)`` the size in bytes of what the call returned (default 1:
    capacities count objects). ``salt``, ``keep_keys``: see
    ``tuner.capture.keys``; ``buffer_size`` records are held before drops
    begin; the writer drains every ``interval`` seconds.
    """
    recorder = recorder_for(path, salt=salt, keep_keys=keep_keys, buffer_size=buffer_size, interval=interval)
    buffer, now, drop = recorder.buffer, time.time, recorder.drop
    append = buffer.append

    def decorate(function: Callable) -> Callable:
        if key is None and size is None:

            @functools.wraps(function)
            def recorded(*args, **kwargs):
                if len(buffer) < recorder.limit:
                    append((now(), GET, (args, kwargs) if kwargs else args, 1, 0.0))
                else:
                    drop()
                return function(*args, **kwargs)

        else:
            key_of = key or (lambda *args, **kwargs: (args, kwargs) if kwargs else args)
            size_of = size or (lambda result: 1)

            @functools.wraps(function)
            def recorded(*args, **kwargs):
                started = now()
                result = function(*args, **kwargs)
                try:
                    if len(buffer) < recorder.limit:
                        append((started, GET, key_of(*args, **kwargs), int(size_of(result)), 0.0))
                    else:
                        drop()
                except Exception:  # the user's key or size function failed: the call still returns its result
                    drop()
                return result

        for name in _CACHE_ATTRIBUTES:
            if hasattr(function, name):
                setattr(recorded, name, getattr(function, name))
        recorded.recorder = recorder
        return recorded

    return decorate
