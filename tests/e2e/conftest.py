import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

# pylint: disable=wrong-import-position,unused-import
import collection_path  # noqa: E402
import testenv  # noqa: E402
from testenv import admin_fixture, env_fixture, make_namespace_fixture  # noqa: E402,F401

collection_path.add_to_sys_path()

TIMINGS = Path(os.environ.get("REGCRED_E2E_TIMINGS", Path(__file__).resolve().parents[1] / "output" / "e2e" / "timings.json"))


@pytest.fixture(scope="session", name="node")
def node_fixture(env):
    """The node's name. Without a node the suite fails in CI and is skipped, saying so, elsewhere."""
    if "REGCRED_NODE_NAME" not in env:
        message = "the local environment has no node: start it with 'scripts/localenv up --node'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return env["REGCRED_NODE_NAME"]


@pytest.fixture(scope="session", name="timings")
def timings_fixture():
    """Seconds from pod creation to its outcome, written to tests/output/e2e/timings.json."""
    found = {}
    yield found
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps(found, indent=2))


@pytest.fixture(name="namespace")
def namespace_fixture(admin, make_namespace):
    name = make_namespace("e2e")
    testenv.wait_for_default(admin, name)
    return name
