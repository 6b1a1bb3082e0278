"""End to end on a real node: a kubelet with containerd pulls the private test image with nothing
but the Secret the collection wrote and attached to the default ServiceAccount.

Pods name no imagePullSecrets of their own: ServiceAccount admission copies them from
``default``, the kubelet picks a credential by its own key matching and containerd pulls. Every
pod pulls (``imagePullPolicy: Always``), so an image cached by an earlier test proves nothing.
"""

import base64
import ipaddress
import json
import secrets
import subprocess
import time
import urllib.error
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

import testenv

HERE = Path(__file__).resolve().parent
PLAY = HERE / "pull_secret.yml"
REGISTRIES = {"basic": "REGCRED_REGISTRY_BASIC", "bearer": "REGCRED_REGISTRY_BEARER"}
PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff")
# How containerd words the registry's 401 in the kubelet's Failed event. Behind a token server an
# anonymous client does get a token, without pull access, and the registry's 401 then carries
# "insufficient_scope", which containerd reports as denied access.
REFUSALS = {"basic": "401 Unauthorized", "bearer": "insufficient_scope: authorization failed"}
ROTATION_USER = "regcred-rotation"
OUTCOME_TIMEOUT = 120


def image(env, kind):
    return f"{env[REGISTRIES[kind]]}/{env['REGCRED_TEST_IMAGE']}"


def run_play(env, namespace, kind, username, password):
    """The collection's own play; fails the test if it fails or shows the password."""
    done = testenv.run_playbook(env, PLAY, extra_env={
        "E2E_NAMESPACE": namespace, "E2E_REGISTRY": env[REGISTRIES[kind]],
        "E2E_USERNAME": username, "E2E_PASSWORD": password,
        "REGCRED_REGISTRY_CA": env["REGCRED_REGISTRY_CA"]})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert password not in done.stdout + done.stderr
    return done


def write_secret(env, namespace, registry, tmp_path, name="regcred"):
    """registry_pull_secret writes the pull Secret ``name`` with the one ``registry`` (an entry of
    its ``registries``) into ``namespace``, verified with the registry and attached to no
    ServiceAccount; fails the test unless it created the Secret without showing the shared password."""
    written = testenv.run_task(env, "regcred.k8s.registry_pull_secret", {
        "name": name, "namespace": namespace, "verify": True, "registry_ca_path": env["REGCRED_REGISTRY_CA"],
        "registries": [registry]}, tmp_path)
    assert not written.failed and written.result["namespaces"][namespace]["result"] == "created", written.result
    assert env["REGCRED_REGISTRY_PASSWORD"] not in written.stdout + written.stderr + json.dumps(written.result)


def shared_login(env):
    return env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"]


def start_pod(admin, node, namespace, ref, name="hello", account=None, policy="Always", secrets=()):
    """A one-shot pod on the node, as ServiceAccount ``account`` (else default): a fixed nodeName,
    as there is no scheduler; its network is the node's CNI bridge. Its own imagePullSecrets are
    ``secrets`` (by default none) and it has no API token; pulling is all it tests."""
    admin.create_namespaced_pod(namespace, {
        "metadata": {"name": name},
        "spec": {"nodeName": node, "restartPolicy": "Never", "automountServiceAccountToken": False,
                 **({"serviceAccountName": account} if account else {}),
                 **({"imagePullSecrets": [{"name": s} for s in secrets]} if secrets else {}),
                 "containers": [{"name": "hello", "image": ref, "imagePullPolicy": policy}]}})
    return time.monotonic()


def outcome(admin, namespace, name, since, timeout=OUTCOME_TIMEOUT):
    """Wait until the kubelet has pulled and run the one-shot pod to its end ("pulled", with the
    container's status) or given up pulling ("refused", with the waiting reason). Returns
    (outcome, detail, seconds).
    A pull that failed while the kubelet could not yet read a pull Secret the pod names (its
    FailedToRetrieveImagePullSecret event: the Secret was written a moment before and the kubelet's
    Secret cache had not caught up) says nothing about the credentials: the kubelet retries after
    its back-off, and the retry decides. Until the retry ends the pod's status still shows the
    back-off, so only a further failed pull (its "Failed to pull image" event) is a refusal."""
    deadline = since + timeout
    raced_at = None  # the failed pulls counted when a failure was found to be that race
    while time.monotonic() < deadline:
        pod = admin.read_namespaced_pod(name, namespace)
        if pod.status.phase in ("Succeeded", "Failed"):
            return "pulled", pod.status.container_statuses[0], time.monotonic() - since
        for status in pod.status.container_statuses or []:
            waiting = status.state.waiting
            if not (waiting and waiting.reason in PULL_FAILURES):
                continue
            found = pod_events(admin, namespace, name)
            failed = failed_pulls(found)
            if raced_at is None and secret_unread(admin, namespace, pod, found):
                # The raced pull's own event may not be listed yet: it counts as one.
                raced_at = max(failed, 1)
            elif raced_at is None or failed > raced_at:
                return "refused", waiting.reason, time.monotonic() - since
        time.sleep(0.2)
    raise AssertionError(f"pod {namespace}/{name} neither ran nor failed to pull in {timeout} s: "
                         f"{pod.status.phase}; events: {events(admin, namespace, name)}")


def secret_unread(admin, namespace, pod, found):
    """Whether the kubelet said (in the pod's events ``found``) it could not read a pull Secret that
    exists now: only then is a failed pull a race with the Secret cache and not a refusal."""
    unread = [e for e in found if e.reason == "FailedToRetrieveImagePullSecret"]
    names = [ref.name for ref in pod.spec.image_pull_secrets or []]
    existing = {s.metadata.name for s in admin.list_namespaced_secret(namespace).items}
    return bool(unread) and bool(names) and all(n in existing for n in names)


def failed_pulls(found):
    """How many of the kubelet's pulls for the pod failed (its "Failed to pull image" events
    ``found``, with their counts; not the "Error: ImagePullBackOff" ones of a sync in back-off)."""
    return sum(e.count or 1 for e in found if e.reason == "Failed" and (e.message or "").startswith("Failed to pull image"))


def pod_events(admin, namespace, name):
    """The pod's Event objects, in the apiserver's order."""
    return admin.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items


def events(admin, namespace, name):
    """The pod's events as (reason, message), oldest first."""
    found = pod_events(admin, namespace, name)
    found.sort(key=lambda e: e.last_timestamp or e.event_time or e.metadata.creation_timestamp)
    return [(e.reason, e.message or "") for e in found]


def wait_for_event(admin, namespace, name, reason, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for r, m in events(admin, namespace, name) if r == reason]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {reason} event for {namespace}/{name}: {events(admin, namespace, name)}")


def info(env, namespace, pod, tmp_path):
    """pull_secret_info's report of the pod's one image, with a real check against the registry."""
    done = testenv.run_task(env, "regcred.k8s.pull_secret_info", {
        "namespace": namespace, "pod": pod, "check_pull": True,
        "registry_ca_path": env["REGCRED_REGISTRY_CA"]}, tmp_path)
    assert not done.failed, done.result
    assert env["REGCRED_REGISTRY_PASSWORD"] not in done.stdout + json.dumps(done.result)
    (report,) = done.result["images"]
    return report, done.result["events"]


def will_pull(report):
    return bool(report["pull"] and report["pull"]["ok"])


def assert_pulls(env, admin, node, namespace, kind, tmp_path, timings, label, pod="hello"):
    """The pod runs the test image (by its digest) to exit code 0, the kubelet says Pulled, and
    pull_secret_info agrees."""
    since = start_pod(admin, node, namespace, image(env, kind), pod)
    result, status, seconds = outcome(admin, namespace, pod, since)
    assert result == "pulled", (status, events(admin, namespace, pod))
    assert status.state.terminated.exit_code == 0, status.state.terminated
    assert status.image_id.endswith("@" + env["REGCRED_TEST_IMAGE_DIGEST"]), status.image_id
    pulled = wait_for_event(admin, namespace, pod, "Pulled")
    assert image(env, kind) in pulled[0]
    timings[label] = round(seconds, 2)
    report, pull_events = info(env, namespace, pod, tmp_path)
    assert pull_events == []
    assert will_pull(report), report["verdict"]
    assert report["pull"]["secret"] == "regcred"
    assert report["pull"]["digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]


def assert_refused(env, admin, node, namespace, kind, tmp_path, timings, label, pod="hello"):
    """The kubelet cannot pull: ErrImagePull/ImagePullBackOff, the registry's 401 in its Failed
    event, and pull_secret_info says the image will not pull."""
    since = start_pod(admin, node, namespace, image(env, kind), pod)
    result, detail, seconds = outcome(admin, namespace, pod, since)
    assert result == "refused", detail
    timings[label] = round(seconds, 2)
    failed = wait_for_event(admin, namespace, pod, "Failed")
    assert any(REFUSALS[kind] in m for m in failed), failed
    assert "Pulled" not in [event[0] for event in events(admin, namespace, pod)]
    report, pull_events = info(env, namespace, pod, tmp_path)
    assert not will_pull(report), report["verdict"]
    assert any(REFUSALS[kind] in e["message"] for e in pull_events if e["reason"] == "Failed"), pull_events
    return report


def test_the_node_authorizer_limits_the_kubelet_to_its_pods_secrets(env, admin, node, namespace):
    """The kubelet reads pull Secrets as system:node:<name>, which Node authorization allows only
    for Secrets that a pod bound to the node references."""
    admin.create_namespaced_secret(namespace, {"metadata": {"name": "unrelated"}, "stringData": {"k": "v"}})
    as_node = testenv.core_v1(env["REGCRED_NODE_KUBECONFIG"])
    assert as_node.read_node(node).metadata.name == node
    with pytest.raises(ApiException) as denied:
        as_node.read_namespaced_secret("unrelated", namespace)
    assert denied.value.status == 403


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_default_service_account_secret_pulls(env, admin, node, namespace, tmp_path, timings, kind):
    run_play(env, namespace, kind, *shared_login(env))
    account = admin.read_namespaced_service_account("default", namespace)
    assert [s.name for s in account.image_pull_secrets] == ["regcred"]
    assert_pulls(env, admin, node, namespace, kind, tmp_path, timings, f"pull and run ({kind})")
    pod = admin.read_namespaced_pod("hello", namespace)
    assert [s.name for s in pod.spec.image_pull_secrets] == ["regcred"], "admission copies them from default"
    assert not pod.spec.host_network
    assert ipaddress.ip_address(pod.status.pod_ip) in ipaddress.ip_network(env["REGCRED_NODE_POD_SUBNET"]), \
        f"{pod.status.pod_ip} is not from the node's CNI bridge"


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_without_the_secret_the_pull_is_refused(env, admin, node, namespace, tmp_path, timings, kind):
    report = assert_refused(env, admin, node, namespace, kind, tmp_path, timings, f"refused ({kind})")
    assert report["secrets"] == [] and report["pull"] is None


def set_rotation_password(env, password):
    """Set the rotation user's password in the Basic registry's htpasswd file (``None`` removes
    the user) and wait until the registry, which rereads the file when it changes, agrees."""
    htpasswd = env["REGCRED_REGISTRY_HTPASSWD"]
    if password is None:
        subprocess.run(["htpasswd", "-D", htpasswd, ROTATION_USER], check=True, capture_output=True)
    else:
        subprocess.run(["htpasswd", "-Bi", htpasswd, ROTATION_USER], input=password, text=True,
                       check=True, capture_output=True)
    url = f"https://{env['REGCRED_REGISTRY_BASIC']}/v2/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if registry_accepts(env, url, password or "") == (password is not None):
            return
        time.sleep(0.2)
    raise AssertionError("the Basic registry did not pick up the changed htpasswd file")


def registry_accepts(env, url, password):
    token = base64.b64encode(f"{ROTATION_USER}:{password}".encode()).decode()
    try:
        with testenv.urlopen(url, env, headers={"Authorization": f"Basic {token}"}):
            return True
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            return False
        raise


@pytest.fixture(name="rotation_user")
def rotation_user_fixture(env):
    """A registry user of its own, so the shared test user's password never changes; removed after."""
    yield lambda password: set_rotation_password(env, password)
    set_rotation_password(env, None)


def test_rotation(env, admin, node, namespace, tmp_path, timings, rotation_user):
    old, new = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    rotation_user(old)
    run_play(env, namespace, "basic", ROTATION_USER, old)
    written = admin.read_namespaced_secret("regcred", namespace).metadata.resource_version
    assert_pulls(env, admin, node, namespace, "basic", tmp_path, timings, "pull before rotation", "before")

    rotation_user(new)
    stale = assert_refused(env, admin, node, namespace, "basic", tmp_path, timings, "refused with the old password", "stale")
    assert [e["status"] for e in stale["pull"]["errors"]] == [401]

    rerun = run_play(env, namespace, "basic", ROTATION_USER, new)
    assert old not in rerun.stdout + rerun.stderr
    assert admin.read_namespaced_secret("regcred", namespace).metadata.resource_version != written
    assert_pulls(env, admin, node, namespace, "basic", tmp_path, timings, "pull after rotation", "after")


def cloud_entries(env):
    """Registries of the cloud-like registries, with the credentials their providers mint: an ACR
    refresh token from the Azure AD token exchange, a Google OAuth2 access token."""
    return {
        "acr-token_exchange": ("REGCRED_AZURE_REGISTRY", {
            "provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"], "auth": "token_exchange",
            "tenant_id": env["REGCRED_AZURE_TENANT_ID"], "client_id": env["REGCRED_AZURE_CLIENT_ID"],
            "client_secret": env["REGCRED_AZURE_CLIENT_SECRET"], "authority_host": env["REGCRED_AZURE_AUTHORITY"]}),
        "gcr-access_token": ("REGCRED_GCR_REGISTRY", {
            "provider": "gcr", "server": env["REGCRED_GCR_REGISTRY"], "auth": "access_token",
            "service_account_key_file": env["REGCRED_GCP_KEY_FILE"]}),
    }


@pytest.mark.parametrize("case", ["acr-token_exchange", "gcr-access_token"])
def test_minted_cloud_tokens_pull(env, admin, node, namespace, tmp_path, timings, case):
    """The kubelet pulls with a token the collection minted (not a static password): refused before
    the Secret exists, pulled once registry_pull_secret wrote it and it is attached to default."""
    key, registry = cloud_entries(env)[case]
    ref = f"{env[key]}/{env['REGCRED_TEST_IMAGE']}"
    since = start_pod(admin, node, namespace, ref, "before")
    assert outcome(admin, namespace, "before", since)[0] == "refused", events(admin, namespace, "before")
    write_secret(env, namespace, registry, testenv.workdir(tmp_path, "write"))
    attached = testenv.run_task(env, "regcred.k8s.sa_image_pull_secrets", {"namespace": namespace, "secrets": ["regcred"]},
                                testenv.workdir(tmp_path, "attach"))
    assert not attached.failed, attached.result
    since = start_pod(admin, node, namespace, ref, "after")
    result, status, seconds = outcome(admin, namespace, "after", since)
    assert result == "pulled", (status, events(admin, namespace, "after"))
    assert status.state.terminated.exit_code == 0, status.state.terminated
    assert status.image_id.endswith("@" + env["REGCRED_TEST_IMAGE_DIGEST"]), status.image_id
    timings[f"pull and run ({case})"] = round(seconds, 2)
    auths = json.loads(base64.b64decode(admin.read_namespaced_secret("regcred", namespace).data[".dockerconfigjson"]))
    user = base64.b64decode(auths["auths"][env[key]]["auth"]).decode().partition(":")[0]
    assert user == {"acr-token_exchange": "00000000-0000-0000-0000-000000000000",
                    "gcr-access_token": "oauth2accesstoken"}[case]
