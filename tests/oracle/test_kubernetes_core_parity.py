"""Differential tests: the Kubernetes connection options against kubernetes.core's own handling.

Each generated case is a set of task options (by name or alias) and K8S_AUTH_* variables. It goes
through kubernetes.core 6.2.0 for real: Ansible's validator with kubernetes.core's AUTH_ARG_SPEC,
then ``_create_auth_spec`` (the environment), ``_create_configuration`` (the kubeconfig and the
overrides), ``_create_headers`` (impersonation) and the kubernetes client's RESTClientObject that
kubernetes.core's client sends requests with (proxy or not, proxy headers). The same case goes
through this collection: Ansible's validator with our AUTH_ARG_SPEC (whose fallbacks read the
environment) and ``kube.Kube``. The effective settings must be equal: API server, certificate
check, CA, client certificate and key, Authorization header, proxy, whether it is used (no_proxy),
the headers sent to it, impersonation headers and persist_config.

The documented differences (docs/kubernetes-connection.md) are asserted as such:
- kubernetes.core sets username and password on the kubernetes client, which never sends them;
  here they are sent as HTTP basic authentication when no token is;
- with the kubernetes client 37 and a kubeconfig user with a token, kubernetes.core's requests go
  with the kubeconfig's token and server even when api_key or host are given: the client's token
  hook, run before each request, puts the kubeconfig's values back on the configuration. Here the
  options win, as both collections document. The comparison takes kubernetes.core's settings as
  ``_create_configuration`` returns them, before that hook runs.
- username without password (or the reverse) and impersonate_groups without impersonate_user
  are errors naming the option here.
"""

import base64
import contextlib
import os
import re
from types import SimpleNamespace

import kubernetes
import pytest
import trustme
import urllib3
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes.config import kube_config

from ansible_collections.regcred.k8s.plugins.module_utils.errors import RegcredError
from ansible_collections.regcred.k8s.plugins.module_utils.k8s_auth_spec import AUTH_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.kube import Kube, basic_authorization

EXAMPLES = 400
HOSTS = ["https://api.example:6443", "https://10.1.2.3:6443/", "https://[fd00::1]:6443"]
# Texts of K8S_AUTH_* booleans: kubernetes.core reads only 0, false and no (any case) as false.
BOOL_WORDS = ["", "0", "false", "False", "NO", "no", "off", "n", "f", "yes", "true", "1", "On", "garbage"]
NO_PROXY_ENTRIES = ["*", "api.example", ".example", "EXAMPLE", "api.example:6443", "10.0.0.0/8", "10.1.2.3",
                    "fd00::/8", "[fd00::1]:6443", "other.test", " api.example ", "", "10.1.2.3:6443"]
GROUP_TEXTS = ["a,b", "a,,b", "", ",", "solo", "a b,c"]
PROXY_HEADER_VALUES = {"proxy_basic_auth": "proxy-user:proxy-pass-0001", "basic_auth": "basic-user:basic-pass-0002",
                       "user_agent": "parity/1.0"}
# Variables either side reads; each case starts from none of them set.
CLEARED = ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")
RUN = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(name="files", scope="module")
def files_fixture(tmp_path_factory):
    """Two CAs, two client certificate pairs and a kubeconfig with two contexts."""
    root = tmp_path_factory.mktemp("parity")
    ca_one, ca_two = trustme.CA(), trustme.CA()
    paths = {"ca_one": root / "ca-one.pem", "ca_two": root / "ca-two.pem"}
    ca_one.cert_pem.write_to_path(str(paths["ca_one"]))
    ca_two.cert_pem.write_to_path(str(paths["ca_two"]))
    pems = {}
    for name in ("a", "b"):
        issued = ca_one.issue_cert("client-%s" % name)
        pems[name] = (issued.cert_chain_pems[0].bytes(), issued.private_key_pem.bytes())
        paths[name + "_cert"], paths[name + "_key"] = root / ("%s.crt" % name), root / ("%s.key" % name)
        paths[name + "_cert"].write_bytes(pems[name][0])
        paths[name + "_key"].write_bytes(pems[name][1])

    def b64(data):
        return base64.b64encode(data).decode()
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "main",
        "clusters": [
            {"name": "main", "cluster": {"server": "https://main.example:6443",
                                         "certificate-authority-data": b64(ca_one.cert_pem.bytes())}},
            {"name": "certs", "cluster": {"server": "https://10.9.8.7:8443", "insecure-skip-tls-verify": True}},
        ],
        "users": [
            {"name": "token-user", "user": {"token": "kubeconfig-token-0003"}},
            {"name": "cert-user", "user": {"client-certificate-data": b64(pems["b"][0]),
                                           "client-key-data": b64(pems["b"][1])}},
        ],
        "contexts": [{"name": "main", "context": {"cluster": "main", "user": "token-user"}},
                     {"name": "certs", "context": {"cluster": "certs", "user": "cert-user"}}],
    }
    paths["kubeconfig"] = root / "kubeconfig"
    paths["kubeconfig"].write_text(yaml.safe_dump(config))
    return dict((key, str(value)) for key, value in paths.items())


@st.composite
def cases(draw, files):
    """(options, environment) of one task."""
    params, env = {}, {}

    def put(name, values, env_names, env_values=None, aliases=(), required=False):
        how = draw(st.sampled_from(["option", "env"] if required else ["unset", "option", "env"]))
        if how == "option":
            params[draw(st.sampled_from((name,) + aliases))] = draw(st.sampled_from(values))
        elif how == "env":
            texts = env_values or [str(value) for value in values]
            chosen = draw(st.lists(st.sampled_from(env_names), min_size=1, max_size=len(env_names), unique=True))
            for var in chosen:
                env[var] = draw(st.sampled_from(texts))
            if len(env_names) > 1 and env_names[0] not in chosen and draw(st.booleans()):
                env[env_names[0]] = ""  # kubernetes.core then reads the second name

    put("kubeconfig", [files["kubeconfig"]], ["K8S_AUTH_KUBECONFIG"])
    put("context", ["main", "certs"], ["K8S_AUTH_CONTEXT"])
    put("host", HOSTS, ["K8S_AUTH_HOST"])
    put("api_key", ["option-token-0004"], ["K8S_AUTH_API_KEY"], ["env-token-0005"])
    put("username", ["alice"], ["K8S_AUTH_USERNAME"], ["bob"])
    put("password", ["option-password-0006"], ["K8S_AUTH_PASSWORD"], ["env-password-0007"])
    put("validate_certs", [True, False, "yes", "off"], ["K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"],
        BOOL_WORDS, aliases=("verify_ssl",))
    put("ca_cert", [files["ca_one"], files["ca_two"]], ["K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"],
        aliases=("ssl_ca_cert",))
    pair = draw(st.sampled_from([None, "a", "b"]))
    if pair:  # kubernetes.core skips the kubeconfig for host with both; here client_cert is enough
        put("client_cert", [files[pair + "_cert"]], ["K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"],
            aliases=("cert_file",), required=True)
        put("client_key", [files[pair + "_key"]], ["K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"],
            aliases=("key_file",), required=True)
    put("proxy", ["http://proxy.example:3128", "http://127.0.0.1:3128"], ["K8S_AUTH_PROXY"])
    no_proxy = st.lists(st.sampled_from(NO_PROXY_ENTRIES), min_size=1, max_size=3).map(",".join)
    put("no_proxy", [draw(no_proxy)], ["K8S_AUTH_NO_PROXY"])
    headers = draw(st.lists(st.sampled_from(sorted(PROXY_HEADER_VALUES)), unique=True))
    if headers and draw(st.booleans()):
        params["proxy_headers"] = dict((key, PROXY_HEADER_VALUES[key]) for key in headers)
    else:
        env.update(("K8S_AUTH_PROXY_HEADERS_" + key.upper(), PROXY_HEADER_VALUES[key]) for key in headers)
    put("persist_config", [True, False], ["K8S_AUTH_PERSIST_CONFIG"], BOOL_WORDS)
    put("impersonate_user", ["carol"], ["K8S_AUTH_IMPERSONATE_USER"], ["dave", ""])
    put("impersonate_groups", [["a", "b"], ["x"]], ["K8S_AUTH_IMPERSONATE_GROUPS"], GROUP_TEXTS)
    return params, env


@contextlib.contextmanager
def environment(env, files):
    """Only ``env`` of the K8S_AUTH_* variables, KUBECONFIG at the test kubeconfig, no in-cluster
    variables; the previous environment is back afterwards. The kubernetes package reads KUBECONFIG
    when it is imported (as a module's new process does), so its copy is set as well."""
    saved, default_location = dict(os.environ), kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    for name in list(os.environ):
        if name.startswith("K8S_AUTH_") or name in CLEARED:
            del os.environ[name]
    os.environ["KUBECONFIG"] = kube_config.KUBE_CONFIG_DEFAULT_LOCATION = files["kubeconfig"]
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = default_location


def validated(spec, params):
    """The module's parameters as AnsibleModule makes them (fallbacks, aliases, types)."""
    result = ArgumentSpecValidator(spec).validate(dict(params))
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def content(path):
    if not path:
        return None
    with open(path, "rb") as handle:
        return handle.read()


def proxy_side(pool):
    proxied = isinstance(pool, urllib3.ProxyManager)
    return proxied, dict(pool.proxy_headers) if proxied else None


def theirs(client, params):
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC as CORE_SPEC  # pylint: disable=import-outside-toplevel
    kubernetes.client.Configuration.set_default(None)  # the kubeconfig loader writes the process default
    module = SimpleNamespace(params=validated(CORE_SPEC, params))
    auth = client._create_auth_spec(module)
    configuration = client._create_configuration(auth)
    headers = client._create_headers(module)
    proxied, proxy_headers = proxy_side(kubernetes.client.rest.RESTClientObject(configuration).pool_manager)
    found = dict(host=configuration.host.rstrip("/"), verify=configuration.verify_ssl,
                 ca=content(configuration.ssl_ca_cert), cert=content(configuration.cert_file),
                 key=content(configuration.key_file), proxy=configuration.proxy)  # before the token hook runs
    # The documented differences: api_key wins over a kubeconfig token, and username and password
    # are sent when no token is.
    bearer = ("Bearer " + auth["api_key"] if auth.get("api_key")
              else configuration.auth_settings().get("BearerToken", {}).get("value"))
    basic = (configuration.username, configuration.password)
    return dict(
        found, authorization=bearer or (basic_authorization(*basic) if all(basic) else None),
        proxied=proxied, proxy_headers=proxy_headers,
        impersonate_user=headers.get("Impersonate-User"), impersonate_groups=headers.get("Impersonate-Group", []),
        persist_config=bool(auth.get("persist_config")))


def ours(params):
    options = validated(AUTH_ARG_SPEC, params)
    kube = Kube(options, "parity")
    conn = kube.conn
    proxied, proxy_headers = proxy_side(kube.pool)
    return dict(
        host=kube.base, verify=conn.verify, ca=conn.ca_data or content(conn.ca_file),
        cert=conn.cert_data or content(conn.cert_file), key=conn.key_data or content(conn.key_file),
        authorization=conn.authorization(), proxy=conn.proxy, proxied=proxied, proxy_headers=proxy_headers,
        impersonate_user=kube.headers.get("Impersonate-User"),
        impersonate_groups=kube.headers.getlist("Impersonate-Group"),
        persist_config=bool(options.get("persist_config")))


def refused_here(expected, options):
    """The option this collection refuses for a case kubernetes.core takes, or None."""
    for given, missing in (("username", "password"), ("password", "username")):
        if options.get(given) and not options.get(missing):
            return missing
    if expected["impersonate_groups"] and not expected["impersonate_user"]:
        return "impersonate_groups"
    return None


def compare(client, files, params, env):
    with environment(env, files):
        expected = theirs(client, params)
        refused = refused_here(expected, validated(AUTH_ARG_SPEC, params))
        if refused:
            with pytest.raises(RegcredError) as refusal:
                ours(params)
            assert re.search("(^|: )%s: " % refused, str(refusal.value)), str(refusal.value)
            return
        assert ours(params) == expected, (params, env)


@RUN
@given(data=st.data())
def test_generated_options_and_environment_give_kubernetes_cores_settings(kubernetes_core_client, files, data):
    params, env = data.draw(cases(files))
    compare(kubernetes_core_client, files, params, env)


@pytest.mark.parametrize("params, env", [
    # The aliases' variables, each name alone and both (the option's own name wins).
    ({}, {"K8S_AUTH_VERIFY_SSL": "no"}),
    ({}, {"K8S_AUTH_VALIDATE_CERTS": "false"}),
    ({}, {"K8S_AUTH_VALIDATE_CERTS": "", "K8S_AUTH_VERIFY_SSL": "0"}),
    ({}, {"K8S_AUTH_VALIDATE_CERTS": "off", "K8S_AUTH_VERIFY_SSL": "no"}),  # "off" is true there
    ({}, {"K8S_AUTH_CA_CERT": "ca_two"}),
    ({}, {"K8S_AUTH_SSL_CA_CERT": "ca_two"}),
    ({"context": "certs"}, {"K8S_AUTH_CLIENT_CERT": "a_cert", "K8S_AUTH_KEY_FILE": "a_key"}),
    ({"host": "https://10.1.2.3:6443"}, {"K8S_AUTH_CERT_FILE": "a_cert", "K8S_AUTH_CLIENT_KEY": "a_key"}),
    # Lists: empty items dropped, no blanks stripped.
    ({"impersonate_user": "carol"}, {"K8S_AUTH_IMPERSONATE_GROUPS": "a,,b, c,"}),
    ({"impersonate_user": "carol"}, {"K8S_AUTH_IMPERSONATE_GROUPS": ","}),
    # username and password alone skip the kubeconfig with host, and are sent.
    ({"host": "https://api.example:6443", "username": "alice", "password": "pw-0008"}, {}),
    ({}, {"K8S_AUTH_HOST": "https://api.example:6443", "K8S_AUTH_USERNAME": "alice", "K8S_AUTH_PASSWORD": "pw-0009"}),
    ({"username": "alice", "password": "pw-0010"}, {}),  # no host: the kubeconfig's token goes first
    # Proxy, no_proxy and proxy headers from options and from the environment.
    ({"proxy": "http://127.0.0.1:3128", "no_proxy": "main.example"}, {}),
    ({"proxy": "http://127.0.0.1:3128", "no_proxy": "example"}, {}),
    ({"proxy": "http://127.0.0.1:3128", "no_proxy": "10.0.0.0/8", "host": "https://10.1.2.3:6443"}, {}),
    ({}, {"K8S_AUTH_PROXY": "http://127.0.0.1:3128", "K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH": "u:p-0011",
          "K8S_AUTH_PROXY_HEADERS_USER_AGENT": "ua/2"}),
    ({"proxy": "http://127.0.0.1:3128", "proxy_headers": {"basic_auth": "u:p-0012"}},
     {"K8S_AUTH_PROXY_HEADERS_USER_AGENT": "ignored/1"}),  # a given dict leaves the variables unread
    ({}, {"K8S_AUTH_PERSIST_CONFIG": "yes"}),
    ({}, {"K8S_AUTH_PERSIST_CONFIG": "No"}),
])
def test_the_table_of_known_cases(kubernetes_core_client, files, params, env):
    env = dict((name, files.get(value, value)) for name, value in env.items())
    compare(kubernetes_core_client, files, params, env)


def test_the_oracle_is_kubernetes_core_itself(kubernetes_core_client):
    """The comparison is worth something only if it runs kubernetes.core's code, and the options
    differ where they must: a sent basic header there would make the documented difference moot."""
    assert kubernetes_core_client.__name__ == "ansible_collections.kubernetes.core.plugins.module_utils.k8s.client"
    kubernetes.client.Configuration.set_default(None)
    configuration = kubernetes_core_client._create_configuration(
        {"host": "https://api.example:6443", "username": "alice", "password": "pw-0013"})
    assert configuration.username == "alice" and configuration.auth_settings() == {}


def test_kubernetes_core_sends_the_kubeconfig_token_and_server_over_the_options(kubernetes_core_client, files):
    """The documented difference, as kubernetes.core really behaves: with a kubeconfig user that
    has a token, its request goes to the kubeconfig's server with its token, not the options'."""
    options = {"api_key": "option-token-0014", "host": "https://api.example:6443", "kubeconfig": files["kubeconfig"]}
    with environment({}, files):
        kubernetes.client.Configuration.set_default(None)
        configuration = kubernetes_core_client._create_configuration(dict(options, host=None))
        configuration.host = options["host"]
        # As kubernetes.dynamic.DynamicClient.request, which kubernetes.core sends every request with.
        request = kubernetes.client.ApiClient(configuration).param_serialize("GET", "/api", auth_settings=["BearerToken"])
        assert request[1] == "https://main.example:6443/api"
        assert request[2]["authorization"] == "Bearer kubeconfig-token-0003"
        mine = ours(options)
        assert (mine["host"], mine["authorization"]) == ("https://api.example:6443", "Bearer option-token-0014")
