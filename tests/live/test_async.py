"""Every module runs under ``async``: polled (``async: 60, poll: 1``) and fire-and-forget
(``poll: 0``, then ``async_status``), with the same result as a plain run."""

import json

import pytest
import yaml

import testenv


def module_args(env, namespace):
    basic = {"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"], "username": env["REGCRED_REGISTRY_USER"],
             "password": env["REGCRED_REGISTRY_PASSWORD"]}
    return {
        "regcred.k8s.registry_pull_secret": {"name": "async-regcred", "namespace": namespace, "registries": [basic]},
        "regcred.k8s.sa_image_pull_secrets": {"namespace": namespace, "secrets": ["async-regcred"],
                                              "service_accounts": ["async-sa"], "create_service_account": True},
        "regcred.k8s.pull_secret_info": {"namespace": namespace, "image": "%s/%s" % (
            env["REGCRED_REGISTRY_BASIC"], env["REGCRED_TEST_IMAGE"]), "service_account": "async-sa"},
        "regcred.k8s.registry_credentials": {"registries": [basic], "return_secrets": False},
    }


def run_play(env, tmp_path, tasks):
    """Run ``tasks`` on localhost; returns the registered variables the play saved, by name."""
    results = tmp_path / "results.json"
    names = [task["register"] for task in tasks if "register" in task]
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks + [
        {"name": "save the results", "ansible.builtin.copy": {
            "content": "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (n, n) for n in names),
            "dest": str(results), "mode": "0600"}}]}]
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump(play))
    proc = testenv.run_playbook(env, playbook)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert env["REGCRED_REGISTRY_PASSWORD"] not in proc.stdout + proc.stderr
    return json.loads(results.read_text())


def test_every_module_runs_polled_under_async(env, make_namespace, tmp_path):
    namespace = make_namespace("async")
    tasks = [{"name": module, module: args, "async": 60, "poll": 1, "register": "r%d" % index}
             for index, (module, args) in enumerate(module_args(env, namespace).items())]
    results = run_play(env, tmp_path, tasks)
    written, attached, explained, minted = (results["r%d" % i] for i in range(4))
    assert written["changed"] and written["namespaces"][namespace]["result"] == "created", written
    assert attached["changed"], attached
    assert explained["images"][0]["secrets"][0]["name"] == "async-regcred", explained
    assert minted["credentials"][0]["server"] == env["REGCRED_REGISTRY_BASIC"], minted
    for result in (written, attached, explained, minted):
        assert result["finished"] == 1 and result["ansible_job_id"], result


@pytest.mark.parametrize("module", ["regcred.k8s.registry_pull_secret", "regcred.k8s.registry_credentials"])
def test_fire_and_forget_then_async_status(env, make_namespace, tmp_path, module):
    namespace = make_namespace("async")
    args = module_args(env, namespace)[module]
    results = run_play(env, tmp_path, [
        {"name": "start", module: args, "async": 60, "poll": 0, "register": "job"},
        {"name": "wait", "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"}, "register": "done",
         "until": "done.finished", "retries": 60, "delay": 1},
    ])
    assert results["job"]["started"] == 1 and results["job"]["finished"] == 0, results["job"]
    done = results["done"]
    assert done["finished"] == 1 and not done.get("failed"), done
    if module == "regcred.k8s.registry_pull_secret":
        assert done["namespaces"][namespace]["result"] == "created", done
    else:
        assert done["credentials"][0]["username"] == env["REGCRED_REGISTRY_USER"], done
