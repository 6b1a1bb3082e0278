"""registry_pull_secret against the real apiserver, registries and real clients."""

import base64
import json
import uuid

import pytest
from kubernetes.client.exceptions import ApiException

import testenv

MODULE = "regcred.k8s.registry_pull_secret"


@pytest.fixture(name="namespaces")
def namespaces_fixture(make_namespace):
    return lambda count=2, labels=None: [make_namespace("rps", labels) for index in range(count)]


def basic_registries(env, password=None):
    return [{"provider": "basic", "server": env[key], "username": env["REGCRED_REGISTRY_USER"],
             "password": password or env["REGCRED_REGISTRY_PASSWORD"]}
            for key in ("REGCRED_REGISTRY_BASIC", "REGCRED_REGISTRY_BEARER")]


def decoded(admin, namespace, name="regcred"):
    secret = admin.read_namespaced_secret(name, namespace)
    return secret, json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))


def test_creates_then_reruns_with_zero_writes(env, admin, namespaces, tmp_path):
    names = namespaces(3)
    args = {"name": "regcred", "namespaces": names, "registries": basic_registries(env)}
    first = testenv.run_task(env, MODULE, args, tmp_path)
    assert not first.failed, first.result
    assert first.result["changed"] is True
    assert first.result["summary"] == {"created": 3}
    for name in names:
        secret, config = decoded(admin, name)
        assert secret.type == "kubernetes.io/dockerconfigjson"
        assert set(config["auths"]) == {env["REGCRED_REGISTRY_BASIC"], env["REGCRED_REGISTRY_BEARER"]}

    audit = testenv.AuditLog(env)
    second = testenv.run_task(env, MODULE, args, tmp_path)
    assert second.result["changed"] is False
    assert second.result["summary"] == {"unchanged": 3}
    # one LIST of namespaces and one cluster-wide LIST of Secrets, however many namespaces
    assert audit.verbs(testenv.agent("registry_pull_secret")) == {"list": 2}
    assert audit.writes(testenv.agent("registry_pull_secret")) == 0


def test_payload_equals_what_kubectl_writes(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    entry = {"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"], "username": "someone",
             "password": "p@ss:word", "email": "someone@example.com"}
    run = testenv.run_task(env, MODULE, {"name": "regcred", "namespace": name, "registries": [entry]}, tmp_path)
    assert not run.failed, run.result
    kubectl = testenv.kubectl(env, "create", "secret", "docker-registry", "x", "--dry-run=client", "-o", "json",
                              f"--docker-server={entry['server']}", "--docker-username=someone",
                              "--docker-password=p@ss:word", "--docker-email=someone@example.com")
    expected = json.loads(base64.b64decode(json.loads(kubectl.stdout)["data"][".dockerconfigjson"]))
    assert decoded(admin, name)[1] == expected


def test_dockerhub_key_matches_kubectl_default_server(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    run = testenv.run_task(env, MODULE, {"name": "hub", "namespace": name, "registries": [
        {"provider": "dockerhub", "username": "bot", "password": "tok"}]}, tmp_path)
    assert not run.failed, run.result
    kubectl = testenv.kubectl(env, "create", "secret", "docker-registry", "x", "--dry-run=client", "-o", "json",
                              "--docker-username=bot", "--docker-password=tok")
    expected = json.loads(base64.b64decode(json.loads(kubectl.stdout)["data"][".dockerconfigjson"]))
    assert decoded(admin, name, "hub")[1] == expected


@pytest.mark.parametrize("registry", ["REGCRED_REGISTRY_BASIC", "REGCRED_REGISTRY_BEARER"])
def test_skopeo_reads_the_image_with_the_decoded_secret(env, admin, namespaces, tmp_path, registry):
    name = namespaces(1)[0]
    run = testenv.run_task(env, MODULE, {"name": "regcred", "namespace": name,
                                         "registries": basic_registries(env)}, tmp_path)
    assert not run.failed, run.result
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps(decoded(admin, name)[1]))
    result = testenv.skopeo_inspect(env, f"{env[registry]}/{env['REGCRED_TEST_IMAGE']}", authfile)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]


def test_verify_blocks_a_bad_credential_and_keeps_the_working_secret(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    good = {"name": "regcred", "namespace": name, "registries": basic_registries(env)}
    assert not testenv.run_task(env, MODULE, good, tmp_path).failed
    stored = admin.read_namespaced_secret("regcred", name)
    audit = testenv.AuditLog(env)
    bad = dict(good, registries=basic_registries(env, "wrong-password"), verify=True,
               registry_ca_path=env["REGCRED_REGISTRY_CA"])
    run = testenv.run_task(env, MODULE, bad, tmp_path)
    assert run.failed
    assert "verify" in run.result["msg"] and "Nothing was written" in run.result["msg"]
    assert "wrong-password" not in run.stdout + run.stderr
    assert audit.writes(testenv.agent("registry_pull_secret")) == 0 and audit.verbs(testenv.agent("registry_pull_secret"))["list"] >= 1
    assert admin.read_namespaced_secret("regcred", name).data == stored.data


def test_check_mode_and_diff_write_nothing_and_show_no_secret(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    args = {"name": "regcred", "namespace": name, "registries": basic_registries(env)}
    audit = testenv.AuditLog(env)
    run = testenv.run_task(env, MODULE, args, tmp_path, check=True, diff=True)
    assert run.result["changed"] is True
    assert run.result["namespaces"][name]["result"] == "created"
    assert audit.writes(testenv.agent("registry_pull_secret")) == 0 and audit.verbs(testenv.agent("registry_pull_secret"))["get"] == 1
    with pytest.raises(ApiException):
        admin.read_namespaced_secret("regcred", name)
    shown = run.result["diff"][0]["after"]["registries"][env["REGCRED_REGISTRY_BASIC"]]
    assert shown == {"username": env["REGCRED_REGISTRY_USER"], "credential": "added"}
    assert env["REGCRED_REGISTRY_PASSWORD"] not in run.stdout + run.stderr


def test_restricted_identity_gets_403_in_one_namespace_and_applies_the_other(env, admin, tmp_path):
    allowed, denied = env["REGCRED_ALLOWED_NAMESPACE"], env["REGCRED_DENIED_NAMESPACE"]
    secret = f"rps-{uuid.uuid4().hex[:6]}"
    args = {"name": secret, "namespaces": [allowed, denied], "registries": basic_registries(env)}
    run = testenv.run_task(env, MODULE, args, tmp_path, kubeconfig=env["REGCRED_RESTRICTED_KUBECONFIG"])
    try:
        assert run.failed
        assert run.result["namespaces"][allowed]["result"] == "created"
        assert run.result["namespaces"][denied]["result"] == "failed"
        assert "forbidden" in run.result["namespaces"][denied]["reason"]
        assert "1 namespace(s) failed" in run.result["msg"]
        ignored = testenv.run_task(env, MODULE, dict(args, ignore_failures=True), tmp_path,
                                   kubeconfig=env["REGCRED_RESTRICTED_KUBECONFIG"])
        assert not ignored.failed and ignored.result["namespaces"][allowed]["result"] == "unchanged"
    finally:
        admin.delete_namespaced_secret(secret, allowed)


def test_type_conflict_fails_without_force_and_replaces_with_it(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    admin.create_namespaced_secret(name, {"metadata": {"name": "regcred"}, "type": "Opaque",
                                          "stringData": {"token": "keep-me"}})
    # Made by someone else: only adopt lets the module touch it at all.
    args = {"name": "regcred", "namespace": name, "registries": basic_registries(env), "adopt": True}
    run = testenv.run_task(env, MODULE, args, tmp_path)
    assert run.failed and "'Opaque'" in run.result["namespaces"][name]["reason"]
    assert admin.read_namespaced_secret("regcred", name).type == "Opaque"
    forced = testenv.run_task(env, MODULE, dict(args, force=True), tmp_path)
    assert forced.result["namespaces"][name]["result"] == "replaced"
    assert admin.read_namespaced_secret("regcred", name).type == "kubernetes.io/dockerconfigjson"


def test_merge_keeps_entries_written_by_others(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    foreign = {"auths": {"quay.io": {"username": "q", "password": "x", "auth": base64.b64encode(b"q:x").decode()}}}
    admin.create_namespaced_secret(name, {"metadata": {"name": "regcred"}, "type": "kubernetes.io/dockerconfigjson",
                                          "data": {".dockerconfigjson": base64.b64encode(json.dumps(foreign).encode()).decode()}})
    args = {"name": "regcred", "namespace": name, "registries": basic_registries(env)[:1], "merge": True, "adopt": True}
    assert testenv.run_task(env, MODULE, args, tmp_path).result["namespaces"][name]["result"] == "updated"
    assert set(decoded(admin, name)[1]["auths"]) == {"quay.io", env["REGCRED_REGISTRY_BASIC"]}
    replaced = testenv.run_task(env, MODULE, dict(args, merge=False), tmp_path)
    assert replaced.result["namespaces"][name]["result"] == "updated"
    assert set(decoded(admin, name)[1]["auths"]) == {env["REGCRED_REGISTRY_BASIC"]}


def test_absent_deletes_and_is_idempotent(env, admin, namespaces, tmp_path):
    names = namespaces(2)
    present = {"name": "regcred", "namespaces": names, "registries": basic_registries(env)}
    assert not testenv.run_task(env, MODULE, present, tmp_path).failed
    absent = {"name": "regcred", "namespaces": names, "state": "absent"}
    run = testenv.run_task(env, MODULE, absent, tmp_path)
    assert run.result["changed"] and run.result["summary"] == {"deleted": 2}
    again = testenv.run_task(env, MODULE, absent, tmp_path)
    assert not again.result["changed"] and again.result["summary"] == {"absent": 2}


def test_selector_labels_annotations_and_terminating_namespaces(env, admin, namespaces, tmp_path):
    team = f"t{uuid.uuid4().hex[:6]}"
    names = namespaces(2, labels={"team": team})
    args = {"name": "regcred", "namespace_selector": f"team={team}", "exclude_namespaces": [names[1]],
            "registries": basic_registries(env), "labels": {"runai/cluster-wide": "true"},
            "annotations": {"example.com/owner": "platform"}}
    run = testenv.run_task(env, MODULE, args, tmp_path)
    assert run.result["namespaces"] == {names[0]: {"result": "created"},
                                        names[1]: {"result": "skipped", "reason": "excluded by exclude_namespaces"}}
    secret = admin.read_namespaced_secret("regcred", names[0])
    assert secret.metadata.labels == {"runai/cluster-wide": "true", "regcred.k8s/managed": "true"}
    assert secret.metadata.annotations["example.com/owner"] == "platform"
    none = testenv.run_task(env, MODULE, dict(args, namespace_selector="team=nobody-at-all"), tmp_path)
    assert none.failed and "matches no namespace" in none.result["msg"]


def test_from_secret_copies_a_central_secret(env, admin, namespaces, tmp_path):
    central, target = namespaces(2)
    assert not testenv.run_task(env, MODULE, {"name": "central", "namespace": central,
                                              "registries": basic_registries(env)}, tmp_path).failed
    run = testenv.run_task(env, MODULE, {"name": "copied", "namespace": target,
                                         "from_secret": {"namespace": central, "name": "central"}}, tmp_path)
    assert run.result["namespaces"][target]["result"] == "created"
    assert decoded(admin, target, "copied")[1] == decoded(admin, central, "central")[1]


# Each case: the arguments over a working base, and the field its error must name.
BAD_INPUT = {
    "bad-name": ({"name": "Bad_Name"}, "name:"),
    "bad-namespace": ({"namespaces": ["UPPER"]}, "namespaces[0]"),
    "bad-refresh-before": ({"refresh_before": "soon"}, "refresh_before:"),
    "no-server": ({"registries": [{"provider": "basic", "username": "u", "password": "p"}]}, "registries[0].server"),
    "empty-password": ({"registries": [{"provider": "basic", "server": "x.io", "username": "u", "password": ""}]},
                       "registries[0].password"),
    "bad-auth": ({"registries": [{"provider": "docker_config", "content": '{"auths": {"x.io": {"auth": "%%%"}}}'}]},
                 "registries[0].content.auths[x.io].auth"),
}


@pytest.fixture(scope="module", name="bad_input")
def bad_input_fixture(env, module_namespace, tmp_path_factory):
    """The BAD_INPUT cases as the tasks of one play, after a control task that writes; per case its
    run and its stretch of the audit log."""
    base = {"name": "regcred", "namespaces": ["default"], "registries": basic_registries(env)}
    tasks = {"control": (MODULE, dict(base, namespaces=[module_namespace]))}
    tasks.update((case, (MODULE, dict(base, **args))) for case, (args, _field) in BAD_INPUT.items())
    return testenv.run_tasks_audited(env, tasks, tmp_path_factory.mktemp("bad-input"))


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_fails_before_any_api_call(bad_input, case):
    run, audit = bad_input[case]
    assert run.failed
    assert BAD_INPUT[case][1] in run.result["msg"]
    assert "Traceback" not in run.stdout + run.stderr
    assert audit.events() == []


def test_the_control_of_the_bad_input_play_writes_in_its_own_stretch_of_the_audit_log(bad_input, module_namespace):
    """The bad cases' stretches of the audit log would show a write: the control's shows its own,
    and none of it spills into the case after it."""
    run, audit = bad_input["control"]
    assert not run.failed, run.result
    assert run.result["namespaces"][module_namespace]["result"] == "created", run.result
    assert audit.verbs(testenv.agent("registry_pull_secret"), namespace=module_namespace)["create"] == 1


def test_terminating_namespace_is_skipped(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    # A finalizer on an object inside keeps the namespace in Terminating until it is removed.
    admin.create_namespaced_config_map(name, {"metadata": {"name": "hold", "finalizers": ["example.com/hold"]}})
    admin.delete_namespace(name)
    try:
        run = testenv.run_task(env, MODULE, {"name": "regcred", "namespace": name,
                                             "registries": basic_registries(env)}, tmp_path)
        assert run.result["namespaces"] == {name: {"result": "skipped", "reason": "namespace is terminating"}}
        assert run.result["changed"] is False and not run.failed
    finally:
        admin.patch_namespaced_config_map("hold", name, {"metadata": {"finalizers": None}})


def test_docker_config_file_with_servers_filter_and_a_credential_helper(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    token = base64.b64encode(f"{env['REGCRED_REGISTRY_USER']}:{env['REGCRED_REGISTRY_PASSWORD']}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {env["REGCRED_REGISTRY_BASIC"]: {"auth": token},
                                            "ghcr.io": {}},
                                  "credHelpers": {"ghcr.io": "desktop"}}))
    run = testenv.run_task(env, MODULE, {"name": "fromfile", "namespace": name, "registries": [
        {"provider": "docker_config", "path": str(config), "servers": [env["REGCRED_REGISTRY_BASIC"]]}]}, tmp_path)
    assert run.result["namespaces"][name]["result"] == "created", run.result
    authfile = tmp_path / "decoded.json"
    authfile.write_text(json.dumps(decoded(admin, name, "fromfile")[1]))
    pulled = testenv.skopeo_inspect(env, f"{env['REGCRED_REGISTRY_BASIC']}/{env['REGCRED_TEST_IMAGE']}", authfile)
    assert pulled.returncode == 0, pulled.stderr
    helper = testenv.run_task(env, MODULE, {"name": "fromfile", "namespace": name, "registries": [
        {"provider": "docker_config", "path": str(config), "servers": ["ghcr.io"]}]}, tmp_path)
    assert helper.failed and "credential helper" in helper.result["msg"]
    assert "registries[0]" in helper.result["msg"]


def test_immutable_secret_needs_force_to_be_replaced(env, admin, namespaces, tmp_path):
    name = namespaces(1)[0]
    args = {"name": "regcred", "namespace": name, "registries": basic_registries(env), "adopt": True}
    old = json.dumps({"auths": {"old.example.com": {"username": "u", "password": "p", "auth": "dTpw"}}})
    admin.create_namespaced_secret(name, {"metadata": {"name": "regcred"}, "type": "kubernetes.io/dockerconfigjson",
                                          "immutable": True, "data": {".dockerconfigjson": base64.b64encode(old.encode()).decode()}})
    run = testenv.run_task(env, MODULE, args, tmp_path)
    assert run.failed and "immutable" in run.result["namespaces"][name]["reason"]
    assert set(decoded(admin, name)[1]["auths"]) == {"old.example.com"}
    forced = testenv.run_task(env, MODULE, dict(args, force=True), tmp_path)
    assert forced.result["namespaces"][name]["result"] == "replaced"
    assert set(decoded(admin, name)[1]["auths"]) == {env["REGCRED_REGISTRY_BASIC"], env["REGCRED_REGISTRY_BEARER"]}
