"""registry_pull_secret with the token providers, against moto and the local Google and Azure
endpoints: refresh_before decides when a token is minted and written."""

import base64
import json
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

import testenv

MODULE = "regcred.k8s.registry_pull_secret"


@pytest.fixture(name="namespace")
def namespace_fixture(make_namespace):
    return make_namespace("cloud")


def issued(env):
    return Path(env["REGCRED_ISSUED_TOKENS"]).read_text().split()


def stored_config(env, namespace, name):
    secret = testenv.core_v1(env["KUBECONFIG"]).read_namespaced_secret(name, namespace)
    return secret, json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))


def test_gcr_access_token_is_reused_until_refresh_before(env, namespace, tmp_path):
    args = {"name": "gar", "namespace": namespace, "refresh_before": "10m", "registries": [
        {"provider": "gcr", "server": "europe-docker.pkg.dev", "auth": "access_token",
         "service_account_key_file": env["REGCRED_GCP_KEY_FILE"]}]}
    first = testenv.run_task(env, MODULE, args, tmp_path)
    assert first.result["namespaces"][namespace]["result"] == "created", first.result
    assert first.result["registries"][0]["reused"] is False
    secret, config = stored_config(env, namespace, "gar")
    token = config["auths"]["europe-docker.pkg.dev"]["password"]
    assert config["auths"]["europe-docker.pkg.dev"]["username"] == "oauth2accesstoken"
    assert token in issued(env)
    assert secret.metadata.annotations["regcred.k8s/expires-at"] == first.result["expires_at"]

    minted_before, audit = len(issued(env)), testenv.AuditLog(env)
    second = testenv.run_task(env, MODULE, args, tmp_path)
    assert second.result["changed"] is False
    assert second.result["registries"][0]["reused"] is True
    assert len(issued(env)) == minted_before, "a fresh token was minted again"
    assert audit.writes(testenv.agent("registry_pull_secret")) == 0

    third = testenv.run_task(env, MODULE, dict(args, refresh_before="2h"), tmp_path)
    assert third.result["namespaces"][namespace]["result"] == "updated"
    assert len(issued(env)) == minted_before + 1
    assert stored_config(env, namespace, "gar")[1]["auths"]["europe-docker.pkg.dev"]["password"] != token
    leaked = [t for t in issued(env) if t in first.stdout + second.stdout + third.stdout]
    assert not leaked


def test_ecr_token_from_moto_is_written_and_honestly_expired(env, namespace, tmp_path):
    args = {"name": "ecr", "namespace": namespace, "registries": [
        {"provider": "ecr", "region": env["REGCRED_AWS_REGION"], "registry_ids": ["123456789012"],
         "access_key": env["REGCRED_AWS_ACCESS_KEY_ID"], "secret_key": env["REGCRED_AWS_SECRET_ACCESS_KEY"]}]}
    extra = {"AWS_ENDPOINT_URL_ECR": env["AWS_ENDPOINT_URL_ECR"]}
    run = testenv.run_task(env, MODULE, args, tmp_path, extra_env=extra)
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    server = "123456789012.dkr.ecr.%s.amazonaws.com" % env["REGCRED_AWS_REGION"]
    assert stored_config(env, namespace, "ecr")[1]["auths"][server]["username"] == "AWS"
    assert run.result["expires_at"].startswith("2015-")
    assert any("within refresh_before" in w for w in run.result.get("warnings", []))
    assert env["REGCRED_AWS_SECRET_ACCESS_KEY"] not in run.stdout


def test_acr_token_exchange_verified_against_the_registry(env, namespace, tmp_path):
    # The emulated ACR refresh token lives 3 h, so a 1 h window lets a rerun reuse it.
    args = {"name": "acr", "namespace": namespace, "verify": True, "registry_ca_path": env["REGCRED_AZURE_CA"],
            "refresh_before": "1h",
            "registries": [{"provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"], "auth": "token_exchange",
                            "tenant_id": env["REGCRED_AZURE_TENANT_ID"], "client_id": env["REGCRED_AZURE_CLIENT_ID"],
                            "client_secret": env["REGCRED_AZURE_CLIENT_SECRET"],
                            "authority_host": env["REGCRED_AZURE_AUTHORITY"]}]}
    run = testenv.run_task(env, MODULE, args, tmp_path)
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    entry = stored_config(env, namespace, "acr")[1]["auths"][env["REGCRED_AZURE_REGISTRY"]]
    assert entry["username"] == "00000000-0000-0000-0000-000000000000"
    assert entry["password"] in issued(env)
    assert run.result["expires_at"] is not None
    again = testenv.run_task(env, MODULE, args, tmp_path)
    assert again.result["changed"] is False and again.result["registries"][0]["reused"] is True

    wrong = dict(args, name="acr-wrong", registries=[dict(args["registries"][0], client_secret="not-it")])
    refused = testenv.run_task(env, MODULE, wrong, tmp_path)
    assert refused.failed and "client_secret" in refused.result["msg"]
    assert "not-it" not in refused.stdout + refused.stderr
    with pytest.raises(ApiException):
        stored_config(env, namespace, "acr-wrong")
