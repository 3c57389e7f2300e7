"""Point numba's on-disk kernel cache at a folder keyed by this package's source.

Numba checks only the timestamp of the file a cached kernel was defined in,
not of the hooks it inlined from other modules, so an edited hook could run
stale. Keying the cache folder on a hash of every module's source makes any
change start from a fresh folder. A user's own NUMBA_CACHE_DIR wins.
"""

import hashlib
import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _source_digest() -> str:
    digest = hashlib.sha1()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


if "NUMBA_CACHE_DIR" not in os.environ:
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    os.environ["NUMBA_CACHE_DIR"] = str(cache_home / "cachetune" / "numba" / _source_digest())
