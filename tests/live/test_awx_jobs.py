"""The AWX job templates of awx/README.md, run as AWX runs them (tests/harness/awx_jobs.py):
ansible-runner, the Kubernetes Bearer Token and Amazon Web Services credentials injected by AWX's
own injectors, the collection's custom credential types rendered as AWX renders them. Each job
writes its Secret (or, for refresh_cronjob.yml, the refresh CronJob and its RBAC, with no kubectl
on the PATH), and nothing secret shows in the job's output or events."""

import base64
import json
import os
import shutil
import sys
from pathlib import Path

import collection_path
import pytest
from kubernetes import client

import testenv

import awx_jobs

AWX = awx_jobs.REPO / "awx" / "credential_types"


@pytest.fixture(name="job_env")
def job_env_fixture(env, monkeypatch, tmp_path):
    """The pieces every job shares: a private data directory and the Kubernetes credential."""
    # Only what the credentials inject may reach the job, as in AWX's execution environment.
    for name in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # ansible-playbook on the PATH, as in the execution environment.
    monkeypatch.setenv("PATH", "%s:%s" % (Path(sys.executable).parent, os.environ["PATH"]))
    directory = awx_jobs.private_data_dir(tmp_path)
    kubernetes = awx_jobs.inject_builtin("kubernetes_bearer_token", {
        "host": env["REGCRED_KUBE_HOST"], "bearer_token": env["REGCRED_ADMIN_TOKEN"], "verify_ssl": True,
        "ssl_ca_cert": Path(env["REGCRED_KUBE_CA"]).read_text()}, directory)
    return directory, kubernetes


def run(env, directory, playbook, credentials_env, extra_vars, job_env=None):
    runner = awx_jobs.run_job(directory, playbook, credentials_env, extra_vars, dict(job_env or {}),
                              collection_path.ensure(), sys.executable)
    output = runner.stdout.read()
    events = json.dumps(list(runner.events))
    assert runner.status == "successful" and runner.rc == 0, output
    return output + events


def dockerconfig(admin, namespace, name):
    secret = admin.read_namespaced_secret(name, namespace)
    assert secret.type == "kubernetes.io/dockerconfigjson"
    return json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))["auths"]


def test_ecr_refresh_job_with_the_aws_and_kubernetes_credentials(env, admin, make_namespace, job_env):
    directory, kubernetes = job_env
    namespace = make_namespace("awx-ecr")
    aws = awx_jobs.inject_builtin("aws", {"username": env["REGCRED_AWS_ACCESS_KEY_ID"],
                                          "password": env["REGCRED_AWS_SECRET_ACCESS_KEY"]}, directory)
    assert set(kubernetes) == {"K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_SSL_CA_CERT"}
    # The job's own environment (AWX's "Extra Environment Variables"): the ECR endpoint and its CA.
    shown = run(env, directory, "ecr_refresh.yml", dict(kubernetes, **aws), {
        "ecr_pull_secret_region": env["REGCRED_AWS_REGION"], "ecr_pull_secret_registry_ids": ["123456789012"],
        "ecr_pull_secret_namespaces": [namespace], "ecr_pull_secret_verify": False,
    }, {"AWS_ENDPOINT_URL_ECR": env["AWS_ENDPOINT_URL_ECR"], "AWS_CA_BUNDLE": env["AWS_CA_BUNDLE"]})
    auths = dockerconfig(admin, namespace, "ecr")
    assert list(auths) == ["123456789012.dkr.ecr.%s.amazonaws.com" % env["REGCRED_AWS_REGION"]]
    user, _sep, token = base64.b64decode(auths[list(auths)[0]]["auth"]).decode().partition(":")
    assert user == "AWS" and token
    for secret in (token, env["REGCRED_ADMIN_TOKEN"], env["REGCRED_AWS_SECRET_ACCESS_KEY"]):
        assert secret not in shown


def test_bootstrap_job_with_the_basic_registry_credential_type(env, admin, make_namespace, job_env):
    directory, kubernetes = job_env
    namespace = make_namespace("awx-basic")
    registry = awx_jobs.inject_custom(AWX / "registry_basic.yml", {
        "server": env["REGCRED_REGISTRY_BASIC"], "username": env["REGCRED_REGISTRY_USER"],
        "password": env["REGCRED_REGISTRY_PASSWORD"], "ca_cert": Path(env["REGCRED_REGISTRY_CA"]).read_text()},
        directory)
    assert registry["REGISTRY_CA_FILE"].startswith("/runner/env/"), registry
    # The extra vars of awx/README.md: lookups, templated in the job, so they hold no secret.
    shown = run(env, directory, "bootstrap.yml", dict(kubernetes, **registry), {
        "pull_secrets_registry_ca_path": "{{ lookup('ansible.builtin.env', 'REGISTRY_CA_FILE') }}",
        "pull_secrets_secrets": [{"name": "regcred", "namespaces": [namespace], "verify": True, "registries": [{
            "provider": "basic", "server": "{{ lookup('ansible.builtin.env', 'REGISTRY_SERVER') }}",
            "username": "{{ lookup('ansible.builtin.env', 'REGISTRY_USERNAME') }}",
            "password": "{{ lookup('ansible.builtin.env', 'REGISTRY_PASSWORD') }}"}]}],
    })
    auths = dockerconfig(admin, namespace, "regcred")
    assert base64.b64decode(auths[env["REGCRED_REGISTRY_BASIC"]]["auth"]).decode() == "%s:%s" % (
        env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
    for secret in (env["REGCRED_REGISTRY_PASSWORD"], env["REGCRED_ADMIN_TOKEN"]):
        assert secret not in shown


def path_without(tmp_path, program):
    """A PATH with ansible-playbook's directory and a directory of links to every other program
    of the current PATH, except ``program``."""
    links = tmp_path / ("path-without-" + program)
    links.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for entry in (Path(directory).iterdir() if Path(directory).is_dir() else ()):
            if entry.name != program and not (links / entry.name).exists() and os.access(entry, os.X_OK):
                (links / entry.name).symlink_to(entry)
    return os.pathsep.join((str(Path(sys.executable).parent), str(links)))


def test_refresh_cronjob_job_with_the_kubernetes_credential_and_no_kubectl(env, make_namespace, job_env, tmp_path):
    """The refresh_cronjob role, as an AWX job, connects only through the K8S_AUTH_* variables of
    the Kubernetes credential and runs with no kubectl on the PATH; a rerun changes nothing."""
    directory, kubernetes = job_env
    assert set(kubernetes) == {"K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_SSL_CA_CERT"}
    namespace = make_namespace("awx-rcj")
    search_path = path_without(tmp_path, "kubectl")
    assert shutil.which("kubectl") and shutil.which("kubectl", path=search_path) is None
    assert shutil.which("ansible-playbook", path=search_path)
    extra_vars = {"refresh_cronjob_namespace": namespace, "refresh_cronjob_suspend": True,
                  "refresh_cronjob_image": "registry.example.com/regcred/ee@sha256:" + "0" * 64,
                  "refresh_cronjob_target_namespaces": [namespace]}
    cluster_name = namespace + "-regcred-refresh"
    api = testenv.api_client(env["KUBECONFIG"])
    rbac = client.RbacAuthorizationV1Api(api)
    try:
        shown = run(env, directory, "refresh_cronjob.yml", kubernetes, extra_vars, {"PATH": search_path})
        assert '"created": 8' in shown
        cronjob = client.BatchV1Api(api).read_namespaced_cron_job("regcred-refresh", namespace)
        assert cronjob.spec.suspend is True
        assert rbac.read_cluster_role(cluster_name).rules[0].resource_names == ["ecr"]
        again = run(env, directory, "refresh_cronjob.yml", kubernetes, extra_vars, {"PATH": search_path})
        assert '"unchanged": 8' in again
        for output in (shown, again):
            assert env["REGCRED_ADMIN_TOKEN"] not in output
    finally:
        removed = run(env, directory, "refresh_cronjob.yml", kubernetes,
                      dict(extra_vars, refresh_cronjob_state="absent"), {"PATH": search_path})
    assert '"deleted": 8' in removed
    assert [r.metadata.name for r in rbac.list_cluster_role().items if r.metadata.name.startswith(cluster_name)] == []
