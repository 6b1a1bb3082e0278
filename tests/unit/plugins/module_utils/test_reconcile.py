import threading
import time

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.reconcile import NOT_ATTEMPTED, retry_on_conflict, run_all


def test_run_all_bounds_concurrency_and_collects_errors():
    running, peak, lock = [0], [0], threading.Lock()
    # The first works hold on until four run at once (or two seconds pass): a serial run stays at
    # one, an unbounded one goes past four.
    deadline = time.monotonic() + 2

    def work(key):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        while peak[0] < 4 and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        if key == 3:
            raise KubeError("forbidden (HTTP 403)", 403)
        return key * 2

    out = run_all(range(20), work, workers=4)
    assert peak[0] == 4, "run_all ran %d works at once, not its bound of 4" % peak[0]
    assert out[5].ok is True and out[5].value == 10
    assert out[3].ok is False and out[3].error.status == 403


def test_run_all_fail_fast_stops_starting_new_work():
    def work(key):
        if key == 0:
            raise InputError("x", "boom")
        return key

    out = run_all(range(50), work, workers=1, fail_fast=True)
    assert out[0].ok is False
    assert out[49].ok is None and out[49].error == NOT_ATTEMPTED


def test_run_all_lets_a_bug_through():
    """Only a RegcredError is a namespace's failure; anything else is a bug for the module to report."""
    def work(key):
        raise KeyError(key)

    with pytest.raises(KeyError):
        run_all(range(3), work, workers=2)


def test_retry_on_conflict_refreshes_then_succeeds():
    calls, refreshed = [], []

    def attempt(current):
        calls.append(current)
        if len(calls) < 3:
            raise KubeError("conflict", 409)
        return "done"

    assert retry_on_conflict(attempt, lambda: refreshed.append(1) or len(refreshed)) == "done"
    assert calls == [None, 1, 2]


def always(status):
    def attempt(current):
        raise KubeError("refused", status)
    return attempt


def test_retry_on_conflict_gives_up_and_passes_other_errors():
    with pytest.raises(KubeError) as exc:
        retry_on_conflict(always(409), lambda: None, attempts=3)
    assert exc.value.status == 409
    with pytest.raises(KubeError) as exc:
        retry_on_conflict(always(403), lambda: None)
    assert exc.value.status == 403
