# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain Kubernetes objects that the collection owns, such as the refresh CronJob and its RBAC:
their checks, API paths, ownership and plan. Pure; the module ``manifests`` does the I/O.

An object is written with server-side apply and compared, as the apiserver would store it
(a dry run), with what it stores now, less the fields the apiserver keeps for itself, so that a
rerun that changes nothing writes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
from urllib.parse import quote

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, StateError
from ansible_collections.regcred.k8s.plugins.module_utils.names import (check_dns_label, check_dns_subdomain,
                                                                        check_labels)

_API_VERSION = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?v[0-9]+([a-z]+[0-9]+)?")
_KIND = re.compile(r"[A-Z][A-Za-z0-9]*")
# Fields the apiserver sets on every write: a difference in them is no difference in the object.
SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")
# Secrets hold credentials; registry_pull_secret writes them and keeps them out of diffs and returns.
REFUSED_KINDS = {("v1", "Secret"): "Secrets are written by regcred.k8s.registry_pull_secret, which keeps their "
                                   "data out of diffs and return values"}


class Manifest:
    """One checked object: ``field`` names it in errors (``definitions[2]``), ``body`` is the
    object as given."""

    def __init__(self, field, body):
        self.field, self.body = field, body
        self.api_version, self.kind = body["apiVersion"], body["kind"]
        self.name = body["metadata"]["name"]
        self.namespace = body["metadata"].get("namespace")

    @property
    def ref(self):
        """``kind/name`` or ``namespace/kind/name``, as results and diffs name the object."""
        return "/".join(p for p in (self.namespace, self.kind, self.name) if p)


def check_definitions(definitions, owner_label):
    """The Manifests of ``definitions``, in order; InputError naming the first entry at fault.
    With ``owner_label``, every object must carry that label: it is how a later run recognises
    the objects it may change or delete."""
    if not definitions:
        raise InputError("definitions", "list at least one object")
    manifests, seen = [], {}
    for index, body in enumerate(definitions):
        field = "definitions[%d]" % index
        manifest = Manifest(field, _checked(body, field, owner_label))
        key = (manifest.api_version.rpartition("/")[0], manifest.kind, manifest.namespace, manifest.name)
        if key in seen:
            raise InputError(field, "%s is listed twice (first as %s)" % (manifest.ref, seen[key]))
        seen[key] = field
        manifests.append(manifest)
    return manifests


def _checked(body, field, owner_label):
    if not isinstance(body, dict):
        raise InputError(field, "is a %s; each object is a mapping with apiVersion, kind and metadata"
                         % type(body).__name__)
    api_version, kind, metadata = body.get("apiVersion"), body.get("kind"), body.get("metadata")
    if not isinstance(api_version, str) or not _API_VERSION.fullmatch(api_version):
        raise InputError(field + ".apiVersion", "%r is not an API version such as v1 or batch/v1" % (api_version,))
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise InputError(field + ".kind", "%r is not a kind such as CronJob" % (kind,))
    if (api_version, kind) in REFUSED_KINDS:
        raise InputError(field + ".kind", REFUSED_KINDS[(api_version, kind)])
    if not isinstance(metadata, dict):
        raise InputError(field + ".metadata", "is missing; it holds at least the name")
    check_dns_subdomain(metadata.get("name"), field + ".metadata.name")
    if metadata.get("namespace") is not None:
        check_dns_label(metadata["namespace"], field + ".metadata.namespace")
    labels = metadata.get("labels")
    if labels is not None and not isinstance(labels, dict):
        raise InputError(field + ".metadata.labels", "is not a mapping")
    check_labels(labels, field + ".metadata.labels")
    if owner_label and not (labels or {}).get(owner_label):
        raise InputError(field + ".metadata.labels", "has no %s label; set it, as the objects this task may change "
                         "or delete are recognised by it (owner_label)" % owner_label)
    return body


def resource_kinds(resource_list):
    """``{kind: (resource, namespaced)}`` of an APIResourceList (the answer of GET /api/v1 or
    /apis/GROUP/VERSION), without subresources such as ``cronjobs/status``."""
    kinds = {}
    for resource in (resource_list or {}).get("resources") or []:
        if "/" not in resource.get("name", "/"):
            kinds[resource["kind"]] = (resource["name"], bool(resource.get("namespaced")))
    return kinds


def group_version_path(api_version):
    """The discovery path of an API version: /api/v1 for the core group, /apis/GROUP/VERSION otherwise."""
    return "/api/" + api_version if "/" not in api_version else "/apis/" + api_version


def object_path(manifest, resource, namespaced):
    """The API path of one object, its segments escaped; InputError when its namespace does not
    fit the kind's scope (the apiserver would file it elsewhere or refuse it)."""
    if namespaced and not manifest.namespace:
        raise InputError(manifest.field + ".metadata.namespace", "%s is namespaced; set its namespace" % manifest.kind)
    if not namespaced and manifest.namespace:
        raise InputError(manifest.field + ".metadata.namespace", "%s is cluster-scoped; leave out the namespace"
                         % manifest.kind)
    parts = [group_version_path(manifest.api_version)]
    if namespaced:
        parts += ["namespaces", quote(manifest.namespace, safe="")]
    parts += [resource, quote(manifest.name, safe="")]
    return "/".join(parts)


def check_owner(manifest, current, owner_label):
    """StateError when an object that already exists is not ours: its ``owner_label`` differs from
    the manifest's. Checked for every object before the first write."""
    if current is None or not owner_label:
        return
    want = manifest.body["metadata"]["labels"][owner_label]
    have = ((current.get("metadata") or {}).get("labels") or {}).get(owner_label)
    if have != want:
        raise StateError("%s: %s exists and is not managed by this task (label %s is %s, not %r); nothing was "
                         "changed. Rename the object, or delete it first if it is a leftover"
                         % (manifest.field, manifest.ref, owner_label, "missing" if have is None else repr(have), want))


def comparable(obj):
    """``obj`` without its status and the metadata the apiserver keeps for itself."""
    if obj is None:
        return None
    result = copy.deepcopy(obj)
    result.pop("status", None)
    metadata = result.get("metadata") or {}
    for key in SERVER_METADATA:
        metadata.pop(key, None)
    return result


def planned(current, applied):
    """``created``, ``updated`` or ``unchanged``: ``current`` is the stored object (None when it
    does not exist), ``applied`` the apiserver's answer to a dry-run apply of the manifest."""
    if current is None:
        return "created"
    return "unchanged" if comparable(current) == comparable(applied) else "updated"


def removal(current):
    """``deleted`` when the object exists and is not already being deleted, else ``absent``."""
    if current is None or (current.get("metadata") or {}).get("deletionTimestamp"):
        return "absent"
    return "deleted"


def diff_entry(manifest, before, after):
    """One diff of the task: the object before and after, as comparable() shows them."""
    return {"before_header": manifest.ref, "after_header": manifest.ref,
            "before": comparable(before) or {}, "after": comparable(after) or {}}
