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
}
_FALLBACK = ("#1F77B4", "#FF7F0E", "#E377C2", "#BCBD22", "#393B79", "#637939", "#843C39", "#7B4173", "#3182BD")


def policy_colour(policy: str) -> str:
    """The colour that stands for ``policy`` in every chart."""
    return POLICY_COLOURS.get(policy) or _FALLBACK[zlib.crc32(policy.encode()) % len(_FALLBACK)]
