"""sa_image_pull_secrets annotations against the real apiserver: only the keys given are touched."""

import testenv

MODULE = "regcred.k8s.sa_image_pull_secrets"
AGENT = testenv.agent("sa_image_pull_secrets")
OURS = "regcred.k8s/credential"
THEIRS = "eks.amazonaws.com/role-arn"
THEIR_VALUE = "arn:aws:iam::123456789012:role/other-controller"


def annotations_of(admin, namespace, account="default"):
    return admin.read_namespaced_service_account(account, namespace).metadata.annotations or {}


def foreign_account(admin, make_namespace):
    """A namespace whose default ServiceAccount carries another controller's annotation and pull Secret."""
    ns = make_namespace("saa")
    testenv.wait_for_default(admin, ns)
    admin.patch_namespaced_service_account("default", ns, {"metadata": {"annotations": {THEIRS: THEIR_VALUE}},
                                                           "imagePullSecrets": [{"name": "theirs"}]})
    return ns


def test_set_rerun_and_remove_touch_only_our_key(env, admin, make_namespace, tmp_path):
    ns = foreign_account(admin, make_namespace)
    args = {"namespace": ns, "annotations": {OURS: "harbor"}}

    audit = testenv.AuditLog(env)
    check = testenv.run_task(env, MODULE, args, tmp_path, check=True, diff=True)
    assert check.result["changed"] is True, check.result
    header = f"{ns}/serviceaccount/default"
    assert check.result["diff"] == [{"before_header": header, "after_header": header,
                                     "before": {"imagePullSecrets": ["theirs"], "annotations": {OURS: None}},
                                     "after": {"imagePullSecrets": ["theirs"], "annotations": {OURS: "harbor"}}}]
    assert audit.writes(AGENT) == 0 and OURS not in annotations_of(admin, ns)

    run = testenv.run_task(env, MODULE, args, tmp_path)
    account = run.result["namespaces"][ns]["service_accounts"]["default"]
    assert account == {"result": "updated", "image_pull_secrets": ["theirs"], "annotations": {OURS: "harbor"}}, run.result
    assert annotations_of(admin, ns) == {THEIRS: THEIR_VALUE, OURS: "harbor"}
    assert testenv.pull_secret_names(admin, ns) == ["theirs"]

    audit = testenv.AuditLog(env)
    again = testenv.run_task(env, MODULE, args, tmp_path)
    assert again.result["changed"] is False, again.result
    assert audit.writes(AGENT) == 0

    absent = testenv.run_task(env, MODULE, dict(args, state="absent"), tmp_path)
    assert absent.result["changed"] is True, absent.result
    assert annotations_of(admin, ns) == {THEIRS: THEIR_VALUE}
    assert testenv.pull_secret_names(admin, ns) == ["theirs"]


def test_absent_leaves_a_value_that_someone_else_set(env, admin, make_namespace, tmp_path):
    ns = foreign_account(admin, make_namespace)
    admin.patch_namespaced_service_account("default", ns, {"metadata": {"annotations": {OURS: "theirs-now"}}})
    audit = testenv.AuditLog(env)
    absent = testenv.run_task(env, MODULE, {"namespace": ns, "annotations": {OURS: "harbor"}, "state": "absent"},
                              tmp_path)
    assert absent.result["changed"] is False, absent.result
    assert audit.writes(AGENT) == 0
    assert annotations_of(admin, ns) == {THEIRS: THEIR_VALUE, OURS: "theirs-now"}


def test_secrets_and_annotations_in_one_write(env, admin, make_namespace, tmp_path):
    ns = foreign_account(admin, make_namespace)
    admin.create_namespaced_secret(ns, {"metadata": {"name": "ours"}, "stringData": {"k": "v"}})
    audit = testenv.AuditLog(env)
    run = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours"], "annotations": {OURS: "harbor"}},
                           tmp_path)
    assert run.result["changed"] is True, run.result
    assert audit.verbs(AGENT, namespace=ns)["patch"] == 1 and audit.writes(AGENT) == 1
    assert testenv.pull_secret_names(admin, ns) == ["theirs", "ours"]
    assert annotations_of(admin, ns) == {THEIRS: THEIR_VALUE, OURS: "harbor"}


def test_bad_annotations_fail_before_any_request(env, admin, make_namespace, tmp_path):
    ns = foreign_account(admin, make_namespace)
    runs = testenv.run_tasks_audited(env, {
        "bad key": (MODULE, {"namespace": ns, "annotations": {"not a key": "x"}}),
        "bad value": (MODULE, {"namespace": ns, "annotations": {OURS: 5}}),
        "nothing to do": (MODULE, {"namespace": ns})}, tmp_path)
    for name, field in (("bad key", "annotations"), ("bad value", f"annotations[{OURS}]"), ("nothing to do", "secrets")):
        run, audit = runs[name]
        assert run.failed and field in run.result["msg"], (name, run.result)
        assert audit.verbs(AGENT) == {}, name
    assert annotations_of(admin, ns) == {THEIRS: THEIR_VALUE}
