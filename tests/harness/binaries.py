"""Builds and caches the Go binaries of the local environment.

Kubernetes and etcd are built from the Go module proxy through the wrapper modules under
``tests/harness/go/`` (their go.mod files pin the releases). Binaries are cached under
``~/.cache/regcred-k8s/<version>/`` (or ``$REGCRED_CACHE_DIR``) and rebuilt only when the
pinned version changes. A cold build takes minutes, so it reports how far along it is.

``kubelet-oracle`` (tests/harness/go/kubernetes/kubelet-oracle) is built from the same wrapper module,
so it links the kubelet's ``pkg/credentialprovider`` of the pinned release; its cache key adds a
hash of its source and of the module's go.mod and go.sum.

``ceiling`` (tests/bench/ceiling), anchor (d) of ``make bench``, uses the standard library only;
its cache key is a hash of its source.

``ecr-credential-provider`` is the official ECR kubelet credential provider plugin, built from
``k8s.io/cloud-provider-aws`` at the release pinned in ``tests/harness/go/ecr-credential-provider/go.mod``
(the one matching the kubelet), with the flags of that repository's Makefile; the e2e step installs
it on the node with the kubelet_credential_provider role.
"""

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

GO_DIR = Path(__file__).resolve().parent / "go"
BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"
HEARTBEAT_SECONDS = 15
# Limits of one target's build: resolving its packages (which downloads the modules on a fresh
# machine), and compiling them (a cold Kubernetes build on two cores takes well under an hour).
RESOLVE_TIMEOUT = 1200
BUILD_TIMEOUT = 3600


def pinned_version(module_dir, module):
    text = (GO_DIR / module_dir / "go.mod").read_text(encoding="utf-8")
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", text, re.M)
    if not match:
        raise RuntimeError(f"{module} is not pinned in {module_dir}/go.mod")
    return match.group(1)


def cache_root():
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "regcred-k8s"
    return Path(os.environ.get("REGCRED_CACHE_DIR", default))


def _version_ldflags(version):
    major, minor = version.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X={pkg}.gitVersion={version}", f"-X={pkg}.gitMajor={major}",
                  f"-X={pkg}.gitMinor={minor}", f"-X={pkg}.gitTreeState=clean"]
    return " ".join(flags)


class Target:
    """A set of main packages from one wrapper module, cached in one directory."""

    def __init__(self, label, module_dir, packages, version, ldflags="-s -w", env=None, root=GO_DIR):
        self.label, self.module_dir, self.packages, self.root = label, module_dir, packages, root
        self.version, self.ldflags, self.env = version, ldflags, env or {}
        self.dir = cache_root() / version

    def path(self, package):
        name = package.rstrip("/").rsplit("/", 1)[-1]
        return self.dir / (name if name != "." else self.module_dir)

    def missing(self):
        return [p for p in self.packages if not self.path(p).exists()]

    def build(self, log=print):
        missing = self.missing()
        if not missing:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        cwd, env = self.root / self.module_dir, dict(os.environ, **self.env)
        log(f"[build] {self.label} {self.version}: resolving modules and packages "
            f"(first run downloads from the Go module proxy)")
        deps = subprocess.run(["go", "list", "-deps", *missing], cwd=cwd, env=env, check=True,
                              capture_output=True, text=True, timeout=RESOLVE_TIMEOUT).stdout.split()
        total = len(deps)
        log(f"[build] {self.label}: compiling {', '.join(self.path(p).name for p in missing)} "
            f"({total} packages)")
        started, done = time.monotonic(), [0]
        stop, timed_out = threading.Event(), threading.Event()
        tmp = self.dir / f".tmp-{os.getpid()}"
        tmp.mkdir(exist_ok=True)
        cmd = ["go", "build", "-v", "-trimpath", f"-ldflags={self.ldflags}", "-o", str(tmp) + "/",
               *missing]
        with subprocess.Popen(cmd, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True) as proc:

            def heartbeat():
                while not stop.wait(HEARTBEAT_SECONDS):
                    elapsed = int(time.monotonic() - started)
                    if elapsed > BUILD_TIMEOUT:
                        timed_out.set()
                        proc.kill()
                        return
                    pct = min(99, 100 * done[0] // max(total, 1))
                    log(f"[build] {self.label}: {done[0]}/{total} packages compiled (~{pct}%), {elapsed} s elapsed")

            threading.Thread(target=heartbeat, daemon=True).start()
            tail = []
            for line in proc.stderr:
                done[0] += 1
                tail = (tail + [line.rstrip()])[-30:]
        stop.set()
        if timed_out.is_set():
            raise RuntimeError(f"go build of {self.label} did not finish in {BUILD_TIMEOUT} s")
        if proc.returncode:
            raise RuntimeError(f"go build of {self.label} failed:\n" + "\n".join(tail))
        for built in tmp.iterdir():
            built.replace(self.dir / built.name)
        tmp.rmdir()
        log(f"[build] {self.label}: done in {int(time.monotonic() - started)} s -> {self.dir}")


def _source_hash(*paths, root=GO_DIR):
    digest = hashlib.sha256()
    for path in paths:
        digest.update((root / path).read_bytes())
    return digest.hexdigest()[:12]


def oracle_target():
    """The kubelet-oracle: the kubelet's Secret reading and key matching, for the tests."""
    k8s = pinned_version("kubernetes", "k8s.io/kubernetes")
    key = _source_hash("kubernetes/kubelet-oracle/main.go", "kubernetes/go.mod", "kubernetes/go.sum")
    return Target("kubelet-oracle", "kubernetes", ["regcred.k8s/harness/kubernetes/kubelet-oracle"],
                  f"kubelet-oracle-{k8s}-{key}")


def oracle(log=print):
    """The path of the kubelet-oracle binary, built first when it is missing."""
    target = oracle_target()
    target.build(log)
    return target.path(target.packages[0])


def ecr_credential_provider_target():
    """The official ECR credential provider plugin, as cloud-provider-aws's Makefile builds it."""
    version = pinned_version("ecr-credential-provider", "k8s.io/cloud-provider-aws")
    ldflags = f"-s -w -X=k8s.io/component-base/version.gitVersion={version} -X=main.gitVersion={version}"
    return Target("ecr-credential-provider", "ecr-credential-provider",
                  ["k8s.io/cloud-provider-aws/cmd/ecr-credential-provider"], f"ecr-credential-provider-{version}",
                  ldflags, env={"CGO_ENABLED": "0"})


def ceiling(log=print):
    """The path of the ceiling binary (make bench's anchor (d)), built first when it is missing."""
    key = _source_hash("ceiling/main.go", "ceiling/go.mod", root=BENCH_DIR)
    target = Target("ceiling", "ceiling", ["."], f"ceiling-{key}", env={"CGO_ENABLED": "0"}, root=BENCH_DIR)
    target.build(log)
    return target.path(".")


def targets(with_kubelet=False):
    k8s = pinned_version("kubernetes", "k8s.io/kubernetes")
    etcd = pinned_version("etcd", "go.etcd.io/etcd/server/v3")
    hello = _source_hash("hello/main.go")
    cmds = ["kube-apiserver", "kube-controller-manager", "kubectl"] + (["kubelet"] if with_kubelet else [])
    found = {
        "kubernetes": Target("kubernetes", "kubernetes", [f"k8s.io/kubernetes/cmd/{c}" for c in cmds],
                             k8s, _version_ldflags(k8s)),
        "etcd": Target("etcd", "etcd", ["."], f"etcd-{etcd}"),
        "hello": Target("test image binary", "hello", ["."], f"hello-{hello}", env={"CGO_ENABLED": "0"}),
    }
    if with_kubelet:
        # The full run (CI's --kubelet build and make test) also runs the oracle tests, and its
        # e2e step installs the official ECR plugin on the node.
        found["kubelet-oracle"] = oracle_target()
        found["ecr-credential-provider"] = ecr_credential_provider_target()
    return found


def ensure(with_kubelet=False, log=print):
    """Build what is missing; return {binary name: path}."""
    paths = {}
    for target in targets(with_kubelet).values():
        target.build(log)
        for package in target.packages:
            paths[target.path(package).name] = target.path(package)
    return paths


if __name__ == "__main__":
    for name, where in ensure("--kubelet" in sys.argv).items():
        print(f"{name}: {where}")
