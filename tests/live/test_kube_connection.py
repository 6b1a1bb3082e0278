"""module_utils.kube against the real apiserver: every way of naming it and authenticating.

The modules read kubeconfig files themselves for speed and hand credential plugins to the
kubernetes package; each shape must reach the apiserver as the identity it names."""

import base64
import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from testenv import whoami_of

from ansible_collections.regcred.k8s.plugins.module_utils import kube as kube_utils
from ansible_collections.regcred.k8s.plugins.module_utils.kube import Kube, KubeError

AGENT = "regcred-live-tests (kube connection)"  # not the modules' agent, so AuditLog counts leave it out
NO_PARAMS = {}


def whoami(params):
    return whoami_of(Kube(params, AGENT))


def b64(path):
    return base64.b64encode(Path(path).read_bytes()).decode()


def admin_config(env):
    return yaml.safe_load(Path(env["KUBECONFIG"]).read_text())


def with_user(config, user, cluster=None):
    config = json.loads(json.dumps(config))
    config["users"][0]["user"] = user
    if cluster is not None:
        config["clusters"][0]["cluster"] = cluster
    return config


def write(tmp_path, config, name="config"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


def pki(env):
    return Path(env["REGCRED_KUBE_CA"]).parent


def test_certificate_files_from_the_environment_kubeconfig(env, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", env["KUBECONFIG"])
    assert whoami(NO_PARAMS) == "regcred-admin"


def test_inline_certificate_data_in_a_dict_kubeconfig(env):
    user = {"client-certificate-data": b64(pki(env) / "admin.crt"), "client-key-data": b64(pki(env) / "admin.key")}
    cluster = {"server": env["REGCRED_KUBE_HOST"], "certificate-authority-data": b64(env["REGCRED_KUBE_CA"])}
    assert whoami({"kubeconfig": with_user(admin_config(env), user, cluster)}) == "regcred-admin"


def test_token_and_token_file_with_paths_relative_to_the_kubeconfig(env, tmp_path):
    (tmp_path / "ca.crt").write_bytes(Path(env["REGCRED_KUBE_CA"]).read_bytes())
    (tmp_path / "token").write_text(env["REGCRED_RESTRICTED_TOKEN"] + "\n")
    cluster = {"server": env["REGCRED_KUBE_HOST"], "certificate-authority": "ca.crt"}
    token = write(tmp_path, with_user(admin_config(env), {"token": env["REGCRED_RESTRICTED_TOKEN"]}, cluster))
    token_file = write(tmp_path, with_user(admin_config(env), {"tokenFile": "token"}, cluster), "config-file")
    assert whoami({"kubeconfig": str(token)}) == env["REGCRED_RESTRICTED_USER"]
    assert whoami({"kubeconfig": str(token_file)}) == env["REGCRED_RESTRICTED_USER"]


def test_an_exec_credential_plugin_goes_through_the_kubernetes_package(env, tmp_path):
    plugin = tmp_path / "plugin.py"
    plugin.write_text("import json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
                      "'kind': 'ExecCredential', 'status': {'token': %r}}))\n" % env["REGCRED_RESTRICTED_TOKEN"])
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                     "args": [str(plugin)], "interactiveMode": "Never"}}
    assert whoami({"kubeconfig": str(write(tmp_path, with_user(admin_config(env), user)))}) == env["REGCRED_RESTRICTED_USER"]


def test_several_kubeconfig_files_are_merged(env, tmp_path, monkeypatch):
    config = admin_config(env)
    clusters = write(tmp_path, dict(config, users=[], contexts=[]), "clusters")
    rest = write(tmp_path, dict(config, clusters=[]), "rest")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join((str(clusters), str(rest))))
    assert whoami(NO_PARAMS) == "regcred-admin"


def test_tls_server_name_is_the_name_checked(env, tmp_path):
    cluster = {"server": env["REGCRED_KUBE_HOST"], "certificate-authority": env["REGCRED_KUBE_CA"],
               "tls-server-name": "kubernetes.default"}
    good = admin_config(env)
    good["clusters"][0]["cluster"] = cluster
    assert whoami({"kubeconfig": good}) == "regcred-admin"
    good["clusters"][0]["cluster"] = dict(cluster, **{"tls-server-name": "elsewhere.example"})
    with pytest.raises(KubeError, match="TLS certificate of the Kubernetes API at .* is not for that name "
                                        r"\(hostname 'elsewhere.example' doesn't match .*tls-server-name"):
        whoami({"kubeconfig": good})


def test_explicit_host_and_token_without_certificate_checks(env):
    params = {"host": env["REGCRED_KUBE_HOST"], "api_key": env["REGCRED_ADMIN_TOKEN"], "validate_certs": False}
    assert whoami(params) != env["REGCRED_RESTRICTED_USER"]


def test_in_cluster_service_account_files(env, tmp_path, monkeypatch):
    (tmp_path / "ca.crt").write_bytes(Path(env["REGCRED_KUBE_CA"]).read_bytes())
    (tmp_path / "token").write_text(env["REGCRED_RESTRICTED_TOKEN"])
    host, port = env["REGCRED_KUBE_HOST"].rsplit("/", 1)[1].rsplit(":", 1)
    monkeypatch.setattr(kube_utils, "IN_CLUSTER_DIR", str(tmp_path))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert whoami(NO_PARAMS) == env["REGCRED_RESTRICTED_USER"]


@pytest.mark.parametrize("config, message", [
    ({"current-context": "missing", "contexts": []}, "no context named 'missing'"),
    ({"contexts": []}, "no current-context"),
])
def test_broken_kubeconfig_names_the_problem(config, message):
    with pytest.raises(KubeError, match=message):
        Kube({"kubeconfig": config}, AGENT)
