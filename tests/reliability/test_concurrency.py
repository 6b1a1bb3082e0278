"""Concurrency: two playbooks at once against the same Secret and ServiceAccount, 20 rounds.

Playbook A writes registry A into the round's shared Secret with ``merge: true`` and attaches
Secret x-N to ``default``; playbook B does the same with registry B and Secret y-N. Both
playbooks run all rounds, and wait for each other at a file barrier before each round, so each
round is a real race: in even rounds the shared Secret does not exist (both create), in odd rounds
it holds only a foreign registry C (both update the same resourceVersion). Every round attaches to
the same ServiceAccount, which starts with a foreign entry.

Checked for every round: both tasks succeeded; the round's Secret is a valid dockerconfigjson
holding A and B with that round's passwords (and C in odd rounds); the ServiceAccount holds the
foreign entry first, and x-N and y-N of every round, each exactly once.
"""

import base64
import json
import sys

import yaml

import testenv

PULL = "regcred.k8s.registry_pull_secret"
SA = "regcred.k8s.sa_image_pull_secrets"
ROUNDS = 20
BARRIER_TIMEOUT = 120


def shared(round_no):
    return f"shared-{round_no:02d}"


def playbook(workdir, namespace, side, other):
    """One side's playbook: ROUNDS rounds, each behind a barrier; all results go to result.json."""
    result_file = workdir / f"result-{side}.json"
    tasks = []
    for round_no in range(ROUNDS):
        tasks += [
            {"name": f"ready {round_no}",
             "ansible.builtin.file": {"path": str(workdir / f"{side}-{round_no}"), "state": "touch", "mode": "0600"}},
            {"name": f"barrier {round_no}",
             "ansible.builtin.wait_for": {"path": str(workdir / f"{other}-{round_no}"), "timeout": BARRIER_TIMEOUT}},
            {"name": f"pull secret {round_no}", PULL: {
                # Odd rounds start from a Secret someone else made: adopt lets both writers merge into it.
                "name": shared(round_no), "namespace": namespace, "merge": True, "adopt": True, "registries": [
                    {"provider": "basic", "server": f"{side}.regcred.invalid", "username": f"user-{side}",
                     "password": f"password-{side}-{round_no}"}]},
             "register": f"pull_{round_no}", "ignore_errors": True},
            {"name": f"attach {round_no}",
             SA: {"namespace": namespace, "secrets": [f"{'x' if side == 'a' else 'y'}-{round_no}"], "service_accounts": ["default"]},
             "register": f"attach_{round_no}", "ignore_errors": True},
        ]
    collect = "{{ {" + ", ".join(f"'{n}': {{'pull': pull_{n}, 'attach': attach_{n}}}" for n in range(ROUNDS)) + "} | to_json }}"
    tasks.append({"name": "save", "ansible.builtin.copy": {"content": collect, "dest": str(result_file), "mode": "0600"}})
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": tasks}]
    (workdir / f"play-{side}.yml").write_text(yaml.safe_dump(play))
    return workdir / f"play-{side}.yml", result_file


def docker_secret(name, entries):
    payload = json.dumps({"auths": entries}).encode()
    return {"metadata": {"name": name}, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(payload).decode()}}


def test_two_playbooks_race_twenty_rounds(env, admin, make_namespace, tmp_path):
    namespace = make_namespace("conc")
    foreign_entry = {"username": "c-user", "password": "c-password", "auth": base64.b64encode(b"c-user:c-password").decode()}
    attached = [f"{p}-{n}" for n in range(ROUNDS) for p in ("x", "y")]
    for name in ["foreign"] + attached:
        admin.create_namespaced_secret(namespace, docker_secret(name, {f"{name}.regcred.invalid": foreign_entry}))
    for round_no in range(1, ROUNDS, 2):
        admin.create_namespaced_secret(namespace, docker_secret(shared(round_no), {"c.regcred.invalid": foreign_entry}))
    testenv.wait_for_default(admin, namespace)
    admin.patch_namespaced_service_account("default", namespace, {"imagePullSecrets": [{"name": "foreign"}]})

    runs = [playbook(tmp_path, namespace, "a", "b"), playbook(tmp_path, namespace, "b", "a")]
    procs = [testenv.start_playbook(env, play) for play, result_file in runs]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    results = []
    for (play, result_file), output in zip(runs, outputs):
        assert result_file.exists(), output[-3000:]
        results.append(json.loads(result_file.read_text()))

    for round_no in range(ROUNDS):
        for result in results:
            pull, attach = result[str(round_no)]["pull"], result[str(round_no)]["attach"]
            assert not pull.get("failed"), (round_no, pull)
            assert not attach.get("failed"), (round_no, attach)
            assert pull["namespaces"][namespace]["result"] in ("created", "updated"), (round_no, pull)
            assert attach["namespaces"][namespace]["result"] == "updated", (round_no, attach)
        secret = admin.read_namespaced_secret(shared(round_no), namespace)
        assert secret.type == "kubernetes.io/dockerconfigjson"
        assert list(secret.data) == [".dockerconfigjson"]
        auths = json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))["auths"]
        expected = {"a.regcred.invalid", "b.regcred.invalid"} | ({"c.regcred.invalid"} if round_no % 2 else set())
        assert set(auths) == expected, (round_no, sorted(auths))
        for side in ("a", "b"):
            entry = auths[f"{side}.regcred.invalid"]
            assert (entry["username"], entry["password"]) == (f"user-{side}", f"password-{side}-{round_no}")
            assert base64.b64decode(entry["auth"]).decode() == f"user-{side}:password-{side}-{round_no}"
        if round_no % 2:
            assert auths["c.regcred.invalid"] == foreign_entry

    names = [ref.name for ref in admin.read_namespaced_service_account("default", namespace).image_pull_secrets or []]
    assert len(names) == len(set(names)), names
    assert sorted(names) == sorted(["foreign"] + attached), names
    assert names[0] == "foreign", names
