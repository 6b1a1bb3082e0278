# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Container Registry: a service principal as is, or a Microsoft Entra ID (Azure AD) token,
obtained with azure-identity, exchanged for an ACR refresh token (about three hours).

The exchange follows the ACR credential provider of Kubernetes (kubernetes-sigs/cloud-provider-azure,
pkg/credentialprovider/azure_acr_helper.go) and ``az acr login``: ask the login server's ``/v2/``
for its Bearer challenge, POST the Azure AD token with the challenge's ``service`` to
``/oauth2/exchange`` on the realm's host (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
from urllib.parse import urlsplit

from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential, ProviderError, token_expiry
from ansible_collections.regcred.k8s.plugins.module_utils.providers import require
from ansible_collections.regcred.k8s.plugins.module_utils.registry import parse_challenge
from ansible_collections.regcred.k8s.plugins.module_utils.server import check as check_server

_AUTHS = ("service_principal", "token_exchange", "managed_identity", "workload_identity")
# The audiences of the Azure AD token: ACR's own (what cloud-provider-azure's acr-credential-provider
# and `az acr login` ask for), or Azure Resource Manager's, which older registries need.
_AUDIENCES = ("acr", "arm")
# cloud -> (authority host, ARM audience, registry suffix): azure-identity's AzureAuthorityHosts;
# https://learn.microsoft.com/en-us/azure/china/resources-developer-guide and
# https://learn.microsoft.com/en-us/azure/azure-government/compare-azure-government-global-azure
_CLOUDS = {
    "public": ("login.microsoftonline.com", "https://management.azure.com", "azurecr.io"),
    "china": ("login.chinacloudapi.cn", "https://management.chinacloudapi.cn", "azurecr.cn"),
    "us_government": ("login.microsoftonline.us", "https://management.usgovcloudapi.net", "azurecr.us"),
}
# azure-cli (acr/_docker_utils.py, ACR_AUDIENCE_RESOURCE_NAME) uses this audience in every cloud.
_ACR_AUDIENCE = "https://containerregistry.azure.net"
# The options this provider reads from a registries[] entry; registries_spec merges every provider's.
OPTIONS = dict(
    server=dict(type="str"),
    auth=dict(type="str", choices=list(_AUTHS)),
    tenant_id=dict(type="str"),
    client_id=dict(type="str"),
    client_secret=dict(type="str", no_log=True),
    authority_host=dict(type="str"),
    audience=dict(type="str", choices=list(_AUDIENCES)),
    cloud=dict(type="str", choices=sorted(_CLOUDS)),
    resource_id=dict(type="str"),
    federated_token_file=dict(type="path"),
)

# The user name ACR expects with a refresh token.
_REFRESH_USERNAME = "00000000-0000-0000-0000-000000000000"
# The server is also the address of the token exchange: a host and port, no scheme or path.
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?")
# A GUID or a domain such as contoso.onmicrosoft.com; it becomes a path segment of the token URL.
_TENANT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_AUTHORITY = re.compile(r"https://[^\s/?#]+(?:/[^\s?#]*)?")
# What AKS injects into a pod of a ServiceAccount with workload identity
# (https://learn.microsoft.com/en-us/azure/aks/workload-identity-overview): option -> variable.
_WORKLOAD_VARIABLES = (("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"),
                       ("federated_token_file", "AZURE_FEDERATED_TOKEN_FILE"))
# Azure AD error code -> the option that most likely caused it.
_AAD_ERROR_FIELDS = {"invalid_client": "client_secret", "unauthorized_client": "client_id",
                     "invalid_request": "tenant_id", "invalid_tenant": "tenant_id"}
# The AADSTS number that starts error_description is more precise than the error code, which
# Azure AD shares among many causes; these name an option for certain.
_AADSTS_FIELDS = {"90002": "tenant_id", "900023": "tenant_id", "700016": "client_id", "7000215": "client_secret",
                  "500011": "audience",
                  # Workload identity: no federated credential matches the token's issuer and
                  # subject, or its audience; its signature or its lifetime is wrong.
                  "70021": "federated_token_file", "700212": "federated_token_file",
                  "700027": "federated_token_file", "700024": "federated_token_file"}
_AADSTS = re.compile(r"AADSTS([0-9]+)")
_OAUTH_CODE = re.compile(r"\((invalid_[a-z_]+|unauthorized_client)\)")


def _cloud(entry):
    return _CLOUDS[entry.get("cloud") or "public"]


def server_name(entry):
    """The login server: a bare registry name gets the cloud's suffix (myregistry -> myregistry.azurecr.io)."""
    server = entry["server"]
    return server if "." in server or ":" in server else "%s.%s" % (server, _cloud(entry)[2])


def _authority(entry, field):
    value = entry.get("authority_host") or os.environ.get("AZURE_AUTHORITY_HOST") or _cloud(entry)[0]
    # azure-identity accepts a bare host (its AzureAuthorityHosts constants are bare hosts).
    if "://" not in value:
        value = "https://" + value
    if not _AUTHORITY.fullmatch(value):
        # https only: the client secret or the federated token is sent there.
        raise ProviderError(field + ".authority_host",
                            "must be an https:// URL (taken from %s)"
                            % ("the option" if entry.get("authority_host") else "AZURE_AUTHORITY_HOST"))
    return value.rstrip("/")


def scope(entry):
    """The scope of the Azure AD token: ACR's audience, or ARM's of the entry's cloud."""
    audience = _cloud(entry)[1] if entry.get("audience") == "arm" else _ACR_AUDIENCE
    return audience + "/.default"


def _workload(entry, name):
    """A workload identity setting: the option, else the variable AKS injects."""
    return entry.get(name) or os.environ.get(dict(_WORKLOAD_VARIABLES)[name])


def _uses_secret(entry):
    return entry["auth"] in ("service_principal", "token_exchange")


def validate(entry, field):
    require(entry, field, ["server", "auth"])
    auth = entry["auth"]
    if auth not in _AUTHS:
        raise ProviderError(field + ".auth", "must be one of %s for provider acr" % ", ".join(_AUTHS))
    if _uses_secret(entry):
        require(entry, field, ["client_id", "client_secret"] + (["tenant_id"] if auth == "token_exchange" else []))
    elif entry.get("client_secret"):
        raise ProviderError(field + ".client_secret", "is not used by auth %s; remove it" % auth)
    check_server(server_name(entry), field + ".server")
    if not _HOST.fullmatch(entry["server"]):
        raise ProviderError(field + ".server", "%r is not a registry host name such as myregistry.azurecr.io"
                            % entry["server"])
    if auth == "service_principal":
        return
    if auth == "managed_identity" and entry.get("client_id") and entry.get("resource_id"):
        raise ProviderError(field + ".resource_id", "names the same user-assigned identity as client_id; "
                            "give only one of them")
    if auth == "workload_identity":
        for name, variable in _WORKLOAD_VARIABLES:
            if not _workload(entry, name):
                raise ProviderError("%s.%s" % (field, name), "is required for auth workload_identity (or the "
                                    "environment variable %s, which AKS sets in a pod)" % variable)
    tenant = entry.get("tenant_id") if auth == "token_exchange" else _workload(entry, "tenant_id")
    if tenant and not _TENANT.fullmatch(tenant):
        raise ProviderError(field + ".tenant_id", "%r is not a tenant ID or domain" % tenant)
    if auth != "managed_identity":
        _authority(entry, field)


def mints_token(entry):
    return entry["auth"] != "service_principal"


def identity(entry):
    auth = entry["auth"]
    workload = auth == "workload_identity"
    result = {"provider": entry["provider"], "server": server_name(entry), "auth": auth,
              "tenant_id": _workload(entry, "tenant_id") if workload else entry.get("tenant_id"),
              "client_id": _workload(entry, "client_id") if workload else entry.get("client_id"),
              # The resolved authority, so a change of AZURE_AUTHORITY_HOST is a change of identity.
              "authority_host": _authority(entry, "registries[]") if auth in ("token_exchange", "workload_identity")
              else None}
    if mints_token(entry):
        result.update(scope=scope(entry), resource_id=entry.get("resource_id"),
                      federated_token_file=_workload(entry, "federated_token_file") if workload else None)
    return result


def _causes(exc):
    """``exc`` and what it wraps (azure-core keeps the transport's error in ``inner_exception``)."""
    found = []
    while exc is not None and all(exc is not seen for seen in found):
        found.append(exc)
        exc = getattr(exc, "inner_exception", None) or exc.__cause__ or exc.__context__
    return found


def _transport_error(exc, url, field, context, registry):
    """ProviderError for a request that got no HTTP answer: a timeout, a TLS failure, a refused connection."""
    import requests

    causes = _causes(exc)
    if any(isinstance(cause, requests.Timeout) or "timed out" in str(cause).lower() for cause in causes):
        return ProviderError(field, context.timed_out(url))
    if any(isinstance(cause, requests.exceptions.SSLError) for cause in causes):
        # registry_*: validate_certs and ca_cert are the apiserver's, and would not help.
        advice = ("set registry_ca_path to the CA file that signed it, or registry_validate_certs to false "
                  "to skip the check" if registry else
                  "Azure AD is checked against the system trust store, or the CA bundle REQUESTS_CA_BUNDLE "
                  "names; registry TLS options do not apply to it")
        return ProviderError(field, "the TLS certificate of %s could not be verified (%s); %s"
                             % (url, causes[-1], advice))
    return ProviderError(field, "cannot reach %s: %s" % (url, causes[-1]))


def _request(method, url, field, context, **kwargs):
    """A request to the registry, with the registry TLS options and the timeout."""
    import requests

    try:
        # No redirects: a 307 would resend the Azure AD token elsewhere.
        return requests.request(method, url, verify=context.requests_verify, timeout=context.timeout,
                                allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise _transport_error(exc, url, field, context, registry=True)


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


def exchange_endpoint(header, server, field):
    """``(exchange URL, service)`` from the ``WWW-Authenticate`` of the login server's ``/v2/``:
    ``/oauth2/exchange`` on the realm's host, as azure_acr_helper.go's performTokenExchange builds it."""
    scheme, params = parse_challenge(header)
    realm = urlsplit(params.get("realm") or "")
    if scheme != "bearer" or not params.get("service") or not realm.netloc:
        raise ProviderError(field, "%s does not answer /v2/ with a Bearer challenge that names a realm and a "
                            "service, as an Azure container registry does" % server)
    if realm.scheme != "https":
        raise ProviderError(field, "%s names the token realm %s; the Azure AD token is sent only to an "
                            "https:// realm" % (server, params["realm"]))
    return "https://%s/oauth2/exchange" % realm.netloc, params["service"]


def aad_error_field(code, description, status):
    """The option an Azure AD error is about. authority_host only when the answer is no Azure AD
    error at all (a 404 or a body without a code): a wrong tenant is a 400 from the right host."""
    found = _AADSTS.search(description)
    if found and found.group(1) in _AADSTS_FIELDS:
        return _AADSTS_FIELDS[found.group(1)]
    return _AAD_ERROR_FIELDS.get(code) or ("client_secret" if status == 401 else "authority_host")


def _credential(entry, field, context):
    """The azure-identity credential of the entry, with one attempt per request bounded by the timeout."""
    from azure.identity import ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential

    transport = dict(connection_timeout=context.timeout, read_timeout=context.timeout, retry_total=0)
    auth = entry["auth"]
    if auth == "managed_identity":
        if entry.get("resource_id"):
            transport["identity_config"] = {"msi_res_id": entry["resource_id"]}
        return ManagedIdentityCredential(client_id=entry.get("client_id"), **transport)
    authority = _authority(entry, field)
    # A host outside the three clouds (Azure Stack, a private cloud) is trusted as given: instance
    # discovery would ask login.microsoftonline.com about it.
    transport.update(authority=authority, disable_instance_discovery=urlsplit(authority).netloc not in
                     [cloud[0] for cloud in _CLOUDS.values()])
    if auth == "workload_identity":
        return WorkloadIdentityCredential(tenant_id=_workload(entry, "tenant_id"),
                                          client_id=_workload(entry, "client_id"),
                                          token_file_path=_workload(entry, "federated_token_file"), **transport)
    return ClientSecretCredential(entry["tenant_id"], entry["client_id"], entry["client_secret"], **transport)


def _endpoint(entry, field):
    """What the Azure AD token is asked of, for messages."""
    if entry["auth"] == "managed_identity":
        return "the managed identity endpoint (%s)" % (
            os.environ.get("IDENTITY_ENDPOINT") or os.environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
            or "http://169.254.169.254")
    return _authority(entry, field)


def aad_description(messages):
    """Azure AD's explanation among the messages of an error and its causes: from the first
    AADSTS code to the end of its line (trace IDs follow), else the first message's first line.
    MSAL wraps the answer of OpenID discovery (a tenant Azure AD does not know) as JSON text."""
    for message in messages:
        found = message.find("AADSTS")
        if found >= 0:
            return re.split(r'\r|\n|\\r|\\n|"', message[found:], 1)[0].strip()
    return messages[0].strip().split("\n", 1)[0].strip() if messages else ""


def _aad_error_target(entry, message, status):
    """The option an azure-identity error is about."""
    found = _AADSTS.match(message)
    if found and found.group(1) in _AADSTS_FIELDS:
        return _AADSTS_FIELDS[found.group(1)]
    if _uses_secret(entry):
        code = _OAUTH_CODE.search(message)
        return aad_error_field(code.group(1) if code else "no error code", message, status or 401)
    return "client_id" if entry["auth"] == "managed_identity" else "federated_token_file"


def _aad_token(entry, field, context):
    import logging
    from azure.core.exceptions import AzureError, ClientAuthenticationError, ServiceRequestError, ServiceResponseError

    # azure-identity logs each failure as a warning; the error below says it once.
    logging.getLogger("azure").addHandler(logging.NullHandler())
    endpoint = _endpoint(entry, field)
    unreachable = "%s.%s" % (field, "client_id" if entry["auth"] == "managed_identity" else "authority_host")
    try:
        return _credential(entry, field, context).get_token(scope(entry)).token
    except ClientAuthenticationError as exc:
        causes = _causes(exc)
        # azure-identity reports an endpoint that did not answer as an authentication failure too.
        if any(isinstance(cause, (ServiceRequestError, ServiceResponseError)) for cause in causes):
            raise _transport_error(exc, endpoint, unreachable, context, registry=False)
        message = aad_description([str(getattr(cause, "message", None) or cause) for cause in causes])
        target = _aad_error_target(entry, message, getattr(getattr(exc, "response", None), "status_code", None))
    except (AzureError, OSError) as exc:
        raise _transport_error(exc, endpoint, unreachable, context, registry=False)
    if entry.get("client_secret"):
        message = message.replace(entry["client_secret"], "********")
    raise ProviderError("%s.%s" % (field, target), "Azure AD refused the %s credentials (%s): %s"
                        % (entry["auth"], endpoint, message))


def tenant_of(token):
    """The ``tid`` claim of an Azure AD token (unverified: ACR checks the token), or None."""
    import base64
    import json

    parts = token.split(".")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (IndexError, ValueError, TypeError):
        return None
    tenant = claims.get("tid") if isinstance(claims, dict) else None
    return tenant if isinstance(tenant, str) else None


def mint(entry, field, context):
    server = server_name(entry)
    if entry["auth"] == "service_principal":
        return [Credential(server, entry["client_id"], entry["client_secret"], None, None, "acr")]
    challenge = _request("GET", "https://%s/v2/" % server, field + ".server", context)
    url, service = exchange_endpoint(challenge.headers.get("WWW-Authenticate"), server, field + ".server")
    token = _aad_token(entry, field, context)
    tenant = entry.get("tenant_id") or _workload(entry, "tenant_id") or tenant_of(token)
    form = {"grant_type": "access_token", "service": service, "access_token": token}
    if tenant:
        form["tenant"] = tenant
    response = _request("POST", url, field + ".server", context, data=form)
    body = _body(response)
    if response.status_code != 200:
        # Only the code and the registry's message: the rest answers a request that carried the token.
        errors = body.get("errors")
        detail = errors[0].get("message") if isinstance(errors, list) and errors and isinstance(errors[0], dict) \
            else None
        hint = "; the registry may accept only Azure AD tokens for ACR's audience: leave audience unset" \
            if entry.get("audience") == "arm" else ""
        raise ProviderError(field + (".audience" if hint else ".server"),
                            "the registry refused the token exchange (HTTP %d %s%s)%s"
                            % (response.status_code, _error_code(body),
                               ": %s" % detail if isinstance(detail, str) else "", hint))
    refresh_token = body.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise ProviderError(field + ".server", "the registry answered the token exchange without a refresh token")
    return [Credential(server, _REFRESH_USERNAME, refresh_token, None, token_expiry(refresh_token), "acr")]
