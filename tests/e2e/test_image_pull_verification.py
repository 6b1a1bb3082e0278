"""End to end on a real node, KEP-2535: a private image pulled for a pod with credentials stays
in the node's cache, and with the kubelet's default policy a pod without credentials runs it from
there (``imagePullPolicy: IfNotPresent``). The kubelet_credential_provider role sets
``imagePullCredentialsVerificationPolicy: AlwaysVerify`` (and the feature gate the 1.34 kubelet
needs) in a drop-in of the kubelet's ``--config-dir``: the same pod is refused while a pod with the
right Secret still runs, and ``state: absent`` gives the kubelet its previous configuration back.
"""

import json
from pathlib import Path

import pytest

from test_kubelet_pull import events, image, outcome, start_pod, wait_for_event, write_secret
from test_node_credential_provider import kubelet_process, login, play, recap, run_role

PLAY = Path(__file__).resolve().parent / "image_pull_verification.yml"
DROPIN = "kubelet.conf.d/90-regcred-k8s-image-pull-verification.conf"
SECRET = "registry-login"
# What PLAY reads besides the state: the policy.
ALWAYS_VERIFY = {"E2E_POLICY": "AlwaysVerify"}


@pytest.fixture(name="verification")
def verification_fixture(env, node):  # pylint: disable=unused-argument
    """Undoes the role if a test left it applied, so the other e2e tests see the default kubelet."""
    yield
    if (Path(env["REGCRED_NODE_DIR"]) / DROPIN).exists():
        run_role(env, PLAY, "absent", ALWAYS_VERIFY)


def run_pod(env, admin, node, namespace, name, policy="IfNotPresent", secret=False):
    """A one-shot pod on the node with the private test image; (outcome, detail, seconds) as outcome() gives."""
    since = start_pod(admin, node, namespace, image(env, "basic"), name, policy=policy, secrets=[SECRET] if secret else ())
    return outcome(admin, namespace, name, since)


def assert_ran(admin, namespace, name, result):
    verdict, status = result[:2]
    assert verdict == "pulled", (status, events(admin, namespace, name))
    assert status.state.terminated.exit_code == 0, status.state.terminated


@pytest.mark.usefixtures("verification")
def test_always_verify_refuses_the_cached_image_to_a_pod_without_credentials(env, admin, node, namespace, tmp_path, timings):
    node_dir = Path(env["REGCRED_NODE_DIR"])
    flags = (node_dir / "kubelet.env").read_text()
    kubelet_config = (node_dir / "kubelet.yaml").read_text()
    write_secret(env, namespace, login(env), tmp_path, SECRET)

    # 1) The pod with the Secret pulls the private image (Always: a real pull), which the node keeps.
    assert_ran(admin, namespace, "with-secret", run_pod(env, admin, node, namespace, "with-secret", "Always", secret=True))
    assert "Pulled" in [event[0] for event in events(admin, namespace, "with-secret")]

    # 2) Policy off (the kubelet's default): a pod without credentials runs the cached image.
    result = run_pod(env, admin, node, namespace, "cached-off")
    assert_ran(admin, namespace, "cached-off", result)
    assert any("already present on machine" in m for m in wait_for_event(admin, namespace, "cached-off", "Pulled"))
    timings["cached private image without credentials, policy off"] = round(result[2], 2)

    # 3) The role sets AlwaysVerify: check mode first, which changes nothing.
    before = kubelet_process(env)
    checked = run_role(env, PLAY, "present", ALWAYS_VERIFY, ["--check", "--diff"])
    assert recap(checked)["changed"] > 0 and "imagePullCredentialsVerificationPolicy: AlwaysVerify" in checked.stdout
    assert (node_dir / "kubelet.env").read_text() == flags and not (node_dir / DROPIN).exists()
    assert kubelet_process(env) == before, "check mode does not restart the kubelet"

    run_role(env, PLAY, "present", ALWAYS_VERIFY)
    dropin = (node_dir / DROPIN).read_text()
    assert "imagePullCredentialsVerificationPolicy: AlwaysVerify" in dropin and "KubeletEnsureSecretPulledImages: true" in dropin
    assert f"--config-dir={node_dir / 'kubelet.conf.d'}" in (node_dir / "kubelet.env").read_text()
    restarted = kubelet_process(env)
    assert restarted != before
    rerun = run_role(env, PLAY, "present", ALWAYS_VERIFY)
    assert recap(rerun)["changed"] == 0, rerun.stdout[-3000:]
    assert kubelet_process(env) == restarted, "a rerun must not restart the kubelet"

    # The pod with the right Secret still runs (the kubelet verifies its credentials with the registry) ...
    result = run_pod(env, admin, node, namespace, "with-secret-verified", secret=True)
    assert_ran(admin, namespace, "with-secret-verified", result)
    timings["cached private image with the Secret, AlwaysVerify"] = round(result[2], 2)
    # ... and the one without credentials is refused: the kubelet pulls again, and the registry says 401.
    result = run_pod(env, admin, node, namespace, "cached-verified")
    assert result[0] == "refused", result
    failed = wait_for_event(admin, namespace, "cached-verified", "Failed")
    assert any("401 Unauthorized" in m for m in failed), failed
    assert not any("already present on machine" in event[1] for event in events(admin, namespace, "cached-verified"))
    timings["cached private image without credentials refused, AlwaysVerify"] = round(result[2], 2)

    # 4) absent: the previous flags, no drop-in, and the cached image runs without credentials again.
    removed = run_role(env, PLAY, "absent", ALWAYS_VERIFY)
    assert recap(removed)["changed"] > 0
    assert (node_dir / "kubelet.env").read_text() == flags
    assert (node_dir / "kubelet.yaml").read_text() == kubelet_config
    assert not (node_dir / DROPIN).exists()
    after = kubelet_process(env)
    assert after != restarted
    assert b"--config-dir" not in Path(f"/proc/{after[0]}/cmdline").read_bytes()
    assert_ran(admin, namespace, "cached-after", run_pod(env, admin, node, namespace, "cached-after"))


@pytest.mark.usefixtures("verification")
@pytest.mark.parametrize("policy, allowlist", [
    ("Always", []),  # imagePullPolicy's word, not the kubelet's
    ("NeverVerifyAllowlistedImages", ["nginx"]),  # no registry: the kubelet would refuse it
])
def test_a_bad_policy_or_allowlist_fails_naming_the_variable_before_any_write(env, policy, allowlist):
    node_dir = Path(env["REGCRED_NODE_DIR"])
    flags = (node_dir / "kubelet.env").read_text()
    before = kubelet_process(env)
    done = play(env, PLAY, "present", {"E2E_POLICY": policy}, [
        "-e", json.dumps({"kubelet_credential_provider_preloaded_images_verification_allowlist": allowlist})])
    assert done.returncode != 0, done.stdout[-3000:]
    assert "kubelet_credential_provider_image_pull_verification_policy must be" in done.stdout, done.stdout[-3000:]
    assert "kubelet_credential_provider_preloaded_images_verification_allowlist needs" in done.stdout
    assert (node_dir / "kubelet.env").read_text() == flags and not (node_dir / DROPIN).exists()
    assert kubelet_process(env) == before
