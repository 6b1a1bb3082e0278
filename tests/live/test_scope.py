"""No input reaches outside its scope, and the modules touch only what the collection created.

Each test is an attack or mistake that used to succeed against the local apiserver: a blank
selector that selected every namespace, a Secret made with kubectl that state=absent deleted or
state=present rewrote, an inline kubeconfig printed with its token at -vvv, and a from_secret
namespace that climbed the request path into another namespace.
"""

import base64
import json

import pytest
import yaml

import testenv
from testenv import workdir

MODULE = "regcred.k8s.registry_pull_secret"


def basic(env):
    return [{"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"], "username": env["REGCRED_REGISTRY_USER"],
             "password": env["REGCRED_REGISTRY_PASSWORD"]}]


def secret_names(admin, namespace):
    return sorted(s.metadata.name for s in admin.list_namespaced_secret(namespace).items)


# Selectors refused before any request: blank ones, which used to select every namespace, and a malformed one.
SELECTORS = {"empty": "", "spaces": "  ", "tab": "\t", "malformed": "team in (a"}


@pytest.fixture(scope="module", name="selectors")
def selectors_fixture(env, module_namespace, tmp_path_factory):
    """Each of SELECTORS as a task of one play, after a namespace it could select was made; per
    case its run and its stretch of the audit log."""
    return testenv.run_tasks_audited(env, {case: (MODULE, {"name": "scope-blank", "namespace_selector": selector,
                                                           "registries": basic(env)})
                                           for case, selector in SELECTORS.items()}, tmp_path_factory.mktemp("selectors"))


@pytest.mark.parametrize("case", ["empty", "spaces", "tab"])
def test_blank_namespace_selector_fails_before_any_request(admin, module_namespace, selectors, case):
    run, audit = selectors[case]
    assert run.failed and run.result["msg"].startswith("namespace_selector: is blank"), run.result
    assert audit.events() == []
    assert "scope-blank" not in secret_names(admin, module_namespace)
    assert "scope-blank" not in secret_names(admin, "kube-system")


def test_malformed_selector_is_refused_naming_the_field(selectors):
    run, audit = selectors["malformed"]
    assert run.failed and run.result["msg"].startswith("namespace_selector: "), run.result
    assert audit.writes() == 0


def test_blank_service_account_selector_with_exact_changes_nothing(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("scope")
    testenv.wait_for_default(admin, namespace)
    admin.patch_namespaced_service_account("default", namespace, {"imagePullSecrets": [{"name": "theirs"}]})
    run = testenv.run_task(env, "regcred.k8s.sa_image_pull_secrets", {
        "namespace": namespace, "secrets": ["ours"], "state": "exact", "service_account_selector": " ",
        "require_secret_exists": False}, tmp_path)
    assert run.failed and run.result["msg"].startswith("service_account_selector: is blank"), run.result
    names = [r.name for r in admin.read_namespaced_service_account("default", namespace).image_pull_secrets]
    assert names == ["theirs"]


def kubectl_secret(env, namespace, name):
    testenv.kubectl(env, "-n", namespace, "create", "secret", "docker-registry", name, "--docker-server=quay.io",
                    "--docker-username=theirs", "--docker-password=their-password")


def payload(admin, namespace, name):
    return json.loads(base64.b64decode(admin.read_namespaced_secret(name, namespace).data[".dockerconfigjson"]))


def test_absent_leaves_a_secret_it_did_not_create(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("scope")
    kubectl_secret(env, namespace, "handmade")
    run = testenv.run_task(env, MODULE, {"name": "handmade", "namespace": namespace, "state": "absent"}, workdir(tmp_path, "a"))
    assert not run.failed and not run.result["changed"], run.result
    assert run.result["namespaces"][namespace]["result"] == "skipped"
    assert run.result["namespaces"][namespace]["reason"].startswith("not ours")
    assert any("adopt=true" in w for w in run.result.get("warnings", []))
    assert "handmade" in secret_names(admin, namespace)
    adopted = testenv.run_task(env, MODULE, {"name": "handmade", "namespace": namespace, "state": "absent",
                                             "adopt": True}, workdir(tmp_path, "b"))
    assert adopted.result["namespaces"][namespace]["result"] == "deleted", adopted.result
    assert "handmade" not in secret_names(admin, namespace)


def test_present_leaves_a_secret_it_did_not_create(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("scope")
    kubectl_secret(env, namespace, "handmade")
    before = admin.read_namespaced_secret("handmade", namespace)
    for merge in (False, True):
        run = testenv.run_task(env, MODULE, {"name": "handmade", "namespace": namespace, "merge": merge,
                                             "registries": basic(env)}, workdir(tmp_path, f"m{merge}"))
        assert not run.failed and not run.result["changed"], run.result
        assert run.result["namespaces"][namespace]["reason"].startswith("not ours")
    after = admin.read_namespaced_secret("handmade", namespace)
    assert after.metadata.resource_version == before.metadata.resource_version
    adopted = testenv.run_task(env, MODULE, {"name": "handmade", "namespace": namespace, "adopt": True,
                                             "registries": basic(env)}, workdir(tmp_path, "adopt"))
    assert adopted.result["namespaces"][namespace]["result"] == "updated", adopted.result
    secret = admin.read_namespaced_secret("handmade", namespace)
    assert secret.metadata.labels["regcred.k8s/managed"] == "true"
    assert list(payload(admin, namespace, "handmade")["auths"]) == [env["REGCRED_REGISTRY_BASIC"]]
    # Once adopted it is ours: a later run manages it without adopt.
    again = testenv.run_task(env, MODULE, {"name": "handmade", "namespace": namespace, "state": "absent"},
                             workdir(tmp_path, "again"))
    assert again.result["namespaces"][namespace]["result"] == "deleted", again.result


def test_secrets_of_earlier_releases_count_as_ours(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("scope")
    kubectl_secret(env, namespace, "older")
    admin.patch_namespaced_secret("older", namespace, {"metadata": {"annotations": {"regcred.k8s/credentials": "[]"}}})
    run = testenv.run_task(env, MODULE, {"name": "older", "namespace": namespace, "state": "absent"}, tmp_path)
    assert run.result["namespaces"][namespace]["result"] == "deleted", run.result


def test_inline_kubeconfig_is_never_printed(env, make_namespace, tmp_path):
    namespace = make_namespace("scope")
    config = yaml.safe_load(open(env["KUBECONFIG"], encoding="utf-8"))
    config["users"][0]["user"] = {"token": env["REGCRED_ADMIN_TOKEN"]}
    run = testenv.run_task(env, MODULE, {"name": "inline", "namespace": namespace, "kubeconfig": config,
                                         "registries": basic(env)}, tmp_path, verbosity=3)
    assert run.result.get("summary") == {"created": 1}, run.result
    for text in (run.stdout, run.stderr, json.dumps(run.result)):
        assert env["REGCRED_ADMIN_TOKEN"] not in text


def test_from_secret_namespace_cannot_climb_the_request_path(env, admin, make_namespace, tmp_path):
    source_ns, target_ns = make_namespace("scope-src"), make_namespace("scope-dst")
    kubectl_secret(env, source_ns, "central")
    climbing = f"{target_ns}/../../namespaces/{source_ns}"
    run = testenv.run_task(env, MODULE, {"name": "copied", "namespace": target_ns,
                                         "from_secret": {"namespace": climbing, "name": "central"}}, tmp_path)
    assert run.failed and run.result["msg"].startswith("from_secret.namespace: "), run.result
    assert "copied" not in secret_names(admin, target_ns)
