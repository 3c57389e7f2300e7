"""Synthetic workloads: seeded generators and the named specs in ``workloads/*.toml``.

Every module here that defines ``GENERATOR`` (see ``base``) is registered, so
adding a generator is adding one file. A generator returns keys; ``generate``
adds Poisson arrival times at ``rate`` requests per second and builds the one
columnar ``Trace``. A spec file names a generator and overrides its declared
defaults; options given to ``generate`` override the spec.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tuner.errors import WorkloadError
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace
from tuner.workloads.base import Generator, Option


def _discover() -> dict[str, Generator]:
    found = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        generator = getattr(module, "GENERATOR", None)
        if isinstance(generator, Generator):
            found[generator.name] = generator
    return dict(sorted(found.items()))


GENERATORS: dict[str, Generator] = _discover()

# Options every workload takes, beside its generator's own.
COMMON_DEFAULTS: dict[str, Any] = {"requests": 1_000_000, "objects": 100_000, "rate": 100.0, "seed": DEFAULT_SEED}


def _spec_dir(package_file: Path, prefix: Path) -> Path:
    """The named specs: ``workloads/`` of a source checkout, else where an installed wheel put them."""
    checkout = package_file.resolve().parents[2] / "workloads"
    return checkout if checkout.is_dir() else prefix / "share" / "cachetune" / "workloads"


SPEC_DIR = _spec_dir(Path(__file__), Path(sys.prefix))


@dataclass(frozen=True)
class WorkloadSpec:
    """A named workload: which generator, with which options."""

    name: str
    generator: str
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def _option_names(generator: str) -> set[str]:
    return set(COMMON_DEFAULTS) | set(GENERATORS[generator].defaults)


def load_spec(name_or_path: str | Path) -> WorkloadSpec:
    """A built-in generator name, a spec in ``workloads/`` or a path to a ``.toml`` spec."""
    text = str(name_or_path)
    path = Path(text)
    if not path.suffix and (SPEC_DIR / f"{text}.toml").exists():
        path = SPEC_DIR / f"{text}.toml"
    if path.suffix == ".toml" or path.exists():
        return _read_spec_file(path)
    if text in GENERATORS:
        return WorkloadSpec(text, text)
    names = sorted(set(GENERATORS) | {p.stem for p in SPEC_DIR.glob("*.toml")})
    raise WorkloadError(f"unknown workload {text!r} (choose from: {', '.join(names)}, or give a .toml spec path)")


def _read_spec_file(path: Path) -> WorkloadSpec:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as error:
        raise WorkloadError(f"cannot read workload spec {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise WorkloadError(f"workload spec {path} is not valid TOML: {error}") from None
    generator = data.pop("generator", None)
    if generator not in GENERATORS:
        raise WorkloadError(f"workload spec {path}: 'generator' must be one of {', '.join(GENERATORS)}")
    description = str(data.pop("description", ""))
    unknown = sorted(set(data) - _option_names(generator))
    if unknown:
        raise WorkloadError(f"workload spec {path}: unknown option {unknown[0]!r} for generator {generator!r}")
    return WorkloadSpec(path.stem, generator, data, description)


def resolve_options(spec: WorkloadSpec, **given: Any) -> dict[str, Any]:
    """Declared defaults < spec options < ``given`` (None means not given), each generator option as its type."""
    generator = GENERATORS[spec.generator]
    options = {**COMMON_DEFAULTS, **generator.defaults, **spec.options}
    options.update({key: value for key, value in given.items() if value is not None})
    unknown = sorted(set(options) - _option_names(spec.generator))
    if unknown:
        raise WorkloadError(f"workload {spec.name!r} takes no option {unknown[0]!r}")
    return options | {option.name: option.coerce(options[option.name]) for option in generator.options}


def generate(workload: str | Path | WorkloadSpec = "zipf", **options: Any) -> Trace:
    """A reproducible synthetic trace: same workload, options and seed, same requests.

    ``options``: ``requests``, ``objects``, ``rate`` (requests/second of the
    Poisson arrivals), ``seed`` and the options the generator declares
    (``GENERATORS[name].options``).
    """
    spec = workload if isinstance(workload, WorkloadSpec) else load_spec(workload)
    resolved = resolve_options(spec, **options)
    requests, objects, rate = int(resolved["requests"]), int(resolved["objects"]), float(resolved["rate"])
    if requests <= 0 or objects <= 0:
        raise WorkloadError("requests and objects must be positive")
    if rate <= 0:
        raise WorkloadError(f"rate must be positive, got {rate}")
    generator = GENERATORS[spec.generator]
    key_seed, time_seed = np.random.SeedSequence(int(resolved["seed"])).spawn(2)
    own = {name: resolved[name] for name in generator.defaults}
    try:
        keys = generator.keys(np.random.default_rng(key_seed), requests, objects, **own)
    except WorkloadError as error:
        raise WorkloadError(f"workload {spec.name!r}: {error}", parameter=error.parameter) from None
    times = np.cumsum(np.random.default_rng(time_seed).exponential(1.0 / rate, requests))
    return Trace.from_arrays(keys, times, name=spec.name, info={"workload": spec.name, **resolved})


__all__ = ["GENERATORS", "Generator", "Option", "WorkloadSpec", "generate", "load_spec", "resolve_options"]
