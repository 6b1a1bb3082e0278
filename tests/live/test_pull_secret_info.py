"""pull_secret_info against the real apiserver, its ServiceAccount admission and both registries."""

import base64
import datetime
import json
import time
import uuid

import pytest
from kubernetes import client

import testenv
from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig
from ansible_collections.regcred.k8s.plugins.module_utils.version import user_agent

MODULE = "regcred.k8s.pull_secret_info"
# Other modules may run against the same apiserver meanwhile; count only this one's requests.
OURS = user_agent("pull_secret_info")
WRONG = "wrong-Password-123"
REGISTRIES = {"basic": "REGCRED_REGISTRY_BASIC", "bearer": "REGCRED_REGISTRY_BEARER"}


@pytest.fixture(name="kind", params=sorted(REGISTRIES))
def kind_fixture(request):
    return request.param


@pytest.fixture(name="namespace")
def namespace_fixture(admin, make_namespace):
    """A new namespace whose default ServiceAccount exists."""
    name = make_namespace("psi")
    deadline = time.monotonic() + 30
    while not any(sa.metadata.name == "default" for sa in admin.list_namespaced_service_account(name).items):
        assert time.monotonic() < deadline, "no default ServiceAccount"
        time.sleep(0.2)
    return name


def image(env, kind, tag=None):
    repository, default_tag = env["REGCRED_TEST_IMAGE"].rsplit(":", 1)
    return "%s/%s:%s" % (env[REGISTRIES[kind]], repository, tag or default_tag)


def write_secret(admin, namespace, name, auths, annotations=None, legacy=False):
    """A pull Secret written directly, for the cases registry_pull_secret would not write."""
    payload = json.dumps(auths) if legacy else dockerconfig.serialize(auths).decode()
    admin.create_namespaced_secret(namespace, {
        "metadata": {"name": name, "annotations": annotations or {}},
        "type": "kubernetes.io/dockercfg" if legacy else "kubernetes.io/dockerconfigjson",
        "data": {".dockercfg" if legacy else ".dockerconfigjson": base64.b64encode(payload.encode()).decode()}})


def login(env, password=None):
    return dockerconfig.entry(env["REGCRED_REGISTRY_USER"], password or env["REGCRED_REGISTRY_PASSWORD"])


def attach(admin, namespace, *names, account="default"):
    admin.patch_namespaced_service_account(account, namespace, {"imagePullSecrets": [{"name": n} for n in names]})


def hidden(env, done):
    """The run, after failing the test if any password or its Basic form shows anywhere in it."""
    shown = done.stdout + done.stderr + json.dumps(done.result)
    for password in (env["REGCRED_REGISTRY_PASSWORD"], WRONG):
        assert password not in shown
        assert base64.b64encode(("%s:%s" % (env["REGCRED_REGISTRY_USER"], password)).encode()).decode() not in shown
    return done


def run(env, tmp_path, args, **kwargs):
    """One module run; fails the test if any password or its Basic form shows anywhere."""
    return hidden(env, testenv.run_task(env, MODULE, args, tmp_path, **kwargs))


def checked(env, kind):
    return {"check_pull": True, "registry_ca_path": env["REGCRED_REGISTRY_CA"], "image": image(env, kind)}


def test_good_credentials_pull_from_both_registries(env, admin, namespace, tmp_path, kind):
    made = testenv.run_task(env, "regcred.k8s.registry_pull_secret", {"name": "regcred", "namespace": namespace, "registries": [
        {"provider": "basic", "server": env[key], "username": env["REGCRED_REGISTRY_USER"],
         "password": env["REGCRED_REGISTRY_PASSWORD"]} for key in REGISTRIES.values()]}, tmp_path)
    assert not made.failed, made.result
    attach(admin, namespace, "regcred")
    host = env[REGISTRIES[kind]]
    audit = testenv.AuditLog(env)
    done = run(env, tmp_path, dict(checked(env, kind), namespace=namespace), check=True)
    assert not done.failed, done.result
    assert done.result["changed"] is False
    assert done.result["service_account"] == "default"
    [report] = done.result["images"]
    assert report["verdict"] == "will pull with Secret regcred (key %s) \u2014 checked: digest %s" % (
        host, env["REGCRED_TEST_IMAGE_DIGEST"])
    assert report["pull"] == {"ok": True, "secret": "regcred", "key": host, "digest": env["REGCRED_TEST_IMAGE_DIGEST"],
                              "errors": []}
    assert (report["registry"], report["repository"], report["reference"]) == (host, "regcred/hello", "v1")
    assert report["secrets"] == [{"name": "regcred", "source": "service_account", "found": True,
                                  "type": "kubernetes.io/dockerconfigjson", "problem": None, "rejected": False,
                                  "keys": sorted(env[key] for key in REGISTRIES.values())}]
    assert report["matches"] == [{"secret": "regcred", "key": host, "username": env["REGCRED_REGISTRY_USER"],
                                  "expires_at": None, "expired": False}]
    assert audit.verbs(OURS) == {"get": 2}  # the ServiceAccount and the Secret
    assert audit.writes(OURS) == 0


def test_without_check_pull_it_names_the_credential_and_asks_no_registry(env, admin, namespace, tmp_path):
    write_secret(admin, namespace, "regcred", {env["REGCRED_REGISTRY_BASIC"]: login(env, WRONG)})
    attach(admin, namespace, "regcred")
    done = run(env, tmp_path, {"namespace": namespace, "image": image(env, "basic")})
    [report] = done.result["images"]
    assert report["pull"] is None
    assert report["verdict"] == ("should pull with Secret regcred (key %s) \u2014 not checked; set check_pull to ask "
                                 "the registry" % env["REGCRED_REGISTRY_BASIC"])


def test_a_wrong_password_names_the_registrys_401(env, admin, namespace, tmp_path, kind):
    host = env[REGISTRIES[kind]]
    write_secret(admin, namespace, "regcred", {host: login(env, WRONG)})
    attach(admin, namespace, "regcred")
    done = run(env, tmp_path, dict(checked(env, kind), namespace=namespace))
    assert not done.failed, done.result
    [report] = done.result["images"]
    [error] = report["pull"]["errors"]
    assert report["pull"]["ok"] is False and report["pull"]["digest"] is None
    assert (error["secret"], error["key"], error["status"]) == ("regcred", host, 401)
    assert "refused the credential for user %s" % env["REGCRED_REGISTRY_USER"] in error["message"]
    assert report["verdict"].startswith("registry refused the credential from Secret regcred: HTTP 401")
    if kind == "basic":
        assert error["code"] == "UNAUTHORIZED"
        assert report["verdict"] == "registry refused the credential from Secret regcred: HTTP 401 UNAUTHORIZED"


def test_a_tag_that_does_not_exist_names_manifest_unknown(env, admin, namespace, tmp_path):
    write_secret(admin, namespace, "regcred", {env["REGCRED_REGISTRY_BASIC"]: login(env)})
    attach(admin, namespace, "regcred")
    done = run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace, image=image(env, "basic", "no-such-tag")))
    [report] = done.result["images"]
    assert report["pull"]["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert report["verdict"] == ("registry has no image regcred/hello:no-such-tag (HTTP 404 MANIFEST_UNKNOWN), "
                                 "asked with Secret regcred")


def test_a_key_for_another_host_is_named_as_the_mismatch(env, admin, namespace, tmp_path):
    write_secret(admin, namespace, "regcred", {"quay.io": login(env)})
    attach(admin, namespace, "regcred")
    done = run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace))
    [report] = done.result["images"]
    assert report["matches"] == [] and report["pull"] is None
    assert report["verdict"] == "no credential matches %s: Secret regcred has keys for quay.io only" % (
        env["REGCRED_REGISTRY_BASIC"])


def test_a_secret_that_exists_nowhere(env, admin, namespace, tmp_path):
    nowhere = "nowhere-%s" % uuid.uuid4().hex[:8]
    attach(admin, namespace, nowhere)
    done = run(env, tmp_path, {"namespace": namespace, "image": "nginx:1.25"})
    [report] = done.result["images"]
    assert (report["registry"], report["repository"], report["reference"]) == ("index.docker.io", "library/nginx", "1.25")
    assert report["verdict"] == "Secret %s is not in namespace %s (nor in any other namespace)" % (nowhere, namespace)


def test_a_secret_in_another_namespace_is_reported_missing(env, admin, namespace, make_namespace, tmp_path):
    other, name = make_namespace("psi"), "central-%s" % uuid.uuid4().hex[:8]
    write_secret(admin, other, name, {env["REGCRED_REGISTRY_BASIC"]: login(env)})
    attach(admin, namespace, name)
    audit = testenv.AuditLog(env)
    done = run(env, tmp_path, {"namespace": namespace, "image": image(env, "basic")})
    [report] = done.result["images"]
    assert report["secrets"][0]["found"] is False
    assert report["verdict"] == ("Secret %s is not in namespace %s (it exists in namespace %s; a pod can only "
                                 "use Secrets of its own namespace)" % (name, namespace, other))
    assert audit.verbs(OURS) == {"get": 2, "list": 1}  # the LIST reads Secret names only


def test_a_pod_resolves_through_its_service_account(env, admin, namespace, tmp_path):
    pod = {"metadata": {"name": "early"}, "spec": {"containers": [{"name": "app", "image": image(env, "basic")}]}}
    admin.create_namespaced_pod(namespace, pod)  # before the ServiceAccount lists the Secret
    made = testenv.run_task(env, "regcred.k8s.registry_pull_secret", {"name": "regcred", "namespace": namespace, "registries": [
        {"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"], "username": env["REGCRED_REGISTRY_USER"],
         "password": env["REGCRED_REGISTRY_PASSWORD"]}]}, tmp_path)
    attached = testenv.run_task(env, "regcred.k8s.sa_image_pull_secrets", {"namespace": namespace, "secrets": ["regcred"]},
                                tmp_path)
    assert not made.failed and not attached.failed, (made.result, attached.result)
    pod["metadata"]["name"] = "late"
    admin.create_namespaced_pod(namespace, pod)

    audit = testenv.AuditLog(env)
    late = run(env, tmp_path, {"namespace": namespace, "pod": "late", "check_pull": True,
                               "registry_ca_path": env["REGCRED_REGISTRY_CA"]})
    assert audit.verbs(OURS) == {"get": 3, "list": 1}  # pod, ServiceAccount, Secret; the pod's events
    [report] = late.result["images"]
    assert report["containers"] == ["app"]
    assert report["secrets"][0]["source"] == "service_account"
    assert report["pull"]["digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]
    assert report["verdict"].startswith("will pull with Secret regcred")
    assert late.result["events"] == []

    early = run(env, tmp_path, {"namespace": namespace, "pod": "early"})
    [report] = early.result["images"]
    assert report["secrets"] == [] and report["matches"] == []
    assert report["verdict"] == ("the pod offers no pull Secret: its ServiceAccount default lists regcred, but "
                                 "admission copies them only into pods created after that; delete and recreate the pod")


def test_a_pod_that_lists_its_own_secrets_and_its_pull_events(env, admin, namespace, tmp_path):
    write_secret(admin, namespace, "regcred", {env["REGCRED_REGISTRY_BASIC"]: login(env)})
    write_secret(admin, namespace, "bearer", {env["REGCRED_REGISTRY_BEARER"]: login(env, WRONG)})
    attach(admin, namespace, "unused")
    by_digest = image(env, "basic").rsplit(":", 1)[0] + "@" + env["REGCRED_TEST_IMAGE_DIGEST"]
    created = admin.create_namespaced_pod(namespace, {"metadata": {"name": "app"}, "spec": {
        "imagePullSecrets": [{"name": "regcred"}, {"name": "bearer"}],
        "initContainers": [{"name": "init", "image": by_digest}],
        "containers": [{"name": "app", "image": image(env, "basic")}, {"name": "side", "image": image(env, "bearer")},
                       {"name": "again", "image": image(env, "basic")}]}})
    involved = {"kind": "Pod", "namespace": namespace, "name": "app", "uid": created.metadata.uid}
    for second, reason, message in ((1, "Scheduled", "Successfully assigned"),
                                    (3, "BackOff", 'Back-off pulling image "%s"' % image(env, "bearer")),
                                    (2, "Failed", 'Failed to pull image "%s": 401 Unauthorized' % image(env, "bearer"))):
        admin.create_namespaced_event(namespace, {"metadata": {"name": "app.%d" % second}, "involvedObject": involved,
                                                  "reason": reason, "message": message, "type": "Warning", "count": 2,
                                                  "lastTimestamp": "2026-01-01T00:00:0%dZ" % second})
    done = run(env, tmp_path, {"namespace": namespace, "pod": "app", "check_pull": True,
                               "registry_ca_path": env["REGCRED_REGISTRY_CA"]})
    reports = done.result["images"]
    assert [(r["image"], r["containers"]) for r in reports] == [
        (by_digest, ["init"]), (image(env, "basic"), ["app", "again"]), (image(env, "bearer"), ["side"])]
    assert [s["name"] for s in reports[0]["secrets"]] == ["regcred", "bearer"]
    assert set(s["source"] for s in reports[0]["secrets"]) == {"pod"}
    assert reports[0]["reference"] == env["REGCRED_TEST_IMAGE_DIGEST"]
    assert reports[0]["pull"]["digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]
    assert reports[1]["verdict"].startswith("will pull with Secret regcred")
    assert reports[2]["verdict"].startswith("registry refused the credential from Secret bearer: HTTP 401")
    assert [(e["reason"], e["count"]) for e in done.result["events"]] == [("Failed", 2), ("BackOff", 2)]


def test_a_secret_of_the_wrong_type(env, admin, namespace, tmp_path):
    admin.create_namespaced_secret(namespace, {"metadata": {"name": "regcred"}, "type": "Opaque",
                                               "stringData": {"password": env["REGCRED_REGISTRY_PASSWORD"]}})
    attach(admin, namespace, "regcred")
    done = run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace))
    [report] = done.result["images"]
    assert report["secrets"][0] == {"name": "regcred", "source": "service_account", "found": True, "type": "Opaque",
                                    "keys": [], "rejected": False,
                                    "problem": "Secret regcred has type Opaque, not kubernetes.io/dockerconfigjson"}
    assert report["verdict"] == "Secret regcred has type Opaque, not kubernetes.io/dockerconfigjson"


def test_a_legacy_dockercfg_secret_pulls(env, admin, namespace, tmp_path):
    write_secret(admin, namespace, "old", {"https://%s" % env["REGCRED_REGISTRY_BEARER"]: login(env)}, legacy=True)
    attach(admin, namespace, "old")
    done = run(env, tmp_path, dict(checked(env, "bearer"), namespace=namespace))
    [report] = done.result["images"]
    assert report["secrets"][0]["type"] == "kubernetes.io/dockercfg"
    assert report["pull"]["digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]


def test_an_expired_token_from_the_stored_expiry(env, admin, namespace, tmp_path):
    host = env["REGCRED_REGISTRY_BASIC"]
    records = [{"server": host, "username": env["REGCRED_REGISTRY_USER"], "provider": "ecr", "source": "0" * 16,
                "expires_at": "2015-03-01T10:00:00Z"}]
    write_secret(admin, namespace, "ecr", {host: login(env, WRONG)},
                 {"regcred.k8s/credentials": json.dumps(records), "regcred.k8s/expires-at": "2015-03-01T10:00:00Z"})
    attach(admin, namespace, "ecr")
    done = run(env, tmp_path, {"namespace": namespace, "image": image(env, "basic")})
    [report] = done.result["images"]
    assert report["matches"][0]["expires_at"] == "2015-03-01T10:00:00Z" and report["matches"][0]["expired"] is True
    assert report["verdict"] == "token in Secret ecr expired at 2015-03-01T10:00:00Z"
    asked = run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace))
    assert asked.result["images"][0]["verdict"] == ("token in Secret ecr expired at 2015-03-01T10:00:00Z "
                                                    "(registry: HTTP 401 UNAUTHORIZED)")


def test_an_expired_jwt_password(env, admin, namespace, tmp_path):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    expired = datetime.datetime(2020, 5, 17, 8, 0, tzinfo=datetime.timezone.utc)
    token = ".".join((part({"alg": "RS256"}), part({"exp": int(expired.timestamp()), "sub": "puller"}), "c2lnbmF0dXJl"))
    write_secret(admin, namespace, "acr", {env["REGCRED_REGISTRY_BEARER"]: dockerconfig.entry("token-user", token)})
    attach(admin, namespace, "acr")
    done = run(env, tmp_path, {"namespace": namespace, "image": image(env, "bearer")})
    assert token not in done.stdout + done.stderr + json.dumps(done.result)
    [match] = done.result["images"][0]["matches"]
    assert match == {"secret": "acr", "key": env["REGCRED_REGISTRY_BEARER"], "username": "token-user",
                     "expires_at": "2020-05-17T08:00:00Z", "expired": True}


def test_restricted_identity_sees_a_403_on_the_secret_not_a_crash(env, admin, namespace, tmp_path):
    rbac = client.RbacAuthorizationV1Api(testenv.api_client(env["KUBECONFIG"]))
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "read-accounts"}, "rules": [
        {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "read-accounts"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-accounts"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": env["REGCRED_RESTRICTED_USER"]}]})
    write_secret(admin, namespace, "regcred", {env["REGCRED_REGISTRY_BASIC"]: login(env)})
    attach(admin, namespace, "regcred", "absent")
    done = run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace),
               kubeconfig=env["REGCRED_RESTRICTED_KUBECONFIG"])
    assert not done.failed, done.result
    [report] = done.result["images"]
    forbidden, absent = report["secrets"]
    assert forbidden["found"] is None and forbidden["problem"].startswith("cannot read Secret regcred: ")
    assert "forbidden" in forbidden["problem"] and "HTTP 403" in forbidden["problem"]
    assert absent["found"] is None  # a 403 says nothing about whether it exists
    assert report["verdict"].startswith("cannot read Secret regcred: ")


def test_a_pod_that_does_not_exist_fails_clearly(env, namespace, tmp_path):
    done = run(env, tmp_path, {"namespace": namespace, "pod": "nope"})
    assert done.failed
    assert done.result["msg"] == "pod: pod nope does not exist in namespace %s" % namespace


def test_a_service_account_that_does_not_exist(env, namespace, tmp_path):
    done = run(env, tmp_path, {"namespace": namespace, "image": "nginx", "service_account": "builder"})
    assert not done.failed, done.result
    assert done.result["images"][0]["verdict"] == (
        "the ServiceAccount builder does not exist in namespace %s, so pods that use it are rejected" % namespace)


# Each case: the arguments over the namespace default, and how its error must begin.
BAD_INPUT = {
    "bad-image": ({"image": "Bad Image!"}, "image: 'Bad Image!' is not a valid image reference"),
    "bad-second-image": ({"image": ["nginx", "quay.io/Org/app"]}, "image[1]: 'quay.io/Org/app' is not a valid image reference"),
    "no-image": ({"image": []}, "image: list at least one image"),
    "bad-namespace": ({"namespace": "Team_A", "image": "nginx"}, "namespace: 'Team_A' is not a valid namespace name"),
    "bad-pod": ({"pod": "Web!"}, "pod: 'Web!' is not a valid object name"),
    "bad-service-account": ({"image": "nginx", "service_account": "Builder"},
                            "service_account: 'Builder' is not a valid object name"),
    "pod-and-image": ({"pod": "web", "image": "nginx"}, "parameters are mutually exclusive: pod|image"),
    "neither-pod-nor-image": ({}, "one of the following is required: pod, image"),
}


@pytest.fixture(scope="module", name="bad_input")
def bad_input_fixture(env, tmp_path_factory):
    """The BAD_INPUT cases as the tasks of one play; per case its run and its stretch of the audit log."""
    return testenv.run_tasks_audited(env, {case: (MODULE, dict({"namespace": "default"}, **args))
                                           for case, (args, _message) in BAD_INPUT.items()},
                                     tmp_path_factory.mktemp("bad-input"))


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_fails_before_any_api_call(env, bad_input, case):
    done, audit = bad_input[case]
    hidden(env, done)
    message = BAD_INPUT[case][1]
    assert done.failed
    assert done.result["msg"].startswith(message), done.result["msg"]
    assert "Traceback" not in done.stdout + done.stderr
    assert audit.events(OURS) == []
