# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Google Container Registry and Artifact Registry: a service-account key, as is or base64, or a
one-hour OAuth2 access token minted from any credential file google-auth loads (or from
application default credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server)."""

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
_SERVICE_ACCOUNT = "service_account"
# The credential files google-auth loads for an access token, each with the fields its loader
# needs (google/auth/_default.py, _load_credentials_from_info; the loaders are named in _load).
_TYPE_FIELDS = {
    _SERVICE_ACCOUNT: ("client_email", "private_key", "token_uri"),
    "authorized_user": ("client_id", "client_secret", "refresh_token"),
    "external_account": ("audience", "subject_token_type", "token_url"),
    "external_account_authorized_user": ("client_id", "client_secret", "refresh_token", "token_url"),
    "impersonated_service_account": ("service_account_impersonation_url",),
}
_IMPERSONATION_SOURCES = (_SERVICE_ACCOUNT, "authorized_user", "external_account_authorized_user")
_NESTED = {"external_account": "credential_source", "impersonated_service_account": "source_credentials"}


def _parse_key(text, field):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # The position only: no part of a key may reach an error message.
        raise ProviderError(field, "is not valid JSON (line %d, column %d); is the key truncated?"
                            % (exc.lineno, exc.colno))


def _check_fields(info, option, kind, within=""):
    """ProviderError naming ``option`` for a field the loader of ``kind`` needs and ``info`` lacks;
    ``within`` prefixes the names of a nested credential's fields ("source_credentials.")."""
    what = "service-account key" if kind == _SERVICE_ACCOUNT else "%s credential file" % kind
    for name in _TYPE_FIELDS[kind]:
        if not isinstance(info.get(name), str) or not info[name].strip():
            raise ProviderError(option, "has no %s%s; is it a complete %s?" % (within, name, what))
    if kind in _NESTED and not isinstance(info.get(_NESTED[kind]), dict):
        raise ProviderError(option, "has no %s%s object; is it a complete %s?" % (within, _NESTED[kind], what))
    if kind == _SERVICE_ACCOUNT and ("-----BEGIN" not in info["private_key"] or "-----END" not in info["private_key"]):
        raise ProviderError(option, "has a %sprivate_key that is not a complete PEM key" % within)
    if kind == "impersonated_service_account":
        source = info["source_credentials"]
        kind = _credential_type(source, option, "source_credentials.")
        if kind not in _IMPERSONATION_SOURCES:
            # google/auth/impersonated_credentials.py, from_impersonated_service_account_info
            raise ProviderError(option, 'has a source_credentials."type" google-auth cannot impersonate from; it '
                                        'takes %s' % ", ".join(_IMPERSONATION_SOURCES))
        _check_fields(source, option, kind, "source_credentials.")


def _credential_type(info, option, within=""):
    kind = info.get("type") if isinstance(info, dict) else None
    if kind not in _TYPE_FIELDS:
        raise ProviderError(option, 'must be a JSON object whose %s"type" is one of %s'
                            % (within, ", ".join(sorted(_TYPE_FIELDS))))
    return kind


def _key(entry, field):
    """``(option field, key text, key dict)`` for the entry's credential file, or None when it
    names none.

    The text is what json_key writes: a file or string stripped of surrounding white space, or a
    dictionary serialised byte-stably, so the same key always gives the same password. json_key
    and json_key_base64 take a service-account key only: that is what the registry accepts for
    ``_json_key``; access_token takes any credential file in _TYPE_FIELDS."""
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
    if entry["auth"] != "access_token" and (not isinstance(info, dict) or info.get("type") != _SERVICE_ACCOUNT):
        raise ProviderError(option, 'must be a JSON object with "type": "service_account" for auth=%s (the registry '
                                    'takes only a service-account key as %s); use auth=access_token for other '
                                    'credential files' % (entry["auth"], _USERNAMES[entry["auth"]]))
    _check_fields(info, option, _credential_type(info, option))
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


def _impersonated(url):
    """The service account a generateAccessToken URL names (".../serviceAccounts/EMAIL:generateAccessToken")."""
    return url.rpartition("/")[2].partition(":generateAccessToken")[0] if url else None


def _source(info):
    """Who the credential file speaks for, without any secret: the account, the client, the pool."""
    kind = info["type"]
    if kind == _SERVICE_ACCOUNT:
        return {"client_email": info["client_email"], "private_key_id": info.get("private_key_id")}
    if kind == "impersonated_service_account":
        source = info["source_credentials"]
        return {"credential_type": kind, "impersonate": _impersonated(info["service_account_impersonation_url"]),
                "source": dict(_source(source), credential_type=source["type"])}
    if kind == "external_account":
        return {"credential_type": kind, "audience": info["audience"], "subject_token_type": info["subject_token_type"],
                "impersonate": _impersonated(info.get("service_account_impersonation_url"))}
    # authorized_user, external_account_authorized_user: an OAuth client and a user's refresh token.
    return {"credential_type": kind, "client_id": info["client_id"], "audience": info.get("audience"),
            "account": info.get("account")}


def identity(entry):
    """A service-account key is named as it was before other credential files were taken (its
    client_email and private_key_id, no type), so Secrets minted from it stay fresh."""
    # Called after validate, so the key loads; the field is only a fallback label.
    key = _key(entry, "registries[]")
    source = _source(key[2]) if key else {"client_email": "application-default", "private_key_id": None}
    return dict(source, provider=entry["provider"], server=entry["server"], auth=entry["auth"])


def _load(info):
    """google-auth's loader for the file's type: each validates its own fields."""
    kind = info["type"]
    if kind == _SERVICE_ACCOUNT:
        from google.oauth2 import service_account
        return service_account.Credentials.from_service_account_info(info, scopes=_SCOPES)
    if kind == "authorized_user":
        from google.oauth2 import credentials
        return credentials.Credentials.from_authorized_user_info(info, scopes=_SCOPES)
    if kind == "impersonated_service_account":
        from google.auth import impersonated_credentials
        return impersonated_credentials.Credentials.from_impersonated_service_account_info(info, scopes=_SCOPES)
    if kind == "external_account_authorized_user":
        from google.auth import external_account_authorized_user
        # Its scopes are those the user granted at login (the file's "scopes"), as google-auth's
        # own loader (_default._get_external_account_authorized_user_credentials) keeps them.
        return external_account_authorized_user.Credentials.from_info(info)
    source = info["credential_source"]
    if str(source.get("environment_id", "")).startswith("aws"):
        from google.auth import aws as module
    elif "executable" in source:
        from google.auth import pluggable as module
    else:
        from google.auth import identity_pool as module
    return module.Credentials.from_info(info, scopes=_SCOPES)


def refusal(args):
    """What a google-auth RefreshError or OAuthError says: ``args[0]`` is its summary ("error:
    description"); ``args[1]``, when there, the endpoint's raw answer, whose Google API error
    message (IAM Credentials: ``{"error": {"message": ...}}``) says why."""
    summary = str(args[0]) if args else "no reason given"
    try:
        body = json.loads(args[1]) if len(args) > 1 and isinstance(args[1], (str, bytes)) else None
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    detail = error.get("message") if isinstance(error, dict) else None
    return "%s: %s" % (summary, detail) if isinstance(detail, str) and detail not in summary else summary


def _access_token(key, field, context):
    """``(token, aware expiry)`` from the credential file, or from application default credentials."""
    import google.auth
    import requests
    from google.auth.exceptions import DefaultCredentialsError, OAuthError, RefreshError, TransportError
    from google.auth.transport.requests import Request

    # Without a key, application default credentials stand in for service_account_key_file.
    option = key[0] if key else field + ".service_account_key_file"
    try:
        if key:
            credentials = _load(key[2])
        else:
            credentials = google.auth.default(scopes=_SCOPES)[0]
    except DefaultCredentialsError as exc:
        if key:
            raise ProviderError(option, "cannot be loaded as a %s credential: %s" % (key[2]["type"], type(exc).__name__))
        raise ProviderError(option, "no key given and no application default credentials found")
    except (ValueError, TypeError, KeyError):
        # google-auth's messages may quote the file; none of it reaches ours.
        if not key:
            raise ProviderError(option, "no key given and the application default credentials cannot be loaded")
        what = "has a private_key" if key[2]["type"] == _SERVICE_ACCOUNT else "is a %s credential" % key[2]["type"]
        raise ProviderError(option, "%s that cannot be loaded" % what)
    try:
        # google-auth would wait two minutes for the token endpoint. Its TLS trust stays
        # google-auth's own (the system store, REQUESTS_CA_BUNDLE): registry TLS options are for
        # registries, and turning them off must not turn off the check of a token endpoint.
        credentials.refresh(functools.partial(Request(), timeout=context.timeout))
    except (RefreshError, OAuthError) as exc:
        raise ProviderError(option, "the token endpoint refused: %s" % refusal(exc.args))
    except TransportError as exc:
        if isinstance(exc.__cause__, requests.Timeout):
            info = key[2] if key else {}
            where = info.get("token_uri") or info.get("token_url") or "of the %s credentials" % info.get(
                "type", "application default")
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
