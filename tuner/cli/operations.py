"""The options of how a replayed cache treats writes and timeouts, shared by bench and optimize.

Each is named after ``tuner.replay``'s parameter (``--flush-interval``:
``flush_interval``), so the CLI's error messages name the flag.
"""

from typing import Annotated

import typer

WritePolicy = Annotated[
    str, typer.Option(help="SETs: write-through, write-back (dirty until evicted or flushed) or write-around.")
]
Ttl = Annotated[float | None, typer.Option(help="Cache timeout in seconds, for requests that carry no TTL.")]
FlushInterval = Annotated[
    float | None, typer.Option(help="write-back: write every dirty object this often (seconds of trace time).")
]
MaxObjectSize = Annotated[str | None, typer.Option(help="Never admit objects larger than this: 4096 or 8MiB.")]
