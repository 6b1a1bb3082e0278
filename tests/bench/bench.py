"""The benchmarks behind docs/benchmarks.md: regcred.k8s against what users would run instead.

Run by ``make bench`` (scripts/bench), against the running local environment, in the
.venv-bench virtualenv that also holds the ``ansible`` package and so kubernetes.core.

Tools compared in each scenario:
  module  one task of this collection's module
  loop    kubernetes.core.k8s in a ``loop`` over the namespaces, one item per namespace
  raw     the Python kubernetes client alone, concurrent (tests/bench/raw.py): the lower bound
          for a Python script
  ceiling the apiserver's own ceiling: the same requests from a Go program with HTTP/2
          (tests/bench/ceiling, standard library only, built and cached by tests/harness/binaries.py)

Settings (environment variables):
  BENCH_SIZES      namespace counts, default 10,100,1000
  BENCH_RUNS       runs per measurement, median reported, default 3
  BENCH_LOOP_RUNS  runs of the loop at the sizes above the smallest, default BENCH_RUNS (it is the slow one)
  BENCH_PARALLEL   the module's ``parallel`` and the raw client's thread count, default 100 (the module's most)
  BENCH_LOOP_MAX_N the largest N at which the loop runs, default no limit (at about a second per namespace
                   and scenario, the loop at N=1000 takes some 10 minutes, at 5000 most of an hour)
  BENCH_LOOP_AT_LARGEST  the scenarios in which the loop runs at the largest N it runs at, default
                   converge,noop,attach
The official run, within about 30 minutes:
  BENCH_SIZES=10,100,1000,5000 BENCH_LOOP_MAX_N=1000 BENCH_LOOP_AT_LARGEST=converge make bench
  BENCH_TASKS      tasks per playbook in the single-namespace scenario, default 5
  BENCH_SCENARIOS  which to run, default converge,noop,attach,single
  BENCH_TOOLS      which tools, default module,loop,raw,ceiling (leave out the loop for a quick look at large N)
Writes tests/output/bench/results.json; report.py turns it into the doc and the plot.
"""

import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "harness"))

# pylint: disable=wrong-import-position
import binaries  # noqa: E402
import collection_path  # noqa: E402
import testenv  # noqa: E402

collection_path.add_to_sys_path()
from ansible_collections.regcred.k8s.plugins.module_utils.kube import PAGE_SIZE  # noqa: E402

OUT = ROOT / "tests" / "output" / "bench"
REGISTRY = {"provider": "basic", "server": "registry.bench.invalid", "username": "bench", "password": "bench-password"}
TOOLS = ("module", "loop", "raw", "ceiling")
SECRETS = {"module": "bench-module", "loop": "bench-loop", "raw": "bench-raw", "ceiling": "bench-ceiling"}
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY")
# Series counted per scenario: the resources it touches, plus API discovery (a non-resource
# GET of /api or /apis), which kubernetes.core does and this collection does not.
RESOURCES = {"converge": ("namespaces", "secrets"), "noop": ("namespaces", "secrets"),
             "attach": ("namespaces", "secrets", "serviceaccounts"), "single": ("namespaces", "secrets")}
DISCOVERY = ("api", "apis")
# The local environment's servers whose CPU time each run reads: where the time of a run goes
# besides the client's own processes.
SERVERS = ("kube-apiserver", "etcd")
_SERIES = re.compile(r'^apiserver_request_total\{([^}]*)\} (\S+)$', re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


class Settings:
    def __init__(self, environ):
        self.sizes = sorted(int(n) for n in environ.get("BENCH_SIZES", "10,100,1000").split(","))
        self.runs = int(environ.get("BENCH_RUNS", "3"))
        self.loop_runs = int(environ.get("BENCH_LOOP_RUNS", str(self.runs)))
        self.parallel = int(environ.get("BENCH_PARALLEL", "100"))
        self.loop_max_n = int(environ["BENCH_LOOP_MAX_N"]) if environ.get("BENCH_LOOP_MAX_N") else None
        self.loop_at_largest = environ.get("BENCH_LOOP_AT_LARGEST", "converge,noop,attach").split(",")
        self.tasks = int(environ.get("BENCH_TASKS", "5"))
        self.scenarios = environ.get("BENCH_SCENARIOS", "converge,noop,attach,single").split(",")
        self.tools = environ.get("BENCH_TOOLS", ",".join(TOOLS)).split(",")

    def loop_sizes(self):
        """The sizes at which the loop runs: none above loop_max_n."""
        return [size for size in self.sizes if self.loop_max_n is None or size <= self.loop_max_n]

    def runs_of(self, tool, size, scenario):
        if tool not in self.tools:
            return 0
        if tool == "loop":
            sizes = self.loop_sizes()
            if size not in sizes or (size == sizes[-1] and scenario not in self.loop_at_largest):
                return 0
        return self.loop_runs if tool == "loop" and size > self.sizes[0] else self.runs

    def as_dict(self):
        return dict(vars(self))


def request_series(env):
    """{(resource, subresource, verb): count} from the apiserver's /metrics."""
    counts = Counter()
    for labels, value in _SERIES.findall(testenv.metrics_text(env)):
        fields = dict(_LABEL.findall(labels))
        counts[(fields.get("resource", ""), fields.get("subresource", ""), fields.get("verb", ""))] += int(float(value))
    return counts


def server_cpu(env):
    """{server: CPU seconds (user and system) it has used so far}, from /proc/<pid>/stat of the
    PIDs in the local environment's state file."""
    state = json.loads(Path(env["REGCRED_LOCALENV_STATE"]).read_text())
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for name in SERVERS:
        # the fields after the command name, which may hold spaces: state, ppid, ... utime, stime
        fields = Path("/proc/%d/stat" % state["processes"][name]["pid"]).read_text().rsplit(")", 1)[1].split()
        used[name] = (int(fields[11]) + int(fields[12])) / float(ticks)
    return used


def requests_between(before, after, scenario):
    """{verb: count} over the scenario's resources, and {"discovery": count}."""
    verbs = Counter()
    for key in set(after) | set(before):
        resource, subresource, verb = key
        delta = after[key] - before[key]
        if not delta:
            continue
        if resource in RESOURCES[scenario]:
            verbs[verb] += delta
        elif not resource and subresource in DISCOVERY:
            verbs["discovery GET"] += delta
    return dict(verbs)


def kubeconfig_flags(kubeconfig):
    """The ceiling's connection flags from a kubeconfig's current context, whose CA and client
    certificate are files (as scripts/localenv writes them)."""
    def named(kind, name):
        return next(entry[kind[:-1]] for entry in kubeconfig[kind] if entry["name"] == name)

    context = named("contexts", kubeconfig["current-context"])
    cluster, user = named("clusters", context["cluster"]), named("users", context["user"])
    return ["-server", cluster["server"], "-ca", cluster["certificate-authority"],
            "-cert", user["client-certificate"], "-key", user["client-key"]]


class Bench:
    def __init__(self, env, settings):
        self.env, self.settings = env, settings
        self.ansible_env = testenv.ansible_env(env)
        self.ceiling = None
        if "ceiling" in settings.tools:
            self.ceiling = [str(binaries.ceiling())] + kubeconfig_flags(yaml.safe_load(Path(env["KUBECONFIG"]).read_text()))
        self.results = []
        self.cluster_namespaces = None
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "logs").mkdir(exist_ok=True)

    # commands ------------------------------------------------------------------------------
    def names_file(self, names):
        path = OUT / ("names-%d.txt" % len(names))
        path.write_text("\n".join(names) + "\n")
        return path

    def raw_command(self, action, names, secret):
        return [sys.executable, str(HERE / "raw.py"), action, str(self.names_file(names)),
                "--secret", secret, "--workers", str(self.settings.parallel)]

    def run_unmeasured(self, command):
        """Set-up and resets between runs."""
        subprocess.run(command, check=True, env=self.ansible_env, stdout=subprocess.DEVNULL)

    def raw(self, action, names, secret):
        self.run_unmeasured(self.raw_command(action, names, secret))

    def playbook(self, name, tasks, names):
        play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"bench_namespaces": names, "bench_registry": REGISTRY}, "tasks": tasks}]
        path = OUT / ("%s.yml" % name)
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        return testenv.playbook_command(path)

    def measure(self, label, command, scenario):
        """Wall time, CPU time, peak RSS and API requests of one command, run from a fresh
        process, and the CPU time the servers used meanwhile."""
        before = request_series(self.env)
        cpu_before = server_cpu(self.env)
        proc = subprocess.run([sys.executable, str(HERE / "measure.py"), *command], capture_output=True, text=True,
                              check=True, env=dict(self.ansible_env, MEASURE_LOG=str(OUT / "logs" / (label + ".log"))))
        cpu_after = server_cpu(self.env)
        after = request_series(self.env)
        got = json.loads(proc.stdout)
        if got["returncode"] != 0:
            raise RuntimeError("%s failed (exit %d); see %s" % (label, got["returncode"], OUT / "logs" / (label + ".log")))
        got["requests"] = requests_between(before, after, scenario)
        got["server_cpu"] = dict((name, cpu_after[name] - cpu_before[name]) for name in SERVERS)
        return got

    def record(self, scenario, tool, size, runs, **extra):
        entry = {"scenario": scenario, "tool": tool, "n": size, "runs": runs,
                 "seconds": statistics.median(r["seconds"] for r in runs),
                 "max_rss_kib": max(r["max_rss_kib"] for r in runs),
                 "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                 "server_cpu": dict((name, statistics.median(r["server_cpu"][name] for r in runs)) for name in SERVERS),
                 "requests": runs[-1]["requests"]}
        entry.update(extra)
        self.results.append(entry)
        (OUT / "results-partial.json").write_text(json.dumps(self.results, indent=1))
        print("  %-8s %-7s N=%-5d %8.2f s  CPU %6.2f s, apiserver %6.2f s, etcd %5.2f s  %4.0f MiB  %s" % (
            scenario, tool, size, entry["seconds"], entry["cpu_seconds"], entry["server_cpu"]["kube-apiserver"],
            entry["server_cpu"]["etcd"], entry["max_rss_kib"] / 1024.0, entry["requests"]), flush=True)

    # tasks ----------------------------------------------------------------------------------
    def pull_secret_task(self, tool, namespace=None):
        """The task that puts the pull Secret in ``namespace``, or in all of bench_namespaces."""
        if tool == "module":
            args = {"name": SECRETS["module"], "registries": ["{{ bench_registry }}"], "parallel": self.settings.parallel}
            args.update({"namespace": namespace} if namespace else {"namespaces": "{{ bench_namespaces }}"})
            return {"regcred.k8s.registry_pull_secret": args}
        config = ("{{ {'auths': {bench_registry.server: {'username': bench_registry.username, "
                  "'password': bench_registry.password, 'auth': (bench_registry.username ~ ':' ~ "
                  "bench_registry.password) | b64encode}}} | to_json | b64encode }}")
        task = {"kubernetes.core.k8s": {"state": "present", "definition": {
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": SECRETS["loop"], "namespace": namespace or "{{ item }}"},
            "data": {".dockerconfigjson": config}}}}
        if not namespace:
            task["loop"] = "{{ bench_namespaces }}"
        return task

    def attach_task(self, tool):
        if tool == "module":
            return {"regcred.k8s.sa_image_pull_secrets": {"namespaces": "{{ bench_namespaces }}",
                                                          "secrets": [SECRETS["module"]], "parallel": self.settings.parallel}}
        return {"kubernetes.core.k8s": {"state": "patched", "definition": {
            "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "{{ item }}"},
            "imagePullSecrets": [{"name": SECRETS["module"]}]}}, "loop": "{{ bench_namespaces }}"}

    def command(self, scenario, tool, names):
        if tool in ("raw", "ceiling"):
            action = {"converge": "create", "noop": "noop", "attach": "attach"}[scenario]
            secret = SECRETS[tool] if scenario != "attach" else SECRETS["module"]
            if tool == "raw":
                return self.raw_command(action, names, secret)
            return self.ceiling + ["-workers", str(self.settings.parallel), "-limit", str(PAGE_SIZE),
                                   "-secret", secret, action, str(self.names_file(names))]
        task = self.attach_task(tool) if scenario == "attach" else self.pull_secret_task(tool)
        return self.playbook("%s-%s-%d" % (scenario, tool, len(names)), [task], names)

    # scenarios ------------------------------------------------------------------------------
    def tools_for_run(self, scenario, size, run):
        return [t for t in TOOLS if run < self.settings.runs_of(t, size, scenario)]

    def many(self, scenario, names, reset):
        """Every run interleaves the tools, so a slow spell of the machine hits all of them."""
        size = len(names)
        runs = dict((t, []) for t in TOOLS)
        for run in range(max(self.settings.runs, self.settings.loop_runs)):
            for tool in self.tools_for_run(scenario, size, run):
                if reset:
                    reset(tool)
                label = "%s-%s-%d-run%d" % (scenario, tool, size, run)
                runs[tool].append(self.measure(label, self.command(scenario, tool, names), scenario))
        for tool, measured in runs.items():
            if measured:
                self.record(scenario, tool, size, measured)

    def single(self, names):
        """Per-task cost in one namespace: a playbook of BENCH_TASKS tasks, less an empty playbook."""
        namespace, count = names[0], self.settings.tasks
        runs = dict((tool, []) for tool in ("empty", "module", "loop") if tool == "empty" or tool in self.settings.tools)
        for run in range(self.settings.runs):
            for tool in runs:
                for secret in (SECRETS["module"], SECRETS["loop"]):
                    self.raw("delete", [namespace], secret)
                tasks = [] if tool == "empty" else [self.pull_secret_task(tool, namespace)] * count
                label = "single-%s-run%d" % (tool, run)
                runs[tool].append(self.measure(label, self.playbook("single-%s" % tool, tasks, [namespace]), "single"))
        empty = statistics.median(r["seconds"] for r in runs["empty"])
        self.record("single", "empty", 1, runs["empty"])
        for tool in runs:
            if tool == "empty":
                continue
            total = statistics.median(r["seconds"] for r in runs[tool])
            self.record("single", tool, 1, runs[tool], tasks=count, per_task=(total - empty) / count)

    def run(self):
        settings = self.settings
        # A new prefix each run: namespaces a previous run deleted may still be terminating.
        prefix = "bench-%s" % uuid.uuid4().hex[:6]
        everything = ["%s-%04d" % (prefix, index) for index in range(settings.sizes[-1])]
        print("[bench] creating %d namespaces" % len(everything), flush=True)
        self.raw("namespaces", everything, "-")
        # what a rerun's LIST of namespaces reads, in pages, whatever N it acts on
        self.cluster_namespaces = len(testenv.kubectl(self.env, "get", "namespaces", "-o", "name").stdout.split())
        if "single" in settings.scenarios:
            print("[bench] one namespace", flush=True)
            self.single(everything)
        for size in settings.sizes:
            names = everything[:size]
            print("[bench] N=%d" % size, flush=True)
            if "converge" in settings.scenarios:
                self.many("converge", names, lambda tool, names=names: self.raw("delete", names, SECRETS[tool]))
            if "noop" in settings.scenarios:
                if "converge" not in settings.scenarios:  # each tool reruns over what it wrote itself
                    for tool in self.tools_for_run("noop", size, 0):
                        self.run_unmeasured(self.command("converge", tool, names))
                self.many("noop", names, None)
            if "attach" in settings.scenarios:
                if "converge" not in settings.scenarios:
                    self.raw("create", names, SECRETS["module"])
                self.many("attach", names, lambda tool, names=names: self.raw("detach", names, "-"))
            for secret in SECRETS.values():
                self.raw("delete", names, secret)
            self.raw("detach", names, "-")
        self.raw("drop", everything, "-")
        return self.results


def import_times():
    """Median cumulative import time (ms) of each module of this collection, and of the kubernetes
    package that they no longer import, each in a fresh Python (python -X importtime)."""
    env = dict(os.environ, PYTHONPATH=str(collection_path.ensure()))
    times = {}
    for name in ("ansible_collections.regcred.k8s.plugins.modules.registry_pull_secret",
                 "ansible_collections.regcred.k8s.plugins.modules.sa_image_pull_secrets", "kubernetes"):
        runs = []
        for dummy in range(3):
            err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import " + name], capture_output=True,
                                 text=True, check=True, env=env).stderr
            runs.append(int(err.strip().splitlines()[-1].split("|")[1]) / 1000.0)
        times[name] = statistics.median(runs)
    return times


def machine(env):
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    versions = json.loads(testenv.kubectl(env, "version", "-o", "json").stdout)
    from ansible import release  # pylint: disable=import-outside-toplevel
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    core = json.loads(subprocess.run([str(Path(sys.executable).with_name("ansible-galaxy")), "collection", "list",
                                      "kubernetes.core", "--format", "json"], capture_output=True, text=True,
                                     check=True, env=testenv.ansible_env(env)).stdout)
    core_version = next(iter(v for path in core.values() for k, v in path.items() if k == "kubernetes.core"), {})
    return {"cores": os.cpu_count(), "memory_gib": round(total_kib / 1024 / 1024, 1),
            "cpu": cpu.group(1) if cpu else platform.processor(), "kernel": platform.release(),
            "python": platform.python_version(), "ansible_core": release.__version__,
            "kubernetes_core": core_version.get("version"), "regcred_k8s": galaxy["version"],
            "apiserver": versions.get("serverVersion", {}).get("gitVersion")}


def main():
    settings = Settings(os.environ)
    env = testenv.load_env()
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    wall = time.monotonic()
    imports = import_times()
    bench = Bench(env, settings)
    results = bench.run()
    report = {"imports_ms": imports, "settings": settings.as_dict(), "page_size": PAGE_SIZE, "machine": machine(env),
              "cluster_namespaces": bench.cluster_namespaces,
              "started": started.strftime("%Y-%m-%d %H:%M UTC"), "minutes": round((time.monotonic() - wall) / 60, 1),
              "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "results": results}
    (OUT / "results.json").write_text(json.dumps(report, indent=1))
    print("[bench] wrote %s" % (OUT / "results.json"))


if __name__ == "__main__":
    main()
