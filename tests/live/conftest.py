import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

# pylint: disable=wrong-import-position,unused-import
import collection_path  # noqa: E402
from testenv import admin_fixture, env_fixture, make_namespace_fixture, module_namespace_fixture  # noqa: E402,F401

collection_path.add_to_sys_path()
