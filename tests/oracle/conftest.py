"""The kubelet-oracle process for the differential tests: built (or taken from the cache) once,
started once per session, asked one case per line, and stopped by its PID at the end."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import binaries  # noqa: E402  pylint: disable=wrong-import-position
import collection_path  # noqa: E402  pylint: disable=wrong-import-position

collection_path.add_to_sys_path()

STDERR = collection_path.ROOT / "tests" / "output" / "oracle" / "kubelet-oracle.stderr"


class Oracle:
    """One running kubelet-oracle; ``ask`` sends a case and returns the kubelet's answer."""

    def __init__(self, path):
        # The kubelet's code logs ignored keys (klog) to stderr; they are kept out of the test output.
        STDERR.parent.mkdir(parents=True, exist_ok=True)
        self.log = STDERR.open("w", encoding="utf-8")
        self.proc = subprocess.Popen([str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, encoding="utf-8")
        self.asked = 0

    def ask(self, case):
        self.proc.stdin.write(json.dumps(case) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("kubelet-oracle stopped (exit %s, see %s) on case %r" % (self.proc.poll(), STDERR, case))
        self.asked += 1
        return json.loads(line)

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def oracle():
    running = Oracle(binaries.oracle())
    yield running
    running.stop()
