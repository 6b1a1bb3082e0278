"""Jobs run the way AWX runs them, without AWX: ansible-runner (the engine AWX hands every job
to) with a private data directory, and credentials injected as AWX injects them.

- Built-in credential types (Amazon Web Services, Kubernetes Bearer Token) are injected by AWX's
  own injector functions, imported from ``awx_plugins.credentials.injectors`` (the awx-plugins-core
  package AWX loads them from).
- Custom credential types (``awx/credential_types/*.yml``) are rendered as AWX renders them, in
  ``CredentialType.inject_credential`` (awx/main/models/credential.py of ansible/awx): inputs go
  into a Jinja ``ImmutableSandboxedEnvironment``; each ``file`` injector is rendered into a private
  file under ``<private_data_dir>/env`` and named to the other templates as ``tower.filename``
  (``template``) or ``tower.filename.<label>`` (``template.<label>``); each ``env`` injector is
  rendered with that namespace. Empty inputs are left out of the namespace, as AWX leaves them out.
- AWX runs the job in an execution environment that mounts the private data directory at
  ``/runner``, and injectors name files by their path there. Here the job runs on the machine
  itself, so those paths are mapped back to the private data directory, as the mount would.
"""

import os
import stat
import tempfile
from pathlib import Path
from types import SimpleNamespace

import ansible_runner
import yaml
from awx_plugins.credentials import injectors as builtin_injectors
from awx_plugins.interfaces._temporary_private_container_api import CONTAINER_ROOT
from jinja2 import sandbox

REPO = Path(__file__).resolve().parents[2]


class BuiltinCredential:
    """What AWX's built-in injector functions read of a credential: ``get_input`` and ``has_input``."""

    def __init__(self, inputs):
        self.inputs = inputs

    def get_input(self, name, default=None):
        return self.inputs.get(name, default)

    def has_input(self, name):
        return self.inputs.get(name) not in (None, "")


def inject_builtin(kind, inputs, private_data_dir):
    """The environment AWX's injector for the built-in type ``kind`` (``aws``, ``kubernetes_bearer_token``) sets."""
    env = {}
    getattr(builtin_injectors, kind)(BuiltinCredential(inputs), env, str(private_data_dir))
    return env


def inject_custom(definition_file, inputs, private_data_dir):
    """The environment a custom credential type's injectors produce, rendered as AWX renders them."""
    definition = yaml.safe_load(Path(definition_file).read_text())
    injectors = definition["injectors"]
    namespace = {name: value for name, value in inputs.items() if isinstance(value, bool) or len(value)}
    tower = SimpleNamespace()
    namespace["tower"] = tower
    jinja = sandbox.ImmutableSandboxedEnvironment()
    for label, template in injectors.get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=Path(private_data_dir) / "env")
        with os.fdopen(handle, "w") as file:
            file.write(jinja.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        in_container = os.path.join(CONTAINER_ROOT, os.path.relpath(path, private_data_dir))
        if "." not in label:
            tower.filename = in_container
        else:
            if not hasattr(tower, "filename"):
                tower.filename = SimpleNamespace()
            setattr(tower.filename, label.split(".")[1], in_container)
    return {name: jinja.from_string(template).render(**namespace) for name, template in injectors.get("env", {}).items()}


def in_place(env, private_data_dir):
    """Paths under /runner, where the execution environment mounts the private data directory, as
    paths into that directory: the job runs on this machine, not in a container."""
    prefix = CONTAINER_ROOT.rstrip("/") + "/"
    return {name: str(Path(private_data_dir) / value[len(prefix):]) if value.startswith(prefix) else value
            for name, value in env.items()}


def private_data_dir(base):
    """A fresh private data directory with the ``env`` folder file injectors write to."""
    path = Path(base) / "job"
    (path / "env").mkdir(parents=True, exist_ok=True)
    return path


def run_job(directory, playbook, credentials_env, extra_vars, job_env, collections_path, python):
    """Run ``playbook`` of this repository as an AWX job: project = the repository's playbooks,
    inventory = localhost, credentials and the job's extra environment in ``envvars``."""
    envvars = dict(in_place(credentials_env, directory), **job_env,
                   ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1")
    return ansible_runner.run(
        private_data_dir=str(directory), project_dir=str(REPO / "playbooks"), playbook=playbook,
        inventory="localhost ansible_connection=local ansible_python_interpreter=%s" % python,
        envvars=envvars, extravars=extra_vars, quiet=True, timeout=600)
