"""The ecr, gcr and acr providers against the local moto, Google and Azure endpoints."""

import base64
import datetime
import json
import os
import re

import boto3
import certifi
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext, acr, ecr, gcr
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import REGISTRY_OPTIONS

UTC = datetime.timezone.utc
FIELD = "registries[0]"


def entry(**values):
    result = dict.fromkeys(REGISTRY_OPTIONS)
    result.update(values)
    return result


def mint(provider, values, context=None):
    """validate, then mint, as the modules do."""
    provider.validate(values, FIELD)
    return provider.mint(values, FIELD, context or MintContext())


def issued_tokens(env):
    with open(env["REGCRED_ISSUED_TOKENS"], encoding="utf-8") as handle:
        return set(handle.read().split())


def seconds_left(credential):
    return (credential.expires_at - datetime.datetime.now(UTC)).total_seconds()


# ECR ---------------------------------------------------------------------------------------------

@pytest.fixture
def aws(env, monkeypatch, tmp_path):
    """No AWS credentials anywhere, and ECR requests going to moto the standard way."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", env["AWS_ENDPOINT_URL_ECR"])
    monkeypatch.setenv("AWS_CA_BUNDLE", env["AWS_CA_BUNDLE"])
    return tmp_path


def ecr_entry(env, **values):
    return entry(provider="ecr", region=env["REGCRED_AWS_REGION"], **values)


def keys(env):
    return {"access_key": env["REGCRED_AWS_ACCESS_KEY_ID"], "secret_key": env["REGCRED_AWS_SECRET_ACCESS_KEY"]}


def check_ecr(credential, env, account=r"[0-9]{12}"):
    assert re.fullmatch(r"%s\.dkr\.ecr\.%s\.amazonaws\.com" % (account, env["REGCRED_AWS_REGION"]),
                        credential.server), credential.server
    assert credential.username == "AWS"
    assert credential.password and ":" not in credential.password
    # moto's honest, already past expiry.
    assert credential.expires_at == datetime.datetime(2015, 1, 1, tzinfo=UTC)
    assert credential.provider == "ecr"


@pytest.mark.usefixtures("aws")
def test_ecr_with_explicit_keys(env):
    [credential] = mint(ecr, ecr_entry(env, **keys(env)))
    check_ecr(credential, env)


@pytest.mark.usefixtures("aws")
def test_ecr_one_credential_per_registry(env):
    credentials = mint(ecr, ecr_entry(env, registry_ids=["111111111111", "222222222222"], **keys(env)))
    assert len(credentials) == 2
    check_ecr(credentials[0], env, "111111111111")
    check_ecr(credentials[1], env, "222222222222")


def test_ecr_uses_the_default_chain_and_a_profile(env, aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", env["REGCRED_AWS_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env["REGCRED_AWS_SECRET_ACCESS_KEY"])
    check_ecr(mint(ecr, ecr_entry(env))[0], env)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    (aws / "credentials").write_text("[puller]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                                     % (env["REGCRED_AWS_ACCESS_KEY_ID"], env["REGCRED_AWS_SECRET_ACCESS_KEY"]))
    check_ecr(mint(ecr, ecr_entry(env, profile="puller"))[0], env)


@pytest.mark.usefixtures("aws")
def test_ecr_without_credentials_names_access_key(env):
    with pytest.raises(ProviderError) as info:
        mint(ecr, ecr_entry(env))
    assert info.value.field == FIELD + ".access_key"
    assert "no AWS credentials" in str(info.value)


@pytest.mark.usefixtures("aws")
def test_ecr_unknown_profile_names_profile(env):
    with pytest.raises(ProviderError) as info:
        mint(ecr, ecr_entry(env, profile="missing"))
    assert info.value.field == FIELD + ".profile"
    assert "missing" in str(info.value)


@pytest.mark.usefixtures("aws")
def test_ecr_endpoint_url_option_and_an_unreachable_endpoint(env, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_ECR")
    check_ecr(mint(ecr, ecr_entry(env, endpoint_url=env["AWS_ENDPOINT_URL_ECR"], **keys(env)))[0], env)
    with pytest.raises(ProviderError) as info:
        mint(ecr, ecr_entry(env, endpoint_url="http://127.0.0.1:1", **keys(env)))
    assert info.value.field == FIELD + ".endpoint_url"
    assert "http://127.0.0.1:1" in str(info.value)


@pytest.mark.usefixtures("aws")
def test_ecr_assumes_a_role_first(env, monkeypatch):
    # moto answers STS too; pointing the SDK at it is test set-up, the provider does not know.
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", env["AWS_ENDPOINT_URL_ECR"])
    sessions = []
    original = boto3.session.Session

    def recording_session(**kwargs):
        sessions.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(boto3.session, "Session", recording_session)
    check_ecr(mint(ecr, ecr_entry(env, assume_role_arn="arn:aws:iam::123456789012:role/puller", **keys(env)))[0], env)
    # The ECR session runs on the temporary credentials STS issued for the role.
    assert [s["aws_access_key_id"][:4] for s in sessions] == [env["REGCRED_AWS_ACCESS_KEY_ID"][:4], "ASIA"]
    assert sessions[1]["aws_session_token"]


# GCR ---------------------------------------------------------------------------------------------

def gcr_entry(env, auth, **values):
    values.setdefault("service_account_key_file", env["REGCRED_GCP_KEY_FILE"])
    return entry(provider="gcr", server="europe-docker.pkg.dev", auth=auth, **values)


def key_text(env):
    with open(env["REGCRED_GCP_KEY_FILE"], encoding="utf-8") as handle:
        return handle.read().strip()


def test_gcr_access_token(env):
    [credential] = mint(gcr, gcr_entry(env, "access_token"))
    assert credential.server == "europe-docker.pkg.dev"
    assert credential.username == "oauth2accesstoken"
    assert credential.password.startswith("ya29.local-")
    assert credential.password in issued_tokens(env)
    assert credential.expires_at.tzinfo is not None
    assert 3500 < seconds_left(credential) <= 3600


def test_gcr_access_token_from_a_key_given_as_a_dict(env):
    key = json.loads(key_text(env))
    [credential] = mint(gcr, gcr_entry(env, "access_token", service_account_key_file=None, service_account_key=key))
    assert credential.password in issued_tokens(env)


def test_gcr_access_token_from_application_default_credentials(env, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", env["REGCRED_GCP_KEY_FILE"])
    [credential] = mint(gcr, gcr_entry(env, "access_token", service_account_key_file=None))
    assert credential.password.startswith("ya29.local-")
    assert credential.password in issued_tokens(env)


def test_gcr_without_application_default_credentials(env, monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ProviderError) as info:
        mint(gcr, gcr_entry(env, "access_token", service_account_key_file=None))
    assert info.value.field == FIELD + ".service_account_key_file"
    assert "application default credentials" in str(info.value)


def test_gcr_json_key(env):
    [credential] = mint(gcr, gcr_entry(env, "json_key"))
    assert (credential.username, credential.expires_at) == ("_json_key", None)
    assert credential.password == key_text(env)
    assert json.loads(credential.password)["type"] == "service_account"


def test_gcr_json_key_base64(env):
    [credential] = mint(gcr, gcr_entry(env, "json_key_base64"))
    assert (credential.username, credential.expires_at) == ("_json_key_base64", None)
    assert base64.b64decode(credential.password).decode("utf-8") == key_text(env)


def test_gcr_malformed_key_is_refused_without_echoing_it(env, tmp_path):
    text = key_text(env)
    path = tmp_path / "truncated.json"
    path.write_text(text[:len(text) // 2], encoding="utf-8")
    with pytest.raises(ProviderError) as info:
        mint(gcr, gcr_entry(env, "access_token", service_account_key_file=str(path)))
    assert info.value.field == FIELD + ".service_account_key_file"
    private_key = json.loads(text)["private_key"]
    assert not any(line in str(info.value) for line in private_key.splitlines()[1:-1])


def test_gcr_key_the_endpoint_does_not_know(env):
    key = json.loads(key_text(env))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key["private_key"] = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
    before = issued_tokens(env)
    with pytest.raises(ProviderError) as info:
        mint(gcr, gcr_entry(env, "access_token", service_account_key_file=None, service_account_key=key))
    assert info.value.field == FIELD + ".service_account_key"
    assert "invalid_grant" in str(info.value)
    assert "eyJ" not in str(info.value)  # no JWT, so not the signed assertion
    assert issued_tokens(env) == before


def test_gcr_unreachable_token_endpoint(env):
    key = dict(json.loads(key_text(env)), token_uri="http://127.0.0.1:1/token")
    with pytest.raises(ProviderError) as info:
        mint(gcr, gcr_entry(env, "access_token", service_account_key_file=None, service_account_key=key),
             MintContext(timeout=5))
    assert info.value.field == FIELD + ".service_account_key"
    assert "cannot reach" in str(info.value)


# ACR ---------------------------------------------------------------------------------------------

def acr_entry(env, auth, **values):
    values.setdefault("authority_host", env["REGCRED_AZURE_AUTHORITY"])
    values.setdefault("client_secret", env["REGCRED_AZURE_CLIENT_SECRET"])
    return entry(provider="acr", server=env["REGCRED_AZURE_REGISTRY"], auth=auth,
                 tenant_id=env["REGCRED_AZURE_TENANT_ID"], client_id=env["REGCRED_AZURE_CLIENT_ID"], **values)


def acr_context(env):
    return MintContext(ca_path=env["REGCRED_AZURE_CA"])


def registry_opens(env, username, password):
    """Pull as a Docker client does: the challenge of /v2/, an access token from its realm with
    basic credentials, then the test image's manifest."""
    registry, ca = env["REGCRED_AZURE_REGISTRY"], env["REGCRED_AZURE_CA"]
    challenge = requests.get("https://%s/v2/" % registry, verify=ca, timeout=30)
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge.headers["WWW-Authenticate"]))
    repository, tag = env["REGCRED_TEST_IMAGE"].split(":")
    token = requests.get(params["realm"], auth=(username, password), verify=ca, timeout=30,
                         params={"service": params["service"], "scope": "repository:%s:pull" % repository})
    assert token.status_code == 200, token.status_code
    response = requests.get("https://%s/v2/%s/manifests/%s" % (registry, repository, tag), verify=ca, timeout=30,
                            headers={"Authorization": "Bearer " + token.json()["access_token"],
                                     "Accept": "application/vnd.oci.image.manifest.v1+json"})
    return response.status_code


def test_acr_token_exchange(env):
    [credential] = mint(acr, acr_entry(env, "token_exchange"), acr_context(env))
    assert credential.server == env["REGCRED_AZURE_REGISTRY"]
    assert credential.username == "00000000-0000-0000-0000-000000000000"
    assert credential.password in issued_tokens(env)
    assert 3 * 3600 - 60 < seconds_left(credential) <= 3 * 3600
    assert registry_opens(env, credential.username, credential.password) == 200


def test_acr_authority_from_the_environment(env, monkeypatch):
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", env["REGCRED_AZURE_AUTHORITY"])
    [credential] = mint(acr, acr_entry(env, "token_exchange", authority_host=None), acr_context(env))
    assert credential.password in issued_tokens(env)


def test_acr_wrong_client_secret(env):
    secret = "wrong-" + env["REGCRED_AZURE_CLIENT_SECRET"][::-1]
    with pytest.raises(ProviderError) as info:
        mint(acr, acr_entry(env, "token_exchange", client_secret=secret), acr_context(env))
    assert info.value.field.endswith(".client_secret")
    assert "AADSTS7000215" in str(info.value)
    assert secret not in str(info.value)
    assert env["REGCRED_AZURE_CLIENT_SECRET"] not in str(info.value)


def test_acr_checks_the_authority_certificate(env, monkeypatch):
    # The public CAs only: the emulated Azure AD's CA is not among them, and the registry CA
    # (registry_ca_path), which the challenge of the login server passes, does not apply to Azure AD.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    with pytest.raises(ProviderError) as info:
        mint(acr, acr_entry(env, "token_exchange"), acr_context(env))
    assert info.value.field == FIELD + ".authority_host"
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)


def test_acr_unreachable_registry(env):
    with pytest.raises(ProviderError) as info:
        mint(acr, dict(acr_entry(env, "token_exchange"), server="127.0.0.1:1"), acr_context(env))
    assert info.value.field == FIELD + ".server"
    assert not any(token in str(info.value) for token in issued_tokens(env))


def test_acr_service_principal(env):
    [credential] = mint(acr, acr_entry(env, "service_principal"), acr_context(env))
    assert credential.username == env["REGCRED_AZURE_CLIENT_ID"]
    assert credential.password == env["REGCRED_AZURE_CLIENT_SECRET"]
    assert credential.expires_at is None
    assert registry_opens(env, credential.username, credential.password) == 200
