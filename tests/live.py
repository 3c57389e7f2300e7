"""Real servers for the tests: a missing binary skips a test outside CI and fails it in CI
(``.ci/run`` installs Debian's redis-server and memcached, so there every live test runs)."""

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_binary(name: str) -> None:
    """Skip (outside CI) or fail (in CI) unless ``name`` is on PATH."""
    if shutil.which(name) is None:
        message = f"{name} not on PATH (apt-get install {name})"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the live tests (see .ci/servers.sh)")
        pytest.skip(message)
