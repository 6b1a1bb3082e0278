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


def check_tls_scope(env, tmp_path, ca_path, registry, extra_env):
    args = dict(registry_tls_options(env, tmp_path, ca_path), return_secrets=False, registries=[registry])
    untrusted = testenv.run_task(env, MODULE, args, testenv.workdir(tmp_path, "untrusted"),
                                 extra_env=dict(extra_env, **UNTRUSTING))
    assert untrusted.failed, untrusted.result
    message = untrusted.result["msg"]
    assert "registries[0]" in message and any(text in message for text in UNVERIFIED), message
    # The same task with the SDKs' own trust set succeeds: only the endpoint's trust was at fault.
    trusted = testenv.run_task(env, MODULE, args, testenv.workdir(tmp_path, "trusted"), extra_env=extra_env)
    assert not trusted.failed, trusted.result


CA_PATH = pytest.mark.parametrize("ca_path", [False, True], ids=["validate-certs-off", "ca-path-with-the-cloud-ca"])


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@CA_PATH
def test_registry_tls_options_do_not_reach_cloud_token_endpoints(env, tmp_path, provider, ca_path):
    check_tls_scope(env, tmp_path, ca_path, PROVIDERS[provider](env), moto(env))


# The Google credential files other than a service-account key, each against the endpoints it
# reaches (STS, IAM Credentials, oauth2.googleapis.com through the proxy). The metadata server
# is plain http, as the real one: no TLS to check there.
@pytest.mark.parametrize("source", ["authorized_user", "external_account", "external_account_impersonating",
                                    "impersonated_service_account"])
@CA_PATH
def test_registry_tls_options_do_not_reach_google_credential_endpoints(env, make_namespace, tmp_path, source, ca_path):
    registry, extra_env = gcp_sources(env, make_namespace("tls"), tmp_path)[source][:2]
    check_tls_scope(env, tmp_path, ca_path, registry, extra_env)


# Azure AD through a workload identity's client assertion. (managed_identity asks IMDS, which is
# plain http on 169.254.169.254; its token exchange is the registry's, as for acr.)
@CA_PATH
def test_registry_tls_options_do_not_reach_azure_ad_for_workload_identity(env, admin, tmp_path, ca_path):
    registry = {"provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"], "auth": "workload_identity",
                "tenant_id": env["REGCRED_AZURE_TENANT_ID"], "client_id": env["REGCRED_AZURE_WORKLOAD_CLIENT_ID"],
                "authority_host": env["REGCRED_AZURE_AUTHORITY"],
                "federated_token_file": str(federated_token(env, admin, tmp_path / "token"))}
    check_tls_scope(env, tmp_path, ca_path, registry, {})
