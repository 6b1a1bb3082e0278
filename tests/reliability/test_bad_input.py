"""Bad input matrix, for every module and every role: each case fails with a message that names
the field or role variable, shows no Python traceback and no secret value given in the case, makes
no write request to the apiserver (read from its audit log) and, for registry_credentials, leaves
the auth file already at ``dest`` byte for byte as it was."""

import base64
import json
import uuid
from pathlib import Path

import pytest
import yaml

import testenv
from ansible_collections.regcred.k8s.plugins.plugin_utils.redacting_action import secret_values

PULL = "regcred.k8s.registry_pull_secret"
SA = "regcred.k8s.sa_image_pull_secrets"
INFO = "regcred.k8s.pull_secret_info"
CREDS = "regcred.k8s.registry_credentials"
ROLES = Path(__file__).resolve().parents[2] / "roles"
# The auth file a user already has at dest: a login that no failed run may lose.
KEPT_LOGIN = "kept:kept-password-0123456789"
KEPT = json.dumps({"auths": {"kept.example.com": {"auth": base64.b64encode(KEPT_LOGIN.encode()).decode()}},
                   "credHelpers": {"gcr.io": "gcloud"}}, indent=1).encode()


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


# (module, args over the base, text the message must contain[, auth file found at dest before the run])
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
    "ecr-too-many-accounts": (PULL, {"registries": [ecr(registry_ids=["%012d" % n for n in range(11)])]},
                              "registries[0].registry_ids"),
    "ecr-unknown-host-form": (PULL, {"registries": [ecr(host_forms=["ipv6"])]}, "host_forms"),
    "ecr-public-region": (PULL, {"registries": [ecr(provider="ecr_public")]}, "registries[0].region"),
    "ecr-public-server": (PULL, {"registries": [ecr(provider="ecr_public", region=None, server="public.ecr.aws")]},
                          "registries[0].server"),
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
    # what only the apiserver used to refuse, after the first write
    "name-trailing-newline": (PULL, {"name": "regcred\n"}, "name:"),
    "namespace-trailing-newline": (PULL, {"namespaces": ["ok\n"]}, "namespaces[0]"),
    "label-key-trailing-newline": (PULL, {"labels": {"team\n": "a"}}, "labels"),
    "label-value-space": (PULL, {"labels": {"team": "a b"}}, "labels[team]"),
    "label-value-too-long": (PULL, {"labels": {"team": "x" * 64}}, "labels[team]"),
    "label-value-trailing-newline": (PULL, {"labels": {"team": "a\n"}}, "labels[team]"),
    "label-value-dash-end": (PULL, {"labels": {"team": "a-"}}, "labels[team]"),
    "annotations-too-large": (PULL, {"annotations": {"example.com/big": "x" * (256 * 1024)}}, "annotations"),
    "secret-too-large": (PULL, {"registries": [basic(password="p" * (800 * 1024))]}, "registries"),
    "docker-config-empty-auths": (PULL, {"registries": [config({"auths": {}})]}, "registries[0].content"),
    "docker-config-empty-object": (PULL, {"registries": [config({})]}, "registries[0].content"),
    "parallel-zero": (PULL, {"parallel": 0}, "parallel"),
    "no-registries": (PULL, {"registries": None}, "registries"),
    "from-secret-bad-name": (PULL, {"registries": None, "from_secret": {"namespace": "kube-public", "name": "Bad"}},
                             "from_secret.name"),
    "from-secret-bad-namespace": (PULL, {"registries": None, "from_secret": {"namespace": "kube-public\n", "name": "x"}},
                                  "from_secret.namespace"),
    "from-secret-missing": (PULL, {"registries": None, "from_secret": {"namespace": "kube-public", "name": "nope-missing"}},
                            "from_secret"),
    "duplicate-server": (PULL, {"registries": [basic(), basic()]}, "registries[1]"),
    "selector-matches-nothing": (PULL, {"namespaces": None, "namespace_selector": "regcred-none=nothing"},
                                 "namespace_selector"),
    "selector-syntax": (PULL, {"namespaces": None, "namespace_selector": "a in (b"}, "namespace_selector"),
    "apiserver-unreachable": (PULL, {"host": "https://127.0.0.1:1", "api_key": "x"}, "host"),
    "apiserver-untrusted-tls": (PULL, {"host": "KUBE_HOST", "api_key": "x", "ca_cert": "WRONG_CA"}, "host"),
    "sa-no-secrets": (SA, {"secrets": []}, "secrets"),
    "sa-bad-secret-name": (SA, {"secrets": ["Bad_Name"]}, "secrets[0]"),
    "sa-bad-account": (SA, {"service_accounts": ["bad name"]}, "service_accounts[0]"),
    "sa-wait-negative": (SA, {"wait_timeout": -1}, "wait_timeout"),
    "sa-bad-state": (SA, {"state": "sometimes"}, "state"),
    "sa-exclusive": (SA, {"all_service_accounts": True}, "mutually exclusive"),
    "sa-bad-annotation-key": (SA, {"annotations": {"bad key": "x"}}, "annotations"),
    "sa-annotation-not-a-string": (SA, {"annotations": {"regcred.k8s/credential": 5}},
                                   "annotations[regcred.k8s/credential]"),
    "sa-exact-without-secrets": (SA, {"secrets": [], "state": "exact", "annotations": {"a": "b"}}, "secrets"),
    "info-no-namespace": (INFO, {"namespace": None}, "namespace"),
    "info-namespace-upper": (INFO, {"namespace": "UPPER"}, "namespace"),
    "info-neither-pod-nor-image": (INFO, {"image": None}, "pod, image"),
    "info-pod-and-image": (INFO, {"pod": "web"}, "pod|image"),
    "info-pod-and-service-account": (INFO, {"image": None, "pod": "web", "service_account": "builder"},
                                     "pod|service_account"),
    "info-pod-bad-name": (INFO, {"image": None, "pod": "Bad_Pod"}, "pod:"),
    "info-pod-missing": (INFO, {"image": None, "pod": "nope-missing"}, "pod:"),
    "info-image-empty": (INFO, {"image": []}, "image"),
    "info-image-invalid": (INFO, {"image": "UPPER/App:1"}, "image:"),
    "info-image-second-invalid": (INFO, {"image": ["nginx", "a b"]}, "image[1]"),
    "info-image-not-string": (INFO, {"image": [{"name": "nginx"}]}, "image"),
    "info-service-account-bad": (INFO, {"service_account": "Bad_SA"}, "service_account"),
    "info-check-pull-not-bool": (INFO, {"check_pull": "perhaps"}, "check_pull"),
    "info-registry-validate-certs-not-bool": (INFO, {"registry_validate_certs": "perhaps"}, "registry_validate_certs"),
    "info-registry-ca-missing": (INFO, {"check_pull": True, "registry_ca_path": "/nonexistent/ca.pem"}, "registry_ca_path"),
    "info-kubeconfig-missing": (INFO, {"kubeconfig": "/nonexistent/kubeconfig"}, "kubeconfig"),
    "info-context-unknown": (INFO, {"context": "no-such-context"}, "context"),
    "info-apiserver-unreachable": (INFO, {"host": "https://127.0.0.1:1", "api_key": "api-key-0123456789"}, "host"),
    "info-api-key-refused": (INFO, {"host": "KUBE_HOST", "ca_cert": "KUBE_CA", "api_key": "wrong-api-key-0123456789"},
                             "api_key"),
    "info-ca-cert-missing": (INFO, {"host": "KUBE_HOST", "api_key": "api-key-0123456789", "ca_cert": "/nonexistent/ca.pem"},
                             "ca_cert"),
    "info-client-cert-without-key": (INFO, {"host": "KUBE_HOST", "ca_cert": "KUBE_CA", "client_cert": "KUBE_CA"},
                                     "client_cert and client_key"),
    "info-proxy-not-url": (INFO, {"proxy": "not a url"}, "proxy"),
    "info-impersonate-groups-alone": (INFO, {"impersonate_groups": ["auditors"]}, "impersonate_user"),
    "info-validate-certs-not-bool": (INFO, {"validate_certs": "perhaps"}, "validate_certs"),
    "info-password-alone": (INFO, {"host": "KUBE_HOST", "password": "kube-password-0123456789"}, "username"),
    "info-username-alone": (INFO, {"username": "alice"}, "password"),
    "info-proxy-headers-unknown": (INFO, {"proxy_headers": {"proxy_auth": "u:p"}}, "proxy_auth"),
    "creds-no-registries": (CREDS, {"registries": None}, "registries"),
    "creds-empty-registries": (CREDS, {"registries": []}, "registries"),
    "creds-registry-not-dict": (CREDS, {"registries": ["registry.example.com"]}, "registries"),
    "creds-unknown-provider": (CREDS, {"registries": [{"provider": "quay"}]}, "provider"),
    "creds-unknown-option": (CREDS, {"registries": [basic(token="token-0123456789")]}, "token"),
    "creds-basic-no-password": (CREDS, {"registries": [basic(password=None)]}, "registries[0].password"),
    "creds-second-entry-bad": (CREDS, {"registries": [basic(), basic(server="other.example.com", username="a:b")]},
                               "registries[1].username"),
    "creds-duplicate-server": (CREDS, {"registries": [basic(), basic(server="https://registry.example.com")]},
                               "registries[1]"),
    "creds-docker-config-missing-file": (CREDS, {"registries": [{"provider": "docker_config", "path": "/nonexistent/c.json"}]},
                                         "registries[0].path"),
    "creds-docker-config-not-json": (CREDS, {"registries": [{"provider": "docker_config", "content": "{auths"}]},
                                     "registries[0].content"),
    "creds-ecr-no-region": (CREDS, {"registries": [ecr(region=None)]}, "registries[0].region"),
    "creds-ecr-bad-account": (CREDS, {"registries": [ecr(registry_ids=["12"])]}, "registries[0].registry_ids"),
    "creds-gcr-truncated-key": (CREDS, {"registries": [gcr(service_account_key='{"type": "service_account", "priv')]},
                                "registries[0].service_account_key"),
    "creds-acr-no-tenant": (CREDS, {"registries": [acr(tenant_id=None)]}, "registries[0].tenant_id"),
    "creds-refresh-garbage": (CREDS, {"refresh_before": "soon"}, "refresh_before"),
    "creds-refresh-negative": (CREDS, {"refresh_before": "-1h"}, "refresh_before"),
    "creds-refresh-list": (CREDS, {"refresh_before": ["1h"]}, "refresh_before"),
    "creds-return-secrets-without-no-log": (CREDS, {"return_secrets": None}, "return_secrets"),
    "creds-return-secrets-not-bool": (CREDS, {"return_secrets": "perhaps"}, "return_secrets"),
    "creds-verify-not-bool": (CREDS, {"verify": "perhaps"}, "verify"),
    "creds-dest-directory": (CREDS, {"dest": "DEST_DIR"}, "dest:"),
    "creds-dest-under-a-file": (CREDS, {"dest": "UNDER_DEST"}, "dest:"),
    "creds-dest-truncated": (CREDS, {}, "dest:", KEPT[:-3]),
    "creds-dest-not-object": (CREDS, {}, "dest:", b"[]"),
    "creds-dest-auths-not-object": (CREDS, {}, "dest:", b'{"auths": []}'),
    "creds-dest-too-large": (CREDS, {}, "dest:", b" " * (4 * 1024 * 1024 + 1)),
    "second-namespace-trailing-newline": (PULL, {"namespaces": ["ok", "team-a\n"]}, "namespaces[1]"),
    "sa-secret-trailing-newline": (SA, {"secrets": ["regcred\n"]}, "secrets[0]"),
    "gcr-server-user-info": (PULL, {"registries": [gcr(server="user@gcr.io")]}, "registries[0].server"),
    "gcr-server-no-host": (PULL, {"registries": [gcr(server="https://")]}, "registries[0].server"),
    "gcr-server-port-zero": (PULL, {"registries": [gcr(server="gcr.io:0")]}, "registries[0].server"),
    "acr-server-bad-port": (PULL, {"registries": [acr(server="x.azurecr.io:99999")]}, "registries[0].server"),
    "acr-server-scheme": (PULL, {"registries": [acr(server="https://x.azurecr.io")]}, "registries[0].server"),
    "docker-config-servers-empty-port": (PULL, {"registries": [dict(config({"auths": {"x.io": {"auth": base64.b64encode(
        b"u:p").decode()}}}), servers=["x.io", "x.io:"])]}, "registries[0].servers[1]"),
    "ecr-with-server": (PULL, {"registries": [ecr(server="123456789012.dkr.ecr.eu-west-1.amazonaws.com")]},
                        "registries[0].server"),
    "creds-server-slash": (CREDS, {"registries": [basic(server="/")]}, "registries[0].server"),
    "creds-gcr-server-query": (CREDS, {"registries": [gcr(server="gcr.io?x=1")]}, "registries[0].server"),
    "creds-verify-refused": (CREDS, {"verify": True, "registry_ca_path": "REGISTRY_CA", "registries": [basic(
        server="REGISTRY_BASIC", username="REGISTRY_USER", password="wrong-password-0123456789")]}, "verify:"),
    "creds-registry-ca-missing": (CREDS, {"verify": True, "registry_ca_path": "/nonexistent/ca.pem", "registries": [basic(
        server="REGISTRY_BASIC", username="REGISTRY_USER", password="wrong-password-0123456789")]}, "registry_ca_path"),
}

# ``server`` values that make a key no kubelet can use; each was written as a key before. Every
# one is tried with provider basic here, and the providers' own cases above try some with the others.
BAD_SERVERS = {
    "https-only": "https://", "http-only": "http://", "user-info": "user@registry.example.com",
    "user-password": "https://robot:robot-password-0123456789@registry.example.com", "port-only": ":5000",
    "empty-port": "registry.example.com:", "slash": "/", "path-without-host": "/v2/app", "ftp": "ftp://x.example.com",
    "upper-case-scheme": "HTTPS://registry.example.com", "port-zero": "registry.example.com:0", "big-port-only": ":99999",
    "big-port": "registry.example.com:99999", "leading-zero-port": "registry.example.com:05000",
    "query": "registry.example.com?x=1", "fragment": "#frag", "ipv6-without-brackets": "::1:5000",
    "ipv6-without-port": "[::1]", "single-label": "registry", "upper-case-path": "registry.example.com/Org",
    "hub-index-with-path": "index.docker.io/team", "underscore": "reg_istry.example.com",
    "trailing-newline": "registry.example.com\n",
}
for _name, _server in BAD_SERVERS.items():
    CASES["basic-server-" + _name] = (PULL, {"registries": [basic(server=_server)]}, "registries[0].server")


def wrong_ca(tmp_path):
    """A CA that did not sign the apiserver's certificate."""
    import trustme  # pylint: disable=import-outside-toplevel
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def places(env, tmp_path, namespace):
    """What the placeholders in the cases stand for in this run."""
    dest = tmp_path / "home" / "config.json"
    return {
        "NAMESPACE": lambda: namespace,
        "KUBE_HOST": lambda: env["REGCRED_KUBE_HOST"],
        "KUBE_CA": lambda: env["REGCRED_KUBE_CA"],
        "WRONG_CA": lambda: wrong_ca(tmp_path),
        "REGISTRY_BASIC": lambda: env["REGCRED_REGISTRY_BASIC"],
        "REGISTRY_USER": lambda: env["REGCRED_REGISTRY_USER"],
        "REGISTRY_CA": lambda: env["REGCRED_REGISTRY_CA"],
        "DEST": lambda: str(dest),
        "DEST_DIR": lambda: str(dest.parent),
        "UNDER_DEST": lambda: str(dest / "config.json"),
    }


def resolve(value, found):
    """``value`` with every placeholder string replaced, at any depth; keys whose value is None
    are left out, so that a case can remove an option of the base."""
    if isinstance(value, dict):
        return {k: resolve(v, found) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [resolve(v, found) for v in value]
    if isinstance(value, str) and value in found:
        return found[value]()
    return value


def arguments(module, over):
    base = {
        PULL: {"namespaces": ["NAMESPACE"], "name": "regcred", "registries": [basic()]},
        SA: {"namespaces": ["NAMESPACE"], "secrets": ["regcred"], "service_accounts": ["default"]},
        INFO: {"namespace": "NAMESPACE", "image": ["registry.example.com/app:1"]},
        # Without the bad value, this run would write dest, so a case the module wrongly accepts shows.
        CREDS: {"registries": [basic()], "return_secrets": False, "dest": "DEST"},
    }[module]
    return dict(base, **over)


def snapshot(directory):
    """Every file under ``directory`` and its bytes: a lock file left behind shows too."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def assert_refused(run, text, secrets, audit, namespace=None):
    """The checks every case makes: refused, the field named, no traceback, no secret, no write."""
    assert run.failed, run.result
    # A task with a loop says "One or more items failed"; each item says why.
    messages = [run.result["msg"]] + [r.get("msg", "") for r in run.result.get("results", [])]
    assert any(text in m for m in messages), messages
    shown = run.stdout + run.stderr + json.dumps(run.result)
    assert "Traceback" not in shown
    needles = set()
    for value in secrets:
        needles |= testenv.secret_forms(value)
    assert not [n[:6] + "..." for n in needles if n in shown]
    assert audit.writes(namespace=namespace) == 0
    assert audit.writes(user_agent="kubectl", namespace=namespace) == 0


class ModuleBatch:
    """The cases of CASES, one play per module: each case runs as its own task, in its own
    namespace and with its own auth file at ``dest``, so that every check stays that case's alone.
    A module's play runs when the first of its cases is asked for."""

    def __init__(self, env, admin, tmp_path_factory):
        self.env, self.admin, self.tmp_path_factory = env, admin, tmp_path_factory
        self.cases, self.audits, self.namespaces = {}, {}, []

    def case(self, name):
        self.audit(CASES[name][0])
        return self.cases[name]

    def audit(self, module):
        """The audit log read from just before the module's play."""
        if module not in self.audits:
            self._run(module)
        return self.audits[module]

    def _run(self, module):
        prepared, tasks = {}, {}
        for name in sorted(n for n, case in CASES.items() if case[0] == module):
            namespace = "bad-" + uuid.uuid4().hex[:8]
            self.admin.create_namespace({"metadata": {"name": namespace}})
            self.namespaces.append(namespace)
            tmp_path = self.tmp_path_factory.mktemp(name)
            home = tmp_path / "home"
            home.mkdir()
            (home / "config.json").write_bytes(CASES[name][3] if len(CASES[name]) > 3 else KEPT)
            args = resolve(arguments(module, CASES[name][1]), places(self.env, tmp_path, namespace))
            prepared[name] = {"namespace": namespace, "home": home, "before": snapshot(home),
                              "secrets": secret_values(args) | {KEPT_LOGIN}}
            tasks[name] = (module, args)
        audit = self.audits[module] = testenv.AuditLog(self.env)
        runs = testenv.run_tasks(self.env, tasks, self.tmp_path_factory.mktemp(module.rsplit(".", 1)[1]))
        for name, run in runs.items():
            self.cases[name] = dict(prepared[name], run=run, audit=audit)

    def remove(self):
        for namespace in self.namespaces:
            self.admin.delete_namespace(namespace)


@pytest.fixture(scope="module", name="batch")
def batch_fixture(env, tmp_path_factory):
    batch = ModuleBatch(env, testenv.core_v1(env["KUBECONFIG"]), tmp_path_factory)
    yield batch
    batch.remove()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_names_the_field_and_writes_nothing(batch, case):
    ran = batch.case(case)
    assert_refused(ran["run"], CASES[case][2], ran["secrets"], ran["audit"], ran["namespace"])
    assert snapshot(ran["home"]) == ran["before"]


@pytest.mark.parametrize("module", sorted(set(case[0] for case in CASES.values())))
def test_bad_input_writes_nothing_anywhere(batch, module):
    """The play of a module's bad cases made no write at all, in no namespace and cluster-wide."""
    audit = batch.audit(module)
    assert audit.writes() == 0, audit.verbs()
    assert audit.writes(user_agent="kubectl") == 0, audit.verbs(user_agent="kubectl")


def role_base(env, role):
    """Variables with which each role runs through (test_role_base_is_accepted), so that a bad
    value a role wrongly accepts would write to the cluster."""
    return {
        "ecr_pull_secret": {"ecr_pull_secret_namespaces": ["NAMESPACE"], "ecr_pull_secret_region": env["REGCRED_AWS_REGION"],
                            "ecr_pull_secret_access_key": "AKIAROLECASE", "ecr_pull_secret_secret_key": "aws-secret-0123456789",
                            "ecr_pull_secret_endpoint_url": env["AWS_ENDPOINT_URL_ECR"], "ecr_pull_secret_verify": False},
        "gcr_pull_secret": {"gcr_pull_secret_namespaces": ["NAMESPACE"], "gcr_pull_secret_auth": "json_key",
                            "gcr_pull_secret_service_account_key_file": env["REGCRED_GCP_KEY_FILE"],
                            "gcr_pull_secret_verify": False},
        "acr_pull_secret": {"acr_pull_secret_namespaces": ["NAMESPACE"], "acr_pull_secret_servers": [env["REGCRED_AZURE_REGISTRY"]],
                            "acr_pull_secret_tenant_id": env["REGCRED_AZURE_TENANT_ID"],
                            "acr_pull_secret_client_id": env["REGCRED_AZURE_CLIENT_ID"],
                            "acr_pull_secret_client_secret": env["REGCRED_AZURE_CLIENT_SECRET"],
                            "acr_pull_secret_authority_host": env["REGCRED_AZURE_AUTHORITY"],
                            "acr_pull_secret_registry_ca_path": env["REGCRED_AZURE_CA"], "acr_pull_secret_verify": False},
        "dockerhub_pull_secret": {"dockerhub_pull_secret_namespaces": ["NAMESPACE"], "dockerhub_pull_secret_username": "ci-bot",
                                  "dockerhub_pull_secret_password": "hub-password-0123456789",
                                  "dockerhub_pull_secret_verify": False},
        "pull_secrets": {"pull_secrets_secrets": [{"name": "regcred", "namespaces": ["NAMESPACE"], "registries": [basic()]}],
                         "pull_secrets_verify": False},
        "refresh_cronjob": {"refresh_cronjob_namespace": "NAMESPACE", "refresh_cronjob_target_namespaces": ["NAMESPACE"],
                            "refresh_cronjob_image": "registry.example.com/regcred-ee:1.0",
                            "refresh_cronjob_kubeconfig": env["KUBECONFIG"],
                            "refresh_cronjob_manifest_path": "MANIFESTS"},
    }[role]


def entry_of(**over):
    return entry({"name": "regcred", "namespaces": ["NAMESPACE"], "registries": [basic()]}, over)


# (role, its variables over the base, text the message must contain: the variable's name)
ROLE_CASES = {
    "ecr-state-choice": ("ecr_pull_secret", {"ecr_pull_secret_state": "gone"}, "ecr_pull_secret_state"),
    "ecr-namespaces-dict": ("ecr_pull_secret", {"ecr_pull_secret_namespaces": {"team": "a"}}, "ecr_pull_secret_namespaces"),
    "ecr-all-namespaces-not-bool": ("ecr_pull_secret", {"ecr_pull_secret_all_namespaces": "perhaps"},
                                    "ecr_pull_secret_all_namespaces"),
    "ecr-registry-ids-dict": ("ecr_pull_secret", {"ecr_pull_secret_registry_ids": {"id": "123456789012"}},
                              "ecr_pull_secret_registry_ids"),
    "ecr-no-namespace-selection": ("ecr_pull_secret", {"ecr_pull_secret_namespaces": []}, "ecr_pull_secret_namespaces"),
    "ecr-no-region": ("ecr_pull_secret", {"ecr_pull_secret_region": ""}, "ecr_pull_secret_region"),
    "gcr-auth-choice": ("gcr_pull_secret", {"gcr_pull_secret_auth": "token_exchange"}, "gcr_pull_secret_auth"),
    "gcr-servers-dict": ("gcr_pull_secret", {"gcr_pull_secret_servers": {"gcr.io": True}}, "gcr_pull_secret_servers"),
    "gcr-verify-not-bool": ("gcr_pull_secret", {"gcr_pull_secret_verify": "perhaps"}, "gcr_pull_secret_verify"),
    "gcr-no-key": ("gcr_pull_secret", {"gcr_pull_secret_service_account_key_file": ""},
                   "gcr_pull_secret_service_account_key_file"),
    "acr-auth-choice": ("acr_pull_secret", {"acr_pull_secret_auth": "json_key"}, "acr_pull_secret_auth"),
    "acr-labels-list": ("acr_pull_secret", {"acr_pull_secret_labels": ["team=a"]}, "acr_pull_secret_labels"),
    "acr-no-servers": ("acr_pull_secret", {"acr_pull_secret_servers": []}, "acr_pull_secret_servers"),
    "acr-no-client-secret": ("acr_pull_secret", {"acr_pull_secret_client_secret": ""}, "acr_pull_secret_client_secret"),
    "acr-no-tenant": ("acr_pull_secret", {"acr_pull_secret_tenant_id": ""}, "acr_pull_secret_tenant_id"),
    "dockerhub-state-choice": ("dockerhub_pull_secret", {"dockerhub_pull_secret_state": "gone"}, "dockerhub_pull_secret_state"),
    "dockerhub-service-accounts-dict": ("dockerhub_pull_secret", {"dockerhub_pull_secret_service_accounts": {"a": "b"}},
                                        "dockerhub_pull_secret_service_accounts"),
    "dockerhub-create-not-bool": ("dockerhub_pull_secret", {"dockerhub_pull_secret_create_service_accounts": "perhaps"},
                                  "dockerhub_pull_secret_create_service_accounts"),
    "dockerhub-no-password": ("dockerhub_pull_secret", {"dockerhub_pull_secret_password": ""}, "dockerhub_pull_secret_password"),
    "dockerhub-no-username": ("dockerhub_pull_secret", {"dockerhub_pull_secret_username": ""}, "dockerhub_pull_secret_username"),
    "pull-secrets-missing": ("pull_secrets", {"pull_secrets_secrets": None}, "pull_secrets_secrets"),
    "pull-secrets-not-list": ("pull_secrets", {"pull_secrets_secrets": "regcred"}, "pull_secrets_secrets"),
    "pull-secrets-entry-no-name": ("pull_secrets", {"pull_secrets_secrets": [entry_of(name=None)]}, "pull_secrets_secrets"),
    "pull-secrets-entry-state-choice": ("pull_secrets", {"pull_secrets_secrets": [entry_of(state="gone")]},
                                        "pull_secrets_secrets"),
    "pull-secrets-entry-unknown-key": ("pull_secrets", {"pull_secrets_secrets": [entry_of(namespace="NAMESPACE")]},
                                       "pull_secrets_secrets"),
    "pull-secrets-from-secret-no-namespace": ("pull_secrets", {"pull_secrets_secrets": [entry_of(
        registries=None, from_secret={"name": "central"})]}, "pull_secrets_secrets"),
    "pull-secrets-entry-merge-not-bool": ("pull_secrets", {"pull_secrets_secrets": [entry_of(merge="perhaps")]},
                                          "pull_secrets_secrets"),
    "pull-secrets-entry-both-sources": ("pull_secrets", {"pull_secrets_secrets": [entry_of(
        from_secret={"name": "central", "namespace": "kube-public"})]}, "pull_secrets_secrets[0]"),
    "pull-secrets-entry-no-namespaces": ("pull_secrets", {"pull_secrets_secrets": [entry_of(namespaces=None)]},
                                         "pull_secrets_secrets[0]"),
    "pull-secrets-state-choice": ("pull_secrets", {"pull_secrets_state": "gone"}, "pull_secrets_state"),
    "pull-secrets-labels-list": ("pull_secrets", {"pull_secrets_labels": ["team=a"]}, "pull_secrets_labels"),
    "cronjob-state-choice": ("refresh_cronjob", {"refresh_cronjob_state": "gone"}, "refresh_cronjob_state"),
    "cronjob-pull-policy-choice": ("refresh_cronjob", {"refresh_cronjob_image_pull_policy": "Sometimes"},
                                   "refresh_cronjob_image_pull_policy"),
    "cronjob-env-list": ("refresh_cronjob", {"refresh_cronjob_env": ["AWS_REGION=eu-west-1"]}, "refresh_cronjob_env"),
    "cronjob-suspend-not-bool": ("refresh_cronjob", {"refresh_cronjob_suspend": "perhaps"}, "refresh_cronjob_suspend"),
    "cronjob-apply-not-bool": ("refresh_cronjob", {"refresh_cronjob_apply": "perhaps"}, "refresh_cronjob_apply"),
    "cronjob-no-image": ("refresh_cronjob", {"refresh_cronjob_image": ""}, "refresh_cronjob_image"),
    "cronjob-bad-name": ("refresh_cronjob", {"refresh_cronjob_name": "Bad_Name"}, "refresh_cronjob_name"),
    "cronjob-bad-schedule": ("refresh_cronjob", {"refresh_cronjob_schedule": "every hour"}, "refresh_cronjob_schedule"),
}


def role_secrets(role, role_vars):
    """The values given to the role's no_log variables, and to no_log options inside them."""
    options = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    found = {json.dumps(v) if not isinstance(v, str) else v for k, v in role_vars.items()
             if (options.get(k) or {}).get("no_log") and v}
    return found | secret_values(role_vars)


def remove_rendered(env, tmp_path):
    """Delete what refresh_cronjob applied: its ClusterRoles and bindings outlive the namespace."""
    if (tmp_path / "manifests.yml").exists():
        testenv.kubectl(env, "delete", "--ignore-not-found", "-f", str(tmp_path / "manifests.yml"))


def role_variables(env, tmp_path, namespace, role, over):
    found = dict(places(env, tmp_path, namespace), MANIFESTS=lambda: str(tmp_path / "manifests.yml"))
    return resolve(dict(role_base(env, role), **over), found)


ROLES_UNDER_TEST = sorted(set(case[0] for case in ROLE_CASES.values()))


class RoleBatch:
    """The cases of ROLE_CASES and, as their control, each role with its base variables, as one play:
    each role included in its own namespace in turn, and the audit log read for the time each ran.
    Roles may select namespaces by label and write cluster-wide objects, so every write counts, not
    only those in the case's namespace."""

    def __init__(self, env, admin, tmp_path):
        self.env, self.admin, self.tmp_path = env, admin, tmp_path
        self.cases, self.namespaces, self.audit = {}, [], None

    def case(self, name):
        if not self.cases:
            self._run()
        return self.cases[name]

    def _run(self):
        wanted = {name: ROLE_CASES[name][:2] for name in sorted(ROLE_CASES)}
        wanted.update({"base " + role: (role, {}) for role in ROLES_UNDER_TEST})
        roles = {}
        for name, (role, over) in wanted.items():
            namespace = "badrole-" + uuid.uuid4().hex[:8]
            self.admin.create_namespace({"metadata": {"name": namespace}})
            self.namespaces.append(namespace)
            role_vars = role_variables(self.env, testenv.workdir(self.tmp_path, name), namespace, role, over)
            roles[name] = ("regcred.k8s." + role, role_vars)
            self.cases[name] = {"secrets": role_secrets(role, role_vars)}
        self.audit = testenv.AuditLog(self.env)
        for name, (run, received) in testenv.run_roles(self.env, roles, self.tmp_path).items():
            self.cases[name].update(run=run, audit=self.audit.window(*received))

    def remove(self):
        for name in self.cases:
            remove_rendered(self.env, testenv.workdir(self.tmp_path, name))
        for namespace in self.namespaces:
            self.admin.delete_namespace(namespace)


@pytest.fixture(scope="module", name="role_batch")
def role_batch_fixture(env, tmp_path_factory):
    batch = RoleBatch(env, testenv.core_v1(env["KUBECONFIG"]), tmp_path_factory.mktemp("roles"))
    yield batch
    batch.remove()


@pytest.mark.parametrize("case", sorted(ROLE_CASES))
def test_bad_role_variable_names_it_and_writes_nothing(role_batch, case):
    ran = role_batch.case(case)
    assert_refused(ran["run"], ROLE_CASES[case][2], ran["secrets"], ran["audit"])


@pytest.mark.parametrize("role", ROLES_UNDER_TEST)
def test_role_base_is_accepted(role_batch, role):
    """The control for the role cases: without the bad value each role runs through and writes,
    and its writes fall in its own stretch of the audit log."""
    ran = role_batch.case("base " + role)
    assert not ran["run"].failed, ran["run"].result
    assert ran["audit"].writes() > 0


def test_every_write_of_the_role_play_falls_in_the_time_of_one_case(role_batch):
    """No write escapes the per-case stretches of the audit log that the checks above read."""
    role_batch.case(sorted(ROLE_CASES)[0])
    in_cases = sum(case["audit"].writes() for case in role_batch.cases.values())
    assert in_cases == role_batch.audit.writes(), role_batch.audit.verbs()
