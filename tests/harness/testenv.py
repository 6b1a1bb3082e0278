"""What tests need to reach the running local environment (see localenv.py)."""

import os
import re
import shlex
import ssl
import subprocess
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from kubernetes import client, config

HERE = Path(__file__).resolve().parent
ENV_FILE = Path(os.environ.get("REGCRED_LOCALENV_DIR", HERE.parent / "output" / "localenv")) / "env.sh"
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REQUEST_LINE = re.compile(r'^apiserver_request_total\{([^}]*)\} (\S+)$', re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


class EnvironmentDown(RuntimeError):
    pass


def load_env(path=ENV_FILE):
    """The variables of env.sh as a dict; fails loudly when the environment is not up."""
    if not Path(path).exists():
        raise EnvironmentDown(f"{path} is missing: run 'scripts/localenv up' first")
    values = {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("export "):
            key, raw = line[7:].split("=", 1)
            values[key] = shlex.split(raw)[0] if raw else ""
    return values


def api_client(kubeconfig):
    return config.new_client_from_config(config_file=str(kubeconfig))


def kubectl(env, *args, kubeconfig=None, check=True, stdin=None):
    return subprocess.run([env["REGCRED_KUBECTL"], f"--kubeconfig={kubeconfig or env['KUBECONFIG']}",
                           *args], input=stdin, capture_output=True, text=True, check=check,
                          timeout=60)


def metrics_text(env):
    """The apiserver's /metrics, read with the admin identity."""
    return kubectl(env, "get", "--raw", "/metrics").stdout


def request_counts(env, resource=None):
    """apiserver_request_total summed by verb (optionally for one resource), as a Counter."""
    counts = Counter()
    for labels, value in _REQUEST_LINE.findall(metrics_text(env)):
        fields = dict(_LABEL.findall(labels))
        if resource is None or fields.get("resource") == resource:
            counts[fields.get("verb", "")] += int(float(value))
    return counts


def writes(before, after):
    """Write requests (POST/PUT/PATCH/DELETE) between two request_counts() readings."""
    return sum(after[v] - before[v] for v in WRITE_VERBS)


def skopeo_inspect(env, image, authfile):
    """Run the real skopeo client against a local registry; returns the CompletedProcess."""
    return subprocess.run(["skopeo", "inspect", "--authfile", str(authfile),
                           "--cert-dir", env["REGCRED_REGISTRY_CERT_DIR"], f"docker://{image}"],
                          capture_output=True, text=True, timeout=60, check=False)


def tls_context(env):
    return ssl.create_default_context(cafile=env["REGCRED_REGISTRY_CA"])


def urlopen(url, env, data=None, headers=None, method=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    return urllib.request.urlopen(request, context=tls_context(env), timeout=10)


def core_v1(kubeconfig):
    return client.CoreV1Api(api_client(kubeconfig))


def core_v1_with_token(env, token):
    """A client that authenticates with a bearer token from the apiserver's token file."""
    cfg = client.Configuration()
    cfg.host, cfg.ssl_ca_cert = env["REGCRED_KUBE_HOST"], env["REGCRED_KUBE_CA"]
    cfg.api_key = {"authorization": f"Bearer {token}"}
    return client.CoreV1Api(client.ApiClient(cfg))


@pytest.fixture(scope="session", name="env")
def env_fixture():
    """The running local environment. A missing environment is an error, never a skip."""
    return load_env()
