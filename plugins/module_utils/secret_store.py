# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and writes of one named Secret across namespaces, with as few requests as possible."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.regcred.k8s.plugins.module_utils.errors import KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.kube import core_path
from ansible_collections.regcred.k8s.plugins.module_utils.reconcile import run_all


def _path(namespace, name=None):
    return core_path("namespaces", namespace, "secrets") if name is None else \
        core_path("namespaces", namespace, "secrets", name)


def _preconditions(secret):
    meta = secret.get("metadata") or {}
    return {"apiVersion": "v1", "kind": "DeleteOptions",
            "preconditions": {"uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")}}


# metadata the apiserver sets, which a create must not carry
_SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
               "deletionTimestamp", "deletionGracePeriodSeconds")


def restorable(secret):
    """The body that creates ``secret`` again: all it holds, without what the apiserver sets."""
    body = {"apiVersion": "v1", "kind": "Secret"}  # items of a LIST carry neither
    body.update((k, v) for k, v in secret.items() if k != "status")
    body["metadata"] = dict((k, v) for k, v in (secret.get("metadata") or {}).items() if k not in _SERVER_SET)
    return body


class SecretStore:
    def __init__(self, kube, name, parallel):
        self.kube, self.name, self.parallel = kube, name, parallel

    def get(self, namespace, name=None):
        """The Secret, or None when it does not exist."""
        return self.kube.get(_path(namespace, name or self.name))

    def read_many(self, namespaces):
        """({namespace: Secret or None}, {namespace: KubeError}).

        One cluster-wide LIST filtered by name (in pages) serves any number of namespaces. An identity
        that may not list Secrets cluster-wide (403) falls back to one GET per namespace.
        """
        if len(namespaces) > 1:
            try:
                items = self.kube.list_items("/api/v1/secrets", {"fieldSelector": "metadata.name=%s" % self.name})
            except KubeError as exc:
                if exc.status != 403:
                    raise
            else:
                found = dict((s["metadata"]["namespace"], s) for s in items)
                return dict((ns, found.get(ns)) for ns in namespaces), {}
        outcomes = run_all(namespaces, self.get, self.parallel)
        secrets = dict((ns, o.value) for ns, o in outcomes.items() if o.ok)
        errors = dict((ns, o.error) for ns, o in outcomes.items() if not o.ok)
        return secrets, errors

    def write(self, namespace, action, current, body):
        """Carry out one planned action: create, update, replace or delete."""
        if action in ("replace", "delete"):
            try:
                self.kube.request("DELETE", _path(namespace, self.name), body=_preconditions(current))
            except KubeError as exc:
                if exc.status != 404:
                    raise
            if action == "delete":
                return
        if action == "replace":
            self._create_or_restore(namespace, current, body)
        elif action == "create":
            self.kube.request("POST", _path(namespace), body=body)
        elif action == "update":
            body = dict(body, metadata=dict(body["metadata"]))
            body["metadata"].pop("managedFields", None)
            self.kube.request("PUT", _path(namespace, self.name), body=body)
        else:
            raise ValueError("unknown action %r" % action)

    def _create_or_restore(self, namespace, previous, body):
        """Create ``body`` where ``previous`` was just deleted; when the apiserver refuses it, create
        ``previous`` again from what was read, so that a failed replace loses nothing."""
        try:
            self.kube.request("POST", _path(namespace), body=body)
        except KubeError as exc:
            try:
                self.kube.request("POST", _path(namespace), body=restorable(previous))
            except KubeError as again:
                raise KubeError("%s; the previous Secret was deleted and could not be restored: %s" % (exc, again),
                                exc.status, exc.reason)
            raise KubeError("%s; the previous Secret was restored as it was" % exc, exc.status, exc.reason)
