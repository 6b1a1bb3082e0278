"""Every GCR auth method and Google credential source, end to end: registry_pull_secret writes the
Secret, and skopeo reads the test image from the GCR-like registry (a docker-registry whose Bearer
realm is the emulated GCR token endpoint, tests/harness/emulators_gcp.py) with the decoded
``.dockerconfigjson``. The Secret's key is the registry's own address (REGCRED_GCR_REGISTRY), so
no authfile rewrite is needed. Refusals: a wrong key, an identity without a role, unknown and
expired tokens, a subject token for another audience, impersonation without the permission.

authorized_user and impersonated_service_account files reach Google hosts whose names google-auth
fixes (oauth2.googleapis.com, iamcredentials.googleapis.com): those runs go through the
emulators' HTTPS proxy (HTTPS_PROXY, with NO_PROXY for loopback), as behind a TLS-inspecting proxy."""

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import testenv

MODULE = "regcred.k8s.registry_pull_secret"
PROJECT = "regcred-local.iam.gserviceaccount.com"


@pytest.fixture(name="namespace")
def namespace_fixture(make_namespace):
    return make_namespace("gcp")


def through_proxy(env):
    return {"HTTPS_PROXY": env["REGCRED_GOOGLE_PROXY"], "NO_PROXY": "127.0.0.1,localhost"}


def from_metadata_server(env, tmp_path):
    """Application default credentials with no file: google-auth finds the metadata server through
    GCE_METADATA_HOST / GCE_METADATA_IP (and no gcloud configuration in CLOUDSDK_CONFIG)."""
    return {"GCE_METADATA_HOST": env["REGCRED_GCE_METADATA_HOST"], "GCE_METADATA_IP": env["REGCRED_GCE_METADATA_HOST"],
            "CLOUDSDK_CONFIG": str(testenv.workdir(tmp_path, "gcloud"))}


def subject_token(env, namespace, tmp_path, audience=None):
    """A Kubernetes ServiceAccount token (the pool's OIDC issuer) in a file, as a projected volume has it."""
    wanted = audience or "https:" + env["REGCRED_GCP_WIF_PROVIDER"]
    testenv.wait_for_default(testenv.core_v1(env["KUBECONFIG"]), namespace)
    token = testenv.kubectl(env, "create", "token", "default", "-n", namespace, "--audience", wanted).stdout.strip()
    path = tmp_path / "subject-token"
    path.write_text(token)
    return path


def external_account(env, token_file, impersonate=False):
    """A workload identity federation credential configuration (gcloud iam
    workload-identity-pools create-cred-config), file-sourced."""
    info = {"type": "external_account", "audience": env["REGCRED_GCP_WIF_PROVIDER"],
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": env["REGCRED_GOOGLE_ENDPOINT"] + "/v1/token",
            "credential_source": {"file": str(token_file)}}
    if impersonate:
        info["service_account_impersonation_url"] = "%s/v1/projects/-/serviceAccounts/%s:generateAccessToken" % (
            env["REGCRED_GOOGLE_ENDPOINT"], env["REGCRED_GCP_IMPERSONATION_TARGET"])
    return info


def impersonated(env, source):
    """gcloud auth application-default login --impersonate-service-account's file."""
    return {"type": "impersonated_service_account", "source_credentials": source, "delegates": [],
            "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
                                                 "%s:generateAccessToken" % env["REGCRED_GCP_IMPERSONATION_TARGET"]}


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_secret(env, namespace, tmp_path, registry, extra_env=None, name="gcr"):
    args = {"name": name, "namespace": namespace, "registries": [registry]}
    return testenv.run_task(env, MODULE, args, testenv.workdir(tmp_path, name), extra_env=extra_env)


def pull_with_secret(env, namespace, tmp_path, name="gcr"):
    """skopeo inspect of the test image with the Secret's decoded .dockerconfigjson; returns
    (CompletedProcess, the Secret's entry for the registry)."""
    secret = testenv.core_v1(env["KUBECONFIG"]).read_namespaced_secret(name, namespace)
    config = base64.b64decode(secret.data[".dockerconfigjson"])
    authfile = tmp_path / f"{name}-auth.json"
    authfile.write_bytes(config)
    pulled = testenv.skopeo_inspect(env, f"{env['REGCRED_GCR_REGISTRY']}/{env['REGCRED_TEST_IMAGE']}", authfile)
    return pulled, json.loads(config)["auths"][env["REGCRED_GCR_REGISTRY"]]


def tokeninfo(env, token):
    url = env["REGCRED_GOOGLE_ENDPOINT"] + "/tokeninfo?access_token=" + token
    try:
        with testenv.urlopen(url, env) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        return json.load(exc)


def entry(env, auth, **values):
    return dict({"provider": "gcr", "server": env["REGCRED_GCR_REGISTRY"], "auth": auth}, **values)


# (entry, extra environment, the email tokeninfo names: None for a federated principal, which has none)
def sources(env, namespace, tmp_path):
    user = read_json(env["REGCRED_GCP_AUTHORIZED_USER_FILE"])
    target = env["REGCRED_GCP_IMPERSONATION_TARGET"]
    return {
        "service_account": (entry(env, "access_token", service_account_key_file=env["REGCRED_GCP_KEY_FILE"]), {},
                            "puller@" + PROJECT),
        "authorized_user": (entry(env, "access_token", service_account_key_file=env["REGCRED_GCP_AUTHORIZED_USER_FILE"]),
                            through_proxy(env), user["account"]),
        "external_account": (entry(env, "access_token", service_account_key=external_account(
            env, subject_token(env, namespace, tmp_path))), {}, None),
        "external_account_impersonating": (entry(env, "access_token", service_account_key=external_account(
            env, subject_token(env, namespace, tmp_path), impersonate=True)), {}, target),
        "impersonated_service_account": (entry(env, "access_token", service_account_key=impersonated(env, user)),
                                         through_proxy(env), target),
        "metadata_server": (entry(env, "access_token"), from_metadata_server(env, tmp_path), "node@" + PROJECT),
    }


SOURCES = ("service_account", "authorized_user", "external_account", "external_account_impersonating",
           "impersonated_service_account", "metadata_server")


def secret_name(source):
    return source.replace("_", "-")


@pytest.fixture(scope="module", name="by_source")
def by_source_fixture(env, module_namespace, tmp_path_factory):
    """A Secret from each of SOURCES, written by the tasks of one play, each task with its
    source's environment. Per source: the email tokeninfo names, and the run."""
    tmp_path = tmp_path_factory.mktemp("sources")
    found = sources(env, module_namespace, tmp_path)
    runs = testenv.run_tasks(env, {source: (MODULE, {"name": secret_name(source), "namespace": module_namespace,
                                                     "registries": [found[source][0]]}, {"environment": found[source][1]})
                                   for source in SOURCES}, tmp_path)
    return {source: (found[source][2], runs[source]) for source in SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_access_token_from_each_credential_source_pulls_with_skopeo(env, module_namespace, by_source, tmp_path, source):
    email, run = by_source[source]
    assert not run.failed, run.result
    pulled, auth = pull_with_secret(env, module_namespace, tmp_path, secret_name(source))
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]
    assert auth["username"] == "oauth2accesstoken"
    # The token is Google's, and for the identity this source stands for.
    info = tokeninfo(env, auth["password"])
    assert info.get("email") == email and "cloud-platform" in info["scope"], info
    assert auth["password"] in Path(env["REGCRED_ISSUED_TOKENS"]).read_text().split()
    assert auth["password"] not in run.stdout + run.stderr


@pytest.mark.parametrize("auth", ["json_key", "json_key_base64"])
def test_json_key_pulls_with_skopeo(env, namespace, tmp_path, auth):
    run = write_secret(env, namespace, tmp_path, entry(env, auth, service_account_key_file=env["REGCRED_GCP_KEY_FILE"]))
    assert not run.failed, run.result
    pulled, stored = pull_with_secret(env, namespace, tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    assert stored["username"] == "_" + auth


def test_json_key_refuses_a_credential_file_of_another_type_before_any_write(env, namespace, tmp_path):
    run = write_secret(env, namespace, tmp_path, entry(env, "json_key",
                                                       service_account_key_file=env["REGCRED_GCP_AUTHORIZED_USER_FILE"]))
    assert run.failed
    assert "registries[0].service_account_key_file" in run.result["msg"] and "auth=access_token" in run.result["msg"]
    assert read_json(env["REGCRED_GCP_AUTHORIZED_USER_FILE"])["client_secret"] not in run.stdout + run.stderr


def test_the_registry_refuses_a_key_that_is_not_the_accounts(env, namespace, tmp_path):
    """Same client_email and private_key_id, another private key: a forged key."""
    forged = dict(read_json(env["REGCRED_GCP_KEY_FILE"]),
                  private_key=read_json(env["REGCRED_GCP_OUTSIDER_KEY_FILE"])["private_key"])
    run = write_secret(env, namespace, tmp_path, entry(env, "json_key", service_account_key=forged))
    assert not run.failed, run.result
    pulled = pull_with_secret(env, namespace, tmp_path)[0]
    assert pulled.returncode != 0 and "unauthorized" in pulled.stderr.lower(), pulled.stderr


@pytest.mark.parametrize("auth", ["json_key", "access_token"])
def test_the_registry_refuses_an_identity_without_a_reader_role(env, namespace, tmp_path, auth):
    run = write_secret(env, namespace, tmp_path, entry(env, auth, service_account_key_file=env["REGCRED_GCP_OUTSIDER_KEY_FILE"]))
    assert not run.failed, run.result
    pulled = pull_with_secret(env, namespace, tmp_path)[0]
    assert pulled.returncode != 0 and "unauthorized" in pulled.stderr.lower(), pulled.stderr


def google_post(env, path, body, headers=None, form=True):
    data = (urllib.parse.urlencode(body) if form else json.dumps(body)).encode()
    with testenv.urlopen(env["REGCRED_GOOGLE_ENDPOINT"] + path, env, data=data, headers=headers or {}) as response:
        return json.load(response)


def impersonation_token(env, lifetime):
    user = read_json(env["REGCRED_GCP_AUTHORIZED_USER_FILE"])
    source = google_post(env, "/token", {"grant_type": "refresh_token", "client_id": user["client_id"],
                                         "client_secret": user["client_secret"], "refresh_token": user["refresh_token"]})
    path = "/v1/projects/-/serviceAccounts/%s:generateAccessToken" % env["REGCRED_GCP_IMPERSONATION_TARGET"]
    return google_post(env, path, {"scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": lifetime},
                       {"Authorization": "Bearer " + source["access_token"], "Content-Type": "application/json"},
                       form=False)["accessToken"]


def test_the_registry_takes_a_token_only_while_google_knows_it_valid(env, namespace, tmp_path):
    cases = {"valid": impersonation_token(env, "3600s"), "expired": impersonation_token(env, "1s"),
             "unknown": "ya29.local-" + "x" * 64}
    time.sleep(2)
    runs = testenv.run_tasks(env, {name: (MODULE, {"name": name, "namespace": namespace, "registries": [
        {"provider": "basic", "server": env["REGCRED_GCR_REGISTRY"], "username": "oauth2accesstoken", "password": token}]})
        for name, token in cases.items()}, tmp_path)
    results = {}
    for name in cases:
        assert not runs[name].failed, runs[name].result
        results[name] = pull_with_secret(env, namespace, tmp_path, name)[0]
    assert results["valid"].returncode == 0, results["valid"].stderr
    for name in ("expired", "unknown"):
        assert results[name].returncode != 0 and "unauthorized" in results[name].stderr.lower(), (name, results[name].stderr)


def test_a_subject_token_for_another_audience_is_refused_by_sts(env, namespace, tmp_path):
    token_file = subject_token(env, namespace, tmp_path, audience="https://example.com/not-the-pool")
    run = write_secret(env, namespace, tmp_path, entry(env, "access_token",
                                                       service_account_key=external_account(env, token_file)))
    assert run.failed
    assert "registries[0].service_account_key: the token endpoint refused: Error code invalid_grant" in run.result["msg"]
    assert "audience" in run.result["msg"], run.result
    assert token_file.read_text() not in run.stdout + run.stderr


def test_impersonation_without_token_creator_is_refused(env, namespace, tmp_path):
    """The file is given by path: as a dictionary, Ansible's no_log would mask its values (among
    them the word service_account) wherever they appear, field names included."""
    path = tmp_path / "impersonated.json"
    path.write_text(json.dumps(impersonated(env, read_json(env["REGCRED_GCP_OUTSIDER_KEY_FILE"]))))
    run = write_secret(env, namespace, tmp_path, entry(env, "access_token", service_account_key_file=str(path)),
                       through_proxy(env))
    assert run.failed
    assert "iam.serviceAccounts.getAccessToken" in run.result["msg"], run.result
    assert "PRIVATE KEY" not in run.stdout + run.stderr


def test_the_metadata_server_wants_its_header(env):
    url = "http://%s/computeMetadata/v1/instance/service-accounts/default/token" % env["REGCRED_GCE_METADATA_HOST"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)  # pylint: disable=consider-using-with
    assert refused.value.code == 403
    request = urllib.request.Request(url, headers={"Metadata-Flavor": "Google"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Metadata-Flavor"] == "Google"
        assert tokeninfo(env, json.load(response)["access_token"])["email"] == "node@" + PROJECT
