"""Faults against the real apiserver and registries.

- the kube-apiserver is stopped (SIGTERM, by PID) in the middle of a 500-namespace run, then
  restarted with its stored argv: the task fails clearly, says which namespaces were done, those
  really hold the Secret, and a rerun converges;
- a competing writer updates the same Secret's labels and annotations and the same
  ServiceAccount's imagePullSecrets while the modules run: nothing of either side is lost;
- partial RBAC: applied where allowed (including a namespace bound by a RoleBinding), forbidden
  reported, the task fails, and succeeds with ignore_failures;
- the registry is unreachable or refuses the password during ``verify``: the task fails and the
  stored Secret stays byte-identical;
- namespaces deleted (or already terminating) during a ``parallel: 1`` run are reported, the
  others applied.
"""

import base64
import json
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

import localenv
import testenv

PULL = "regcred.k8s.registry_pull_secret"
SA = "regcred.k8s.sa_image_pull_secrets"
PULL_AGENT = testenv.agent("registry_pull_secret")


def basic(server, password="password-0123456789", username="fault-user"):
    return {"provider": "basic", "server": server, "username": username, "password": password}


def write_play(workdir, task):
    """A playbook that runs ``task`` and saves its registered result, as run_task does."""
    result_file = workdir / "result.json"
    task = dict(task, register="out", ignore_errors=True)
    save = {"name": "save", "ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": str(result_file), "mode": "0600"}}
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": [task, save]}]
    (workdir / "play.yml").write_text(yaml.safe_dump(play))
    return workdir / "play.yml", result_file


def run_in(env, module, args, workdir, **options):
    """run_task in its own directory (each run keeps its playbook and result)."""
    workdir.mkdir(exist_ok=True)
    return testenv.run_task(env, module, args, workdir, **options)


def secret_creates(audit, namespaces):
    return {e["objectRef"]["namespace"] for e in audit.events(PULL_AGENT)
            if e["verb"] == "create" and (e.get("objectRef") or {}).get("resource") == "secrets"
            and e["objectRef"].get("namespace") in namespaces and e.get("responseStatus", {}).get("code") == 201}


def namespaces_with_secret(admin, name, namespaces):
    found = admin.list_secret_for_all_namespaces(field_selector=f"metadata.name={name}").items
    return {s.metadata.namespace for s in found if s.metadata.namespace in namespaces}


def delete_namespaces(admin, names):
    def delete(name):
        try:
            admin.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(delete, names))


def no_traceback(run_or_text):
    text = run_or_text if isinstance(run_or_text, str) else run_or_text.stdout + run_or_text.stderr
    assert "Traceback" not in text, text[-3000:]
    assert "MODULE FAILURE" not in text, text[-3000:]


# --- 1. apiserver stopped mid-run ---------------------------------------------------------------
def test_apiserver_stopped_mid_run_then_converges(env, admin, tmp_path):
    run_id = uuid.uuid4().hex[:8]
    names = [f"flt-{run_id}-{i:03d}" for i in range(500)]
    selector = f"regcred-fault={run_id}"
    secret = "fault-regcred"
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: admin.create_namespace({"metadata": {"name": n, "labels": {"regcred-fault": run_id}}}), names))
        play, result_file = write_play(tmp_path, {PULL: {
            "name": secret, "namespace_selector": selector, "parallel": 4,
            "registries": [basic("fault.regcred.invalid")]}})
        audit = testenv.AuditLog(env)
        proc = testenv.start_playbook(env, play)
        stopped_at = None
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                if len(secret_creates(audit, set(names))) >= 50:
                    assert localenv.stop_process("kube-apiserver")
                    stopped_at = time.monotonic()
                    break
                time.sleep(0.05)
            output = proc.communicate(timeout=300)[0]
        finally:
            localenv.restart("kube-apiserver")
        assert stopped_at is not None, "the run ended before 50 Secrets were created: " + output[-2000:]
        no_traceback(output)
        result = json.loads(result_file.read_text())
        assert result["failed"] is True
        assert "namespace(s) failed" in result["msg"]
        outcomes = result["namespaces"]
        assert set(outcomes) == set(names)
        created = {n for n, r in outcomes.items() if r["result"] == "created"}
        failed = {n for n, r in outcomes.items() if r["result"] == "failed"}
        assert len(created) >= 50 and failed, result["summary"]
        assert created | failed == set(names), result["summary"]
        assert all(outcomes[n]["reason"] for n in failed)
        assert result["summary"] == {"created": len(created), "failed": len(failed)}
        assert created <= namespaces_with_secret(admin, secret, set(names))

        rerun = run_in(env, PULL, {"name": secret, "namespace_selector": selector, "parallel": 4,
                                   "registries": [basic("fault.regcred.invalid")]}, tmp_path / "rerun")
        no_traceback(rerun)
        assert not rerun.failed, rerun.result.get("msg")
        assert rerun.result["summary"].get("failed", 0) == 0
        assert sum(rerun.result["summary"].values()) == 500
        assert all(rerun.result["namespaces"][n]["result"] == "unchanged" for n in created)
        assert namespaces_with_secret(admin, secret, set(names)) == set(names)
    finally:
        localenv.restart("kube-apiserver")
        delete_namespaces(admin, names)


# --- 2. conflicts with a competing writer ---------------------------------------------------------
class Competitor(threading.Thread):
    """Adds its own labels/annotations to the Secret and its own imagePullSecrets entries to the
    ServiceAccount, by read-modify-replace with resourceVersion, until stopped."""

    def __init__(self, admin, namespace, secret):
        super().__init__(daemon=True)
        self.admin, self.namespace, self.secret = admin, namespace, secret
        self.halt = threading.Event()
        self.labels, self.sa_entries, self.conflicts = [], [], 0

    def run(self):
        count = 0
        while not self.halt.is_set():
            count += 1
            try:
                current = self.admin.read_namespaced_secret(self.secret, self.namespace)
                current.metadata.labels = dict(current.metadata.labels or {}, **{f"competitor-{count}": "yes"})
                current.metadata.annotations = dict(current.metadata.annotations or {},
                                                    **{f"competitor.example/{count}": f"value-{count}"})
                self.admin.replace_namespaced_secret(self.secret, self.namespace, current)
                self.labels.append(count)
                account = self.admin.read_namespaced_service_account("default", self.namespace)
                account.image_pull_secrets = list(account.image_pull_secrets or []) + [
                    client.V1LocalObjectReference(name=f"comp-{count}")]
                self.admin.replace_namespaced_service_account("default", self.namespace, account)
                self.sa_entries.append(f"comp-{count}")
            except ApiException as exc:
                if exc.status != 409:
                    raise
                self.conflicts += 1
            time.sleep(0.02)


def test_competing_writer_loses_nothing(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("cmp")
    secret = "cmp-regcred"
    deadline = time.monotonic() + 30
    while not any(sa.metadata.name == "default" for sa in admin.list_namespaced_service_account(namespace).items):
        assert time.monotonic() < deadline, "no default ServiceAccount"
        time.sleep(0.2)
    for run in ("mod-0", "mod-1", "mod-2", "mod-3", "mod-4"):
        admin.create_namespaced_secret(namespace, {"metadata": {"name": run}, "stringData": {"k": "v"}})
    first = run_in(env, PULL, {"name": secret, "namespace": namespace, "labels": {"owner": "regcred"},
                               "registries": [basic("cmp.regcred.invalid", "password-start-0123")]}, tmp_path / "first")
    assert first.result["namespaces"][namespace]["result"] == "created", first.result
    competitor = Competitor(admin, namespace, secret)
    competitor.start()
    try:
        for index in range(5):
            pull = run_in(env, PULL, {"name": secret, "namespace": namespace, "labels": {"owner": "regcred"},
                                      "registries": [basic("cmp.regcred.invalid", f"password-run-{index}-0123")]},
                          tmp_path / f"pull{index}")
            no_traceback(pull)
            assert not pull.failed, pull.result
            assert pull.result["namespaces"][namespace]["result"] == "updated", pull.result
            attach = run_in(env, SA, {"namespace": namespace, "secrets": [f"mod-{index}"]}, tmp_path / f"sa{index}")
            no_traceback(attach)
            assert not attach.failed, attach.result
    finally:
        competitor.halt.set()
        competitor.join(timeout=30)
    assert not competitor.is_alive()
    assert len(competitor.labels) >= 5, (competitor.labels, competitor.conflicts)

    stored = admin.read_namespaced_secret(secret, namespace)
    labels, annotations = stored.metadata.labels, stored.metadata.annotations
    assert labels["owner"] == "regcred"
    for count in competitor.labels:
        assert labels.get(f"competitor-{count}") == "yes", count
        assert annotations.get(f"competitor.example/{count}") == f"value-{count}", count
    auths = json.loads(base64.b64decode(stored.data[".dockerconfigjson"]))["auths"]
    assert auths["cmp.regcred.invalid"]["password"] == "password-run-4-0123"
    names = [ref.name for ref in admin.read_namespaced_service_account("default", namespace).image_pull_secrets]
    assert len(names) == len(set(names)), names
    assert set(competitor.sa_entries) | {f"mod-{i}" for i in range(5)} <= set(names), names


# --- 3. partial RBAC -------------------------------------------------------------------------------
def test_partial_rbac_three_namespaces(env, admin, make_namespace, tmp_path):
    allowed, denied = env["REGCRED_ALLOWED_NAMESPACE"], env["REGCRED_DENIED_NAMESPACE"]
    bound = make_namespace("rbac")
    client.RbacAuthorizationV1Api(admin.api_client).create_namespaced_role_binding(bound, {
        "metadata": {"name": "regcred-restricted"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "regcred-pull-secret-manager"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": env["REGCRED_RESTRICTED_USER"]}]})
    restricted = testenv.core_v1(env["REGCRED_RESTRICTED_KUBECONFIG"])
    deadline = time.monotonic() + 30
    while True:  # RBAC reaches the authorizer through an informer: wait until the binding counts
        try:
            restricted.list_namespaced_secret(bound)
            break
        except ApiException as exc:
            assert exc.status == 403 and time.monotonic() < deadline, exc
            time.sleep(0.2)
    secret = f"rbac-{uuid.uuid4().hex[:8]}"
    args = {"name": secret, "namespaces": [allowed, bound, denied], "registries": [basic("rbac.regcred.invalid")]}
    try:
        audit = testenv.AuditLog(env)
        run = run_in(env, PULL, args, tmp_path / "strict", kubeconfig=env["REGCRED_RESTRICTED_KUBECONFIG"])
        no_traceback(run)
        assert run.failed
        outcomes = run.result["namespaces"]
        assert outcomes[allowed]["result"] == "created"
        assert outcomes[bound]["result"] == "created"
        assert outcomes[denied]["result"] == "failed"
        assert "403" in outcomes[denied]["reason"] or "forbidden" in outcomes[denied]["reason"].lower()
        assert denied in run.result["msg"] and allowed not in run.result["msg"]
        assert run.result["summary"] == {"created": 2, "failed": 1}
        assert audit.writes(PULL_AGENT, namespace=denied) == 0 or all(
            e["responseStatus"]["code"] == 403 for e in audit.events(PULL_AGENT, namespace=denied) if e["verb"] == "create")
        for namespace in (allowed, bound):
            assert admin.read_namespaced_secret(secret, namespace).type == "kubernetes.io/dockerconfigjson"
        lenient = run_in(env, PULL, dict(args, ignore_failures=True), tmp_path / "lenient",
                         kubeconfig=env["REGCRED_RESTRICTED_KUBECONFIG"])
        no_traceback(lenient)
        assert not lenient.failed, lenient.result
        assert lenient.result["namespaces"][denied]["result"] == "failed"
        assert lenient.result["namespaces"][allowed]["result"] == "unchanged"
        assert lenient.result["namespaces"][bound]["result"] == "unchanged"
    finally:
        try:
            admin.delete_namespaced_secret(secret, allowed)
        except ApiException as exc:
            if exc.status != 404:
                raise


# --- 4. registry down or refusing during verify ----------------------------------------------------
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_verify_failure_leaves_secret_byte_identical(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("vfy")
    good = basic(env["REGCRED_REGISTRY_BASIC"], env["REGCRED_REGISTRY_PASSWORD"], env["REGCRED_REGISTRY_USER"])
    common = {"name": "vfy-regcred", "namespace": namespace, "verify": True, "registry_ca_path": env["REGCRED_REGISTRY_CA"]}
    first = run_in(env, PULL, dict(common, registries=[good]), tmp_path / "good")
    assert not first.failed, first.result
    assert first.result["namespaces"][namespace]["result"] == "created"
    before = admin.read_namespaced_secret("vfy-regcred", namespace)
    cases = {
        "closed-port": [basic(f"127.0.0.1:{closed_port()}", env["REGCRED_REGISTRY_PASSWORD"], env["REGCRED_REGISTRY_USER"])],
        "wrong-password": [dict(good, password=env["REGCRED_REGISTRY_PASSWORD"] + "-wrong")],
        "one-of-two-wrong": [good, dict(good, server=env["REGCRED_REGISTRY_BEARER"],
                                        password=env["REGCRED_REGISTRY_PASSWORD"] + "-wrong")],
    }
    for case, registries in cases.items():
        audit = testenv.AuditLog(env)
        run = run_in(env, PULL, dict(common, registries=registries), tmp_path / case)
        no_traceback(run)
        assert run.failed, (case, run.result)
        assert run.result["msg"], case
        assert env["REGCRED_REGISTRY_PASSWORD"] not in json.dumps(run.result), case
        after = admin.read_namespaced_secret("vfy-regcred", namespace)
        assert after.data == before.data, case
        assert after.metadata.resource_version == before.metadata.resource_version, case
        assert after.metadata.annotations == before.metadata.annotations, case
        assert audit.writes(PULL_AGENT, namespace=namespace) == 0, case


# --- 5. namespaces deleted during a run ------------------------------------------------------------
HOLD = "regcred.test/hold"


def hold(admin, namespace):
    """A ConfigMap with a finalizer, which keeps the namespace Terminating once deleted."""
    admin.create_namespaced_config_map(namespace, {"metadata": {"name": "hold", "finalizers": [HOLD]}})


def release(admin, namespace):
    try:
        admin.patch_namespaced_config_map("hold", namespace, {"metadata": {"finalizers": None}})
    except ApiException as exc:
        if exc.status != 404:
            raise


def test_namespaces_deleted_during_run(env, admin, tmp_path):
    run_id = uuid.uuid4().hex[:8]
    names = [f"del-{run_id}-{i:02d}" for i in range(40)]
    label = f"regcred-delete={run_id}"
    victims = names[-4:]
    early = names[0]
    secret = "del-regcred"
    try:
        for name in names:
            admin.create_namespace({"metadata": {"name": name, "labels": {"regcred-delete": run_id}}})
        for name in victims + [early]:
            hold(admin, name)
        admin.delete_namespace(early)  # Terminating before the run starts: skipped
        deadline = time.monotonic() + 30
        while admin.read_namespace(early).status.phase != "Terminating":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        play, result_file = write_play(tmp_path, {PULL: {"name": secret, "namespace_selector": label, "parallel": 1,
                                                         "registries": [basic("del.regcred.invalid")]}})
        audit = testenv.AuditLog(env)
        proc = testenv.start_playbook(env, play)
        deleted = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            done = secret_creates(audit, set(names))
            if len(done) >= 5:
                for victim in victims:
                    admin.delete_namespace(victim)
                deleted = not done & set(victims)
                break
            time.sleep(0.05)
        output = proc.communicate(timeout=300)[0]
        no_traceback(output)
        assert deleted, "the run reached the victims before they were deleted: " + output[-2000:]
        result = json.loads(result_file.read_text())
        outcomes = result["namespaces"]
        assert outcomes[early] == {"result": "skipped", "reason": "namespace is terminating"}, outcomes[early]
        for victim in victims:
            assert outcomes[victim]["result"] in ("created", "failed"), outcomes[victim]
            if outcomes[victim]["result"] == "failed":
                reason = outcomes[victim]["reason"]
                assert "terminat" in reason.lower() or "not found" in reason.lower(), reason
        assert any(outcomes[v]["result"] == "failed" for v in victims), {v: outcomes[v] for v in victims}
        assert result["failed"] is True and all(v in result["msg"] for v in victims if outcomes[v]["result"] == "failed")
        others = set(names) - set(victims) - {early}
        assert all(outcomes[n]["result"] == "created" for n in others), result["summary"]
        assert others <= namespaces_with_secret(admin, secret, set(names))
    finally:
        for name in victims + [early]:
            release(admin, name)
        delete_namespaces(admin, names)
