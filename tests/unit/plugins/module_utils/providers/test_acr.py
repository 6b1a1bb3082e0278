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


@pytest.fixture(autouse=True)
def no_authority_variable(monkeypatch):
    monkeypatch.delenv("AZURE_AUTHORITY_HOST", raising=False)


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
                      "authority_host": "https://login.microsoftonline.com"}
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
    assert acr._aad_error_field(code, description, status) == field
