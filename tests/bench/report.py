"""python report.py RESULTS_JSON DOC_MD PLOT_PNG: docs/benchmarks.md and its plot from bench.py's results.

Every figure in the doc comes from the results file; nothing here is typed in by hand.
"""

import json
import sys
from pathlib import Path

TOOLS = {"module": "(a) regcred.k8s, one task", "loop": "(b) kubernetes.core.k8s loop",
         "raw": "(c) raw Python client", "ceiling": "(d) apiserver ceiling (Go, HTTP/2)", "empty": "empty playbook"}
MANY = ("module", "loop", "raw", "ceiling")
SCENARIOS = {
    "converge": "1. Converge a pull Secret into N namespaces (none there before)",
    "noop": "2. No-op rerun at the same N",
    "attach": "3. Attach the Secret to `default` in N namespaces",
    "single": "4. One namespace: cost per task",
}
WRITES = ("POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY")
TARGET_SPEEDUP, TARGET_RAW, TARGET_NOOP_REQUESTS, TARGET_SINGLE = 100, 2, 2, 0.5
# Issue #22: (a) over the ceiling (d), for the whole playbook, at these N; and the peak memory.
TARGET_CEILING = {1000: 2.0, 5000: 1.5}
TARGET_RSS_MIB, TARGET_RSS_N = 100, 5000


def pages(count, page_size):
    """Requests of a LIST over ``count`` objects read in pages of ``page_size`` (one when not paged)."""
    return max(1, -(-count // page_size)) if page_size else 1


def selected_pages(count, page_size):
    """Requests of a LIST that a selector narrows to ``count`` objects. The apiserver cannot tell
    that a full page held the last match (more objects of other names follow), so it gives a
    ``continue`` after it and the next page comes back empty: 1,000 matches take 3 pages of 500."""
    return count // page_size + 1 if page_size else 1


def noop_request_budget(size, page_size, namespaces=None):
    """The no-op target's most requests at N=size: the TARGET_NOOP_REQUESTS LISTs (namespaces, then
    the Secret by name), each one request per page: the namespaces' over every namespace of the
    cluster (``namespaces``, at least ``size``), the Secrets' over the ``size`` that its field
    selector matches. Results without a page size predate paging."""
    return TARGET_NOOP_REQUESTS - 2 + pages(max(size, namespaces or 0), page_size) + selected_pages(size, page_size)


def find(results, scenario, tool, size):
    for entry in results:
        if entry["scenario"] == scenario and entry["tool"] == tool and entry["n"] == size:
            return entry
    return None


def verbs(requests):
    return ", ".join("%s %d" % (verb, count) for verb, count in sorted(requests.items())) or "none"


def resource_requests(requests):
    """Requests to the scenario's resources, leaving out API discovery and WATCH (neither module
    watches; the controller-manager renews its watches at any time)."""
    return sum(count for verb, count in requests.items() if verb not in ("discovery GET", "WATCH"))


def writes(requests):
    return sum(count for verb, count in requests.items() if verb in WRITES)


def mib(kib):
    return "%.0f" % (kib / 1024.0)


def cpu(entry):
    """The CPU seconds of a run's own processes, the apiserver's and etcd's, or '' for results that
    predate their measurement."""
    if "cpu_seconds" not in entry:
        return ""
    return "%.2f, %.2f, %.2f" % (entry["cpu_seconds"], entry["server_cpu"]["kube-apiserver"], entry["server_cpu"]["etcd"])


def ratio(numerator, denominator, form="%.2f"):
    """``form`` of one entry's wall time over another's, or '' when either was not measured."""
    if not numerator or not denominator:
        return ""
    return form % (numerator["seconds"] / denominator["seconds"])


def results_table(data):
    results = data["results"]
    lines = ["| scenario | N | tool | wall time (s) | runs | API requests by verb | writes | (a) is faster than (b) by "
             "| (a) / (c) | (a) / (d) | peak RSS (MiB) | CPU (s): tool, apiserver, etcd |",
             "| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for scenario in ("converge", "noop", "attach"):
        for size in data["settings"]["sizes"]:
            entries = dict((t, find(results, scenario, t, size)) for t in MANY)
            module = entries["module"]
            for tool in MANY:
                entry = entries[tool]
                if entry is None:
                    continue
                mine = tool == "module"
                lines.append("| %s | %d | %s | %.2f | %d | %s | %d | %s | %s | %s | %s | %s |" % (
                    scenario, size, TOOLS[tool], entry["seconds"], len(entry["runs"]), verbs(entry["requests"]),
                    writes(entry["requests"]), ratio(entries["loop"], module, "%.1f×") if mine else "",
                    ratio(module, entries["raw"]) if mine else "", ratio(module, entries["ceiling"]) if mine else "",
                    mib(entry["max_rss_kib"]), cpu(entry)))
    return "\n".join(lines)


def per_size_table(data, cell):
    """A row per scenario and a column per N, each ``cell(scenario, size)``; scenarios with no cell left out."""
    sizes = data["settings"]["sizes"]
    lines = ["| scenario | " + " | ".join("N=%d" % size for size in sizes) + " |", "| --- |" + " ---: |" * len(sizes)]
    for scenario in ("converge", "noop", "attach"):
        cells = [cell(scenario, size) for size in sizes]
        if any(cells):
            lines.append("| %s | %s |" % (scenario, " | ".join(cells)))
    return "\n".join(lines)


def ceiling_table(data):
    """(a) over (d) for every scenario and N: how far the module is from what the apiserver takes."""
    results = data["results"]
    return per_size_table(data, lambda scenario, size: ratio(
        find(results, scenario, "module", size), find(results, scenario, "ceiling", size), "%.1f×"))


def memory_table(data):
    """The module's peak RSS (MiB) against N, for each scenario."""
    def cell(scenario, size):
        entry = find(data["results"], scenario, "module", size)
        return mib(entry["max_rss_kib"]) if entry else ""
    return per_size_table(data, cell)


def single_table(data):
    results = data["results"]
    empty, module, loop = (find(results, "single", t, 1) for t in ("empty", "module", "loop"))
    if not (empty and module and loop):
        return "", None
    lines = ["| tool | playbook wall time (s) | tasks | time per task (s) | per task, (a) / (b) | API requests by verb | peak RSS (MiB) |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
             "| %s | %.2f | 0 | | | %s | %s |" % (TOOLS["empty"], empty["seconds"], verbs(empty["requests"]), mib(empty["max_rss_kib"]))]
    ratio = module["per_task"] / loop["per_task"]
    for label, entry in (("(a) `regcred.k8s.registry_pull_secret`", module), ("(b) `kubernetes.core.k8s`", loop)):
        lines.append("| %s | %.2f | %d | %.2f | %s | %s | %s |" % (
            label, entry["seconds"], entry["tasks"], entry["per_task"], "%.2f" % ratio if entry is module else "",
            verbs(entry["requests"]), mib(entry["max_rss_kib"])))
    return "\n".join(lines), ratio


def largest_with(data, scenario, tools):
    """The largest N at which each of ``tools`` ran ``scenario``, or None."""
    found = [n for n in data["settings"]["sizes"] if all(find(data["results"], scenario, t, n) for t in tools)]
    return found[-1] if found else None


def where_time_goes(module, anchor, empty):
    """A sentence on where a run of (a) spends its time next to ``anchor``'s (another tool's run of
    the same scenario and N): the playbook's start-up, the CPU of its own processes and of the servers."""
    text = "(a) took %.2f s%s against %.2f s of %s" % (
        module["seconds"], " (an empty playbook alone %.2f s)" % empty["seconds"] if empty else "", anchor["seconds"],
        TOOLS[anchor["tool"]].split(" ", 1)[0])
    if "cpu_seconds" in module and "cpu_seconds" in anchor:
        text += ("; CPU seconds, tool, apiserver and etcd: (a) %s, %s %s" % (
            cpu(module), TOOLS[anchor["tool"]].split(" ", 1)[0], cpu(anchor)))
    return text + ". See *Where the time goes* below."


def targets(data, single_ratio):
    """(markdown table, [explanations of the missed targets])."""
    results, sizes = data["results"], data["settings"]["sizes"]
    rows, missed = [], []
    empty = find(results, "single", "empty", 1)
    small = find(results, "converge", "module", sizes[0])
    at = largest_with(data, "converge", ("module", "loop"))
    if at:
        module, loop = find(results, "converge", "module", at), find(results, "converge", "loop", at)
        speedup = loop["seconds"] / module["seconds"]
        met = speedup >= TARGET_SPEEDUP
        rows.append(("converge at N=%d: (a) at least %d× faster than (b)" % (at, TARGET_SPEEDUP), "%.1f×" % speedup, met))
        if not met:
            missed.append(
                "**Speed-up over the loop (%.1f× of %d×).** The loop spends %.2f s per namespace (%.0f s for %d). "
                "Reaching %d× would leave (a) %.2f s for the whole run, but (a) pays a fixed cost before its first "
                "request: starting ansible-playbook and the module, %.2f s at N=%d%s. Past that fixed cost (a) adds "
                "%.1f ms per namespace, so the ratio is bounded by the start-up of Ansible itself, not by the "
                "requests." % (
                    speedup, TARGET_SPEEDUP, loop["seconds"] / at, loop["seconds"], at, TARGET_SPEEDUP,
                    loop["seconds"] / TARGET_SPEEDUP, small["seconds"], small["n"],
                    "; an empty playbook alone takes %.2f s" % empty["seconds"] if empty else "",
                    1000 * (module["seconds"] - small["seconds"]) / (at - small["n"]) if at > small["n"] else 0))
    at = largest_with(data, "converge", ("module", "raw"))
    if at:
        module, raw = find(results, "converge", "module", at), find(results, "converge", "raw", at)
        ratio = module["seconds"] / raw["seconds"]
        met = ratio <= TARGET_RAW
        rows.append(("converge at N=%d: (a) within %d× of (c)" % (at, TARGET_RAW), "%.2f×" % ratio, met))
        if not met:
            missed.append(
                "**Distance to the raw client (%.2f× of %d×).** (c) is one Python process that imports the client "
                "and issues the creates (%.2f s); (a) runs the same creates from a module, behind ansible-playbook's "
                "own start-up (%s)." % (ratio, TARGET_RAW, raw["seconds"],
                                        "%.2f s for an empty playbook" % empty["seconds"] if empty else "not measured"))
    for size, most in sorted(TARGET_CEILING.items()):
        module, ceiling = find(results, "converge", "module", size), find(results, "converge", "ceiling", size)
        if not (module and ceiling):
            continue
        ratio = module["seconds"] / ceiling["seconds"]
        met = ratio <= most
        rows.append(("converge at N=%d: (a), the whole playbook, within %.1f× of (d)" % (size, most), "%.2f×" % ratio, met))
        if not met:
            missed.append("**(a) / (d) at N=%d (%.2f× of %.1f×).** %s" % (
                size, ratio, most, where_time_goes(module, ceiling, empty)))
    for size in sizes:
        noop = find(results, "noop", "module", size)
        if not noop:
            continue
        count, written = resource_requests(noop["requests"]), writes(noop["requests"])
        budget = noop_request_budget(size, data.get("page_size"), data.get("cluster_namespaces"))
        met = count <= budget and written == 0
        name = "no-op rerun at N=%d: at most %d requests (%d LISTs in pages of %s%s), 0 writes" % (
            size, budget, TARGET_NOOP_REQUESTS, data.get("page_size") or "all",
            ", over %d namespaces in the cluster" % data["cluster_namespaces"] if data.get("cluster_namespaces") else "")
        rows.append((name, "%d requests (%s), %d writes" % (count, verbs(noop["requests"]), written), met))
        if not met:
            missed.append("**No-op requests at N=%d.** The rerun made %s." % (size, verbs(noop["requests"])))
    peaks = [e for e in results if e["tool"] == "module" and e["n"] == TARGET_RSS_N]
    if peaks:
        peak = max(peaks, key=lambda e: e["max_rss_kib"])
        met = peak["max_rss_kib"] <= TARGET_RSS_MIB * 1024
        rows.append(("peak RSS of (a) at N=%d: at most %d MiB" % (TARGET_RSS_N, TARGET_RSS_MIB),
                     "%s MiB (%s)" % (mib(peak["max_rss_kib"]), peak["scenario"]), met))
        if not met:
            missed.append("**Peak memory at N=%d (%s MiB of %d, %s).** It is the largest single process of the run "
                          "(ansible-playbook, its worker or the module)%s." % (
                              TARGET_RSS_N, mib(peak["max_rss_kib"]), TARGET_RSS_MIB, peak["scenario"],
                              "; an empty playbook peaks at %s MiB" % mib(empty["max_rss_kib"]) if empty else ""))
    if single_ratio is not None:
        met = single_ratio <= TARGET_SINGLE
        rows.append(("one namespace: (a) per task at most %.1f× (b)" % TARGET_SINGLE, "%.2f×" % single_ratio, met))
        if not met:
            missed.append("**Per-task cost (%.2f× of %.1f×).** Both tasks share Ansible's own per-task work (a "
                          "worker fork, templating, shipping the module, a new Python); the module's own imports "
                          "are in the start-up table above. See *Where the time goes* below." % (
                              single_ratio, TARGET_SINGLE))
    table = ["| target | measured | met |", "| --- | --- | --- |"]
    table += ["| %s | %s | %s |" % (name, value, "yes" if met else "**no**") for name, value, met in rows]
    return "\n".join(table), missed


def imports_table(data):
    names = {"ansible_collections.regcred.k8s.plugins.modules.registry_pull_secret": "`registry_pull_secret` and all it imports",
             "ansible_collections.regcred.k8s.plugins.modules.sa_image_pull_secrets": "`sa_image_pull_secrets` and all it imports",
             "kubernetes": "the `kubernetes` package (which the modules no longer import for certificate, token and "
                           "in-cluster credentials)"}
    lines = ["| import | time (ms) |", "| --- | ---: |"]
    lines += ["| %s | %.0f |" % (names[name], ms) for name, ms in data["imports_ms"].items()]
    return "\n".join(lines)


def plot(data, path):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker  # pylint: disable=import-outside-toplevel
    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    colors = {"module": "tab:blue", "loop": "tab:red", "raw": "tab:green", "ceiling": "black"}
    for scenario, style in (("converge", "-o"), ("noop", "--s")):
        for tool in MANY:
            points = sorted((e["n"], e["seconds"]) for e in data["results"] if e["scenario"] == scenario and e["tool"] == tool)
            if points:
                axes.plot([p[0] for p in points], [p[1] for p in points], style, color=colors[tool],
                          label="%s, %s" % (TOOLS[tool], "converge" if scenario == "converge" else "no-op rerun"))
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(data["settings"]["sizes"])
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_formatter(ticker.FuncFormatter(lambda value, position: "%g" % value))
        axis.set_minor_formatter(ticker.NullFormatter())
    axes.set_xlabel("namespaces (N)")
    axes.set_ylabel("wall time (s), median")
    axes.set_title("Pull Secret into N namespaces, local control plane, %d cores" % data["machine"]["cores"])
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def document(data, image_name):
    machine, settings = data["machine"], data["settings"]
    table, single_ratio = single_table(data)
    target_table, missed = targets(data, single_ratio)
    sizes, loop_note = settings["sizes"], ""
    if settings["loop_runs"] != settings["runs"]:
        loop_note += (" The loop (b) ran %d time(s) instead of %d at N above %d: at about a second per namespace, "
                      "its runs would take hours." % (settings["loop_runs"], settings["runs"], sizes[0]))
    loop_sizes = [n for n in sizes if not settings.get("loop_max_n") or n <= settings["loop_max_n"]]
    if loop_sizes != sizes:
        loop_note += (" The loop did not run above N=%d (`BENCH_LOOP_MAX_N`): at about a second per namespace and "
                      "scenario it would take most of an hour per scenario at N=%d; its time grows with N as at "
                      "the smaller N, and the ratios to (b) are given where it ran." % (
                          loop_sizes[-1] if loop_sizes else 0, sizes[-1]))
    skipped = [SCENARIOS[s].split(" ", 1)[1] for s in ("converge", "noop", "attach")
               if s not in settings["loop_at_largest"]]
    if skipped and loop_sizes:
        loop_note += (" At N=%d the loop ran only in the scenarios of `BENCH_LOOP_AT_LARGEST`, not in: %s (to "
                      "finish the run within about half an hour on this machine)." % (loop_sizes[-1], "; ".join(skipped)))
    parts = [
        "# Benchmarks",
        "",
        "Written by `make bench` from a real run (%s, %.1f minutes); do not edit by hand. The raw "
        "results are in `tests/output/bench/results.json` after a run." % (data["started"], data["minutes"]),
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        "| CPU | %s, %d cores |" % (machine["cpu"], machine["cores"]),
        "| memory | %.1f GiB |" % machine["memory_gib"],
        "| load average (1, 5, 15 min) | before %s, after %s |" % (
            ", ".join("%.2f" % x for x in data["loadavg_before"]), ", ".join("%.2f" % x for x in data["loadavg_after"])),
        "| software | Linux %s, Python %s, ansible-core %s, kubernetes.core %s, regcred.k8s %s |" % (
            machine["kernel"], machine["python"], machine["ansible_core"], machine["kubernetes_core"], machine["regcred_k8s"]),
        "| cluster | the local control plane of `scripts/localenv` (kube-apiserver %s, etcd and controller-manager on the same cores) |" % machine["apiserver"],
        "",
        "## What is compared",
        "",
        "- **(a)** one task of `regcred.k8s.registry_pull_secret` (or `sa_image_pull_secrets`) with "
        "`namespaces:` listing all N, `parallel: %d`." % settings["parallel"],
        "- **(b)** `kubernetes.core.k8s` with `loop:` over the namespaces: a `kubernetes.io/dockerconfigjson` "
        "Secret whose payload is templated with `to_json | b64encode` (`state: present`), or, in scenario 3, "
        "`state: patched` on the `default` ServiceAccount. kubernetes.core comes from the `ansible` package of "
        "`requirements-bench.txt`.",
        "- **(c)** the raw lower bound, `tests/bench/raw.py`: the same N requests from the Python kubernetes "
        "client in one process, %d threads sharing one connection pool, bodies not decoded. For the no-op "
        "rerun its least possible work is one cluster-wide LIST compared in memory." % settings["parallel"],
        "- **(d)** the apiserver's own ceiling, `tests/bench/ceiling`: a Go program (standard library only) "
        "that sends the same N creates or ServiceAccount patches as fast as the apiserver accepts them, %d "
        "workers over one HTTP/2 connection with the admin client certificate. Its no-op rerun makes the "
        "LISTs the module makes (namespaces, then the Secret by name cluster-wide, both paged with `limit` "
        "and `continue`). It bounds every client: (a) / (d) is how far the module is from the apiserver "
        "itself." % settings["parallel"],
        "",
        "## How it is measured",
        "",
        "- **Wall time**: the median of %d runs of each command, from start to exit, including "
        "ansible-playbook's or Python's start-up.%s Runs interleave the tools, so a slow spell of the "
        "machine falls on all of them." % (settings["runs"], loop_note),
        "- **API requests** are read from the apiserver's `/metrics` (`apiserver_request_total`) just "
        "before and after each run. The controller-manager shares the apiserver, so only the series of the "
        "resources a scenario touches are counted (namespaces and secrets; serviceaccounts too in scenario "
        "3), plus API discovery (non-resource GETs of `/api` and `/apis`). The controller-manager's own "
        "periodic discovery and its watch renewals can add a few discovery GETs and WATCHes to any run; an exact count per module, read "
        "from the audit log by User-Agent, is in `tests/live/test_rerun_requests.py`.",
        "- **CPU time**: the user and system CPU of the command's whole process tree (`getrusage` as below), "
        "and that of the local kube-apiserver and etcd over the same span, from `/proc/<pid>/stat` "
        "(medians over the runs). The machine's cores serve all of them: a run's wall time can be no shorter "
        "than their sum over the cores.",
        "- **Peak memory**: `getrusage(RUSAGE_CHILDREN).ru_maxrss` of a fresh process that runs one "
        "command (`tests/bench/measure.py`): the peak resident set of the largest single process in the "
        "tree (ansible-playbook, its worker, or the module's Python), the largest over the runs.",
        "- Namespaces are created once (the largest N); between runs the raw client deletes the Secrets "
        "or resets the ServiceAccounts, so each converge starts from none and each attach from an empty "
        "`imagePullSecrets`. Each tool writes a Secret of its own name, so each no-op rerun rereads what "
        "that tool wrote.",
        "- Scenario 4 runs a playbook of %d identical tasks in one namespace (the first creates, the "
        "others find nothing to do) and an empty playbook; time per task is the difference divided by %d." % (
            settings["tasks"], settings["tasks"]),
        "",
        "## Results",
        "",
        results_table(data),
        "",
        "### %s" % SCENARIOS["single"],
        "",
        table,
        "",
        "Module start-up: the cumulative import time in a fresh Python (`python -X importtime`, median of 3). "
        "kubernetes.core.k8s imports the kubernetes package and its dynamic client, and reads API discovery "
        "(from its cache after the first run).",
        "",
        imports_table(data),
        "",
        "![wall time against N, log-log](%s)" % image_name,
        "",
        "### (a) against the apiserver's ceiling (d)",
        "",
        "The module's wall time over the ceiling's, per scenario and N (1.0× would be the apiserver's own pace).",
        "",
        ceiling_table(data),
        "",
        "### Peak memory of (a) against N",
        "",
        "Peak RSS (MiB) of the largest process of the module's run (ansible-playbook, its worker or the "
        "module's Python); the cluster-wide LISTs are read in pages, so it should stay flat as N grows.",
        "",
        memory_table(data),
        "",
        "## Targets",
        "",
        target_table,
        "",
    ]
    if missed:
        parts += ["Missed targets, and why:", ""] + ["- " + text for text in missed] + [""]
    notes = observations(data)
    if notes:
        parts += ["## Observations", ""] + ["- " + text for text in notes] + [""]
    return "\n".join(parts)


def observations(data):
    """Sentences about this run that the tables alone do not explain."""
    notes, largest = [], data["settings"]["sizes"][-1]
    # Only the load before the run is other work: at its end the 1-minute figure counts the
    # run's own concurrent clients and apiserver threads.
    if data["loadavg_before"][0] > data["machine"]["cores"]:
        notes.append("The load average was above the number of cores when the run started: other work shared the machine. "
                     "Runs of a few seconds then vary by more than their differences across N, which is why some "
                     "small-N times exceed larger-N ones; the loop's per-namespace cost and the ratios at N=%d are "
                     "far larger than that noise." % largest)
    module, raw = find(data["results"], "converge", "module", largest), find(data["results"], "converge", "raw", largest)
    if module and raw and module["seconds"] < raw["seconds"]:
        notes.append("At N=%d the raw client (c) is slower than the module (a) (%.2f s against %.2f s): the generated "
                     "client checks every call's arguments with pydantic and builds each request through its "
                     "serialisation layer, and its process imports the whole kubernetes package (%.0f ms above), "
                     "while the module sends prepared JSON through urllib3. (c) is the lower bound for a script "
                     "written with that client, not for the apiserver." % (
                         largest, raw["seconds"], module["seconds"], data["imports_ms"].get("kubernetes", 0)))
    return notes


# Sections that other measurements add at the end of docs/benchmarks.md (the profile of the
# module's runs; the rulebook tests' latency, tests/eda): a regenerated document keeps them as
# they are.
KEPT_HEADINGS = ("## Where the time goes", "## Event-driven: namespace to Secret latency")


def kept_sections(old_text):
    """The text of ``old_text`` from the first of KEPT_HEADINGS to its end, or ''."""
    starts = [old_text.find("\n" + heading + "\n") for heading in KEPT_HEADINGS]
    starts = [start for start in starts if start >= 0]
    return old_text[min(starts) + 1:] if starts else ""


def main(results_path, doc_path, image_path):
    data = json.loads(Path(results_path).read_text())
    plot(data, image_path)
    doc = Path(doc_path)
    kept = kept_sections(doc.read_text()) if doc.exists() else ""
    doc.write_text(document(data, Path(image_path).name) + ("\n" + kept if kept else ""))


if __name__ == "__main__":
    main(*sys.argv[1:4])
