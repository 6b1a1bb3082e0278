#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sa_image_pull_secrets
short_description: Attach image pull Secrets and annotations to ServiceAccounts without dropping anybody else's
version_added: 1.0.0
description:
  - Adds, removes or sets the C(imagePullSecrets) of ServiceAccounts in a set of namespaces, so
    that every pod using them pulls with those Secrets without naming them itself.
  - V(present) only appends the missing names and V(absent) only removes the listed ones;
    entries that others added stay, in their order. Duplicates of the managed names are cleaned
    up. Each write carries the C(resourceVersion) it was planned from and is re-planned on
    conflict, so concurrent writers never lose each other's entries.
  - O(annotations) sets or removes only the annotation keys given, in the same write; annotations
    of other controllers stay, and V(absent) removes a key only while it still has the value
    given. The ServiceAccount annotation that names a pod's login in the service-account-token
    mode of node credential providers is one use (see docs/node-credential-providers.md).
  - In a namespace that was just created, it waits for the controller-manager to create the
    ServiceAccount instead of failing (O(wait)), or creates it (O(create_service_account)).
  - Reads cost one LIST of namespaces, one of ServiceAccounts and one of Secret names (metadata
    only), whatever the number of namespaces.
author:
  - regcred.k8s maintainers (@regcred)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - regcred.k8s.k8s_auth
  - regcred.k8s.namespaces
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the list of Secret names before and after, per ServiceAccount, and the
        values of the annotation keys of O(annotations) (null for a key that is not set); other
        annotations are not shown.
  platform:
    platforms: posix
options:
  secrets:
    description:
      - Names of the Secrets to attach or detach.
      - May be empty or left out when O(annotations) is given; the C(imagePullSecrets) are then
        not touched. V(exact) needs at least one name.
    type: list
    elements: str
    default: []
  annotations:
    description:
      - Annotations of the ServiceAccounts to manage, key to value. Only these keys are touched;
        every other annotation stays as it is.
      - With V(present) or V(exact), each key is set to its value. With V(absent), each key is
        removed only when its value is the one given, so a value that someone else set since is
        left alone.
      - Keys and values are checked before any request (keys as the apiserver checks them, values
        strings), naming this option.
    type: dict
  state:
    description:
      - V(present) appends the missing names and keeps all others in their order.
      - V(absent) removes only the listed names.
      - V(exact) makes the list equal to O(secrets), removing names that others added.
      - O(annotations) are set with V(present) and V(exact), and removed with V(absent).
    type: str
    choices: [present, absent, exact]
    default: present
  service_accounts:
    description:
      - The ServiceAccounts to change, by name.
      - Default is V(default), the account pods use when they name none.
      - Mutually exclusive with O(all_service_accounts) and O(service_account_selector).
    type: list
    elements: str
  all_service_accounts:
    description:
      - Change every ServiceAccount in the selected namespaces.
    type: bool
    default: false
  service_account_selector:
    description:
      - Change the ServiceAccounts that match this label selector.
      - A blank or malformed selector fails before any request, naming this option.
    type: str
  wait:
    description:
      - When a named ServiceAccount does not exist yet, wait up to O(wait_timeout) for it, as
        for V(default) in a namespace created a moment ago. Without it, such a namespace fails.
      - With O(all_service_accounts), wait for V(default) in a namespace that has no account yet.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a ServiceAccount to appear.
    type: int
    default: 30
  create_service_account:
    description:
      - Create a named ServiceAccount that does not exist, instead of waiting for it.
    type: bool
    default: false
  require_secret_exists:
    description:
      - With V(present) or V(exact), fail a namespace where a listed Secret does not exist,
        because pods would fail to pull later. When V(false), warn and attach it anyway.
    type: bool
    default: true
seealso:
  - module: regcred.k8s.registry_pull_secret
  - name: Add ImagePullSecrets to a service account
    description: The Kubernetes documentation.
    link: https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#add-imagepullsecrets-to-a-service-account
"""

EXAMPLES = r"""
- name: Make the default ServiceAccount of every team namespace pull with regcred
  regcred.k8s.sa_image_pull_secrets:
    namespace_selector: team
    secrets: [regcred]

- name: Right after creating a namespace, wait for its default account and attach the secret
  regcred.k8s.sa_image_pull_secrets:
    namespace: new-project
    secrets: [regcred]
    wait: true
    wait_timeout: 60

- name: Every ServiceAccount in two namespaces
  regcred.k8s.sa_image_pull_secrets:
    namespaces: [ml, ml-batch]
    all_service_accounts: true
    secrets: [gar, dockerhub]

- name: Detach an old secret, leaving the others
  regcred.k8s.sa_image_pull_secrets:
    all_namespaces: true
    exclude_namespaces: [kube-system]
    secrets: [old-registry]
    state: absent

- name: Name the login that the node credential provider gives pods of the builder account
  regcred.k8s.sa_image_pull_secrets:
    namespace: ci
    service_accounts: [builder]
    annotations:
      regcred.k8s/credential: harbor-ci

- name: Own the list completely for the builder account
  regcred.k8s.sa_image_pull_secrets:
    namespace: ci
    service_accounts: [builder]
    create_service_account: true
    secrets: [regcred, ghcr]
    state: exact
"""

RETURN = r"""
namespaces:
  description:
    - One entry per namespace. C(result) is V(updated) when any of its ServiceAccounts changed,
      otherwise V(unchanged), V(skipped) or V(failed) (with C(reason)).
    - C(service_accounts) holds, per ServiceAccount, its C(result) and the names in
      C(image_pull_secrets) after the change (in check mode, as they would be), and with
      O(annotations) C(annotations), the values of its keys after the change (null for a key
      that is not set).
  returned: always
  type: dict
  sample:
    team-a:
      result: updated
      service_accounts:
        default:
          result: updated
          image_pull_secrets: [other-team-secret, regcred]
          annotations: {regcred.k8s/credential: harbor-ci}
summary:
  description: How many namespaces ended in each result.
  returned: always
  type: dict
  sample: {"updated": 3, "unchanged": 7}
"""

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, StateError
from ansible_collections.regcred.k8s.plugins.module_utils.label_selector import parse_selector
from ansible_collections.regcred.k8s.plugins.module_utils.module import RegcredModule
from ansible_collections.regcred.k8s.plugins.module_utils.names import check_annotations, check_dns_subdomain
from ansible_collections.regcred.k8s.plugins.module_utils.namespaces import select
from ansible_collections.regcred.k8s.plugins.module_utils.reconcile import finish, record_outcomes, retry_on_conflict, run_all
from ansible_collections.regcred.k8s.plugins.module_utils.sa_plan import annotation_changes, desired_entries, managed_annotations, names
from ansible_collections.regcred.k8s.plugins.module_utils.service_accounts import ServiceAccountStore


def argument_spec():
    return dict(
        secrets=dict(type="list", elements="str", default=[], no_log=False),
        annotations=dict(type="dict"),
        state=dict(type="str", default="present", choices=["present", "absent", "exact"]),
        service_accounts=dict(type="list", elements="str"),
        all_service_accounts=dict(type="bool", default=False),
        service_account_selector=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=30),
        create_service_account=dict(type="bool", default=False),
        require_secret_exists=dict(type="bool", default=True, no_log=False),
    )


def validate(params):
    if not params["secrets"] and not params["annotations"]:
        raise InputError("secrets", "list at least one Secret name, or give annotations")
    if not params["secrets"] and params["state"] == "exact":
        raise InputError("secrets", "state=exact sets the whole list: list at least one Secret name")
    check_annotations(params["annotations"], "annotations")
    for index, name in enumerate(params["secrets"]):
        check_dns_subdomain(name, "secrets[%d]" % index)
    if params["service_accounts"] is not None and not params["service_accounts"]:
        raise InputError("service_accounts", "list at least one ServiceAccount, or leave it out for default")
    for index, name in enumerate(params["service_accounts"] or []):
        check_dns_subdomain(name, "service_accounts[%d]" % index)
    if params["service_account_selector"] is not None:
        parse_selector(params["service_account_selector"], "service_account_selector")
    if not 0 <= params["wait_timeout"] <= 3600:
        raise InputError("wait_timeout", "must be between 0 and 3600 seconds")


class Run:
    def __init__(self, module, kube):
        self.module, self.params = module, module.params
        self.store = ServiceAccountStore(kube, self.params["parallel"])
        self.kube = kube
        self.named = None if (self.params["all_service_accounts"] or self.params["service_account_selector"]) \
            else (self.params["service_accounts"] or ["default"])
        self.results, self.diffs, self.warnings = {}, [], []

    def accounts_in(self, namespace, listed):
        """The target ServiceAccounts of one namespace, waiting for or creating missing ones."""
        params = self.params
        if self.named is None:
            if listed or not (params["all_service_accounts"] and params["wait"]):
                return listed
            account = self.store.wait_for(namespace, "default", params["wait_timeout"])
            return {"default": account} if account else {}
        accounts = {}
        for name in self.named:
            account = listed.get(name)
            if account is None and params["create_service_account"]:
                account = self.store.create(namespace, name) if not self.module.check_mode else \
                    {"metadata": {"name": name, "namespace": namespace}, "imagePullSecrets": []}
            elif account is None and params["wait"]:
                account = self.store.wait_for(namespace, name, params["wait_timeout"])
            if account is None:
                raise StateError("ServiceAccount %s does not exist%s" % (
                    name, " after waiting %d s" % params["wait_timeout"] if params["wait"] else
                    "; set wait or create_service_account"))
            accounts[name] = account
        return accounts

    def shown(self, entries, annotations):
        """What the result reports of a ServiceAccount: its Secret names and, with annotations,
        the values of the managed keys alone."""
        shown = {"image_pull_secrets": names(entries)}
        if self.params["annotations"]:
            shown["annotations"] = managed_annotations(annotations, self.params["annotations"])
        return shown

    @staticmethod
    def diff_view(shown):
        view = {"imagePullSecrets": shown["image_pull_secrets"]}
        if "annotations" in shown:
            view["annotations"] = shown["annotations"]
        return view

    def converge_account(self, namespace, account):
        name = account["metadata"]["name"]
        wanted = self.params["annotations"] or {}

        def attempt(current):
            state = account if current is None else current
            before = state.get("imagePullSecrets") or []
            after = desired_entries(before, self.params["secrets"], self.params["state"])
            annotations = state["metadata"].get("annotations") or {}
            changes = annotation_changes(annotations, wanted, self.params["state"])
            shown_before, shown_after = self.shown(before, annotations), self.shown(after, dict(annotations, **changes))
            if after == before and not changes:
                return dict(shown_before, result="unchanged")
            if not self.module.check_mode:
                self.store.update(state, after if after != before else None, changes)
            if self.module._diff:
                header = "%s/serviceaccount/%s" % (namespace, name)
                self.diffs.append({"before_header": header, "after_header": header,
                                   "before": self.diff_view(shown_before), "after": self.diff_view(shown_after)})
            return dict(shown_after, result="updated")

        return retry_on_conflict(attempt, lambda: self.store.get(namespace, name))

    def converge(self, namespace, listed, secrets_present):
        if secrets_present is not None:
            missing = [s for s in self.params["secrets"] if s not in secrets_present]
            if missing and self.params["require_secret_exists"]:
                raise StateError("Secret %s does not exist in this namespace, so pods could not pull with "
                                 "it; create it first or set require_secret_exists=false" % ", ".join(missing))
            for secret in missing:
                self.warnings.append("%s: Secret %s does not exist yet; pulls will fail until it does"
                                     % (namespace, secret))
        accounts = self.accounts_in(namespace, listed)
        per_account = dict((n, self.converge_account(namespace, a)) for n, a in sorted(accounts.items()))
        changed = any(r["result"] == "updated" for r in per_account.values())
        return {"result": "updated" if changed else "unchanged", "service_accounts": per_account}

    def execute(self):
        params = self.params
        selection = select(self.kube, params)
        for name, reason in selection.skipped.items():
            self.results[name] = {"result": "skipped", "reason": reason}
        for name in selection.missing:
            self.results[name] = {"result": "failed", "reason": "namespace does not exist"}
        listed, errors = self.store.service_accounts(selection.names, self.named,
                                                     params["service_account_selector"])
        present = None
        if params["state"] != "absent" and params["secrets"]:
            readable = [n for n in selection.names if n not in errors]
            present, secret_errors = self.store.secret_names(readable, params["secrets"])
            errors.update(secret_errors)
        for name, error in errors.items():
            self.results[name] = {"result": "failed", "reason": str(error)}
        targets = [n for n in selection.names if n not in errors]
        outcomes = run_all(targets, lambda ns: self.converge(ns, listed[ns], None if present is None else present[ns]),
                           params["parallel"], params["fail_fast"])
        record_outcomes(self.results, outcomes)

    def report(self):
        for warning in self.warnings:
            self.module.warn(warning)
        extra = {"diff": sorted(self.diffs, key=lambda d: d["before_header"])} if self.diffs else {}
        finish(self.module, self.results, **extra)


def main():
    module = RegcredModule("sa_image_pull_secrets", argument_spec(), namespaces=True, run_options=True,
                           mutually_exclusive=[("service_accounts", "all_service_accounts", "service_account_selector")])

    def execute(kube, checked):
        run = Run(module, kube)
        module.failure_results = lambda: {"namespaces": dict(sorted(run.results.items()))}
        run.execute()
        run.report()

    module.run(validate, execute)


if __name__ == "__main__":
    main()
