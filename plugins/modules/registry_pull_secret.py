#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: registry_pull_secret
short_description: Put a working image pull Secret in every namespace that needs it
version_added: 1.0.0
description:
  - Manages one Secret of type C(kubernetes.io/dockerconfigjson), named O(name), in a set of
    namespaces, with credentials for one or more container registries.
  - Credentials come from O(registries) (Docker Hub, any v2 registry, a Docker config file, Amazon
    ECR, Google GCR and Artifact Registry, Azure ACR) or are copied from an existing Secret with
    O(from_secret).
  - The content is byte-stable, so a rerun with unchanged input writes nothing and reports no
    change. Short-lived tokens are minted again only when the stored one expires within
    O(refresh_before), which makes a scheduled ECR refresh idempotent.
  - Reads cost one LIST of namespaces and one cluster-wide LIST of Secrets (by name), whatever
    the number of namespaces. Writes run concurrently, carry C(resourceVersion), and are retried
    on conflict.
  - No password, token or Secret payload is ever returned, logged or shown in a diff.
author:
  - regcred.k8s maintainers (@regcred)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - regcred.k8s.registry_tls
  - regcred.k8s.k8s_auth
  - regcred.k8s.namespaces
  - regcred.k8s.registries
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows, per namespace, the registries, user names, expiry, labels and
        annotations, and whether each credential is added, changed or unchanged. It never shows
        a password, a token or the payload.
  platform:
    platforms: posix
options:
  name:
    description:
      - The name of the Secret.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the Secret; V(absent) deletes it.
      - Either acts only on Secrets that this collection created (they carry the label
        C(regcred.k8s/managed=true), or the annotation C(regcred.k8s/credentials) of earlier releases).
        A Secret of the same name made by anyone else is reported as C(skipped) with the reason
        C(not ours), and left alone, unless O(adopt) is set.
    type: str
    choices: [present, absent]
    default: present
  adopt:
    description:
      - Take over a Secret of this name that this collection did not create, in every selected
        namespace where one exists, instead of leaving it alone.
      - With O(state=present) its content is replaced (or, with O(merge), merged) and it gets the
        C(regcred.k8s/managed=true) label, so later runs manage it without O(adopt); with
        O(state=absent) it is deleted.
      - Risk, read before use - whoever made that Secret, a person, a Helm chart, an operator such as
        reflector or External Secrets, loses it to this task, and their next sync may fight it. Prefer
        another O(name), and adopt only Secrets you know are stale copies of this one.
    type: bool
    default: false
  from_secret:
    description:
      - Copy the credentials of this existing pull Secret instead of minting them, for example
        from a central namespace. Mutually exclusive with O(registries).
      - Its C(.dockerconfigjson) is written byte for byte, with every field and top-level key it
        holds; with O(merge=true) its entries are merged into the target instead. A rerun with an
        unchanged source writes nothing.
      - A source Secret without registry entries fails the task; it never empties a Secret.
    type: dict
    suboptions:
      namespace:
        description: Namespace of the Secret to copy.
        type: str
        required: true
      name:
        description: Name of the Secret to copy.
        type: str
        required: true
  merge:
    description:
      - Keep registry entries already in the Secret for registries that this task does not
        manage. By default the Secret holds exactly the managed entries.
      - Kept entries and every top-level key (such as C(credsStore) or C(HttpHeaders)) stay exactly
        as they were. An existing entry is replaced only when the kubelet reads its key as the same
        one as a managed key (C(https://quay.io/) and C(quay.io)); C(https://index.docker.io/v1/) is
        kept next to a managed C(registry-1.docker.io), since only the former serves Docker Hub
        images.
    type: bool
    default: false
  refresh_before:
    description:
      - Mint a new short-lived token (ECR, GCR access tokens, ACR refresh tokens) only when the
        stored one expires within this duration, such as V(30m), V(2h) or V(1h30m), or a number
        of seconds. Until then a run neither mints nor writes.
      - Choose it longer than the interval between two scheduled runs.
      - The expiry of each credential is kept in the annotation C(regcred.k8s/credentials), and the
        earliest in C(regcred.k8s/expires-at).
    type: raw
    default: 6h
  verify:
    description:
      - Before writing, log in to each registry with each newly minted credential, through its
        C(/v2/) Basic or Bearer token flow. A credential that fails stops the task before any
        write, so it never replaces a working Secret.
    type: bool
    default: false
  labels:
    description:
      - Labels to set on the Secret, for example C(runai/cluster-wide=true) for Run:ai.
        Labels that others set are kept.
      - Keys and values are checked as the apiserver checks them before anything is written.
    type: dict
    default: {}
  annotations:
    description:
      - Annotations to set on the Secret. Annotations that others set are kept.
      - Keys are checked, and the total size (at most 256 KiB with the module's own annotations),
        before anything is written.
    type: dict
    default: {}
  force:
    description:
      - Replace (delete and create) a Secret of the same name that has another type or is
        immutable, and with O(state=absent) delete one of another type. Without it such a
        namespace fails with a clear message and is left as it is.
      - When the apiserver refuses the create after the delete, the previous Secret is created
        again from what was read, and the namespace fails saying so.
    type: bool
    default: false
notes:
  - Moto and other ECR emulators hand out tokens that have already expired; each run then mints
    again, and the module warns.
seealso:
  - module: regcred.k8s.sa_image_pull_secrets
  - name: Pull an image from a private registry
    description: The Kubernetes documentation on image pull Secrets.
    link: https://kubernetes.io/docs/tasks/configure-pod-container/pull-image-private-registry/
"""

EXAMPLES = r"""
- name: Docker Hub credentials in two namespaces
  regcred.k8s.registry_pull_secret:
    name: dockerhub
    namespaces: [team-a, team-b]
    registries:
      - provider: dockerhub
        username: ci-bot
        password: "{{ dockerhub_token }}"

- name: A self-hosted registry in every namespace labelled team=payments, checked before writing
  regcred.k8s.registry_pull_secret:
    name: harbor
    namespace_selector: team=payments
    verify: true
    registries:
      - provider: basic
        server: harbor.example.com
        username: robot$payments
        password: "{{ harbor_robot_secret }}"

- name: Copy entries of a Docker config file, only for ghcr.io
  regcred.k8s.registry_pull_secret:
    name: ghcr
    namespace: builds
    registries:
      - provider: docker_config
        path: ~/.docker/config.json
        servers: [ghcr.io]

- name: ECR tokens in all namespaces but the system ones, refreshed only when due (run it hourly)
  regcred.k8s.registry_pull_secret:
    name: ecr
    all_namespaces: true
    exclude_namespaces: [kube-system, kube-public, kube-node-lease]
    refresh_before: 6h
    registries:
      - provider: ecr
        region: eu-central-1
        registry_ids: ["123456789012"]

- name: Artifact Registry with a short-lived access token from a service-account key
  regcred.k8s.registry_pull_secret:
    name: gar
    namespaces: [ml]
    registries:
      - provider: gcr
        server: europe-docker.pkg.dev
        auth: access_token
        service_account_key_file: /secrets/puller.json

- name: GCR with the JSON key itself
  regcred.k8s.registry_pull_secret:
    name: gcr
    namespaces: [ml]
    registries:
      - provider: gcr
        server: gcr.io
        auth: json_key
        service_account_key: "{{ lookup('ansible.builtin.file', 'puller.json') }}"

- name: ACR through the Azure AD token exchange
  regcred.k8s.registry_pull_secret:
    name: acr
    namespaces: [web]
    registries:
      - provider: acr
        server: myregistry.azurecr.io
        auth: token_exchange
        tenant_id: "{{ azure_tenant }}"
        client_id: "{{ azure_client_id }}"
        client_secret: "{{ azure_client_secret }}"

- name: Copy a central pull Secret into every namespace labelled for it (Run:ai style)
  regcred.k8s.registry_pull_secret:
    name: regcred
    namespace_selector: runai/queue
    from_secret:
      namespace: platform
      name: regcred
    labels:
      runai/cluster-wide: "true"

- name: Add a registry to existing Secrets without dropping the entries others wrote
  regcred.k8s.registry_pull_secret:
    name: regcred
    namespaces: [team-a]
    merge: true
    registries:
      - provider: basic
        server: quay.io
        username: org+robot
        password: "{{ quay_token }}"

- name: Remove the Secret
  regcred.k8s.registry_pull_secret:
    name: regcred
    namespaces: [team-a, team-b]
    state: absent
"""

RETURN = r"""
namespaces:
  description:
    - One entry per namespace that was selected, listed or skipped, keyed by namespace.
    - C(result) is one of V(created), V(updated), V(replaced), V(unchanged), V(deleted),
      V(absent), V(skipped) or V(failed); in check mode it says what would happen.
    - C(reason) explains V(skipped) and V(failed), with the apiserver's message.
  returned: always
  type: dict
  sample: {"team-a": {"result": "created"}, "team-b": {"result": "failed", "reason": "secrets is forbidden (HTTP 403)"}}
summary:
  description: How many namespaces ended in each result.
  returned: always
  type: dict
  sample: {"created": 1, "failed": 1}
registries:
  description: The managed credentials, without their secrets.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    server:
      description: The key in C(.dockerconfigjson).
      type: str
      sample: 123456789012.dkr.ecr.eu-central-1.amazonaws.com
    username:
      description: The user name.
      type: str
      sample: AWS
    provider:
      description: The provider that made it.
      type: str
      sample: ecr
    expires_at:
      description: When it expires (UTC, ISO 8601), or null.
      type: str
      sample: "2026-11-22T18:00:00Z"
    reused:
      description: True when a stored token was still fresh and nothing was minted.
      type: bool
      sample: false
expires_at:
  description: The earliest expiry of the managed credentials, or null when none expires.
  returned: when O(state=present)
  type: str
  sample: "2026-11-22T18:00:00Z"
"""

import datetime

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig, minting
from ansible_collections.regcred.k8s.plugins.module_utils import pull_secret as ps
from ansible_collections.regcred.k8s.plugins.module_utils.duration import parse_duration
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, RegcredError, StateError
from ansible_collections.regcred.k8s.plugins.module_utils.module import RegcredModule
from ansible_collections.regcred.k8s.plugins.module_utils.names import check_annotations, check_dns_label, check_dns_subdomain, check_labels
from ansible_collections.regcred.k8s.plugins.module_utils.namespaces import select
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext
from ansible_collections.regcred.k8s.plugins.module_utils.reconcile import finish, record_outcomes, retry_on_conflict, run_all
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import REGISTRIES_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.secret_store import SecretStore

RESULT_WORDS = {ps.CREATE: "created", ps.UPDATE: "updated", ps.REPLACE: "replaced",
                ps.UNCHANGED: "unchanged"}


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        from_secret=dict(type="dict", no_log=False, options=dict(
            namespace=dict(type="str", required=True), name=dict(type="str", required=True))),
        merge=dict(type="bool", default=False),
        adopt=dict(type="bool", default=False),
        refresh_before=dict(type="raw", default="6h"),
        verify=dict(type="bool", default=False),
        labels=dict(type="dict", default={}),
        annotations=dict(type="dict", default={}),
        force=dict(type="bool", default=False),
    )
    spec.update(REGISTRIES_ARG_SPEC)
    return spec


def validate(params):
    """Every check that needs no I/O; returns (refresh_before, [(entry, field, provider)])."""
    check_dns_subdomain(params["name"], "name")
    check_labels(params["labels"], "labels")
    check_annotations(params["annotations"], "annotations")
    for key in (ps.ANNOTATION_CREDENTIALS, ps.ANNOTATION_EXPIRES):
        if key in params["annotations"]:
            raise InputError("annotations", "%s is written by this module and cannot be set" % key)
    if ps.LABEL_MANAGED in params["labels"]:
        raise InputError("labels", "%s is written by this module and cannot be set" % ps.LABEL_MANAGED)
    if params["from_secret"]:
        check_dns_label(params["from_secret"]["namespace"], "from_secret.namespace")
        check_dns_subdomain(params["from_secret"]["name"], "from_secret.name")
    if params["state"] == "present" and not params["from_secret"] and not params["registries"]:
        raise InputError("registries", "list at least one registry, or use from_secret")
    return parse_duration(params["refresh_before"], "refresh_before"), minting.sources(params["registries"])


class Run:
    """One task run: gathers credentials, plans per namespace, applies, and reports."""

    def __init__(self, module, kube):
        self.module, self.params, self.kube = module, module.params, kube
        self.store = SecretStore(kube, self.params["name"], self.params["parallel"])
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.context = MintContext.from_params(self.params)
        self.results, self.diffs, self.credentials, self.warnings = {}, [], [], []
        self.copied = None  # the .dockerconfigjson bytes of from_secret, written as they are

    # credentials ---------------------------------------------------------------------------
    def managed_entries(self, refresh_before, sources, existing):
        """({server: entry}, records, minted credentials) for every source."""
        stores = ps.stores(s for s in existing.values() if isinstance(s, dict))
        got = minting.collect(sources, refresh_before, self.now, self.context, stores)
        self.credentials.extend(got.report())
        self.warnings.extend(got.warnings)
        return got.entries(), got.records(), got.minted()

    def copied_entries(self):
        source = self.params["from_secret"]
        secret = self.store.get(source["namespace"], source["name"])
        where = "from_secret (%s/%s)" % (source["namespace"], source["name"])
        if secret is None:
            raise StateError("%s: the Secret does not exist" % where)
        if not ps.is_pull_secret(secret):
            raise StateError("%s: the Secret has type %r, not %s" % (where, secret.get("type"), ps.SECRET_TYPE))
        try:
            entries = ps.payload_document(secret)["auths"]
        except dockerconfig.DockerConfigError as exc:
            raise StateError("%s: %s" % (where, exc))
        if not entries:
            raise StateError("%s: holds no registry entries; copying it would empty the Secret" % where)
        self.copied = ps.payload_bytes(secret)
        stored = dict((r["server"], r) for r in ps.stored_records(secret))
        records = [stored.get(server) or {"server": server, "username": dockerconfig.user_of(entry),
                                          "provider": "from_secret", "source": None, "expires_at": None}
                   for server, entry in sorted(entries.items())]
        self.credentials.extend(dict(r, reused=False) for r in records)
        return entries, records

    # plan and apply ------------------------------------------------------------------------
    def plan_present(self, namespace, existing, managed, records):
        if existing is not None and not (self.params["adopt"] or ps.owned(existing)):
            return ps.not_ours(existing)
        payload = self.copied
        if self.params["merge"] and existing is not None and ps.is_pull_secret(existing):
            try:
                payload = ps.merged_payload(existing, managed)
            except dockerconfig.DockerConfigError as exc:
                raise StateError("merge: the existing Secret cannot be merged (%s); set merge=false "
                                 "to replace it" % exc)
        desired = ps.desired_secret(self.params["name"], namespace, managed, records,
                                    self.params["labels"], self.params["annotations"], payload)
        return ps.plan(existing, desired, self.params["force"], self.params["adopt"])

    @staticmethod
    def unwritten(action, reason):
        """The result of a plan that writes nothing, or None for one that writes."""
        if action == ps.NOT_OURS:
            return {"result": "skipped", "reason": "not ours: " + reason}
        if action in (ps.ABSENT, ps.UNCHANGED):
            return {"result": RESULT_WORDS.get(action, action)}
        return None

    def settled(self, namespace, existing, planner):
        """The result of a namespace whose plan from what was read writes nothing, or None when it
        has to go to the writers (a write, a conflict or an error to report)."""
        try:
            action, dummy, reason = planner(namespace, existing)
        except RegcredError:  # converge() plans again, and reports it for this namespace
            return None
        return None if action == ps.CONFLICT else self.unwritten(action, reason)

    def converge(self, namespace, existing, planner):
        """Plan, write (unless check mode) and return the result for one namespace."""
        def attempt(current):
            state = existing if current is None else current.get("secret")
            action, body, reason = planner(namespace, state)
            if action == ps.CONFLICT:
                raise StateError(reason)
            result = self.unwritten(action, reason)
            if result is None:
                if not self.module.check_mode:
                    self.store.write(namespace, action, state, body)
                if self.module._diff:
                    before, after = ps.diff(state, None if action == ps.DELETE else body)
                    header = "%s/%s" % (namespace, self.params["name"])
                    self.diffs.append({"before_header": header, "after_header": header,
                                       "before": before, "after": after})
                result = {"result": "deleted" if action == ps.DELETE else RESULT_WORDS.get(action, action)}
            return result

        return retry_on_conflict(attempt, lambda: {"secret": self.store.get(namespace)})

    def execute(self, refresh_before, sources):
        params = self.params
        selection = select(self.kube, params)
        for name, reason in selection.skipped.items():
            self.results[name] = {"result": "skipped", "reason": reason}
        for name in selection.missing:
            self.results[name] = {"result": "failed", "reason": "namespace does not exist"}
        existing, read_errors = self.store.read_many(selection.names)
        for name, error in read_errors.items():
            self.results[name] = {"result": "failed", "reason": str(error)}
        targets = [n for n in selection.names if n not in read_errors]

        if params["state"] == "absent":
            def planner(namespace, state):
                return ps.plan_absent(state, params["force"], params["adopt"])
        else:
            if params["from_secret"]:
                managed, records = self.copied_entries()
                minted = []
            else:
                managed, records, minted = self.managed_entries(refresh_before, sources, existing)
            if params["verify"] and minted:
                minting.verify(minted, self.context)
            # what the input alone makes too large fails here, before the first write
            ps.check_limits(ps.desired_secret(params["name"], "", managed, records, params["labels"],
                                              params["annotations"], self.copied),
                            "from_secret" if params["from_secret"] else "registries")

            def planner(namespace, state):
                return self.plan_present(namespace, state, managed, records)

        # Namespaces with nothing to write are settled here; only the writes take a thread.
        writes = []
        for name in targets:
            result = self.settled(name, existing.get(name), planner)
            if result is None:
                writes.append(name)
            else:
                self.results[name] = result
        outcomes = run_all(writes, lambda ns: self.converge(ns, existing.get(ns), planner),
                           params["parallel"], params["fail_fast"])
        record_outcomes(self.results, outcomes)

    def report(self):
        extra = {}
        if self.params["state"] == "present":
            expiries = sorted(c["expires_at"] for c in self.credentials if c.get("expires_at"))
            extra["registries"] = [dict((k, c.get(k)) for k in ("server", "username", "provider",
                                                                "expires_at", "reused"))
                                   for c in self.credentials]
            extra["expires_at"] = expiries[0] if expiries else None
        if self.diffs:
            extra["diff"] = sorted(self.diffs, key=lambda d: d["before_header"])
        shown = sorted(n for n, r in self.results.items() if r.get("reason", "").startswith("not ours"))
        if shown:
            self.warnings.append("Secret %s exists in %d namespace(s) but was not created by regcred.k8s, so it was "
                                 "left alone: %s%s; set adopt=true to take it over" % (
                                     self.params["name"], len(shown), ", ".join(shown[:10]),
                                     " and %d more" % (len(shown) - 10) if len(shown) > 10 else ""))
        for warning in self.warnings:
            self.module.warn(warning)
        finish(self.module, self.results, **extra)


def main():
    module = RegcredModule("registry_pull_secret", argument_spec(), namespaces=True, run_options=True,
                           registry_tls=True, mutually_exclusive=[("registries", "from_secret")])

    def execute(kube, checked):
        run = Run(module, kube)
        module.failure_results = lambda: {"namespaces": dict(sorted(run.results.items()))}
        run.execute(*checked)
        run.report()

    module.run(validate, execute)


if __name__ == "__main__":
    main()
