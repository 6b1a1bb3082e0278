# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply planned changes concurrently, with a bound, and retry optimistic-concurrency conflicts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.regcred.k8s.plugins.module_utils.errors import KubeError, RegcredError

NOT_ATTEMPTED = "not attempted: an earlier namespace failed and fail_fast is set"

# Options every multi-namespace module shares; documented in the doc fragment regcred.k8s.namespaces.
RUN_ARG_SPEC = dict(
    ignore_failures=dict(type="bool", default=False),
    fail_fast=dict(type="bool", default=False),
    parallel=dict(type="int", default=10),
)
CHANGED_RESULTS = ("created", "updated", "replaced", "deleted")
CONFLICT_ATTEMPTS = 10
CONFLICT_BACKOFF = 0.05  # seconds, times the attempt number, jittered


class Outcome:
    """``ok`` is True (``value`` holds the result), False (``error`` holds a RegcredError) or None (not attempted because of fail_fast)."""

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
        except RegcredError as exc:
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
    reads the object again so the next attempt plans against what is really stored. The
    jittered pause keeps many writers of one object from colliding in lock step."""
    current, done = None, 0
    while True:
        try:
            return attempt(current)
        except KubeError as exc:
            done += 1
            if exc.status != 409 or done == attempts:
                raise
            time.sleep(random.uniform(0, CONFLICT_BACKOFF * done))
            current = refresh()


def summarize(results):
    """{result word: count} over {namespace: {"result": word, ...}}."""
    summary = {}
    for item in results.values():
        summary[item["result"]] = summary.get(item["result"], 0) + 1
    return summary


def finish(module, results, **extra):
    """exit_json, or fail_json naming each failed namespace unless ignore_failures is set."""
    summary = summarize(results)
    result = dict(changed=any(summary.get(w) for w in CHANGED_RESULTS),
                  namespaces=dict(sorted(results.items())), summary=summary, **extra)
    failed = sorted(n for n, r in results.items() if r["result"] == "failed")
    if failed and not module.params["ignore_failures"]:
        module.fail_json(msg="%d namespace(s) failed: %s" % (len(failed), "; ".join(
            "%s: %s" % (n, results[n]["reason"]) for n in failed)), **result)
    module.exit_json(**result)


def record_outcomes(results, outcomes):
    """Fold run_all() outcomes into per-namespace results; a value is a result dict."""
    for name, outcome in outcomes.items():
        if outcome.ok:
            results[name] = outcome.value
        else:
            results[name] = {"result": "failed" if outcome.ok is False else "skipped",
                             "reason": str(outcome.error)}
