# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply planned changes concurrently, with a bound, and retry optimistic-concurrency conflicts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.regcred.k8s.plugins.module_utils.kube import KubeError

NOT_ATTEMPTED = "not attempted: an earlier namespace failed and fail_fast is set"
CONFLICT_ATTEMPTS = 8


class Outcome:
    """``ok`` is True (``value`` holds the result), False (``error`` holds a KubeError or
    ValueError) or None (not attempted because of fail_fast)."""

    def __init__(self, ok, value=None, error=None):
        self.ok, self.value, self.error = ok, value, error


def run_all(keys, work, workers, fail_fast=False):
    """``work(key)`` for every key, at most ``workers`` at a time; {key: Outcome}."""
    stop = threading.Event()

    def guarded(key):
        if stop.is_set():
            return Outcome(None, error=NOT_ATTEMPTED)
        try:
            return Outcome(True, work(key))
        except (KubeError, ValueError) as exc:
            if fail_fast:
                stop.set()
            return Outcome(False, error=exc)

    keys = list(keys)
    if not keys:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(keys)))) as pool:
        return dict(zip(keys, pool.map(guarded, keys)))


def retry_on_conflict(attempt, refresh, attempts=CONFLICT_ATTEMPTS):
    """``attempt(current)`` until it does not hit HTTP 409; after a conflict ``refresh()``
    reads the object again so the next attempt plans against what is really stored."""
    current, left = None, attempts
    while True:
        try:
            return attempt(current)
        except KubeError as exc:
            left -= 1
            if exc.status != 409 or left == 0:
                raise
            current = refresh()
