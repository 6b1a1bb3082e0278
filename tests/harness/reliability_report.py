"""Writes the reliability summary from one run's JUnit XML and leak-scan statistics.

Usage: reliability_report.py JUNIT_XML LEAK_SCAN_JSON OUTPUT_MD. Every figure comes from the
run's own files; nothing is typed by hand.
"""

import json
import platform
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

CATEGORIES = {
    "test_leak_scan": "Leak scan (-vvvv, check+diff, ANSIBLE_DEBUG)",
    "test_bad_input": "Bad input matrix",
    "test_faults": "Faults against the real apiserver and registries",
    "test_concurrency": "Concurrency",
    "test_fuzz": "Fuzzing",
    "test_timeouts": "Bounded time: each server frozen (SIGSTOP) while a task runs",
    "test_fleet": "A fleet of three clusters, one stopped and one silent",
}


def main(argv):
    junit, leak, output = (Path(a) for a in argv[1:4])
    cases, passed = Counter(), Counter()
    for case in ET.parse(junit).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        category = CATEGORIES.get(module, module)
        cases[category] += 1
        if case.find("failure") is None and case.find("error") is None and case.find("skipped") is None:
            passed[category] += 1
    scan = json.loads(leak.read_text())
    lines = ["# Reliability summary", "",
             f"Written by `make reliability` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
             f"({platform.machine()}, Python {platform.python_version()}); every figure below comes from that run.", "",
             "| category | cases | passed |", "| --- | --- | --- |"]
    lines += [f"| {name} | {cases[name]} | {passed[name]} |" for name in sorted(cases)]
    lines += ["", "## Leak scan", "",
              f"- module runs scanned: {scan['runs']}",
              f"- bytes scanned (stdout, stderr, results and files written): {scan['bytes_scanned']}",
              f"- secret values searched (plain and encoded forms): {scan['secrets_searched']}",
              f"- hits: {scan['hits']}", ""]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if sum(cases.values()) == sum(passed.values()) and scan["hits"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
