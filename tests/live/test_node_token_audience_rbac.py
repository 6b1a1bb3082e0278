"""The cluster side of service-account-token mode (entry point ``cluster`` of the role
kubelet_credential_provider) against the real apiserver, which runs the Node and RBAC authorizers
and the NodeRestriction admission plugin.

A node identity (user ``system:node:<name>``, group ``system:nodes``, by impersonation) must be
allowed the one verb on the one audience, and nothing more: SubjectAccessReviews ask RBAC, and a
real TokenRequest of the node, bound to a pod scheduled on it, shows that NodeRestriction admits
the audience and refuses another. Before the role runs and after ``state: absent`` the same checks
say no, so each can fail.
"""

import base64
import json
import time
import uuid

import pytest
from kubernetes import client

import testenv
from testenv import workdir

ROLE = "regcred.k8s.kubelet_credential_provider"
VERB = "request-serviceaccounts-token-audience"
RBAC_NAME = "regcred-node-token-audience"


@pytest.fixture(name="cluster")
def cluster_fixture(env, admin, make_namespace):
    """Two namespaces, each with a pod scheduled on a node that does not run (only the apiserver's
    graph of pods and nodes matters), a fresh audience and node name, and the RBAC removed after."""
    suffix = uuid.uuid4().hex[:8]
    node = f"regcred-node-{suffix}"
    namespaces = [make_namespace("aud"), make_namespace("aud-other")]
    pods = {}
    for namespace in namespaces:
        testenv.wait_for_default(admin, namespace)
        pod = admin.create_namespaced_pod(namespace, {
            "metadata": {"name": "on-node"},
            "spec": {"nodeName": node, "automountServiceAccountToken": False,
                     "containers": [{"name": "c", "image": "registry.example.com/never-pulled:v1"}]}})
        pods[namespace] = pod.metadata.uid
    yield {"audience": f"regcred-audience-{suffix}", "node": node, "namespaces": namespaces, "pods": pods}
    testenv.kubectl(env, "delete", "clusterrole,clusterrolebinding", RBAC_NAME, "--ignore-not-found", check=False)


def role_vars(env, cluster, **extra):
    return dict({"kubelet_credential_provider_regcred_audience": cluster["audience"],
                 "kubelet_credential_provider_kubeconfig": env["KUBECONFIG"]}, **extra)


def allowed(env, cluster, namespace, verb=VERB, resource=None, name="default", group=""):
    """RBAC's answer for the node identity (SubjectAccessReview as the admin)."""
    authz = client.AuthorizationV1Api(testenv.api_client(env["KUBECONFIG"]))
    review = authz.create_subject_access_review({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": f"system:node:{cluster['node']}", "groups": ["system:nodes", "system:authenticated"],
                 "resourceAttributes": {"namespace": namespace, "verb": verb, "group": group,
                                        "resource": resource or cluster["audience"], "name": name}}})
    return review.status.allowed


def as_node(env, cluster, *args):
    return testenv.kubectl(env, "--as", f"system:node:{cluster['node']}", "--as-group", "system:nodes", *args,
                           check=False)


def node_token(env, cluster, namespace, audience):
    """The node's TokenRequest for the default ServiceAccount, bound to the pod on the node, as the
    kubelet makes it for a credential provider. Retried while the Node authorizer's graph has not
    seen the pod yet."""
    args = ("-n", namespace, "create", "token", "default", "--audience", audience, "--duration", "10m",
            "--bound-object-kind", "Pod", "--bound-object-name", "on-node",
            "--bound-object-uid", cluster["pods"][namespace])
    deadline = time.monotonic() + 20
    while True:
        run = as_node(env, cluster, *args)
        if run.returncode == 0 or "audience" in run.stderr or time.monotonic() > deadline:
            return run
        time.sleep(0.5)


def audience_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"]


def rbac_versions(env):
    rbac = client.RbacAuthorizationV1Api(testenv.api_client(env["KUBECONFIG"]))
    return (rbac.read_cluster_role(RBAC_NAME).metadata.resource_version,
            rbac.read_cluster_role_binding(RBAC_NAME).metadata.resource_version)


def test_nodes_get_the_audience_and_nothing_more(env, admin, cluster, tmp_path):
    ns, other_ns = cluster["namespaces"]
    audience = cluster["audience"]
    assert not allowed(env, cluster, ns)
    refused_before = node_token(env, cluster, ns, audience)
    assert refused_before.returncode != 0 and "not authorized to request tokens for this audience" in \
        refused_before.stderr, refused_before.stderr

    check = testenv.run_role(env, ROLE, role_vars(env, cluster), workdir(tmp_path, "check"), tasks_from="cluster",
                             check=True)
    assert not check.result["failed"], check.result
    assert not allowed(env, cluster, ns)

    applied = testenv.run_role(env, ROLE, role_vars(env, cluster), workdir(tmp_path, "apply"), tasks_from="cluster")
    assert not applied.result["failed"], applied.result
    rules = client.RbacAuthorizationV1Api(testenv.api_client(env["KUBECONFIG"])).read_cluster_role(RBAC_NAME).rules
    assert [(r.api_groups, r.resources, r.verbs, r.resource_names) for r in rules] == [([""], [audience], [VERB], None)]

    versions = rbac_versions(env)
    again = testenv.run_role(env, ROLE, role_vars(env, cluster), workdir(tmp_path, "again"), tasks_from="cluster")
    assert not again.result["failed"], again.result
    assert rbac_versions(env) == versions  # a rerun writes nothing (its server-side dry runs are no writes)

    assert allowed(env, cluster, ns) and allowed(env, cluster, other_ns)
    assert not allowed(env, cluster, ns, resource=f"{audience}-other")
    assert not allowed(env, cluster, ns, resource="*")
    for verb in ("get", "list", "create", "update", "delete", "escalate", "bind", "*"):
        assert not allowed(env, cluster, ns, verb=verb), verb

    granted = node_token(env, cluster, ns, audience)
    assert granted.returncode == 0, granted.stderr
    assert audience_of(granted.stdout.strip()) == [audience]
    other = node_token(env, cluster, ns, f"{audience}-other")
    assert other.returncode != 0 and "not authorized to request tokens for this audience" in other.stderr, other.stderr

    # Escalation attempts of the granted identity.
    for attempt in (("-n", ns, "get", "secrets"),
                    ("get", "clusterrole", RBAC_NAME),
                    ("patch", "clusterrole", RBAC_NAME, "--type", "json", "-p",
                     '[{"op": "add", "path": "/rules/0/resources/-", "value": "*"}]'),
                    ("create", "clusterrolebinding", f"{RBAC_NAME}-mine", "--clusterrole", "cluster-admin",
                     "--group", "system:nodes")):
        run = as_node(env, cluster, *attempt)
        assert run.returncode != 0 and "forbidden" in run.stderr.lower(), (attempt, run.stdout, run.stderr)

    removed = testenv.run_role(env, ROLE, role_vars(env, cluster, kubelet_credential_provider_state="absent"),
                               workdir(tmp_path, "remove"), tasks_from="cluster")
    assert not removed.result["failed"], removed.result
    assert not allowed(env, cluster, ns)
    assert testenv.kubectl(env, "get", "clusterrole,clusterrolebinding", RBAC_NAME, check=False).returncode != 0


def test_namespaces_and_service_accounts_narrow_it(env, admin, cluster, tmp_path):
    ns, other_ns = cluster["namespaces"]
    wide = testenv.run_role(env, ROLE, role_vars(env, cluster), workdir(tmp_path, "wide"), tasks_from="cluster")
    assert not wide.result["failed"], wide.result
    assert allowed(env, cluster, other_ns)

    narrow_vars = role_vars(env, cluster, kubelet_credential_provider_rbac_namespaces=[ns],
                            kubelet_credential_provider_rbac_service_accounts=["default"])
    narrow = testenv.run_role(env, ROLE, narrow_vars, workdir(tmp_path, "narrow"), tasks_from="cluster")
    assert not narrow.result["failed"], narrow.result
    assert allowed(env, cluster, ns)
    assert not allowed(env, cluster, ns, name="builder")
    assert not allowed(env, cluster, other_ns)  # the cluster-wide binding of the first run is gone
    assert testenv.kubectl(env, "get", "clusterrolebinding", RBAC_NAME, check=False).returncode != 0
    assert node_token(env, cluster, ns, cluster["audience"]).returncode == 0
    assert node_token(env, cluster, other_ns, cluster["audience"]).returncode != 0

    removed = testenv.run_role(env, ROLE, dict(narrow_vars, kubelet_credential_provider_state="absent"),
                               workdir(tmp_path, "remove"), tasks_from="cluster")
    assert not removed.result["failed"], removed.result
    assert not allowed(env, cluster, ns)
    assert testenv.kubectl(env, "-n", ns, "get", "rolebinding", RBAC_NAME, check=False).returncode != 0


BAD_AUDIENCES = {"wildcard": "*", "two-words": "two words", "blank": ""}


@pytest.fixture(scope="module", name="bad_audiences")
def bad_audiences_fixture(env, tmp_path_factory):
    """The role's cluster entry point with each of BAD_AUDIENCES, in one play; per case its run and
    its stretch of the audit log. A refused audience is refused before any request, so no namespace,
    pod or node is needed."""
    audit = testenv.AuditLog(env)
    roles = {case: (ROLE, {"kubelet_credential_provider_regcred_audience": audience,
                           "kubelet_credential_provider_kubeconfig": env["KUBECONFIG"]}, "cluster")
             for case, audience in BAD_AUDIENCES.items()}
    return {case: (run, audit.window(*received))
            for case, (run, received) in testenv.run_roles(env, roles, tmp_path_factory.mktemp("audiences")).items()}


@pytest.mark.parametrize("case", sorted(BAD_AUDIENCES))
def test_a_wildcard_or_blank_audience_is_refused_before_any_write(bad_audiences, case):
    run, audit = bad_audiences[case]
    assert run.result["failed"] and "kubelet_credential_provider_regcred_audience" in run.result["msg"], run.result
    assert audit.events() == []
