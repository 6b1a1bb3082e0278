"""The local environment is real: a control plane with RBAC and controllers, TLS registries with
auth, and cloud token endpoints that behave like the services they stand in for."""

import base64
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode

import boto3
import botocore.exceptions
import pytest
from google.auth.transport.requests import Request
from google.oauth2 import service_account
from kubernetes.client.exceptions import ApiException

import testenv

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout=60.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


@pytest.fixture(name="namespace")
def namespace_fixture(make_namespace):
    return make_namespace("env")


def authfile(tmp_path, hosts, user, password):
    path = tmp_path / "auth.json"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {h: {"auth": token} for h in hosts}}))
    return path


# control plane ----------------------------------------------------------------------------
def test_apiserver_is_the_pinned_release(env):
    version = json.loads(testenv.kubectl(env, "get", "--raw", "/version").stdout)
    pinned = (ROOT / "tests/harness/go/kubernetes/go.mod").read_text()
    assert f"k8s.io/kubernetes {version['gitVersion']}" in pinned
    assert version["gitVersion"].startswith("v1.34.")


def test_new_namespace_gets_default_service_account(admin, namespace):
    sa = wait_for(lambda: next((s for s in admin.list_namespaced_service_account(namespace).items
                                if s.metadata.name == "default"), None))
    assert sa is not None, "the controller-manager did not create the default ServiceAccount"


def test_deleted_namespace_really_goes_away(admin):
    name = f"env-gone-{uuid.uuid4().hex[:6]}"
    admin.create_namespace({"metadata": {"name": name}})
    admin.create_namespaced_secret(name, {"metadata": {"name": "s"}, "stringData": {"k": "v"}})
    admin.delete_namespace(name)

    def gone():
        try:
            admin.read_namespace(name)
        except ApiException as exc:
            return exc.status == 404
        return False
    assert wait_for(gone, timeout=90), "the namespace controller did not finish deleting"


@pytest.mark.parametrize("identity", ["certificate", "token"])
def test_restricted_identity_is_forbidden_outside_its_namespaces(env, identity):
    if identity == "certificate":
        api = testenv.core_v1(env["REGCRED_RESTRICTED_KUBECONFIG"])
    else:
        api = testenv.core_v1_with_token(env, env["REGCRED_RESTRICTED_TOKEN"])
    allowed, denied = env["REGCRED_ALLOWED_NAMESPACE"], env["REGCRED_DENIED_NAMESPACE"]
    name = f"probe-{uuid.uuid4().hex[:6]}"
    api.create_namespaced_secret(allowed, {"metadata": {"name": name}, "stringData": {"k": "v"}})
    api.delete_namespaced_secret(name, allowed)
    with pytest.raises(ApiException) as denied_exc:
        api.create_namespaced_secret(denied, {"metadata": {"name": name}, "stringData": {"k": "v"}})
    assert denied_exc.value.status == 403
    with pytest.raises(ApiException) as cluster_exc:
        api.list_secret_for_all_namespaces()
    assert cluster_exc.value.status == 403
    assert any(n.metadata.name == allowed for n in api.list_namespace().items)


def test_request_counters_see_writes(env, admin, namespace):
    before = testenv.request_counts(env, "secrets")
    admin.create_namespaced_secret(namespace, {"metadata": {"name": "counted"},
                                               "stringData": {"k": "v"}})
    after = testenv.request_counts(env, "secrets")
    assert testenv.writes(before, after) == 1
    assert after["POST"] - before["POST"] == 1


# registries -------------------------------------------------------------------------------
@pytest.mark.parametrize("registry", ["REGCRED_REGISTRY_BASIC", "REGCRED_REGISTRY_BEARER"])
def test_skopeo_pulls_with_good_credentials_only(env, tmp_path, registry):
    host, image = env[registry], f"{env[registry]}/{env['REGCRED_TEST_IMAGE']}"
    good = authfile(tmp_path, [host], env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
    ok = testenv.skopeo_inspect(env, image, good)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]

    bad = authfile(tmp_path, [host], env["REGCRED_REGISTRY_USER"], "wrong-password")
    denied = testenv.skopeo_inspect(env, image, bad)
    assert denied.returncode != 0
    assert "unauthorized" in denied.stderr.lower() or "401" in denied.stderr


def test_registry_refuses_untrusted_tls(env, tmp_path):
    # Without the local CA the client must fail certificate verification.
    host = env["REGCRED_REGISTRY_BASIC"]
    result = subprocess.run(["skopeo", "inspect", "--authfile", str(authfile(
        tmp_path, [host], env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])),
        f"docker://{host}/{env['REGCRED_TEST_IMAGE']}"], capture_output=True, text=True,
        timeout=60, check=False)
    assert result.returncode != 0
    assert "certificate" in result.stderr.lower()


def test_token_server_answers_containerd_password_grant(env):
    realm = env["REGCRED_REGISTRY_TOKEN_REALM"]
    form = {"grant_type": "password", "service": "regcred-registry", "client_id": "containerd",
            "username": env["REGCRED_REGISTRY_USER"], "password": env["REGCRED_REGISTRY_PASSWORD"],
            "scope": f"repository:{env['REGCRED_TEST_IMAGE'].split(':')[0]}:pull"}
    with testenv.urlopen(realm, env, data=urlencode(form).encode()) as resp:
        token = json.loads(resp.read())["access_token"]
    manifest = f"https://{env['REGCRED_REGISTRY_BEARER']}/v2/regcred/hello/manifests/v1"
    with testenv.urlopen(manifest, env, method="HEAD", headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.oci.image.manifest.v1+json"}) as resp:
        assert resp.headers["Docker-Content-Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]
    with pytest.raises(HTTPError) as exc:
        testenv.urlopen(realm, env, data=urlencode(dict(form, password="nope")).encode())
    assert exc.value.code == 401


# cloud emulators --------------------------------------------------------------------------
def test_moto_returns_an_ecr_token(env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", env["AWS_ENDPOINT_URL_ECR"])
    ecr = boto3.client("ecr", region_name=env["REGCRED_AWS_REGION"],
                       aws_access_key_id=env["REGCRED_AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["REGCRED_AWS_SECRET_ACCESS_KEY"])
    data = ecr.get_authorization_token(registryIds=["123456789012"])["authorizationData"][0]
    user, sep, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and sep and password
    assert data["proxyEndpoint"].startswith("https://123456789012.dkr.ecr.")


def test_the_ecr_registry_challenges_as_ecr_and_opens_with_moto_s_token_only(env, tmp_path):
    """The ECR-like registry: a Basic challenge with the ECR host as realm; the login in moto's
    token for its account pulls, the one moto issues for another account does not."""
    registry = env["REGCRED_ECR_REGISTRY"]
    with pytest.raises(HTTPError) as exc:
        testenv.urlopen(f"https://{registry}/v2/", env)
    assert exc.value.code == 401
    assert exc.value.headers["WWW-Authenticate"] == f'Basic realm="https://{env["REGCRED_ECR_REGISTRY_HOST"]}/"'
    ecr = boto3.client("ecr", region_name=env["REGCRED_AWS_REGION"], endpoint_url=env["AWS_ENDPOINT_URL_ECR"],
                       aws_access_key_id=env["REGCRED_AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["REGCRED_AWS_SECRET_ACCESS_KEY"])
    image = f"{registry}/{env['REGCRED_TEST_IMAGE']}"
    for account, opens in (("123456789012", True), ("210987654321", False)):
        data = ecr.get_authorization_token(registryIds=[account])["authorizationData"][0]
        user, _sep, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        result = testenv.skopeo_inspect(env, image, authfile(tmp_path, [registry], user, password))
        assert (result.returncode == 0) is opens, (account, result.stderr)


def test_ecr_public_emulator_takes_only_requests_signed_for_us_east_1(env):
    def token(region, secret_key):
        client = boto3.client("ecr-public", region_name=region, endpoint_url=env["AWS_ENDPOINT_URL_ECR_PUBLIC"],
                              aws_access_key_id=env["REGCRED_AWS_ACCESS_KEY_ID"], aws_secret_access_key=secret_key)
        return client.get_authorization_token()["authorizationData"]

    data = token("us-east-1", env["REGCRED_AWS_SECRET_ACCESS_KEY"])
    assert base64.b64decode(data["authorizationToken"]).decode().startswith("AWS:")
    for region, secret_key in (("eu-west-1", env["REGCRED_AWS_SECRET_ACCESS_KEY"]), ("us-east-1", "wrong")):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            token(region, secret_key)
        assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_the_ecr_public_registry_challenges_as_public_ecr_aws_and_its_realm_takes_issued_logins_only(env):
    """The ECR-Public-like registry names the emulator's token endpoint and the service
    public.ecr.aws; that endpoint grants pull to AWS with a password GetAuthorizationToken issued,
    and answers any other login with a 401."""
    registry, realm = env["REGCRED_ECR_PUBLIC_REGISTRY"], env["REGCRED_ECR_PUBLIC_TOKEN_REALM"]
    with pytest.raises(HTTPError) as challenge:
        testenv.urlopen(f"https://{registry}/v2/", env)
    assert challenge.value.code == 401
    assert challenge.value.headers["WWW-Authenticate"] == f'Bearer realm="{realm}",service="public.ecr.aws"'
    client = boto3.client("ecr-public", region_name="us-east-1", endpoint_url=env["AWS_ENDPOINT_URL_ECR_PUBLIC"],
                          aws_access_key_id=env["REGCRED_AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["REGCRED_AWS_SECRET_ACCESS_KEY"])
    issued = client.get_authorization_token()["authorizationData"]["authorizationToken"]
    query = urlencode({"service": "public.ecr.aws", "scope": f"repository:{env['REGCRED_TEST_IMAGE'].split(':')[0]}:pull"})
    with testenv.urlopen(f"{realm}?{query}", env, headers={"Authorization": "Basic " + issued}) as resp:
        granted = json.loads(resp.read())
    claims = json.loads(base64.urlsafe_b64decode(granted["token"].split(".")[1] + "=="))
    assert claims["aud"] == "public.ecr.aws" and claims["access"][0]["actions"] == ["pull"]
    user, _sep, password = base64.b64decode(issued).decode().partition(":")
    for login in (f"{user}:{password}x", f"other:{password}"):
        with pytest.raises(HTTPError) as refused:
            testenv.urlopen(f"{realm}?{query}", env, headers={"Authorization": "Basic " + base64.b64encode(login.encode()).decode()})
        assert refused.value.code == 401


def test_google_auth_refreshes_against_local_endpoint(env):
    creds = service_account.Credentials.from_service_account_file(
        env["REGCRED_GCP_KEY_FILE"], scopes=["https://www.googleapis.com/auth/cloud-platform"])
    creds.refresh(Request())
    assert creds.token.startswith("ya29.local-")
    assert creds.valid
    assert creds.token in Path(env["REGCRED_ISSUED_TOKENS"]).read_text().split()


def test_google_endpoint_rejects_a_foreign_key(env, tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "harness"))
    from pki import Pki, google_service_account_key  # pylint: disable=import-outside-toplevel
    key = json.loads(Path(env["REGCRED_GCP_KEY_FILE"]).read_text())
    foreign = google_service_account_key(Pki(tmp_path), tmp_path / "k.json", key["token_uri"])
    foreign["client_email"] = key["client_email"]
    (tmp_path / "k.json").write_text(json.dumps(foreign))
    creds = service_account.Credentials.from_service_account_file(
        str(tmp_path / "k.json"), scopes=["https://www.googleapis.com/auth/cloud-platform"])
    with pytest.raises(Exception, match="invalid_grant"):
        creds.refresh(Request())


def _aad_token(env, secret):
    url = f"{env['REGCRED_AZURE_AUTHORITY']}/{env['REGCRED_AZURE_TENANT_ID']}/oauth2/v2.0/token"
    form = {"grant_type": "client_credentials", "client_id": env["REGCRED_AZURE_CLIENT_ID"],
            "client_secret": secret, "scope": "https://containerregistry.azure.net/.default"}
    with testenv.urlopen(url, env, data=urlencode(form).encode()) as resp:
        return json.loads(resp.read())["access_token"]


def test_azure_exchange_returns_a_refresh_token_that_opens_the_registry(env):
    """The ACR flow by hand: the registry's challenge names the token service, which exchanges an
    Azure AD token for a refresh token and that for an access token the registry accepts."""
    registry, service = env["REGCRED_AZURE_REGISTRY"], env["REGCRED_AZURE_TOKEN_SERVICE"]
    with pytest.raises(HTTPError) as challenge:
        testenv.urlopen(f"https://{registry}/v2/", env)
    assert challenge.value.code == 401
    assert challenge.value.headers["WWW-Authenticate"].startswith(f'Bearer realm="https://{service}/oauth2/token"')
    aad = _aad_token(env, env["REGCRED_AZURE_CLIENT_SECRET"])
    form = {"grant_type": "access_token", "service": registry,
            "tenant": env["REGCRED_AZURE_TENANT_ID"], "access_token": aad}
    with testenv.urlopen(f"https://{service}/oauth2/exchange", env,
                         data=urlencode(form).encode()) as resp:
        refresh = json.loads(resp.read())["refresh_token"]
    assert refresh in Path(env["REGCRED_ISSUED_TOKENS"]).read_text().split()
    basic = base64.b64encode(f"00000000-0000-0000-0000-000000000000:{refresh}".encode()).decode()
    scope = "repository:" + env["REGCRED_TEST_IMAGE"].split(":")[0] + ":pull"
    with testenv.urlopen(f"https://{service}/oauth2/token?service={registry}&scope={scope}",
                         env, headers={"Authorization": f"Basic {basic}"}) as resp:
        access = json.loads(resp.read())["access_token"]
    with testenv.urlopen(f"https://{registry}/v2/", env,
                         headers={"Authorization": f"Bearer {access}"}) as resp:
        assert resp.status == 200


def test_azure_rejects_a_wrong_client_secret(env):
    with pytest.raises(HTTPError) as exc:
        _aad_token(env, "not-the-secret")
    assert exc.value.code == 401


# the environment itself -------------------------------------------------------------------
def _listening_addresses(pids):
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = fd.readlink().as_posix()
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                found.append(cols[1].split(":")[0])
    return found


def test_every_server_listens_on_loopback_only(env):
    state = json.loads(Path(env["REGCRED_LOCALENV_STATE"]).read_text())
    addresses = _listening_addresses(p["pid"] for p in state["processes"].values())
    assert addresses, "no listening sockets found"
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
    assert set(addresses) <= loopback, addresses


def test_up_twice_reuses_the_running_environment(env):
    state_file = Path(env["REGCRED_LOCALENV_STATE"])
    before = json.loads(state_file.read_text())["processes"]
    result = subprocess.run([sys.executable, str(ROOT / "tests/harness/localenv.py"), "up"],
                            capture_output=True, text=True, timeout=120, check=True)
    assert "already up" in result.stdout
    assert json.loads(state_file.read_text())["processes"] == before


def test_python_dependencies_are_consistent():
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
