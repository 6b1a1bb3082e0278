"""Errors name the options that fix them, and never options that would not help.

- an apiserver certificate that does not verify names ca_cert and validate_certs (the apiserver's
  options), never registry_ca_path or registry_validate_certs;
- a registry certificate that does not verify names registry_ca_path and registry_validate_certs,
  never the apiserver's ca_cert or validate_certs, which would weaken the apiserver's check;
- a tenant Azure AD does not know is blamed on tenant_id, not on authority_host.
"""

import re

import trustme

import testenv

PULL = "regcred.k8s.registry_pull_secret"
# validate_certs on its own: the apiserver's option, not the tail of registry_validate_certs.
APISERVER_VALIDATE = re.compile(r"(?<!registry_)validate_certs")


def run_task(env, args, workdir):
    workdir.mkdir()
    return testenv.run_task(env, PULL, args, workdir)


def basic(env, server):
    return {"provider": "basic", "server": server, "username": env["REGCRED_REGISTRY_USER"],
            "password": env["REGCRED_REGISTRY_PASSWORD"]}


def test_an_untrusted_apiserver_certificate_names_ca_cert(env, make_namespace, tmp_path):
    namespace = make_namespace("tls")
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    args = {"name": "tls-regcred", "namespace": namespace, "host": env["REGCRED_KUBE_HOST"],
            "api_key": env["REGCRED_ADMIN_TOKEN"], "ca_cert": str(other_ca),
            "registries": [basic(env, "tls.regcred.invalid")]}
    run = run_task(env, args, tmp_path / "other-ca")
    assert run.failed
    message = run.result["msg"]
    assert message.startswith("the TLS certificate of the Kubernetes API at %s" % env["REGCRED_KUBE_HOST"]), message
    assert "set ca_cert" in message and APISERVER_VALIDATE.search(message), message
    assert "registry_" not in message, message
    fixed = run_task(env, dict(args, ca_cert=env["REGCRED_KUBE_CA"]), tmp_path / "right-ca")
    assert fixed.result["namespaces"][namespace]["result"] == "created", fixed.result


def test_an_untrusted_registry_certificate_names_registry_ca_path(env, make_namespace, tmp_path):
    namespace = make_namespace("tls")
    args = {"name": "tls-regcred", "namespace": namespace, "verify": True,
            "registries": [basic(env, env["REGCRED_REGISTRY_BASIC"])]}
    run = run_task(env, args, tmp_path / "system-cas")
    assert run.failed
    message = run.result["msg"]
    assert "the TLS certificate of %s could not be verified" % env["REGCRED_REGISTRY_BASIC"] in message, message
    assert "set registry_ca_path" in message and "registry_validate_certs to false" in message, message
    assert "ca_cert" not in message and not APISERVER_VALIDATE.search(message), message
    assert " ca_path" not in message, message
    fixed = run_task(env, dict(args, registry_ca_path=env["REGCRED_REGISTRY_CA"]), tmp_path / "ca")
    assert fixed.result["namespaces"][namespace]["result"] == "created", fixed.result


def test_an_unknown_azure_tenant_is_blamed_on_tenant_id(env, make_namespace, tmp_path):
    namespace = make_namespace("aad")
    tenant = "00000000-1111-2222-3333-444444444444"
    args = {"name": "aad-regcred", "namespace": namespace, "registry_ca_path": env["REGCRED_AZURE_CA"],
            "registries": [{"provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"], "auth": "token_exchange",
                            "tenant_id": tenant, "client_id": env["REGCRED_AZURE_CLIENT_ID"],
                            "client_secret": env["REGCRED_AZURE_CLIENT_SECRET"],
                            "authority_host": env["REGCRED_AZURE_AUTHORITY"]}]}
    run = run_task(env, args, tmp_path / "unknown-tenant")
    assert run.failed
    message = run.result["msg"]
    assert "registries[0].tenant_id" in message and "AADSTS90002" in message and tenant in message, message
    assert "authority_host" not in message, message
    assert env["REGCRED_AZURE_CLIENT_SECRET"] not in run.stdout + run.stderr + message
    args["registries"][0]["tenant_id"] = env["REGCRED_AZURE_TENANT_ID"]
    fixed = run_task(env, args, tmp_path / "right-tenant")
    assert fixed.result["namespaces"][namespace]["result"] == "created", fixed.result
