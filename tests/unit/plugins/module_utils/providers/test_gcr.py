# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest
from hypothesis import given, strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext, gcr
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import REGISTRY_OPTIONS

MARKER = "SECRETKEYMATERIAL"
KEY = {
    "type": "service_account",
    "project_id": "demo",
    "private_key_id": "0123456789abcdef",
    "private_key": "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % MARKER,
    "client_email": "puller@demo.iam.gserviceaccount.com",
    "token_uri": "https://oauth2.googleapis.com/token",
}
KEY_TEXT = json.dumps(KEY, indent=2)


def entry(**values):
    """An entry as Ansible's argument parsing hands it over: every option present."""
    result = dict.fromkeys(REGISTRY_OPTIONS)
    result.update(provider="gcr", server="europe-docker.pkg.dev", auth="json_key")
    result.update(values)
    return result


def error(**values):
    with pytest.raises(ProviderError) as info:
        gcr.validate(entry(**values), "registries[0]")
    assert MARKER not in str(info.value)
    return info.value


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "key.json"
    path.write_text("\n" + KEY_TEXT + "\n\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("auth", ["json_key", "json_key_base64", "access_token"])
def test_every_auth_accepts_a_key_file_a_string_or_a_dict(auth, key_file):
    for key in ({"service_account_key_file": key_file}, {"service_account_key": KEY_TEXT},
                {"service_account_key": KEY}):
        gcr.validate(entry(auth=auth, **key), "registries[0]")


def test_access_token_may_use_application_default_credentials():
    gcr.validate(entry(auth="access_token"), "registries[0]")


@pytest.mark.parametrize("values, field", [
    ({"server": None}, "registries[0].server"),
    ({"auth": None}, "registries[0].auth"),
    ({"auth": "service_principal"}, "registries[0].auth"),
    ({}, "registries[0].service_account_key_file"),
    ({"auth": "json_key_base64"}, "registries[0].service_account_key_file"),
    ({"service_account_key": KEY, "service_account_key_file": "/nonexistent"},
     "registries[0].service_account_key"),
    ({"service_account_key": ["not", "a", "key"]}, "registries[0].service_account_key"),
    ({"service_account_key": dict(KEY, type="authorized_user")}, "registries[0].service_account_key"),
    ({"service_account_key": "[1, 2]"}, "registries[0].service_account_key"),
    ({"service_account_key": dict(KEY, client_email="")}, "registries[0].service_account_key"),
    ({"service_account_key": {k: v for k, v in KEY.items() if k != "token_uri"}},
     "registries[0].service_account_key"),
    ({"service_account_key": dict(KEY, private_key=KEY["private_key"][:40])}, "registries[0].service_account_key"),
])
def test_invalid_entries_name_the_field(values, field):
    assert error(**values).field == field


def test_a_truncated_key_file_is_named_and_not_echoed(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(KEY_TEXT[:KEY_TEXT.index(MARKER) + len(MARKER)], encoding="utf-8")
    exc = error(service_account_key_file=str(path))
    assert exc.field == "registries[0].service_account_key_file"
    assert "not valid JSON" in str(exc)


def test_a_missing_key_file_names_the_path(tmp_path):
    exc = error(service_account_key_file=str(tmp_path / "missing.json"))
    assert exc.field == "registries[0].service_account_key_file"
    assert "missing.json" in str(exc) and "No such file" in str(exc)


@given(st.integers(min_value=1, max_value=len(KEY_TEXT) - 1))
def test_no_cut_of_a_key_string_passes_or_leaks(cut):
    text = KEY_TEXT[:cut]
    with pytest.raises(ProviderError) as info:
        gcr.validate(entry(service_account_key=text), "registries[0]")
    assert info.value.field == "registries[0].service_account_key"
    assert MARKER not in str(info.value)


def test_identity_names_the_key_but_holds_no_secret(key_file):
    for key in ({"service_account_key_file": key_file}, {"service_account_key": KEY_TEXT},
                {"service_account_key": KEY}):
        result = gcr.identity(entry(auth="access_token", **key))
        assert result == {"provider": "gcr", "server": "europe-docker.pkg.dev", "auth": "access_token",
                          "client_email": "puller@demo.iam.gserviceaccount.com", "private_key_id": "0123456789abcdef"}
        assert MARKER not in repr(result)


def test_identity_changes_with_a_rotated_key_and_the_auth():
    one = gcr.identity(entry(service_account_key=KEY))
    assert one != gcr.identity(entry(service_account_key=dict(KEY, private_key_id="fedcba9876543210")))
    assert one != gcr.identity(entry(service_account_key=KEY, auth="json_key_base64"))


def test_identity_of_application_default_credentials():
    assert gcr.identity(entry(auth="access_token")) == {
        "provider": "gcr", "server": "europe-docker.pkg.dev", "auth": "access_token",
        "client_email": "application-default", "private_key_id": None}


def test_json_key_from_a_dict_is_byte_stable():
    shuffled = dict(reversed(list(KEY.items())))
    first = gcr.mint(entry(service_account_key=KEY), "registries[0]", MintContext())
    second = gcr.mint(entry(service_account_key=shuffled), "registries[0]", MintContext())
    assert first[0].password == second[0].password == json.dumps(KEY, sort_keys=True, separators=(",", ":"))
    assert (first[0].username, first[0].expires_at, first[0].provider) == ("_json_key", None, "gcr")


def test_json_key_base64_encodes_the_stripped_file_text(key_file):
    [credential] = gcr.mint(entry(auth="json_key_base64", service_account_key_file=key_file), "registries[0]",
                            MintContext())
    assert credential.username == "_json_key_base64"
    assert base64.b64decode(credential.password).decode("utf-8") == KEY_TEXT
    assert credential.expires_at is None


# Credential files other than a service-account key: access_token only ----------------------------
USER = {"type": "authorized_user", "client_id": "123-abc.apps.googleusercontent.com", "client_secret": MARKER,
        "refresh_token": "1//" + MARKER, "account": "dev@example.com"}
POOL = "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/ci/providers/oidc"
TARGET = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/target@demo.iam.gserviceaccount.com" \
         ":generateAccessToken"
EXTERNAL = {"type": "external_account", "audience": POOL, "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token", "credential_source": {"file": "/var/run/token"},
            "service_account_impersonation_url": TARGET}
IMPERSONATED = {"type": "impersonated_service_account", "service_account_impersonation_url": TARGET,
                "source_credentials": USER}
EXTERNAL_USER = {"type": "external_account_authorized_user", "audience": POOL.replace("workloadIdentityPools",
                                                                                      "workforcePools"),
                 "client_id": "cid", "client_secret": MARKER, "refresh_token": MARKER,
                 "token_url": "https://sts.googleapis.com/v1/oauthtoken"}
FILES = {"authorized_user": USER, "external_account": EXTERNAL, "impersonated_service_account": IMPERSONATED,
         "external_account_authorized_user": EXTERNAL_USER}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_access_token_takes_every_credential_file_google_auth_loads(kind, tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(FILES[kind]), encoding="utf-8")
    for key in ({"service_account_key_file": str(path)}, {"service_account_key": FILES[kind]}):
        gcr.validate(entry(auth="access_token", **key), "registries[0]")


@pytest.mark.parametrize("auth", ["json_key", "json_key_base64"])
@pytest.mark.parametrize("kind", sorted(FILES))
def test_json_key_refuses_other_credential_files_and_says_what_to_use(auth, kind):
    exc = error(auth=auth, service_account_key=FILES[kind])
    assert exc.field == "registries[0].service_account_key"
    assert '"type": "service_account"' in str(exc) and "auth=access_token" in str(exc)


@pytest.mark.parametrize("info, missing", [
    (dict(USER, refresh_token=""), "refresh_token"),
    ({k: v for k, v in USER.items() if k != "client_secret"}, "client_secret"),
    (dict(EXTERNAL, audience=None), "audience"),
    ({k: v for k, v in EXTERNAL.items() if k != "token_url"}, "token_url"),
    ({k: v for k, v in EXTERNAL.items() if k != "credential_source"}, "credential_source"),
    (dict(IMPERSONATED, source_credentials="x"), "source_credentials"),
    (dict(IMPERSONATED, source_credentials=dict(USER, client_id="")), "client_id"),
    (dict(IMPERSONATED, source_credentials=dict(USER, type="gdch_service_account")), '"type"'),
    (dict(IMPERSONATED, source_credentials=EXTERNAL), "cannot impersonate from"),
    (dict(EXTERNAL_USER, token_url=""), "token_url"),
    (dict(USER, type="gdch_service_account"), '"type"'),
])
def test_an_incomplete_credential_file_names_the_field_and_what_is_missing(info, missing):
    exc = error(auth="access_token", service_account_key=info)
    assert exc.field == "registries[0].service_account_key"
    assert missing in str(exc)


def test_identity_tells_the_credential_sources_apart_without_a_secret():
    found = {kind: gcr.identity(entry(auth="access_token", service_account_key=info)) for kind, info in FILES.items()}
    found["service_account"] = gcr.identity(entry(auth="access_token", service_account_key=KEY))
    found["application_default"] = gcr.identity(entry(auth="access_token"))
    assert len({json.dumps(value, sort_keys=True) for value in found.values()}) == len(found)
    assert MARKER not in repr(found)
    assert found["external_account"]["audience"] == POOL
    assert found["external_account"]["impersonate"] == "target@demo.iam.gserviceaccount.com"
    assert found["impersonated_service_account"]["source"]["client_id"] == USER["client_id"]
    assert found["authorized_user"]["credential_type"] == "authorized_user"
    # Another pool, or another target, is another source.
    assert gcr.identity(entry(auth="access_token", service_account_key=dict(EXTERNAL, audience=POOL + "2"))) != \
        found["external_account"]
    other = dict(IMPERSONATED, service_account_impersonation_url=TARGET.replace("target@", "other@"))
    assert gcr.identity(entry(auth="access_token", service_account_key=other)) != found["impersonated_service_account"]


@pytest.mark.parametrize("args, expected", [
    (("invalid_grant: Invalid JWT Signature.", '{"error": "invalid_grant"}'), "invalid_grant: Invalid JWT Signature."),
    (("Unable to acquire impersonated credentials",
      '{"error": {"code": 403, "message": "Permission denied.", "status": "PERMISSION_DENIED"}}'),
     "Unable to acquire impersonated credentials: Permission denied."),
    (("Error code invalid_grant: bad audience", b'{"error": "invalid_grant", "error_description": "bad audience"}'),
     "Error code invalid_grant: bad audience"),
    (("summary", "<html>not json</html>"), "summary"),
    (("summary", {"error": {"message": "not text"}}), "summary"),
    ((), "no reason given"),
])
def test_a_refusal_says_what_the_endpoint_said(args, expected):
    assert gcr.refusal(args) == expected


@pytest.mark.parametrize("kind", sorted(FILES))
def test_each_credential_file_goes_to_google_auths_loader_for_its_type(kind):
    """Loading does no I/O; each type gets the credentials class google-auth has for it."""
    expected = {"authorized_user": "google.oauth2.credentials", "external_account": "google.auth.identity_pool",
                "impersonated_service_account": "google.auth.impersonated_credentials",
                "external_account_authorized_user": "google.auth.external_account_authorized_user"}
    credentials = gcr._load(FILES[kind])  # pylint: disable=protected-access
    assert type(credentials).__module__ == expected[kind]
    assert not credentials.valid
