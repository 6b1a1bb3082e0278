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
