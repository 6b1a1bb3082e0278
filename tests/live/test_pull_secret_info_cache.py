"""pull_secret_info's cache_exposure (issue #20, KEP-2535): whether a node that has a private image
cached may run it for a pod without credentials. Against the local apiserver (pods are only
stored, never scheduled: their imagePullPolicy is the apiserver's) and the registries: the basic
one and the token server's own registry, whose public/ repositories anyone may pull."""

import testenv
from test_pull_secret_info import MODULE, OURS, WRONG, attach, checked, hidden, image, login, run, write_secret
from test_pull_secret_info import namespace_fixture  # noqa: F401  pylint: disable=unused-import
from test_registry_pull_checks import token_registry

EXPOSED = "the registry refuses anonymous pulls, yet imagePullPolicy is IfNotPresent"


def exposure(done, index=0):
    assert not done.failed, done.result
    return done.result["images"][index]["cache_exposure"]


def warned(done, text):
    return [w for w in done.result.get("warnings", []) if w.startswith(text + ": ")]


def test_a_private_image_without_credentials_warns(env, namespace, tmp_path):
    args = dict(checked(env, "basic"), namespace=namespace)
    done = run(env, tmp_path, args)
    found = exposure(done)
    assert (found["exposed"], found["private"], found["pull_policy"], found["node_policy"]) == (
        True, True, "IfNotPresent", None)
    assert found["reason"].startswith(EXPOSED) and "imagePullPolicy: Always" in found["reason"]
    assert warned(done, args["image"]) == ["%s: %s" % (args["image"], found["reason"])]

    verified = run(env, tmp_path, dict(args, node_policy="AlwaysVerify"))
    assert (exposure(verified)["exposed"], exposure(verified)["node_policy"]) == (False, "AlwaysVerify")
    assert warned(verified, args["image"]) == []
    never = run(env, tmp_path, dict(args, node_policy="NeverVerify"))
    assert exposure(never)["exposed"] is True and "(NeverVerify)" in exposure(never)["reason"]


def test_a_refused_credential_is_no_credential(env, admin, namespace, tmp_path):
    write_secret(admin, namespace, "regcred", {env["REGCRED_REGISTRY_BASIC"]: login(env, WRONG)})
    attach(admin, namespace, "regcred")
    found = exposure(run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace)))
    assert (found["exposed"], found["private"]) == (True, True)


def test_a_working_credential_or_the_tag_latest_is_not_exposed(env, admin, namespace, tmp_path):
    write_secret(admin, namespace, "regcred", {env["REGCRED_REGISTRY_BASIC"]: login(env)})
    attach(admin, namespace, "regcred")
    done = run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace))
    assert done.result["images"][0]["pull"]["ok"] is True
    # The registry is not asked without credentials when the pod has its own.
    assert (exposure(done)["exposed"], exposure(done)["private"]) == (False, None)
    untagged = image(env, "basic").rsplit(":", 1)[0]
    latest = run(env, tmp_path, {"namespace": "default", "image": [untagged, untagged + ":latest"], "check_pull": True,
                                 "registry_ca_path": env["REGCRED_REGISTRY_CA"]})
    assert [(e["exposed"], e["pull_policy"]) for e in (exposure(latest, 0), exposure(latest, 1))] == [
        (False, "Always"), (False, "Always")]
    assert warned(latest, untagged) == []


def test_a_pod_uses_its_containers_pull_policies_and_public_images_are_safe(env, admin, namespace, tmp_path):
    host = token_registry(env)
    private, public = "%s/regcred/hello:v1" % host, "%s/public/app:v1" % host
    admin.create_namespaced_pod(namespace, {"metadata": {"name": "app"}, "spec": {"containers": [
        {"name": "always", "image": image(env, "basic"), "imagePullPolicy": "Always"},
        {"name": "cached", "image": private},
        {"name": "never", "image": public, "imagePullPolicy": "Never"}]}})
    done = run(env, tmp_path, {"namespace": namespace, "pod": "app", "check_pull": True,
                               "registry_ca_path": env["REGCRED_REGISTRY_CA"]})
    by_image = dict((r["image"], r["cache_exposure"]) for r in done.result["images"])
    assert (by_image[image(env, "basic")]["exposed"], by_image[image(env, "basic")]["pull_policy"]) == (False, "Always")
    assert (by_image[private]["exposed"], by_image[private]["private"]) == (True, True)
    assert (by_image[public]["exposed"], by_image[public]["private"], by_image[public]["pull_policy"]) == (
        False, False, "Never")
    assert [w.split(": ", 1)[0] for w in done.result["warnings"]] == [private]

    unchecked = run(env, tmp_path, {"namespace": namespace, "pod": "app"})
    found = dict((r["image"], r["cache_exposure"]) for r in unchecked.result["images"])[private]
    assert (found["exposed"], found["private"]) == (None, None)
    assert found["reason"].endswith("set check_pull to ask the registry whether it is")
    assert "warnings" not in unchecked.result


def test_a_registry_that_does_not_answer_leaves_privacy_unknown(env, namespace, tmp_path):
    done = run(env, tmp_path, {"namespace": namespace, "image": "127.0.0.1:1/regcred/hello:v1", "check_pull": True})
    found = exposure(done)
    assert (found["exposed"], found["private"]) == (None, None)
    assert found["reason"].endswith("asked without credentials, the registry did not tell: could not connect to "
                                    "127.0.0.1:1: connection refused")
    assert "warnings" not in done.result


def test_image_pull_policy_states_the_policy_of_a_pod_to_come(env, namespace, tmp_path):
    args = dict(checked(env, "basic"), namespace=namespace)
    always = exposure(run(env, tmp_path, dict(args, image_pull_policy="Always")))
    assert (always["exposed"], always["pull_policy"], always["private"]) == (False, "Always", None)
    never = exposure(run(env, tmp_path, dict(args, image_pull_policy="Never")))
    assert (never["exposed"], never["pull_policy"]) == (True, "Never")
    assert "imagePullPolicy is Never" in never["reason"]


def test_bad_policies_fail_before_any_api_call(env, tmp_path):
    runs = testenv.run_tasks_audited(env, {
        "both": (MODULE, {"namespace": "default", "pod": "web", "image_pull_policy": "Always"}),
        "wrong": (MODULE, {"namespace": "default", "image": "nginx", "node_policy": "Sometimes"})}, tmp_path)
    for name, message in (("both", "parameters are mutually exclusive: pod|image_pull_policy"),
                          ("wrong", "value of node_policy must be one of: NeverVerify, ")):
        done, audit = runs[name]
        hidden(env, done)
        assert done.failed and done.result["msg"].startswith(message), (name, done.result)
        assert audit.events(OURS) == [], name
