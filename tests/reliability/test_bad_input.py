"""Bad input matrix: every case fails with a message that names the field, shows no Python
traceback, and makes no write request to the apiserver (read from its audit log)."""

import base64
import json

import pytest

import testenv

PULL = "regcred.k8s.registry_pull_secret"
SA = "regcred.k8s.sa_image_pull_secrets"


def entry(base, over):
    # Secrets are long: Ansible masks every occurrence of a no_log value in the result, and a
    # one-letter password would mask letters of the very message under test.
    return {k: v for k, v in dict(base, **over).items() if v is not None}


def basic(**over):
    return entry({"provider": "basic", "server": "registry.example.com", "username": "user",
                  "password": "password-0123456789"}, over)


def ecr(**over):
    return entry({"provider": "ecr", "region": "eu-west-1"}, over)


def gcr(**over):
    return entry({"provider": "gcr", "server": "gcr.io", "auth": "json_key"}, over)


def acr(**over):
    return entry({"provider": "acr", "server": "x.azurecr.io", "auth": "token_exchange", "tenant_id": "t.example.com",
                  "client_id": "client-id", "client_secret": "client-secret-0123456789"}, over)


def config(doc):
    return {"provider": "docker_config", "content": json.dumps(doc)}


# (module, args over the base, text the message must contain)
CASES = {
    "name-not-dns": (PULL, {"name": "Bad_Name"}, "name:"),
    "name-too-long": (PULL, {"name": "x" * 254}, "name:"),
    "namespace-upper": (PULL, {"namespaces": ["UPPER"]}, "namespaces[0]"),
    "namespace-leading-dash": (PULL, {"namespaces": ["ok", "-bad"]}, "namespaces[1]"),
    "exclude-bad": (PULL, {"exclude_namespaces": ["bad name"]}, "exclude_namespaces[0]"),
    "no-namespace-selection": (PULL, {"namespaces": None}, "one of namespace, namespaces"),
    "unknown-provider": (PULL, {"registries": [{"provider": "quay"}]}, "provider"),
    "basic-no-server": (PULL, {"registries": [basic(server=None)]}, "registries[0].server"),
    "basic-no-username": (PULL, {"registries": [basic(username=None)]}, "registries[0].username"),
    "basic-empty-password": (PULL, {"registries": [basic(password="")]}, "registries[0].password"),
    "basic-colon-user": (PULL, {"registries": [basic(username="a:b")]}, "registries[0].username"),
    "basic-space-server": (PULL, {"registries": [basic(server="a b")]}, "registries[0].server"),
    "dockerhub-with-server": (PULL, {"registries": [basic(provider="dockerhub", server="x.io")]}, "registries[0].server"),
    "second-entry-bad": (PULL, {"registries": [basic(), basic(server=None)]}, "registries[1].server"),
    "docker-config-nothing": (PULL, {"registries": [{"provider": "docker_config"}]}, "registries[0].path"),
    "docker-config-both": (PULL, {"registries": [{"provider": "docker_config", "path": "/x", "content": "{}"}]},
                           "registries[0].path"),
    "docker-config-not-json": (PULL, {"registries": [{"provider": "docker_config", "content": "{auths"}]},
                               "registries[0].content"),
    "docker-config-bad-base64": (PULL, {"registries": [config({"auths": {"x.io": {"auth": "%%%"}}})]},
                                 "registries[0].content.auths[x.io].auth"),
    "docker-config-creds-store": (PULL, {"registries": [config({"auths": {"x.io": {}}, "credsStore": "desktop"})]},
                                  "credential helper"),
    "docker-config-missing-file": (PULL, {"registries": [{"provider": "docker_config", "path": "/nonexistent/c.json"}]},
                                   "registries[0].path"),
    "docker-config-huge": (PULL, {"registries": [{"provider": "docker_config", "content": "x" * (5 * 1024 * 1024)}]},
                           "registries[0].content"),
    "docker-config-wanted-missing": (PULL, {"registries": [dict(config({"auths": {"x.io": {"auth": base64.b64encode(
        b"u:p").decode()}}}), servers=["y.io"])]}, "servers: y.io"),
    "ecr-no-region": (PULL, {"registries": [ecr(region=None)]}, "registries[0].region"),
    "ecr-bad-account": (PULL, {"registries": [ecr(registry_ids=["12"])]}, "registries[0].registry_ids"),
    "ecr-key-without-secret": (PULL, {"registries": [ecr(access_key="AKIAX")]}, "registries[0]."),
    "ecr-bad-endpoint": (PULL, {"registries": [ecr(endpoint_url="ftp://x")]}, "registries[0].endpoint_url"),
    "gcr-no-server": (PULL, {"registries": [gcr(server=None, service_account_key="{}")]}, "registries[0].server"),
    "gcr-no-auth": (PULL, {"registries": [gcr(auth=None, service_account_key="{}")]}, "registries[0].auth"),
    "gcr-no-key": (PULL, {"registries": [gcr()]}, "registries[0].service_account_key"),
    "gcr-truncated-key": (PULL, {"registries": [gcr(service_account_key='{"type": "service_account", "priv')]},
                          "registries[0].service_account_key"),
    "gcr-wrong-type-key": (PULL, {"registries": [gcr(service_account_key={"type": "authorized_user"})]},
                           "registries[0].service_account_key"),
    "gcr-key-file-missing": (PULL, {"registries": [gcr(service_account_key_file="/nonexistent.json")]},
                             "registries[0].service_account_key_file"),
    "acr-no-secret": (PULL, {"registries": [acr(client_secret=None)]}, "registries[0].client_secret"),
    "acr-no-tenant": (PULL, {"registries": [acr(tenant_id=None)]}, "registries[0].tenant_id"),
    "acr-http-authority": (PULL, {"registries": [acr(authority_host="http://login.example.com")]},
                           "registries[0].authority_host"),
    "refresh-negative": (PULL, {"refresh_before": "-5m"}, "refresh_before"),
    "refresh-garbage": (PULL, {"refresh_before": "soon"}, "refresh_before"),
    "refresh-huge": (PULL, {"refresh_before": "99999d"}, "refresh_before"),
    "label-key": (PULL, {"labels": {"bad key": "x"}}, "labels"),
    "label-value-not-string": (PULL, {"labels": {"a": 1}}, "labels"),
    "annotation-reserved": (PULL, {"annotations": {"regcred.k8s/credentials": "x"}}, "annotations"),
    "parallel-zero": (PULL, {"parallel": 0}, "parallel"),
    "no-registries": (PULL, {"registries": None}, "registries"),
    "from-secret-bad-name": (PULL, {"registries": None, "from_secret": {"namespace": "kube-public", "name": "Bad"}},
                             "from_secret.name"),
    "from-secret-missing": (PULL, {"registries": None, "from_secret": {"namespace": "kube-public", "name": "nope-missing"}},
                            "from_secret"),
    "duplicate-server": (PULL, {"registries": [basic(), basic()]}, "registries[1]"),
    "selector-matches-nothing": (PULL, {"namespaces": None, "namespace_selector": "regcred-none=nothing"},
                                 "namespace_selector"),
    "selector-syntax": (PULL, {"namespaces": None, "namespace_selector": "a in (b"}, "namespace_selector"),
    "apiserver-unreachable": (PULL, {"host": "https://127.0.0.1:1", "api_key": "x"}, "host"),
    "apiserver-untrusted-tls": (PULL, {"host": "KUBE_HOST", "api_key": "x", "ca_cert": "REGISTRY_CA_WRONG"}, "host"),
    "sa-no-secrets": (SA, {"secrets": []}, "secrets"),
    "sa-bad-secret-name": (SA, {"secrets": ["Bad_Name"]}, "secrets[0]"),
    "sa-bad-account": (SA, {"service_accounts": ["bad name"]}, "service_accounts[0]"),
    "sa-wait-negative": (SA, {"wait_timeout": -1}, "wait_timeout"),
    "sa-bad-state": (SA, {"state": "sometimes"}, "state"),
    "sa-exclusive": (SA, {"all_service_accounts": True}, "mutually exclusive"),
}


def arguments(env, module, over, tmp_path, namespace):
    base = {"namespaces": [namespace]}
    if module == PULL:
        base.update({"name": "regcred", "registries": [basic()]})
    else:
        base.update({"secrets": ["regcred"], "service_accounts": ["default"]})
    args = dict(base, **over)
    if args.get("host") == "KUBE_HOST":
        # A CA that did not sign the apiserver's certificate.
        wrong_ca = tmp_path / "other-ca.pem"
        import trustme  # pylint: disable=import-outside-toplevel
        trustme.CA().cert_pem.write_to_path(str(wrong_ca))
        args.update(host=env["REGCRED_KUBE_HOST"], ca_cert=str(wrong_ca))
    return {k: v for k, v in args.items() if v is not None}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_names_the_field_and_writes_nothing(env, make_namespace, tmp_path, case):
    module, over, field = CASES[case]
    namespace = make_namespace("bad")
    audit = testenv.AuditLog(env)
    run = testenv.run_task(env, module, arguments(env, module, over, tmp_path, namespace), tmp_path)
    assert run.failed, run.result
    assert field in run.result["msg"], run.result["msg"]
    assert "Traceback" not in run.stdout + run.stderr + run.result["msg"]
    assert audit.writes(namespace=namespace) == 0
