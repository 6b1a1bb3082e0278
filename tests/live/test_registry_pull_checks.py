"""check_pull follows the registry as containerd does, against the local token server's own
small registry (tests/harness/emulators.py): its /v2/ answers without authentication, so the
challenge comes from the manifest's 401; its html404/ repositories answer with a proxy's HTML 404."""

import json

from test_pull_secret_info import attach, run, write_secret, login
from test_pull_secret_info import namespace_fixture  # noqa: F401  pylint: disable=unused-import

IMAGE = "regcred/hello:v1"


def token_registry(env):
    """host:port of the token server, which is also the anonymous-/v2/ registry."""
    return env["REGCRED_REGISTRY_TOKEN_REALM"].split("://", 1)[1].split("/", 1)[0]


def ask(env, admin, namespace, tmp_path, image, password=None):
    host = token_registry(env)
    write_secret(admin, namespace, "regcred", {host: login(env, password)})
    attach(admin, namespace, "regcred")
    done = run(env, tmp_path, {"namespace": namespace, "image": "%s/%s" % (host, image), "check_pull": True,
                               "registry_ca_path": env["REGCRED_REGISTRY_CA"]})
    [report] = done.result["images"]
    return report


def test_an_anonymous_v2_takes_the_challenge_from_the_manifest(env, admin, namespace, tmp_path):
    report = ask(env, admin, namespace, tmp_path, IMAGE)
    assert report["pull"]["ok"] is True, report
    assert report["pull"]["digest"].startswith("sha256:")
    assert report["verdict"].startswith("will pull with Secret regcred")


def test_an_anonymous_v2_with_a_wrong_password_is_refused(env, admin, namespace, tmp_path):
    report = ask(env, admin, namespace, tmp_path, IMAGE, password="wrong-Password-123")
    assert report["pull"]["ok"] is False
    assert report["pull"]["errors"][0]["status"] == 401
    assert report["verdict"].startswith("registry refused the credential from Secret regcred")


def test_a_missing_tag_with_a_registry_error_is_an_image_missing(env, admin, namespace, tmp_path):
    report = ask(env, admin, namespace, tmp_path, "regcred/hello:nope")
    assert (report["pull"]["errors"][0]["status"], report["pull"]["errors"][0]["code"]) == (404, "MANIFEST_UNKNOWN")
    assert report["verdict"].startswith("registry has no image regcred/hello:nope")


def test_an_html_404_leaves_the_credential_unknown(env, admin, namespace, tmp_path):
    report = ask(env, admin, namespace, tmp_path, "html404/app:v1")
    [error] = report["pull"]["errors"]
    assert (report["pull"]["ok"], error["status"], error["code"]) == (False, 404, None)
    assert "without a registry error" in error["message"] and "unknown" in error["message"]
    assert "has no image" not in report["verdict"]


def test_the_oauth2_post_grant_comes_before_the_get(env, admin, namespace, tmp_path):
    log = env["REGCRED_LOCALENV_STATE"].rsplit("/", 1)[0] + "/logs/registry-token.log"
    with open(log, encoding="utf-8") as handle:
        before = len(handle.readlines())
    ask(env, admin, namespace, tmp_path, IMAGE)
    with open(log, encoding="utf-8") as handle:
        requests = [line.split()[1:3] for line in handle.readlines()[before:]]
    token_requests = [r for r in requests if r[1] == "/token"]
    assert token_requests and token_requests[0] == ["POST", "/token"], json.dumps(requests)
    assert ["GET", "/token"] not in token_requests
