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
