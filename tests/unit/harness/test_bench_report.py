"""make bench rewrites docs/benchmarks.md, keeping the sections other measurements add at its end."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

# pylint: disable=wrong-import-position
import report  # noqa: E402


def test_the_event_driven_section_is_kept_to_the_end():
    old = ("# Benchmarks\n\n## Observations\n\n- old\n\n## Event-driven: namespace to Secret latency\n\n"
           "| p50 | 1 s |\n\n### Race window\n\ntext\n")
    assert report.kept_sections(old) == ("## Event-driven: namespace to Secret latency\n\n| p50 | 1 s |\n\n"
                                         "### Race window\n\ntext\n")


def test_a_document_without_it_keeps_nothing():
    assert report.kept_sections("# Benchmarks\n\n## Observations\n\n- Event-driven: namespace to Secret latency\n") == ""


def entry(scenario, tool, size, seconds, rss_kib=102400):
    return {"scenario": scenario, "tool": tool, "n": size, "runs": [{}], "seconds": seconds,
            "max_rss_kib": rss_kib, "requests": {"POST": size}}


DATA = {"settings": {"sizes": [10, 5000]}, "results": [
    entry("converge", "module", 10, 2.0), entry("converge", "ceiling", 10, 0.05),
    entry("converge", "module", 5000, 12.0, rss_kib=81920), entry("converge", "ceiling", 5000, 4.0),
    entry("converge", "raw", 5000, 16.0), entry("noop", "module", 5000, 1.5, rss_kib=61440),
]}


def test_ratio_is_one_wall_time_over_another_or_empty_when_either_is_missing():
    assert report.ratio(entry("converge", "module", 1, 3.0), entry("converge", "ceiling", 1, 1.5)) == "2.00"
    assert report.ratio(entry("converge", "module", 1, 3.0), entry("converge", "ceiling", 1, 0.4), "%.1f×") == "7.5×"
    assert report.ratio(None, entry("converge", "ceiling", 1, 1.5)) == ""
    assert report.ratio(entry("converge", "module", 1, 3.0), None) == ""


def test_the_ceiling_table_shows_a_over_d_for_each_scenario_and_size_measured():
    assert report.ceiling_table(DATA).splitlines() == [
        "| scenario | N=10 | N=5000 |", "| --- | ---: | ---: |", "| converge | 40.0× | 3.0× |"]


def test_the_memory_table_shows_the_modules_peak_rss_against_n():
    assert report.memory_table(DATA).splitlines() == [
        "| scenario | N=10 | N=5000 |", "| --- | ---: | ---: |", "| converge | 100 | 80 |", "| noop |  | 60 |"]


def test_the_results_table_puts_a_over_c_and_a_over_d_on_the_modules_row():
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in report.results_table(DATA).splitlines()
            if line.startswith("| converge | 5000 |")]
    assert [row[2] for row in rows] == [report.TOOLS["module"], report.TOOLS["raw"], report.TOOLS["ceiling"]]
    # (a) faster than (b), (a) / (c), (a) / (d), peak RSS, CPU (none measured in these results)
    assert rows[0][7:] == ["", "0.75", "3.00", "80", ""]
    assert rows[2][7:] == ["", "", "", "100", ""]


def test_the_cpu_cell_shows_the_tool_apiserver_and_etcd_seconds():
    measured = dict(entry("converge", "module", 10, 1.0), cpu_seconds=2.5,
                    server_cpu={"kube-apiserver": 1.25, "etcd": 0.125})
    assert report.cpu(measured) == "2.50, 1.25, 0.12"
    assert report.cpu(entry("converge", "module", 10, 1.0)) == ""


def test_the_noop_budget_is_two_lists_each_one_request_per_page():
    assert report.noop_request_budget(1000, None) == 2
    assert report.noop_request_budget(100, 500) == 2
    assert report.noop_request_budget(999, 500) == 2 + 2
    # a full last page of the Secrets by name is followed by an empty one
    assert report.noop_request_budget(1000, 500) == 2 + 3
    assert report.noop_request_budget(5000, 500) == 10 + 11
    # the namespaces' LIST reads every namespace of the cluster, whatever N the task acts on
    assert report.noop_request_budget(10, 500, namespaces=5006) == 11 + 1
    assert report.noop_request_budget(1000, 500, namespaces=5006) == 11 + 3
    assert report.noop_request_budget(5000, 500, namespaces=5006) == 11 + 11


def test_the_noop_target_counts_the_pages_at_every_n():
    data = {"settings": {"sizes": [10, 5000]}, "page_size": 500, "cluster_namespaces": 5043, "results": [
        dict(entry("noop", "module", 10, 1.5), requests={"LIST": 12}),
        dict(entry("noop", "module", 5000, 1.5), requests={"LIST": 22, "WATCH": 1, "discovery GET": 1})]}
    table, missed = report.targets(data, None)
    assert ("| no-op rerun at N=10: at most 12 requests (2 LISTs in pages of 500, over 5043 namespaces in the "
            "cluster), 0 writes | 12 requests (LIST 12), 0 writes | yes |") in table
    assert ("| no-op rerun at N=5000: at most 22 requests (2 LISTs in pages of 500, over 5043 namespaces in the "
            "cluster), 0 writes | 22 requests (LIST 22, WATCH 1, discovery GET 1), 0 writes | yes |") in table
    assert missed == []
    data["results"][1]["requests"]["PUT"] = 1
    table, missed = report.targets(data, None)
    assert "1 writes | **no** |" in table
    assert missed == ["**No-op requests at N=5000.** The rerun made LIST 22, PUT 1, WATCH 1, discovery GET 1."]
    data["results"][1]["requests"] = {"LIST": 23}
    table, missed = report.targets(data, None)
    assert "| 23 requests (LIST 23), 0 writes | **no** |" in table


def test_the_issues_goals_are_met_or_missed_with_the_measured_ratio_and_where_the_time_goes():
    def measured(scenario, tool, size, seconds, rss_kib=61440):
        return dict(entry(scenario, tool, size, seconds, rss_kib), cpu_seconds=3.0,
                    server_cpu={"kube-apiserver": 2.0, "etcd": 0.5})
    data = {"settings": {"sizes": [1000, 5000]}, "page_size": 500, "results": [
        measured("converge", "module", 1000, 3.0), measured("converge", "ceiling", 1000, 2.0),
        measured("converge", "module", 5000, 9.0, rss_kib=110 * 1024), measured("converge", "ceiling", 5000, 5.0),
        measured("single", "empty", 1, 1.5)]}
    table, missed = report.targets(data, None)
    assert "| converge at N=1000: (a), the whole playbook, within 2.0× of (d) | 1.50× | yes |" in table
    assert "| converge at N=5000: (a), the whole playbook, within 1.5× of (d) | 1.80× | **no** |" in table
    assert "| peak RSS of (a) at N=5000: at most 100 MiB | 110 MiB (converge) | **no** |" in table
    assert missed[0] == ("**(a) / (d) at N=5000 (1.80× of 1.5×).** (a) took 9.00 s (an empty playbook alone 1.50 s) "
                         "against 5.00 s of (d); CPU seconds, tool, apiserver and etcd: (a) 3.00, 2.00, 0.50, "
                         "(d) 3.00, 2.00, 0.50. See *Where the time goes* below.")
    assert missed[1].startswith("**Peak memory at N=5000 (110 MiB of 100, converge).**")


def test_the_profile_section_is_kept_with_the_event_driven_one():
    old = "# Benchmarks\n\n## Targets\n\nx\n\n## Where the time goes\n\nprofile\n\n## Event-driven: namespace to Secret latency\n\ny\n"
    assert report.kept_sections(old) == "## Where the time goes\n\nprofile\n\n## Event-driven: namespace to Secret latency\n\ny\n"


def test_the_document_explains_where_the_loop_did_not_run():
    data = {"settings": {"sizes": [10, 1000, 5000], "runs": 3, "loop_runs": 1, "loop_max_n": 1000,
                         "loop_at_largest": ["converge"], "parallel": 100, "tasks": 5},
            "machine": {"cpu": "x", "cores": 2, "memory_gib": 1.0, "kernel": "k", "python": "3", "ansible_core": "2",
                        "kubernetes_core": "6", "regcred_k8s": "1", "apiserver": "v1"},
            "started": "now", "minutes": 30.0, "loadavg_before": [0, 0, 0], "loadavg_after": [0, 0, 0],
            "imports_ms": {}, "results": []}
    text = report.document(data, "plot.png")
    assert "The loop did not run above N=1000 (`BENCH_LOOP_MAX_N`)" in text
    assert "At N=1000 the loop ran only in the scenarios of `BENCH_LOOP_AT_LARGEST`, not in: No-op rerun" in text
