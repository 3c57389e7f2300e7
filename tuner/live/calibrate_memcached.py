"""Measure the constants the memcached model needs on a real memcached, and keep them with its version.

``calibrate_memcached()`` starts a throwaway memcached (``tuner.live.servers``) with ``-vv``, so it
prints its slab class table at start (memcached 1.6 ``slabs.c: slabs_init``), and reads:

- the class table at the default growth factor: each class's chunk size and chunks per page
  (``slab class   1: chunk size        96 perslab   10922``);
- ``stats settings``: ``chunk_size`` (``-n``), ``growth_factor``, ``item_size_max``,
  ``slab_chunk_max``, ``hot_lru_pct``, ``warm_lru_pct``, ``lru_segmented``, ``cas_enabled``;
- the page size: ``stats slabs`` ``total_malloced`` after the first item stored (one page);
- the bytes an item holds beyond its key and value: ``stats`` ``bytes`` (``ITEM_ntotal``: the item
  header, the CAS value, the key's terminating NUL and the value's CRLF) after storing one item of a
  known key and value length, checked at three lengths;
- the item header alone (``sizeof(item)``): the smallest chunk less ``chunk_size``
  (``slabs_init`` starts at ``sizeof(item) + settings.chunk_size``).

``save_memcached_calibration()`` writes them to ``tuner/calibrations/memcached-<major.minor>.json``
(or any path), which ``tuner.policies.memcached`` reads. Run it again for another memcached build::

    python -m tuner.live.calibrate_memcached [path]
"""

from __future__ import annotations

import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuner.calibrations import calibration_path, save_calibration
from tuner.errors import CachetuneError
from tuner.live import servers

_CLASS_LINE = re.compile(rb"slab class\s+(\d+): chunk size\s+(\d+) perslab\s+(\d+)")
# Key and value lengths the item overhead is measured at (it must not depend on them).
_PROBES = ((1, 2), (10, 100), (40, 3_000))


def calibrate_memcached(binary_args: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model's constants, measured on a memcached started here (``binary_args`` are added to its
    command line; the defaults are what the model's defaults stand for)."""
    from pymemcache.client.base import Client

    with servers.start_memcached(["-vv", *binary_args]) as server:
        client = Client((servers.LOOPBACK, server.port), connect_timeout=5, timeout=5, no_delay=True)
        try:
            settings = client.stats("settings")
            version = client.version().decode()
            client.set("k", b"v")  # the first item: the server's first page
            page = int(client.stats("slabs")[b"total_malloced"])
            client.delete("k")
            overheads = []
            for key_length, value_length in _PROBES:
                key = "k" * key_length
                client.set(key, b"v" * value_length)
                held = int(client.stats()[b"bytes"])
                overheads.append(held - key_length - value_length)
                client.delete(key)
        finally:
            client.close()
        classes = _class_table(server, deadline=time.monotonic() + 5)
    if len(set(overheads)) != 1:
        raise CachetuneError(f"memcached's item overhead depends on the key or value length: {overheads}")
    chunk_size = int(settings[b"chunk_size"])
    return {
        "product": "memcached",
        "version": ".".join(version.split(".")[:2]),
        "server_version": version,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m tuner.live.calibrate_memcached",
        "item_overhead_bytes": overheads[0],
        "item_header_bytes": classes[0][0] - chunk_size,
        "chunk_size": chunk_size,
        "smallest_chunk_bytes": classes[0][0],
        "slab_page_bytes": page,
        "slab_chunk_max_bytes": int(settings[b"slab_chunk_max"]),
        "default_growth_factor": float(settings[b"growth_factor"]),
        "default_item_size_max": int(settings[b"item_size_max"]),
        "default_hot_lru_pct": int(settings[b"hot_lru_pct"]),
        "default_warm_lru_pct": int(settings[b"warm_lru_pct"]),
        "lru_segmented": settings[b"lru_segmented"] in (b"yes", True),
        "cas_enabled": settings[b"cas_enabled"] in (b"yes", True),
        "chunk_sizes": [size for size, _ in classes],
        "chunks_per_page": [per_page for _, per_page in classes],
    }


def _class_table(server: servers.Server, deadline: float) -> list[tuple[int, int]]:
    """``(chunk size, chunks per page)`` of each class, from the table ``-vv`` prints at start."""
    log = server.workdir / "stderr.log"
    while True:
        found = [(int(match[2]), int(match[3])) for match in _CLASS_LINE.finditer(log.read_bytes())]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if not found:
        raise CachetuneError("memcached -vv printed no slab class table")
    return found


def save_memcached_calibration(path: str | Path | None = None) -> Path:
    """Calibrate and write the file (by default the shipped one for the server's major.minor version)."""
    constants = calibrate_memcached()
    return save_calibration(constants, path or calibration_path("memcached", constants["version"]))


if __name__ == "__main__":
    print(save_memcached_calibration(sys.argv[1] if len(sys.argv) > 1 else None))
