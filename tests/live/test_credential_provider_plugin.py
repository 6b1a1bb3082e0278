"""The credential provider plugin's executable, run as the kubelet runs it: a request on stdin, the
response on stdout, installed as the kubelet_credential_provider role installs it (the collection's
pure code in .regcred-credential-provider beside it). It runs under the system's Python without
site-packages (-S), which shows it needs the standard library alone."""

import json
import shutil
import subprocess

import pytest

import collection_path

SCRIPT = collection_path.ROOT / "roles" / "kubelet_credential_provider" / "templates" / "regcred-credential-provider.j2"
NAME = "regcred-credential-provider"
# The template's one Jinja expression: the interpreter line, which the role renders.
INTERPRETER_LINE = "{{ '#!' ~ kubelet_credential_provider_python }}"
PYTHON = shutil.which("python3", path="/usr/bin:/bin")
REQUEST = {"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest",
           "image": "127.0.0.1:5000/regcred/hello:v1"}


@pytest.fixture(name="bin_dir")
def bin_dir_fixture(tmp_path):
    directory = tmp_path / "bin"
    directory.mkdir()
    (directory / NAME).write_text(SCRIPT.read_text().replace(INTERPRETER_LINE, "#!" + PYTHON, 1))
    (directory / ".regcred-credential-provider").symlink_to(collection_path.ensure())
    return directory


def write_private(path, doc, mode=0o600):
    path.write_text(json.dumps(doc))
    path.chmod(mode)
    return path


def run(bin_dir, config, request=None):
    return subprocess.run([PYTHON, "-S", str(bin_dir / NAME), "--config", str(config)],
                          input=json.dumps(request or REQUEST), capture_output=True, text=True, timeout=30,
                          check=False, env={"PATH": "/usr/bin:/bin"})


def test_answers_a_request_with_the_matching_login(bin_dir, tmp_path):
    config = write_private(tmp_path / "credentials.json", {"credentials": [
        {"provider": "basic", "server": "127.0.0.1:5000", "username": "robot", "password": "pw-1"},
        {"provider": "basic", "server": "127.0.0.1:5001", "username": "other", "password": "pw-2"}]})
    done = run(bin_dir, config)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderResponse",
        "cacheKeyType": "Image", "auth": {"127.0.0.1:5000": {"username": "robot", "password": "pw-1"}}}


def test_reads_a_private_docker_config(bin_dir, tmp_path):
    docker = write_private(tmp_path / "config.json", {"auths": {"127.0.0.1:5000": {"username": "d", "password": "pw-3"}}})
    config = write_private(tmp_path / "credentials.json", {"credentials": [
        {"provider": "docker_config", "path": str(docker)}]})
    done = run(bin_dir, config)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["auth"] == {"127.0.0.1:5000": {"username": "d", "password": "pw-3"}}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_refuses_a_credentials_file_others_can_read(bin_dir, tmp_path, mode):
    config = write_private(tmp_path / "credentials.json", {"credentials": [
        {"provider": "basic", "server": "127.0.0.1:5000", "username": "robot", "password": "pw-4"}]}, mode)
    done = run(bin_dir, config)
    assert done.returncode == 1 and done.stdout == ""
    assert "must not be accessible by group or others (mode %04o)" % mode in done.stderr
    assert "pw-4" not in done.stderr


def test_bad_input_fails_naming_the_field_without_the_secret(bin_dir, tmp_path):
    config = write_private(tmp_path / "credentials.json", {"credentials": [
        {"provider": "basic", "server": "127.0.0.1:5000", "username": "a:b", "password": "pw-5"}]})
    done = run(bin_dir, config)
    assert done.returncode == 1 and done.stdout == ""
    assert "credentials[0].username: must not contain ':'" in done.stderr and "pw-5" not in done.stderr
    missing = run(bin_dir, tmp_path / "none.json")
    assert missing.returncode == 1 and "No such file" in missing.stderr
    usage = subprocess.run([PYTHON, "-S", str(bin_dir / NAME)], input="", capture_output=True, text=True,
                           timeout=30, check=False)
    assert usage.returncode == 1 and "usage: regcred-credential-provider --config FILE" in usage.stderr


def test_the_role_writes_the_interpreter_line_and_nothing_else_is_templated():
    first, rest = SCRIPT.read_text().split("\n", 1)
    assert first == INTERPRETER_LINE
    assert not any(mark in rest for mark in ("{{", "{%", "{#"))
