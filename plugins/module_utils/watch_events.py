# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure part of the event source ``regcred.k8s.k8s_watch``: its options, the events it emits,
the resourceVersion bookkeeping of LIST then WATCH, and the reconnect backoff. No I/O here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError
from ansible_collections.regcred.k8s.plugins.module_utils.k8s_auth_spec import AUTH_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.label_selector import parse_selector

# The kinds the source watches, and their core/v1 resource names.
RESOURCES = {"Namespace": "namespaces", "ServiceAccount": "serviceaccounts"}

SOURCE_ARG_SPEC = dict(
    AUTH_ARG_SPEC,
    kinds=dict(type="list", elements="str", default=["Namespace", "ServiceAccount"]),
    label_selector=dict(type="str"),
    namespace_selector=dict(type="str"),
    watch_timeout=dict(type="int", default=120),
    backoff_initial=dict(type="float", default=1.0),
    backoff_max=dict(type="float", default=30.0),
    batch_window=dict(type="float", default=0.0),
)


class Gone(Exception):
    """The watch's resourceVersion is too old (HTTP 410): only a fresh LIST can go on."""


def settings(args):
    """The validated options of the source, with the ``K8S_AUTH_*`` fallbacks of the modules
    applied; InputError naming the option otherwise. Nothing is sent before this passes."""
    args = {key: value for key, value in (args or {}).items() if not key.startswith("eda_")}
    result = ArgumentSpecValidator(SOURCE_ARG_SPEC).validate(args)
    if result.error_messages:
        # The validator's messages name the option and never echo a no_log value.
        raise InputError(None, "k8s_watch: %s" % "; ".join(result.error_messages))
    params = result.validated_parameters
    unknown = [kind for kind in params["kinds"] if kind not in RESOURCES]
    if unknown or not params["kinds"]:
        raise InputError("kinds", "must list one or more of %s, not %s"
                         % (", ".join(sorted(RESOURCES)), ", ".join(unknown) or "nothing"))
    for field in ("label_selector", "namespace_selector"):
        if params[field] is not None:
            parse_selector(params[field], field)
    if params["watch_timeout"] < 1:
        raise InputError("watch_timeout", "must be at least 1 second")
    if not 0 < params["backoff_initial"] <= params["backoff_max"]:
        raise InputError("backoff_initial", "must be above 0 and at most backoff_max")
    if params["batch_window"] < 0:
        raise InputError("batch_window", "must be 0 (no batches) or more seconds")
    return params


def list_query(kind, params):
    """The query of the LIST of ``kind``: the label selector, and for Namespaces the namespace
    selector as well (the apiserver filters, so unselected namespaces never arrive)."""
    selectors = [params.get("label_selector")]
    if kind == "Namespace":
        selectors.append(params.get("namespace_selector"))
    selector = ",".join(s for s in selectors if s)
    return {"labelSelector": selector} if selector else {}


def watch_query(kind, params, resource_version):
    """The query of the WATCH of ``kind`` from ``resource_version``: bookmarks on, and the
    apiserver ends it after ``watch_timeout`` seconds so that a half-open connection is noticed."""
    return dict(list_query(kind, params), watch="1", allowWatchBookmarks="true",
                resourceVersion=resource_version, timeoutSeconds=str(params["watch_timeout"]))


def event(kind, event_type, obj, listed=False):
    """The event for one object: metadata only, never an object's data or spec. A Namespace's
    ``namespace`` is its own name, so one rule can use ``event.namespace`` for both kinds."""
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    return {
        "type": event_type,
        "kind": kind,
        "name": name,
        "namespace": name if kind == "Namespace" else meta.get("namespace"),
        "labels": dict(meta.get("labels") or {}),
        "uid": meta.get("uid"),
        "resource_version": meta.get("resourceVersion"),
        "listed": listed,
    }


def parse_line(line):
    """``(type, object)`` of one line of a watch stream. An ERROR line raises Gone for HTTP 410
    and ValueError for anything else."""
    try:
        data = json.loads(line)
    except ValueError:
        raise ValueError("the watch sent a line that is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise ValueError("the watch sent an entry without an object")
    if data.get("type") == "ERROR":
        status = data["object"]
        if status.get("code") == 410:
            raise Gone(status.get("message") or "resourceVersion too old")
        raise ValueError("the watch failed: %s (HTTP %s)" % (status.get("message"), status.get("code")))
    return data.get("type"), data["object"]


class Tracker:
    """What one kind's LIST and WATCH have shown: each object's uid and resourceVersion, and the
    resourceVersion to resume the watch from."""

    def __init__(self, kind):
        self.kind = kind
        self.known = {}
        self.version = None

    def relist(self, body):
        """The events that a fresh LIST implies: ADDED for objects not seen before (every object
        on the first LIST), MODIFIED for changed ones, DELETED for those that are gone."""
        items = body.get("items") or []
        self.version = (body.get("metadata") or {}).get("resourceVersion")
        events, seen = [], {}
        for obj in items:
            meta = obj.get("metadata") or {}
            uid, version = meta.get("uid"), meta.get("resourceVersion")
            seen[uid] = (obj, version)
            if uid not in self.known:
                events.append(event(self.kind, "ADDED", obj, listed=True))
            elif self.known[uid][1] != version:
                events.append(event(self.kind, "MODIFIED", obj, listed=True))
        for uid, (obj, _version) in self.known.items():
            if uid not in seen:
                events.append(event(self.kind, "DELETED", obj, listed=True))
        self.known = {uid: (_metadata_only(obj), version) for uid, (obj, version) in seen.items()}
        return events

    def apply(self, event_type, obj):
        """The events for one watch entry (none for a bookmark); moves the resume point on."""
        meta = obj.get("metadata") or {}
        if meta.get("resourceVersion"):
            self.version = meta["resourceVersion"]
        if event_type == "BOOKMARK":
            return []
        uid = meta.get("uid")
        if event_type == "DELETED":
            self.known.pop(uid, None)
        else:
            self.known[uid] = (_metadata_only(obj), meta.get("resourceVersion"))
        return [event(self.kind, event_type, obj)]


def _metadata_only(obj):
    """What the tracker keeps of an object: its metadata, enough for a later DELETED event."""
    return {"metadata": dict(obj.get("metadata") or {})}


def backoff(attempt, initial, maximum):
    """Seconds to wait before reconnect ``attempt`` (1, 2, ...): doubling from ``initial``, at most ``maximum``."""
    return min(maximum, initial * 2 ** min(max(attempt - 1, 0), 32))
