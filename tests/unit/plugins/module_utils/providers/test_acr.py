# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import json

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError, token_expiry
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext, acr
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import REGISTRY_OPTIONS

SECRET = "Xy8Q~client-secret-value"


WORKLOAD_VARIABLES = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE")


@pytest.fixture(autouse=True)
def no_azure_variables(monkeypatch):
    for name in ("AZURE_AUTHORITY_HOST",) + WORKLOAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def entry(**values):
    """An entry as Ansible's argument parsing hands it over: every option present."""
    result = dict.fromkeys(REGISTRY_OPTIONS)
    result.update(provider="acr", server="myregistry.azurecr.io", auth="token_exchange",
                  tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47", client_id="0f1e2d3c-aaaa-bbbb-cccc-123456789abc",
                  client_secret=SECRET)
    result.update(values)
    return result


def error(**values):
    with pytest.raises(ProviderError) as info:
        acr.validate(entry(**values), "registries[1]")
    assert SECRET not in str(info.value)
    return info.value


@pytest.mark.parametrize("values", [
    {},
    {"auth": "service_principal", "tenant_id": None},
    {"server": "127.0.0.1:8443"},
    {"tenant_id": "contoso.onmicrosoft.com"},
    {"authority_host": "https://login.microsoftonline.us/"},
    {"authority_host": "login.chinacloudapi.cn"},
])
def test_valid_entries_pass(values):
    acr.validate(entry(**values), "registries[1]")


@pytest.mark.parametrize("values, field", [
    ({"server": None}, "registries[1].server"),
    ({"auth": None}, "registries[1].auth"),
    ({"auth": "json_key"}, "registries[1].auth"),
    ({"client_id": None}, "registries[1].client_id"),
    ({"client_secret": ""}, "registries[1].client_secret"),
    ({"tenant_id": None}, "registries[1].tenant_id"),
    ({"tenant_id": "../common"}, "registries[1].tenant_id"),
    ({"server": "https://myregistry.azurecr.io"}, "registries[1].server"),
    ({"server": "myregistry.azurecr.io/team"}, "registries[1].server"),
    ({"server": "myregistry.azurecr.io", "auth": "service_principal", "client_secret": None},
     "registries[1].client_secret"),
    ({"authority_host": "http://login.microsoftonline.com"}, "registries[1].authority_host"),
    ({"authority_host": "https://login microsoftonline.com"}, "registries[1].authority_host"),
])
def test_invalid_entries_name_the_field(values, field):
    assert error(**values).field == field


def test_an_http_authority_from_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "http://login.example.com")
    exc = error()
    assert exc.field == "registries[1].authority_host"
    assert "AZURE_AUTHORITY_HOST" in str(exc)


def test_identity_holds_no_secret_and_resolves_the_authority():
    result = acr.identity(entry())
    assert result == {"provider": "acr", "server": "myregistry.azurecr.io", "auth": "token_exchange",
                      "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                      "client_id": "0f1e2d3c-aaaa-bbbb-cccc-123456789abc",
                      "authority_host": "https://login.microsoftonline.com",
                      "scope": "https://containerregistry.azure.net/.default", "resource_id": None,
                      "federated_token_file": None}
    assert SECRET not in repr(result)


def test_identity_follows_the_authority_option_then_the_environment(monkeypatch):
    assert acr.identity(entry(authority_host="login.microsoftonline.us/"))["authority_host"] == \
        "https://login.microsoftonline.us"
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "https://login.partner.microsoftonline.cn")
    assert acr.identity(entry())["authority_host"] == "https://login.partner.microsoftonline.cn"
    assert acr.identity(entry(authority_host="https://login.microsoftonline.us"))["authority_host"] == \
        "https://login.microsoftonline.us"


def test_identity_does_not_change_with_the_secret():
    assert acr.identity(entry(client_secret="one")) == acr.identity(entry(client_secret="two"))
    assert acr.identity(entry(auth="service_principal"))["authority_host"] is None


def test_service_principal_is_written_as_is():
    [credential] = acr.mint(entry(auth="service_principal"), "registries[1]", MintContext())
    assert (credential.server, credential.username, credential.password, credential.expires_at) == \
        ("myregistry.azurecr.io", "0f1e2d3c-aaaa-bbbb-cccc-123456789abc", SECRET, None)


def _segment(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("token, expected", [
    ("%s.%s.sig" % (_segment({"alg": "none"}), _segment({"exp": 1900000000})),
     datetime.datetime(2030, 3, 17, 17, 46, 40, tzinfo=datetime.timezone.utc)),
    ("opaque-refresh-token", None),
    ("a.b.c", None),
    ("%s.%s.sig" % (_segment({"alg": "none"}), _segment({"sub": "x"})), None),
    ("%s.%s.sig" % (_segment({"alg": "none"}), _segment(["exp"])), None),
    ("%s.%s.sig" % (_segment({"alg": "none"}), _segment({"exp": "soon"})), None),
])
def test_refresh_token_expiry_is_read_from_a_jwt_or_left_unknown(token, expected):
    assert token_expiry(token) == expected


@pytest.mark.parametrize("code, description, status, field", [
    # Azure AD's answer for a tenant it does not know: the host is right, the tenant is not.
    ("invalid_request", "AADSTS90002: Tenant 'contoso.example' not found.", 400, "tenant_id"),
    ("invalid_request", "AADSTS900023: Specified tenant identifier 'x y' is neither a valid DNS name", 400, "tenant_id"),
    ("unauthorized_client", "AADSTS700016: Application with identifier 'a' was not found in the directory", 400,
     "client_id"),
    ("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401, "client_secret"),
    # An AADSTS number not in the table falls back to the error code, then to the status.
    ("invalid_request", "AADSTS900144: The request body must contain the following parameter", 400, "tenant_id"),
    ("no error code", "", 401, "client_secret"),
    # No Azure AD error at all: the authority is not an Azure AD token endpoint.
    ("no error code", "", 404, "authority_host"),
])
def test_an_azure_ad_error_names_the_option_it_is_about(code, description, status, field):
    assert acr.aad_error_field(code, description, status) == field


@pytest.mark.parametrize("values", [
    {"auth": "managed_identity", "tenant_id": None, "client_id": None, "client_secret": None},
    {"auth": "managed_identity", "client_secret": None, "resource_id": "/subscriptions/s/resourceGroups/g/providers/"
     "Microsoft.ManagedIdentity/userAssignedIdentities/pull", "client_id": None},
    {"auth": "workload_identity", "client_secret": None, "federated_token_file": "/var/run/secrets/token"},
    {"auth": "token_exchange", "audience": "arm", "cloud": "china"},
    {"server": "myregistry", "cloud": "us_government"},
])
def test_new_auth_methods_pass(values):
    acr.validate(entry(**values), "registries[1]")


@pytest.mark.parametrize("values, field", [
    ({"auth": "managed_identity"}, "registries[1].client_secret"),
    ({"auth": "workload_identity", "federated_token_file": "/t"}, "registries[1].client_secret"),
    ({"auth": "managed_identity", "client_secret": None, "resource_id": "/subscriptions/s/x"},
     "registries[1].resource_id"),
    ({"auth": "workload_identity", "client_secret": None}, "registries[1].federated_token_file"),
    ({"auth": "workload_identity", "client_secret": None, "tenant_id": None, "federated_token_file": "/t"},
     "registries[1].tenant_id"),
    ({"auth": "workload_identity", "client_secret": None, "tenant_id": "a/b", "federated_token_file": "/t"},
     "registries[1].tenant_id"),
])
def test_new_auth_methods_name_the_field(values, field):
    exc = error(**values)
    assert exc.field == field


def test_workload_identity_reads_what_aks_injects(monkeypatch):
    value = entry(auth="workload_identity", client_secret=None, tenant_id=None, client_id=None)
    exc = error(auth="workload_identity", client_secret=None, tenant_id=None, client_id=None)
    assert exc.field == "registries[1].tenant_id" and "AZURE_TENANT_ID" in str(exc)
    monkeypatch.setenv("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000001")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token")
    acr.validate(value, "registries[1]")
    result = acr.identity(value)
    assert (result["tenant_id"], result["client_id"], result["federated_token_file"]) == (
        "72f988bf-86f1-41af-91ab-2d7cd011db47", "11111111-0000-0000-0000-000000000001",
        "/var/run/secrets/azure/tokens/azure-identity-token")
    # An option wins over the variable.
    assert acr.identity(dict(value, client_id="22222222-0000-0000-0000-000000000002"))["client_id"] == \
        "22222222-0000-0000-0000-000000000002"


@pytest.mark.parametrize("values, expected", [
    ({}, "https://containerregistry.azure.net/.default"),
    ({"cloud": "china"}, "https://containerregistry.azure.net/.default"),
    ({"audience": "arm"}, "https://management.azure.com/.default"),
    ({"audience": "arm", "cloud": "china"}, "https://management.chinacloudapi.cn/.default"),
    ({"audience": "arm", "cloud": "us_government"}, "https://management.usgovcloudapi.net/.default"),
])
def test_scope_follows_audience_and_cloud(values, expected):
    assert acr.scope(entry(**values)) == expected


@pytest.mark.parametrize("values, server, authority", [
    ({"server": "myregistry"}, "myregistry.azurecr.io", "https://login.microsoftonline.com"),
    ({"server": "myregistry", "cloud": "china"}, "myregistry.azurecr.cn", "https://login.chinacloudapi.cn"),
    ({"server": "myregistry", "cloud": "us_government"}, "myregistry.azurecr.us", "https://login.microsoftonline.us"),
    ({"server": "127.0.0.1:5000", "cloud": "china"}, "127.0.0.1:5000", "https://login.chinacloudapi.cn"),
    ({"server": "myregistry.azurecr.io", "cloud": "china", "authority_host": "https://login.example"},
     "myregistry.azurecr.io", "https://login.example"),
])
def test_cloud_sets_the_registry_suffix_and_authority(values, server, authority):
    result = acr.identity(entry(**values))
    assert (result["server"], result["authority_host"]) == (server, authority)


def test_the_exchange_goes_to_the_realm_host_with_the_challenge_service():
    header = 'Bearer realm="https://myregistry.azurecr.io/oauth2/token",service="myregistry.azurecr.io"'
    assert acr.exchange_endpoint(header, "myregistry.azurecr.io", "registries[1].server") == \
        ("https://myregistry.azurecr.io/oauth2/exchange", "myregistry.azurecr.io")
    header = 'Bearer realm="https://127.0.0.1:8443/oauth2/token",service="127.0.0.1:5000",scope="x"'
    assert acr.exchange_endpoint(header, "127.0.0.1:5000", "r") == ("https://127.0.0.1:8443/oauth2/exchange",
                                                                    "127.0.0.1:5000")


@pytest.mark.parametrize("header, words", [
    ('Basic realm="registry"', "Bearer challenge"),
    (None, "Bearer challenge"),
    ('Bearer realm="https://r.example/oauth2/token"', "Bearer challenge"),
    ('Bearer realm="http://r.example/oauth2/token",service="r.example"', "https:// realm"),
])
def test_a_challenge_without_realm_and_service_is_refused(header, words):
    with pytest.raises(ProviderError) as info:
        acr.exchange_endpoint(header, "r.example", "registries[1].server")
    assert info.value.field == "registries[1].server" and words in str(info.value)


@pytest.mark.parametrize("messages, expected", [
    (["Authentication failed: AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"],
     "AADSTS7000215: Invalid client secret provided."),
    (["Authentication failed: Unable to get authority configuration", "Unable to get authority configuration",
      'OIDC Discovery failed. Error: {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant \'x\' '
      'not found.\\r\\nTrace ID: 1", "error_codes": [90002]}'],
     "AADSTS90002: Tenant 'x' not found."),
    (["ManagedIdentityCredential authentication unavailable.\nmore"], "ManagedIdentityCredential authentication "
     "unavailable."),
    ([], ""),
])
def test_the_azure_ad_explanation_is_found_in_the_causes(messages, expected):
    assert acr.aad_description(messages) == expected


@pytest.mark.parametrize("token, tenant", [
    ("%s.%s.sig" % (_segment({"alg": "none"}), _segment({"tid": "72f988bf"})), "72f988bf"),
    ("%s.%s.sig" % (_segment({"alg": "none"}), _segment({"tid": 3})), None),
    ("%s.%s.sig" % (_segment({"alg": "none"}), _segment(["tid"])), None),
    ("opaque", None),
    ("a.!!!.c", None),
])
def test_the_tenant_is_read_from_the_token(token, tenant):
    assert acr.tenant_of(token) == tenant
