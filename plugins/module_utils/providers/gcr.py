# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Google Container Registry and Artifact Registry: a service-account key, as is or base64, or a
one-hour OAuth2 access token minted from it (or from application default credentials)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import functools
import json

from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential, ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.providers import require
from ansible_collections.regcred.k8s.plugins.module_utils.server import check as check_server

_AUTHS = ("json_key", "json_key_base64", "access_token")
# The options this provider reads from a registries[] entry; registries_spec merges every provider's.
OPTIONS = dict(
    server=dict(type="str"),
    auth=dict(type="str", choices=list(_AUTHS)),
    service_account_key_file=dict(type="path"),
    service_account_key=dict(type="raw", no_log=True),
)

# Required by the contract per module; only access_token credentials carry an expiry, json_key
# credentials have expires_at=None, which callers treat as never expiring.

_USERNAMES = {"json_key": "_json_key", "json_key_base64": "_json_key_base64",
              "access_token": "oauth2accesstoken"}
_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_KEY_FIELDS = ("client_email", "private_key", "token_uri")


def _parse_key(text, field):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # The position only: no part of a key may reach an error message.
        raise ProviderError(field, "is not valid JSON (line %d, column %d); is the key truncated?"
                            % (exc.lineno, exc.colno))


def _key(entry, field):
    """``(option field, key text, key dict)`` for the entry's key, or None when it names none.

    The text is what json_key writes: a file or string stripped of surrounding white space, or a
    dictionary serialised byte-stably, so the same key always gives the same password."""
    if entry.get("service_account_key_file") is not None:
        option = field + ".service_account_key_file"
        try:
            with open(entry["service_account_key_file"], encoding="utf-8") as handle:
                text = handle.read().strip()
        except UnicodeDecodeError:
            raise ProviderError(option, "is not UTF-8 text")
        except OSError as exc:
            raise ProviderError(option, "cannot read %s: %s" % (entry["service_account_key_file"],
                                                                exc.strerror or type(exc).__name__))
        info = _parse_key(text, option)
    elif entry.get("service_account_key") is not None:
        option = field + ".service_account_key"
        value = entry["service_account_key"]
        if isinstance(value, dict):
            info = value
            text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        elif isinstance(value, str):
            text = value.strip()
            info = _parse_key(text, option)
        else:
            raise ProviderError(option, "must be a JSON string or a dictionary")
    else:
        return None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ProviderError(option, 'must be a JSON object with "type": "service_account"')
    for name in _KEY_FIELDS:
        if not isinstance(info.get(name), str) or not info[name].strip():
            raise ProviderError(option, "has no %s; is it a complete service-account key?" % name)
    if "-----BEGIN" not in info["private_key"] or "-----END" not in info["private_key"]:
        raise ProviderError(option, "has a private_key that is not a complete PEM key")
    return option, text, info


def validate(entry, field):
    require(entry, field, ["server", "auth"])
    check_server(entry["server"], field + ".server")
    if entry["auth"] not in _AUTHS:
        raise ProviderError(field + ".auth", "must be one of %s for provider gcr" % ", ".join(_AUTHS))
    if entry.get("service_account_key_file") is not None and entry.get("service_account_key") is not None:
        raise ProviderError(field + ".service_account_key",
                            "is mutually exclusive with service_account_key_file")
    if _key(entry, field) is None and entry["auth"] != "access_token":
        raise ProviderError(field + ".service_account_key_file",
                            "auth=%s needs service_account_key_file or service_account_key" % entry["auth"])


def mints_token(entry):
    return entry["auth"] == "access_token"


def identity(entry):
    # Called after validate, so the key loads; the field is only a fallback label.
    key = _key(entry, "registries[]")
    info = key[2] if key else {"client_email": "application-default"}
    return {"provider": entry["provider"], "server": entry["server"], "auth": entry["auth"],
            "client_email": info["client_email"], "private_key_id": info.get("private_key_id")}


def _access_token(key, field, context):
    """``(token, aware expiry)`` from the key, or from application default credentials."""
    import google.auth
    import requests
    from google.auth.exceptions import DefaultCredentialsError, RefreshError, TransportError
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    # Without a key, application default credentials stand in for service_account_key_file.
    option = key[0] if key else field + ".service_account_key_file"
    try:
        if key:
            credentials = service_account.Credentials.from_service_account_info(key[2], scopes=_SCOPES)
        else:
            credentials = google.auth.default(scopes=_SCOPES)[0]
    except DefaultCredentialsError:
        raise ProviderError(option, "no key given and no application default credentials found")
    except ValueError:
        raise ProviderError(option, "has a private_key that cannot be loaded")
    try:
        # google-auth would wait two minutes for the token endpoint. Its TLS trust stays
        # google-auth's own (the system store, REQUESTS_CA_BUNDLE): registry TLS options are for
        # registries, and turning them off must not turn off the check of a token endpoint.
        credentials.refresh(functools.partial(Request(), timeout=context.timeout))
    except RefreshError as exc:
        # args[0] is the endpoint's "error: description"; later args hold the raw response.
        raise ProviderError(option, "the token endpoint refused: %s" % (exc.args[0] if exc.args else exc))
    except TransportError as exc:
        if isinstance(exc.__cause__, requests.Timeout):
            where = key[2]["token_uri"] if key else "of the application default credentials"
            raise ProviderError(option, context.timed_out("the token endpoint " + where))
        raise ProviderError(option, "cannot reach the token endpoint: %s" % exc)
    # google-auth keeps expiry as naive UTC.
    expiry = credentials.expiry.replace(tzinfo=datetime.timezone.utc) if credentials.expiry else None
    return credentials.token, expiry


def mint(entry, field, context):
    key = _key(entry, field)
    auth = entry["auth"]
    expires_at = None
    if auth == "json_key":
        password = key[1]
    elif auth == "json_key_base64":
        password = base64.b64encode(key[1].encode("utf-8")).decode("ascii")
    else:
        password, expires_at = _access_token(key, field, context)
    return [Credential(entry["server"], _USERNAMES[auth], password, None, expires_at, "gcr")]
