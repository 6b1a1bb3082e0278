# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pod's pull Secret read exactly as the kubelet reads it (``MakeDockerKeyring`` of
``pkg/credentialprovider/secrets`` and ``DockerConfigEntry.UnmarshalJSON``). Pure.

What the kubelet does, and so what this does:

- a ``kubernetes.io/dockerconfigjson`` Secret is read from ``.dockerconfigjson`` and a
  ``kubernetes.io/dockercfg`` one from ``.dockercfg``; any other type, or an empty or missing key,
  leaves the Secret unused without an error;
- the JSON is decoded as Go's encoding/json decodes it into the kubelet's types: field names match
  case-insensitively (``"Auths"``, ``"AUTH"``), unknown fields are skipped, ``null`` leaves a field
  as it was, invalid UTF-8 becomes U+FFFD, and a value of the wrong type is an error;
- an entry's ``auth``, when not empty, is decoded last and replaces ``username`` and ``password``;
  it is padded base64 when it ends with ``=`` and unpadded base64 otherwise;
- an entry without any credential (``{}``) is kept, with an empty user name and password;
- any error in any Secret of the pod makes the kubelet fail the whole pull with that error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import collections
import json
import re

from ansible_collections.regcred.k8s.plugins.module_utils import gostd
from ansible_collections.regcred.k8s.plugins.module_utils.dockerconfig import DockerConfigError

JSON_TYPE, JSON_KEY = "kubernetes.io/dockerconfigjson", ".dockerconfigjson"
LEGACY_TYPE, LEGACY_KEY = "kubernetes.io/dockercfg", ".dockercfg"
AUTH_FORMAT = "unable to parse auth field, must be formatted as base64(username:password)"
_SURROGATE = re.compile(u"[\ud800-\udfff]")


class Entry(collections.namedtuple("Entry", ("username", "password", "email"))):
    """The credential of one key. Bytes that ``auth`` decodes to and that are not UTF-8 are kept
    as surrogate escapes; show them through shown()."""

    __slots__ = ()


def shown(text):
    """A user name fit to report: undecodable bytes as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class _Object(list):
    """A JSON object as its (key, value) pairs, in order and with duplicates."""


class _TypeError(Exception):
    pass


def _kind(value):
    if isinstance(value, _Object):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "bool" if isinstance(value, bool) else "number"


def _mismatch(value, target):
    return _TypeError("json: cannot unmarshal %s into Go %s" % (_kind(value), target))


def _fold(name):
    """encoding/json's foldName: ASCII upper case; U+017F and U+212A fold to S and K."""
    return u"".join(c.upper() if c < u"\x80" else {u"\u017f": u"S", u"\u212a": u"K"}.get(c, c) for c in name)


def _go_string(text):
    """A decoded JSON string as Go holds it: a lone surrogate escape becomes U+FFFD."""
    return _SURROGATE.sub(u"\ufffd", text)


def _fields(document, names):
    """(field name, value) for each member of ``document`` that Go stores into one of ``names``."""
    folded = dict((_fold(name), name) for name in names)
    for key, value in document:
        name = folded.get(_fold(_go_string(key)))
        if name:
            yield name, value


def _reject_constant(name):
    raise ValueError("invalid character %r looking for beginning of value" % name[0])


def _load(raw):
    try:
        return json.loads(gostd.go_text(raw), object_pairs_hook=_Object, parse_constant=_reject_constant,
                          parse_int=lambda text: 0, parse_float=lambda text: 0)
    except RecursionError:
        raise ValueError("exceeded max depth")


def _decode_auth(field):
    padded = gostd.trim_space(field).endswith(u"=")
    try:
        decoded = gostd.b64decode(field.encode("utf-8"), padded)
    except gostd.GoError as exc:
        raise _TypeError(str(exc))
    username, colon, password = decoded.partition(b":")
    if not colon:
        raise _TypeError(AUTH_FORMAT)
    return username.decode("utf-8", "surrogateescape"), password.decode("utf-8", "surrogateescape")


def _entry(value):
    """DockerConfigEntry.UnmarshalJSON."""
    if value is None:
        return Entry(u"", u"", u"")
    if not isinstance(value, _Object):
        raise _mismatch(value, "value of type credentialprovider.dockerConfigEntryWithAuth")
    found = {"username": u"", "password": u"", "email": u"", "auth": u""}
    for name, item in _fields(value, found):
        if item is None:
            continue
        if not isinstance(item, str):
            raise _mismatch(item, "struct field dockerConfigEntryWithAuth.%s of type string" % name)
        found[name] = _go_string(item)
    if found["auth"]:
        found["username"], found["password"] = _decode_auth(found["auth"])
    return Entry(found["username"], found["password"], found["email"])


def _auths(value, into, target):
    """Decode a DockerConfig (``{key: entry}``) into ``into``; None when ``value`` is null."""
    if value is None:
        return None
    if not isinstance(value, _Object):
        raise _mismatch(value, target)
    into = collections.OrderedDict() if into is None else into
    for key, item in value:
        into[_go_string(key)] = _entry(item)
    return into


def _config_json(document):
    """DockerConfigJSON: its auths, as json.Unmarshal fills them."""
    if document is None:
        return None
    if not isinstance(document, _Object):
        raise _mismatch(document, "value of type credentialprovider.DockerConfigJSON")
    auths = None
    for name, value in _fields(document, ("auths", "HttpHeaders")):
        if name == "auths":
            auths = _auths(value, auths, "struct field DockerConfigJSON.auths of type credentialprovider.DockerConfig")
        elif value is not None:
            if not isinstance(value, _Object):
                raise _mismatch(value, "struct field DockerConfigJSON.HttpHeaders of type map[string]string")
            for item in (v for k, v in value if v is not None and not isinstance(v, str)):
                raise _mismatch(item, "struct field DockerConfigJSON.HttpHeaders of type string")
    return auths


def _config(document):
    """DockerConfig, the whole of a legacy ``.dockercfg``."""
    return _auths(document, None, "value of type credentialprovider.DockerConfig")


def data_bytes(secret, key):
    """The decoded bytes of a Secret's ``data[key]``, or None when it has none; DockerConfigError
    naming the key when the value is not base64. Every reader of Secret data decodes here."""
    value = (secret.get("data") or {}).get(key)
    if not value:
        return None
    try:
        return base64.b64decode(value)
    except (TypeError, ValueError):
        raise DockerConfigError("data[%s]" % key, "is not base64")


def read(secret):
    """``(used, {key: Entry})`` for one Secret of a pod, as the kubelet reads it: ``used`` is False
    when the kubelet skips the Secret. Raises DockerConfigError, naming the data key, when the
    kubelet fails the pull because of this Secret."""
    kind, data = secret.get("type"), secret.get("data") or {}
    if kind == JSON_TYPE and data.get(JSON_KEY):
        key, decode = JSON_KEY, _config_json
    elif kind == LEGACY_TYPE and data.get(LEGACY_KEY):
        key, decode = LEGACY_KEY, _config
    else:
        return False, {}
    field = "data[%s]" % key
    raw = data_bytes(secret, key)
    try:
        document = _load(raw)
    except ValueError as exc:
        raise DockerConfigError(field, "is not valid JSON (%s)" % exc)
    try:
        return True, dict(decode(document) or {})
    except _TypeError as exc:
        raise DockerConfigError(field, str(exc))
