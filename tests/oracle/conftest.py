"""The oracles of the differential tests. kubelet-oracle: built (or taken from the cache) once,
started once per session, asked one case per line, and stopped by its PID at the end.
kubernetes.core: its code, downloaded once into the cache and put on sys.path only here."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import collection_path  # noqa: E402  pylint: disable=wrong-import-position
import kubelet_oracle  # noqa: E402  pylint: disable=wrong-import-position
import kubernetes_core  # noqa: E402  pylint: disable=wrong-import-position

collection_path.add_to_sys_path()


@pytest.fixture(scope="session")
def oracle():
    running = kubelet_oracle.started()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def kubernetes_core_client():
    """kubernetes.core's module_utils/k8s/client.py; the test fails (never skips) without it."""
    try:
        kubernetes_core.add_to_sys_path()
    except kubernetes_core.Unavailable as exc:
        pytest.fail("kubernetes.core %s is needed as the oracle: %s" % (kubernetes_core.KUBERNETES_CORE_VERSION, exc))
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client  # pylint: disable=import-outside-toplevel
    return client
