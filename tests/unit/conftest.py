import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import collection_path  # noqa: E402  pylint: disable=wrong-import-position

collection_path.add_to_sys_path()
