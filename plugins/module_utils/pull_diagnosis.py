# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What pull_secret_info concludes from what it read: which Secrets a pod offers and from where,
when a credential expires, and the verdict per image. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.regcred.k8s.plugins.module_utils import pull_secret as ps
from ansible_collections.regcred.k8s.plugins.module_utils.credential import token_expiry as jwt_expiry
from ansible_collections.regcred.k8s.plugins.module_utils.records import parse_time
from ansible_collections.regcred.k8s.plugins.module_utils.registry import MISSING_CODES


def names(refs):
    """The Secret names of an imagePullSecrets list, once each, in order."""
    seen = []
    for ref in refs or []:
        if ref.get("name") and ref["name"] not in seen:
            seen.append(ref["name"])
    return seen


def listed_by_creator(pod, account):
    """Whether the pod's creator wrote spec.imagePullSecrets itself. Admission copies the
    ServiceAccount's list after the apiserver has recorded the fields each client sent, so copied
    entries belong to no field manager. Without managedFields, a list equal to the account's
    counts as copied."""
    managed = pod["metadata"].get("managedFields")
    if managed:
        return any("f:imagePullSecrets" in ((entry.get("fieldsV1") or {}).get("f:spec") or {}) for entry in managed)
    return account is None or names(account.get("imagePullSecrets")) != names(pod["spec"].get("imagePullSecrets"))


def pod_images(pod):
    """[(image, [container names])], init containers first, as the kubelet pulls them."""
    found = {}
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod["spec"].get(kind) or []:
            found.setdefault(container.get("image") or "", []).append(container["name"])
    return list(found.items())


def expiry(secret, key, password):
    """When the credential under ``key`` expires, or None when unknown or never."""
    records = ps.stored_records(secret)
    # regcred.k8s/expires-at is the earliest expiry of the recorded credentials, so it says
    # nothing about a key without a record (an entry merged in from elsewhere).
    if records:
        for record in records:
            if record["server"] == key:
                return parse_time(record.get("expires_at"))
    else:
        annotations = (secret.get("metadata") or {}).get("annotations") or {}
        stated = parse_time(annotations.get(ps.ANNOTATION_EXPIRES))
        if stated:
            return stated
    return jwt_expiry(password)


def status_words(error):
    """``HTTP 401 UNAUTHORIZED``: the registry's status and error code, as far as it sent them."""
    words = ["HTTP %s" % error["status"]] if error["status"] else []
    if error["code"]:
        words.append(error["code"])
    return " ".join(words)


def verdict(ref, report, none_offered):
    """One sentence a person understands for one image's report."""
    secrets, matches, pull = report["secrets"], report["matches"], report["pull"]
    problems = [s["problem"] for s in secrets if s["problem"]]
    if not secrets:
        return none_offered
    rejected = [s["problem"] for s in secrets if s.get("rejected")]
    if rejected:
        return "will not pull: " + rejected[0]
    if pull and pull["ok"]:
        return "will pull with Secret %s (key %s) — checked: digest %s" % (pull["secret"], pull["key"], pull["digest"])
    if pull:
        expired = dict(((m["secret"], m["key"]), m["expires_at"]) for m in matches if m["expired"])
        parts = [refusal(ref, error, expired.get((error["secret"], error["key"]))) for error in pull["errors"]]
    elif matches:
        usable = [m for m in matches if not m["expired"]]
        if usable:
            return ("should pull with Secret %s (key %s) — not checked; set check_pull to ask the registry"
                    % (usable[0]["secret"], usable[0]["key"]))
        parts = ["token in Secret %s expired at %s" % (m["secret"], m["expires_at"]) for m in matches]
    else:
        keyed = [s for s in secrets if s["keys"]]
        parts = []
        if keyed:
            keys = sorted(set(k for s in keyed for k in s["keys"]))
            parts.append("no credential matches %s: %s %s %s keys for %s only" % (
                ref.registry, "Secret" if len(keyed) == 1 else "Secrets", ", ".join(s["name"] for s in keyed),
                "has" if len(keyed) == 1 else "have", ", ".join(keys)))
    return "; ".join(parts + problems)


def refusal(ref, error, expired_at):
    """Why the registry refused one credential, in words."""
    status = status_words(error)
    if error["status"] in (401, 403):
        if expired_at:
            return "token in Secret %s expired at %s (registry: %s)" % (error["secret"], expired_at, status)
        return "registry refused the credential from Secret %s: %s" % (error["secret"], status)
    if error["status"] == 404 and error["code"] in MISSING_CODES:
        return "registry has no image %s:%s (%s), asked with Secret %s" % (
            ref.repository, ref.reference, status, error["secret"])
    if error["status"] is None:
        return "could not ask the registry with Secret %s: %s" % (error["secret"], error["message"])
    return "registry answered %s with Secret %s: %s" % (status, error["secret"], error["message"])
