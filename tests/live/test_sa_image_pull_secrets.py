"""sa_image_pull_secrets against the real apiserver and controller-manager."""

import sys
import threading
import time
import uuid

import yaml

import testenv

MODULE = "regcred.k8s.sa_image_pull_secrets"


def make_secrets(admin, namespace, *names):
    for name in names:
        admin.create_namespaced_secret(namespace, {"metadata": {"name": name}, "stringData": {"k": "v"}})


def set_pull_secrets(admin, namespace, names, account="default"):
    admin.patch_namespaced_service_account(account, namespace, {"imagePullSecrets": [{"name": n} for n in names]})


def test_present_absent_exact_keep_foreign_entries(env, admin, make_namespace, tmp_path):
    ns = make_namespace("sa")
    make_secrets(admin, ns, "ours", "theirs", "extra")
    testenv.wait_for_default(admin, ns)
    set_pull_secrets(admin, ns, ["theirs", "ours", "ours"])

    run = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours", "extra"]}, tmp_path)
    assert run.result["namespaces"][ns]["service_accounts"]["default"]["result"] == "updated", run.result
    assert testenv.pull_secret_names(admin, ns) == ["theirs", "ours", "extra"]

    audit = testenv.AuditLog(env)
    again = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours", "extra"]}, tmp_path)
    assert again.result["changed"] is False
    assert audit.writes(testenv.agent("sa_image_pull_secrets")) == 0
    assert audit.verbs(testenv.agent("sa_image_pull_secrets")) == {"list": 3}  # namespaces, ServiceAccounts, Secret names

    absent = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours"], "state": "absent"}, tmp_path)
    assert absent.result["changed"] and testenv.pull_secret_names(admin, ns) == ["theirs", "extra"]

    exact = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours"], "state": "exact"}, tmp_path)
    assert exact.result["changed"] and testenv.pull_secret_names(admin, ns) == ["ours"]


def test_check_mode_and_diff_write_nothing(env, admin, make_namespace, tmp_path):
    ns = make_namespace("sa")
    make_secrets(admin, ns, "ours")
    testenv.wait_for_default(admin, ns)
    audit = testenv.AuditLog(env)
    run = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours"]}, tmp_path, check=True, diff=True)
    assert run.result["changed"] is True
    assert run.result["diff"] == [{"before_header": f"{ns}/serviceaccount/default",
                                   "after_header": f"{ns}/serviceaccount/default",
                                   "before": {"imagePullSecrets": []}, "after": {"imagePullSecrets": ["ours"]}}]
    assert audit.writes(testenv.agent("sa_image_pull_secrets")) == 0
    assert testenv.pull_secret_names(admin, ns) == []


def test_waits_for_a_service_account_that_appears_later(env, admin, make_namespace, tmp_path):
    ns = make_namespace("sa")
    make_secrets(admin, ns, "ours")

    audit = testenv.AuditLog(env)
    looked = threading.Event()

    def create_later():
        # Only after the module has asked for ServiceAccounts and found none: a fixed pause could
        # end before ansible-playbook even started, and then nothing would be waited for.
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and not looked.is_set():
            if any((e.get("objectRef") or {}).get("resource") == "serviceaccounts" for e in audit.events(namespace=ns)):
                looked.set()
            time.sleep(0.1)
        admin.create_namespaced_service_account(ns, {"metadata": {"name": "late"}})

    creator = threading.Thread(target=create_later)
    creator.start()
    run = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours"], "service_accounts": ["late"],
                                         "wait_timeout": 30}, tmp_path)
    creator.join()
    assert looked.is_set(), "the module never asked for the ServiceAccount"
    assert run.result["namespaces"][ns]["service_accounts"]["late"]["result"] == "updated", run.result
    assert testenv.pull_secret_names(admin, ns, "late") == ["ours"]


def test_missing_account_fails_without_wait_and_is_created_on_request(env, admin, make_namespace, tmp_path):
    ns = make_namespace("sa")
    make_secrets(admin, ns, "ours")
    args = {"namespace": ns, "secrets": ["ours"], "service_accounts": ["builder"], "wait": False}
    run = testenv.run_task(env, MODULE, args, tmp_path)
    assert run.failed and "ServiceAccount builder does not exist" in run.result["namespaces"][ns]["reason"]
    created = testenv.run_task(env, MODULE, dict(args, create_service_account=True), tmp_path)
    assert not created.failed, created.result
    assert testenv.pull_secret_names(admin, ns, "builder") == ["ours"]


def test_fresh_namespace_default_account_is_waited_for(env, admin, tmp_path):
    # Namespace and task in one play, as in a bootstrap: no pause between them.
    ns = f"sa-fresh-{uuid.uuid4().hex[:6]}"
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": [
                 {"ansible.builtin.command": f"{env['REGCRED_KUBECTL']} create namespace {ns}"},
                 {"ansible.builtin.command": f"{env['REGCRED_KUBECTL']} -n {ns} create secret generic ours "
                                             "--from-literal=k=v"},
                 {MODULE: {"namespace": ns, "secrets": ["ours"]}, "register": "out"},
                 {"ansible.builtin.assert": {"that": ["out.namespaces[ns].service_accounts.default.result == 'updated'"]},
                  "vars": {"ns": ns}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    try:
        result = testenv.run_playbook(env, tmp_path / "play.yml")
        assert result.returncode == 0, result.stdout + result.stderr
        assert testenv.pull_secret_names(admin, ns) == ["ours"]
    finally:
        admin.delete_namespace(ns)


def test_all_service_accounts_and_selector(env, admin, make_namespace, tmp_path):
    ns = make_namespace("sa")
    make_secrets(admin, ns, "ours")
    testenv.wait_for_default(admin, ns)
    admin.create_namespaced_service_account(ns, {"metadata": {"name": "builder", "labels": {"role": "ci"}}})
    admin.create_namespaced_service_account(ns, {"metadata": {"name": "web"}})
    run = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours"], "service_account_selector": "role=ci"},
                           tmp_path)
    assert set(run.result["namespaces"][ns]["service_accounts"]) == {"builder"}
    run = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["ours"], "all_service_accounts": True}, tmp_path)
    assert set(run.result["namespaces"][ns]["service_accounts"]) == {"default", "builder", "web"}
    for account in ("default", "builder", "web"):
        assert testenv.pull_secret_names(admin, ns, account) == ["ours"]


def test_missing_secret_fails_or_warns(env, admin, make_namespace, tmp_path):
    ns = make_namespace("sa")
    testenv.wait_for_default(admin, ns)
    run = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["nope"]}, tmp_path)
    assert run.failed and "Secret nope does not exist" in run.result["namespaces"][ns]["reason"]
    assert testenv.pull_secret_names(admin, ns) == []
    warned = testenv.run_task(env, MODULE, {"namespace": ns, "secrets": ["nope"], "require_secret_exists": False},
                              tmp_path)
    assert not warned.failed and any("nope does not exist" in w for w in warned.result["warnings"])
    assert testenv.pull_secret_names(admin, ns) == ["nope"]


def test_restricted_identity_partial_failure(env, admin, tmp_path):
    allowed, denied = env["REGCRED_ALLOWED_NAMESPACE"], env["REGCRED_DENIED_NAMESPACE"]
    secret = f"sa-{uuid.uuid4().hex[:6]}"
    make_secrets(admin, allowed, secret)
    try:
        run = testenv.run_task(env, MODULE, {"namespaces": [allowed, denied], "secrets": [secret]}, tmp_path,
                               kubeconfig=env["REGCRED_RESTRICTED_KUBECONFIG"])
        assert run.failed
        assert run.result["namespaces"][allowed]["result"] == "updated"
        assert run.result["namespaces"][denied]["result"] == "failed"
        assert "forbidden" in run.result["namespaces"][denied]["reason"]
        assert secret in testenv.pull_secret_names(admin, allowed)
    finally:
        testenv.run_task(env, MODULE, {"namespace": allowed, "secrets": [secret], "state": "absent"}, tmp_path)
        admin.delete_namespaced_secret(secret, allowed)


def test_twenty_concurrent_writers_lose_nothing(env, admin, make_namespace, tmp_path):
    ns = make_namespace("sa")
    names = [f"s{i:02d}" for i in range(20)]
    make_secrets(admin, ns, "victim", "foreign", *names)
    testenv.wait_for_default(admin, ns)
    set_pull_secrets(admin, ns, ["foreign", "victim"])
    writers = []
    for index, name in enumerate(names + ["victim"]):
        workdir = tmp_path / f"w{index}"
        workdir.mkdir()
        state = "absent" if name == "victim" else "present"
        play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": sys.executable},
                 "tasks": [{MODULE: {"namespace": ns, "secrets": [name], "state": state}}]}]
        (workdir / "play.yml").write_text(yaml.safe_dump(play))
        writers.append(testenv.start_playbook(env, workdir / "play.yml"))
    outputs = [w.communicate(timeout=300) for w in writers]
    assert all(w.returncode == 0 for w in writers), [o[0][-2000:] for o in outputs]
    final = testenv.pull_secret_names(admin, ns)
    assert sorted(final) == sorted(names + ["foreign"]), final
    assert final[0] == "foreign"
    assert len(final) == len(set(final))
