# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker Registry v2 authentication: prove that a credential works, and read manifest digests.

The flow is the token spec's (https://distribution.github.io/distribution/spec/auth/token/), as
containerd follows it when the kubelet asks it to pull: ask ``/v2/`` anonymously; a Basic
challenge is answered with the credential itself, a Bearer challenge with a token that the realm
issues for the credential and the requested scope. The token is asked for first with the OAuth2
password grant (a POST, https://distribution.github.io/distribution/spec/auth/oauth/) and, when
the realm answers that with 400, 401, 404 or 405, with a GET and Basic auth. When ``/v2/``
answers without authentication, the challenge comes from the 401 of the manifest request itself.
Registries are always spoken to over HTTPS.

No message, exception or repr made here contains a password, a token or an Authorization value:
callers show them to users and Ansible logs them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import http.client
import json
import re
import socket
import ssl
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import parse_http_list

from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential
from ansible_collections.regcred.k8s.plugins.module_utils.dockerconfig import normalize_key
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, RegistryError

DOCKER_HUB_URL = "https://registry-1.docker.io"
# Without the index types a registry answers for a multi-platform image with one platform's
# manifest; with them it gives the index digest, the one `docker pull` records.
MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
# GET /v2/ succeeds with any valid token, whatever its scope, so it cannot show pull access. Asking
# for the manifest of a tag nobody pushes can: a registry that lets us read answers 404, one that
# does not answers 401/403. HEAD downloads nothing and does not count against Docker Hub's limits.
PROBE_TAG = "regcred-k8s-pull-probe"
# A 404 means "credential accepted, no such manifest" only with one of these registry error
# codes in its body (distribution's spec, and NOT_FOUND of registries such as Harbor); a 404
# without one, such as a proxy's HTML page, says nothing about the credential.
MISSING_CODES = ("MANIFEST_UNKNOWN", "NAME_UNKNOWN", "NOT_FOUND")
# What containerd sends as client_id in its OAuth2 password grant.
OAUTH_CLIENT_ID = "regcred-k8s"
# The POST answers with which containerd falls back to the GET token request.
_GRANT_FALLBACK = (400, 401, 404, 405)
# Error and token bodies are small; the bound keeps a misbehaving server from filling memory.
_MAX_BODY = 1 << 20
_MAX_TEXT = 200
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(r"%s(?:/%s)*" % (_COMPONENT, _COMPONENT))
_TAG = re.compile(r"\w[\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")


class RegistryAuthError(RegistryError):
    """The registry refused the credential or its access, or its authentication cannot be followed."""


class RegistryConnectionError(RegistryError):
    """No HTTP answer: refused connection, timeout, TLS failure, unusable ``ca_path``."""


class VerifyResult(collections.namedtuple("VerifyResult", ("ok", "status", "message"))):
    """What ``verify`` found; ``message`` is one sentence fit to show."""

    __slots__ = ()


def registry_url(server_key):
    """The API base URL for a ``.dockerconfigjson`` key: ``https://HOST[:PORT]``, without a path.

    Docker Hub's spellings all lead to ``registry-1.docker.io``, the host its API lives on. Keys
    with ``http://`` still get HTTPS, because credentials are never sent in the clear.
    """
    host = normalize_key(server_key).partition("/")[0]
    if not host:
        raise InputError("server", "%r names no registry host" % (server_key,), prefixed=False)
    return DOCKER_HUB_URL if host == "docker.io" else "https://" + host


def repository_path(server_key, repository):
    """The repository name as the registry API expects it.

    Docker Hub keeps official images under ``library/``, which ``docker pull`` adds to a bare
    name; the API does not.
    """
    if not isinstance(repository, str) or not _NAME.fullmatch(repository):
        raise InputError("repository", "repository %r is not a repository path such as 'team/app' (lower case, "
                                       "without the registry host, tag or digest)" % (repository,), prefixed=False)
    if registry_url(server_key) == DOCKER_HUB_URL and "/" not in repository:
        return "library/" + repository
    return repository


def parse_challenge(header):
    """``(scheme, params)`` of a ``WWW-Authenticate`` value.

    The scheme and the parameter names are lower-cased (both are case-insensitive); values are
    unquoted. Only the first challenge is read when the header holds several.
    """
    parts = (header or "").strip().split(None, 1)
    if not parts:
        return "", {}
    params = {}
    for item in parse_http_list(parts[1] if len(parts) > 1 else ""):
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        if len(name.split()) > 1:
            # "Basic realm=..." after a comma starts the next challenge.
            break
        if not sep or not name:
            continue
        value = value.strip()
        if len(value) > 1 and value[0] == value[-1] == '"':
            # parse_http_list has already undone the backslash escapes inside the quotes.
            value = value[1:-1]
        params[name] = value
    return parts[0].lower(), params


def error_fields(body):
    """``(code, message)`` from an error body: the distribution format's ``errors[0]``, an OAuth2
    ``error``/``error_description``, or Docker Hub's ``details``. Either may be None."""
    try:
        document = json.loads(body.decode("utf-8"))
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    errors = document.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return _text(errors[0].get("code")), _text(errors[0].get("message"))
    return _text(document.get("error")), _text(document.get("error_description") or document.get("details"))


def _text(value):
    return value if isinstance(value, str) and value else None


def _pull_scope(path):
    return "repository:%s:pull" % path


def _image(path, reference):
    return "%s%s%s" % (path, "@" if ":" in reference else ":", reference)


def verify(credential, context, repository=None):
    """Whether the registry accepts ``credential``, as a VerifyResult. Registry and network trouble
    is reported in the result; only a malformed server key or ``repository`` raises ValueError.

    With ``repository`` the token is requested for ``repository:NAME:pull`` and pull access is
    shown by reading a manifest of that repository.
    """
    path = repository_path(credential.server, repository) if repository else None
    try:
        session = _Session(credential, context)
        value, label = session.authorize(_pull_scope(path) if path else None)
        if value is None:
            return VerifyResult(True, 200, "%s answers without authentication, so the credential for user %s "
                                           "cannot be verified there" % (session.host, credential.username))
        if path:
            session.check_pull(path, value)
    except RegistryError as exc:
        return VerifyResult(False, exc.status, str(exc))
    return VerifyResult(True, 200, "%s accepted the credential for user %s (%s)%s" % (
        session.host, credential.username, label, " and granted pull access to " + path if path else ""))


def head_manifest(credential, context, repository, reference):
    """The digest of ``repository:reference`` (a tag or a digest), from the registry's
    ``Docker-Content-Digest`` header. Raises RegistryAuthError when access is refused and
    RegistryError, with the registry's status and error code, for anything else."""
    if not isinstance(reference, str) or not (_TAG.fullmatch(reference) or _DIGEST.fullmatch(reference)):
        raise InputError("reference", "reference %r is neither a tag nor a digest" % (reference,), prefixed=False)
    path = repository_path(credential.server, repository)
    session = _Session(credential, context)
    value = session.authorize(_pull_scope(path))[0]
    answer = session.manifest(path, reference, value)
    if answer.status == 401 and value is None:
        # /v2/ is anonymous but the manifest is not: answer the manifest's own challenge.
        value = session.respond(answer, _pull_scope(path), check=False)[0]
        answer = session.manifest(path, reference, value)
    if answer.status != 200:
        raise session.manifest_error(answer, path, reference)
    digest = answer.headers.get("Docker-Content-Digest")
    if not digest:
        raise RegistryError("%s sent the manifest of %s without a Docker-Content-Digest header"
                            % (session.host, _image(path, reference)), 200)
    return digest


def anonymous_pull(context, server, repository, reference):
    """Whether the registry sends the manifest of ``repository:reference`` to anyone, asked as
    containerd asks without credentials: the manifest, and on a Bearer challenge a token from its
    realm requested without authentication. True on 200; False when the registry or its token
    endpoint refuses (HTTP 401 or 403, or a Basic challenge); RegistryError for anything else."""
    path = repository_path(server, repository)
    session = _Session(Credential(server, "", ""), context)
    answer = session.manifest(path, reference, None)
    if answer.status == 401:
        challenges = [parse_challenge(header) for header in answer.headers.get_all("WWW-Authenticate") or []]
        scheme, params = next((c for c in challenges if c[0] == "bearer"), ("", {}))
        if scheme != "bearer":
            return False
        try:
            token = session.token(params, _pull_scope(path), anonymous=True)[0]
        except RegistryAuthError as exc:
            if exc.status in (401, 403):
                return False
            raise
        answer = session.manifest(path, reference, "Bearer " + token)
    if answer.status == 200:
        return True
    if answer.status in (401, 403):
        return False
    raise session.manifest_error(answer, path, reference)


_Answer = collections.namedtuple("_Answer", ("status", "reason", "headers", "body"))


class _Transport:
    """Sends one request. Every HTTP answer, error statuses included, comes back as an _Answer;
    no answer at all raises RegistryConnectionError."""

    def __init__(self, context):
        self.context = context
        self.validate_certs = context.validate_certs
        self.ca_path = context.ca_path
        self.timeout = context.timeout
        if self.ca_path:
            # open_url would fail on each request with a bare OpenSSL or file error; name the option once.
            try:
                ssl.create_default_context(cafile=self.ca_path)
            except OSError as exc:
                raise RegistryConnectionError("registry_ca_path: %s cannot be used as a CA file: %s"
                                              % (self.ca_path, exc.strerror or exc)) from None

    def send(self, method, url, headers, data=None):
        # ansible's urls is imported where a registry is called, not with this file: it loads the
        # cryptography package, a large part of the start-up of every task that calls none.
        from ansible.module_utils.urls import open_url  # pylint: disable=import-outside-toplevel
        host = urlsplit(url).netloc
        try:
            # Authorization stays off redirects: they may lead to blob storage or a CDN on another
            # host. use_netrc=False keeps ~/.netrc logins out of the anonymous probe.
            response = open_url(url, data=data, method=method, headers=headers, validate_certs=self.validate_certs,
                                ca_path=self.ca_path, timeout=self.timeout, use_netrc=False,
                                unredirected_headers=["Authorization"])
            with response:
                return _Answer(response.status, response.reason, response.headers, response.read(_MAX_BODY))
        except HTTPError as exc:
            try:
                body = exc.read(_MAX_BODY)
            except (OSError, http.client.HTTPException):
                body = b""
            return _Answer(exc.code, exc.reason, exc.headers, body)
        except URLError as exc:
            raise self._failure(host, exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._failure(host, exc) from None

    def _failure(self, host, cause):
        if isinstance(cause, ssl.SSLCertVerificationError):
            against = "the CA file %s" % self.ca_path if self.ca_path else "the system's trusted CAs"
            # registry_*: validate_certs and ca_cert are the apiserver's, and would not help.
            return RegistryConnectionError(
                "the TLS certificate of %s could not be verified against %s (certificate verify failed: %s); "
                "set registry_ca_path to the CA file that signed it, or registry_validate_certs to false to "
                "skip the check" % (host, against, cause.verify_message))
        if isinstance(cause, ssl.SSLError):
            return RegistryConnectionError("the TLS handshake with %s failed (%s); is it an HTTPS port?"
                                           % (host, getattr(cause, "reason", None) or cause))
        if isinstance(cause, (socket.timeout, TimeoutError)):
            return RegistryConnectionError(self.context.timed_out(host))
        if isinstance(cause, ConnectionRefusedError):
            return RegistryConnectionError("could not connect to %s: connection refused" % host)
        if isinstance(cause, socket.gaierror):
            return RegistryConnectionError("could not resolve the host of %s: %s" % (host, cause.strerror))
        return RegistryConnectionError("could not connect to %s: %s" % (host, cause))


class _Session:
    """One credential against one registry."""

    def __init__(self, credential, context):
        self.credential = credential
        self.base = registry_url(credential.server)
        self.host = urlsplit(self.base).netloc
        self.transport = _Transport(context)
        from ansible.module_utils.urls import basic_auth_header  # pylint: disable=import-outside-toplevel
        self.basic = basic_auth_header(credential.username, credential.password).decode("ascii")
        # Servers may echo what they were sent; these are masked in any text of theirs we repeat.
        self.secrets = [credential.password, self.basic.split(" ", 1)[1]]

    def get(self, url, credentials=None, method="GET", accept=None):
        headers = {"Accept": accept} if accept else {}
        if credentials:
            headers["Authorization"] = credentials
        return self.transport.send(method, url, headers)

    def authorize(self, scope):
        """``(header value, label)``; ``(None, None)`` when ``/v2/`` needs no authentication."""
        answer = self.get(self.base + "/v2/")
        if answer.status == 200:
            return None, None
        if answer.status != 401:
            raise RegistryError("%s answered /v2/ with %s; is it a Docker registry?"
                                % (self.host, self.detail(answer)), answer.status, self.code(answer))
        return self.respond(answer, scope)

    def respond(self, challenged, scope, check=True):
        """``(header value, label)`` that answers the challenge of a 401; with ``check``, shown to
        work by asking ``/v2/`` with it."""
        challenges = [parse_challenge(header) for header in challenged.headers.get_all("WWW-Authenticate") or []]
        scheme, params = next((c for c in challenges if c[0] in ("basic", "bearer")), ("", {}))
        if scheme == "basic":
            value, label, where = self.basic, "Basic auth", ""
        elif scheme == "bearer":
            token, endpoint = self.token(params, scope)
            value, label, where = "Bearer " + token, "Bearer token", "for the token from " + endpoint
        else:
            raise RegistryAuthError("%s asks for authentication without a Basic or Bearer challenge (%s)"
                                    % (self.host, self.clean(", ".join(c[0] for c in challenges)) or "none"), 401)
        if check:
            proof = self.get(self.base + "/v2/", value)
            if proof.status != 200:
                raise RegistryAuthError(self.refused(proof, where), proof.status, self.code(proof))
        return value, label

    def token(self, params, scope, anonymous=False):
        """``(token, endpoint)`` from the Bearer challenge's realm; ``anonymous`` asks with a GET
        that carries no credential."""
        realm = params.get("realm") or ""
        parts = urlsplit(realm)
        if parts.scheme != "https" or not parts.netloc:
            raise RegistryAuthError("%s names the token realm %r; the credential is sent only to an https:// realm"
                                    % (self.host, self.clean(realm)), 401)
        endpoint = urlunsplit(parts._replace(query="", fragment=""))
        wanted = [(k, v) for k, v in (("service", params.get("service")), ("scope", scope)) if v]
        query = urlencode(wanted)
        url = urlunsplit(parts._replace(query="&".join(q for q in (parts.query, query) if q)))
        if anonymous:
            answer = self.get(url)
        else:
            grant = [("grant_type", "password"), ("client_id", OAUTH_CLIENT_ID), ("username", self.credential.username),
                     ("password", self.credential.password)] + wanted
            answer = self.transport.send("POST", realm, {"Content-Type": "application/x-www-form-urlencoded"},
                                         urlencode(grant).encode("utf-8"))
            if answer.status in _GRANT_FALLBACK:
                answer = self.get(url, self.basic)
        if answer.status != 200:
            raise RegistryAuthError(self.refused(answer, "from the token endpoint " + endpoint), answer.status,
                                    self.code(answer))
        try:
            document = json.loads(answer.body.decode("utf-8"))
        except ValueError:
            document = None
        token = (document.get("token") or document.get("access_token")) if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryAuthError("the token endpoint %s of %s answered without a token" % (endpoint, self.host),
                                    answer.status)
        self.secrets.append(token)
        return token, endpoint

    def manifest(self, path, reference, credentials):
        url = "%s/v2/%s/manifests/%s" % (self.base, path, reference)
        accept = ", ".join(MANIFEST_MEDIA_TYPES)
        answer = self.get(url, credentials, method="HEAD", accept=accept)
        if answer.status == 404:
            # A HEAD answer has no body, and only the body tells a missing tag from a missing repository.
            answer = self.get(url, credentials, accept=accept)
        return answer

    def check_pull(self, path, credentials):
        answer = self.manifest(path, PROBE_TAG, credentials)
        code = self.code(answer)
        if answer.status == 200 or (answer.status == 404 and code in MISSING_CODES and code != "NAME_UNKNOWN"):
            return
        if answer.status == 404 and code == "NAME_UNKNOWN":
            raise RegistryError("%s has no repository %s: %s" % (self.host, path, self.detail(answer)), 404, code)
        raise self.manifest_error(answer, path, PROBE_TAG)

    def manifest_error(self, answer, path, reference):
        code = self.code(answer)
        if answer.status in (401, 403):
            return RegistryAuthError("%s refused pull access to %s for user %s: %s" % (
                self.host, path, self.credential.username, self.detail(answer)), answer.status, code)
        if answer.status == 404 and code not in MISSING_CODES:
            return RegistryError("%s answered HTTP 404 for the manifest of %s without a registry error (%s), so "
                                 "whether the credential works is unknown; is a proxy in front of the registry?" % (
                                     self.host, _image(path, reference), self.detail(answer)), 404, code)
        return RegistryError("%s %s %s: %s" % (
            self.host, "has no manifest" if answer.status == 404 else "could not send the manifest of",
            _image(path, reference), self.detail(answer)), answer.status, code)

    def refused(self, answer, where):
        return "%s refused the credential for user %s: %s" % (
            self.host, self.credential.username, self.detail(answer, where))

    def code(self, answer):
        return self.clean(error_fields(answer.body)[0]) or None

    def detail(self, answer, where=""):
        """``HTTP 401 UNAUTHORIZED [where] (the server's message)``."""
        words = " ".join(w for w in ("HTTP %s" % answer.status, self.code(answer) or self.clean(answer.reason), where)
                         if w)
        message = self.clean(error_fields(answer.body)[1])
        return "%s (%s)" % (words, message) if message else words

    def clean(self, text):
        """Server-supplied text, fit to repeat: secrets masked, one line, bounded."""
        text = text or ""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "********")
        text = " ".join(text.split())
        return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 3] + "..."
