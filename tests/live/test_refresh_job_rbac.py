"""The refresh job's identity, tried as an attacker would, with its own token.

The role refresh_cronjob is applied for real; then every escalation that its earlier RBAC allowed
(a ClusterRole with get, list and create on every Secret) is tried with the job's ServiceAccount
token against the apiserver. Creates and patches are server-side dry runs, so an attack that got
through would still leave nothing behind; the test fails on it all the same. The job's real work
(write its one pull Secret, attach it to a ServiceAccount) must still succeed with that token.
"""

import collections
import json
import uuid

import pytest
from kubernetes.client.exceptions import ApiException

import testenv
from testenv import workdir

JOB = "regcred-refresh"
SECRET = "job-pull"
Job = collections.namedtuple("Job", ("client", "token", "target", "other", "mode"))


def refused(call):
    """The apiserver's status for a call that must be refused (403 by RBAC, 422 by the admission
    policy); fails the test when the call goes through."""
    try:
        call()
    except ApiException as exc:
        assert exc.status in (403, 422), f"refused with an unexpected status {exc.status}: {exc.body}"
        return exc
    raise AssertionError("the apiserver allowed it")


def sa_token_secret(namespace, account, name="stolen"):
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {"kubernetes.io/service-account.name": account}}}


def pull_secret(namespace, name):
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": name, "namespace": namespace},
            "data": {".dockerconfigjson": "eyJhdXRocyI6e319"}}


@pytest.fixture(name="job", scope="module", params=["target-namespaces", "cluster-wide"])
def job_fixture(request, env, tmp_path_factory):
    """The role applied in one of its two binding modes, once per mode for all tests of this file;
    yields a Job: a client with the job's token, the token, a target and another namespace, the mode."""
    admin = testenv.core_v1(env["KUBECONFIG"])
    suffix = uuid.uuid4().hex[:8]
    job_ns, target, other = (f"rcj-{suffix}", f"rcj-target-{suffix}", f"rcj-other-{suffix}")
    for namespace in (job_ns, target, other):
        admin.create_namespace({"metadata": {"name": namespace}})
    tmp_path = tmp_path_factory.mktemp("refresh-job")
    role_vars = {
        "refresh_cronjob_namespace": job_ns,
        "refresh_cronjob_image": "registry.example.com/regcred/ee@sha256:" + "0" * 64,
        "refresh_cronjob_secret_name": SECRET,
        "refresh_cronjob_target_namespaces": [target] if request.param == "target-namespaces" else [],
        "refresh_cronjob_kubeconfig": env["KUBECONFIG"],
        "refresh_cronjob_suspend": True,
    }
    try:
        applied = testenv.run_role(env, "regcred.k8s.refresh_cronjob", role_vars, workdir(tmp_path, "apply"))
        assert not applied.result["failed"], applied.result
        token = testenv.kubectl(env, "-n", job_ns, "create", "token", JOB, "--duration", "10m").stdout.strip()
        for namespace in (target, other, "kube-system"):
            testenv.wait_for_default(admin, namespace)
        yield Job(testenv.core_v1_with_token(env, token), token, target, other, request.param)
    finally:
        removed = testenv.run_role(env, "regcred.k8s.refresh_cronjob", dict(role_vars, refresh_cronjob_state="absent"),
                                   workdir(tmp_path, "remove"))
        for namespace in (job_ns, target, other):
            admin.delete_namespace(namespace)
        assert not removed.result["failed"], removed.result


def test_job_cannot_mint_a_token_secret_for_another_service_account(job):
    client, target = job.client, job.target
    # kube-system holds controller identities such as namespace-controller: near cluster-admin.
    refused(lambda: client.create_namespaced_secret("kube-system", sa_token_secret("kube-system", "namespace-controller"),
                                                    dry_run="All"))
    # In its own target namespace too: the token controller would fill it with default's token.
    refused(lambda: client.create_namespaced_secret(target, sa_token_secret(target, "default"), dry_run="All"))
    # Even under the one name it may write.
    refused(lambda: client.create_namespaced_secret(target, sa_token_secret(target, "default", SECRET), dry_run="All"))
    # And no token through the TokenRequest API either.
    refused(lambda: client.create_namespaced_service_account_token(
        "default", target, {"spec": {"audiences": ["https://kubernetes.default.svc"]}}, dry_run="All"))


def test_job_cannot_read_or_write_other_secrets(job, admin):
    client, target, other, mode = job.client, job.target, job.other, job.mode
    admin.create_namespaced_secret(target, {"metadata": {"name": "victim"}, "stringData": {"password": "s3cret"}})
    refused(lambda: client.read_namespaced_secret("victim", target))
    refused(lambda: client.list_namespaced_secret(target))
    refused(client.list_secret_for_all_namespaces)
    refused(lambda: client.patch_namespaced_secret("victim", target, {"metadata": {"labels": {"x": "y"}}}, dry_run="All"))
    refused(lambda: client.create_namespaced_secret(target, {"metadata": {"name": SECRET}, "type": "Opaque",
                                                             "stringData": {"a": "b"}}, dry_run="All"))
    refused(lambda: client.create_namespaced_secret(target, pull_secret(target, "another-name"), dry_run="All"))
    refused(lambda: client.delete_namespaced_secret("victim", target, dry_run="All"))
    if mode == "target-namespaces":
        refused(lambda: client.create_namespaced_secret(other, pull_secret(other, SECRET), dry_run="All"))
        refused(lambda: client.read_namespaced_secret(SECRET, other))


def test_job_may_change_only_image_pull_secrets_of_a_service_account(job):
    client, target = job.client, job.target
    for patch in ({"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/admin"}}},
                  {"metadata": {"labels": {"owner": "attacker"}}},
                  {"secrets": [{"name": "victim"}]},
                  {"automountServiceAccountToken": True}):
        exc = refused(lambda patch=patch: client.patch_namespaced_service_account("default", target, patch, dry_run="All"))
        assert "imagePullSecrets" in json.loads(exc.body)["message"]
    refused(lambda: client.create_namespaced_service_account(target, {"metadata": {"name": "new"}}, dry_run="All"))


def test_job_still_does_its_work(job, env, admin, tmp_path):
    token, target = job.token, job.target
    connection = {"host": env["REGCRED_KUBE_HOST"], "ca_cert": env["REGCRED_KUBE_CA"], "api_key": token}
    registries = [{"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"],
                   "username": env["REGCRED_REGISTRY_USER"], "password": env["REGCRED_REGISTRY_PASSWORD"]}]
    write = testenv.run_task(env, "regcred.k8s.registry_pull_secret",
                             dict(connection, name=SECRET, namespaces=[target], registries=registries), workdir(tmp_path, "w"))
    assert write.result.get("summary") == {"created": 1}, write.result
    attach = testenv.run_task(env, "regcred.k8s.sa_image_pull_secrets",
                              dict(connection, namespaces=[target], secrets=[SECRET]), workdir(tmp_path, "a"))
    assert attach.result.get("changed") and not attach.result.get("failed"), attach.result
    assert [r.name for r in admin.read_namespaced_service_account("default", target).image_pull_secrets] == [SECRET]
    again = testenv.run_task(env, "regcred.k8s.registry_pull_secret",
                             dict(connection, name=SECRET, namespaces=[target], registries=registries), workdir(tmp_path, "r"))
    assert again.result.get("summary") == {"unchanged": 1}, again.result
