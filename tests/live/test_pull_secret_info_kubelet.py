"""pull_secret_info reads pull Secrets and matches keys as the kubelet does: one test per row of the
table in docs/troubleshooting.md ("Secrets the kubelet reads differently than you may expect"),
each through the module against the local apiserver, and with check_pull against the registry
where the row is about a credential that works."""

import base64
import json

from test_pull_secret_info import attach, checked, run
from test_pull_secret_info import namespace_fixture  # noqa: F401  pylint: disable=unused-import


def b64(text):
    return base64.b64encode(text.encode()).decode()


def write_raw(admin, namespace, name, text, legacy=False):
    """A pull Secret with exactly this JSON text, as someone may have written it by hand."""
    admin.create_namespaced_secret(namespace, {
        "metadata": {"name": name},
        "type": "kubernetes.io/dockercfg" if legacy else "kubernetes.io/dockerconfigjson",
        "data": {".dockercfg" if legacy else ".dockerconfigjson": b64(text)}})


def only_image(done):
    [report] = done.result["images"]
    return report


def test_auth_is_decoded_last_and_overrides_the_user_name_and_password_fields(env, admin, namespace, tmp_path):
    login = "%s:%s" % (env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
    write_raw(admin, namespace, "regcred", json.dumps({"auths": {env["REGCRED_REGISTRY_BASIC"]: {
        "username": "someone-else", "password": "not-the-password", "auth": b64(login)}}}))
    attach(admin, namespace, "regcred")
    report = only_image(run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace)))
    assert [m["username"] for m in report["matches"]] == [env["REGCRED_REGISTRY_USER"]]
    assert report["pull"]["ok"] is True, report


def test_unpadded_base64_in_auth_is_accepted(env, admin, namespace, tmp_path):
    write_raw(admin, namespace, "regcred", '{"auths":{"quay.io":{"auth":"YWI6Yw"}}}')
    attach(admin, namespace, "regcred")
    report = only_image(run(env, tmp_path, {"namespace": namespace, "image": "quay.io/org/app"}))
    assert report["secrets"][0]["problem"] is None
    assert [(m["key"], m["username"]) for m in report["matches"]] == [("quay.io", "ab")]


def test_an_entry_without_credentials_is_kept_and_the_other_key_still_matches(env, admin, namespace, tmp_path):
    write_raw(admin, namespace, "regcred", json.dumps({"auths": {"ghcr.io": {}, env["REGCRED_REGISTRY_BASIC"]: {
        "username": env["REGCRED_REGISTRY_USER"], "password": env["REGCRED_REGISTRY_PASSWORD"]}}}))
    attach(admin, namespace, "regcred")
    report = only_image(run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace)))
    assert report["secrets"][0]["keys"] == sorted(["ghcr.io", env["REGCRED_REGISTRY_BASIC"]])
    assert report["secrets"][0]["problem"] is None
    assert report["pull"]["ok"] is True, report


def test_field_names_in_any_case_are_read(env, admin, namespace, tmp_path):
    login = "%s:%s" % (env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
    write_raw(admin, namespace, "regcred", json.dumps({"Auths": {env["REGCRED_REGISTRY_BEARER"]: {"Auth": b64(login)}}}))
    attach(admin, namespace, "regcred")
    report = only_image(run(env, tmp_path, dict(checked(env, "bearer"), namespace=namespace)))
    assert [m["key"] for m in report["matches"]] == [env["REGCRED_REGISTRY_BEARER"]]
    assert report["pull"]["digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]


def test_bracket_classes_in_a_host_never_match(env, admin, namespace, tmp_path):
    write_raw(admin, namespace, "regcred",
              '{"auths":{"q[^x]ay.io":{"username":"a","password":"p"},"q[!x]ay.io":{"username":"b","password":"p"}}}')
    attach(admin, namespace, "regcred")
    done = run(env, tmp_path, {"namespace": namespace, "image": ["quay.io/org/app", "qxay.io/org/app"]})
    assert [report["matches"] for report in done.result["images"]] == [[], []]
    assert done.result["images"][0]["verdict"].startswith("no credential matches quay.io")


def test_an_upper_case_scheme_never_matches(env, admin, namespace, tmp_path):
    write_raw(admin, namespace, "regcred", '{"auths":{"HTTPS://quay.io":{"username":"u","password":"p"}}}')
    attach(admin, namespace, "regcred")
    report = only_image(run(env, tmp_path, {"namespace": namespace, "image": "quay.io/org/app"}))
    assert report["matches"] == []


def test_a_secret_the_kubelet_cannot_read_fails_the_whole_pull(env, admin, namespace, tmp_path):
    write_raw(admin, namespace, "good", json.dumps({"auths": {env["REGCRED_REGISTRY_BASIC"]: {
        "username": env["REGCRED_REGISTRY_USER"], "password": env["REGCRED_REGISTRY_PASSWORD"]}}}))
    write_raw(admin, namespace, "broken", '{"auths":{"quay.io":{"auth":"!!"}}}')
    attach(admin, namespace, "good", "broken")
    report = only_image(run(env, tmp_path, dict(checked(env, "basic"), namespace=namespace)))
    assert [s["rejected"] for s in report["secrets"]] == [False, True]
    assert report["matches"] == [] and report["pull"] is None
    assert report["verdict"] == ("will not pull: the kubelet cannot read Secret broken and so fails every pull of the "
                                 "pod: data[.dockerconfigjson]: illegal base64 data")


def test_a_legacy_dockercfg_secret_with_auth_only(env, admin, namespace, tmp_path):
    login = "%s:%s" % (env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
    write_raw(admin, namespace, "old", json.dumps({env["REGCRED_REGISTRY_BEARER"]: {"auth": b64(login).rstrip("=")}}),
              legacy=True)
    attach(admin, namespace, "old")
    report = only_image(run(env, tmp_path, dict(checked(env, "bearer"), namespace=namespace)))
    assert report["pull"]["digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]
