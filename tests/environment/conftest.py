import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import testenv  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session", name="env")
def env_fixture():
    """The running local environment. A missing environment is an error, never a skip."""
    return testenv.load_env()
