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
    # (a) faster than (b), (a) / (c), (a) / (d), peak RSS
    assert rows[0][7:] == ["", "0.75", "3.00", "80"]
    assert rows[2][7:] == ["", "", "", "100"]


def test_the_noop_budget_grows_by_a_page_of_each_list_per_page_size_of_namespaces():
    assert report.noop_request_budget(1000, None) == report.TARGET_NOOP_REQUESTS
    assert report.noop_request_budget(100, 500) == report.TARGET_NOOP_REQUESTS
    assert report.noop_request_budget(1000, 500) == report.TARGET_NOOP_REQUESTS + 4
    assert report.noop_request_budget(5000, 500) == report.TARGET_NOOP_REQUESTS + 20


def test_the_noop_target_counts_the_pages_at_large_n():
    data = {"settings": {"sizes": [5000]}, "page_size": 500, "results": [
        dict(entry("noop", "module", 5000, 1.5), requests={"LIST": 22, "discovery GET": 1})]}
    table, missed = report.targets(data, None)
    assert "| no-op rerun at N=5000: at most 23 requests (LISTs in pages of 500), 0 writes | 22 requests (LIST 22, discovery GET 1), 0 writes | yes |" in table
    assert missed == []
    data["results"][0]["requests"]["LIST"] = 24
    table, missed = report.targets(data, None)
    assert table.endswith("| **no** |") and missed
