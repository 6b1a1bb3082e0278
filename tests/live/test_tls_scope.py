"""registry_validate_certs and registry_ca_path are about registries: they never turn off, or
replace, the check of a cloud token endpoint. The emulated Google, Azure AD and AWS endpoints
(and ECR Public, tests/harness/emulators_ecr.py) are served under a CA that only REQUESTS_CA_BUNDLE and AWS_CA_BUNDLE name (see
docs/local-environment.md); pointing those at the public CA bundle makes the endpoints untrusted,
as a real endpoint behind an unknown TLS-inspecting proxy is."""

from pathlib import Path

import certifi
import pytest

import testenv
from test_acr_auth_methods import federated_token
from test_gcp_credentials import sources as gcp_sources
from test_registry_credentials import acr, ecr, ecr_public, gcr, moto

MODULE = "regcred.k8s.registry_credentials"
# The public CAs only: the emulated cloud endpoints' CA is not among them.
UNTRUSTING = {"REQUESTS_CA_BUNDLE": certifi.where(), "AWS_CA_BUNDLE": certifi.where()}
PROVIDERS = {"gcr": gcr, "acr": acr, "ecr": ecr, "ecr_public": ecr_public}
# What each SDK says of a certificate it cannot verify.
UNVERIFIED = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")


def registry_tls_options(env, tmp_path, ca_path):
    if ca_path:
        # A bundle that would verify the cloud endpoints if it applied to them, and does verify
        # the registries (the ACR token exchange is a registry's).
        bundle = tmp_path / "ca.pem"
        bundle.write_bytes(Path(env["REGCRED_CLOUD_CA"]).read_bytes() + Path(env["REGCRED_REGISTRY_CA"]).read_bytes())
        return {"registry_ca_path": str(bundle)}
    return {"registry_validate_certs": False}


CA_PATH = {"validate-certs-off": False, "ca-path-with-the-cloud-ca": True}


def sources(env, namespace, tmp_path):
    """Each registry entry whose credentials come from a cloud token endpoint, and the environment
    the module needs for it."""
    found = {provider: (registry(env), moto(env)) for provider, registry in PROVIDERS.items()}
    google = gcp_sources(env, namespace, tmp_path)
    found.update({source: google[source][:2] for source in GOOGLE_SOURCES})
    # Azure AD through a workload identity's client assertion. (managed_identity asks IMDS, which is
    # plain http on 169.254.169.254; its token exchange is the registry's, as for acr.)
    token_file = federated_token(env, testenv.core_v1(env["KUBECONFIG"]), tmp_path / "token")
    found["workload_identity"] = ({"provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"], "auth": "workload_identity",
                                   "tenant_id": env["REGCRED_AZURE_TENANT_ID"],
                                   "client_id": env["REGCRED_AZURE_WORKLOAD_CLIENT_ID"],
                                   "authority_host": env["REGCRED_AZURE_AUTHORITY"], "federated_token_file": str(token_file)}, {})
    return found


@pytest.fixture(scope="module", name="tls_scope")
def tls_scope_fixture(env, module_namespace, tmp_path_factory):
    """Every source with each of CA_PATH, twice, in one play: with the SDKs' trust set to the public
    CAs only (in the task's environment), then with their own trust. Per case the two runs."""
    tmp_path = tmp_path_factory.mktemp("tls-scope")
    tasks = {}
    for source, (registry, extra_env) in sources(env, module_namespace, tmp_path).items():
        for ca, ca_path in CA_PATH.items():
            args = dict(registry_tls_options(env, tmp_path, ca_path), return_secrets=False, registries=[registry])
            tasks[f"{source} {ca} untrusted"] = (MODULE, args, {"environment": dict(extra_env, **UNTRUSTING)})
            tasks[f"{source} {ca} trusted"] = (MODULE, args, {"environment": extra_env})
    return testenv.run_tasks(env, tasks, tmp_path)


def check_tls_scope(tls_scope, case):
    untrusted, trusted = tls_scope[case + " untrusted"], tls_scope[case + " trusted"]
    assert untrusted.failed, untrusted.result
    message = untrusted.result["msg"]
    assert "registries[0]" in message and any(text in message for text in UNVERIFIED), message
    # The same task with the SDKs' own trust set succeeds: only the endpoint's trust was at fault.
    assert not trusted.failed, trusted.result


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("ca_path", CA_PATH)
def test_registry_tls_options_do_not_reach_cloud_token_endpoints(tls_scope, provider, ca_path):
    check_tls_scope(tls_scope, f"{provider} {ca_path}")


# The Google credential files other than a service-account key, each against the endpoints it
# reaches (STS, IAM Credentials, oauth2.googleapis.com through the proxy). The metadata server
# is plain http, as the real one: no TLS to check there.
GOOGLE_SOURCES = ("authorized_user", "external_account", "external_account_impersonating", "impersonated_service_account")


@pytest.mark.parametrize("source", GOOGLE_SOURCES)
@pytest.mark.parametrize("ca_path", CA_PATH)
def test_registry_tls_options_do_not_reach_google_credential_endpoints(tls_scope, source, ca_path):
    check_tls_scope(tls_scope, f"{source} {ca_path}")


@pytest.mark.parametrize("ca_path", CA_PATH)
def test_registry_tls_options_do_not_reach_azure_ad_for_workload_identity(tls_scope, ca_path):
    check_tls_scope(tls_scope, f"workload_identity {ca_path}")
