# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event source regcred.k8s.k8s_watch: Namespaces and ServiceAccounts as they are added.

LIST then WATCH of each kind with the collection's own connection code (the modules' options and
K8S_AUTH_* variables), bookmarks on, resuming from the last resourceVersion, a fresh LIST after
410 Gone and reconnects with backoff. Each event holds an object's kind, name, namespace, labels
and the event type, never its data; with batch_window, Namespace events that come close together
are emitted as one event with the list of them under ``batch``. See docs/event-driven.md.

Arguments: kinds (Namespace, ServiceAccount), label_selector, namespace_selector, watch_timeout,
backoff_initial, backoff_max, batch_window, and the connection options kubeconfig, context, host, api_key,
validate_certs, ca_cert, client_cert, client_key, proxy, impersonate_user, impersonate_groups,
request_timeout.
"""

import asyncio
import logging
import os
import sys
import threading
from pathlib import Path

try:
    from ansible_collections.regcred.k8s.plugins.module_utils import watch_events
except ImportError:  # ansible-rulebook runs this file by path: import the collection around it
    sys.path.insert(0, str(Path(os.path.abspath(__file__)).parents[7]))
    from ansible_collections.regcred.k8s.plugins.module_utils import watch_events
from ansible_collections.regcred.k8s.plugins.module_utils.event_batches import Batcher
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.kube import Kube, core_path
from ansible_collections.regcred.k8s.plugins.module_utils.version import user_agent

LOG = logging.getLogger("regcred.k8s.k8s_watch")


class Selected:
    """Which namespaces the namespace selector picks, for the events of namespaced kinds."""

    def __init__(self, params):
        self.selector = params.get("namespace_selector")
        self.names = set()

    def refresh(self, kube):
        if self.selector:
            body = kube.request("GET", core_path("namespaces"), query={"labelSelector": self.selector})
            self.names = {item["metadata"]["name"] for item in body.get("items") or []}

    def admits(self, kube, event):
        if not self.selector or event["kind"] == "Namespace" or event["namespace"] in self.names:
            return True
        if event["listed"]:  # the LIST of namespaces was just refreshed: no request per object
            return False
        # A watched object in a namespace that may have been labelled since: ask for that one.
        body = kube.request("GET", core_path("namespaces"), query={
            "labelSelector": self.selector, "fieldSelector": "metadata.name=%s" % event["namespace"]})
        if body.get("items"):
            self.names.add(event["namespace"])
            return True
        return False


def watch(kind, params, emit, stop):
    """LIST then WATCH ``kind`` until ``stop`` is set, calling ``emit`` with each event."""
    tracker, selected = watch_events.Tracker(kind), Selected(params)
    path = core_path(watch_events.RESOURCES[kind])
    kube, attempt = None, 0
    while not stop.is_set():
        try:
            if kube is None:
                kube = Kube(params, user_agent("k8s_watch"))
            if tracker.version is None:
                selected.refresh(kube)
                body = kube.request("GET", path, query=watch_events.list_query(kind, params))
                for event in tracker.relist(body):
                    if selected.admits(kube, event):
                        emit(event)
                LOG.info("%s: listed at resourceVersion %s", kind, tracker.version)
            lines = kube.watch_lines(path, watch_events.watch_query(kind, params, tracker.version),
                                     params["watch_timeout"] + kube.conn.timeout)
            for line in lines:
                for event in tracker.apply(*watch_events.parse_line(line)):
                    if selected.admits(kube, event):
                        emit(event)
                attempt = 0
                if stop.is_set():
                    return
        except InputError:
            raise
        except watch_events.Gone as exc:
            LOG.info("%s: %s; listing again", kind, exc)
            tracker.version = None
        except (KubeError, ValueError) as exc:
            if isinstance(exc, KubeError) and exc.status == 410:
                tracker.version = None
                continue
            attempt += 1
            delay = watch_events.backoff(attempt, params["backoff_initial"], params["backoff_max"])
            LOG.warning("%s: %s; connecting again in %g s", kind, exc, delay)
            if kube is not None:
                kube.close()
                kube = None
            stop.wait(delay)


async def forward(raw, queue, batcher):
    """Hand the watching threads' events (from ``raw``) to ansible-rulebook's ``queue``, batched.
    One pending get at a time, kept across the waits for a batch, so that no event is lost."""
    loop = asyncio.get_running_loop()
    getting = None
    try:
        while True:
            getting = getting or asyncio.ensure_future(raw.get())
            due = batcher.next_due()
            done, _pending = await asyncio.wait({getting}, timeout=None if due is None else max(0.0, due - loop.time()))
            now = loop.time()
            ready = batcher.add(getting.result(), now) if done else []
            getting = None if done else getting
            for event in ready + batcher.due(now):
                await queue.put(event)
    finally:
        if getting:
            getting.cancel()


async def main(queue, args):
    """The entry point ansible-rulebook calls: one watching thread per kind."""
    params = watch_events.settings(args)
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    finished = loop.create_future()
    raw = asyncio.Queue()

    def emit(event):
        asyncio.run_coroutine_threadsafe(raw.put(event), loop).result()

    def settle(error):
        if not finished.done():
            if error is None:
                finished.set_result(None)
            else:
                finished.set_exception(error)

    def run(kind):
        try:
            watch(kind, params, emit, stop)
        except Exception as exc:  # pylint: disable=broad-except  # handed to the event loop
            loop.call_soon_threadsafe(settle, exc)
        else:
            loop.call_soon_threadsafe(settle, None)

    forwarding = asyncio.ensure_future(forward(raw, queue, Batcher(params["batch_window"])))
    for kind in params["kinds"]:
        # Daemon threads: a watch blocked in a read must not hold up ansible-rulebook's exit.
        threading.Thread(target=run, args=(kind,), name="k8s_watch-" + kind, daemon=True).start()
    try:
        done, _pending = await asyncio.wait({finished, forwarding}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        stop.set()
        forwarding.cancel()
