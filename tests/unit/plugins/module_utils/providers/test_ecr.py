# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.providers import aws, ecr, ecr_public
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import REGISTRY_OPTIONS

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"


def entry(**values):
    """An entry as Ansible's argument parsing hands it over: every option present."""
    result = dict.fromkeys(REGISTRY_OPTIONS)
    result.update(provider="ecr", region="eu-west-1")
    result.update(values)
    return result


def error(values):
    with pytest.raises(ProviderError) as info:
        ecr.validate(entry(**values), "registries[3]")
    return info.value


@pytest.mark.parametrize("values", [
    {},
    {"registry_ids": ["123456789012", "000000000001"]},
    {"access_key": "AKIAEXAMPLE", "secret_key": SECRET},
    {"access_key": "AKIAEXAMPLE", "secret_key": SECRET, "session_token": TOKEN},
    {"profile": "prod", "assume_role_arn": "arn:aws:iam::123456789012:role/puller"},
    {"endpoint_url": "https://vpce-0a1b.api.ecr.eu-west-1.vpce.amazonaws.com"},
    {"endpoint_url": "http://127.0.0.1:5000/"},
    {"region": "us-gov-west-1"},
    {"registry_ids": ["%012d" % n for n in range(10)]},
    {"host_forms": ["standard", "fips", "dualstack"]},
    {"host_forms": ["dualstack"]},
])
def test_valid_entries_pass(values):
    ecr.validate(entry(**values), "registries[3]")


@pytest.mark.parametrize("values, field", [
    ({"region": None}, "registries[3].region"),
    ({"region": ""}, "registries[3].region"),
    ({"region": "eu west 1"}, "registries[3].region"),
    ({"region": "eu-west-1-"}, "registries[3].region"),
    ({"registry_ids": ["123456789012", "12345"]}, "registries[3].registry_ids[1]"),
    ({"registry_ids": ["1234567890123"]}, "registries[3].registry_ids[0]"),
    ({"registry_ids": ["12345678901a"]}, "registries[3].registry_ids[0]"),
    ({"registry_ids": ["123456789012\n"]}, "registries[3].registry_ids[0]"),
    ({"access_key": "AKIAEXAMPLE"}, "registries[3].secret_key"),
    ({"endpoint_url": "ecr.eu-west-1.amazonaws.com"}, "registries[3].endpoint_url"),
    ({"endpoint_url": "ftp://ecr.example.com"}, "registries[3].endpoint_url"),
    ({"endpoint_url": "https://"}, "registries[3].endpoint_url"),
    # botocore's service model: GetAuthorizationTokenRegistryIdList has "max": 10.
    ({"registry_ids": ["%012d" % n for n in range(11)]}, "registries[3].registry_ids"),
    ({"host_forms": ["fips", "fips"]}, "registries[3].host_forms"),
])
def test_invalid_entries_name_the_field(values, field):
    assert error(values).field == field


def test_secret_key_alone_names_access_key_and_hides_the_secret():
    exc = error({"secret_key": SECRET})
    assert exc.field == "registries[3].access_key"
    assert SECRET not in str(exc)


def test_session_token_alone_names_itself_and_hides_the_token():
    exc = error({"session_token": TOKEN})
    assert exc.field == "registries[3].session_token"
    assert TOKEN not in str(exc)


def test_endpoint_url_with_user_information_is_not_echoed():
    exc = error({"endpoint_url": "ftp://user:hunter2@ecr.example.com"})
    assert exc.field == "registries[3].endpoint_url"
    assert "hunter2" not in str(exc)


def test_identity_holds_the_deciding_inputs_but_no_secret():
    values = entry(registry_ids=["222222222222", "111111111111"], access_key="AKIAEXAMPLE", secret_key=SECRET,
                   session_token=TOKEN, assume_role_arn="arn:aws:iam::111111111111:role/puller",
                   endpoint_url="https://ecr.example.com", profile="prod")
    assert ecr.identity(values) == {
        "provider": "ecr", "region": "eu-west-1", "registry_ids": ["111111111111", "222222222222"],
        "profile": "prod", "access_key": "AKIAEXAMPLE", "assume_role_arn": "arn:aws:iam::111111111111:role/puller",
        "endpoint_url": "https://ecr.example.com"}
    assert SECRET not in repr(ecr.identity(values))
    assert TOKEN not in repr(ecr.identity(values))


def test_identity_ignores_registry_order_and_tells_regions_apart():
    one = ecr.identity(entry(registry_ids=["111111111111", "222222222222"]))
    assert one == ecr.identity(entry(registry_ids=["222222222222", "111111111111"]))
    assert one != ecr.identity(entry(registry_ids=["111111111111", "222222222222"], region="eu-west-2"))
    assert ecr.identity(entry())["registry_ids"] == []


def test_identity_does_not_change_with_the_secret():
    assert ecr.identity(entry(access_key="AKIAEXAMPLE", secret_key="one")) == \
        ecr.identity(entry(access_key="AKIAEXAMPLE", secret_key="two"))


def test_client_errors_never_quote_the_credentials():
    # A signature error quotes the canonical request, session token header included.
    import boto3
    from botocore.exceptions import ClientError

    session = boto3.session.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key=SECRET,
                                    aws_session_token=TOKEN, region_name="eu-west-1")
    exc = ClientError({"Error": {"Code": "InvalidSignatureException",
                                 "Message": "Signature expired for %s with x-amz-security-token:%s\n"
                                            "The Canonical String ..." % (SECRET, TOKEN)}},
                      "GetAuthorizationToken")
    result = aws.client_error(exc, "registries[3].access_key", session)
    assert result.field == "registries[3].access_key"
    assert "InvalidSignatureException" in str(result)
    assert SECRET not in str(result) and TOKEN not in str(result)
    assert "Canonical" not in str(result)


@pytest.mark.parametrize("name, values", [
    ("ecr", {"region": "eu-west-1"}),
    ("ecr_public", {"region": None}),
    ("gcr", {"server": "europe-docker.pkg.dev", "auth": "access_token"}),
    ("acr", {"server": "r.azurecr.io", "auth": "token_exchange", "tenant_id": "t", "client_id": "i",
             "client_secret": "s"}),
])
def test_validating_a_provider_imports_no_sdk(name, values):
    # A fresh interpreter: this one has long imported everything.
    script = (
        "import importlib, sys\n"
        "provider = importlib.import_module('ansible_collections.regcred.k8s.plugins.module_utils.providers.%s')\n"
        "provider.validate(%r, 'registries[0]')\n"
        "provider.identity(%r)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'google', 'requests')))\n"
    ) % (name, entry(provider=name, **values), entry(provider=name, **values))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)))
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_registry_ids_over_the_limit_say_the_limit():
    exc = error({"registry_ids": ["%012d" % n for n in range(11)]})
    assert "11" in str(exc) and "at most 10" in str(exc)


def test_identity_keeps_the_default_host_form_out_and_names_others():
    assert "host_forms" not in ecr.identity(entry())
    assert ecr.identity(entry(host_forms=["standard", "dualstack"]))["host_forms"] == ["standard", "dualstack"]


class _Context:
    timeout = 1


@pytest.mark.parametrize("forms, servers", [
    (None, ["123456789012.dkr.ecr.eu-west-1.amazonaws.com"]),
    (["standard"], ["123456789012.dkr.ecr.eu-west-1.amazonaws.com"]),
    (["dualstack", "fips"], ["123456789012.dkr-ecr.eu-west-1.on.aws", "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com"]),
])
def test_one_token_is_written_under_each_host_form(forms, servers):
    import base64
    import datetime

    data = {"authorizationToken": base64.b64encode(b"AWS:secret-token").decode(),
            "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "expiresAt": datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)}
    made = ecr._credentials(data, entry(host_forms=forms), "registries[3]")
    assert [c.server for c in made] == servers
    assert {(c.username, c.password, c.provider) for c in made} == {("AWS", "secret-token", "ecr")}


def test_without_host_forms_the_registry_is_written_as_ecr_names_it():
    import base64
    import datetime

    data = {"authorizationToken": base64.b64encode(b"AWS:t").decode(),
            "proxyEndpoint": "https://123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
            "expiresAt": datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)}
    assert [c.server for c in ecr._credentials(data, entry(), "registries[3]")] == [
        "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"]
    assert [c.server for c in ecr._credentials(data, entry(host_forms=["standard"]), "registries[3]")] == [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com"]


def test_a_host_form_ecr_has_no_name_for_fails_on_host_forms():
    import base64
    import datetime

    data = {"authorizationToken": base64.b64encode(b"AWS:t").decode(),
            "proxyEndpoint": "https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "expiresAt": datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)}
    with pytest.raises(ProviderError) as info:
        ecr._credentials(data, entry(host_forms=["dualstack"]), "registries[3]")
    assert info.value.field == "registries[3].host_forms"


def public(**values):
    return dict(entry(provider="ecr_public", region=None), **values)


@pytest.mark.parametrize("values", [{}, {"region": "us-east-1"}, {"profile": "p"},
                                    {"access_key": "AKIAEXAMPLE", "secret_key": SECRET, "session_token": TOKEN},
                                    {"assume_role_arn": "arn:aws:iam::123456789012:role/r"}])
def test_ecr_public_valid_entries_pass(values):
    ecr_public.validate(public(**values), "registries[1]")


@pytest.mark.parametrize("values, field", [
    ({"region": "eu-west-1"}, "registries[1].region"),
    ({"server": "public.ecr.aws"}, "registries[1].server"),
    ({"registry_ids": ["123456789012"]}, "registries[1].registry_ids"),
    ({"host_forms": ["fips"]}, "registries[1].host_forms"),
    ({"access_key": "AKIAEXAMPLE"}, "registries[1].secret_key"),
    ({"endpoint_url": "api.ecr-public.us-east-1.amazonaws.com"}, "registries[1].endpoint_url"),
])
def test_ecr_public_invalid_entries_name_the_field(values, field):
    with pytest.raises(ProviderError) as info:
        ecr_public.validate(public(**values), "registries[1]")
    assert info.value.field == field


def test_ecr_public_identity_differs_from_ecr_and_holds_no_secret():
    found = ecr_public.identity(public(access_key="AKIAEXAMPLE", secret_key=SECRET, session_token=TOKEN))
    assert found == {"provider": "ecr_public", "profile": None, "access_key": "AKIAEXAMPLE",
                     "assume_role_arn": None, "endpoint_url": None}
    assert SECRET not in repr(found) and TOKEN not in repr(found)
