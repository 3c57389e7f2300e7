"""``capture.wrap(cache, path)``: a proxy recording what a cache object is asked, passing every call through.

It works with anything shaped like a cache: ``get``/``set``/``delete``
methods (cachelib and Flask-Caching backends, Django-style caches), mapping
methods (a ``dict``, a cachetools cache, which ``cachetools.cached`` uses as
a mapping), or both. Each call goes to the wrapped object unchanged and its
result, or exception, comes back unchanged; what it was is recorded:

- GET: ``get``, ``[key]`` (hit or miss: a miss raising KeyError still counts),
  each key of ``get_many``/``get_dict``, ``setdefault``;
- SET: ``set``, ``[key] = value``, a successful ``add``, each of
  ``set_many``/``update``, ``inc``/``dec``, ``setdefault`` when it inserts;
  the size is ``len()`` of bytes and str values, else ``sys.getsizeof``; the
  TTL is the call's ``timeout`` (cachelib's: None is the cache's
  ``default_timeout``, 0 never expires);
- DELETE: ``delete``, ``del [key]``, ``pop``, each of ``delete_many``.

Membership tests (``in``, ``has``), iteration, ``len`` and ``clear`` pass
through unrecorded. A Flask-Caching ``Cache`` is not proxied itself (its
``cached`` and ``memoize`` decorators reach its backend directly): its
backend for the application is replaced by a proxy in place, and the
``Cache`` is returned as it was.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tuner.capture.writer import DEFAULT_BUFFER, DEFAULT_INTERVAL, Recorder, recorder_for
from tuner.trace import DELETE, GET, SET

_MISSING = object()


def value_size(value: Any) -> int:
    """Bytes a cached value takes as the capture counts them: ``len`` of bytes and str, else ``sys.getsizeof``."""
    if isinstance(value, (bytes, bytearray, memoryview, str)):
        return len(value)
    try:
        return sys.getsizeof(value)
    except Exception:
        return 1


class RecordingCache:
    """The proxy ``wrap`` returns: the wrapped cache's behaviour, with each request recorded."""

    __slots__ = ("_recorder", "_target")

    def __init__(self, target: Any, recorder: Recorder) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_recorder", recorder)

    def _note(self, op: int, key: Any, size: int = 1, ttl: float = 0.0) -> None:
        recorder = self._recorder
        if len(recorder.buffer) < recorder.limit:
            recorder.buffer.append((time.time(), op, key, size, ttl))
        else:
            recorder.drop()

    def _ttl(self, timeout: Any) -> float:
        if timeout is None:
            timeout = getattr(self._target, "default_timeout", 0)
        try:
            return max(0.0, float(timeout or 0))
        except (TypeError, ValueError):
            return 0.0

    # get/set/delete caches
    def get(self, *args, **kwargs):
        key = args[0] if args else kwargs.get("key")
        self._note(GET, key)
        return self._target.get(*args, **kwargs)

    def set(self, key, value, *args, **kwargs):
        result = self._target.set(key, value, *args, **kwargs)
        timeout = args[0] if args else kwargs.get("timeout")
        self._note(SET, key, value_size(value), self._ttl(timeout))
        return result

    def add(self, key, value, *args, **kwargs):
        result = self._target.add(key, value, *args, **kwargs)
        if result:
            timeout = args[0] if args else kwargs.get("timeout")
            self._note(SET, key, value_size(value), self._ttl(timeout))
        return result

    def delete(self, key, *args, **kwargs):
        self._note(DELETE, key)
        return self._target.delete(key, *args, **kwargs)

    def get_many(self, *keys, **kwargs):
        for key in keys:
            self._note(GET, key)
        return self._target.get_many(*keys, **kwargs)

    def get_dict(self, *keys, **kwargs):
        for key in keys:
            self._note(GET, key)
        return self._target.get_dict(*keys, **kwargs)

    def set_many(self, mapping, *args, **kwargs):
        items = list(mapping.items() if hasattr(mapping, "items") else mapping)
        result = self._target.set_many(dict(items), *args, **kwargs)
        timeout = args[0] if args else kwargs.get("timeout")
        ttl = self._ttl(timeout)
        for key, value in items:
            self._note(SET, key, value_size(value), ttl)
        return result

    def delete_many(self, *keys, **kwargs):
        for key in keys:
            self._note(DELETE, key)
        return self._target.delete_many(*keys, **kwargs)

    def inc(self, key, *args, **kwargs):
        result = self._target.inc(key, *args, **kwargs)
        self._note(SET, key, value_size(result))
        return result

    def dec(self, key, *args, **kwargs):
        result = self._target.dec(key, *args, **kwargs)
        self._note(SET, key, value_size(result))
        return result

    # mapping caches
    def __getitem__(self, key):
        self._note(GET, key)
        return self._target[key]

    def __setitem__(self, key, value):
        self._target[key] = value
        self._note(SET, key, value_size(value))

    def __delitem__(self, key):
        self._note(DELETE, key)
        del self._target[key]

    def pop(self, key, *default):
        self._note(DELETE, key)
        return self._target.pop(key, *default)

    def setdefault(self, key, default=None):
        present = key in self._target
        self._note(GET, key)
        result = self._target.setdefault(key, default)
        if not present:
            self._note(SET, key, value_size(default))
        return result

    def update(self, *args, **kwargs):
        items = list(dict(*args, **kwargs).items())
        self._target.update(items)
        for key, value in items:
            self._note(SET, key, value_size(value))

    def __contains__(self, key):
        return key in self._target

    def __len__(self):
        return len(self._target)

    def __iter__(self):
        return iter(self._target)

    def __repr__(self) -> str:
        return f"RecordingCache({self._target!r})"

    def __getattr__(self, name):
        return getattr(self._target, name)

    def __setattr__(self, name, value):
        setattr(self._target, name, value)


def _is_flask_caching(cache: Any) -> bool:
    return all(hasattr(type(cache), name) for name in ("init_app", "memoize", "cached"))


def wrap(cache: Any, path: str | Path, *, app: Any = None, salt: str | bytes | None = None, keep_keys: bool = False,
         buffer_size: int = DEFAULT_BUFFER, interval: float = DEFAULT_INTERVAL) -> Any:  # fmt: skip
    """A proxy recording the GETs, SETs and DELETEs ``cache`` receives to ``path``; use it in its place.

    For a Flask-Caching ``Cache`` (after ``init_app``): its backend for
    ``app`` (default: the one it was made with, else the current one) is
    wrapped in place and the ``Cache`` itself is returned. ``salt``,
    ``keep_keys``, ``buffer_size``, ``interval``: as for ``calls``.
    """
    recorder = recorder_for(path, salt=salt, keep_keys=keep_keys, buffer_size=buffer_size, interval=interval)
    if not _is_flask_caching(cache):
        return RecordingCache(cache, recorder)
    if app is None:
        app = cache.app
    if app is None:
        from flask import current_app  # only a Flask-Caching user reaches here, and has Flask

        app = current_app._get_current_object()
    backends = app.extensions["cache"]
    if not isinstance(backends[cache], RecordingCache):
        backends[cache] = RecordingCache(backends[cache], recorder)
    return cache
