"""Docker Hub: the ``dockerhub`` provider's Secret, read by skopeo.

Docker Hub cannot be reached from here. The local Bearer registry stands for it: like Docker Hub
(registry-1.docker.io with its token server auth.docker.io) it answers with a Bearer challenge
and takes the user name and password or access token at its token server. The Secret's entry is
written under ``https://index.docker.io/v1/``, the key Docker and the kubelet use for Docker Hub;
for skopeo that entry is moved to the local registry's key (an authfile key rewrite, as for
ECR's host names in test_ecr.py). The login is used byte for byte as the Secret holds it."""

import base64
import json

import testenv

MODULE = "regcred.k8s.registry_pull_secret"
DOCKER_HUB_KEY = "https://index.docker.io/v1/"


def test_skopeo_pulls_with_the_dockerhub_secret(env, make_namespace, tmp_path):
    namespace = make_namespace("hub")
    run = testenv.run_task(env, MODULE, {"name": "hub", "namespace": namespace, "registries": [
        {"provider": "dockerhub", "username": env["REGCRED_REGISTRY_USER"],
         "password": env["REGCRED_REGISTRY_PASSWORD"]}]}, tmp_path)
    assert not run.failed and run.result["namespaces"][namespace]["result"] == "created", run.result
    secret = testenv.core_v1(env["KUBECONFIG"]).read_namespaced_secret("hub", namespace)
    auths = json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))["auths"]
    assert list(auths) == [DOCKER_HUB_KEY]
    registry = env["REGCRED_REGISTRY_BEARER"]
    image = "%s/%s" % (registry, env["REGCRED_TEST_IMAGE"])
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps({"auths": {registry: auths[DOCKER_HUB_KEY]}}))
    inspected = testenv.skopeo_inspect(env, image, authfile)
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["Digest"] == env["REGCRED_TEST_IMAGE_DIGEST"]
    # The same request without the Secret's login is refused: the login is what opens it.
    authfile.write_text(json.dumps({"auths": {}}))
    refused = testenv.skopeo_inspect(env, image, authfile)
    assert refused.returncode != 0 and "unauthorized" in refused.stderr.lower(), refused.stderr
