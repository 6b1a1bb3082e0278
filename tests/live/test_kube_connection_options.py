"""The connection options taken over from kubernetes.core, against the local apiserver and small
servers on 127.0.0.1: proxy_headers reach the proxy (a CONNECT proxy started and stopped by its
PID) and only the proxy, no_proxy sends requests past it, username and password go out as HTTP
basic authentication, and persist_config decides whether a refreshed OIDC token is written back
to the kubeconfig file. Options come through the collection's argument spec, so the K8S_AUTH_*
variables are read as a module reads them."""

import base64
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import connect_proxy
import pytest
import trustme
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from testenv import whoami_of

from ansible_collections.regcred.k8s.plugins.module_utils.k8s_auth_spec import AUTH_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.kube import Kube, KubeError, basic_authorization

AGENT = "regcred-live-tests (kube connection options)"
PROXY_CREDENTIALS = "proxy-user:proxy-pass-7171"
SERVER_SECONDS = 10


def options(params=None, environ=None, monkeypatch=None):
    """The module's parameters for task ``params`` and K8S_AUTH_* ``environ``, as a module gets them."""
    for name, value in (environ or {}).items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(AUTH_ARG_SPEC).validate(dict(params or {}))
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def whoami(params):
    return whoami_of(Kube(params, AGENT))


def restricted(env):
    return {"host": env["REGCRED_KUBE_HOST"], "api_key": env["REGCRED_RESTRICTED_TOKEN"], "ca_cert": env["REGCRED_KUBE_CA"]}


def connects(proxy):
    return [entry for entry in proxy.requests() if entry["method"] == "CONNECT"]


@pytest.fixture(name="proxy")
def proxy_fixture(tmp_path):
    running = connect_proxy.started(tmp_path / "proxy.log", PROXY_CREDENTIALS)
    yield running
    running.stop()


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with ``{}`` and keeps its headers in ``server.seen``."""

    def do_GET(self):  # noqa: N802  (http.server's name)
        self.server.seen.append(dict((name.lower(), value) for name, value in self.headers.items()))
        self._answer(200, {})

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(name="serve")
def serve_fixture():
    """serve(handler, tls_context=None) -> base URL of a threaded HTTP server on 127.0.0.1."""
    servers = []

    def serve(handler, tls_context=None):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.seen, server.timeout = [], SERVER_SECONDS
        if tls_context is not None:
            server.socket = tls_context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        scheme = "https" if tls_context is not None else "http"
        return server, "%s://127.0.0.1:%d" % (scheme, server.server_address[1])
    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_proxy_headers_reach_the_proxy_and_the_apiserver_answers_through_it(env, proxy):
    params = options(dict(restricted(env), proxy=proxy.url, proxy_headers={
        "proxy_basic_auth": PROXY_CREDENTIALS, "user_agent": "parity-proxy/1"}))
    assert whoami(params) == env["REGCRED_RESTRICTED_USER"]
    apiserver = urlparse(env["REGCRED_KUBE_HOST"]).netloc
    sent = connects(proxy)
    assert sent and all(entry["target"] == apiserver for entry in sent)
    assert sent[0]["headers"]["proxy-authorization"] == "Basic " + base64.b64encode(PROXY_CREDENTIALS.encode()).decode()
    assert sent[0]["headers"]["user-agent"] == "parity-proxy/1"


def test_proxy_and_its_headers_from_the_environment(env, proxy, monkeypatch):
    params = options(restricted(env), {"K8S_AUTH_PROXY": proxy.url,
                                       "K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH": PROXY_CREDENTIALS}, monkeypatch)
    assert whoami(params) == env["REGCRED_RESTRICTED_USER"]
    assert connects(proxy)[0]["headers"]["proxy-authorization"].startswith("Basic ")


def test_a_proxy_refusing_the_credentials_fails_the_request_without_showing_them(env, proxy):
    params = options(dict(restricted(env), proxy=proxy.url, request_timeout=5,
                          proxy_headers={"proxy_basic_auth": "proxy-user:wrong-pass-7272"}))
    with pytest.raises(KubeError) as caught:
        whoami(params)
    assert "407" in str(caught.value) and caught.value.fatal
    assert "wrong-pass-7272" not in str(caught.value)
    assert base64.b64encode(b"proxy-user:wrong-pass-7272").decode() not in str(caught.value)
    assert connects(proxy)


@pytest.mark.parametrize("no_proxy", ["127.0.0.0/8", "127.0.0.1", "*", " 127.0.0.1 ,example.com"])
def test_no_proxy_sends_the_requests_past_the_proxy(env, proxy, no_proxy):
    params = options(dict(restricted(env), proxy=proxy.url, no_proxy=no_proxy))
    assert whoami(params) == env["REGCRED_RESTRICTED_USER"]
    assert connects(proxy) == []


def test_no_proxy_from_the_environment_and_one_that_does_not_match(env, proxy, monkeypatch):
    params = options(restricted(env), {"K8S_AUTH_PROXY": proxy.url, "K8S_AUTH_NO_PROXY": "127.0.0.1"}, monkeypatch)
    assert whoami(params) == env["REGCRED_RESTRICTED_USER"] and connects(proxy) == []
    monkeypatch.setenv("K8S_AUTH_NO_PROXY", "10.0.0.0/8,.example.com")
    params = options(dict(restricted(env), proxy_headers={"proxy_basic_auth": PROXY_CREDENTIALS}))
    assert whoami(params) == env["REGCRED_RESTRICTED_USER"] and connects(proxy)


def test_username_and_password_go_as_basic_authentication(serve):
    server, url = serve(Recorder)
    kube = Kube(options({"host": url, "username": "alice", "password": "basic-pass-7373"}), AGENT)
    try:
        kube.request("GET", "/api")
    finally:
        kube.close()
    assert server.seen[0]["authorization"] == basic_authorization("alice", "basic-pass-7373")


def test_the_apiserver_refuses_basic_authentication_without_showing_the_password(env):
    """Kubernetes 1.19 removed basic authentication, so the local apiserver cannot be set up to
    accept it. This shows what a task gets from a real apiserver: the request counts as
    anonymous, and anonymous users may not do it."""
    params = options({"host": env["REGCRED_KUBE_HOST"], "ca_cert": env["REGCRED_KUBE_CA"],
                      "username": "alice", "password": "basic-pass-7474"})
    with pytest.raises(KubeError) as caught:
        whoami(params)
    assert caught.value.status == 403 and 'User "system:anonymous"' in str(caught.value)
    assert "basic-pass-7474" not in str(caught.value)
    assert base64.b64encode(b"alice:basic-pass-7474").decode() not in str(caught.value)


def _jwt(claims):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return "%s.%s.%s" % (part({"alg": "none"}), part(claims), "c2ln")


EXPIRED_ID_TOKEN = _jwt({"sub": "alice", "exp": 1000000000})
FRESH_ID_TOKEN = _jwt({"sub": "alice", "exp": int(time.time()) + 3600})


class Issuer(BaseHTTPRequestHandler):
    """An OIDC issuer: its discovery document, and a token endpoint that trades refresh-1 for a
    fresh ID token and refresh-2."""

    def do_GET(self):  # noqa: N802
        issuer = "https://127.0.0.1:%d" % self.server.server_address[1]
        self._answer(200, {"issuer": issuer, "token_endpoint": issuer + "/token"})

    def do_POST(self):  # noqa: N802
        form = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.server.seen.append(form)
        if "refresh_token=refresh-1" not in form:
            self._answer(400, {"error": "invalid_grant"})
            return
        self._answer(200, {"access_token": "unused", "token_type": "Bearer", "expires_in": 3600,
                           "id_token": FRESH_ID_TOKEN, "refresh_token": "refresh-2"})

    _answer = Recorder._answer
    log_message = Recorder.log_message


@pytest.fixture(name="oidc")
def oidc_fixture(serve, tmp_path):
    """A kubeconfig file whose user has an expired OIDC ID token and refresh-1, its issuer (HTTPS)
    and a recording stand-in for the apiserver: (kubeconfig path, issuer server, stand-in)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    issuer_server, issuer = serve(Issuer, context)
    stand_in, apiserver = serve(Recorder)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "oidc",
        "clusters": [{"name": "local", "cluster": {"server": apiserver}}],
        "contexts": [{"name": "oidc", "context": {"cluster": "local", "user": "oidc"}}],
        "users": [{"name": "oidc", "user": {"auth-provider": {"name": "oidc", "config": {
            "client-id": "regcred", "client-secret": "client-secret-7575", "id-token": EXPIRED_ID_TOKEN,
            "refresh-token": "refresh-1", "idp-issuer-url": issuer,
            "idp-certificate-authority-data": base64.b64encode(ca.cert_pem.bytes()).decode()}}}}],
    }))
    return kubeconfig, issuer_server, stand_in


def provider_config(kubeconfig):
    return yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["auth-provider"]["config"]


@pytest.mark.parametrize("persist", [True, False, None])
def test_persist_config_writes_a_refreshed_oidc_token_back_only_when_true(oidc, persist):
    kubeconfig, issuer_server, stand_in = oidc
    before = kubeconfig.read_text()
    params = {"kubeconfig": str(kubeconfig)}
    if persist is not None:
        params["persist_config"] = persist
    kube = Kube(options(params), AGENT)
    try:
        kube.request("GET", "/api")
    finally:
        kube.close()
    assert issuer_server.seen and "refresh_token=refresh-1" in issuer_server.seen[0]
    assert stand_in.seen[0]["authorization"] == "Bearer " + FRESH_ID_TOKEN
    if persist:
        provider = provider_config(kubeconfig)
        assert (provider["id-token"], provider["refresh-token"]) == (FRESH_ID_TOKEN, "refresh-2")
    else:
        assert kubeconfig.read_text() == before


def test_persist_config_from_the_environment(oidc, monkeypatch):
    kubeconfig = oidc[0]
    Kube(options({"kubeconfig": str(kubeconfig)}, {"K8S_AUTH_PERSIST_CONFIG": "True"}, monkeypatch), AGENT).close()
    assert provider_config(kubeconfig)["refresh-token"] == "refresh-2"
