"""Every ACR auth method, end to end: registry_pull_secret writes the Secret, and skopeo, the real
client, reads the test image from an ACR-like registry with the decoded ``.dockerconfigjson``.

The registry is a docker-registry whose token realm is the emulated ACR token service, with the
test image pushed; Azure AD, IMDS and the token service are those of emulators_azure.py (see
docs/local-environment.md). The authfile key is the registry's loopback address, as written.
"""

import base64
import json

import pytest
from kubernetes.client.exceptions import ApiException

import testenv

MODULE = "regcred.k8s.registry_pull_secret"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def federated_token(env, admin, path, audience=EXCHANGE_AUDIENCE):
    """A ServiceAccount token from the real kube-apiserver, as the kubelet projects it into a pod
    with workload identity (audience api://AzureADTokenExchange), written to ``path``."""
    namespace, name = env["REGCRED_AZURE_WORKLOAD_SERVICE_ACCOUNT"].split("/")
    try:
        admin.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    answer = admin.create_namespaced_service_account_token(
        name, namespace, {"spec": {"audiences": [audience], "expirationSeconds": 3600}})
    path.write_text(answer.status.token)
    return path


def workload_env(env, token_file):
    """What AKS injects into a pod of a ServiceAccount labelled for workload identity."""
    return {"AZURE_TENANT_ID": env["REGCRED_AZURE_TENANT_ID"], "AZURE_CLIENT_ID": env["REGCRED_AZURE_WORKLOAD_CLIENT_ID"],
            "AZURE_FEDERATED_TOKEN_FILE": str(token_file), "AZURE_AUTHORITY_HOST": env["REGCRED_AZURE_AUTHORITY"]}


def imds_env(env):
    # azure-identity's documented override of the IMDS address (169.254.169.254, plain http).
    return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": env["REGCRED_AZURE_IMDS"]}


def secret_principal(env):
    return {"tenant_id": env["REGCRED_AZURE_TENANT_ID"], "client_id": env["REGCRED_AZURE_CLIENT_ID"],
            "client_secret": env["REGCRED_AZURE_CLIENT_SECRET"], "authority_host": env["REGCRED_AZURE_AUTHORITY"]}


def methods(env, token_file):
    """{case: (registries[] entry without server, extra environment)}."""
    principal = secret_principal(env)
    return {
        "service_principal": (dict(principal, auth="service_principal"), {}),
        "token_exchange": (dict(principal, auth="token_exchange"), {}),
        "managed_identity-system": ({"auth": "managed_identity"}, imds_env(env)),
        "managed_identity-client_id": ({"auth": "managed_identity", "client_id": env["REGCRED_AZURE_USER_MI_CLIENT_ID"]},
                                       imds_env(env)),
        "managed_identity-resource_id": ({"auth": "managed_identity",
                                          "resource_id": env["REGCRED_AZURE_USER_MI_RESOURCE_ID"]}, imds_env(env)),
        "workload_identity": ({"auth": "workload_identity"}, workload_env(env, token_file)),
    }


CASES = ("service_principal", "token_exchange", "managed_identity-system", "managed_identity-client_id",
         "managed_identity-resource_id", "workload_identity")


def secret_args(env, namespace, name, registry):
    return {"name": name, "namespace": namespace, "registry_ca_path": env["REGCRED_REGISTRY_CA"], "registries": [registry]}


def write_secret(env, namespace, name, registry, tmp_path, extra_env):
    return testenv.run_task(env, MODULE, secret_args(env, namespace, name, registry), testenv.workdir(tmp_path, name),
                            extra_env=extra_env)


def skopeo_reads(env, namespace, name, server, tmp_path):
    """skopeo inspect of the test image with the Secret's .dockerconfigjson as its authfile."""
    secret = testenv.core_v1(env["KUBECONFIG"]).read_namespaced_secret(name, namespace)
    authfile = tmp_path / (name + "-auth.json")
    authfile.write_bytes(base64.b64decode(secret.data[".dockerconfigjson"]))
    return testenv.skopeo_inspect(env, "%s/%s" % (server, env["REGCRED_TEST_IMAGE"]), authfile), \
        json.loads(authfile.read_text())["auths"][server]


def secret_name(case):
    return case.replace("_", "-")


@pytest.fixture(scope="module", name="by_method")
def by_method_fixture(env, module_namespace, tmp_path_factory):
    """A Secret by each of CASES, written by the tasks of one play, each task with its method's
    environment. Per case the run."""
    tmp_path = tmp_path_factory.mktemp("methods")
    found = methods(env, federated_token(env, testenv.core_v1(env["KUBECONFIG"]), tmp_path / "token"))
    server = env["REGCRED_AZURE_REGISTRY"]
    return testenv.run_tasks(env, {case: (MODULE, secret_args(env, module_namespace, secret_name(case),
                                                              dict(found[case][0], provider="acr", server=server)),
                                          {"environment": found[case][1]}) for case in CASES}, tmp_path)


@pytest.mark.parametrize("case", CASES)
def test_each_auth_method_writes_a_secret_skopeo_pulls_with(env, module_namespace, by_method, tmp_path, case):
    server, namespace, run = env["REGCRED_AZURE_REGISTRY"], module_namespace, by_method[case]
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    inspected, auth = skopeo_reads(env, namespace, secret_name(case), server, tmp_path)
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]
    if case == "service_principal":
        assert auth["username"] == env["REGCRED_AZURE_CLIENT_ID"]
    else:
        # An ACR refresh token, with its expiry recorded for refresh_before.
        assert auth["username"] == "00000000-0000-0000-0000-000000000000"
        assert run.result["expires_at"], run.result
    assert env["REGCRED_AZURE_CLIENT_SECRET"] not in run.stdout + run.stderr


def test_workload_identity_options_override_the_injected_variables(env, admin, make_namespace, tmp_path):
    token_file = federated_token(env, admin, tmp_path / "token")
    wrong = federated_token(env, admin, tmp_path / "wrong-audience", audience="https://kubernetes.default.svc")
    namespace = make_namespace("acrwi")
    server = env["REGCRED_AZURE_REGISTRY"]
    # The variables name a token of the wrong audience; Azure AD refuses it, and says why.
    refused = write_secret(env, namespace, "wi", {"provider": "acr", "server": server, "auth": "workload_identity"},
                           tmp_path, workload_env(env, wrong))
    assert refused.failed
    assert "registries[0].federated_token_file" in refused.result["msg"], refused.result
    assert "AADSTS700212" in refused.result["msg"], refused.result
    # The option names the right file and wins.
    run = write_secret(env, namespace, "wi", {"provider": "acr", "server": server, "auth": "workload_identity",
                                              "federated_token_file": str(token_file)},
                       tmp_path, workload_env(env, wrong))
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    inspected = skopeo_reads(env, namespace, "wi", server, tmp_path)[0]
    assert inspected.returncode == 0, inspected.stderr


def test_a_registry_without_arm_audience_tokens_takes_the_default_audience_only(env, make_namespace, tmp_path):
    """The strict registry refuses ARM-audience Azure AD tokens, as a registry with "ARM audience
    token authentication" disabled does; the default (ACR's audience) passes there."""
    namespace = make_namespace("acrarm")
    strict = env["REGCRED_AZURE_REGISTRY_STRICT"]
    entry = dict(secret_principal(env), provider="acr", server=strict, auth="token_exchange")
    run = write_secret(env, namespace, "acr-default", entry, tmp_path, {})
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    inspected = skopeo_reads(env, namespace, "acr-default", strict, tmp_path)[0]
    assert inspected.returncode == 0, inspected.stderr

    refused = write_secret(env, namespace, "acr-arm", dict(entry, audience="arm"), tmp_path, {})
    assert refused.failed
    message = refused.result["msg"]
    assert "registries[0].audience" in message and "ARM audience token authentication is disabled" in message, message
    assert "leave audience unset" in message
    assert env["REGCRED_AZURE_CLIENT_SECRET"] not in refused.stdout + refused.stderr
    with pytest.raises(ApiException):
        testenv.core_v1(env["KUBECONFIG"]).read_namespaced_secret("acr-arm", namespace)

    # A registry that still takes them: audience arm works there.
    other = dict(entry, server=env["REGCRED_AZURE_REGISTRY"], audience="arm")
    run = write_secret(env, namespace, "acr-arm-ok", other, tmp_path, {})
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    assert skopeo_reads(env, namespace, "acr-arm-ok", env["REGCRED_AZURE_REGISTRY"], tmp_path)[0].returncode == 0


def test_an_identity_without_acrpull_gets_a_refresh_token_that_pulls_nothing(env, make_namespace, tmp_path):
    """The user-assigned identity has no role on the strict registry: ACR exchanges its Azure AD
    token (the identity is valid), and the access tokens of that refresh token grant nothing, so
    skopeo is refused."""
    namespace = make_namespace("acrrole")
    strict = env["REGCRED_AZURE_REGISTRY_STRICT"]
    entry = {"provider": "acr", "server": strict, "auth": "managed_identity",
             "client_id": env["REGCRED_AZURE_USER_MI_CLIENT_ID"]}
    run = write_secret(env, namespace, "norole", entry, tmp_path, imds_env(env))
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    inspected = skopeo_reads(env, namespace, "norole", strict, tmp_path)[0]
    assert inspected.returncode != 0
    assert "unauthorized" in inspected.stderr.lower() or "denied" in inspected.stderr.lower(), inspected.stderr


def test_the_acr_role_takes_a_managed_identity(env, make_namespace, tmp_path):
    """acr_pull_secret with acr_pull_secret_auth=managed_identity: no secret to hand over, and the
    Secret it writes opens the registry for skopeo."""
    namespace = make_namespace("acr-role")
    server = env["REGCRED_AZURE_REGISTRY"]
    run = testenv.run_role(env, "regcred.k8s.acr_pull_secret", {
        "acr_pull_secret_namespaces": [namespace], "acr_pull_secret_servers": [server],
        "acr_pull_secret_auth": "managed_identity", "acr_pull_secret_client_id": "",
        "acr_pull_secret_client_secret": "", "acr_pull_secret_service_accounts": [],
        "acr_pull_secret_registry_ca_path": env["REGCRED_REGISTRY_CA"]}, tmp_path, extra_env=imds_env(env))
    assert run.result == {"failed": False}, run.result
    inspected, auth = skopeo_reads(env, namespace, "acr", server, tmp_path)
    assert inspected.returncode == 0, inspected.stderr
    assert auth["username"] == "00000000-0000-0000-0000-000000000000"
