"""The kubelet-oracle process for the differential tests: built (or taken from the cache) once,
started once per session, asked one case per line, and stopped by its PID at the end."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import collection_path  # noqa: E402  pylint: disable=wrong-import-position
import kubelet_oracle  # noqa: E402  pylint: disable=wrong-import-position

collection_path.add_to_sys_path()


@pytest.fixture(scope="session")
def oracle():
    running = kubelet_oracle.started()
    yield running
    running.stop()
