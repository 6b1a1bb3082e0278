# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""registry.py against the local docker-registry instances, their token server and the ACR emulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
import trustme

from ansible_collections.regcred.k8s.plugins.module_utils import registry
from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext

WRONG = "wrong-Password-123"
REGISTRIES = {"basic": ("REGCRED_REGISTRY_BASIC", "Basic auth"), "bearer": ("REGCRED_REGISTRY_BEARER", "Bearer token")}


@pytest.fixture(name="kind", params=sorted(REGISTRIES))
def kind_fixture(request):
    return request.param


def host(env, kind):
    return env[REGISTRIES[kind][0]]


def login(env, kind, password=None):
    return Credential(host(env, kind), env["REGCRED_REGISTRY_USER"],
                      env["REGCRED_REGISTRY_PASSWORD"] if password is None else password)


def trusted(env, **kwargs):
    return MintContext(ca_path=env["REGCRED_REGISTRY_CA"], timeout=10, **kwargs)


def image(env):
    repository, tag = env["REGCRED_TEST_IMAGE"].rsplit(":", 1)
    return repository, tag


def assert_no_secret(env, *texts):
    """No password, Basic value or token that the local servers issued appears in ``texts``."""
    secrets = {env["REGCRED_REGISTRY_PASSWORD"], env["REGCRED_AZURE_CLIENT_SECRET"], WRONG}
    for user, password in ((env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"]),
                           (env["REGCRED_REGISTRY_USER"], WRONG),
                           (env["REGCRED_AZURE_CLIENT_ID"], env["REGCRED_AZURE_CLIENT_SECRET"])):
        secrets.add(base64.b64encode(("%s:%s" % (user, password)).encode()).decode())
    issued = Path(env["REGCRED_ISSUED_TOKENS"]).read_text(encoding="utf-8")
    secrets.update(line for line in issued.splitlines() if line)
    for text in texts:
        for secret in secrets:
            assert secret not in text


def failed(env, result):
    assert result.ok is False
    assert_no_secret(env, result.message, repr(result))
    return result


def raised(env, call, kind=registry.RegistryError):
    with pytest.raises(kind) as info:
        call()
    assert_no_secret(env, str(info.value), repr(info.value), repr(info.value.args))
    return info.value


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_verify_accepts_the_password(env, kind):
    result = registry.verify(login(env, kind), trusted(env))
    assert result == (True, 200, "%s accepted the credential for user %s (%s)"
                      % (host(env, kind), env["REGCRED_REGISTRY_USER"], REGISTRIES[kind][1]))
    assert_no_secret(env, result.message)


def test_verify_refuses_a_wrong_password(env, kind):
    result = failed(env, registry.verify(login(env, kind, WRONG), trusted(env)))
    where = " from the token endpoint " + env["REGCRED_REGISTRY_TOKEN_REALM"] if kind == "bearer" else ""
    assert result == (False, 401, "%s refused the credential for user %s: HTTP 401 UNAUTHORIZED%s (authentication "
                                  "required)" % (host(env, kind), env["REGCRED_REGISTRY_USER"], where))


def test_verify_with_repository_proves_pull_access(env, kind):
    repository = image(env)[0]
    result = registry.verify(login(env, kind), trusted(env), repository=repository)
    assert result.ok is True and result.status == 200
    assert result.message.endswith("(%s) and granted pull access to %s" % (REGISTRIES[kind][1], repository))


def test_verify_with_repository_refuses_a_wrong_password(env, kind):
    result = failed(env, registry.verify(login(env, kind, WRONG), trusted(env), repository=image(env)[0]))
    assert result.status == 401 and " refused the credential for user " in result.message


def authorization(credential, context, scope=None):
    """The Authorization header value verify and head_manifest send (None when the registry needs none)."""
    return registry._Session(credential, context).authorize(scope)[0]


def test_bearer_token_carries_the_scope(env):
    repository = image(env)[0]
    value = authorization(login(env, "bearer"), trusted(env), "repository:%s:pull" % repository)
    scheme, token = value.split(" ", 1)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert scheme == "Bearer"
    assert claims["aud"] == "regcred-registry" and claims["sub"] == env["REGCRED_REGISTRY_USER"]
    assert claims["access"] == [{"type": "repository", "name": repository, "actions": ["pull"]}]
    unscoped = authorization(login(env, "bearer"), trusted(env)).split(" ", 1)[1]
    assert jwt.decode(unscoped, options={"verify_signature": False})["access"] == []


def test_basic_authorization_is_the_credential(env):
    expected = base64.b64encode(("%s:%s" % (env["REGCRED_REGISTRY_USER"],
                                            env["REGCRED_REGISTRY_PASSWORD"])).encode()).decode()
    assert authorization(login(env, "basic"), trusted(env)) == "Basic " + expected


def test_untrusted_certificate_is_named(env, kind):
    result = failed(env, registry.verify(login(env, kind), MintContext(timeout=10)))
    assert result.status is None
    assert result.message.startswith("the TLS certificate of %s could not be verified against the system's "
                                     "trusted CAs (certificate verify failed: " % host(env, kind))
    assert result.message.endswith("set registry_ca_path to the CA file that signed it, or registry_validate_certs "
                                   "to false to skip the check")
    error = raised(env, lambda: registry.head_manifest(login(env, kind), MintContext(timeout=10), *image(env)),
                   registry.RegistryConnectionError)
    assert str(error) == result.message


def test_validate_certs_false_needs_no_ca(env, kind):
    context = MintContext(validate_certs=False, timeout=10)
    assert registry.verify(login(env, kind), context).ok is True
    assert registry.head_manifest(login(env, kind), context, *image(env)) == env["REGCRED_TEST_IMAGE_DIGEST"]


def test_unreadable_ca_path(env, tmp_path):
    missing = tmp_path / "missing.crt"
    result = failed(env, registry.verify(login(env, "basic"), MintContext(ca_path=str(missing))))
    assert result == (False, None, "registry_ca_path: %s cannot be used as a CA file: No such file or directory" % missing)


def test_head_manifest_returns_the_digest(env, kind):
    repository, tag = image(env)
    digest = env["REGCRED_TEST_IMAGE_DIGEST"]
    assert registry.head_manifest(login(env, kind), trusted(env), repository, tag) == digest
    assert registry.head_manifest(login(env, kind), trusted(env), repository, digest) == digest


def test_head_manifest_of_a_missing_tag(env, kind):
    repository = image(env)[0]
    error = raised(env, lambda: registry.head_manifest(login(env, kind), trusted(env), repository, "no-such-tag"))
    assert not isinstance(error, registry.RegistryAuthError)
    assert (error.status, error.code) == (404, "MANIFEST_UNKNOWN")
    assert str(error) == "%s has no manifest %s:no-such-tag: HTTP 404 MANIFEST_UNKNOWN (manifest unknown)" % (
        host(env, kind), repository)


def test_head_manifest_with_a_wrong_password(env, kind):
    error = raised(env, lambda: registry.head_manifest(login(env, kind, WRONG), trusted(env), *image(env)),
                   registry.RegistryAuthError)
    assert error.status == 401 and error.code == "UNAUTHORIZED"
    assert str(error).startswith("%s refused the credential for user " % host(env, kind))


def test_closed_port_names_the_host(env):
    server = "127.0.0.1:%d" % closed_port()
    credential = Credential(server, env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
    message = "could not connect to %s: connection refused" % server
    assert failed(env, registry.verify(credential, trusted(env))) == (False, None, message)
    error = raised(env, lambda: registry.head_manifest(credential, trusted(env), *image(env)),
                   registry.RegistryConnectionError)
    assert (str(error), error.status) == (message, None)


def test_silent_server_times_out(env):
    with socket.socket() as silent:
        # Listening without ever accepting: the TCP connection opens, the TLS handshake never ends.
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        server = "127.0.0.1:%d" % silent.getsockname()[1]
        credential = Credential(server, env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
        result = failed(env, registry.verify(credential, MintContext(ca_path=env["REGCRED_REGISTRY_CA"], timeout=1)))
    assert result == (False, None, "%s timed out: no answer within 1 s; registry_timeout sets how long to wait" % server)


def acr(env, secret=None):
    return Credential(env["REGCRED_AZURE_REGISTRY"], env["REGCRED_AZURE_CLIENT_ID"],
                      env["REGCRED_AZURE_CLIENT_SECRET"] if secret is None else secret)


def test_acr_accepts_the_service_principal(env):
    result = registry.verify(acr(env), MintContext(ca_path=env["REGCRED_AZURE_CA"], timeout=10))
    assert result == (True, 200, "%s accepted the credential for user %s (Bearer token)"
                      % (env["REGCRED_AZURE_REGISTRY"], env["REGCRED_AZURE_CLIENT_ID"]))


def test_acr_refuses_a_wrong_secret(env):
    result = failed(env, registry.verify(acr(env, WRONG), MintContext(ca_path=env["REGCRED_AZURE_CA"], timeout=10)))
    assert result == (False, 401, "%s refused the credential for user %s: HTTP 401 UNAUTHORIZED from the token "
                                  "endpoint https://%s/oauth2/token (authentication required)"
                      % (env["REGCRED_AZURE_REGISTRY"], env["REGCRED_AZURE_CLIENT_ID"],
                         env["REGCRED_AZURE_TOKEN_SERVICE"]))


def test_netrc_login_stays_out_of_the_anonymous_probe(env, tmp_path, monkeypatch):
    # With ~/.netrc honoured, the first /v2/ would carry the good login and look anonymous-friendly.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login %s password %s\n"
                     % (env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"]))
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    result = failed(env, registry.verify(login(env, "basic", WRONG), trusted(env)))
    assert result.status == 401


class Recorder(BaseHTTPRequestHandler):
    """/v2/ asks for Basic auth and sends an authenticated request to ``target``."""

    target = None
    seen = []

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_GET(self):  # pylint: disable=invalid-name
        self.seen.append((self.server.server_address[1], self.headers.get("Authorization")))
        if self.target is None:
            self.send_response(200)
        elif self.headers.get("Authorization"):
            self.send_response(302)
            self.send_header("Location", self.target)
        else:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="r"')
        self.send_header("Content-Length", "0")
        self.end_headers()


def serve(handler, tls):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_redirect_to_another_host_gets_no_authorization(tmp_path):
    authority = trustme.CA()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(tls)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    other = serve(type("Other", (Recorder,), {"seen": []}), tls)
    port = other.server_address[1]
    first = serve(type("First", (Recorder,), {"seen": [], "target": "https://127.0.0.1:%d/v2/" % port}), tls)
    try:
        credential = Credential("127.0.0.1:%d" % first.server_address[1], "alice", WRONG)
        assert registry.verify(credential, MintContext(ca_path=str(tmp_path / "ca.pem"), timeout=10)).ok is True
        assert [seen[1] is not None for seen in first.RequestHandlerClass.seen] == [False, True]
        assert other.RequestHandlerClass.seen == [(port, None)]
    finally:
        for server in (first, other):
            server.shutdown()
            server.server_close()
