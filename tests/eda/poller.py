"""A polling patcher for comparison with the event source: the pull_secrets role run over the
selected namespaces every ``period`` seconds (a pass starts ``period`` seconds after the one
before it started, or at once when that one took longer), in a thread of the test."""

import threading
import time

import testenv


class Poller:
    """Runs passes until closed; ``passes`` holds each pass's (start, end) in time.time() seconds."""

    def __init__(self, env, role_vars, period, workdir):
        self.env, self.role_vars, self.period, self.workdir = env, role_vars, period, workdir
        self.passes, self.failures = [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="poller", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def loop(self):
        while not self.stop.is_set():
            began = time.time()
            run = testenv.run_role(self.env, "regcred.k8s.pull_secrets", self.role_vars, self.workdir)
            self.passes.append((began, time.time()))
            if run.result.get("failed"):
                self.failures.append(run.result)
            self.stop.wait(max(0.0, self.period - (time.time() - began)))

    def close(self):
        """Stop after the current pass; AssertionError if any pass failed."""
        self.stop.set()
        if self.thread.ident is not None:
            self.thread.join(600)
        assert not self.failures, self.failures
