import copy

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, StateError
from ansible_collections.regcred.k8s.plugins.module_utils.manifests import (
    check_definitions, check_owner, comparable, diff_entry, group_version_path, object_path, planned, removal,
    resource_kinds)

OWNER = "app.kubernetes.io/managed-by"


def obj(kind="ServiceAccount", name="job", namespace="ops", api_version="v1", **extra):
    metadata = {"name": name, "labels": {OWNER: "regcred.k8s"}}
    if namespace:
        metadata["namespace"] = namespace
    return dict({"apiVersion": api_version, "kind": kind, "metadata": metadata}, **extra)


def stored(body, **metadata):
    """``body`` as the apiserver returns it: with the metadata it keeps for itself, and a status."""
    result = copy.deepcopy(body)
    result["metadata"].update({"uid": "1234", "resourceVersion": "77", "generation": 2,
                               "creationTimestamp": "2026-11-30T01:00:00Z",
                               "managedFields": [{"manager": "regcred.k8s"}]}, **metadata)
    result["status"] = {"lastScheduleTime": "2026-11-30T01:17:00Z"}
    return result


def test_definitions_keep_their_order_and_fields():
    manifests = check_definitions([obj(), obj("ClusterRole", "reader", None, "rbac.authorization.k8s.io/v1")], OWNER)
    assert [(m.field, m.ref) for m in manifests] == [("definitions[0]", "ops/ServiceAccount/job"),
                                                     ("definitions[1]", "ClusterRole/reader")]


@pytest.mark.parametrize("body,field,message", [
    ("kind: CronJob", "definitions[0]", "is a str"),
    (dict(obj(), apiVersion="batch/v1/x"), "definitions[0].apiVersion", "not an API version"),
    (dict(obj(), apiVersion=None), "definitions[0].apiVersion", "not an API version"),
    (dict(obj(), kind="cronjob"), "definitions[0].kind", "not a kind"),
    (obj("Secret"), "definitions[0].kind", "registry_pull_secret"),
    ({"apiVersion": "v1", "kind": "ConfigMap"}, "definitions[0].metadata", "is missing"),
    (obj(name="Bad_Name"), "definitions[0].metadata.name", "not a valid object name"),
    (obj(name="../x"), "definitions[0].metadata.name", "not a valid object name"),
    (obj(namespace="a/b"), "definitions[0].metadata.namespace", "not a valid namespace name"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "ops"}},
     "definitions[0].metadata.labels", "has no app.kubernetes.io/managed-by label"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": ["a"]}},
     "definitions[0].metadata.labels", "is not a mapping"),
])
def test_a_bad_definition_is_named(body, field, message):
    with pytest.raises(InputError, match=message) as exc:
        check_definitions([body], OWNER)
    assert exc.value.field == field


def test_no_definitions_and_duplicates_are_refused():
    with pytest.raises(InputError, match="list at least one object"):
        check_definitions([], OWNER)
    with pytest.raises(InputError, match=r"ops/ServiceAccount/job is listed twice \(first as definitions\[0\]\)") as exc:
        check_definitions([obj(), obj(), obj(name="other")], OWNER)
    assert exc.value.field == "definitions[1]"
    # Another version of the same group is the same object.
    with pytest.raises(InputError, match="listed twice"):
        check_definitions([obj("CronJob", api_version="batch/v1"), obj("CronJob", api_version="batch/v1beta1")], OWNER)


def test_without_an_owner_label_the_label_is_not_required():
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "ops"}}
    assert check_definitions([body], "")[0].body is body


def test_resource_kinds_leave_out_subresources():
    answer = {"resources": [
        {"name": "cronjobs", "kind": "CronJob", "namespaced": True},
        {"name": "cronjobs/status", "kind": "CronJob", "namespaced": True},
        {"name": "jobs", "kind": "Job", "namespaced": True}]}
    assert resource_kinds(answer) == {"CronJob": ("cronjobs", True), "Job": ("jobs", True)}
    assert resource_kinds(None) == {}


def test_paths_for_the_core_group_and_named_groups():
    assert group_version_path("v1") == "/api/v1"
    assert group_version_path("batch/v1") == "/apis/batch/v1"
    sa, role = check_definitions([obj(), obj("ClusterRole", "a.b", None, "rbac.authorization.k8s.io/v1")], OWNER)
    assert object_path(sa, "serviceaccounts", True) == "/api/v1/namespaces/ops/serviceaccounts/job"
    assert object_path(role, "clusterroles", False) == "/apis/rbac.authorization.k8s.io/v1/clusterroles/a.b"


def test_a_namespace_must_fit_the_kinds_scope():
    sa, role = check_definitions([obj(namespace=None), obj("ClusterRole", "r", "ops", "rbac.authorization.k8s.io/v1")],
                                 OWNER)
    with pytest.raises(InputError, match="ServiceAccount is namespaced; set its namespace") as exc:
        object_path(sa, "serviceaccounts", True)
    assert exc.value.field == "definitions[0].metadata.namespace"
    with pytest.raises(InputError, match="ClusterRole is cluster-scoped"):
        object_path(role, "clusterroles", False)


def test_only_objects_with_the_same_owner_label_are_ours():
    manifest = check_definitions([obj()], OWNER)[0]
    check_owner(manifest, None, OWNER)
    check_owner(manifest, stored(manifest.body), OWNER)
    theirs = stored(manifest.body)
    theirs["metadata"]["labels"] = {OWNER: "helm"}
    with pytest.raises(StateError, match="label app.kubernetes.io/managed-by is 'helm', not 'regcred.k8s'"):
        check_owner(manifest, theirs, OWNER)
    del theirs["metadata"]["labels"]
    with pytest.raises(StateError, match=r"definitions\[0\]: ops/ServiceAccount/job exists .* is missing"):
        check_owner(manifest, theirs, OWNER)
    check_owner(manifest, theirs, "")


def test_the_plan_ignores_what_the_apiserver_keeps_for_itself():
    body = obj("CronJob", api_version="batch/v1", spec={"schedule": "17 * * * *"})
    assert planned(None, stored(body)) == "created"
    assert planned(stored(body), stored(body, resourceVersion="78", managedFields=[])) == "unchanged"
    changed = stored(dict(body, spec={"schedule": "5 * * * *"}))
    assert planned(stored(body), changed) == "updated"
    assert comparable(stored(body)) == body
    assert comparable(None) is None


def test_removal_of_missing_or_terminating_objects_changes_nothing():
    body = obj()
    assert removal(stored(body)) == "deleted"
    assert removal(None) == "absent"
    assert removal(stored(body, deletionTimestamp="2026-11-30T01:00:00Z")) == "absent"


def test_the_diff_shows_the_objects_without_server_metadata():
    body = obj()
    manifest = check_definitions([body], OWNER)[0]
    entry = diff_entry(manifest, None, stored(body))
    assert entry == {"before_header": "ops/ServiceAccount/job", "after_header": "ops/ServiceAccount/job",
                     "before": {}, "after": body}
