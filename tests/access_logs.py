"""Generated nginx access logs with the awkward parts real ones have, for tests and benchmarks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

START = dt.datetime(2026, 10, 10, 13, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
AGENTS = (
    'Mozilla/5.0 (X11; Linux x86_64) \\"quoted\\" Gecko/20100101',
    "curl/8.4.0",
    'Bot \\"crawler\\" (+http://example.com/bot)',
)
JUNK = ("", "garbage without structure", '\\x16\\x03\\x01 "', '2001:db8::1 - - [bad date] "GET / HTTP/1.1" 200 1')


def write_combined_log(path: Path, requests: int, *, objects: int = 20_000, junk_every: int = 10_000,
                       seconds_per_request: float = 0.5, seed: int = 7) -> dict:  # fmt: skip
    """Write ``requests`` GET/HEAD request lines (plus junk lines) in nginx combined format.

    Returns what a reader must find: requests, unique keys, junk lines and the span in seconds.
    """
    rng = np.random.default_rng(seed)
    objs = np.minimum(rng.zipf(1.2, requests) - 1, objects - 1)
    heads = rng.random(requests) < 0.1
    statuses = rng.choice([200, 200, 200, 304, 404], requests)
    sizes = rng.integers(100, 100_000, requests)
    offsets = np.floor(np.arange(requests) * seconds_per_request).astype(np.int64)
    junk = 0
    with open(path, "w", encoding="latin-1", newline="\n") as handle:
        for i in range(requests):
            if i % junk_every == junk_every // 2:
                handle.write(JUNK[junk % len(JUNK)] + "\n")
                junk += 1
            obj = int(objs[i])
            client = f"2001:db8::{i % 997:x}" if i % 3 == 0 else f"10.{i % 200}.{i % 7}.{i % 250}"
            target = f"/static/item{obj}.js?v={obj % 3}" if obj % 2 else f"/page/{obj}"
            moment = (START + dt.timedelta(seconds=int(offsets[i]))).strftime("%d/%b/%Y:%H:%M:%S %z")
            status = int(statuses[i])
            size = "-" if status == 304 else str(int(sizes[i]))
            method = "HEAD" if heads[i] else "GET"
            agent = AGENTS[i % len(AGENTS)]
            handle.write(f'{client} - - [{moment}] "{method} {target} HTTP/1.1" {status} {size} '
                         f'"https://example.com/ref?a=1" "{agent}"\n')  # fmt: skip
    return {"requests": requests, "unique": len(np.unique(objs)), "junk": junk, "span_seconds": int(offsets[-1])}
