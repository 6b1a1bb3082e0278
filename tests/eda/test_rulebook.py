"""The rulebook extensions/eda/rulebooks/pull_secrets.yml with the real ansible-rulebook (from
.venv-eda, Java 17) and the event source regcred.k8s.k8s_watch, against the local apiserver.

One ansible-rulebook process serves the whole module; each test uses its own namespaces, labelled
with this run's selector. The burst is served at the same time by a polling loop (tests/eda/poller.py,
the pull_secrets role every REGCRED_EDA_POLL_PERIOD seconds, 10 unless set) writing a Secret of its
own, so that both latencies come from one burst. With a node (scripts/localenv up --node), a pod created right after its
namespace pulls the private image once the rulebook has written the Secret it names. Measured, not asserted: the latency from a namespace's creation to its
Secret for a burst of 20 namespaces, by the rulebook and by the polling loop
(tests/output/eda/latency.json, docs/benchmarks.md).
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

import collection_path
import localenv
import testenv
from poller import Poller
from test_kubelet_pull import image, start_pod, wait_for_event

ROOT = Path(__file__).resolve().parents[2]
EDA_VENV = Path(os.environ.get("REGCRED_EDA_VENV") or ROOT / ".venv-eda")
OUTPUT = ROOT / "tests" / "output" / "eda"
SECRET = "eda-regcred"
POLLED_SECRET = "polled-regcred"
POLL_PERIOD = float(os.environ.get("REGCRED_EDA_POLL_PERIOD") or 10)
LABEL = "regcred-eda"
# Generous bounds for a 2-core machine shared with other work; the figures are measured apart.
CONVERGE_SECONDS = 180


def java_home():
    """JAVA_HOME for ansible-rulebook's Drools engine: the environment's, else Debian's Java 17."""
    for candidate in (os.environ.get("JAVA_HOME"), "/usr/lib/jvm/java-17-openjdk-amd64"):
        if candidate and (Path(candidate) / "bin" / "java").exists():
            return candidate
    raise AssertionError("no Java 17: set JAVA_HOME (scripts/install-system-deps installs openjdk-17-jre-headless)")


def started_at(pid):
    """A process's start time (clock ticks since boot), or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def descendants(pid):
    """The processes below ``pid`` (children, theirs, ...) as {pid: start time}, from /proc."""
    found, parents = {}, [pid]
    while parents:
        for task in Path(f"/proc/{parents.pop()}/task").glob("*"):
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
            for child in children:
                if child not in found and (started := started_at(child)):
                    found[child] = started
                    parents.append(child)
    return found


class Rulebook:
    """ansible-rulebook running the collection's rulebook, its output in a log file."""

    def __init__(self, env, workdir, selector_value):
        self.env, self.workdir = env, workdir
        self.log = workdir / "ansible-rulebook.log"
        rulebook_bin = EDA_VENV / "bin" / "ansible-rulebook"
        assert rulebook_bin.exists(), f"{rulebook_bin} is missing: run make eda-venv"
        inventory = workdir / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local",
            "ansible_python_interpreter": str(EDA_VENV / "bin" / "python"),
            "pull_secrets_registry_ca_path": env["REGCRED_REGISTRY_CA"],
            # A lookup, templated in the playbook: the inventory holds no password.
            "regcred_eda_secrets": [{"name": SECRET, "registries": [{
                "provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"],
                "username": env["REGCRED_REGISTRY_USER"],
                "password": "{{ lookup('ansible.builtin.env', 'REGCRED_REGISTRY_PASSWORD') }}"}]}],
        }}}}))
        self.run_env = dict(
            os.environ, PATH=f"{EDA_VENV / 'bin'}:{os.environ['PATH']}", JAVA_HOME=java_home(),
            ANSIBLE_COLLECTIONS_PATH=str(collection_path.ensure()), KUBECONFIG=env["KUBECONFIG"],
            REGCRED_NAMESPACE_SELECTOR=f"{LABEL}={selector_value}",
            REGCRED_REGISTRY_PASSWORD=env["REGCRED_REGISTRY_PASSWORD"],
            ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
        self.argv = [str(rulebook_bin), "--rulebook", "regcred.k8s.pull_secrets", "--inventory", str(inventory),
                     "--env-vars", "REGCRED_NAMESPACE_SELECTOR", "--verbose",
                     # Four playbooks at once: the machine has two cores.
                     "--max-concurrent-actions", "4"]
        self.proc = None

    def start(self):
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir,
                                         env=self.run_env, start_new_session=True)

    def stop(self):
        """Stop ansible-rulebook, then whatever it started that outlived it: ansible-runner runs
        each playbook in a session of its own, so a playbook still running at the end would
        otherwise be left behind, waiting for its killed worker forever."""
        if self.proc and self.proc.poll() is None:
            below = descendants(self.proc.pid)
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            for pid, started in below.items():
                if started_at(pid) == started:  # the same process, not a reused PID
                    os.kill(pid, signal.SIGKILL)

    def output(self):
        return self.log.read_text(errors="replace")

    def alive(self):
        assert self.proc.poll() is None, "ansible-rulebook exited:\n" + self.output()[-4000:]


def secret_exists(admin, namespace, name=SECRET):
    try:
        admin.read_namespaced_secret(name, namespace)
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def attached(admin, namespace, account="default"):
    try:
        refs = admin.read_namespaced_service_account(account, namespace).image_pull_secrets or []
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return SECRET in [ref.name for ref in refs]


def wait_until(rulebook, what, check, timeout=CONVERGE_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        rulebook.alive()
        time.sleep(0.25)
    raise AssertionError(f"{what} not done after {timeout} s; ansible-rulebook said:\n{rulebook.output()[-6000:]}")


@pytest.fixture(scope="module", name="selector")
def selector_fixture():
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module", name="names")
def names_fixture(admin_module, selector):
    """create(name, labelled=True): a namespace of this module, deleted at the end."""
    made = []

    def create(suffix, labelled=True):
        name = f"eda-{selector}-{suffix}"
        labels = {LABEL: selector} if labelled else {}
        admin_module.create_namespace({"metadata": {"name": name, "labels": labels}})
        made.append(name)
        return name

    yield create
    for name in made:
        try:
            admin_module.delete_namespace(name)
        except ApiException:
            pass


@pytest.fixture(scope="module", name="admin_module")
def admin_module_fixture(env):
    import testenv  # pylint: disable=import-outside-toplevel
    return testenv.core_v1(env["KUBECONFIG"])


@pytest.fixture(scope="module", name="rulebook")
def rulebook_fixture(env, names, selector, tmp_path_factory):
    """ansible-rulebook started after two namespaces exist: one selected (caught by the first
    LIST) and one not selected (must never get the Secret)."""
    workdir = tmp_path_factory.mktemp("eda")
    before = names("before")
    unselected = names("unselected", labelled=False)
    rulebook = Rulebook(env, workdir, selector)
    rulebook.start()
    rulebook.before, rulebook.unselected = before, unselected
    try:
        yield rulebook
    finally:
        rulebook.stop()
        OUTPUT.mkdir(parents=True, exist_ok=True)
        shutil.copy(rulebook.log, OUTPUT / "ansible-rulebook.log")
        # The registry password reaches the playbook only through a lookup, and no_log hides it.
        assert env["REGCRED_REGISTRY_PASSWORD"] not in rulebook.output()


def test_a_namespace_created_before_the_source_connected_is_caught_by_the_first_list(rulebook, admin_module):
    wait_until(rulebook, f"Secret and default attachment in {rulebook.before}",
               lambda: secret_exists(admin_module, rulebook.before) and attached(admin_module, rulebook.before))


def test_a_pod_created_right_after_its_namespace_runs_once_the_secret_is_there(rulebook, names, admin_module, env, node):
    """On the node: the pod is created before the Secret exists and names it itself (a pod that
    relies on its ServiceAccount got no imagePullSecrets at creation and would stay in back-off).
    The kubelet fails to read the Secret, pulls without it and is refused, and its next retry after
    the rulebook wrote the Secret pulls and runs the image; nobody touches the pod."""
    namespace = names("pod")
    testenv.wait_for_default(admin_module, namespace)  # a pod needs its ServiceAccount to exist
    since = start_pod(admin_module, node, namespace, image(env, "basic"), secrets=[SECRET])
    assert not secret_exists(admin_module, namespace), "the Secret was there before the pod: nothing to prove"
    wait_until(rulebook, f"Secret in {namespace}", lambda: secret_exists(admin_module, namespace))
    secret_at = time.monotonic() - since
    # A one-shot pod: it ends once the kubelet's retry pulled and ran the image.
    wait_until(rulebook, f"the run of {namespace}/hello",
               lambda: admin_module.read_namespaced_pod("hello", namespace).status.phase in ("Succeeded", "Failed"))
    seconds = time.monotonic() - since
    pod = admin_module.read_namespaced_pod("hello", namespace)
    (status,) = pod.status.container_statuses
    assert pod.status.phase == "Succeeded" and status.state.terminated.exit_code == 0, status.state
    assert status.image_id.endswith("@" + env["REGCRED_TEST_IMAGE_DIGEST"]), status.image_id
    # The kubelet did try before the Secret existed, and pulled at a retry.
    wait_for_event(admin_module, namespace, "hello", "FailedToRetrieveImagePullSecret")
    wait_for_event(admin_module, namespace, "hello", "Pulled")
    figures = {"secret_s": round(secret_at, 2), "ran_s": round(seconds, 2)}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "pod.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("pod created right after its namespace:", json.dumps(figures))


def distribution(latencies):
    latencies = sorted(latencies)
    return {"namespaces": len(latencies), "p50_s": round(statistics.median(latencies), 2),
            "p95_s": round(latencies[int(0.95 * (len(latencies) - 1) + 0.5)], 2),
            "max_s": round(latencies[-1], 2), "latencies_s": [round(x, 2) for x in latencies]}


@pytest.fixture(name="poller")
def poller_fixture(env, selector, tmp_path):
    """The polling loop over this module's selected namespaces: its own Secret, no attachment."""
    role_vars = {"pull_secrets_registry_ca_path": env["REGCRED_REGISTRY_CA"], "pull_secrets_secrets": [{
        "name": POLLED_SECRET, "namespace_selector": f"{LABEL}={selector}", "service_accounts": [],
        "registries": [{"provider": "basic", "server": env["REGCRED_REGISTRY_BASIC"],
                        "username": env["REGCRED_REGISTRY_USER"], "password": env["REGCRED_REGISTRY_PASSWORD"]}]}]}
    poller = Poller(env, role_vars, POLL_PERIOD, tmp_path)
    yield poller
    poller.close()


def test_a_burst_of_20_namespaces_each_gets_its_secret(rulebook, names, admin_module, poller, env):
    wait_until(rulebook, "the first LIST's reaction", lambda: attached(admin_module, rulebook.before))
    created = {}

    def create(index):
        began = time.time()
        name = names(f"burst-{index:02d}")
        created[name] = began

    # The burst comes right after the loop's first pass has listed the namespaces: the worst moment
    # for polling, each namespace waits for the next pass (the race window's upper end).
    audit = testenv.AuditLog(env)
    poller.start()
    wait_until(rulebook, "the polling loop's LIST of namespaces", lambda: any(
        event["verb"] == "list" and event["objectRef"]["resource"] == "namespaces"
        for event in audit.events(testenv.agent("registry_pull_secret"))))
    began = time.time()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(20)))
    seen = {SECRET: {}, POLLED_SECRET: {}}
    deadline = time.monotonic() + CONVERGE_SECONDS
    while sum(map(len, seen.values())) < 2 * len(created) and time.monotonic() < deadline:
        for secret, found in seen.items():
            for name in set(created) - set(found):
                if secret_exists(admin_module, name, secret):
                    found[name] = time.time()
        if len(seen[POLLED_SECRET]) == len(created):
            poller.stop.set()  # no further pass: the figures are in
        rulebook.alive()
        time.sleep(0.2)
    for secret, found in seen.items():
        assert set(found) == set(created), f"no {secret} in {sorted(set(created) - set(found))}:\n{rulebook.output()[-6000:]}"
    wait_until(rulebook, "default attachments of the burst", lambda: all(attached(admin_module, n) for n in created))
    poller.close()
    figures = distribution(seen[SECRET][name] - created[name] for name in created)
    figures["polling"] = dict(distribution(seen[POLLED_SECRET][name] - created[name] for name in created),
                              period_s=POLL_PERIOD,
                              passes_s=[[round(start - began, 2), round(end - began, 2)] for start, end in poller.passes])
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "latency.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("burst latency:", json.dumps({k: v for k, v in figures.items() if k not in ("latencies_s", "polling")}))
    print("polling latency:", json.dumps({k: v for k, v in figures["polling"].items() if k != "latencies_s"}))


def test_a_new_service_account_gets_the_secret(rulebook, names, admin_module):
    namespace = names("sa")
    wait_until(rulebook, f"Secret in {namespace}", lambda: secret_exists(admin_module, namespace))
    admin_module.create_namespaced_service_account(namespace, {"metadata": {"name": "builder"}})
    wait_until(rulebook, f"attachment to {namespace}/builder", lambda: attached(admin_module, namespace, "builder"))


def test_no_namespace_is_missed_across_an_apiserver_restart(rulebook, names, admin_module):
    assert localenv.stop_process("kube-apiserver")
    try:
        time.sleep(3)  # the source's watch is cut and it backs off
    finally:
        localenv.restart("kube-apiserver")
    # Created while the source is still backing off: only its next LIST (or resumed watch) sees it.
    during = names("restart-1")
    time.sleep(2)
    after = names("restart-2")
    for namespace in (during, after):
        wait_until(rulebook, f"Secret and default attachment in {namespace}",
                   lambda ns=namespace: secret_exists(admin_module, ns) and attached(admin_module, ns))
    rulebook.alive()
    # The source saw the connection go and came back by itself, without a restart of its own.
    assert "Namespace: cannot reach the Kubernetes API" in rulebook.output()


def test_an_unselected_namespace_gets_nothing(rulebook, admin_module):
    # Checked last, once every selected namespace above has converged: its events were never emitted.
    assert not secret_exists(admin_module, rulebook.unselected)
    assert not attached(admin_module, rulebook.unselected)
    assert rulebook.unselected not in rulebook.output()
