# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which namespaces a task acts on: a list, a label selector, or all, minus exclusions.

Selection costs one LIST of namespaces whatever the count (read in pages of kube.PAGE_SIZE).
That read also tells which namespaces are terminating (they are skipped) and which listed ones
do not exist. A task on one namespace lists only that one (by field selector), so its cost does
not grow with the namespaces in the cluster.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.label_selector import parse_selector
from ansible_collections.regcred.k8s.plugins.module_utils.names import check_dns_label

NAMESPACE_ARG_SPEC = dict(
    namespace=dict(type="str"),
    namespaces=dict(type="list", elements="str"),
    namespace_selector=dict(type="str"),
    all_namespaces=dict(type="bool", default=False),
    exclude_namespaces=dict(type="list", elements="str", default=[]),
)
NAMESPACE_MUTUALLY_EXCLUSIVE = [("namespace", "namespaces", "namespace_selector", "all_namespaces")]


class Selection:
    """``names``: namespaces to act on, sorted. ``skipped``: {namespace: reason} for listed or
    matched namespaces that are left alone. ``missing``: listed namespaces that do not exist."""

    def __init__(self, names, skipped, missing):
        self.names, self.skipped, self.missing = names, skipped, missing


def validate(params):
    """Check names before any API call; returns the explicitly listed namespaces or None."""
    listed = None
    if params.get("namespace_selector") is not None:
        # Checked before anything else: a blank selector would otherwise select every namespace.
        parse_selector(params["namespace_selector"], "namespace_selector")
    if params.get("namespace"):
        listed = [params["namespace"]]
    elif params.get("namespaces") is not None:
        listed = params["namespaces"]
        if not listed:
            raise InputError("namespaces", "must list at least one namespace")
    elif not params.get("namespace_selector") and not params.get("all_namespaces"):
        raise InputError(None, "one of namespace, namespaces, namespace_selector or all_namespaces is required")
    field = "namespace" if params.get("namespace") else "namespaces"
    for index, name in enumerate(listed or []):
        check_dns_label(name, field if params.get("namespace") else "%s[%d]" % (field, index))
    for index, name in enumerate(params.get("exclude_namespaces") or []):
        check_dns_label(name, "exclude_namespaces[%d]" % index)
    return listed


def choose(items, listed, excluded, selector=None):
    """Pure: the Selection from namespace objects (dicts) returned by the LIST.

    ``items`` is None when the identity may not list namespaces; listed names are then taken
    as they are, and the apiserver's answer to each write tells whether they exist.
    """
    excluded = set(excluded or [])
    skipped, missing = {}, []
    phases = None if items is None else dict(
        (ns["metadata"]["name"], (ns.get("status") or {}).get("phase", "Active")) for ns in items)
    candidates = listed if listed is not None else sorted(phases or {})
    names = []
    for name in dict.fromkeys(candidates):  # keeps order, drops repeats
        if name in excluded:
            skipped[name] = "excluded by exclude_namespaces"
        elif phases is not None and name not in phases:
            missing.append(name)
        elif phases is not None and phases[name] == "Terminating":
            skipped[name] = "namespace is terminating"
        else:
            names.append(name)
    if not names and not missing and not skipped:
        what = ("namespace_selector %r" % selector) if selector else "the namespace selection"
        raise InputError("namespace_selector" if selector else None, "%s matches no namespace" % what, prefixed=False)
    return Selection(sorted(names), skipped, missing)


def list_query(params, listed):
    """Pure: the query of the LIST of namespaces. One listed namespace is asked for by name: the
    same permission (list) and answer, without reading every namespace of the cluster."""
    if params.get("namespace_selector"):
        return {"labelSelector": params["namespace_selector"]}
    if listed is not None and len(set(listed)) == 1:
        return {"fieldSelector": "metadata.name=%s" % listed[0]}
    return {}


def select(kube, params):
    """One LIST of namespaces, then choose()."""
    listed = validate(params)
    try:
        items = kube.list_items("/api/v1/namespaces", list_query(params, listed))
    except KubeError as exc:
        if exc.status == 400 and params.get("namespace_selector"):
            raise InputError("namespace_selector", str(exc))
        if exc.status != 403 or listed is None:
            raise
        items = None
    return choose(items, listed, params.get("exclude_namespaces"), params.get("namespace_selector"))
