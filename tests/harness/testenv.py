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


MODULE_USER_AGENT = "regcred.k8s/"


def agent(module):
    """The User-Agent of one module's requests, for counting only what it did."""
    import yaml  # pylint: disable=import-outside-toplevel
    version = yaml.safe_load((HERE.parents[1] / "galaxy.yml").read_text())["version"]
    return f"{MODULE_USER_AGENT}{version} ({module})"


class AuditLog:
    """Requests the collection's modules made, from the apiserver's audit log (Metadata level,
    so it holds no request or response bodies). Create it before the action, read after.

    Counts cover every module run in that time, so tests that count assume they have the
    environment to themselves (the suite runs serially), or filter by ``namespace``."""

    def __init__(self, env):
        self.path = Path(env["REGCRED_AUDIT_LOG"])
        self.offset = self.path.stat().st_size
        self.received = None

    def window(self, began, ended):
        """The same log, but only the requests the apiserver received from ``began`` until ``ended``
        (UTC times as the log writes them, RECEIVED below): what one of several tasks in a run did."""
        import copy  # pylint: disable=import-outside-toplevel
        part = copy.copy(self)
        part.received = (began, ended)
        return part

    def events(self, user_agent=MODULE_USER_AGENT, namespace=None):
        import json  # pylint: disable=import-outside-toplevel
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            lines = handle.read().decode().splitlines()
        found = [json.loads(line) for line in lines if line.strip()]
        if self.received:
            found = [e for e in found if self.received[0] <= e["requestReceivedTimestamp"] < self.received[1]]
        return [e for e in found if e.get("userAgent", "").startswith(user_agent)
                and (namespace is None or (e.get("objectRef") or {}).get("namespace") == namespace)]

    def verbs(self, user_agent=MODULE_USER_AGENT, namespace=None):
        return Counter(e["verb"] for e in self.events(user_agent, namespace))

    def writes(self, user_agent=MODULE_USER_AGENT, namespace=None):
        return sum(n for verb, n in self.verbs(user_agent, namespace).items()
                   if verb in ("create", "update", "patch", "delete", "deletecollection"))


def skopeo_inspect(env, image, authfile):
    """Run the real skopeo client against a local registry; returns the CompletedProcess."""
    return subprocess.run(["skopeo", "inspect", "--authfile", str(authfile),
                           "--cert-dir", env["REGCRED_REGISTRY_CERT_DIR"], f"docker://{image}"],
                          capture_output=True, text=True, timeout=60, check=False)


def tls_context(env):
    """Trusts the registries' CA and the emulated cloud endpoints' CA: for the tests' own clients."""
    context = ssl.create_default_context(cafile=env["REGCRED_REGISTRY_CA"])
    context.load_verify_locations(cafile=env["REGCRED_CLOUD_CA"])
    return context


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


# Where the cloud SDKs find the CA of the emulated cloud endpoints, as a user behind a
# TLS-inspecting proxy points them at its CA; env.sh sets them.
CLOUD_TRUST = ("REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE")


@pytest.fixture(scope="session", name="env")
def env_fixture():
    """The running local environment. A missing environment is an error, never a skip. The
    cloud trust variables go into this process's environment, for providers called in-process and
    the ansible-playbook runs it starts."""
    values = load_env()
    saved = {name: os.environ.get(name) for name in CLOUD_TRUST}
    os.environ.update({name: values[name] for name in CLOUD_TRUST})
    yield values
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


class TaskRun:
    """One module run through ansible-playbook: ``result`` is the task's result dict;
    ``stdout``/``stderr`` are everything Ansible printed (for leak checks). For one of several
    tasks of a play, ``stdout`` is the task's part, ``play_stdout`` all of it and ``received``
    the times between which the task ran, for AuditLog.window."""

    def __init__(self, result, stdout, stderr, returncode, play_stdout=None, received=None):
        self.result, self.stdout, self.stderr, self.returncode = result, stdout, stderr, returncode
        self.play_stdout = stdout if play_stdout is None else play_stdout
        self.received = received

    @property
    def failed(self):
        return bool(self.result.get("failed"))


def ansible_env(env, kubeconfig=None, extra_env=None):
    """The environment for ansible-playbook: this checkout as the collection, this Python."""
    import sys  # pylint: disable=import-outside-toplevel

    sys.path.insert(0, str(HERE))
    import collection_path  # pylint: disable=import-outside-toplevel

    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collection_path.ensure()),
                KUBECONFIG=str(kubeconfig or env["KUBECONFIG"]), ANSIBLE_NOCOLOR="1",
                ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                ANSIBLE_PYTHON_INTERPRETER=sys.executable, **(extra_env or {}))


def playbook_command(playbook, options=()):
    """ansible-playbook of this Python's environment, on localhost."""
    import sys  # pylint: disable=import-outside-toplevel
    return [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", str(playbook), *options]


def run_playbook(env, playbook, kubeconfig=None, extra_env=None, options=(), timeout=600):
    """Run a whole playbook on localhost with ansible-playbook's ``options``; returns the CompletedProcess."""
    return subprocess.run(playbook_command(playbook, options), capture_output=True, text=True, timeout=timeout, check=False,
                          env=ansible_env(env, kubeconfig, extra_env))


def start_playbook(env, playbook, kubeconfig=None):
    """Start a playbook without waiting for it (for concurrency tests); returns the Popen."""
    return subprocess.Popen(playbook_command(playbook), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=ansible_env(env, kubeconfig))


def _save_task(content, result_file):
    return {"name": "save the result", "ansible.builtin.copy": {"content": content, "dest": str(result_file), "mode": "0600"},
            "check_mode": False, "diff": False}


def _run_play(env, tasks, tmp_path, check=False, diff=False, verbosity=0, extra_env=None, kubeconfig=None):
    """Run ``tasks(result_file)`` in a play on localhost; one of them saves the result to check."""
    import json  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel

    result_file = Path(tmp_path) / "result.json"
    result_file.unlink(missing_ok=True)
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": tasks(result_file)}]
    playbook = Path(tmp_path) / "play.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    options = (["--check"] if check else []) + (["--diff"] if diff else []) + (["-" + "v" * verbosity] if verbosity else [])
    proc = subprocess.run(playbook_command(playbook, options), capture_output=True, text=True, timeout=600,
                          check=False, env=ansible_env(env, kubeconfig, extra_env))
    try:
        result = json.loads(result_file.read_text())
    except (OSError, ValueError) as exc:
        raise AssertionError(f"no task result ({exc}):\n{proc.stdout}\n{proc.stderr}")
    return TaskRun(result, proc.stdout, proc.stderr, proc.returncode)


def workdir(base, name):
    """A sub-directory of a test's tmp_path for one of several task runs."""
    path = Path(base) / name
    path.mkdir(exist_ok=True)
    return path


def run_task(env, module, args, tmp_path, no_log=False, **options):
    """Run one task of ``module`` with ``args`` on localhost, the way a user's playbook does.
    ``options``: check, diff, verbosity, extra_env, kubeconfig."""
    task = {"name": "task under test", module: args, "register": "out", "ignore_errors": True}
    if no_log:
        task["no_log"] = True
    return _run_play(env, lambda result_file: [task, _save_task("{{ out | to_json }}", result_file)], tmp_path, **options)


def task_output(stdout, name, until=None):
    """The part of ansible-playbook's ``stdout`` that the task called ``name`` printed: from its
    ``TASK [name]`` header to the next header or the recap; with ``until``, to the header of the
    task called so (the tasks in between included)."""
    header = f"\nTASK [{name}] "
    if header not in stdout:
        raise AssertionError(f"no output of task {name!r}:\n{stdout[-3000:]}")
    part = stdout.split(header, 1)[1]
    end = re.escape(f"TASK [{until}] ") if until else r"TASK \["
    return re.split(f"^(?:{end}|PLAY RECAP )", part, maxsplit=1, flags=re.M)[0]


# The time now as the audit log writes requestReceivedTimestamp (RFC 3339, microseconds, UTC).
RECEIVED = "{{ now(utc=True, fmt='%Y-%m-%dT%H:%M:%S.%fZ') }}"


def _run_timed(env, steps, tmp_path, **options):
    """Run ``steps``, pairs of a marker name and the tasks of one step, one after the other in one
    play; the tasks of step ``i`` leave its result in the fact ``out_<i>``. A task named by the
    marker notes the time before each step, one called ``ended`` the time after the last.
    Returns the play's TaskRun, whose result lists per step ``[out_<i>, began, ended]``."""
    play = []
    for i, (marker, tasks) in enumerate(steps):
        play += [{"name": marker, "ansible.builtin.set_fact": {f"began_{i}": RECEIVED}}, *tasks]
    play.append({"name": "ended", "ansible.builtin.set_fact": {f"began_{len(steps)}": RECEIVED}})
    collected = "{{ [%s] | to_json }}" % ", ".join(f"[out_{i}, began_{i}, began_{i + 1}]" for i in range(len(steps)))
    return _run_play(env, lambda result_file: play + [_save_task(collected, result_file)], tmp_path, **options)


def run_tasks(env, tasks, tmp_path, **options):
    """Run independent tasks in one play, so that one ansible-playbook start serves them all.
    ``tasks`` maps a task name to ``(module, args)`` or ``(module, args, task keywords)``, such as
    ``{"no_log": True}``; the tasks run in that order, each whether the ones before failed or not.
    Returns a TaskRun per name, as run_task does, whose stdout is that task's part of the output
    (stderr is the whole run's) and ``received`` the times between which it ran, for
    AuditLog.window. ``options`` as for run_task."""
    names = list(tasks)
    # A failed task's error shows the two lines of the playbook above the task: each task begins
    # with its module and ends with keywords, so that those lines never show another task's arguments.
    steps = [(f"{name} (began)", [{tasks[name][0]: tasks[name][1], "name": name,
                                   **(tasks[name][2] if len(tasks[name]) > 2 else {}),
                                   "register": f"out_{i}", "ignore_errors": True}])
             for i, name in enumerate(names)]
    run = _run_timed(env, steps, tmp_path, **options)
    return {name: TaskRun(run.result[i][0], task_output(run.stdout, name), run.stderr, run.returncode, run.stdout,
                          tuple(run.result[i][1:]))
            for i, name in enumerate(names)}


def run_tasks_audited(env, tasks, tmp_path, **options):
    """run_tasks, returning per name ``(TaskRun, AuditLog)``: the task's run and the audit log of
    the time it ran, so that each task's requests are checked as its own."""
    audit = AuditLog(env)
    return {name: (run, audit.window(*run.received)) for name, run in run_tasks(env, tasks, tmp_path, **options).items()}


ROLE_FAILURE = "ansible_failed_result | combine({'failed_task': ansible_failed_task.name})"


def _role_block(role, role_vars, passed, failed, tasks_from=None):
    """Include ``role`` (its entry point ``tasks_from``, else main) with ``role_vars``, then the task
    ``passed``, or ``failed`` after a task of the role failed: ignore_errors does not reach into an
    included role, a rescue does."""
    include = {"name": "role under test", "vars": role_vars,
               "ansible.builtin.include_role": dict({"name": role}, **({"tasks_from": tasks_from} if tasks_from else {}))}
    return {"block": [include, passed], "rescue": [failed]}


def run_role(env, role, role_vars, tmp_path, tasks_from=None, **options):
    """Include ``role`` (its entry point ``tasks_from``, else main) with ``role_vars`` on localhost.
    The result is that of the task that failed, with its name in ``failed_task``, or
    ``{"failed": false}`` when the role ran through."""
    return _run_play(env, lambda result_file: [_role_block(role, role_vars, _save_task('{"failed": false}', result_file),
                                                           _save_task("{{ %s | to_json }}" % ROLE_FAILURE, result_file),
                                                           tasks_from)],
                     tmp_path, **options)


def run_roles(env, roles, tmp_path, **options):
    """Run independent role inclusions in one play, one after the other. ``roles`` maps a name to
    ``(role, role_vars)`` or ``(role, role_vars, tasks_from)``. Returns per name ``(TaskRun, (began,
    ended))``: the result as run_role has it, the output from the name's marker task to the next
    one, and the times between which the role ran, for AuditLog.window."""
    names = list(roles)
    steps = [(name, [_role_block(roles[name][0], roles[name][1], {"ansible.builtin.set_fact": {f"out_{i}": {"failed": False}}},
                                 {"ansible.builtin.set_fact": {f"out_{i}": "{{ %s }}" % ROLE_FAILURE}}, *roles[name][2:])])
             for i, name in enumerate(names)]
    run = _run_timed(env, steps, tmp_path, **options)
    ends = names[1:] + ["ended"]
    return {name: (TaskRun(run.result[i][0], task_output(run.stdout, name, until), run.stderr, run.returncode, run.stdout),
                   tuple(run.result[i][1:])) for i, (name, until) in enumerate(zip(names, ends))}


def secret_forms(value):
    """A secret and the encodings it could leak in; shorter ones would match by chance."""
    import base64  # pylint: disable=import-outside-toplevel
    raw = value.encode()
    found = {value, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return {f for f in found if len(f) >= 8}


def pull_secret_names(admin, namespace, account="default"):
    """The names of the pull Secrets a ServiceAccount lists, in order."""
    return [ref.name for ref in admin.read_namespaced_service_account(account, namespace).image_pull_secrets or []]


def wait_for_default(admin, namespace, timeout=30):
    """Wait until the controller-manager has made the namespace's default ServiceAccount."""
    import time  # pylint: disable=import-outside-toplevel
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(sa.metadata.name == "default" for sa in admin.list_namespaced_service_account(namespace).items):
            return
        time.sleep(0.2)
    raise AssertionError(f"no default ServiceAccount in {namespace} after {timeout} s")


def whoami_of(kube):
    """The user name the apiserver sees for a module_utils.kube.Kube client, which it closes."""
    try:
        review = kube.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                              body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    finally:
        kube.close()
    return review["status"]["userInfo"]["username"]


@pytest.fixture(scope="session", name="node")
def node_fixture(env):
    """The node's name. Without a node the suite fails in CI and is skipped, saying so, elsewhere."""
    if "REGCRED_NODE_NAME" not in env:
        message = "the local environment has no node: start it with 'scripts/localenv up --node'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return env["REGCRED_NODE_NAME"]


@pytest.fixture(name="admin")
def admin_fixture(env):
    """CoreV1Api as the admin identity."""
    return core_v1(env["KUBECONFIG"])


def _new_namespace(admin, prefix, labels=None):
    import uuid  # pylint: disable=import-outside-toplevel
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    admin.create_namespace({"metadata": {"name": name, "labels": labels or {}}})
    return name


def _delete_namespace(admin, name):
    from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel
    try:
        admin.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


@pytest.fixture(name="make_namespace")
def make_namespace_fixture(admin):
    """make_namespace(prefix, labels=None) creates a uniquely named namespace, deleted afterwards."""
    made = []

    def make(prefix="t", labels=None):
        made.append(_new_namespace(admin, prefix, labels))
        return made[-1]

    yield make
    for name in made:
        _delete_namespace(admin, name)


@pytest.fixture(scope="module", name="module_namespace")
def module_namespace_fixture(request, env):
    """A uniquely named namespace for the tests of one module (named after it), deleted afterwards:
    for module-scoped fixtures that run the tasks of several tests in one play."""
    admin = core_v1(env["KUBECONFIG"])
    name = _new_namespace(admin, request.module.__name__.rsplit(".", 1)[-1].replace("test_", "").replace("_", "-")[:40])
    yield name
    _delete_namespace(admin, name)
