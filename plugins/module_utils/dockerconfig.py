# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build, parse, merge and redact ``.dockerconfigjson`` content. Pure: no I/O.

The serialised form is byte-stable (sorted keys, no whitespace), so the same entries always give
the same bytes and an unchanged input never rewrites a Secret. Entries carry the fields the
kubelet reads (``username``, ``password``, ``auth``, ``email``), exactly as
``kubectl create secret docker-registry`` writes them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError
from ansible_collections.regcred.k8s.plugins.module_utils.keyring import index_key

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


class DockerConfigError(InputError):
    """Bad docker config content. ``field`` names where the problem is."""

    def __init__(self, field, message):
        super(DockerConfigError, self).__init__(field, message)
        self.reason = message


def entry(username, password, email=None):
    """One registry entry, with ``auth`` as kubectl computes it."""
    auth = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    result = {"username": username, "password": password, "auth": auth}
    if email:
        result["email"] = email
    return result


def serialize(entries):
    """The byte-stable ``.dockerconfigjson`` for ``{server: entry}``."""
    return serialize_document({"auths": entries})


def serialize_document(doc):
    """The byte-stable form of a whole docker config object."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def normalize_key(key):
    """The registry a key stands for: no scheme, and no leading ``/v1/`` or ``/v2/`` of the path
    nor a path of ``/`` (what the kubelet strips too; ``gcr.io/v1`` keeps its repository path).

    Docker Hub's spellings all become ``docker.io``, so that ``servers: [docker.io]`` finds
    ``https://index.docker.io/v1/``. ``merge_document`` does not use this: the kubelet matches
    the Hub's spellings differently.
    """
    key = key.strip()
    for scheme in ("https://", "http://"):
        if key.lower().startswith(scheme):
            key = key[len(scheme):]
    host, sep, path = key.partition("/")
    path = sep + path
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    host = host.lower()
    if host in _HUB_ALIASES:
        host = "docker.io"
    return host + ("" if path == "/" else path)


def _decode_auth(field, value):
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise DockerConfigError(field, "is not base64 of 'username:password'")
    username, sep, password = decoded.partition(":")
    if not sep:
        raise DockerConfigError(field, "does not decode to 'username:password'")
    return username, password


def _parse_entry(field, raw):
    if not isinstance(raw, dict):
        raise DockerConfigError(field, "must be an object")
    username, password = raw.get("username"), raw.get("password")
    if raw.get("auth") and not isinstance(raw["auth"], str):
        raise DockerConfigError(field + ".auth", "must be a string")
    if raw.get("auth"):
        decoded_user, decoded_password = _decode_auth(field + ".auth", raw["auth"])
        username = username or decoded_user
        password = password or decoded_password
    if not username or password is None or password == "":
        if raw.get("identitytoken") or raw.get("registrytoken"):
            raise DockerConfigError(field, "holds only an identity token, which the kubelet cannot use")
        raise DockerConfigError(field, "has no username and password (nor an 'auth' that holds them)")
    if not isinstance(username, str) or not isinstance(password, str):
        raise DockerConfigError(field, "username and password must be strings")
    return entry(username, password, raw.get("email") or None)


def load(content, source="content"):
    """The JSON object of a docker config (bytes, text or an already decoded value), with an
    ``auths`` object (empty when it has none); DockerConfigError naming ``source`` otherwise."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            raise DockerConfigError(source, "is not UTF-8")
    if isinstance(content, str):
        try:
            doc = json.loads(content)
        except ValueError as exc:
            raise DockerConfigError(source, "is not valid JSON (%s)" % exc)
    else:
        doc = content
    if not isinstance(doc, dict):
        raise DockerConfigError(source, "must be a JSON object")
    if not isinstance(doc.get("auths", {}), dict):
        raise DockerConfigError(source + ".auths", "must be an object")
    return dict(doc, auths=doc.get("auths", {}))


def parse(content, source="content", servers=None):
    """``{server: entry}`` from a docker config (``config.json`` or ``.dockerconfigjson``).

    ``servers`` keeps only those registries (matched after normalisation) and makes each of
    them required. Credential helpers (``credsStore``, ``credHelpers``) hold no copyable
    secret; they are an error when they would have to provide a wanted registry.
    """
    doc = load(content, source)
    auths = doc["auths"]
    raw_helpers = doc.get("credHelpers") or {}
    if not isinstance(raw_helpers, dict):
        raise DockerConfigError(source + ".credHelpers", "must be an object")
    helpers = dict((normalize_key(k), v) for k, v in raw_helpers.items())
    wanted = None if servers is None else dict((normalize_key(s), s) for s in servers)
    result = {}
    for key in sorted(auths):
        if wanted is not None and normalize_key(key) not in wanted:
            continue
        raw = auths[key]
        if isinstance(raw, dict) and not raw and (doc.get("credsStore") or normalize_key(key) in helpers):
            raise DockerConfigError(
                "%s.auths[%s]" % (source, key),
                "is kept by a credential helper (credsStore/credHelpers); its secret is not in "
                "the file and cannot be copied. Log in without a helper, or use another provider")
        result[key] = _parse_entry("%s.auths[%s]" % (source, key), raw)
    if wanted is not None:
        found = set(normalize_key(k) for k in result)
        for norm, original in sorted(wanted.items()):
            if norm in found:
                continue
            if norm in helpers or doc.get("credsStore"):
                raise DockerConfigError(
                    "%s (servers: %s)" % (source, original),
                    "is served by a credential helper (credsStore/credHelpers), which cannot be copied")
            raise DockerConfigError("%s (servers: %s)" % (source, original), "has no entry for it")
    elif not result and (doc.get("credsStore") or helpers):
        raise DockerConfigError(source, "keeps its credentials in a credential helper "
                                        "(credsStore/credHelpers); there is nothing to copy")
    return result


def merge(existing, managed, keep_others):
    """The entries to store: ``managed``, plus (when ``keep_others``) every existing entry for
    a registry that ``managed`` does not cover."""
    if not keep_others:
        return dict(managed)
    covered = set(normalize_key(k) for k in managed)
    result = dict((k, v) for k, v in existing.items() if normalize_key(k) not in covered)
    result.update(managed)
    return result


def merge_document(doc, managed):
    """A new docker config object: ``doc`` (see ``load``) with the ``managed`` entries
    (``{key: entry}``) in its ``auths``.

    An existing entry goes only when the kubelet files its key under the same name as a managed
    key (``keyring.index_key``: ``https://quay.io/`` and ``quay.io`` are one, while
    ``registry-1.docker.io`` and ``https://index.docker.io/v1/`` are not), so every image it
    matched still matches a managed entry. Every other entry and every other top-level key
    (``credsStore``, ``HttpHeaders``...) stays exactly as it was.
    """
    replaced = set(index_key(key) for key in managed)
    auths = dict((key, value) for key, value in doc["auths"].items()
                 if key not in managed and (index_key(key) is None or index_key(key) not in replaced))
    auths.update(managed)
    return dict(doc, auths=auths)


def user_of(raw):
    """The user name a raw entry carries, for reports; None when it has none the kubelet can use."""
    try:
        return _parse_entry("entry", raw)["username"]
    except DockerConfigError:
        return None


def redact(entries):
    """What may be shown of entries: registry, username and email; never a secret."""
    result = {}
    for server, values in entries.items():
        shown = {"username": values.get("username")}
        if values.get("email"):
            shown["email"] = values["email"]
        result[server] = shown
    return result
