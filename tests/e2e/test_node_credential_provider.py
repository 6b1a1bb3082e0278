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
from pathlib import Path

import pytest
from kubernetes import client

import testenv
from test_kubelet_pull import events, image, outcome, start_pod, wait_for_event

HERE = Path(__file__).resolve().parent
PLAY = HERE / "node_provider.yml"
LOCALENV = HERE.parents[1] / "scripts" / "localenv"
# What the play reads of env.sh: the node's directory, its kubelet binary and healthz URL.
NODE_VARIABLES = ("REGCRED_NODE_DIR", "REGCRED_KUBELET", "REGCRED_KUBELET_HEALTHZ")


def kubelet_process(env):
    """The kubelet's PID and start time (clock ticks since boot), from the environment's state."""
    pid = json.loads(Path(env["REGCRED_LOCALENV_STATE"]).read_text())["processes"]["kubelet"]["pid"]
    return pid, Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def login(env, **extra):
    """The shared registry login as one of the plugin's credentials."""
    return dict(provider="basic", server=env["REGCRED_REGISTRY_BASIC"], username=env["REGCRED_REGISTRY_USER"],
                password=env["REGCRED_REGISTRY_PASSWORD"], **extra)


def plugin_env(env, credentials=None, audience=""):
    """What PLAY reads besides the state: the registry, the logins (by default the shared one) and
    the audience of service-account-token mode."""
    return {"E2E_REGISTRY": env["REGCRED_REGISTRY_BASIC"], "E2E_CREDENTIALS": json.dumps(credentials or [login(env)]),
            "E2E_AUDIENCE": audience}


def play(env, playbook, state, extra, options=()):
    """A play of the kubelet_credential_provider role on the local node (PLAY, or another one that
    reads the same node variables), with the play's own environment variables ``extra``; the
    CompletedProcess."""
    return testenv.run_playbook(env, playbook, options=options, timeout=300, extra_env={
        "E2E_STATE": state, "E2E_LOCALENV": str(LOCALENV), **{name: env[name] for name in NODE_VARIABLES}, **extra})


def run_role(env, playbook, state, extra, options=()):
    """play(), which must succeed without showing the password."""
    done = play(env, playbook, state, extra, options)
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
        run_role(env, PLAY, "absent", plugin_env(env))


def pod_without_secrets(admin, namespace, pod):
    spec = admin.read_namespaced_pod(pod, namespace).spec
    assert spec.image_pull_secrets is None
    account = admin.read_namespaced_service_account("default", namespace)
    assert not account.image_pull_secrets


def test_node_provider_pulls_without_any_secret_and_absent_refuses(env, admin, node, namespace, provider, timings):
    node_dir = Path(env["REGCRED_NODE_DIR"])
    flags = (node_dir / "kubelet.env").read_text()
    before = kubelet_process(env)
    checked = run_role(env, PLAY, "present", plugin_env(env), ["--check", "--diff"])
    assert recap(checked)["changed"] > 0, "check mode reports what it would change"
    assert "--image-credential-provider-config=" in checked.stdout, "the diff shows the new flags"
    assert (node_dir / "kubelet.env").read_text() == flags
    assert not (node_dir / "credential-provider" / "config.yaml").exists()
    assert kubelet_process(env) == before, "check mode does not restart the kubelet"

    first = run_role(env, PLAY, "present", plugin_env(env))
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
    rerun = run_role(env, PLAY, "present", plugin_env(env))
    assert recap(rerun)["changed"] == 0, rerun.stdout[-3000:]
    assert "RUNNING HANDLER" not in rerun.stdout
    assert kubelet_process(env) == restarted, "a rerun must not restart the kubelet"

    removed = run_role(env, PLAY, "absent", plugin_env(env))
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


@pytest.mark.usefixtures("node", "provider")
def test_a_kubelet_that_does_not_come_back_gets_its_previous_configuration(env):
    """The healthz the role polls never answers (nothing listens on port 1): the role puts the
    previous flags file back, removes the config it wrote, restarts the kubelet and fails."""
    node_dir = Path(env["REGCRED_NODE_DIR"])
    flags = (node_dir / "kubelet.env").read_text()
    before = kubelet_process(env)
    done = play(env, PLAY, "present", plugin_env(env), ["-e", "kubelet_credential_provider_healthz_url=http://127.0.0.1:1/healthz",
                                                        "-e", "kubelet_credential_provider_healthz_timeout=4"])
    assert done.returncode != 0, done.stdout[-3000:]
    assert "were restored and the kubelet restarted with them" in done.stdout, done.stdout[-3000:]
    assert env["REGCRED_REGISTRY_PASSWORD"] not in done.stdout + done.stderr
    assert (node_dir / "kubelet.env").read_text() == flags
    assert not (node_dir / "credential-provider" / "config.yaml").exists()
    after = kubelet_process(env)
    assert after != before
    assert Path(f"/proc/{after[0]}/cmdline").read_bytes().count(b"--image-credential-provider") == 0


AUDIENCE = "regcred-credential-provider"
ANNOTATION = "regcred.k8s/credential"
KEPT = "other.example/keep"
CLUSTER_PLAY = HERE / "token_mode_cluster.yml"
RBAC_NAME = "regcred-e2e-token-audience"


def token_mode_cluster(env, namespace, state):
    """The cluster side of token mode in one play (token_mode_cluster.yml): the role's cluster entry
    grants the nodes tokens for the audience for the test's ServiceAccounts of ``namespace``, and
    sa_image_pull_secrets sets the annotation of the one that has a login; ``absent`` undoes both."""
    done = testenv.run_playbook(env, CLUSTER_PLAY, extra_env={
        "E2E_STATE": state, "E2E_NAMESPACE": namespace, "E2E_AUDIENCE": AUDIENCE,
        "E2E_SERVICE_ACCOUNTS": json.dumps(["team", "plain"]), "E2E_ANNOTATED": "team", "E2E_LOGIN": "team"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done


@pytest.fixture(name="cluster_side")
def cluster_side_fixture(env, namespace):
    """Applies the cluster side of token mode; undoes it after the test if the test did not."""
    applied = []

    def apply(state):
        token_mode_cluster(env, namespace, state)
        applied.append(state)

    yield apply
    if applied[-1:] == ["present"]:
        token_mode_cluster(env, namespace, "absent")


def token_mode_rbac(env, namespace):
    """Which of the cluster side's ClusterRole, ClusterRoleBinding and RoleBinding (in ``namespace``) exist."""
    rbac = client.RbacAuthorizationV1Api(testenv.api_client(env["KUBECONFIG"]))
    named = f"metadata.name={RBAC_NAME}"
    found = (rbac.list_cluster_role(field_selector=named), rbac.list_cluster_role_binding(field_selector=named),
             rbac.list_namespaced_role_binding(namespace, field_selector=named))
    return [bool(listed.items) for listed in found]


@pytest.mark.usefixtures("provider")
def test_service_account_token_mode_chooses_the_login_by_annotation(env, admin, node, namespace, timings, cluster_side):
    """The kubelet passes the pod's ServiceAccount token (for the audience) and annotation to the
    plugin: a ServiceAccount annotated with the login's name pulls, one without it is refused. The
    plugin gives the login only for a token with the audience, from the login's namespace, so the
    pull also shows that the token arrived."""
    admin.create_namespaced_service_account(namespace, {"metadata": {"name": "team", "annotations": {KEPT: "yes"}}})
    admin.create_namespaced_service_account(namespace, {"metadata": {"name": "plain"}})
    cluster_side("present")
    assert admin.read_namespaced_service_account("team", namespace).metadata.annotations == {ANNOTATION: "team", KEPT: "yes"}
    assert token_mode_rbac(env, namespace) == [True, False, True], "bound in the namespace, not cluster-wide"
    run_role(env, PLAY, "present", plugin_env(env, [login(env, name="team", namespaces=[namespace])], AUDIENCE))
    rendered = (Path(env["REGCRED_NODE_DIR"]) / "credential-provider" / "config.yaml").read_text()
    assert f"serviceAccountTokenAudience: {AUDIENCE}" in rendered and "cacheType: ServiceAccount" in rendered

    since = start_pod(admin, node, namespace, image(env, "basic"), "annotated", "team")
    result, status, seconds = outcome(admin, namespace, "annotated", since)
    assert result == "pulled", (status, events(admin, namespace, "annotated"))
    assert status.image_id.endswith("@" + env["REGCRED_TEST_IMAGE_DIGEST"]), status.image_id
    timings["pull with the ServiceAccount's login (token mode)"] = round(seconds, 2)

    since = start_pod(admin, node, namespace, image(env, "basic"), "unannotated", "plain")
    result, detail, seconds = outcome(admin, namespace, "unannotated", since)
    assert result == "refused", detail
    failed = wait_for_event(admin, namespace, "unannotated", "Failed")
    assert any("401 Unauthorized" in m for m in failed), failed
    timings["refused without the annotation (token mode)"] = round(seconds, 2)

    cluster_side("absent")
    assert admin.read_namespaced_service_account("team", namespace).metadata.annotations == {KEPT: "yes"}
    assert token_mode_rbac(env, namespace) == [False, False, False]
