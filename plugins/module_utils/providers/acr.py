# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Container Registry: a service principal as is, or an Azure AD token exchanged for an ACR
refresh token (about three hours)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential, ProviderError, token_expiry
from ansible_collections.regcred.k8s.plugins.module_utils.providers import require
from ansible_collections.regcred.k8s.plugins.module_utils.server import check as check_server

_AUTHS = ("service_principal", "token_exchange")
# The options this provider reads from a registries[] entry; registries_spec merges every provider's.
OPTIONS = dict(
    server=dict(type="str"),
    auth=dict(type="str", choices=list(_AUTHS)),
    tenant_id=dict(type="str"),
    client_id=dict(type="str"),
    client_secret=dict(type="str", no_log=True),
    authority_host=dict(type="str"),
)

# The user name ACR expects with a refresh token.
_REFRESH_USERNAME = "00000000-0000-0000-0000-000000000000"
_DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
_SCOPE = "https://management.azure.com/.default"
# The server is also the address of the token exchange: a host and port, no scheme or path.
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?")
# A GUID or a domain such as contoso.onmicrosoft.com; it becomes a path segment of the token URL.
_TENANT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_AUTHORITY = re.compile(r"https://[^\s/?#]+(?:/[^\s?#]*)?")
# Azure AD error code -> the option that most likely caused it.
_AAD_ERROR_FIELDS = {"invalid_client": "client_secret", "unauthorized_client": "client_id",
                     "invalid_request": "tenant_id"}
# The AADSTS number that starts error_description is more precise than the error code, which
# Azure AD shares among many causes; these name an option for certain.
_AADSTS_FIELDS = {"90002": "tenant_id", "900023": "tenant_id", "700016": "client_id", "7000215": "client_secret"}
_AADSTS = re.compile(r"AADSTS([0-9]+)")


def _authority(entry, field):
    value = entry.get("authority_host") or os.environ.get("AZURE_AUTHORITY_HOST") or _DEFAULT_AUTHORITY
    # azure-identity accepts a bare host (its AzureAuthorityHosts constants are bare hosts).
    if "://" not in value:
        value = "https://" + value
    if not _AUTHORITY.fullmatch(value):
        # https only: the client secret is sent there.
        raise ProviderError(field + ".authority_host",
                            "must be an https:// URL (taken from %s)"
                            % ("the option" if entry.get("authority_host") else "AZURE_AUTHORITY_HOST"))
    return value.rstrip("/")


def validate(entry, field):
    require(entry, field, ["server", "auth"])
    if entry["auth"] not in _AUTHS:
        raise ProviderError(field + ".auth", "must be one of %s for provider acr" % ", ".join(_AUTHS))
    exchange = entry["auth"] == "token_exchange"
    require(entry, field, ["client_id", "client_secret"] + (["tenant_id"] if exchange else []))
    check_server(entry["server"], field + ".server")
    if not _HOST.fullmatch(entry["server"]):
        raise ProviderError(field + ".server", "%r is not a registry host name such as myregistry.azurecr.io"
                            % entry["server"])
    if exchange:
        if not _TENANT.fullmatch(entry["tenant_id"]):
            raise ProviderError(field + ".tenant_id", "%r is not a tenant ID or domain" % entry["tenant_id"])
        _authority(entry, field)


def mints_token(entry):
    return entry["auth"] == "token_exchange"


def identity(entry):
    exchange = entry["auth"] == "token_exchange"
    return {"provider": entry["provider"], "server": entry["server"], "auth": entry["auth"],
            "tenant_id": entry.get("tenant_id"), "client_id": entry["client_id"],
            # The resolved authority, so a change of AZURE_AUTHORITY_HOST is a change of identity.
            "authority_host": _authority(entry, "registries[]") if exchange else None}


def _post(url, form, field, context, registry=True):
    """POST to the registry (``registry``: with the registry TLS options) or to Azure AD (with the
    trust requests has of its own: the system store, or REQUESTS_CA_BUNDLE)."""
    import requests

    try:
        # No redirects: a 307 would resend the client secret or the Azure AD token elsewhere.
        return requests.post(url, data=form, verify=context.requests_verify if registry else True,
                             timeout=context.timeout, allow_redirects=False)
    except requests.Timeout:
        raise ProviderError(field, context.timed_out(url))
    except requests.exceptions.SSLError as exc:
        # registry_*: validate_certs and ca_cert are the apiserver's, and would not help.
        advice = ("set registry_ca_path to the CA file that signed it, or registry_validate_certs to false "
                  "to skip the check" if registry else
                  "Azure AD is checked against the system trust store, or the CA bundle REQUESTS_CA_BUNDLE "
                  "names; registry TLS options do not apply to it")
        raise ProviderError(field, "the TLS certificate of %s could not be verified (%s); %s" % (url, exc, advice))
    except requests.RequestException as exc:
        raise ProviderError(field, "cannot reach %s: %s" % (url, exc))


def _body(response):
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(body):
    """The code of an OAuth2 error (``error``) or a registry error (``errors[0].code``)."""
    errors = body.get("errors")
    code = body.get("error") or (errors[0].get("code") if isinstance(errors, list) and errors
                                 and isinstance(errors[0], dict) else None)
    return code if isinstance(code, str) else "no error code"


def _aad_error_field(code, description, status):
    """The option an Azure AD error is about. authority_host only when the answer is no Azure AD
    error at all (a 404 or a body without a code): a wrong tenant is a 400 from the right host."""
    found = _AADSTS.match(description)
    if found and found.group(1) in _AADSTS_FIELDS:
        return _AADSTS_FIELDS[found.group(1)]
    return _AAD_ERROR_FIELDS.get(code) or ("client_secret" if status == 401 else "authority_host")


def _aad_token(entry, field, context):
    response = _post("%s/%s/oauth2/v2.0/token" % (_authority(entry, field), entry["tenant_id"]),
                     {"grant_type": "client_credentials", "client_id": entry["client_id"],
                      "client_secret": entry["client_secret"], "scope": _SCOPE},
                     field + ".authority_host", context, registry=False)
    body = _body(response)
    if response.status_code != 200:
        code = _error_code(body)
        # The first line carries the AADSTS code and its explanation; trace IDs follow.
        description = str(body.get("error_description") or "").strip().split("\n", 1)[0].strip()
        target = _aad_error_field(code, description, response.status_code)
        message = "Azure AD refused the client credentials (HTTP %d %s)" % (response.status_code, code)
        if description:
            message += ": " + description.replace(entry["client_secret"], "********")
        raise ProviderError("%s.%s" % (field, target), message)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ProviderError(field + ".authority_host", "Azure AD answered without an access token")
    return token


def mint(entry, field, context):
    if entry["auth"] == "service_principal":
        return [Credential(entry["server"], entry["client_id"], entry["client_secret"], None, None, "acr")]
    response = _post("https://%s/oauth2/exchange" % entry["server"],
                     {"grant_type": "access_token", "service": entry["server"], "tenant": entry["tenant_id"],
                      "access_token": _aad_token(entry, field, context)},
                     field + ".server", context)
    body = _body(response)
    if response.status_code != 200:
        # Only the code: the rest of the body answers a request that carried the Azure AD token.
        raise ProviderError(field + ".server", "the registry refused the token exchange (HTTP %d %s)"
                            % (response.status_code, _error_code(body)))
    refresh_token = body.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise ProviderError(field + ".server", "the registry answered the token exchange without a refresh token")
    return [Credential(entry["server"], _REFRESH_USERNAME, refresh_token, None, token_expiry(refresh_token), "acr")]
