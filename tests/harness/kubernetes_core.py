"""kubernetes.core's own code, for the connection-option parity tests, kept out of .venv.

The ``ansible`` community package of ANSIBLE_VERSION carries kubernetes.core KUBERNETES_CORE_VERSION.
Its wheel is downloaded once with ``pip download --no-deps`` into the cache
(``~/.cache/regcred-k8s/`` or ``$REGCRED_CACHE_DIR``), and only ``ansible_collections/kubernetes/core``
is extracted next to it. That directory goes on sys.path (or ANSIBLE_COLLECTIONS_PATH) in the
tests that use it, never into a virtualenv, so ansible-test sanity never sees it.

``python tests/harness/kubernetes_core.py`` prints the collections directory (downloading first).
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

from binaries import cache_root

ANSIBLE_VERSION = "12.3.0"
KUBERNETES_CORE_VERSION = "6.2.0"
PREFIX = "ansible_collections/kubernetes/core/"
DOWNLOAD_TIMEOUT = 600  # seconds for the whole pip download (about 55 MB)
SOCKET_TIMEOUT = 60  # seconds pip waits on a silent connection


class Unavailable(RuntimeError):
    """kubernetes.core could not be had; the message says why and what to do."""


def _wheel(directory):
    return directory / ("ansible-%s-py3-none-any.whl" % ANSIBLE_VERSION)


def _download(directory):
    directory.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--timeout", str(SOCKET_TIMEOUT), "--dest", str(directory),
               "ansible==%s" % ANSIBLE_VERSION]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise Unavailable("pip download of ansible==%s (for kubernetes.core %s) did not finish within %d s"
                          % (ANSIBLE_VERSION, KUBERNETES_CORE_VERSION, DOWNLOAD_TIMEOUT))
    if done.returncode != 0 or not _wheel(directory).is_file():
        raise Unavailable("pip download of ansible==%s (for kubernetes.core %s) failed (exit %d); PyPI must be "
                          "reachable once, the wheel is cached in %s afterwards:\n%s"
                          % (ANSIBLE_VERSION, KUBERNETES_CORE_VERSION, done.returncode, directory,
                             (done.stderr or done.stdout)[-2000:]))


def _extract(wheel, collections):
    staging = collections.with_name(collections.name + ".partial-%d" % os.getpid())
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith(PREFIX)]
        if not members:
            raise Unavailable("%s holds no %s" % (wheel, PREFIX))
        archive.extractall(staging, members=members)
    manifest = json.loads((staging / PREFIX / "MANIFEST.json").read_text(encoding="utf-8"))
    version = manifest["collection_info"]["version"]
    if version != KUBERNETES_CORE_VERSION:
        raise Unavailable("%s brings kubernetes.core %s, not %s" % (wheel, version, KUBERNETES_CORE_VERSION))
    shutil.rmtree(collections, ignore_errors=True)
    staging.replace(collections)


def collections_dir():
    """The directory holding ``ansible_collections/kubernetes/core``; downloads and extracts it
    on first use. Raises Unavailable with the reason."""
    base = cache_root() / ("kubernetes-core-%s" % KUBERNETES_CORE_VERSION)
    collections = base / "collections"
    if (collections / PREFIX / "MANIFEST.json").is_file():
        return collections
    wheel = _wheel(base)
    if not wheel.is_file():
        _download(base)
    _extract(wheel, collections)
    return collections


def add_to_sys_path():
    path = str(collections_dir())
    if path not in sys.path:
        sys.path.append(path)


if __name__ == "__main__":
    print(collections_dir())
