# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a node's image cache may run a private image for a pod that has no credential for it
(issue #20, KEP-2535). Pure: no I/O.

As the kubelet of Kubernetes 1.34 decides (``pkg/kubelet/images/image_manager.go`` and
``pullmanager/image_pull_policies.go``):

- ``imagePullPolicy: Always`` pulls with the pod's credentials on every start, so a cached copy
  never stands in for them. ``IfNotPresent`` and ``Never`` use the copy when the node has one. The
  apiserver defaults the policy to ``Always`` when the tag is ``latest`` (also when the image names
  no tag and no digest) and to ``IfNotPresent`` otherwise.
- Without the feature gate ``KubeletEnsureSecretPulledImages`` (alpha since 1.33, off by default)
  the kubelet never checks who may use a cached image. With it, the KubeletConfiguration field
  ``imagePullCredentialsVerificationPolicy`` decides: ``NeverVerify`` checks nothing;
  ``NeverVerifyPreloadedImages`` (the default with the gate) checks images the kubelet pulled
  itself; ``NeverVerifyAllowlistedImages`` checks every image except those matching
  ``preloadedImagesVerificationAllowlist``; ``AlwaysVerify`` checks every image. A check passes
  when the pod offers a Secret that pulled the image before (same Secret or same credential), or
  when the image was pulled anonymously or with the node's own credentials; otherwise the kubelet
  pulls again with the pod's credentials (or, with ``Never``, reports ErrImageNeverPull).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ALWAYS, IF_NOT_PRESENT, NEVER = "Always", "IfNotPresent", "Never"
PULL_POLICIES = (ALWAYS, IF_NOT_PRESENT, NEVER)
NEVER_VERIFY = "NeverVerify"
PRELOADED = "NeverVerifyPreloadedImages"
ALLOWLISTED = "NeverVerifyAllowlistedImages"
ALWAYS_VERIFY = "AlwaysVerify"
NODE_POLICIES = (NEVER_VERIFY, PRELOADED, ALLOWLISTED, ALWAYS_VERIFY)

REMEDY = ("set imagePullPolicy: Always, or run the kubelets with imagePullCredentialsVerificationPolicy: "
          "AlwaysVerify (feature gate KubeletEnsureSecretPulledImages, alpha in Kubernetes 1.33 and 1.34)")


def default_pull_policy(ref):
    """The apiserver's default imagePullPolicy for an image (a keyring.ImageRef)."""
    return ALWAYS if ref.tag == "latest" else IF_NOT_PRESENT


def pull_policies(pod):
    """{image: imagePullPolicy} of a pod: of its containers with that image, the first that may
    use a cached copy, else Always; None when not written (the apiserver writes it into every pod
    it stores)."""
    found = {}
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod["spec"].get(kind) or []:
            image, policy = container.get("image") or "", container.get("imagePullPolicy")
            if found.get(image, ALWAYS) == ALWAYS:
                found[image] = policy
    return found


def has_credentials(report):
    """Whether an image report shows a credential of the pod's own that pulls (or, unchecked,
    should pull) the image."""
    if any(s.get("rejected") for s in report["secrets"]):
        return False
    if report["pull"] is not None:
        return report["pull"]["ok"]
    return any(not m["expired"] for m in report["matches"])


def assess(image, pull_policy, private, credentials, node_policy, unknown=None):
    """The cache exposure of one image of a pod, as the dict pull_secret_info returns.

    ``private``: True when the registry refuses anonymous pulls, False when it serves anyone,
    None when unknown, and then ``unknown`` says why (by default: it was not asked). ``credentials``: has_credentials of the image's report. ``node_policy``:
    the kubelets' imagePullCredentialsVerificationPolicy, or None when unknown. ``exposed`` is
    True when a node that has the image cached runs it for the pod without credentials, False
    when it does not, None when that depends on what could not be learned."""
    exposed, reason = _decide(image, pull_policy, private, credentials, node_policy,
                              unknown or "set check_pull to ask the registry whether it is")
    return {"exposed": exposed, "pull_policy": pull_policy, "private": private, "node_policy": node_policy,
            "reason": reason}


def _decide(image, pull_policy, private, credentials, node_policy, unknown):
    if pull_policy == ALWAYS:
        return False, ("imagePullPolicy is Always: the kubelet asks the registry with the pod's own credentials "
                       "on every start, so a cached copy never stands in for them")
    if credentials:
        return False, "the pod has its own credential for %s, so a cached copy gives it nothing it could not pull" % image
    if private is False:
        return False, "the registry serves %s to anyone, so a cached copy gives the pod nothing it could not pull" % image
    if node_policy == ALWAYS_VERIFY:
        return False, ("the kubelets verify credentials (AlwaysVerify): a cached copy is used only with a Secret that "
                       "pulled it before, unless the node pulled it with its own credentials")
    if node_policy == PRELOADED:
        return False, ("the kubelets verify credentials for the images they pulled (NeverVerifyPreloadedImages); "
                       "only a copy preloaded on the node by other means would run without them")
    cached = ("imagePullPolicy is %s and the pod has no credential that pulls %s, so a node that already has it "
              "(pulled for another pod) runs it for this pod" % (pull_policy, image))
    if node_policy == ALLOWLISTED:
        return None, ("%s if it matches the kubelets' preloadedImagesVerificationAllowlist "
                      "(NeverVerifyAllowlistedImages); otherwise they verify the pod's credentials" % cached)
    if private is None:
        return None, "if %s is private, %s; %s" % (image, cached, unknown)
    if node_policy == NEVER_VERIFY:
        checks = "the kubelets never verify credentials for cached images (NeverVerify)"
    else:
        checks = ("unless the kubelets verify credentials for cached images (KEP-2535, off by default); set "
                  "node_policy when you know their policy")
    return True, "the registry refuses anonymous pulls, yet %s, %s; %s" % (cached, checks, REMEDY)
