# Two entry points for a fresh machine: `make bench` (set up, then compare every
# policy on the zipf workload) and `make test` (set up, then the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup bench test lint coverage benchmarks clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

bench: setup
	$(BIN)/cachetune bench --workload zipf

lint: setup
	$(BIN)/ruff check tuner tests benchmarks
	$(BIN)/ruff format --check tuner tests benchmarks

# The suite with compiled kernels, one worker per core: most of its time is numba compiling each
# policy's loop, which the workers share through the on-disk kernel cache.
test: lint
	$(BIN)/python -m pytest -q -n auto --dist worksteal

# The suite with numba's JIT off, so coverage sees inside the kernels (large traces skip).
coverage: setup
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q -n auto --dist worksteal --cov=tuner --cov-report=term:skip-covered

benchmarks: setup
	$(BIN)/python benchmarks/bench_throughput.py
	$(BIN)/python benchmarks/bench_readers.py
	$(BIN)/python benchmarks/bench_mrc.py
	$(BIN)/python benchmarks/bench_writes.py
	$(BIN)/python benchmarks/bench_redis_models.py
	$(BIN)/python benchmarks/bench_memcached_model.py
	$(BIN)/python benchmarks/bench_capture.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .coverage
