"""End to end on a real node: the official ECR plugin, ``ecr-credential-provider`` of
k8s.io/cloud-provider-aws at the kubelet's release (tests/harness/binaries.py builds it from the Go
module proxy), installed and configured by the kubelet_credential_provider role through its
documented options alone, as a user would: ``kubelet_credential_provider_binaries`` copies the
binary from the controller, ``kubelet_credential_provider_providers`` declares it for the ECR hosts
with an ``env`` that points the AWS SDK for Go v2 at moto (``AWS_ENDPOINT_URL_ECR``,
``AWS_CA_BUNDLE``, and static keys standing in for the instance profile a real node has).

A pod with no imagePullSecrets pulls the test image by its ECR name
(``123456789012.dkr.ecr.us-east-1.amazonaws.com/...``). The kubelet runs the plugin; moto's own
recorder (``/moto-api/recorder/``) shows the plugin's ``GetAuthorizationToken`` request, signed by
the Go SDK for ``ecr`` in the region the plugin read from the image's host. containerd's hosts.toml
sends pulls of that host to the local ECR-like registry, whose only login is the one moto issues
(ecr_registry.py), so the pull succeeds only with the plugin's answer.

The role's plays restart the kubelet with this process's environment; the test clears every
``AWS_*`` variable from it first and checks that the kubelet has none, so the plugin can have found
the emulator only through the provider's ``env`` in the role's config.
"""

import hashlib
import json
import os
import ssl
import urllib.request
from pathlib import Path

import pytest
import yaml

import ecr_registry
from test_kubelet_pull import events, outcome, start_pod
from test_node_credential_provider import PLAY, kubelet_process, plugin_env, pod_without_secrets, recap, run_role

PLUGIN = "ecr-credential-provider"
# The ECR hosts of the plugin's own example config (cloud-provider-aws, docs/credential_provider.md).
MATCH_IMAGES = ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"]
# The ECR API's JSON 1.1 target of the call (botocore/data/ecr/2015-09-21/service-2.json, targetPrefix).
GET_AUTHORIZATION_TOKEN = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
MOTO_API_TIMEOUT = 10


def role_vars(env):
    """The role's variables of this test: the built plugin from the controller, the ECR provider
    with the SDK's variables that reach moto, and no collection plugin."""
    binary = json.loads(Path(env["REGCRED_LOCALENV_STATE"]).read_text())["binaries"][PLUGIN]
    return {
        "kubelet_credential_provider_regcred_match_images": [],
        "kubelet_credential_provider_binaries": [{"name": PLUGIN, "src": binary}],
        "kubelet_credential_provider_providers": [{
            "name": PLUGIN, "matchImages": MATCH_IMAGES, "defaultCacheDuration": "12h",
            "env": [{"name": "AWS_ENDPOINT_URL_ECR", "value": env["AWS_ENDPOINT_URL_ECR"]},
                    {"name": "AWS_CA_BUNDLE", "value": env["AWS_CA_BUNDLE"]},
                    {"name": "AWS_ACCESS_KEY_ID", "value": env["REGCRED_AWS_ACCESS_KEY_ID"]},
                    {"name": "AWS_SECRET_ACCESS_KEY", "value": env["REGCRED_AWS_SECRET_ACCESS_KEY"]}]}],
    }


def moto_api(env, action, method="POST"):
    """One call of moto's recorder API; the answer's body."""
    context = ssl.create_default_context(cafile=env["REGCRED_CLOUD_CA"])
    request = urllib.request.Request(f"{env['AWS_ENDPOINT_URL_ECR']}/moto-api/recorder/{action}", method=method)
    with urllib.request.urlopen(request, context=context, timeout=MOTO_API_TIMEOUT) as answer:
        return answer.read().decode()


@pytest.fixture(name="moto_record")
def moto_record_fixture(env):
    """moto's record of the requests it answers from now on; a function that returns them."""
    moto_api(env, "reset-recording")
    moto_api(env, "start-recording")
    yield lambda: [json.loads(line) for line in moto_api(env, "download-recording", "GET").splitlines() if line]
    moto_api(env, "stop-recording")


@pytest.fixture(name="ecr_plugin")
def ecr_plugin_fixture(env, node, monkeypatch):  # pylint: disable=unused-argument
    """The role applied with role_vars(), from a process without AWS_* variables; afterwards the
    role's state absent with the same variables (which also removes the binary)."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    options = ["-e", json.dumps(role_vars(env))]
    applied = run_role(env, PLAY, "present", plugin_env(env), options)
    yield applied
    run_role(env, PLAY, "absent", plugin_env(env), options)


def test_official_ecr_plugin_from_the_role_config_gets_the_token_from_the_emulator_and_pulls(
        env, admin, node, namespace, moto_record, ecr_plugin, timings):
    node_dir = Path(env["REGCRED_NODE_DIR"])
    assert recap(ecr_plugin)["changed"] > 0
    assert "RUNNING HANDLER [regcred.k8s.kubelet_credential_provider : Restart the kubelet" in ecr_plugin.stdout
    config = yaml.safe_load((node_dir / "credential-provider" / "config.yaml").read_text())
    assert [(p["name"], p["matchImages"]) for p in config["providers"]] == [(PLUGIN, MATCH_IMAGES)]
    installed = node_dir / "credential-provider" / "bin" / PLUGIN
    built = Path(role_vars(env)["kubelet_credential_provider_binaries"][0]["src"])
    assert hashlib.sha256(installed.read_bytes()).digest() == hashlib.sha256(built.read_bytes()).digest()
    pid = kubelet_process(env)[0]
    inherited = [v.split(b"=")[0] for v in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if v.startswith(b"AWS_")]
    assert not inherited, "the kubelet must not have AWS variables of its own"

    ref = f"{ecr_registry.HOST}/{env['REGCRED_TEST_IMAGE']}"
    since = start_pod(admin, node, namespace, ref, "ecr-plugin")
    result, status, seconds = outcome(admin, namespace, "ecr-plugin", since)
    calls = [r for r in moto_record() if r["headers"].get("X-Amz-Target") == GET_AUTHORIZATION_TOKEN]
    assert len(calls) == 1, [r["headers"].get("X-Amz-Target") for r in moto_record()]
    headers = calls[0]["headers"]
    assert "aws-sdk-go-v2/" in headers["User-Agent"] and " api/ecr#" in headers["User-Agent"], headers["User-Agent"]
    scope = f"Credential={env['REGCRED_AWS_ACCESS_KEY_ID']}/"
    assert scope in headers["Authorization"] and f"/{ecr_registry.REGION}/ecr/aws4_request" in headers["Authorization"]

    assert result == "pulled", (status, events(admin, namespace, "ecr-plugin"))
    assert status.state.terminated.exit_code == 0, status.state.terminated
    assert status.image_id.endswith("@" + env["REGCRED_TEST_IMAGE_DIGEST"]), status.image_id
    pod_without_secrets(admin, namespace, "ecr-plugin")
    timings["pull through the official ECR plugin"] = round(seconds, 2)
