# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired pull Secret, what a stored one may be reused for, and the plan per namespace. Pure.

Ownership: every Secret this collection writes carries the label ``regcred.k8s/managed: "true"``.
A Secret without it was made by someone else, and the modules leave it alone (neither update nor
delete it) unless the task says ``adopt``. Secrets written before the label existed are known by
their ``regcred.k8s/credentials`` annotation and count as ours.

A managed Secret records, in the annotation ``regcred.k8s/credentials``, one line per
credential: its server, username, provider, expiry and ``source`` (a hash of the non-secret
inputs that minted it). No secret is in it. A later run reuses a stored token, without minting
and without writing, while the source matches and the expiry is further away than
``refresh_before``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig
from ansible_collections.regcred.k8s.plugins.module_utils.kubelet_secret import data_bytes
from ansible_collections.regcred.k8s.plugins.module_utils.names import check_annotations, check_secret_size
from ansible_collections.regcred.k8s.plugins.module_utils.records import Stored

SECRET_TYPE = "kubernetes.io/dockerconfigjson"
DATA_KEY = ".dockerconfigjson"
ANNOTATION_CREDENTIALS = "regcred.k8s/credentials"
ANNOTATION_EXPIRES = "regcred.k8s/expires-at"
LABEL_MANAGED = "regcred.k8s/managed"

# plan actions
CREATE, UPDATE, REPLACE, UNCHANGED, CONFLICT = "create", "update", "replace", "unchanged", "conflict"
DELETE, ABSENT, NOT_OURS = "delete", "absent", "not ours"


def stored_records(secret):
    raw = ((secret.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_CREDENTIALS)
    try:
        records = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [r for r in records if isinstance(r, dict) and r.get("server")] if isinstance(records, list) else []


def payload_bytes(secret):
    """The stored .dockerconfigjson bytes, or None when there are none."""
    return data_bytes(secret, DATA_KEY)


def payload_document(secret):
    """The docker config object of a Secret (see dockerconfig.load); DockerConfigError when malformed."""
    raw = payload_bytes(secret)
    return dockerconfig.load(b"{}" if raw is None else raw, "data[%s]" % DATA_KEY)


def merged_payload(existing, managed):
    """The .dockerconfigjson bytes of pull Secret ``existing`` with the ``managed`` entries laid
    over it (dockerconfig.merge_document). When that changes nothing, the stored bytes themselves,
    so that nothing is written."""
    doc = payload_document(existing)
    merged = dockerconfig.merge_document(doc, managed)
    return payload_bytes(existing) if merged == doc else dockerconfig.serialize_document(merged)


def payload_entries(secret):
    """The entries of a Secret's .dockerconfigjson; raises DockerConfigError when malformed."""
    raw = payload_bytes(secret)
    return {} if raw is None else dockerconfig.parse(raw, "data[%s]" % DATA_KEY)


def is_pull_secret(secret):
    return secret.get("type") == SECRET_TYPE


def owned(secret):
    """True when this collection wrote the Secret: our label, or the annotation of earlier releases."""
    meta = secret.get("metadata") or {}
    return (meta.get("labels") or {}).get(LABEL_MANAGED) == "true" \
        or ANNOTATION_CREDENTIALS in (meta.get("annotations") or {})


def not_ours(secret):
    return NOT_OURS, None, ("Secret %s was not created by regcred.k8s (it has no %s label), so it is left "
                            "alone; set adopt=true to take it over" % (
                                (secret.get("metadata") or {}).get("name"), LABEL_MANAGED))


def stores(secrets):
    """What the pull Secrets among ``secrets`` hold, for minting.collect; a Secret whose payload
    cannot be read holds nothing to reuse. Secrets that hold the same payload and records (the
    copies of one Secret across namespaces) are read once and give one Stored."""
    found, seen = [], set()
    for secret in secrets:
        if not is_pull_secret(secret):
            continue
        same = (((secret.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_CREDENTIALS),
                (secret.get("data") or {}).get(DATA_KEY))
        if same in seen:
            continue
        seen.add(same)
        try:
            entries = payload_entries(secret)
        except dockerconfig.DockerConfigError:
            continue
        found.append(Stored(stored_records(secret), entries))
    return found


def desired_secret(name, namespace, entries, records, labels, annotations, payload=None):
    """The full desired Secret. ``records`` describe the managed entries (see module doc). Its
    ``.dockerconfigjson`` is ``payload`` when given (a copy, a merge), else the ``entries``."""
    records = sorted(records, key=lambda r: (r["server"], r.get("source") or ""))
    ann = dict(annotations or {})
    ann[ANNOTATION_CREDENTIALS] = json.dumps(records, sort_keys=True, separators=(",", ":"))
    expiries = [r["expires_at"] for r in records if r.get("expires_at")]
    if expiries:
        ann[ANNOTATION_EXPIRES] = min(expiries)
    return {
        "apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {}, **{LABEL_MANAGED: "true"}),
                     "annotations": ann},
        "data": {DATA_KEY: base64.b64encode(dockerconfig.serialize(entries) if payload is None else payload).decode("ascii")},
    }


def check_limits(secret, data_field):
    """The apiserver's limits on a Secret to write: its annotations' total size (field
    ``annotations``) and its data's size (field ``data_field``). ValueError naming the field."""
    check_annotations((secret.get("metadata") or {}).get("annotations"), "annotations")
    check_secret_size(sum(len(data_bytes(secret, key) or b"") for key in secret.get("data") or {}),
                      data_field)


def _merged_metadata(existing, desired):
    """Existing metadata with the desired labels and annotations laid over it: keys written by
    others stay, and our expiry annotation goes when nothing managed expires any more."""
    meta = dict(existing.get("metadata") or {})
    for key in ("labels", "annotations"):
        merged = dict(meta.get(key) or {})
        merged.update(desired["metadata"].get(key) or {})
        meta[key] = merged
    if ANNOTATION_EXPIRES not in desired["metadata"]["annotations"]:
        meta["annotations"].pop(ANNOTATION_EXPIRES, None)
    return meta


def plan(existing, desired, force, adopt=False):
    """(action, body, reason) for one namespace. ``body`` is what to write, or None; it is
    within the apiserver's limits (check_limits), else ValueError. A Secret that is not ours is
    only written with ``adopt``."""
    action, body, reason = _plan(existing, desired, force, adopt)
    if body is not None:
        check_limits(body, "data[%s]" % DATA_KEY)
    return action, body, reason


def _plan(existing, desired, force, adopt):
    if existing is None:
        return CREATE, desired, None
    if not (adopt or owned(existing)):
        return not_ours(existing)
    if not is_pull_secret(existing):
        reason = "Secret exists with type %r, not %s" % (existing.get("type") or "Opaque", SECRET_TYPE)
        return (REPLACE, desired, reason) if force else (CONFLICT, None, reason + "; set force=true to replace it")
    meta = _merged_metadata(existing, desired)
    current_meta = existing.get("metadata") or {}
    same = (existing.get("data") or {}) == desired["data"] \
        and (current_meta.get("labels") or {}) == meta["labels"] \
        and (current_meta.get("annotations") or {}) == meta["annotations"]
    if same:
        return UNCHANGED, None, None
    if existing.get("immutable"):
        reason = "Secret is immutable"
        return (REPLACE, desired, reason) if force else (CONFLICT, None, reason + "; set force=true to replace it")
    body = dict(existing, metadata=meta, data=desired["data"])
    body.pop("stringData", None)
    return UPDATE, body, None


def plan_absent(existing, force, adopt=False):
    """(action, Secret to delete, reason) for ``state: absent`` in one namespace."""
    if existing is None:
        return ABSENT, None, None
    if not (adopt or owned(existing)):
        return not_ours(existing)
    if not is_pull_secret(existing) and not force:
        return CONFLICT, None, "Secret has type %r; set force=true to delete it" % existing.get("type")
    return DELETE, existing, None


def _view(secret):
    meta = secret.get("metadata") or {}
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(ANNOTATION_CREDENTIALS, None)
    view = {"type": secret.get("type"), "labels": dict(meta.get("labels") or {}),
            "annotations": annotations}
    entries = None
    if is_pull_secret(secret):
        try:
            entries = payload_entries(secret)
            view["registries"] = dockerconfig.redact(entries)
        except dockerconfig.DockerConfigError:
            view["registries"] = "(not a valid docker config)"
    return view, entries or {}


def diff(existing, body):
    """(before, after) views of one Secret for diff mode. They show registries, usernames,
    expiry, labels and annotations, and say which credentials change; never a password, a
    token, the payload or a hash of it (a hash would let a weak password be guessed)."""
    before, old_entries = _view(existing) if existing is not None else ({}, {})
    if body is None:
        return before, {}
    after, new_entries = _view(body)
    for server, shown in (after.get("registries") or {}).items():
        if server not in old_entries:
            shown["credential"] = "added"
        elif old_entries[server] != new_entries[server]:
            shown["credential"] = "changed"
        else:
            shown["credential"] = "unchanged"
    return before, after
