"""Bounded time: every server a task talks to frozen with SIGSTOP in turn while the task runs.

A frozen process keeps its listening socket, so connections open and nothing ever answers: the
worst case for a client without timeouts. For each of the apiserver, both registries, the
registry's token server, moto (ECR), the ECR Public emulator, the Google token endpoint and Azure AD/ACR, a task with a
short timeout must fail within that timeout (plus Ansible's own start-up), with a message that
names the server and says it timed out; after SIGCONT a rerun converges. One test keeps the
default request_timeout and measures that a silent apiserver fails a task in about a minute.

The environment always gets SIGCONT (localenv.paused), also when a test fails.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import pytest
import yaml

import localenv
import testenv

PULL = "regcred.k8s.registry_pull_secret"
SA = "regcred.k8s.sa_image_pull_secrets"
INFO = "regcred.k8s.pull_secret_info"
SHORT = 2  # seconds, request_timeout and registry_timeout of these tests
# Ansible's own start-up and module transfer on a busy two-core machine, on top of the timeouts.
OVERHEAD = 30
# What hung before: the bound after which a run counts as hanging, and is killed.
HANG = 150


def start_task(env, module, args, workdir):
    """Start one task as testenv.run_task runs it, in its own process group; ``(Popen, result file)``."""
    workdir.mkdir(parents=True, exist_ok=True)
    result_file = workdir / "result.json"
    task = {"name": "task under test", module: args, "register": "out", "ignore_errors": True}
    copy = {"content": "{{ out | to_json }}", "dest": str(result_file), "mode": "0600"}
    save = {"name": "save", "ansible.builtin.copy": copy}
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": [task, save]}]
    (workdir / "play.yml").write_text(yaml.safe_dump(play))
    proc = subprocess.Popen(testenv.playbook_command(workdir / "play.yml"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=testenv.ansible_env(env),
                            start_new_session=True)
    return proc, result_file


def wait_task(proc, result_file, limit=HANG):
    """The TaskRun of a started task; it is killed (its process group, by the PID this test
    started) and the test fails when it has not ended after ``limit`` seconds."""
    try:
        output = proc.communicate(timeout=limit)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the task did not end within {limit} s: it hangs on the frozen server")
    try:
        result = json.loads(result_file.read_text())
    except (OSError, ValueError) as exc:
        raise AssertionError(f"no task result ({exc}):\n{output[-3000:]}")
    assert "Traceback" not in output and "MODULE FAILURE" not in output, output[-3000:]
    return testenv.TaskRun(result, output, "", proc.returncode)


def run_bounded(env, module, args, workdir, limit=HANG):
    """``(TaskRun, seconds)`` of one task that may not take longer than ``limit``."""
    began = time.monotonic()
    run = wait_task(*start_task(env, module, args, workdir), limit=limit)
    return run, time.monotonic() - began


def host_of(url):
    return urlsplit(url).netloc


def basic(server, env, **extra):
    return dict({"provider": "basic", "server": server, "username": env["REGCRED_REGISTRY_USER"],
                 "password": env["REGCRED_REGISTRY_PASSWORD"]}, **extra)


def cases(env):
    """{case: (process to freeze, registries, other task options, the server the message names, budget)}.
    ``budget`` is the time the task may wait on the frozen server, in seconds."""
    verify = {"verify": True, "registry_ca_path": env["REGCRED_REGISTRY_CA"]}
    azure = {"provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"], "auth": "token_exchange",
             "tenant_id": env["REGCRED_AZURE_TENANT_ID"], "client_id": env["REGCRED_AZURE_CLIENT_ID"],
             "client_secret": env["REGCRED_AZURE_CLIENT_SECRET"], "authority_host": env["REGCRED_AZURE_AUTHORITY"]}
    return {
        "registry-basic": ("registry-basic", [basic(env["REGCRED_REGISTRY_BASIC"], env)], verify,
                           env["REGCRED_REGISTRY_BASIC"], SHORT),
        "registry-bearer": ("registry-bearer", [basic(env["REGCRED_REGISTRY_BEARER"], env)], verify,
                            env["REGCRED_REGISTRY_BEARER"], SHORT),
        "registry-token": ("registry-token", [basic(env["REGCRED_REGISTRY_BEARER"], env)], verify,
                           host_of(env["REGCRED_REGISTRY_TOKEN_REALM"]), SHORT),
        # moto's endpoint is named as botocore knows it; two attempts.
        "moto": ("moto", [{"provider": "ecr", "region": env["REGCRED_AWS_REGION"],
                           "access_key": env["REGCRED_AWS_ACCESS_KEY_ID"],
                           "secret_key": env["REGCRED_AWS_SECRET_ACCESS_KEY"],
                           "endpoint_url": env["AWS_ENDPOINT_URL_ECR"]}], {},
                 env["AWS_ENDPOINT_URL_ECR"], 2 * SHORT + 2),
        # The ECR Public emulator, named as botocore knows it; two attempts, as for ECR.
        "ecr-public": ("ecr-public", [{"provider": "ecr_public", "access_key": env["REGCRED_AWS_ACCESS_KEY_ID"],
                                       "secret_key": env["REGCRED_AWS_SECRET_ACCESS_KEY"],
                                       "endpoint_url": env["AWS_ENDPOINT_URL_ECR_PUBLIC"]}], {},
                       env["AWS_ENDPOINT_URL_ECR_PUBLIC"], 2 * SHORT + 2),
        "google": ("google", [{"provider": "gcr", "server": "europe-docker.pkg.dev", "auth": "access_token",
                               "service_account_key_file": env["REGCRED_GCP_KEY_FILE"]}], {},
                   None, SHORT),
        "azure-ad": ("azure-ad", [azure], {"registry_ca_path": env["REGCRED_AZURE_CA"]},
                     env["REGCRED_AZURE_AUTHORITY"], SHORT),
        # The ACR token exchange at the realm the login server's challenge names, after Azure AD answered.
        "acr": ("azure", [azure], {"registry_ca_path": env["REGCRED_AZURE_CA"]},
                env["REGCRED_AZURE_TOKEN_SERVICE"], SHORT),
        # The login server's /v2/ challenge, asked first.
        "acr-login-server": ("registry-acr", [azure], {"registry_ca_path": env["REGCRED_AZURE_CA"]},
                             env["REGCRED_AZURE_REGISTRY"], SHORT),
        # The managed identity endpoint (IMDS); azure-identity's own retries are off, so one attempt.
        "azure-imds": ("azure-imds", [{"provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"],
                                       "auth": "managed_identity"}],
                       {"registry_ca_path": env["REGCRED_AZURE_CA"]}, env["REGCRED_AZURE_IMDS"], SHORT),
    }


CASES = ("registry-basic", "registry-bearer", "registry-token", "moto", "ecr-public", "google", "azure-ad", "acr",
         "acr-login-server", "azure-imds")


@pytest.mark.parametrize("case", CASES)
def test_a_silent_registry_or_cloud_endpoint_fails_within_registry_timeout(
        env, admin, make_namespace, tmp_path, case, monkeypatch):
    process, registries, options, server, budget = cases(env)[case]
    # Where azure-identity finds IMDS (the managed identity case); ansible_env passes it on.
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", env["REGCRED_AZURE_IMDS"])
    if server is None:  # the Google token endpoint: the token_uri of the key file
        with open(env["REGCRED_GCP_KEY_FILE"], encoding="utf-8") as handle:
            server = json.load(handle)["token_uri"]
    namespace = make_namespace("tmo")
    args = dict(options, name="tmo-regcred", namespace=namespace, registries=registries, registry_timeout=SHORT)
    audit = testenv.AuditLog(env)
    with localenv.paused(process):
        run, elapsed = run_bounded(env, PULL, args, tmp_path / "frozen")
    assert run.failed, run.result
    message = run.result["msg"]
    assert server in message and "timed out" in message and "registry_timeout" in message, message
    assert SHORT <= elapsed < budget + OVERHEAD, (elapsed, message)
    assert audit.writes(testenv.agent("registry_pull_secret"), namespace=namespace) == 0
    assert env["REGCRED_REGISTRY_PASSWORD"] not in run.stdout + str(run.result)

    rerun = run_bounded(env, PULL, args, tmp_path / "rerun")[0]
    assert not rerun.failed, rerun.result
    assert rerun.result["namespaces"][namespace]["result"] == "created", rerun.result
    assert admin.read_namespaced_secret("tmo-regcred", namespace).type == "kubernetes.io/dockerconfigjson"


def test_a_silent_apiserver_fails_every_module_within_request_timeout(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("tmo")
    testenv.wait_for_default(admin, namespace)
    tasks = {
        PULL: {"name": "tmo-regcred", "namespace": namespace,
               "registries": [basic("tmo.regcred.invalid", env)]},
        SA: {"namespace": namespace, "secrets": ["tmo-regcred"]},
        INFO: {"namespace": namespace, "image": ["tmo.regcred.invalid/app:1"]},
    }
    # Three attempts of a read, SHORT seconds each, and the back-off between them.
    budget = 3 * SHORT + 2
    with localenv.paused("kube-apiserver"):
        for module, args in tasks.items():
            run, elapsed = run_bounded(env, module, dict(args, request_timeout=SHORT), tmp_path / module)
            assert run.failed, (module, run.result)
            message = run.result["msg"]
            assert env["REGCRED_KUBE_HOST"] in message and "timed out" in message, (module, message)
            assert "request_timeout" in message, (module, message)
            assert SHORT <= elapsed < budget + OVERHEAD, (module, elapsed, message)
    for module, args in tasks.items():
        rerun = run_bounded(env, module, dict(args, request_timeout=SHORT), tmp_path / (module + "-rerun"))[0]
        assert not rerun.failed, (module, rerun.result)
    assert admin.read_namespaced_secret("tmo-regcred", namespace).type == "kubernetes.io/dockerconfigjson"
    names = [ref.name for ref in admin.read_namespaced_service_account("default", namespace).image_pull_secrets]
    assert names == ["tmo-regcred"]


def test_the_apiserver_frozen_mid_run_fails_the_rest_at_once(env, admin, tmp_path):
    """Frozen after some Secrets are written: the requests in flight time out once, and the
    namespaces still to do fail at once instead of each waiting in turn."""
    run_id = uuid.uuid4().hex[:8]
    names = [f"tmo-{run_id}-{i:03d}" for i in range(120)]
    selector = f"regcred-timeout={run_id}"
    args = {"name": "tmo-regcred", "namespace_selector": selector, "parallel": 2, "request_timeout": SHORT,
            "registries": [basic("tmo.regcred.invalid", env)]}
    try:
        for name in names:
            admin.create_namespace({"metadata": {"name": name, "labels": {"regcred-timeout": run_id}}})
        audit = testenv.AuditLog(env)
        agent = testenv.agent("registry_pull_secret")
        proc, result_file = start_task(env, PULL, args, tmp_path / "frozen")
        frozen_for = None
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                creates = [e for e in audit.events(agent) if e["verb"] == "create"
                           and (e.get("objectRef") or {}).get("namespace", "").startswith(f"tmo-{run_id}-")]
                if len(creates) >= 5:
                    with localenv.paused("kube-apiserver"):
                        began = time.monotonic()
                        result = wait_task(proc, result_file).result
                        frozen_for = time.monotonic() - began
                    break
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        assert frozen_for is not None, "the run ended before 5 Secrets were created"
        assert result["failed"] is True
        failed = {n: r["reason"] for n, r in result["namespaces"].items() if r["result"] == "failed"}
        assert failed and all("timed out" in reason for reason in failed.values()), result["summary"]
        # Before, every namespace still to do waited for its own timeout: 2 workers, 2 s each.
        assert frozen_for < 3 * SHORT + 2 + OVERHEAD, (frozen_for, result["summary"])
        assert len(failed) > 10, result["summary"]

        rerun = run_bounded(env, PULL, args, tmp_path / "rerun")[0]
        assert not rerun.failed, rerun.result.get("msg")
        assert rerun.result["summary"].get("failed", 0) == 0
        assert sum(rerun.result["summary"].values()) == len(names)
    finally:
        for name in names:
            try:
                admin.delete_namespace(name)
            except Exception:  # pylint: disable=broad-except
                pass


def test_the_default_request_timeout_fails_a_silent_apiserver_in_about_a_minute(env, make_namespace, tmp_path):
    namespace = make_namespace("tmo")
    args = {"name": "tmo-regcred", "namespace": namespace, "registries": [basic("tmo.regcred.invalid", env)]}
    with localenv.paused("kube-apiserver"):
        run, elapsed = run_bounded(env, PULL, args, tmp_path / "frozen", limit=240)
    assert run.failed, run.result
    assert "no answer within 20 s (3 attempts)" in run.result["msg"], run.result["msg"]
    print(f"a silent apiserver failed the task after {elapsed:.1f} s with the default request_timeout")
    # 3 attempts of 20 s and 1.5 s of back-off, plus Ansible's start-up.
    assert 60 <= elapsed < 60 + OVERHEAD, elapsed
