#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pull_secret_info
short_description: Explain whether an image will pull, and with which pull Secret, before a pod fails
version_added: 1.0.0
description:
  - For each image of a pod (O(pod)), or of a pod that does not exist yet (O(image) and
    O(service_account)), reports the pull Secrets that would be offered and where they come
    from, those that are missing, unreadable or of the wrong type, the registry keys that match
    the image in the order the kubelet tries them, and when each matching credential expires.
  - Secrets are read and keys are matched as the kubelet reads and matches them
    (C(pkg/credentialprovider)) - glob labels such as C(*.gcr.io), ports, path prefixes such as
    C(quay.io/org), Docker Hub's spellings, and most specific key first; an C(auth) field replaces
    C(username) and C(password), and a Secret the kubelet cannot read makes every pull of the pod
    fail.
  - With O(check_pull), asks the registry for the image's manifest with each matching
    credential in turn, as the container runtime would, and reports the first that works (with
    the image digest) or each refusal with the registry's own status and error code.
  - For a pod, also reports its recent image pull events.
  - Warns when a node that already has an image cached may run it for this pod although the pod
    has no credential for it (RV(images[].cache_exposure)) - the image is private, its
    C(imagePullPolicy) is not C(Always), and the kubelets do not verify pull credentials for
    cached images (KEP-2535).
  - Each image gets a one-line C(verdict) in plain words.
  - Only reads. No password, token or Secret payload is ever returned or logged; only registry
    keys, user names, Secret names, expiry times and digests.
author:
  - regcred.k8s maintainers (@regcred)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - regcred.k8s.registry_tls
  - regcred.k8s.k8s_auth
attributes:
  check_mode:
    support: full
    details:
      - The module never changes anything, in check mode or not.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  namespace:
    description:
      - The namespace of the pod, or where the pod would run.
    type: str
    required: true
  pod:
    description:
      - The name of an existing pod. Its images come from its containers, init containers and
        ephemeral containers, and its pull Secrets from its own C(spec.imagePullSecrets) (which
        admission has already filled from its ServiceAccount when the pod named none).
      - Exactly one of O(pod) and O(image) is required.
    type: str
  image:
    description:
      - One image, or a list of images, of a pod that does not exist yet, as written in a pod
        spec (for example V(nginx), V(quay.io/org/app:1.2) or V(registry.example.com:5000/app@sha256:...)).
      - Their pull Secrets are those of O(service_account), which admission copies into a pod
        that names none itself.
    type: list
    elements: str
  service_account:
    description:
      - With O(image), the ServiceAccount the pod would run as. When not set, V(default).
      - Not used with O(pod), whose own ServiceAccount is read.
    type: str
  check_pull:
    description:
      - Ask the registry for each image's manifest (a HEAD request for the exact tag or digest,
        which downloads no layers), with each matching credential in the kubelet's order, until
        one works.
    type: bool
    default: false
  image_pull_policy:
    description:
      - With O(image), the C(imagePullPolicy) the pod's containers will have, for
        RV(images[].cache_exposure). When not set, the apiserver's default - V(Always) for the
        tag C(latest) or no tag, else V(IfNotPresent).
      - Not used with O(pod), whose containers' own policies are read.
    type: str
    choices: [Always, IfNotPresent, Never]
  node_policy:
    description:
      - The C(imagePullCredentialsVerificationPolicy) of the kubelets' KubeletConfiguration, which
        decides whether a pod without credentials may use a private image that a node has cached
        (KEP-2535, feature gate C(KubeletEnsureSecretPulledImages), alpha in Kubernetes 1.33 and
        1.34 and off by default). The kubelet's default with the gate is
        V(NeverVerifyPreloadedImages); without the gate, nothing is verified, as with V(NeverVerify).
      - When not set, the policy is unknown and RV(images[].cache_exposure) assumes that nothing
        is verified, as on a kubelet without the gate, and says so.
      - The module does not read the kubelets' configuration; that would take the node proxy
        (C(nodes/proxy)), a permission close to running commands on the node.
    type: str
    choices: [NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify]
notes:
  - Only pull Secrets are seen. Credentials that the node itself holds (kubelet credential
    provider plugins such as the ECR, GCR or ACR ones, or the node's C(config.json)) are invisible
    here, so an image reported without a matching credential may still pull on such nodes.
  - Host names are compared case-insensitively. The kubelet compares them as written, so the
    verdict says when a key matches only because of that. This is the only difference from the
    kubelet on purpose.
  - With O(check_pull), the registry is followed as containerd follows it - an OAuth2 password
    grant (POST) before the GET token request, and the challenge of the manifest request when
    C(/v2/) needs no authentication. A 404 means that the image is missing only when it carries
    a registry error code; otherwise whether the credential works is reported as unknown.
  - Reads cost one GET of the pod (with O(pod)), one of the ServiceAccount, one per Secret, and
    with O(pod) one LIST of the pod's events. When a Secret is missing, one LIST of Secret names
    (metadata only) across namespaces tells where it is, if the identity may list Secrets there.
  - An image that the kubelet cannot parse is reported with its verdict, not as a failure.
  - Whether an image is private is known only with O(check_pull), from one more manifest request
    without credentials, made when the pod has no working credential for the image and its pull
    policy is not C(Always).
  - A Secret or ServiceAccount that cannot be read (HTTP 403) is reported in the verdict. When the
    apiserver cannot be reached or does not accept the identity (HTTP 401), the task fails.
seealso:
  - module: regcred.k8s.registry_pull_secret
  - module: regcred.k8s.sa_image_pull_secrets
  - name: Pull an image from a private registry
    description: The Kubernetes documentation on image pull Secrets.
    link: https://kubernetes.io/docs/tasks/configure-pod-container/pull-image-private-registry/
"""

EXAMPLES = r"""
- name: Why is this pod in ImagePullBackOff?
  regcred.k8s.pull_secret_info:
    namespace: team-a
    pod: web-7d9c6b5f4-x2x8q
    check_pull: true
  register: pull

- name: Show one line per image
  ansible.builtin.debug:
    msg: "{{ pull.images | map(attribute='verdict') | list }}"

- name: Before deploying, check that the default ServiceAccount can pull the new images
  regcred.k8s.pull_secret_info:
    namespace: team-a
    image:
      - harbor.example.com/team-a/app:1.4
      - harbor.example.com/team-a/migrate:1.4
    check_pull: true
    registry_ca_path: /etc/pki/harbor-ca.pem
  register: precheck

- name: Stop when an image would not pull
  ansible.builtin.assert:
    that: precheck.images | selectattr('pull.ok', 'false') | list | length == 0
    fail_msg: "{{ precheck.images | map(attribute='verdict') | list }}"

- name: Can nodes that cache the image run it for pods without credentials?
  regcred.k8s.pull_secret_info:
    namespace: team-a
    pod: batch-4k2x9
    check_pull: true
    node_policy: NeverVerifyPreloadedImages
  register: cached

- name: Images a node's cache may run without the pod's credentials
  ansible.builtin.debug:
    msg: "{{ cached.images | selectattr('cache_exposure.exposed', 'true') | map(attribute='image') | list }}"

- name: A dedicated ServiceAccount, without asking the registry
  regcred.k8s.pull_secret_info:
    namespace: ci
    service_account: builder
    image: quay.io/org/builder:latest
"""

RETURN = r"""
namespace:
  description: The namespace inspected.
  returned: always
  type: str
  sample: team-a
service_account:
  description: The ServiceAccount whose pull Secrets apply (the pod's own with O(pod)).
  returned: always
  type: str
  sample: default
images:
  description: One entry per distinct image; for a pod, those of init containers first, as the kubelet pulls them.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The image as written.
      type: str
      sample: quay.io/org/app:1.2
    containers:
      description: The containers that run this image.
      returned: with O(pod)
      type: list
      elements: str
      sample: [app, init-db]
    registry:
      description: The registry host and port; V(index.docker.io) for Docker Hub. Null when the image is not valid.
      type: str
      sample: quay.io
    repository:
      description: The repository, with C(library/) for official Docker Hub images.
      type: str
      sample: org/app
    reference:
      description: What the runtime asks for - the digest when the image has one, else the tag (V(latest) by default).
      type: str
      sample: "1.2"
    secrets:
      description: The pull Secrets offered for the pod, in the kubelet's order. They are the same for every image.
      type: list
      elements: dict
      contains:
        name:
          description: The Secret name.
          type: str
        source:
          description:
            - Where the kubelet gets the name from - V(pod) when the pod's creator listed it in
              C(spec.imagePullSecrets), V(service_account) when admission copied it from the
              ServiceAccount (always so with O(image)).
          type: str
          sample: service_account
        found:
          description: Whether the Secret exists in the namespace; null when it could not be read.
          type: bool
        type:
          description: The Secret's type, or null when it was not read.
          type: str
          sample: kubernetes.io/dockerconfigjson
        keys:
          description: The registry keys in its docker config; empty when it is not a usable pull Secret.
          type: list
          elements: str
          sample: ["quay.io", "https://index.docker.io/v1/"]
        problem:
          description: Why the kubelet cannot use it, in one sentence, or null.
          type: str
          sample: Secret regcred has type Opaque, not kubernetes.io/dockerconfigjson
        rejected:
          description:
            - Whether the kubelet fails to read this Secret (for example an C(auth) that is not
              base64 of C(user:password), or a field of the wrong JSON type). The kubelet then
              fails every image pull of the pod, whatever the other Secrets hold, and RV(images[].matches)
              is empty.
          type: bool
    matches:
      description: The credentials whose key matches the image, in the order the kubelet tries them.
      type: list
      elements: dict
      contains:
        secret:
          description: The Secret that holds it.
          type: str
        key:
          description: The registry key, as written in the Secret.
          type: str
        username:
          description: The user name.
          type: str
        expires_at:
          description:
            - When it expires (UTC, ISO 8601), or null when unknown or never. Read from the
              annotation C(regcred.k8s/credentials) that registry_pull_secret writes, else from
              C(regcred.k8s/expires-at), else from the C(exp) claim of a JWT password.
          type: str
          sample: "2026-11-22T18:00:00Z"
        expired:
          description: Whether RV(images[].matches[].expires_at) has passed.
          type: bool
    pull:
      description:
        - The registry's answer with O(check_pull), or null without it or when no credential matches.
        - C(ok) says whether a credential worked; C(secret), C(key) and C(digest) name the first
          that did; C(errors) lists each one that failed before, with C(secret), C(key), the HTTP
          C(status), the registry's error C(code) and its C(message).
      type: dict
      sample:
        ok: false
        secret: null
        key: null
        digest: null
        errors:
          - secret: regcred
            key: harbor.example.com
            status: 401
            code: UNAUTHORIZED
            message: "harbor.example.com refused the credential for user robot: HTTP 401 UNAUTHORIZED"
    verdict:
      description: One line that says whether the image will pull and why.
      type: str
      sample: "will pull with Secret regcred (key 127.0.0.1:5000) — checked: digest sha256:f180..."
    cache_exposure:
      description:
        - Whether a node that already has the image (pulled for another pod) may run it for this
          pod without this pod's credentials. Null when the image is not valid.
        - C(exposed) is true when it may, false when it may not, null when that depends on what
          the module cannot learn (whether the image is private without O(check_pull), or the
          kubelets' allowlist). When true, the module also warns with C(reason).
        - C(pull_policy) is the C(imagePullPolicy) - with O(pod), of the first of the image's
          containers that is not C(Always); with O(image), O(image_pull_policy) or the apiserver's
          default for the tag. C(private) says whether the registry refuses
          the image without credentials (null when not asked or unknown); C(node_policy) is
          O(node_policy); C(reason) says why and what to do.
      type: dict
      sample:
        exposed: true
        pull_policy: IfNotPresent
        private: true
        node_policy: null
        reason: >-
          the registry refuses anonymous pulls, yet imagePullPolicy is IfNotPresent and the pod has no
          credential that pulls quay.io/org/app:1.2, so a node that already has it (pulled for another pod)
          runs it for this pod, unless the kubelets verify credentials for cached images (KEP-2535, off by
          default); set node_policy when you know their policy; set imagePullPolicy: Always, or run the
          kubelets with imagePullCredentialsVerificationPolicy: AlwaysVerify (feature gate
          KubeletEnsureSecretPulledImages, alpha in Kubernetes 1.33 and 1.34)
events:
  description:
    - The pod's image pull events (C(Failed), C(BackOff) while pulling, C(InspectFailed),
      C(ErrImageNeverPull), C(FailedToRetrieveImagePullSecret)), oldest first, at most 20.
  returned: with O(pod)
  type: list
  elements: dict
  contains:
    type:
      description: V(Warning) or V(Normal).
      type: str
    reason:
      description: The event reason.
      type: str
      sample: Failed
    message:
      description: The kubelet's message.
      type: str
      sample: 'Failed to pull image "quay.io/org/app:1.2": ... 401 UNAUTHORIZED'
    count:
      description: How often it happened.
      type: int
    last_seen:
      description: When it last happened.
      type: str
"""

import datetime

from ansible_collections.regcred.k8s.plugins.module_utils import cache_exposure as exposure
from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig
from ansible_collections.regcred.k8s.plugins.module_utils import keyring
from ansible_collections.regcred.k8s.plugins.module_utils import kubelet_secret
from ansible_collections.regcred.k8s.plugins.module_utils import pull_diagnosis as diagnosis
from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, KubeError, RegistryError, StateError
from ansible_collections.regcred.k8s.plugins.module_utils.kube import core_path
from ansible_collections.regcred.k8s.plugins.module_utils.module import RegcredModule
from ansible_collections.regcred.k8s.plugins.module_utils.records import format_time
from ansible_collections.regcred.k8s.plugins.module_utils.names import check_dns_label, check_dns_subdomain
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext
from ansible_collections.regcred.k8s.plugins.module_utils.registry import anonymous_pull, head_manifest
from ansible_collections.regcred.k8s.plugins.module_utils.service_accounts import METADATA_ONLY

PULL_EVENT_REASONS = ("Failed", "InspectFailed", "ErrImageNeverPull", "FailedToRetrieveImagePullSecret")
MAX_EVENTS = 20
MAX_NAMESPACES_SHOWN = 3


def argument_spec():
    return dict(
        namespace=dict(type="str", required=True),
        pod=dict(type="str"),
        image=dict(type="list", elements="str"),
        service_account=dict(type="str"),
        check_pull=dict(type="bool", default=False),
        image_pull_policy=dict(type="str", choices=list(exposure.PULL_POLICIES)),
        node_policy=dict(type="str", choices=list(exposure.NODE_POLICIES)),
    )


def validate(params):
    """Every check that needs no I/O."""
    check_dns_label(params["namespace"], "namespace")
    if params["pod"] is not None:
        check_dns_subdomain(params["pod"], "pod")
        return
    if params["service_account"] is not None:
        check_dns_subdomain(params["service_account"], "service_account")
    images = params["image"]
    if not images:
        raise InputError("image", "list at least one image")
    for index, text in enumerate(images):
        keyring.parse_image(text, "image" if len(images) == 1 else "image[%d]" % index)


class Inspection:
    """One task run: reads the pod, ServiceAccount and Secrets, then explains each image."""

    def __init__(self, params, kube):
        self.params, self.kube = params, kube
        self.namespace = self.params["namespace"]
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.context = MintContext.from_params(self.params)
        self.warnings = []
        # secret name -> (the Secret or None, its {key: entry}); entries never leave the module
        self.loaded = {}
        # image -> imagePullPolicy of the pod's containers, or image_pull_policy
        self.pull_policies = {}

    def path(self, resource, name=None):
        return core_path("namespaces", self.namespace, resource, *([] if name is None else [name]))

    def get(self, resource, name):
        """The object, or None when it does not exist; KubeError otherwise."""
        return self.kube.get(self.path(resource, name))

    # Secrets ---------------------------------------------------------------------------------
    def where_else(self, name):
        """Other namespaces that hold a Secret of this name, or None when they cannot be listed."""
        try:
            found = self.kube.list_items("/api/v1/secrets", {"fieldSelector": "metadata.name=%s" % name},
                                         accept=METADATA_ONLY)
        except KubeError as exc:
            if exc.fatal:
                raise
            return None
        return sorted(i["metadata"]["namespace"] for i in found if i["metadata"]["namespace"] != self.namespace)

    def missing(self, name):
        elsewhere = self.where_else(name)
        if elsewhere is None:
            hint = "it may be in another namespace"
        elif elsewhere:
            shown = ", ".join(elsewhere[:MAX_NAMESPACES_SHOWN])
            if len(elsewhere) > MAX_NAMESPACES_SHOWN:
                shown += " and %d more" % (len(elsewhere) - MAX_NAMESPACES_SHOWN)
            hint = "it exists in namespace %s; a pod can only use Secrets of its own namespace" % shown
        else:
            hint = "nor in any other namespace"
        return "Secret %s is not in namespace %s (%s)" % (name, self.namespace, hint)

    def secret_report(self, name, source):
        report = {"name": name, "source": source, "found": None, "type": None, "keys": [], "problem": None,
                  "rejected": False}
        try:
            secret = self.get("secrets", name)
        except KubeError as exc:
            if exc.fatal:
                raise
            report["problem"] = "cannot read Secret %s: %s" % (name, exc)
            self.loaded[name] = (None, {})
            return report
        report["found"] = secret is not None
        entries = {}
        if secret is None:
            report["problem"] = self.missing(name)
        else:
            report["type"] = secret.get("type") or "Opaque"
            try:
                used, entries = kubelet_secret.read(secret)
            except dockerconfig.DockerConfigError as exc:
                report["rejected"] = True
                report["problem"] = "the kubelet cannot read Secret %s and so fails every pull of the pod: %s" % (name, exc)
            else:
                if report["type"] not in (kubelet_secret.JSON_TYPE, kubelet_secret.LEGACY_TYPE):
                    report["problem"] = "Secret %s has type %s, not %s" % (name, report["type"], kubelet_secret.JSON_TYPE)
                elif not used:
                    report["problem"] = "Secret %s has no data under %s, so the kubelet skips it" % (
                        name, kubelet_secret.JSON_KEY if report["type"] == kubelet_secret.JSON_TYPE else kubelet_secret.LEGACY_KEY)
                elif not entries:
                    report["problem"] = "Secret %s holds no registry credentials" % name
        report["keys"] = sorted(entries)
        self.loaded[name] = (secret, entries)
        return report

    # images ----------------------------------------------------------------------------------
    def matches(self, ref, secrets):
        """[(match report, entry)] in the kubelet's order, and the keys matched only by ignoring case."""
        offered = [(key, (report["name"], entry)) for report in secrets
                   for key, entry in sorted(self.loaded[report["name"]][1].items())]
        found = keyring.lookup(offered, ref)
        exact = set((key, item[0]) for key, item in keyring.lookup(offered, ref, ignore_case=False))
        result = []
        for key, (secret_name, entry) in found:
            expires = diagnosis.expiry(self.loaded[secret_name][0], key, entry.password)
            result.append(({"secret": secret_name, "key": key, "username": kubelet_secret.shown(entry.username),
                            "expires_at": format_time(expires), "expired": bool(expires and expires <= self.now)},
                           entry))
        case_only = sorted(set(key for key, item in found if (key, item[0]) not in exact))
        return result, case_only

    def check_pull(self, ref, matched):
        pull = {"ok": False, "secret": None, "key": None, "digest": None, "errors": []}
        for match, entry in matched:
            credential = Credential(ref.registry, entry.username, entry.password)
            try:
                digest = head_manifest(credential, self.context, ref.repository, ref.reference)
            except RegistryError as exc:
                pull["errors"].append({"secret": match["secret"], "key": match["key"], "status": exc.status,
                                       "code": exc.code, "message": str(exc)})
                continue
            pull.update(ok=True, secret=match["secret"], key=match["key"], digest=digest)
            break
        return pull

    def private(self, ref):
        """(whether the registry refuses the image to anonymous pulls, None when it cannot tell;
        why it cannot, or None)."""
        try:
            return not anonymous_pull(self.context, ref.registry, ref.repository, ref.reference), None
        except RegistryError as exc:
            return None, "asked without credentials, the registry did not tell: %s" % exc

    def cache_exposure(self, text, ref, report):
        policy = self.pull_policies.get(text) or exposure.default_pull_policy(ref)
        credentials = exposure.has_credentials(report)
        asked = self.params["check_pull"] and policy != exposure.ALWAYS and not credentials
        private, unknown = self.private(ref) if asked else (None, None)
        found = exposure.assess(text, policy, private, credentials, self.params["node_policy"], unknown)
        if found["exposed"]:
            self.warnings.append("%s: %s" % (text, found["reason"]))
        return found

    def image_report(self, text, containers, secrets, none_offered):
        report = {"image": text, "registry": None, "repository": None, "reference": None,
                  "secrets": secrets, "matches": [], "pull": None, "cache_exposure": None}
        if containers is not None:
            report["containers"] = containers
        try:
            ref = keyring.parse_image(text)
        except InputError as exc:
            report["verdict"] = "%s; the kubelet reports InvalidImageName" % exc
            return report
        report.update(registry=ref.registry, repository=ref.repository, reference=ref.reference)
        # A Secret the kubelet cannot read fails the pull before any key is looked up.
        matched, case_only = ([], []) if any(s["rejected"] for s in secrets) else self.matches(ref, secrets)
        report["matches"] = [match for match, entry in matched]
        if self.params["check_pull"] and matched:
            report["pull"] = self.check_pull(ref, matched)
        report["verdict"] = diagnosis.verdict(ref, report, none_offered)
        if case_only:
            note = ("key %s matches only when host names are compared case-insensitively; the kubelet compares "
                    "them as written, so write it as in the image" % ", ".join(case_only))
            report["verdict"] += " (but %s)" % note
            self.warnings.append("%s: %s" % (text, note))
        report["cache_exposure"] = self.cache_exposure(text, ref, report)
        return report

    # pod and ServiceAccount ------------------------------------------------------------------
    def read_account(self, name):
        """(ServiceAccount or None, problem sentence or None)."""
        try:
            account = self.get("serviceaccounts", name)
        except KubeError as exc:
            if exc.fatal:
                raise
            return None, "cannot read the ServiceAccount %s: %s" % (name, exc)
        if account is None:
            return None, ("the ServiceAccount %s does not exist in namespace %s, so pods that use it are rejected"
                          % (name, self.namespace))
        return account, None

    def pull_events(self, pod):
        meta = pod["metadata"]
        query = {"fieldSelector": "involvedObject.name=%s,involvedObject.uid=%s" % (meta["name"], meta.get("uid"))}
        try:
            items = self.kube.request("GET", self.path("events"), query)["items"]
        except KubeError as exc:
            if exc.fatal:
                raise
            self.warnings.append("events: cannot list the pod's events: %s" % exc)
            return []
        found = []
        for event in items:
            reason, message = event.get("reason") or "", event.get("message") or ""
            if reason in PULL_EVENT_REASONS or (reason == "BackOff" and "pulling image" in message.lower()):
                found.append({"type": event.get("type"), "reason": reason, "message": message,
                              "count": event.get("count") or (event.get("series") or {}).get("count") or 1,
                              "last_seen": event.get("lastTimestamp") or event.get("eventTime")
                              or event["metadata"].get("creationTimestamp")})
        return sorted(found, key=lambda e: e["last_seen"] or "")[-MAX_EVENTS:]

    def offer_of_account(self, name):
        """(offered [(secret, source)], verdict when none) for a pod that does not exist yet."""
        account, problem = self.read_account(name)
        offered = [(n, "service_account") for n in diagnosis.names((account or {}).get("imagePullSecrets"))]
        return offered, problem or ("the ServiceAccount %s does not list any imagePullSecrets: the kubelet pulls "
                                    "anonymously, which works only for public images" % name)

    def offer_of_pod(self, pod, account_name):
        """(offered [(secret, source)], verdict when none) for an existing pod."""
        account, problem = self.read_account(account_name)
        source = "pod" if diagnosis.listed_by_creator(pod, account) else "service_account"
        offered = [(n, source) for n in diagnosis.names(pod["spec"].get("imagePullSecrets"))]
        listed = diagnosis.names((account or {}).get("imagePullSecrets"))
        if problem:
            return offered, "the pod offers no pull Secret, and %s" % problem
        if listed:
            return offered, ("the pod offers no pull Secret: its ServiceAccount %s lists %s, but admission copies "
                             "them only into pods created after that; delete and recreate the pod"
                             % (account_name, ", ".join(listed)))
        return offered, ("the pod offers no pull Secret and its ServiceAccount %s lists none: the kubelet pulls "
                         "anonymously, which works only for public images" % account_name)

    def run(self):
        """The result: namespace, service_account, images and, for a pod, events."""
        params, result = self.params, {"namespace": self.namespace}
        if params["pod"] is None:
            result["service_account"] = params["service_account"] or "default"
            offered, none_offered = self.offer_of_account(result["service_account"])
            images = [(text, None) for text in params["image"]]
            if params["image_pull_policy"]:
                self.pull_policies = dict.fromkeys(params["image"], params["image_pull_policy"])
        else:
            pod = self.get("pods", params["pod"])
            if pod is None:
                raise StateError("pod: pod %s does not exist in namespace %s" % (params["pod"], self.namespace))
            result["service_account"] = pod["spec"].get("serviceAccountName") or "default"
            offered, none_offered = self.offer_of_pod(pod, result["service_account"])
            images = diagnosis.pod_images(pod)
            self.pull_policies = exposure.pull_policies(pod)
            result["events"] = self.pull_events(pod)
        secrets = [self.secret_report(name, source) for name, source in offered]
        result["images"] = [self.image_report(text, containers, secrets, none_offered) for text, containers in images]
        return result


def main():
    module = RegcredModule("pull_secret_info", argument_spec(), registry_tls=True,
                           required_one_of=[("pod", "image")],
                           mutually_exclusive=[("pod", "image"), ("pod", "service_account"),
                                               ("pod", "image_pull_policy")])

    def execute(kube, checked):
        inspection = Inspection(module.params, kube)
        result = inspection.run()
        for warning in inspection.warnings:
            module.warn(warning)
        module.exit_json(changed=False, **result)

    module.run(validate, execute)


if __name__ == "__main__":
    main()
