"""The connection options read from K8S_AUTH_* as kubernetes.core reads them, the new options'
own checks, and no_proxy's rules. The same cases against kubernetes.core's code: tests/oracle."""

import base64

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError
from ansible_collections.regcred.k8s.plugins.module_utils.k8s_auth_spec import AUTH_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.kube import Kube, KubeError, basic_authorization
from ansible_collections.regcred.k8s.plugins.module_utils.kube import check_username_password, connection
from ansible_collections.regcred.k8s.plugins.module_utils.no_proxy import bypasses_proxy

EXPLICIT = {"host": "https://127.0.0.1:6443", "api_key": "token-0123456789"}


def validate(monkeypatch, env, params=None):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(AUTH_ARG_SPEC).validate(dict(params or {}))
    assert not result.error_messages, result.error_messages
    return result


@pytest.mark.parametrize("text, verify", [
    ("0", False), ("false", False), ("FALSE", False), ("No", False),
    ("off", True), ("n", True), ("", True), ("yes", True), ("anything", True),
])
def test_a_boolean_variable_is_false_only_for_0_false_and_no(monkeypatch, text, verify):
    assert validate(monkeypatch, {"K8S_AUTH_VERIFY_SSL": text}).validated_parameters["validate_certs"] is verify


@pytest.mark.parametrize("env, expected", [
    ({"K8S_AUTH_VALIDATE_CERTS": "no"}, False),
    ({"K8S_AUTH_VALIDATE_CERTS": "yes", "K8S_AUTH_VERIFY_SSL": "no"}, True),
    ({"K8S_AUTH_VALIDATE_CERTS": "", "K8S_AUTH_VERIFY_SSL": "no"}, False),  # empty: the next name
    ({}, None),
])
def test_the_option_name_variable_comes_before_the_client_name_one(monkeypatch, env, expected):
    assert validate(monkeypatch, env).validated_parameters.get("validate_certs") is expected


@pytest.mark.parametrize("option, names", [
    ("ca_cert", ("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT")),
    ("client_cert", ("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE")),
    ("client_key", ("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE")),
])
def test_each_path_option_reads_both_of_its_variables(monkeypatch, option, names):
    assert validate(monkeypatch, {names[1]: "/b"}).validated_parameters[option] == "/b"
    assert validate(monkeypatch, {names[0]: "/a", names[1]: "/b"}).validated_parameters[option] == "/a"
    assert validate(monkeypatch, {}, {option: "/given"}).validated_parameters[option] == "/given"


@pytest.mark.parametrize("text, groups", [("a,b", ["a", "b"]), ("a,,b,", ["a", "b"]), (",", []), (" a", [" a"])])
def test_a_list_variable_drops_empty_items_only(monkeypatch, text, groups):
    params = validate(monkeypatch, {"K8S_AUTH_IMPERSONATE_GROUPS": text}).validated_parameters
    assert params["impersonate_groups"] == groups


def test_the_new_options_read_their_variables_and_hide_the_secret_ones(monkeypatch):
    result = validate(monkeypatch, {
        "K8S_AUTH_USERNAME": "alice", "K8S_AUTH_PASSWORD": "env-password-4242", "K8S_AUTH_NO_PROXY": ".internal",
        "K8S_AUTH_PERSIST_CONFIG": "True", "K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH": "u:proxy-secret-4343",
        "K8S_AUTH_PROXY_HEADERS_USER_AGENT": "ua/1"})
    params = result.validated_parameters
    assert (params["username"], params["password"], params["no_proxy"], params["persist_config"]) == (
        "alice", "env-password-4242", ".internal", True)
    assert params["proxy_headers"] == {"proxy_basic_auth": "u:proxy-secret-4343", "basic_auth": None, "user_agent": "ua/1"}
    assert {"env-password-4242", "u:proxy-secret-4343"} <= result._no_log_values
    assert "ua/1" not in result._no_log_values and "alice" not in result._no_log_values


def test_given_proxy_headers_leave_the_variables_unread(monkeypatch):
    params = validate(monkeypatch, {"K8S_AUTH_PROXY_HEADERS_USER_AGENT": "env/1"},
                      {"proxy_headers": {"basic_auth": "u:p"}}).validated_parameters
    assert params["proxy_headers"] == {"proxy_basic_auth": None, "basic_auth": "u:p", "user_agent": None}


@pytest.mark.parametrize("params, missing", [({"username": "alice"}, "password"), ({"password": "pw"}, "username")])
def test_username_and_password_come_together(params, missing):
    with pytest.raises(InputError, match="^%s: is needed with " % missing):
        check_username_password(params)
    check_username_password({"username": "alice", "password": "pw"})


def test_username_and_password_are_sent_as_basic_only_without_a_token():
    assert basic_authorization("alice", "pä:ss") == "Basic " + base64.b64encode("alice:pä:ss".encode("latin-1")).decode()
    with pytest.raises(InputError, match="^password: username and password must be Latin-1 text") as caught:
        basic_authorization("alice", "pass-€-5353")
    assert "5353" not in str(caught.value)
    alone = connection({"host": "https://127.0.0.1:6443", "username": "alice", "password": "pw"})
    assert alone.authorization() == basic_authorization("alice", "pw")
    with_token = connection(dict(EXPLICIT, username="alice", password="pw"))
    assert with_token.authorization() == "Bearer token-0123456789"


def test_the_proxy_gets_the_proxy_headers_and_the_apiserver_never_does():
    kube = Kube(dict(EXPLICIT, proxy="http://127.0.0.1:3128",
                     proxy_headers={"proxy_basic_auth": "u:p", "basic_auth": None, "user_agent": "ua/1"}), "test")
    assert kube.pool.proxy_headers == {"proxy-authorization": "Basic dTpw", "user-agent": "ua/1"}
    assert "proxy-authorization" not in {name.lower() for name in kube.headers}


def test_no_proxy_takes_the_apiserver_off_the_proxy():
    proxied = Kube(dict(EXPLICIT, proxy="http://127.0.0.1:3128", no_proxy="10.0.0.0/8"), "test")
    direct = Kube(dict(EXPLICIT, proxy="http://127.0.0.1:3128", no_proxy="127.0.0.0/8"), "test")
    assert proxied.conn.proxied() and not direct.conn.proxied()
    assert type(proxied.pool).__name__ == "ProxyManager" and type(direct.pool).__name__ == "PoolManager"


@pytest.mark.parametrize("url, no_proxy, bypass", [
    ("https://api.example.com:6443", "", False),
    ("https://api.example.com:6443", None, False),
    ("https://api.example.com:6443", "*", True),
    ("https://api.example.com:6443", "example.com", True),
    ("https://api.example.com:6443", ".example.com", True),
    ("https://api.example.com:6443", " EXAMPLE.com ,x", True),
    ("https://api.example.com:6443", "ample.com", False),
    ("https://api.example.com:6443", "api.example.com:6443", True),
    ("https://api.example.com:6443", "api.example.com:443", False),
    ("https://10.1.2.3:6443", "10.0.0.0/8", True),
    ("https://10.1.2.3:6443", "10.1.2.3", True),
    ("https://10.1.2.3:6443", "11.0.0.0/8", False),
    ("https://[fd00::1]:6443", "fd00::/8", True),
    ("https://[fd00::1]:6443", "[fd00::1]:6443", True),
    ("https://api.example.com:6443", "10.0.0.0/8", False),
    ("not a url", "", True),
])
def test_no_proxy_rules(url, no_proxy, bypass):
    assert bypasses_proxy(url, no_proxy) is bypass


def test_a_missing_username_is_named_before_any_request():
    with pytest.raises(KubeError, match="username: is needed with password") as caught:
        Kube(dict(EXPLICIT, password="pw-5151"), "test")
    assert "pw-5151" not in str(caught.value)


def test_a_kubeconfig_user_with_a_password_is_sent_as_basic():
    config = {"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
              "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:6443"}}],
              "users": [{"name": "u", "user": {"username": "alice", "password": "kubeconfig-pw-5252"}}]}
    assert connection({"kubeconfig": config}).authorization() == basic_authorization("alice", "kubeconfig-pw-5252")
