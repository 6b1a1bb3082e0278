#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: manifests
short_description: Apply or delete a list of Kubernetes objects that this collection owns
version_added: 1.1.0
description:
  - Creates or updates each object of O(definitions) with server-side apply, or deletes them with
    O(state=absent), through the same connection options and C(K8S_AUTH_*) variables as the
    other modules of this collection. No kubectl and no other collection is needed.
  - Before the first write, every object is checked in this order. Its fields; its kind and scope
    (one discovery request per API version); its ownership (O(owner_label)); and, with
    O(state=present), a server-side dry run of its apply. When any object fails a check, nothing is
    written. The dry run checks each object against the cluster as it is, so an object that needs
    another one of the list to exist first (a namespace, a custom resource definition) fails it.
  - An object is written only when the dry run shows that it would change, so a rerun writes
    nothing and reports no change. Objects are applied in the order given and deleted in the
    reverse order.
  - The role C(regcred.k8s.refresh_cronjob) applies its CronJob, ServiceAccount, RBAC and
    admission policy with this module.
author:
  - regcred.k8s maintainers (@regcred)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - regcred.k8s.k8s_auth
attributes:
  check_mode:
    support: full
    details:
      - Check mode makes the same reads and server-side dry runs, and writes nothing.
  diff_mode:
    support: full
    details:
      - The diff shows each changed object before and after, without its status and the metadata
        the apiserver keeps for itself (C(managedFields), C(resourceVersion) and such).
  platform:
    platforms: posix
options:
  definitions:
    description:
      - The objects, each a mapping with C(apiVersion), C(kind) and C(metadata.name), and
        C(metadata.namespace) when the kind is namespaced, such as the documents of a
        multi-document YAML file read with P(ansible.builtin.from_yaml_all#filter).
      - Secrets are refused; M(regcred.k8s.registry_pull_secret) writes them without showing their data.
    type: list
    elements: raw
    required: true
  state:
    description:
      - V(present) creates or updates every object; V(absent) deletes every object that exists.
    type: str
    choices: [present, absent]
    default: present
  owner_label:
    description:
      - A label every object of O(definitions) must carry. An object that already exists is
        changed or deleted only when it carries this label with the same value; otherwise the task
        fails before any write, so it never takes over or removes an object that someone else made.
      - An empty string turns the check off.
    type: str
    default: app.kubernetes.io/managed-by
  field_manager:
    description:
      - The field manager of the server-side apply. Fields that another manager set are taken
        over (the apply is forced), as this task owns its objects.
    type: str
    default: regcred.k8s
seealso:
  - name: Server-Side Apply
    description: The Kubernetes documentation.
    link: https://kubernetes.io/docs/reference/using-api/server-side-apply/
"""

EXAMPLES = r"""
- name: Apply the objects of a rendered multi-document template
  regcred.k8s.manifests:
    definitions: "{{ lookup('ansible.builtin.template', 'objects.yml.j2') | ansible.builtin.from_yaml_all | list }}"

- name: Delete them again, in the reverse order
  regcred.k8s.manifests:
    definitions: "{{ lookup('ansible.builtin.template', 'objects.yml.j2') | ansible.builtin.from_yaml_all | list }}"
    state: absent

- name: With the connection of an AWX Kubernetes credential (K8S_AUTH_HOST, K8S_AUTH_API_KEY, ...)
  regcred.k8s.manifests:
    definitions:
      - apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: builder
          namespace: ci
          labels: {app.kubernetes.io/managed-by: regcred.k8s}
"""

RETURN = r"""
objects:
  description:
    - One entry per object of O(definitions), in their order, with its C(api_version), C(kind),
      C(name), C(namespace) (null for a cluster-scoped kind) and C(result).
    - C(result) is V(created), V(updated) or V(unchanged) with O(state=present), V(deleted) or
      V(absent) with O(state=absent); in check mode, what it would be.
  returned: always
  type: list
  elements: dict
  sample:
    - {api_version: batch/v1, kind: CronJob, name: regcred-refresh, namespace: regcred-system, result: created}
summary:
  description: How many objects ended in each result.
  returned: always
  type: dict
  sample: {"created": 1, "unchanged": 7}
"""

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.manifests import (check_definitions, check_owner, diff_entry,
                                                                            group_version_path, object_path, planned,
                                                                            removal, resource_kinds)
from ansible_collections.regcred.k8s.plugins.module_utils.module import RegcredModule
from ansible_collections.regcred.k8s.plugins.module_utils.reconcile import CHANGED_RESULTS, summarize

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"  # JSON is YAML


def argument_spec():
    return dict(
        definitions=dict(type="list", elements="raw", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        owner_label=dict(type="str", default="app.kubernetes.io/managed-by"),
        field_manager=dict(type="str", default="regcred.k8s"),
    )


def validate(params):
    if not params["field_manager"] or len(params["field_manager"]) > 128:
        raise InputError("field_manager", "must be 1 to 128 characters")
    return check_definitions(params["definitions"], params["owner_label"])


class Run:
    def __init__(self, module, kube, manifests):
        self.module, self.kube, self.manifests = module, kube, manifests
        self.params = module.params
        self.paths, self.current, self.results, self.diffs = {}, {}, {}, []

    def locate(self):
        """The API path of every object, from one discovery request per API version."""
        served = {}
        for manifest in self.manifests:
            if manifest.api_version not in served:
                served[manifest.api_version] = resource_kinds(self.kube.get(group_version_path(manifest.api_version)))
            kinds = served[manifest.api_version]
            if manifest.kind not in kinds:
                raise InputError(manifest.field + ".kind", "the apiserver serves no kind %s in %s"
                                 % (manifest.kind, manifest.api_version))
            self.paths[manifest.field] = object_path(manifest, *kinds[manifest.kind])

    def apply(self, manifest, dry_run):
        query = dict(fieldManager=self.params["field_manager"], force="true")
        if dry_run:
            query["dryRun"] = "All"
        try:
            return self.kube.request("PATCH", self.paths[manifest.field], query=query, body=manifest.body,
                                     content_type=APPLY_CONTENT_TYPE)
        except KubeError as exc:
            raise KubeError("%s: %s %s: %s" % (manifest.field, manifest.ref, "was refused by the apiserver's dry run, so "
                                               "nothing was applied" if dry_run else "could not be applied", exc),
                            exc.status, exc.reason, exc.timed_out)

    def plan_present(self):
        planned_objects = []
        for manifest in self.manifests:
            after = self.apply(manifest, dry_run=True)
            planned_objects.append((manifest, after, planned(self.current[manifest.field], after)))
        return planned_objects

    def present(self):
        for manifest, after, result in self.plan_present():
            if result != "unchanged" and not self.module.check_mode:
                after = self.apply(manifest, dry_run=False)
            self.record(manifest, result, self.current[manifest.field], after)

    def absent(self):
        for manifest in reversed(self.manifests):
            result = removal(self.current[manifest.field])
            if result == "deleted" and not self.module.check_mode:
                try:
                    self.kube.request("DELETE", self.paths[manifest.field], query=dict(propagationPolicy="Background"))
                except KubeError as exc:
                    if exc.status != 404:
                        raise KubeError("%s: %s could not be deleted: %s" % (manifest.field, manifest.ref, exc),
                                        exc.status, exc.reason, exc.timed_out)
                    result = "absent"
            self.record(manifest, result, self.current[manifest.field], None)

    def record(self, manifest, result, before, after):
        self.results[manifest.field] = dict(api_version=manifest.api_version, kind=manifest.kind, name=manifest.name,
                                            namespace=manifest.namespace, result=result)
        if result in CHANGED_RESULTS and self.module._diff:
            self.diffs.append(diff_entry(manifest, before, after))

    def execute(self):
        self.locate()
        for manifest in self.manifests:
            self.current[manifest.field] = self.kube.get(self.paths[manifest.field])
        for manifest in self.manifests:
            check_owner(manifest, self.current[manifest.field], self.params["owner_label"])
        if self.params["state"] == "present":
            self.present()
        else:
            self.absent()

    def report(self):
        objects = self.objects()
        summary = summarize(dict(enumerate(objects)))
        extra = {"diff": self.diffs} if self.diffs else {}
        self.module.exit_json(changed=any(summary.get(w) for w in CHANGED_RESULTS), objects=objects,
                              summary=summary, **extra)

    def objects(self):
        """The results so far, in the order of definitions."""
        return [self.results[m.field] for m in self.manifests if m.field in self.results]


def main():
    module = RegcredModule("manifests", argument_spec())

    def execute(kube, manifests):
        run = Run(module, kube, manifests)
        module.failure_results = lambda: {"objects": run.objects()}
        run.execute()
        run.report()

    module.run(validate, execute)


if __name__ == "__main__":
    main()
