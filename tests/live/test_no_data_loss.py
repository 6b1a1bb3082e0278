"""registry_pull_secret never loses what a Secret held: a forced replace that the apiserver refuses
puts the previous Secret back, a source without entries fails instead of emptying a Secret, a
merge keeps what it does not manage exactly as it was, and from_secret is a byte-for-byte copy.

Each test reads the result back from the real apiserver."""

import base64
import json
import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

import kubelet_oracle
import testenv
from ansible_collections.regcred.k8s.plugins.module_utils import keyring

MODULE = "regcred.k8s.registry_pull_secret"
PULL_TYPE = "kubernetes.io/dockerconfigjson"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def basic(env):
    return {"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"], "username": env["REGCRED_REGISTRY_USER"],
            "password": env["REGCRED_REGISTRY_PASSWORD"]}


def put_pull_secret(admin, namespace, payload, name="regcred", **extra):
    """A pull Secret whose .dockerconfigjson is exactly ``payload`` (bytes)."""
    body = {"metadata": {"name": name}, "type": PULL_TYPE,
            "data": {".dockerconfigjson": base64.b64encode(payload).decode()}}
    body.update(extra)
    return admin.create_namespaced_secret(namespace, body)


def payload(admin, namespace, name="regcred"):
    return base64.b64decode(admin.read_namespaced_secret(name, namespace).data[".dockerconfigjson"])


@pytest.fixture(name="refuse_our_creates")
def refuse_our_creates_fixture(env):
    """refuse_our_creates(namespace): a ValidatingAdmissionPolicy, bound to that namespace only,
    that refuses to create a Secret carrying this collection's credentials annotation. Anything
    else, such as the previous Secret put back, is created as usual. Removed afterwards."""
    api = client.AdmissionregistrationV1Api(testenv.api_client(env["KUBECONFIG"]))
    core = testenv.core_v1(env["KUBECONFIG"])
    made = []

    def install(namespace):
        name = f"refuse-regcred-{uuid.uuid4().hex[:8]}"
        api.create_validating_admission_policy({
            "metadata": {"name": name},
            "spec": {"failurePolicy": "Fail",
                     "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                             "operations": ["CREATE"], "resources": ["secrets"]}]},
                     "validations": [{"expression": "!has(object.metadata.annotations) || "
                                                    "!('regcred.k8s/credentials' in object.metadata.annotations)",
                                      "message": "refused by the test policy"}]}})
        made.append(("policy", name))
        api.create_validating_admission_policy_binding({
            "metadata": {"name": name},
            "spec": {"policyName": name, "validationActions": ["Deny"],
                     "matchResources": {"namespaceSelector": {"matchLabels": {
                         "kubernetes.io/metadata.name": namespace}}}}})
        made.append(("binding", name))
        probe = {"metadata": {"name": "probe", "annotations": {"regcred.k8s/credentials": "[]"}}, "type": "Opaque"}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the apiserver picks policies up asynchronously
            try:
                core.create_namespaced_secret(namespace, probe, dry_run="All")
            except ApiException as exc:
                if "refused by the test policy" in str(exc.body):
                    return
                raise
            time.sleep(0.5)
        raise AssertionError("the test policy never took effect")

    yield install
    for kind, name in reversed(made):
        if kind == "binding":
            api.delete_validating_admission_policy_binding(name)
        else:
            api.delete_validating_admission_policy(name)


@pytest.mark.parametrize("kind", ["other-type", "immutable"])
def test_force_puts_the_previous_secret_back_when_the_create_is_refused(env, admin, make_namespace, tmp_path,
                                                                        refuse_our_creates, kind):
    namespace = make_namespace("force")
    if kind == "other-type":
        old = admin.create_namespaced_secret(namespace, {
            "metadata": {"name": "regcred", "labels": {"team": "a"}, "annotations": {"example.com/note": "keep"}},
            "type": "Opaque", "data": {"token": b64("keep-me-0123456789")}})
    else:
        old = put_pull_secret(admin, namespace, json.dumps({"auths": {"old.example.com": {"auth": b64("u:old-pw")}}}).encode(),
                              immutable=True, metadata={"name": "regcred", "labels": {"team": "a"}})
    refuse_our_creates(namespace)
    # The Secret was made by someone else: adopt lets the module replace it at all.
    run = testenv.run_task(env, MODULE, {"name": "regcred", "namespace": namespace, "force": True, "adopt": True,
                                         "registries": [basic(env)]}, tmp_path)
    assert run.failed, run.result
    reason = run.result["namespaces"][namespace]["reason"]
    assert "refused by the test policy" in reason and "restored" in reason, reason
    back = admin.read_namespaced_secret("regcred", namespace)
    assert back.metadata.uid != old.metadata.uid  # it really was deleted, then put back
    assert (back.type, back.data, back.immutable) == (old.type, old.data, old.immutable)
    assert back.metadata.labels == old.metadata.labels and back.metadata.annotations == old.metadata.annotations
    assert env["REGCRED_REGISTRY_PASSWORD"] not in run.stdout + run.stderr


EMPTY_SOURCES = ("path", "content", "from_secret")


@pytest.fixture(scope="module", name="empty_sources")
def empty_sources_fixture(env, module_namespace, tmp_path_factory):
    """Per case of EMPTY_SOURCES a Secret written by a working run (one play for all), then the
    same Secret asked for from a source without entries (a second play). Per case: the Secret
    before the second play, the run, its stretch of the audit log and the field its error names."""
    admin, tmp_path = testenv.core_v1(env["KUBECONFIG"]), tmp_path_factory.mktemp("empty")
    working = {how: {"name": "regcred-" + how.replace("_", "-"), "namespace": module_namespace, "registries": [basic(env)]}
               for how in EMPTY_SOURCES}
    written = testenv.run_tasks(env, {how: (MODULE, args) for how, args in working.items()}, testenv.workdir(tmp_path, "working"))
    assert not [run.result for run in written.values() if run.failed]
    before = {how: admin.read_namespaced_secret(args["name"], module_namespace) for how, args in working.items()}
    empty = {"auths": {}}
    (tmp_path / "config.json").write_text(json.dumps(empty))
    put_pull_secret(admin, module_namespace, json.dumps(empty).encode(), name="central")
    refused = {
        "path": (dict(working["path"], registries=[{"provider": "docker_config", "path": str(tmp_path / "config.json")}]),
                 "registries[0].path"),
        "content": (dict(working["content"], registries=[{"provider": "docker_config", "content": empty}]), "registries[0].content"),
        "from_secret": ({"name": working["from_secret"]["name"], "namespace": module_namespace,
                         "from_secret": {"namespace": module_namespace, "name": "central"}}, "from_secret"),
    }
    runs = testenv.run_tasks_audited(env, {how: (MODULE, args) for how, (args, _field) in refused.items()},
                                     testenv.workdir(tmp_path, "refused"))
    return {how: (before[how], runs[how][0], runs[how][1], refused[how][1]) for how in EMPTY_SOURCES}


@pytest.mark.parametrize("how", EMPTY_SOURCES)
def test_a_source_without_entries_fails_and_leaves_the_secret(admin, module_namespace, empty_sources, how):
    before, run, audit, field = empty_sources[how]
    assert run.failed and field in run.result["msg"] and "no registry entries" in run.result["msg"], run.result
    assert audit.writes(testenv.agent("registry_pull_secret")) == 0
    after = admin.read_namespaced_secret(before.metadata.name, module_namespace)
    assert (after.data, after.metadata.resource_version) == (before.data, before.metadata.resource_version)


def test_merge_keeps_unmanaged_entries_and_top_level_keys_exactly(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("merge")
    managed = env["REGCRED_REGISTRY_BASIC"]
    existing = {
        "auths": {
            # auth disagrees with the fields: the kubelet uses what auth holds, so it must stay as it is
            "other.example.com": {"username": "field-user", "password": "field-pw", "auth": b64("auth-user:auth-pw"),
                                  "email": "o@example.com"},
            "quay.io": {"auth": b64("q:x"), "identitytoken": "identity-token-0123"},
            "https://index.docker.io/v1/": {"auth": b64("hub:hub-pw")},
            managed: {"auth": b64("stale:stale-pw")},
        },
        "credsStore": "desktop", "HttpHeaders": {"User-Agent": "kept/1.0"}, "psFormat": "table {{.ID}}",
    }
    put_pull_secret(admin, namespace, json.dumps(existing, indent=2).encode())
    args = {"name": "regcred", "namespace": namespace, "merge": True, "adopt": True, "registries": [basic(env)]}
    run = testenv.run_task(env, MODULE, args, tmp_path)
    assert run.result["namespaces"][namespace]["result"] == "updated", run.result
    merged = json.loads(payload(admin, namespace))
    assert {k: v for k, v in merged.items() if k != "auths"} == {k: v for k, v in existing.items() if k != "auths"}
    assert set(merged["auths"]) == set(existing["auths"])
    for key, value in existing["auths"].items():
        if key != managed:
            assert merged["auths"][key] == value, key
    assert base64.b64decode(merged["auths"][managed]["auth"]).decode() == \
        f"{env['REGCRED_REGISTRY_USER']}:{env['REGCRED_REGISTRY_PASSWORD']}"

    version = admin.read_namespaced_secret("regcred", namespace).metadata.resource_version
    audit = testenv.AuditLog(env)
    again = testenv.run_task(env, MODULE, args, tmp_path)
    assert again.result["namespaces"][namespace]["result"] == "unchanged"
    assert audit.writes(testenv.agent("registry_pull_secret")) == 0
    assert admin.read_namespaced_secret("regcred", namespace).metadata.resource_version == version


def test_merge_keeps_the_docker_hub_key_the_kubelet_matches(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("hub")
    put_pull_secret(admin, namespace, json.dumps({"auths": {"https://index.docker.io/v1/": {
        "username": "hub-user", "password": "hub-pw", "auth": b64("hub-user:hub-pw")}}}).encode())
    run = testenv.run_task(env, MODULE, {"name": "regcred", "namespace": namespace, "merge": True, "adopt": True,
                                         "registries": [{"provider": "basic", "server": "registry-1.docker.io",
                                                         "username": "mirror", "password": "mirror-pw-0123"}]},
                           tmp_path)
    assert run.result["namespaces"][namespace]["result"] == "updated", run.result
    auths = json.loads(payload(admin, namespace))["auths"]
    assert set(auths) == {"https://index.docker.io/v1/", "registry-1.docker.io"}
    offered = keyring.lookup(list(auths.items()), keyring.parse_image("nginx:1.27"), ignore_case=False)
    assert [pair[0] for pair in offered] == ["https://index.docker.io/v1/"]
    assert base64.b64decode(offered[0][1]["auth"]) == b"hub-user:hub-pw"
    # The same Secret, read back from the apiserver, through the kubelet's own code.
    stored = admin.read_namespaced_secret("regcred", namespace)
    oracle = kubelet_oracle.started()
    try:
        answer = oracle.ask({"op": "pull", "images": ["nginx:1.27", "docker.io/org/app"],
                             "secrets": [{"type": stored.type, "data": stored.data}]})
    finally:
        oracle.stop()
    assert answer["error"] is None and answer["secrets"][0]["used"], answer
    for image in answer["images"]:
        assert [(m["key"], base64.b64decode(m["username"])) for m in image["matches"]] == \
            [("https://index.docker.io/v1/", b"hub-user")], image


def test_from_secret_is_a_byte_for_byte_copy_and_a_rerun_writes_nothing(env, admin, make_namespace, tmp_path):
    central, target = make_namespace("central"), make_namespace("copy")
    source = json.dumps({"auths": {"quay.io": {"auth": b64("q:x"), "identitytoken": "identity-token-0123"},
                                   env["REGCRED_REGISTRY_BASIC"]: {"auth": b64("u:p"), "username": "other"}},
                         "HttpHeaders": {"X-Meta": "kept"}}, indent=3).encode()
    put_pull_secret(admin, central, source, name="central")
    args = {"name": "copied", "namespace": target, "from_secret": {"namespace": central, "name": "central"}}
    first = testenv.run_task(env, MODULE, args, tmp_path)
    assert first.result["namespaces"][target]["result"] == "created", first.result
    assert payload(admin, target, "copied") == source
    version = admin.read_namespaced_secret("copied", target).metadata.resource_version
    audit = testenv.AuditLog(env)
    again = testenv.run_task(env, MODULE, args, tmp_path)
    assert again.result["namespaces"][target]["result"] == "unchanged", again.result
    assert audit.writes(testenv.agent("registry_pull_secret")) == 0
    assert admin.read_namespaced_secret("copied", target).metadata.resource_version == version
