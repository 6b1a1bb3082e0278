# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and writes of ServiceAccounts and Secret names across namespaces, few requests each."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.regcred.k8s.plugins.module_utils.errors import KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.kube import core_path
from ansible_collections.regcred.k8s.plugins.module_utils.reconcile import run_all

# Secret metadata only: knowing which Secrets exist must not download their data.
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA_ONLY_ONE = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
WAIT_INTERVAL = 0.25


def _by_namespace(items, namespaces):
    grouped = dict((ns, {}) for ns in namespaces)
    for item in items:
        meta = item["metadata"]
        if meta["namespace"] in grouped:
            grouped[meta["namespace"]][meta["name"]] = item
    return grouped


class ServiceAccountStore:
    def __init__(self, kube, parallel):
        self.kube, self.parallel = kube, parallel

    def _list_everywhere(self, resource, namespaces, query, accept="application/json"):
        """({namespace: {name: object}}, {namespace: KubeError}) with one cluster-wide LIST (in
        pages), or one LIST per namespace for an identity that may not list cluster-wide."""
        try:
            items = self.kube.list_items("/api/v1/%s" % resource, query, accept=accept)
            return _by_namespace(items, namespaces), {}
        except KubeError as exc:
            if exc.status != 403:
                raise

        def one(namespace):
            return self.kube.list_items(core_path("namespaces", namespace, resource), query, accept=accept)

        outcomes = run_all(namespaces, one, self.parallel)
        found = _by_namespace([i for o in outcomes.values() if o.ok for i in o.value], namespaces)
        errors = dict((ns, o.error) for ns, o in outcomes.items() if not o.ok)
        for namespace in errors:
            found.pop(namespace, None)
        return found, errors

    def service_accounts(self, namespaces, names=None, selector=None):
        """ServiceAccounts by namespace and name: all, by label selector, or by names."""
        query = {}
        if selector:
            query["labelSelector"] = selector
        elif names and len(names) == 1:
            query["fieldSelector"] = "metadata.name=%s" % names[0]
        found, errors = self._list_everywhere("serviceaccounts", namespaces, query)
        if names and not selector:
            for accounts in found.values():
                for name in list(accounts):
                    if name not in names:
                        del accounts[name]
        return found, errors

    def secret_names(self, namespaces, wanted):
        """({namespace: the names of ``wanted`` that exist there}, {namespace: KubeError}), reading
        metadata only. An identity that may read only these Secrets by name (the refresh job's)
        cannot list them, so a 403 falls back to one GET per namespace and name."""
        query = {"fieldSelector": "metadata.name=%s" % wanted[0]} if len(wanted) == 1 else {}
        found, errors = self._list_everywhere("secrets", namespaces, query, accept=METADATA_ONLY)
        names = dict((ns, set(secrets) & set(wanted)) for ns, secrets in found.items())
        forbidden = [ns for ns, error in errors.items() if error.status == 403]
        if forbidden:
            def by_name(namespace):
                return set(name for name in wanted if self._exists("secrets", namespace, name))

            outcomes = run_all(forbidden, by_name, self.parallel)
            for namespace, outcome in outcomes.items():
                if outcome.ok:
                    names[namespace] = outcome.value
                    del errors[namespace]
                else:
                    errors[namespace] = outcome.error
        return names, errors

    def _exists(self, resource, namespace, name):
        return self.kube.get(core_path("namespaces", namespace, resource, name), accept=METADATA_ONLY_ONE) is not None

    def get(self, namespace, name):
        return self.kube.get(core_path("namespaces", namespace, "serviceaccounts", name))

    def wait_for(self, namespace, name, timeout):
        """The ServiceAccount once it exists (the controller-manager makes ``default`` shortly
        after a namespace is created), or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            account = self.get(namespace, name)
            if account is not None or time.monotonic() >= deadline:
                return account
            time.sleep(WAIT_INTERVAL)

    def create(self, namespace, name):
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}
        try:
            return self.kube.request("POST", core_path("namespaces", namespace, "serviceaccounts"), body=body)
        except KubeError as exc:
            if exc.status != 409:  # made meanwhile, by the controller or someone else
                raise
        return self.get(namespace, name)

    def update(self, account, entries=None, annotations=None):
        """Write imagePullSecrets (when ``entries`` is not None) and the annotation changes of
        ``annotations`` (key: value, or None to remove it; other keys are left as they are) in one
        merge patch with the resourceVersion read, so a concurrent change makes the apiserver
        answer 409 instead of being overwritten."""
        meta = account["metadata"]
        body = {"metadata": {"resourceVersion": meta["resourceVersion"]}}
        if entries is not None:
            body["imagePullSecrets"] = entries
        if annotations:
            body["metadata"]["annotations"] = annotations
        return self.kube.request("PATCH", core_path("namespaces", meta["namespace"], "serviceaccounts", meta["name"]),
                                 body=body, content_type="application/merge-patch+json")
