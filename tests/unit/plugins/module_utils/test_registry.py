# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""registry.py without I/O: URL and header parsing, and the auth flow against a scripted transport."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import http.client
import json
import socket
import ssl
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import registry
from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext

PASSWORD = "s3cret-Pa55word"
TOKEN = "eyJhbGciOiJFUzI1NiJ9.token-value-0123456789"
BASIC = "Basic " + base64.b64encode(("alice:" + PASSWORD).encode()).decode()
DIGEST = "sha256:" + "ab" * 32
HOST = "reg.example.com:5000"
BASE = "https://" + HOST
REALM = "https://auth.example.com/token"
BEARER_CHALLENGE = 'Bearer realm="%s",service="reg.example.com"' % REALM
MANIFEST_ERROR = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
UNAUTHORIZED = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}


# --- registry_url ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key, url", [
    ("https://index.docker.io/v1/", "https://registry-1.docker.io"),
    ("docker.io", "https://registry-1.docker.io"),
    ("index.docker.io", "https://registry-1.docker.io"),
    ("registry-1.docker.io", "https://registry-1.docker.io"),
    ("https://registry-1.docker.io/v2/", "https://registry-1.docker.io"),
    ("Docker.IO", "https://registry-1.docker.io"),
    ("127.0.0.1:5000", "https://127.0.0.1:5000"),
    ("https://127.0.0.1:5000/v2/", "https://127.0.0.1:5000"),
    ("http://registry.local:8080/v1/", "https://registry.local:8080"),
    ("ghcr.io", "https://ghcr.io"),
    ("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
    ("us-docker.pkg.dev/my-project/repo", "https://us-docker.pkg.dev"),
    ("gcr.io/my-project", "https://gcr.io"),
    ("  MyRegistry.AzureCR.io/  ", "https://myregistry.azurecr.io"),
    ("[::1]:5000", "https://[::1]:5000"),
    ("10.0.0.7", "https://10.0.0.7"),
])
def test_registry_url(key, url):
    assert registry.registry_url(key) == url


@pytest.mark.parametrize("key", ["", "https://", "/v2/", "  "])
def test_registry_url_without_host(key):
    with pytest.raises(ValueError, match="names no registry host"):
        registry.registry_url(key)


# --- repository_path ------------------------------------------------------------------------------

@pytest.mark.parametrize("server, repository, path", [
    ("https://index.docker.io/v1/", "nginx", "library/nginx"),
    ("docker.io", "library/nginx", "library/nginx"),
    ("docker.io", "bitnami/redis", "bitnami/redis"),
    ("127.0.0.1:5000", "hello", "hello"),
    ("ghcr.io", "org/team/app.v2_x-y", "org/team/app.v2_x-y"),
])
def test_repository_path(server, repository, path):
    assert registry.repository_path(server, repository) == path


@pytest.mark.parametrize("repository", [
    "", "Upper/case", "127.0.0.1:5000/regcred/hello", "regcred/hello:v1", "a//b", "/a", "a/", "../x",
    "a?b", "a b", None])
def test_repository_path_rejects(repository):
    with pytest.raises(ValueError, match="is not a repository path"):
        registry.repository_path("ghcr.io", repository)


# --- parse_challenge ------------------------------------------------------------------------------

@pytest.mark.parametrize("header, scheme, params", [
    ('Basic realm="regcred-basic"', "basic", {"realm": "regcred-basic"}),
    ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
     'scope="repository:library/nginx:pull,push"',
     "bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                "scope": "repository:library/nginx:pull,push"}),
    ('Bearer realm="https://r/token",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"',
     "bearer", {"realm": "https://r/token", "scope": "repository:a:pull,push repository:b:pull",
                "error": "insufficient_scope"}),
    ("Bearer", "bearer", {}),
    ("Basic   ", "basic", {}),
    ('BEARER Realm="https://r/token", SERVICE=reg', "bearer", {"realm": "https://r/token", "service": "reg"}),
    ('bAsIc REALM="x"', "basic", {"realm": "x"}),
    ('Bearer realm = "https://r/t" , service = "s"', "bearer", {"realm": "https://r/t", "service": "s"}),
    ('Basic realm="say \\"hi\\", then \\\\ go"', "basic", {"realm": 'say "hi", then \\ go'}),
    ('Bearer realm="https://r/token",service=""', "bearer", {"realm": "https://r/token", "service": ""}),
    ('Bearer realm="a,b", Basic realm="c"', "bearer", {"realm": "a,b"}),
    ('Bearer\trealm="a", Basic\trealm="c"', "bearer", {"realm": "a"}),
    ('Bearer realm="https://r/t",,novalue,service="s"', "bearer", {"realm": "https://r/t", "service": "s"}),
    ("", "", {}),
    (None, "", {}),
])
def test_parse_challenge(header, scheme, params):
    assert registry.parse_challenge(header) == (scheme, params)


# --- error_fields ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body, fields", [
    (json.dumps(MANIFEST_ERROR).encode(), ("MANIFEST_UNKNOWN", "manifest unknown")),
    (b'{"error": "invalid_client", "error_description": "AADSTS7000215"}', ("invalid_client", "AADSTS7000215")),
    (b'{"details": "incorrect username or password"}', (None, "incorrect username or password")),
    (b'{"errors": []}', (None, None)),
    (b'{"errors": [{"code": 7}]}', (None, None)),
    (b"<html>Bad gateway</html>", (None, None)),
    (b"[1, 2]", (None, None)),
    (b"\xff\xfe", (None, None)),
    (b"", (None, None)),
])
def test_error_fields(body, fields):
    assert registry.error_fields(body) == fields


# --- the flow, against a scripted transport -------------------------------------------------------

def headers(*pairs):
    message = http.client.HTTPMessage()
    for name, value in pairs:
        message[name] = value
    return message


def answer(status, body=b"", *pairs):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    return registry._Answer(status, http.client.responses.get(status, ""), headers(*pairs), body)


class Script:
    """Canned answers by (method, URL without query); records every request it is sent."""

    def __init__(self, routes):
        self.routes = routes
        self.sent = []
        self.context = None
        self.posted = None

    def __call__(self, context):
        self.context = context
        return self

    def send(self, method, url, request_headers, data=None):
        self.sent.append((method, url, dict(request_headers)))
        if data is not None:
            self.posted = data
        parts = urlsplit(url)
        key = (method, "%s://%s%s" % (parts.scheme, parts.netloc, parts.path))
        reply = self.routes[key]
        return reply(request_headers) if callable(reply) else reply


def credential(server=HOST):
    return Credential(server, "alice", PASSWORD)


def scripted(monkeypatch, routes):
    script = Script(routes)
    monkeypatch.setattr(registry, "_Transport", script)
    return script


def assert_no_secret(*texts):
    for text in texts:
        for secret in (PASSWORD, TOKEN, BASIC, BASIC.split()[1]):
            assert secret not in text


def v2(anonymous, expected_authorization, refusal=None):
    """/v2/: ``anonymous`` without Authorization, 200 with the expected value, ``refusal`` otherwise."""
    def reply(request_headers):
        value = request_headers.get("Authorization")
        if value is None:
            return anonymous
        if value == expected_authorization:
            return answer(200, {})
        return refusal or answer(401, {"errors": [{"code": "UNAUTHORIZED"}]})
    return reply


def challenge(*values, body=b""):
    return answer(401, body, *(("WWW-Authenticate", value) for value in values))


@pytest.fixture(name="basic_registry")
def basic_registry_fixture(monkeypatch):
    anonymous = challenge('Basic realm="reg"', body=UNAUTHORIZED)
    return scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(anonymous, BASIC)})


def token_reply(body):
    def reply(request_headers):
        if request_headers.get("Authorization") != BASIC:
            return answer(401, UNAUTHORIZED)
        return answer(200, body)
    return reply


@pytest.fixture(name="bearer_registry")
def bearer_registry_fixture(monkeypatch):
    # A realm without the OAuth2 POST (404), as GCR's: the GET request follows.
    return scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(challenge(BEARER_CHALLENGE), "Bearer " + TOKEN),
                                  ("POST", REALM): answer(404),
                                  ("GET", REALM): token_reply({"token": TOKEN, "expires_in": 300})})


def authorization(credential, context, scope=None):
    """The Authorization header value verify and head_manifest send (None when the registry needs none)."""
    return registry._Session(credential, context).authorize(scope)[0]


def test_basic_ok(basic_registry):
    result = registry.verify(credential(), MintContext())
    assert result == (True, 200, "%s accepted the credential for user alice (Basic auth)" % HOST)
    assert [s[2].get("Authorization") for s in basic_registry.sent] == [None, BASIC]
    assert authorization(credential(), MintContext()) == BASIC


def test_bearer_ok_with_scope(bearer_registry):
    bearer_registry.routes[("HEAD", BASE + "/v2/team/app/manifests/" + registry.PROBE_TAG)] = answer(404)
    bearer_registry.routes[("GET", BASE + "/v2/team/app/manifests/" + registry.PROBE_TAG)] = answer(
        404, MANIFEST_ERROR)
    result = registry.verify(credential(), MintContext(), repository="team/app")
    assert result == (True, 200, "%s accepted the credential for user alice (Bearer token) and granted "
                                 "pull access to team/app" % HOST)
    assert bearer_registry.sent[1][:2] == ("POST", REALM)
    method, url, sent = bearer_registry.sent[2]
    assert (method, url.split("?")[0], sent["Authorization"]) == ("GET", REALM, BASIC)
    assert parse_qs(urlsplit(url).query) == {"service": ["reg.example.com"], "scope": ["repository:team/app:pull"]}
    assert bearer_registry.sent[3][2]["Authorization"] == "Bearer " + TOKEN
    probe = bearer_registry.sent[4]
    assert probe[0] == "HEAD" and probe[2]["Authorization"] == "Bearer " + TOKEN
    assert probe[2]["Accept"].split(", ") == list(registry.MANIFEST_MEDIA_TYPES)


@pytest.mark.parametrize("head, get", [
    (answer(200, b"", ("Docker-Content-Digest", DIGEST)), None),
    (answer(404), answer(404, {"errors": [{"code": "NOT_FOUND", "message": "artifact not found"}]})),
])
def test_pull_probe_accepts_any_readable_answer(bearer_registry, head, get):
    url = BASE + "/v2/team/app/manifests/" + registry.PROBE_TAG
    bearer_registry.routes[("HEAD", url)] = head
    bearer_registry.routes[("GET", url)] = get
    assert registry.verify(credential(), MintContext(), "team/app").ok is True


def test_bearer_access_token_and_realm_query(monkeypatch):
    anonymous = challenge('Bearer realm="https://auth.example.com/token?tenant=a"')
    script = scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(anonymous, "Bearer " + TOKEN),
                                    ("POST", REALM): answer(405),
                                    ("GET", REALM): token_reply({"access_token": TOKEN})})
    assert authorization(credential(), MintContext(), "repository:x:pull") == "Bearer " + TOKEN
    assert parse_qs(urlsplit(script.sent[2][1]).query) == {"tenant": ["a"], "scope": ["repository:x:pull"]}


def test_the_oauth2_password_grant_is_tried_first(monkeypatch):
    script = scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(challenge(BEARER_CHALLENGE), "Bearer " + TOKEN),
                                    ("POST", REALM): answer(200, {"access_token": TOKEN, "expires_in": 300})})
    assert authorization(credential(), MintContext(), "repository:x:pull") == "Bearer " + TOKEN
    method, url, sent = script.sent[1]
    assert (method, url, sent["Content-Type"], "Authorization" in sent) == (
        "POST", REALM, "application/x-www-form-urlencoded", False)
    assert [s[0] for s in script.sent] == ["GET", "POST", "GET"]


@pytest.mark.parametrize("status", [400, 401, 404, 405])
def test_the_get_token_request_follows_a_refused_grant(monkeypatch, status):
    script = scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(challenge(BEARER_CHALLENGE), "Bearer " + TOKEN),
                                    ("POST", REALM): answer(status, {"error": "unsupported_grant_type"}),
                                    ("GET", REALM): token_reply({"token": TOKEN})})
    assert authorization(credential(), MintContext(), "repository:x:pull") == "Bearer " + TOKEN
    assert [s[0] for s in script.sent] == ["GET", "POST", "GET", "GET"]


def test_a_failing_grant_endpoint_is_a_refusal(monkeypatch):
    scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(challenge(BEARER_CHALLENGE), "Bearer " + TOKEN),
                           ("POST", REALM): answer(503, {"error": "unavailable"})})
    error = failure(lambda: authorization(credential(), MintContext(), "repository:x:pull"))
    assert error.status == 503 and "token endpoint" in str(error)


def test_an_anonymous_v2_leaves_the_challenge_to_the_manifest_request(monkeypatch):
    url = BASE + "/v2/team/app/manifests/v1"

    def manifest(request_headers):
        if request_headers.get("Authorization") == "Bearer " + TOKEN:
            return answer(200, b"", ("Docker-Content-Digest", DIGEST))
        return challenge(BEARER_CHALLENGE, body=UNAUTHORIZED)

    script = scripted(monkeypatch, {("GET", BASE + "/v2/"): answer(200, {}), ("HEAD", url): manifest,
                                    ("POST", REALM): answer(200, {"access_token": TOKEN})})
    assert registry.head_manifest(credential(), MintContext(), "team/app", "v1") == DIGEST
    assert [s[0] for s in script.sent] == ["GET", "HEAD", "POST", "HEAD"]
    assert parse_qs(script.posted.decode())["scope"] == ["repository:team/app:pull"]


def test_an_html_404_leaves_the_credential_unknown(bearer_registry):
    url = BASE + "/v2/team/app/manifests/v1"
    bearer_registry.routes[("HEAD", url)] = answer(404)
    bearer_registry.routes[("GET", url)] = answer(404, b"<html><body>Not Found</body></html>",
                                                  ("Content-Type", "text/html"))
    error = failure(lambda: registry.head_manifest(credential(), MintContext(), "team/app", "v1"))
    assert (error.status, error.code) == (404, None)
    assert "without a registry error" in str(error) and "unknown" in str(error)
    probe = BASE + "/v2/team/app/manifests/" + registry.PROBE_TAG
    bearer_registry.routes[("HEAD", probe)] = answer(404)
    bearer_registry.routes[("GET", probe)] = answer(404, b"<html></html>")
    result = registry.verify(credential(), MintContext(), "team/app")
    assert result.ok is False and "unknown" in result.message


def test_anonymous_registry(monkeypatch):
    scripted(monkeypatch, {("GET", BASE + "/v2/"): answer(200, {})})
    result = registry.verify(credential(), MintContext(), repository="team/app")
    assert result.ok is True and result.status == 200
    assert result.message == ("%s answers without authentication, so the credential for user alice cannot be "
                              "verified there" % HOST)
    assert authorization(credential(), MintContext()) is None


def test_docker_hub_bare_name_gets_library(monkeypatch):
    hub = "https://registry-1.docker.io"
    script = scripted(monkeypatch, {
        ("GET", hub + "/v2/"): v2(challenge(BEARER_CHALLENGE), "Bearer " + TOKEN),
        ("POST", REALM): answer(404),
        ("GET", REALM): token_reply({"token": TOKEN}),
        ("HEAD", hub + "/v2/library/nginx/manifests/1.27"): answer(200, b"", ("Docker-Content-Digest", DIGEST))})
    assert registry.head_manifest(credential("https://index.docker.io/v1/"), MintContext(), "nginx", "1.27") == DIGEST
    assert parse_qs(urlsplit(script.sent[2][1]).query)["scope"] == ["repository:library/nginx:pull"]


def test_head_manifest_by_digest(bearer_registry):
    bearer_registry.routes[("HEAD", BASE + "/v2/team/app/manifests/" + DIGEST)] = answer(
        200, b"", ("Docker-Content-Digest", DIGEST))
    assert registry.head_manifest(credential(), MintContext(), "team/app", DIGEST) == DIGEST


@pytest.mark.parametrize("reference", ["", "-v1", "v1/x", "sha256:abc", "a" * 129, None, "v1?x=1"])
def test_head_manifest_rejects_reference(reference):
    with pytest.raises(ValueError, match="neither a tag nor a digest"):
        registry.head_manifest(credential(), MintContext(), "team/app", reference)


# --- every failure path: the right error, and no secret in message, exception or repr ------------

def failure(call):
    """The RegistryError that ``call`` raises, after checking it holds no secret."""
    with pytest.raises(registry.RegistryError) as info:
        call()
    assert_no_secret(str(info.value), repr(info.value), repr(info.value.args))
    return info.value


def refused_result(result):
    assert result.ok is False
    assert_no_secret(result.message, repr(result))
    return result


def test_basic_refused(basic_registry):
    basic_registry.routes[("GET", BASE + "/v2/")] = v2(challenge('Basic realm="reg"', body=UNAUTHORIZED), "Basic x")
    result = refused_result(registry.verify(credential(), MintContext()))
    assert result == (False, 401, "%s refused the credential for user alice: HTTP 401 UNAUTHORIZED" % HOST)
    assert basic_registry.sent[1][2]["Authorization"] == BASIC
    error = failure(lambda: authorization(credential(), MintContext()))
    assert isinstance(error, registry.RegistryAuthError) and (error.status, error.code) == (401, "UNAUTHORIZED")


def test_token_endpoint_refuses_and_echoes_secrets(bearer_registry):
    echo = {"errors": [{"code": "DENIED", "message": "bad password %s for header %s" % (PASSWORD, BASIC)}]}
    bearer_registry.routes[("GET", REALM)] = answer(401, echo)
    result = refused_result(registry.verify(credential(), MintContext()))
    assert result.status == 401
    assert result.message == ("%s refused the credential for user alice: HTTP 401 DENIED from the token endpoint "
                              "%s (bad password ******** for header Basic ********)" % (HOST, REALM))
    assert failure(lambda: authorization(credential(), MintContext())).code == "DENIED"


def test_secrets_echoed_in_code_and_reason_are_masked(bearer_registry):
    bearer_registry.routes[("GET", REALM)] = answer(401, {"errors": [{"code": "BAD_" + PASSWORD}]})
    error = failure(lambda: authorization(credential(), MintContext()))
    assert error.code == "BAD_********"
    bearer_registry.routes[("GET", REALM)] = registry._Answer(403, "Forbidden " + BASIC, headers(), b"")
    error = failure(lambda: authorization(credential(), MintContext()))
    assert error.code is None
    assert str(error).endswith(": HTTP 403 Forbidden Basic ******** from the token endpoint %s" % REALM)


@pytest.mark.parametrize("body", [{"expires_in": 300}, {"token": ""}, {"token": 7}, b"not json", [TOKEN]])
def test_token_endpoint_without_token(bearer_registry, body):
    bearer_registry.routes[("GET", REALM)] = answer(200, body)
    result = refused_result(registry.verify(credential(), MintContext()))
    assert result == (False, 200, "the token endpoint %s of %s answered without a token" % (REALM, HOST))


def test_registry_rejects_issued_token(bearer_registry):
    bearer_registry.routes[("GET", BASE + "/v2/")] = v2(challenge(BEARER_CHALLENGE), "Bearer another")
    result = refused_result(registry.verify(credential(), MintContext()))
    assert result == (False, 401, "%s refused the credential for user alice: HTTP 401 UNAUTHORIZED for the token "
                                  "from %s" % (HOST, REALM))


@pytest.mark.parametrize("realm", ["http://auth.example.com/token", "", "/token", "ftp://x/token"])
def test_realm_must_be_https(monkeypatch, realm):
    anonymous = challenge('Bearer realm="%s",service="s"' % realm)
    script = scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(anonymous, "unused")})
    error = failure(lambda: authorization(credential(), MintContext()))
    assert isinstance(error, registry.RegistryAuthError)
    assert str(error) == "%s names the token realm %r; the credential is sent only to an https:// realm" % (
        HOST, realm)
    assert len(script.sent) == 1


def test_unsupported_challenge(monkeypatch):
    script = scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(challenge("Negotiate", 'Digest realm="x"'), "unused")})
    result = refused_result(registry.verify(credential(), MintContext()))
    assert result == (False, 401, "%s asks for authentication without a Basic or Bearer challenge "
                                  "(negotiate, digest)" % HOST)
    script.routes[("GET", BASE + "/v2/")] = v2(challenge(), "unused")
    assert "(none)" in refused_result(registry.verify(credential(), MintContext())).message


def test_second_challenge_header_is_used(monkeypatch):
    scripted(monkeypatch, {("GET", BASE + "/v2/"): v2(challenge("Negotiate", 'Basic realm="x"'), BASIC)})
    assert authorization(credential(), MintContext()) == BASIC


def test_not_a_registry(monkeypatch):
    scripted(monkeypatch, {("GET", BASE + "/v2/"): answer(404, b"<html>" + b"x" * 500 + b"</html>")})
    result = refused_result(registry.verify(credential(), MintContext()))
    assert result == (False, 404, "%s answered /v2/ with HTTP 404 Not Found; is it a Docker registry?" % HOST)


def test_pull_refused(bearer_registry):
    denied = answer(401, b"", ("WWW-Authenticate", BEARER_CHALLENGE + ',error="insufficient_scope"'))
    bearer_registry.routes[("HEAD", BASE + "/v2/team/app/manifests/" + registry.PROBE_TAG)] = denied
    result = refused_result(registry.verify(credential(), MintContext(), "team/app"))
    assert result == (False, 401, "%s refused pull access to team/app for user alice: HTTP 401 Unauthorized" % HOST)
    bearer_registry.routes[("HEAD", BASE + "/v2/team/app/manifests/v1")] = denied
    error = failure(lambda: registry.head_manifest(credential(), MintContext(), "team/app", "v1"))
    assert isinstance(error, registry.RegistryAuthError) and error.status == 401


def test_pull_probe_missing_repository(bearer_registry):
    url = BASE + "/v2/team/app/manifests/" + registry.PROBE_TAG
    bearer_registry.routes[("HEAD", url)] = answer(404)
    bearer_registry.routes[("GET", url)] = answer(404, {"errors": [{"code": "NAME_UNKNOWN",
                                                                    "message": "repository name not known"}]})
    result = refused_result(registry.verify(credential(), MintContext(), "team/app"))
    assert result == (False, 404, "%s has no repository team/app: HTTP 404 NAME_UNKNOWN (repository name not "
                                  "known)" % HOST)


def test_pull_probe_other_status(bearer_registry):
    bearer_registry.routes[("HEAD", BASE + "/v2/team/app/manifests/" + registry.PROBE_TAG)] = answer(503)
    result = refused_result(registry.verify(credential(), MintContext(), "team/app"))
    assert result == (False, 503, "%s could not send the manifest of team/app:%s: HTTP 503 Service Unavailable"
                      % (HOST, registry.PROBE_TAG))


def test_head_manifest_unknown(bearer_registry):
    url = BASE + "/v2/team/app/manifests/" + DIGEST
    bearer_registry.routes[("HEAD", url)] = answer(404)
    bearer_registry.routes[("GET", url)] = answer(404, MANIFEST_ERROR)
    error = failure(lambda: registry.head_manifest(credential(), MintContext(), "team/app", DIGEST))
    assert type(error) is registry.RegistryError  # pylint: disable=unidiomatic-typecheck
    assert (error.status, error.code) == (404, "MANIFEST_UNKNOWN")
    assert str(error) == "%s has no manifest team/app@%s: HTTP 404 MANIFEST_UNKNOWN (manifest unknown)" % (
        HOST, DIGEST)
    assert [s[0] for s in bearer_registry.sent[-2:]] == ["HEAD", "GET"]


def test_head_manifest_without_digest_header(bearer_registry):
    bearer_registry.routes[("HEAD", BASE + "/v2/team/app/manifests/v1")] = answer(200)
    error = failure(lambda: registry.head_manifest(credential(), MintContext(), "team/app", "v1"))
    assert (error.status, str(error)) == (
        200, "%s sent the manifest of team/app:v1 without a Docker-Content-Digest header" % HOST)


def test_head_manifest_refused_credential(bearer_registry):
    bearer_registry.routes[("GET", REALM)] = answer(401, {"details": "incorrect username or password"})
    error = failure(lambda: registry.head_manifest(credential(), MintContext(), "team/app", "v1"))
    assert isinstance(error, registry.RegistryAuthError)
    assert str(error) == ("%s refused the credential for user alice: HTTP 401 Unauthorized from the token endpoint "
                          "%s (incorrect username or password)" % (HOST, REALM))


def test_server_text_is_one_bounded_line(basic_registry):
    noisy = {"errors": [{"code": "UNAUTHORIZED", "message": "line one\n\tline two " + "y" * 400}]}
    basic_registry.routes[("GET", BASE + "/v2/")] = v2(challenge('Basic realm="x"'), "other", answer(401, noisy))
    message = refused_result(registry.verify(credential(), MintContext())).message
    assert "\n" not in message and "line one line two yyy" in message
    assert message.endswith("...)") and len(message) < 300


# --- connection failures --------------------------------------------------------------------------

def cert_error(text):
    error = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error.verify_message = text
    return error


def tls_error(reason):
    error = ssl.SSLError(1, "[SSL: %s] handshake failure" % reason)
    error.reason = reason
    return error


@pytest.mark.parametrize("cause, ca_path, message", [
    (cert_error("unable to get local issuer certificate"), None,
     "the TLS certificate of h:1 could not be verified against the system's trusted CAs (certificate verify "
     "failed: unable to get local issuer certificate); set registry_ca_path to the CA file that signed it, or "
     "registry_validate_certs to false to skip the check"),
    (cert_error("self-signed certificate"), "/etc/ca.pem",
     "the TLS certificate of h:1 could not be verified against the CA file /etc/ca.pem (certificate verify "
     "failed: self-signed certificate); set registry_ca_path to the CA file that signed it, or "
     "registry_validate_certs to false to skip the check"),
    (tls_error("WRONG_VERSION_NUMBER"), None,
     "the TLS handshake with h:1 failed (WRONG_VERSION_NUMBER); is it an HTTPS port?"),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), None,
     "the TLS handshake with h:1 failed ([SSL: WRONG_VERSION_NUMBER] wrong version number); is it an HTTPS port?"),
    (socket.timeout("timed out"), None, "h:1 timed out: no answer within 7 s; registry_timeout sets how long to wait"),
    (TimeoutError(110, "Connection timed out"), None,
     "h:1 timed out: no answer within 7 s; registry_timeout sets how long to wait"),
    (ConnectionRefusedError(111, "Connection refused"), None, "could not connect to h:1: connection refused"),
    (socket.gaierror(-2, "Name or service not known"), None,
     "could not resolve the host of h:1: Name or service not known"),
    (ConnectionResetError(104, "Connection reset by peer"), None,
     "could not connect to h:1: [Errno 104] Connection reset by peer"),
    ("unknown url type: ftp", None, "could not connect to h:1: unknown url type: ftp"),
])
def test_connection_failure_messages(monkeypatch, cause, ca_path, message):
    # Skip the CA file check, which reads the file: only the wording is under test here.
    monkeypatch.setattr(registry.ssl, "create_default_context", lambda cafile: None)
    transport = registry._Transport(MintContext(ca_path=ca_path, timeout=7))
    error = transport._failure("h:1", cause)
    assert isinstance(error, registry.RegistryConnectionError)
    assert (str(error), error.status, error.code) == (message, None, None)


def test_timeout_names_the_option_and_attempts():
    error = registry._Transport(MintContext(timeout=0.5))._failure("h:1", socket.timeout())
    assert str(error) == "h:1 timed out: no answer within 0.5 s; registry_timeout sets how long to wait"
    assert MintContext(timeout=2).timed_out("the AWS endpoint e", 2) == (
        "the AWS endpoint e timed out: no answer within 2 s (2 attempts); registry_timeout sets how long to wait")


def test_connection_failure_reaches_verify(monkeypatch):
    class Down:
        def __init__(self, context):
            self.context = context

        def send(self, method, url, request_headers):
            raise registry.RegistryConnectionError("could not connect to %s: connection refused" % HOST)

    monkeypatch.setattr(registry, "_Transport", Down)
    assert registry.verify(credential(), MintContext()) == (
        False, None, "could not connect to %s: connection refused" % HOST)
    error = failure(lambda: registry.head_manifest(credential(), MintContext(), "team/app", "v1"))
    assert isinstance(error, registry.RegistryConnectionError)


def test_results_and_errors_are_plain():
    result = registry.VerifyResult(True, 200, "fine")
    assert result._asdict() == {"ok": True, "status": 200, "message": "fine"}
    error = registry.RegistryAuthError("no", 401, "DENIED")
    assert isinstance(error, registry.RegistryError) and (error.status, error.code) == (401, "DENIED")
    assert issubclass(registry.RegistryConnectionError, registry.RegistryError)


# --- anonymous_pull --------------------------------------------------------------------------------
def anonymous_registry(monkeypatch, token_answer, granted):
    """A Bearer registry whose manifest answers 200 to the token ``granted`` or nothing else."""
    url = BASE + "/v2/team/app/manifests/v1"

    def manifest(request_headers):
        if request_headers.get("Authorization") == "Bearer " + TOKEN and granted:
            return answer(200, b"", ("Docker-Content-Digest", DIGEST))
        return challenge(BEARER_CHALLENGE, body=UNAUTHORIZED)

    return scripted(monkeypatch, {("HEAD", url): manifest, ("GET", REALM): token_answer})


@pytest.mark.parametrize("granted, public", [(True, True), (False, False)])
def test_anonymous_pull_asks_the_realm_without_credentials(monkeypatch, granted, public):
    script = anonymous_registry(monkeypatch, answer(200, {"token": TOKEN}), granted)
    assert registry.anonymous_pull(MintContext(), HOST, "team/app", "v1") is public
    assert [(method, "Authorization" in sent) for method, url, sent in script.sent] == [
        ("HEAD", False), ("GET", False), ("HEAD", True)]
    assert parse_qs(urlsplit(script.sent[1][1]).query) == {"service": ["reg.example.com"],
                                                           "scope": ["repository:team/app:pull"]}


def test_anonymous_pull_refused_by_the_token_endpoint_or_a_basic_challenge(monkeypatch):
    anonymous_registry(monkeypatch, answer(401, UNAUTHORIZED), True)
    assert registry.anonymous_pull(MintContext(), HOST, "team/app", "v1") is False
    scripted(monkeypatch, {("HEAD", BASE + "/v2/team/app/manifests/v1"): challenge('Basic realm="reg"')})
    assert registry.anonymous_pull(MintContext(), HOST, "team/app", "v1") is False


def test_anonymous_pull_of_an_open_registry_and_its_errors(monkeypatch):
    url = BASE + "/v2/team/app/manifests/v1"
    scripted(monkeypatch, {("HEAD", url): answer(200, b"", ("Docker-Content-Digest", DIGEST))})
    assert registry.anonymous_pull(MintContext(), HOST, "team/app", "v1") is True
    scripted(monkeypatch, {("HEAD", url): answer(404), ("GET", url): answer(404, MANIFEST_ERROR)})
    error = failure(lambda: registry.anonymous_pull(MintContext(), HOST, "team/app", "v1"))
    assert (error.status, error.code) == (404, "MANIFEST_UNKNOWN")
