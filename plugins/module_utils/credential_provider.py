# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet image credential provider plugin of the collection
(``credentialprovider.kubelet.k8s.io/v1``). Pure: the plugin's executable reads the request, its
credentials file and any docker config files, and hands their text to these functions.

The credentials file is JSON, written by the ``kubelet_credential_provider`` role, readable by
root alone::

    {"credentials": [
        {"provider": "basic", "server": "registry.example.com", "username": "u", "password": "p",
         "name": "team-a", "namespaces": ["team-a"], "expires_at": "2026-12-01T00:00:00Z"},
        {"provider": "dockerhub", "username": "u", "password": "p"},
        {"provider": "docker_config", "path": "/root/.docker/config.json", "servers": ["ghcr.io"]}],
     "service_account_annotation": "regcred.k8s/credential",
     "service_account_audience": "regcred-credential-provider"}

For an image, the plugin answers with every login whose key the kubelet would match to it
(keyring.lookup, the kubelet's own matching), keyed as configured: the kubelet matches the
answer's keys against the image again. The answer is cached per image (``cacheKeyType: Image``),
so a login for ``quay.io/team-a`` is never reused for ``quay.io/team-b``; ``cacheDuration``
ends a minute before the earliest expiry of the logins given, and is ``0s`` (not cached) when a
login has already expired or none matched.

In service-account-token mode (``service_account_annotation`` set) the kubelet passes the pod's
ServiceAccount token and the annotations its config names. Only logins whose ``name`` equals the
ServiceAccount's annotation are given, and only when the token's audiences hold
``service_account_audience`` (when set); a login with ``namespaces`` is given only when the token
was issued for a ServiceAccount in one of them, so that one team cannot name another team's login
on its own ServiceAccount. The token comes from the kubelet, which requested it from the API
server, so its claims are read without checking its signature. Without that mode, a login with
``namespaces`` is never given: the plugin cannot tell the pod's namespace.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import collections
import datetime
import json

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig, keyring
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError

API_VERSION = "credentialprovider.kubelet.k8s.io/v1"
PROVIDERS = ("basic", "dockerhub", "docker_config")
# A login is not handed out for caching closer than this to its expiry.
EXPIRY_MARGIN = datetime.timedelta(minutes=1)
_SOURCE_FIELDS = {
    "basic": ("server", "username", "password"),
    "dockerhub": ("username", "password"),
    "docker_config": ("path",),
}
_OPTIONAL_FIELDS = ("provider", "name", "namespaces", "expires_at", "servers")


class Login(collections.namedtuple("Login", ("key", "username", "password", "name", "namespaces", "expires_at"))):
    """One registry login of the credentials file; ``key`` is its registry key."""

    __slots__ = ()

    def __repr__(self):
        # Never show the password, not even in a traceback.
        return "Login(key=%r, username=%r, name=%r)" % (self.key, self.username, self.name)


Request = collections.namedtuple("Request", ("image", "token", "annotations"))


class PluginConfig(collections.namedtuple("PluginConfig", ("sources", "annotation", "audience"))):
    """``sources``: the validated entries of ``credentials``; ``annotation``: the ServiceAccount
    annotation key of service-account-token mode, or None; ``audience``: the audience its tokens
    must carry, or None."""

    __slots__ = ()

    def docker_config_paths(self):
        """The docker config files the executable must read, in order."""
        return [s["path"] for s in self.sources if s["provider"] == "docker_config"]


def check_file_mode(path, mode, owner, euid):
    """InputError unless ``path`` (st_mode, st_uid) is owned by the plugin's user and readable by
    nobody else: it holds passwords."""
    if owner != euid:
        raise InputError(path, "must be owned by uid %d (the kubelet's user), not uid %d" % (euid, owner))
    if mode & 0o077:
        raise InputError(path, "must not be accessible by group or others (mode %04o); use 0600" % (mode & 0o7777))


def _string(value, field):
    if not isinstance(value, str) or not value:
        raise InputError(field, "must be a non-empty string")
    return value


def _strings(value, field):
    if not isinstance(value, list) or not value:
        raise InputError(field, "must be a non-empty list of strings")
    return [_string(item, "%s[%d]" % (field, index)) for index, item in enumerate(value)]


def parse_time(value, field):
    """An RFC 3339 time with a zone (``Z`` or an offset) as an aware datetime."""
    text = _string(value, field)
    try:
        parsed = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InputError(field, "%r is not an RFC 3339 time with a zone, such as 2026-12-01T00:00:00Z" % (text[:40],))
    return parsed


def _source(raw, field):
    if not isinstance(raw, dict):
        raise InputError(field, "must be an object")
    provider = raw.get("provider")
    if provider not in PROVIDERS:
        raise InputError(field + ".provider", "must be one of %s" % ", ".join(PROVIDERS))
    unknown = sorted(set(raw) - set(_SOURCE_FIELDS[provider]) - set(_OPTIONAL_FIELDS) - {"server"})
    if unknown:
        raise InputError(field, "has unknown fields: %s" % ", ".join(unknown))
    source = {"provider": provider, "name": None, "namespaces": None, "expires_at": None, "servers": None}
    for name in _SOURCE_FIELDS[provider]:
        source[name] = _string(raw.get(name), "%s.%s" % (field, name))
    if provider == "dockerhub" and raw.get("server") not in (None, dockerconfig.DOCKER_HUB_KEY):
        raise InputError(field + ".server", "must be left out for provider dockerhub")
    if provider == "docker_config" and raw.get("server") is not None:
        raise InputError(field + ".server", "is not used by provider docker_config; use servers")
    if provider != "docker_config" and ":" in source["username"]:
        raise InputError(field + ".username", "must not contain ':'")
    if raw.get("name") is not None:
        source["name"] = _string(raw["name"], field + ".name")
    for name in ("namespaces", "servers"):
        if raw.get(name) is not None:
            source[name] = _strings(raw[name], "%s.%s" % (field, name))
    if raw.get("servers") is not None and provider != "docker_config":
        raise InputError(field + ".servers", "is only used by provider docker_config")
    if raw.get("expires_at") is not None:
        source["expires_at"] = parse_time(raw["expires_at"], field + ".expires_at")
    return source


def parse_config(text, source="credentials file"):
    """The PluginConfig of the credentials file's text; InputError naming the field otherwise.
    No message holds a password."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise InputError(source, "is not valid JSON")
    if not isinstance(doc, dict):
        raise InputError(source, "must be a JSON object")
    unknown = sorted(set(doc) - {"credentials", "service_account_annotation", "service_account_audience"})
    if unknown:
        raise InputError(source, "has unknown fields: %s" % ", ".join(unknown))
    raw = doc.get("credentials")
    if not isinstance(raw, list):
        raise InputError("credentials", "must be a list")
    sources = [_source(item, "credentials[%d]" % index) for index, item in enumerate(raw)]
    annotation, audience = doc.get("service_account_annotation"), doc.get("service_account_audience")
    if annotation is not None:
        _string(annotation, "service_account_annotation")
    if audience is not None:
        _string(audience, "service_account_audience")
        if annotation is None:
            raise InputError("service_account_audience", "needs service_account_annotation (service-account-token mode)")
    return PluginConfig(sources, annotation, audience)


def logins(config, docker_configs):
    """Every Login of the config, in its order. ``docker_configs`` maps each of
    config.docker_config_paths() to the file's text."""
    found = []
    for index, source in enumerate(config.sources):
        common = (source["name"], source["namespaces"], source["expires_at"])
        if source["provider"] == "docker_config":
            entries = dockerconfig.parse(docker_configs[source["path"]], "credentials[%d].path (%s)" % (index, source["path"]),
                                         source["servers"])
            found.extend(Login(key, e["username"], e["password"], *common) for key, e in sorted(entries.items()))
        else:
            key = dockerconfig.DOCKER_HUB_KEY if source["provider"] == "dockerhub" else source["server"]
            found.append(Login(key, source["username"], source["password"], *common))
    return found


def token_claims(token):
    """The claims of a ServiceAccount token (a JWT) as a dict; empty when it is none."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_namespace(token):
    """The namespace claim (``kubernetes.io.namespace``) of a ServiceAccount token, or None."""
    scope = token_claims(token).get("kubernetes.io")
    namespace = scope.get("namespace") if isinstance(scope, dict) else None
    return namespace if isinstance(namespace, str) else None


def token_audiences(token):
    """The ``aud`` claim of a ServiceAccount token as a list (a JWT may give one string)."""
    audiences = token_claims(token).get("aud")
    if isinstance(audiences, str):
        return [audiences]
    if isinstance(audiences, list):
        return [a for a in audiences if isinstance(a, str)]
    return []


def parse_request(text):
    """The Request of a CredentialProviderRequest's JSON text."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise InputError("request", "is not valid JSON")
    if not isinstance(doc, dict) or doc.get("kind") != "CredentialProviderRequest":
        raise InputError("request", "must be a CredentialProviderRequest object")
    if doc.get("apiVersion") != API_VERSION:
        raise InputError("request.apiVersion", "must be %s, not %r" % (API_VERSION, doc.get("apiVersion")))
    image = keyring.parse_image(doc.get("image"), "request.image")
    annotations = doc.get("serviceAccountAnnotations")
    annotations = {} if annotations is None else annotations
    if not isinstance(annotations, dict):
        raise InputError("request.serviceAccountAnnotations", "must be an object")
    return Request(image, doc.get("serviceAccountToken") or None, annotations)


def allowed(login, config, request):
    """Whether ``login`` may be given for ``request`` (see the module's text)."""
    if config.annotation is not None and (login.name is None or login.name != request.annotations.get(config.annotation)):
        return False
    if config.audience is not None and config.audience not in token_audiences(request.token):
        return False
    return login.namespaces is None or token_namespace(request.token) in login.namespaces


def go_duration(delta):
    """A non-negative timedelta in whole seconds as a Go duration (``3540s``)."""
    return "%ds" % max(0, int(delta.total_seconds()))


def respond(config, all_logins, request, now):
    """The CredentialProviderResponse (a dict) for ``request`` at ``now`` (an aware datetime)."""
    candidates = [(login.key, login) for login in all_logins if allowed(login, config, request)]
    chosen = collections.OrderedDict()
    for key, login in keyring.lookup(candidates, request.image, ignore_case=False):
        chosen.setdefault(key, login)
    response = {"apiVersion": API_VERSION, "kind": "CredentialProviderResponse", "cacheKeyType": "Image",
                "auth": dict((key, {"username": login.username, "password": login.password})
                             for key, login in chosen.items())}
    expiries = [login.expires_at for login in chosen.values() if login.expires_at is not None]
    if not chosen:
        response["cacheDuration"] = "0s"
    elif expiries:
        response["cacheDuration"] = go_duration(min(expiries) - now - EXPIRY_MARGIN)
    return response


def render(response):
    """The response as the JSON line the kubelet reads."""
    return json.dumps(response, sort_keys=True, separators=(",", ":")) + "\n"
