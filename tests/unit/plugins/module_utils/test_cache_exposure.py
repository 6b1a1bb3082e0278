# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cache_exposure: when a node's image cache may run a private image for a pod without credentials."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import cache_exposure as ce
from ansible_collections.regcred.k8s.plugins.module_utils import keyring

IMAGE = "quay.io/org/app:1.2"


@pytest.mark.parametrize("image, policy", [
    ("quay.io/org/app", "Always"),
    ("quay.io/org/app:latest", "Always"),
    ("quay.io/org/app:latest@sha256:" + "a" * 64, "Always"),
    ("quay.io/org/app@sha256:" + "a" * 64, "IfNotPresent"),
    ("quay.io/org/app:1.2", "IfNotPresent"),
    ("nginx:Latest", "IfNotPresent"),
])
def test_default_pull_policy_follows_the_tag_as_the_apiserver_does(image, policy):
    assert ce.default_pull_policy(keyring.parse_image(image)) == policy


def test_pull_policies_keep_the_weakest_policy_of_an_image():
    pod = {"spec": {"initContainers": [{"name": "i", "image": "a", "imagePullPolicy": "Always"}],
                    "containers": [{"name": "c", "image": "a", "imagePullPolicy": "Never"},
                                   {"name": "d", "image": "a", "imagePullPolicy": "Always"},
                                   {"name": "e", "image": "b", "imagePullPolicy": "Always"},
                                   {"name": "f", "image": "c"}]}}
    assert ce.pull_policies(pod) == {"a": "Never", "b": "Always", "c": None}


def report(pull=None, matches=(), rejected=False):
    return {"secrets": [{"name": "s", "rejected": rejected}], "pull": pull, "matches": list(matches)}


def test_has_credentials_from_the_report():
    fresh, stale = {"expired": False}, {"expired": True}
    assert ce.has_credentials(report(matches=[stale, fresh])) is True
    assert ce.has_credentials(report(matches=[stale])) is False
    assert ce.has_credentials(report()) is False
    assert ce.has_credentials(report(pull={"ok": False}, matches=[fresh])) is False
    assert ce.has_credentials(report(pull={"ok": True}, matches=[fresh])) is True
    assert ce.has_credentials(report(matches=[fresh], rejected=True)) is False
    assert ce.has_credentials({"secrets": [], "pull": None, "matches": []}) is False


# (pull policy, private, credentials, node policy) -> exposed
TABLE = [
    ("Always", True, False, None, False),
    ("Always", True, False, "NeverVerify", False),
    ("IfNotPresent", True, True, None, False),
    ("IfNotPresent", False, False, None, False),
    ("IfNotPresent", True, False, None, True),
    ("Never", True, False, None, True),
    ("IfNotPresent", True, False, "NeverVerify", True),
    ("IfNotPresent", True, False, "AlwaysVerify", False),
    ("IfNotPresent", None, False, "AlwaysVerify", False),
    ("IfNotPresent", True, False, "NeverVerifyPreloadedImages", False),
    ("IfNotPresent", True, False, "NeverVerifyAllowlistedImages", None),
    ("IfNotPresent", None, False, None, None),
    ("Never", None, False, "NeverVerify", None),
]


@pytest.mark.parametrize("pull_policy, private, credentials, node_policy, exposed", TABLE)
def test_exposure_table(pull_policy, private, credentials, node_policy, exposed):
    found = ce.assess(IMAGE, pull_policy, private, credentials, node_policy)
    assert found["exposed"] is exposed
    assert (found["pull_policy"], found["private"], found["node_policy"]) == (pull_policy, private, node_policy)
    assert (ce.REMEDY in found["reason"]) is (exposed is True)


def test_reasons_in_words():
    assert ce.assess(IMAGE, "IfNotPresent", True, False, None)["reason"] == (
        "the registry refuses anonymous pulls, yet imagePullPolicy is IfNotPresent and the pod has no credential "
        "that pulls quay.io/org/app:1.2, so a node that already has it (pulled for another pod) runs it for this "
        "pod, unless the kubelets verify credentials for cached images (KEP-2535, off by default); set node_policy "
        "when you know their policy; set imagePullPolicy: Always, or run the kubelets with "
        "imagePullCredentialsVerificationPolicy: AlwaysVerify (feature gate KubeletEnsureSecretPulledImages, alpha "
        "in Kubernetes 1.33 and 1.34)")
    assert "(NeverVerify)" in ce.assess(IMAGE, "Never", True, False, "NeverVerify")["reason"]
    assert ce.assess(IMAGE, "IfNotPresent", None, False, None)["reason"].endswith(
        "; set check_pull to ask the registry whether it is")
    assert ce.assess(IMAGE, "IfNotPresent", None, False, None, "the registry did not tell")["reason"].endswith(
        "runs it for this pod; the registry did not tell")
    assert ce.assess(IMAGE, "Always", True, False, None)["reason"].startswith("imagePullPolicy is Always")
    allowlisted = ce.assess(IMAGE, "IfNotPresent", True, False, "NeverVerifyAllowlistedImages")
    assert "preloadedImagesVerificationAllowlist" in allowlisted["reason"]
