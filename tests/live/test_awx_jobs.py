"""The AWX job templates of awx/README.md, run as AWX runs them (tests/harness/awx_jobs.py):
ansible-runner, the Kubernetes Bearer Token and Amazon Web Services credentials injected by AWX's
own injectors, the collection's custom credential types rendered as AWX renders them. Each job
writes its Secret, and nothing secret shows in the job's output or events."""

import base64
import json
import os
import sys
from pathlib import Path

import collection_path
import pytest

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
