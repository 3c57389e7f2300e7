"""One colour per policy, the same in every chart and every report.

Known policies have fixed colours (Okabe–Ito and Tableau hues that stay apart
for colour-blind readers and in grey print); a policy added later gets one from
a fallback list chosen by a hash of its name, so its colour never depends on
which other policies a run happened to include.
"""

import zlib

OPT_COLOUR = "#000000"

POLICY_COLOURS = {
    "opt": OPT_COLOUR,
    "opt-lower": "#5F5F5F",  # the lower bound beside opt at byte capacities, dashed as it is
    "lru": "#0072B2",
    "fifo": "#E69F00",
    "clock": "#D55E00",
    "sieve": "#009E73",
    "arc": "#CC79A7",
    "lfu": "#56B4E9",
    "mru": "#7F7F7F",
    "random": "#8C564B",
    "random-age": "#9E9A1A",
    "s3fifo": "#D62728",
    "2q": "#9467BD",
    "lirs": "#17BECF",
    "wtinylfu": "#2CA02C",
    # Models of Python's caches: Tableau 10 hues the textbook policies do not use.
    "functools-lru": "#4E79A7",
    "cachetools-lru": "#76B7B2",
    "cachetools-fifo": "#F28E2B",
    "cachetools-lfu": "#59A14F",
    "cachetools-rr": "#B07AA1",
    "cachetools-ttl": "#FF9DA7",
    # Models of servers.
    "memcached": "#9C755F",
    "redis-lru": "#E15759",
    "redis-lfu": "#EDC948",
    "redis-random": "#BAB0AC",
    "redis-ttl": "#A0CBE8",
}
_FALLBACK = ("#1F77B4", "#FF7F0E", "#E377C2", "#BCBD22", "#393B79", "#637939", "#843C39", "#7B4173", "#3182BD")


def policy_colour(policy: str) -> str:
    """The colour that stands for ``policy`` in every chart."""
    return POLICY_COLOURS.get(policy) or _FALLBACK[zlib.crc32(policy.encode()) % len(_FALLBACK)]
