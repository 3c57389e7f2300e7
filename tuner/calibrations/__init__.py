"""Constants of the real caches the models follow, measured on real servers and kept per version.

Each file here is ``<product>-<version>.json`` (``redis-7.0.json``, ``memcached-1.6.json``), written by
``cachetune calibrate`` against a server a user can start again, with the server's own version string
and when it was measured beside the constants: nothing in a model is typed from memory. A user's own
calibration (another version, another allocator) is a file of the same form passed to the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuner.errors import CachetuneError

SHIPPED = Path(__file__).resolve().parent


def calibration_path(product: str, version: str, directory: Path = SHIPPED) -> Path:
    """Where the constants of ``product`` at ``version`` (major.minor, ``"7.0"``) are kept."""
    return Path(directory) / f"{product}-{version}.json"


def load_calibration(product: str, version: str | None = None, path: str | Path | None = None) -> dict[str, Any]:
    """The constants of ``product``: from ``path`` when given, else the shipped file for ``version``,
    else the newest version shipped. A CachetuneError names what is missing."""
    if path is None:
        if version is None:
            shipped = sorted(SHIPPED.glob(f"{product}-*.json"), key=_version_key)
            if not shipped:
                raise CachetuneError(f"no calibration of {product} is shipped; run cachetune calibrate")
            path = shipped[-1]
        else:
            path = calibration_path(product, version)
    path = Path(path)
    try:
        constants = json.loads(path.read_text())
    except FileNotFoundError:
        raise CachetuneError(f"no calibration file {path}; run cachetune calibrate") from None
    except json.JSONDecodeError as error:
        raise CachetuneError(f"{path} is not a calibration file: {error}") from None
    if constants.get("product") != product:
        raise CachetuneError(f"{path} calibrates {constants.get('product')!r}, not {product}")
    return constants


def save_calibration(constants: dict[str, Any], path: str | Path) -> Path:
    """Write ``constants`` (with ``product`` and ``version`` keys) as a calibration file."""
    for key in ("product", "version"):
        if key not in constants:
            raise CachetuneError(f"a calibration needs {key!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(constants, indent=2, sort_keys=True) + "\n")
    return path


def _version_key(path: Path) -> tuple[int, ...]:
    version = path.stem.split("-", 1)[1]
    return tuple(int(part) for part in version.split(".") if part.isdigit())
