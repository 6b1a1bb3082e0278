"""The kubelet-oracle process: the kubelet's own credentialprovider code, built from the pinned
Kubernetes module (binaries.oracle()), asked one case per JSON line. Used by the differential
tests (tests/oracle) and by live tests that check a Secret the way the kubelet reads it."""

import json
import subprocess

import binaries
import collection_path

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


def started():
    """A running Oracle from the built (or cached) binary; stop() it when done."""
    return Oracle(binaries.oracle())
