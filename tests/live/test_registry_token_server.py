"""registry.py against a token server that grants less than asked and answers ``token`` alone.

The module starts its own pair next to the local environment's: the token server of
tests/harness/emulators.py with ``token_only`` and an access list where the user ``puller`` may
only pull under ``regcred/``, and a real docker-registry whose realm is that server, serving the
environment's bearer registry storage (read only here). Both are stopped by PID at the end.
Token spec: https://distribution.github.io/distribution/spec/auth/token/
"""

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jwt
import pytest
import yaml

import testenv
from ansible_collections.regcred.k8s.plugins.module_utils import registry
from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential
from ansible_collections.regcred.k8s.plugins.module_utils.providers import MintContext

HARNESS = Path(__file__).resolve().parents[1] / "harness"
PULLER = "puller"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, env, proc):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "%s exited" % proc.args
        try:
            testenv.urlopen(url, env).close()
            return
        except urllib.error.HTTPError:
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise AssertionError("%s did not answer" % url)


@pytest.fixture(scope="module", name="narrow")
def narrow_fixture(env, tmp_path_factory):
    """``{"token": URL, "registry": HOST:PORT, "password": puller's password}``."""
    base = tmp_path_factory.mktemp("token-only")
    files = json.loads(Path(env["REGCRED_LOCALENV_STATE"]).read_text())["files"]
    config = json.loads(Path(files["emulators"]).read_text())
    password = secrets.token_urlsafe(18)
    config["registry"].update(token_only=True, users={PULLER: password}, acl={
        config["registry"]["username"]: [{"repository": "*", "actions": ["pull", "push"]}],
        PULLER: [{"repository": "regcred/*", "actions": ["pull"]}]})
    config_path = base / "emulators.json"
    config_path.write_text(json.dumps(config))
    os.chmod(config_path, 0o600)
    token_port, registry_port = free_port(), free_port()
    registry_config = yaml.safe_load(Path(files["registry_bearer"]).read_text())
    registry_config["auth"]["token"]["realm"] = "https://127.0.0.1:%d/token" % token_port
    registry_config["http"]["addr"] = "127.0.0.1:%d" % registry_port
    registry_path = base / "registry.yml"
    registry_path.write_text(yaml.safe_dump(registry_config))
    procs = []
    try:
        procs.append(subprocess.Popen([sys.executable, str(HARNESS / "emulators.py"), "registry-token", "--config",
                                       str(config_path), "--port", str(token_port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for("https://127.0.0.1:%d/token" % token_port, env, procs[-1])
        procs.append(subprocess.Popen(["/usr/bin/docker-registry", "serve", str(registry_path)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for("https://127.0.0.1:%d/v2/" % registry_port, env, procs[-1])
        yield {"token": "https://127.0.0.1:%d/token" % token_port, "registry": "127.0.0.1:%d" % registry_port,
               "password": password}
    finally:
        for proc in procs:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


def trusted(env):
    return MintContext(ca_path=env["REGCRED_REGISTRY_CA"], timeout=10)


def token_answer(env, narrow, scope, user=None, password=None):
    url = "%s?service=regcred-registry&scope=%s" % (narrow["token"], scope)
    headers = {}
    if user:
        headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    with testenv.urlopen(url, env, headers=headers) as answer:
        return json.loads(answer.read())


def access(document):
    return jwt.decode(document["token"], options={"verify_signature": False})["access"]


def test_the_token_only_server_answers_token_without_access_token(env, narrow):
    document = token_answer(env, narrow, "repository:regcred/hello:pull", PULLER, narrow["password"])
    assert "token" in document and "access_token" not in document


def test_the_grant_is_the_intersection_of_scope_and_access_list(env, narrow):
    pulled = token_answer(env, narrow, "repository:regcred/hello:pull,push", PULLER, narrow["password"])
    assert access(pulled) == [{"type": "repository", "name": "regcred/hello", "actions": ["pull"]}]
    assert access(token_answer(env, narrow, "repository:other/app:pull", PULLER, narrow["password"])) == []
    # Anonymous: pull under public/ only.
    assert access(token_answer(env, narrow, "repository:public/app:pull,push")) == [
        {"type": "repository", "name": "public/app", "actions": ["pull"]}]
    assert access(token_answer(env, narrow, "repository:regcred/hello:pull")) == []


def test_verify_takes_the_token_from_a_token_only_answer(env, narrow):
    login = Credential(narrow["registry"], env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"])
    result = registry.verify(login, trusted(env), repository="regcred/hello")
    assert result.ok, result.message
    assert "(Bearer token)" in result.message and "granted pull access to regcred/hello" in result.message


def test_verify_accepts_pull_granted_without_push(env, narrow):
    login = Credential(narrow["registry"], PULLER, narrow["password"])
    result = registry.verify(login, trusted(env), repository="regcred/hello")
    assert result.ok, result.message


def test_verify_reports_pull_refused_when_the_grant_leaves_it_out(env, narrow):
    login = Credential(narrow["registry"], PULLER, narrow["password"])
    result = registry.verify(login, trusted(env), repository="other/app")
    assert not result.ok and result.status in (401, 403), result
    assert "refused pull access to other/app for user %s" % PULLER in result.message
    assert narrow["password"] not in result.message


def test_the_registry_refuses_a_push_the_grant_left_out(env, narrow, tmp_path):
    """The real client: skopeo may read with puller's login, but not write."""
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps({"auths": {narrow["registry"]: {
        "auth": base64.b64encode(("%s:%s" % (PULLER, narrow["password"])).encode()).decode()}}}))
    image = "%s/%s" % (narrow["registry"], env["REGCRED_TEST_IMAGE"])
    read = testenv.skopeo_inspect(env, image, authfile)
    assert read.returncode == 0, read.stderr
    pushed = subprocess.run(["skopeo", "copy", "--quiet", "--authfile", str(authfile), "--src-cert-dir",
                             env["REGCRED_REGISTRY_CERT_DIR"], "--dest-cert-dir", env["REGCRED_REGISTRY_CERT_DIR"],
                             "docker://" + image, "docker://%s/regcred/copy:v1" % narrow["registry"]],
                            capture_output=True, text=True, timeout=60, check=False)
    assert pushed.returncode != 0 and ("denied" in pushed.stderr or "unauthorized" in pushed.stderr), pushed.stderr
