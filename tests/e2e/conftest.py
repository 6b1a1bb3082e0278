import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

# pylint: disable=wrong-import-position,unused-import
import collection_path  # noqa: E402
import testenv  # noqa: E402
from testenv import admin_fixture, env_fixture, make_namespace_fixture, node_fixture  # noqa: E402,F401

collection_path.add_to_sys_path()

TIMINGS = Path(os.environ.get("REGCRED_E2E_TIMINGS", Path(__file__).resolve().parents[1] / "output" / "e2e" / "timings.json"))


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
