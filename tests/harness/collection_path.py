"""Makes this checkout importable as the collection regcred.k8s.

Links the repository at tests/output/collections/ansible_collections/regcred/k8s and returns
(or prints) tests/output/collections, for sys.path or ANSIBLE_COLLECTIONS_PATH.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ensure():
    collections = ROOT / "tests" / "output" / "collections"
    link = collections / "ansible_collections" / "regcred" / "k8s"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or Path(os.readlink(link)) != ROOT:
        tmp = link.with_name(f".k8s-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(ROOT)
        tmp.replace(link)
    return collections


def add_to_sys_path():
    path = str(ensure())
    if path not in sys.path:
        sys.path.insert(0, path)


if __name__ == "__main__":
    print(ensure())
