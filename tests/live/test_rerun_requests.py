"""A rerun that changes nothing costs the same few reads and no write, however many namespaces.

The benchmarks (make bench) time this at 1,000 namespaces; this test holds the exact counts."""

import testenv

NAMESPACES = 50


def test_noop_reruns_read_a_fixed_number_of_times_at_fifty_namespaces(env, admin, make_namespace, tmp_path):
    names = [make_namespace("rerun") for index in range(NAMESPACES)]
    for name in names:
        testenv.wait_for_default(admin, name)
    registry = {"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"],
                "username": env["REGCRED_REGISTRY_USER"], "password": env["REGCRED_REGISTRY_PASSWORD"]}
    steps = [
        # one LIST of namespaces and one cluster-wide LIST of the Secret by name
        ("registry_pull_secret", {"name": "regcred", "namespaces": names, "registries": [registry]},
         "created", {"list": 2}),
        # namespaces, the default ServiceAccounts, and the names of the Secrets (metadata only)
        ("sa_image_pull_secrets", {"namespaces": names, "secrets": ["regcred"]}, "updated", {"list": 3}),
    ]
    for module, args, first_result, rerun_verbs in steps:
        first = testenv.run_task(env, "regcred.k8s." + module, args, tmp_path)
        assert first.result.get("summary") == {first_result: NAMESPACES}, first.result.get("msg")

        audit = testenv.AuditLog(env)
        again = testenv.run_task(env, "regcred.k8s." + module, args, tmp_path)
        assert again.result["changed"] is False
        assert again.result["summary"] == {"unchanged": NAMESPACES}
        assert audit.verbs(testenv.agent(module)) == rerun_verbs
        assert audit.writes(testenv.agent(module)) == 0


def test_a_task_on_one_namespace_lists_only_that_namespace(env, make_namespace, tmp_path):
    name = make_namespace("one")
    gone = "regcred-missing-%s" % name
    registry = {"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"],
                "username": env["REGCRED_REGISTRY_USER"], "password": env["REGCRED_REGISTRY_PASSWORD"]}
    module = "registry_pull_secret"
    for namespace, result in ((name, "created"), (gone, "failed")):
        audit = testenv.AuditLog(env)
        done = testenv.run_task(env, "regcred.k8s." + module, {"name": "regcred", "namespace": namespace,
                                                               "registries": [registry]}, tmp_path)
        assert done.result["namespaces"][namespace]["result"] == result, done.result
        lists = [e["requestURI"] for e in audit.events(testenv.agent(module))
                 if e["verb"] == "list" and e["objectRef"]["resource"] == "namespaces"]
        # whatever the number of namespaces in the cluster: one request, for that name alone
        assert lists == ["/api/v1/namespaces?fieldSelector=metadata.name%%3D%s&limit=500" % namespace], lists
    assert done.result["namespaces"][gone]["reason"] == "namespace does not exist"
