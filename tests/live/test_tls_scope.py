"""registry_validate_certs and registry_ca_path are about registries: they never turn off, or
replace, the check of a cloud token endpoint. The emulated Google, Azure AD and AWS endpoints
(and ECR Public, tests/harness/emulators_ecr.py) are served under a CA that only REQUESTS_CA_BUNDLE and AWS_CA_BUNDLE name (see
docs/local-environment.md); pointing those at the public CA bundle makes the endpoints untrusted,
as a real endpoint behind an unknown TLS-inspecting proxy is."""

from pathlib import Path

import certifi
import pytest

import testenv
from test_registry_credentials import acr, ecr, ecr_public, gcr, moto

MODULE = "regcred.k8s.registry_credentials"
# The public CAs only: the emulated cloud endpoints' CA is not among them.
UNTRUSTING = {"REQUESTS_CA_BUNDLE": certifi.where(), "AWS_CA_BUNDLE": certifi.where()}
PROVIDERS = {"gcr": gcr, "acr": acr, "ecr": ecr, "ecr_public": ecr_public}
# What each SDK says of a certificate it cannot verify.
UNVERIFIED = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("ca_path", [False, True], ids=["validate-certs-off", "ca-path-with-the-cloud-ca"])
def test_registry_tls_options_do_not_reach_cloud_token_endpoints(env, tmp_path, provider, ca_path):
    if ca_path:
        # A bundle that would verify the cloud endpoints if it applied to them, and does verify
        # the registries (the ACR token exchange is a registry's).
        bundle = tmp_path / "ca.pem"
        bundle.write_bytes(Path(env["REGCRED_CLOUD_CA"]).read_bytes() + Path(env["REGCRED_REGISTRY_CA"]).read_bytes())
        tls = {"registry_ca_path": str(bundle)}
    else:
        tls = {"registry_validate_certs": False}
    args = dict(tls, return_secrets=False, registries=[PROVIDERS[provider](env)])
    untrusted = testenv.run_task(env, MODULE, args, testenv.workdir(tmp_path, "untrusted"), extra_env=dict(moto(env), **UNTRUSTING))
    assert untrusted.failed, untrusted.result
    message = untrusted.result["msg"]
    assert "registries[0]" in message and any(text in message for text in UNVERIFIED), message
    # The same task with the SDKs' own trust set succeeds: only the endpoint's trust was at fault.
    trusted = testenv.run_task(env, MODULE, args, testenv.workdir(tmp_path, "trusted"), extra_env=moto(env))
    assert not trusted.failed, trusted.result
