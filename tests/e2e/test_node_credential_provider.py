"""End to end on a real node: the kubelet_credential_provider role installs the collection's
credential provider plugin and wires the kubelet, which then pulls the private test image for a pod
that has no imagePullSecrets at all (nor does its ServiceAccount). With ``state: absent`` the same
pod is refused with the registry's 401. A rerun changes nothing and leaves the kubelet running
(same PID and start time).

The node's kubelet reads its extra flags from an environment file (node/kubelet.env), as a kubeadm
node's kubelet reads /etc/default/kubelet through systemd, and ``scripts/localenv restart-kubelet``
stands for ``systemctl restart kubelet``.
"""

import json
import subprocess
from pathlib import Path

import pytest

import testenv
from test_kubelet_pull import events, image, outcome, start_pod, wait_for_event

HERE = Path(__file__).resolve().parent
PLAY = HERE / "node_provider.yml"
LOCALENV = HERE.parents[1] / "scripts" / "localenv"


def kubelet_process(env):
    """The kubelet's PID and start time (clock ticks since boot), from the environment's state."""
    pid = json.loads(Path(env["REGCRED_LOCALENV_STATE"]).read_text())["processes"]["kubelet"]["pid"]
    return pid, Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def play(env, state, options=()):
    """The role's play on the local node, with the shared registry login; the CompletedProcess."""
    return subprocess.run(testenv.playbook_command(PLAY, options), capture_output=True, text=True, timeout=300,
                          check=False, env=testenv.ansible_env(env, None, {
                              "E2E_STATE": state, "E2E_LOCALENV": str(LOCALENV),
                              "E2E_REGISTRY": env["REGCRED_REGISTRY_BASIC"], "E2E_USERNAME": env["REGCRED_REGISTRY_USER"],
                              "E2E_PASSWORD": env["REGCRED_REGISTRY_PASSWORD"]}))


def run_role(env, state, options=()):
    """play(), which must succeed without showing the password."""
    done = play(env, state, options)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert env["REGCRED_REGISTRY_PASSWORD"] not in done.stdout + done.stderr
    return done


def recap(done):
    """The play recap's counters for localhost."""
    line = [row for row in done.stdout.splitlines() if row.startswith("localhost")][-1]
    return {k: int(v) for k, v in (part.split("=") for part in line.split(":", 1)[1].split())}


@pytest.fixture(name="provider")
def provider_fixture(env, node):  # pylint: disable=unused-argument
    """Undoes the role if a test left it applied, so the other e2e tests see a kubelet without it."""
    yield
    if "--image-credential-provider" in (Path(env["REGCRED_NODE_DIR"]) / "kubelet.env").read_text():
        run_role(env, "absent")


def pod_without_secrets(admin, namespace, pod):
    spec = admin.read_namespaced_pod(pod, namespace).spec
    assert spec.image_pull_secrets is None
    account = admin.read_namespaced_service_account("default", namespace)
    assert not account.image_pull_secrets


def test_node_provider_pulls_without_any_secret_and_absent_refuses(env, admin, node, namespace, provider, timings):
    node_dir = Path(env["REGCRED_NODE_DIR"])
    flags = (node_dir / "kubelet.env").read_text()
    before = kubelet_process(env)
    checked = run_role(env, "present", ["--check", "--diff"])
    assert recap(checked)["changed"] > 0, "check mode reports what it would change"
    assert "--image-credential-provider-config=" in checked.stdout, "the diff shows the new flags"
    assert (node_dir / "kubelet.env").read_text() == flags
    assert not (node_dir / "credential-provider" / "config.yaml").exists()
    assert kubelet_process(env) == before, "check mode does not restart the kubelet"

    first = run_role(env, "present")
    assert "RUNNING HANDLER [regcred.k8s.kubelet_credential_provider : Restart the kubelet with the given command]" in first.stdout
    assert (node_dir / "regcred" / "credentials.json").stat().st_mode & 0o777 == 0o600
    assert "--image-credential-provider-config=" in (node_dir / "kubelet.env").read_text()

    since = start_pod(admin, node, namespace, image(env, "basic"), "node-cred")
    result, status, seconds = outcome(admin, namespace, "node-cred", since)
    assert result == "pulled", (status, events(admin, namespace, "node-cred"))
    assert status.state.terminated.exit_code == 0, status.state.terminated
    assert status.image_id.endswith("@" + env["REGCRED_TEST_IMAGE_DIGEST"]), status.image_id
    pod_without_secrets(admin, namespace, "node-cred")
    timings["pull through the node's credential provider"] = round(seconds, 2)

    restarted = kubelet_process(env)
    assert restarted != before
    rerun = run_role(env, "present")
    assert recap(rerun)["changed"] == 0, rerun.stdout[-3000:]
    assert "RUNNING HANDLER" not in rerun.stdout
    assert kubelet_process(env) == restarted, "a rerun must not restart the kubelet"

    removed = run_role(env, "absent")
    assert recap(removed)["changed"] > 0
    assert (node_dir / "kubelet.env").read_text() == flags, "absent gives the kubelet its previous flags back"
    assert not (node_dir / "regcred" / "credentials.json").exists()
    assert not (node_dir / "credential-provider" / "config.yaml").exists()
    assert kubelet_process(env) != restarted, "absent restarts the kubelet without the provider"

    since = start_pod(admin, node, namespace, image(env, "basic"), "no-cred")
    result, detail, seconds = outcome(admin, namespace, "no-cred", since)
    assert result == "refused", detail
    failed = wait_for_event(admin, namespace, "no-cred", "Failed")
    assert any("401 Unauthorized" in m for m in failed), failed
    timings["refused after state absent"] = round(seconds, 2)


def test_a_kubelet_that_does_not_come_back_gets_its_previous_configuration(env, node, provider):  # pylint: disable=unused-argument
    """The healthz the role polls never answers (nothing listens on port 1): the role puts the
    previous flags file back, removes the config it wrote, restarts the kubelet and fails."""
    node_dir = Path(env["REGCRED_NODE_DIR"])
    flags = (node_dir / "kubelet.env").read_text()
    before = kubelet_process(env)
    done = play(env, "present", ["-e", "kubelet_credential_provider_healthz_url=http://127.0.0.1:1/healthz",
                                 "-e", "kubelet_credential_provider_healthz_timeout=4"])
    assert done.returncode != 0, done.stdout[-3000:]
    assert "were restored and the kubelet restarted with them" in done.stdout, done.stdout[-3000:]
    assert env["REGCRED_REGISTRY_PASSWORD"] not in done.stdout + done.stderr
    assert (node_dir / "kubelet.env").read_text() == flags
    assert not (node_dir / "credential-provider" / "config.yaml").exists()
    after = kubelet_process(env)
    assert after != before
    assert Path(f"/proc/{after[0]}/cmdline").read_bytes().count(b"--image-credential-provider") == 0
