"""Amazon ECR end to end: moto mints, registry_pull_secret writes, skopeo pulls from an ECR-like
registry (tests/harness/ecr_registry.py) with what the Secret holds. ECR Public likewise: its
emulator mints, and skopeo pulls from the ECR-Public-like registry behind the emulator's token
endpoint (tests/harness/emulators_ecr.py).

The Secret's key is the real ECR host name, ``123456789012.dkr.ecr.us-east-1.amazonaws.com``,
which does not resolve here (and must not be looked up: test traffic stays on loopback). skopeo
is given an authfile whose entry is the Secret's entry for that key, moved to the key of the
registry's loopback address (an authfile key rewrite, not a registries.conf mirror: skopeo 1.9's
``inspect`` contacts the image's own host before any rewrite). The login is byte for byte the
Secret's."""

import base64
import datetime
import json
import secrets
import socket

import pytest

import testenv
from test_registry_credentials import auths, ecr, ecr_public, issued, moto

PULL_SECRET = "regcred.k8s.registry_pull_secret"
CREDENTIALS = "regcred.k8s.registry_credentials"
ACCOUNT, OTHER_ACCOUNT = "123456789012", "210987654321"


@pytest.fixture(name="namespace")
def namespace_fixture(make_namespace):
    return make_namespace("ecr")


def stored_auths(env, namespace, name):
    secret = testenv.core_v1(env["KUBECONFIG"]).read_namespaced_secret(name, namespace)
    return json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))["auths"]


def pull_with(env, entry, tmp_path, registry="REGCRED_ECR_REGISTRY"):
    """skopeo inspect of the test image on the ECR-like registry (or the one ``registry`` names),
    with ``entry`` as its login."""
    authfile = tmp_path / "skopeo-auth.json"
    authfile.write_text(json.dumps({"auths": {env[registry]: entry}}))
    return testenv.skopeo_inspect(env, "%s/%s" % (env[registry], env["REGCRED_TEST_IMAGE"]), authfile)


def test_skopeo_pulls_from_the_ecr_registry_with_the_secret(env, namespace, tmp_path):
    args = {"name": "ecr", "namespace": namespace, "registries": [ecr(env)]}
    run = testenv.run_task(env, PULL_SECRET, args, tmp_path, extra_env=moto(env))
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    stored = stored_auths(env, namespace, "ecr")
    assert list(stored) == [env["REGCRED_ECR_REGISTRY_HOST"]]
    assert stored[env["REGCRED_ECR_REGISTRY_HOST"]]["username"] == "AWS"
    pulled = pull_with(env, stored[env["REGCRED_ECR_REGISTRY_HOST"]], tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]


def test_the_ecr_registry_refuses_a_token_moto_issued_for_another_account(env, tmp_path):
    dest = tmp_path / "config.json"
    entry = dict(ecr(env), registry_ids=[OTHER_ACCOUNT])
    run = testenv.run_task(env, CREDENTIALS, {"registries": [entry], "dest": str(dest), "return_secrets": False},
                           tmp_path, extra_env=moto(env))
    assert not run.failed, run.result
    other = auths(dest)["%s.dkr.ecr.%s.amazonaws.com" % (OTHER_ACCOUNT, env["REGCRED_AWS_REGION"])]
    pulled = pull_with(env, other, tmp_path)
    assert pulled.returncode != 0 and "unauthorized" in pulled.stderr.lower(), pulled.stderr


def test_host_forms_write_one_login_under_each_name(env, tmp_path):
    dest = tmp_path / "config.json"
    entry = dict(ecr(env), host_forms=["standard", "fips", "dualstack"])
    run = testenv.run_task(env, CREDENTIALS, {"registries": [entry], "dest": str(dest), "return_secrets": False},
                           tmp_path, extra_env=moto(env))
    assert not run.failed, run.result
    region = env["REGCRED_AWS_REGION"]
    written = auths(dest)
    assert sorted(written) == sorted(["%s.dkr.ecr.%s.amazonaws.com" % (ACCOUNT, region),
                                      "%s.dkr.ecr-fips.%s.amazonaws.com" % (ACCOUNT, region),
                                      "%s.dkr-ecr.%s.on.aws" % (ACCOUNT, region)])
    assert len({value["auth"] for value in written.values()}) == 1


def test_registry_ids_over_the_limit_fail_before_any_call(env, tmp_path):
    # An endpoint where nothing listens: a request would fail with "cannot reach".
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = "https://127.0.0.1:%d" % sock.getsockname()[1]
    entry = dict(ecr(env), registry_ids=["%012d" % n for n in range(1, 12)], endpoint_url=closed)
    run = testenv.run_task(env, CREDENTIALS, {"registries": [entry], "return_secrets": False}, tmp_path)
    assert run.failed
    assert "registries[0].registry_ids" in run.result["msg"] and "at most 10" in run.result["msg"], run.result
    assert "cannot reach" not in run.result["msg"]


def test_ecr_public_token_is_written_for_public_ecr_aws(env, namespace, tmp_path):
    """ECR Public through its emulator (moto has no ecr-public): the Secret holds the token the
    emulator issued, under public.ecr.aws, with its 12-hour expiry."""
    args = {"name": "ecr-public", "namespace": namespace, "registries": [ecr_public(env)]}
    run = testenv.run_task(env, PULL_SECRET, args, tmp_path, extra_env=moto(env))
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    stored = stored_auths(env, namespace, "ecr-public")
    assert list(stored) == ["public.ecr.aws"] and stored["public.ecr.aws"]["username"] == "AWS"
    assert stored["public.ecr.aws"]["password"] in issued(env)
    expires = datetime.datetime.fromisoformat(run.result["expires_at"])
    assert datetime.timedelta(hours=11) < expires - datetime.datetime.now(datetime.timezone.utc) <= datetime.timedelta(hours=12)
    assert stored["public.ecr.aws"]["password"] not in run.stdout + run.stderr


def test_ecr_public_refusal_names_the_credential_and_hides_the_secret(env, tmp_path):
    entry = dict(ecr_public(env), secret_key="not-the-secret-key")
    run = testenv.run_task(env, CREDENTIALS, {"registries": [entry], "return_secrets": False}, tmp_path,
                           extra_env=moto(env))
    assert run.failed
    assert run.result["msg"].startswith("registries[0].access_key") and "InvalidSignatureException" in run.result["msg"]
    assert "not-the-secret-key" not in run.stdout + run.stderr


def test_skopeo_pulls_from_the_ecr_public_registry_with_the_secret(env, namespace, tmp_path):
    """The test image's repository needs the token there (only public/ is anonymous), so the
    pull proves the Secret's login opened it."""
    args = {"name": "ecr-public", "namespace": namespace, "registries": [ecr_public(env)]}
    run = testenv.run_task(env, PULL_SECRET, args, tmp_path, extra_env=moto(env))
    assert run.result["namespaces"][namespace]["result"] == "created", run.result
    stored = stored_auths(env, namespace, "ecr-public")
    assert list(stored) == ["public.ecr.aws"]
    anonymous = pull_with(env, {}, tmp_path, "REGCRED_ECR_PUBLIC_REGISTRY")
    assert anonymous.returncode != 0 and "unauthorized" in anonymous.stderr.lower(), anonymous.stderr
    pulled = pull_with(env, stored["public.ecr.aws"], tmp_path, "REGCRED_ECR_PUBLIC_REGISTRY")
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]


@pytest.mark.parametrize("login", [
    pytest.param(lambda password: "AWS:" + secrets.token_urlsafe(48), id="forged-password"),
    pytest.param(lambda password: "AWS:" + password + "A", id="altered-password"),
    pytest.param(lambda password: "aws:" + password, id="wrong-user"),
])
def test_the_ecr_public_registry_refuses_a_token_the_emulator_did_not_issue(env, tmp_path, login):
    dest = tmp_path / "config.json"
    run = testenv.run_task(env, CREDENTIALS, {"registries": [ecr_public(env)], "dest": str(dest),
                                              "return_secrets": False}, tmp_path, extra_env=moto(env))
    assert not run.failed, run.result
    issued_entry = auths(dest)["public.ecr.aws"]
    assert pull_with(env, issued_entry, tmp_path, "REGCRED_ECR_PUBLIC_REGISTRY").returncode == 0
    _user, password = base64.b64decode(issued_entry["auth"]).decode().split(":", 1)
    forged = {"auth": base64.b64encode(login(password).encode()).decode()}
    pulled = pull_with(env, forged, tmp_path, "REGCRED_ECR_PUBLIC_REGISTRY")
    assert pulled.returncode != 0 and "unauthorized" in pulled.stderr.lower(), pulled.stderr
