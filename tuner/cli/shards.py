"""The ``--shards`` and ``--shard-hash`` options, shared by bench, mrc and optimize."""

from __future__ import annotations

from typing import Annotated

import typer

from tuner.shards import SHARD_HASHES

Shards = Annotated[
    int | None, typer.Option(help="Replay a fleet of this many caches, each key on the shard --shard-hash picks.")
]
ShardHash = Annotated[str, typer.Option(help=f"How keys are routed to shards: {', '.join(SHARD_HASHES)}.")]
DEFAULT_HASH = "redis-cluster"
