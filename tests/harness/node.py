"""The optional node of the local environment: containerd with its CRI plugin, and a kubelet.

localenv.py starts and stops the processes; this module writes their configuration, builds the
pause image and cleans up what containers leave behind. Everything lives under one directory
(``<state>/node``), so several environments on one machine do not share containerd's or the
kubelet's state, sockets or mounts. Pods run with ``hostNetwork: true`` and a fixed
``spec.nodeName``: there is no CNI configuration and no scheduler.
"""

import hashlib
import os
import subprocess
from pathlib import Path

import yaml

import collection_path
import oci

collection_path.add_to_sys_path()
# pylint: disable-next=wrong-import-position,wrong-import-order
from ansible_collections.regcred.k8s.plugins.module_utils import kubelet_flags  # noqa: E402

NODE_NAME = "regcred-node"
# The sandbox image is built here from the test image's binary (which waits for a signal when
# given "pause") and imported into containerd: public registries are out of reach. Its name is
# under a reserved domain, so nothing could ever pull it from elsewhere.
PAUSE_IMAGE = "pause.regcred.invalid/pause:v1"
CRI_NAMESPACE = "k8s.io"
CGROUP_MOUNT = Path("/sys/fs/cgroup")
SYSTEM_TOOLS = ("containerd", "containerd-shim-runc-v2", "runc", "ctr")
# The kubelet's extra flags come from an environment file, as systemd passes them to a kubeadm
# node's kubelet (/etc/default/kubelet), so that the kubelet_credential_provider role can wire it.
FLAGS_VARIABLE = "KUBELET_EXTRA_ARGS"


class NodePaths:
    def __init__(self, base):
        self.base = Path(base) / "node"
        self.containerd_root = self.base / "containerd" / "root"
        self.containerd_state = self.base / "containerd" / "state"
        self.socket = self.base / "containerd" / "containerd.sock"
        self.certs_d = self.base / "containerd" / "certs.d"
        self.containerd_config = self.base / "containerd" / "config.toml"
        self.runc_root = self.base / "runc"
        self.cni = self.base / "cni"
        self.kubelet_root = self.base / "kubelet"
        self.kubelet_config = self.base / "kubelet.yaml"
        self.kubelet_env = self.base / "kubelet.env"
        self.kubelet_certs = self.base / "kubelet-pki"
        self.pod_logs = self.base / "pod-logs"
        self.pause_archive = self.base / "pause.tar"
        # The kubelet's cgroup root, one per environment, so that two nodes on one machine never
        # share their pod cgroups (by default both would use /kubepods).
        self.cgroup_root = "/regcred-" + hashlib.sha256(str(self.base.resolve()).encode()).hexdigest()[:10]

    def make(self):
        # A Unix socket path has at most 107 bytes; the kubelet's deepest is under device-plugins/.
        deepest = self.kubelet_root / "device-plugins" / "kubelet.sock"
        if len(str(deepest)) > 107:
            raise RuntimeError(f"the node's socket paths would be too long under {self.base}; "
                               "set REGCRED_LOCALENV_DIR to a shorter directory")
        for path in (self.containerd_root, self.containerd_state, self.certs_d, self.runc_root,
                     self.cni, self.kubelet_root, self.kubelet_certs, self.pod_logs):
            path.mkdir(parents=True, exist_ok=True)


def write_containerd_config(node, registries, ca):
    """containerd's config: CRI with cgroupfs, the pause image, and registry hosts trusting ``ca``.

    ``restrict_oom_score_adj``: runc sets the sandbox's oom_score_adj to -998, and lowering it
    needs CAP_SYS_RESOURCE, which a root process inside a container or VM sandbox may lack; with
    the option, containers never get a lower score than containerd's own."""
    for host in registries:
        directory = node.certs_d / host
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "hosts.toml").write_text(
            f'server = "https://{host}"\n\n[host."https://{host}"]\n'
            f'  capabilities = ["pull", "resolve"]\n  ca = "{ca}"\n')
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    node.containerd_config.write_text(f"""version = 2
root = "{node.containerd_root}"
state = "{node.containerd_state}"

[grpc]
  address = "{node.socket}"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  enable_selinux = false
  restrict_oom_score_adj = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{node.runc_root}"

[{cri}.cni]
  bin_dir = "{node.cni}"
  conf_dir = "{node.cni}"

[{cri}.registry]
  config_path = "{node.certs_d}"
""")
    return node.containerd_config


def cgroup_hierarchies():
    """The mounted cgroup hierarchies: /sys/fs/cgroup itself with cgroup v2 alone, else each v1
    controller's mount (and the v2 one of a hybrid setup)."""
    if (CGROUP_MOUNT / "cgroup.controllers").exists():
        return [CGROUP_MOUNT]
    if not CGROUP_MOUNT.is_dir():
        return []
    return [h for h in CGROUP_MOUNT.iterdir() if (h / "cgroup.procs").exists()]


def make_cgroup_root(node):
    """The kubelet refuses a cgroup root that does not exist in every hierarchy."""
    for hierarchy in cgroup_hierarchies():
        (hierarchy / node.cgroup_root.lstrip("/")).mkdir(exist_ok=True)


def write_kubelet_config(node, ports, ca):
    """The KubeletConfiguration. Node allocatable is not enforced (the node shares the machine
    with everything else); eviction thresholds are low so a nearly full disk does not mark the
    node under pressure and reject test pods."""
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "address": "127.0.0.1", "port": ports["kubelet"], "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1", "healthzPort": ports["kubelet_healthz"],
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False},
                           "x509": {"clientCAFile": str(ca)}},
        "authorization": {"mode": "AlwaysAllow"},
        "containerRuntimeEndpoint": f"unix://{node.socket}",
        "cgroupDriver": "cgroupfs", "enforceNodeAllocatable": [],
        "cgroupRoot": node.cgroup_root,
        "failSwapOn": False, "oomScoreAdj": 0, "podLogsDir": str(node.pod_logs),
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%",
                         "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False, "resolvConf": "", "registerNode": True,
        "nodeStatusUpdateFrequency": "2s", "syncFrequency": "10s", "fileCheckFrequency": "10s",
    }
    node.kubelet_config.write_text(yaml.safe_dump(config))
    return node.kubelet_config


def write_kubelet_env(node):
    """The environment file with the kubelet's extra flags: none at first."""
    node.kubelet_env.write_text(f'{FLAGS_VARIABLE}=""\n')
    return node.kubelet_env


def kubelet_argv(kubelet, node, kubeconfig):
    """The kubelet's command line: its fixed flags, then those of the environment file."""
    extra = kubelet_flags.args_of(node.kubelet_env.read_text(), FLAGS_VARIABLE)
    return [str(kubelet), f"--config={node.kubelet_config}", f"--kubeconfig={kubeconfig}",
            f"--root-dir={node.kubelet_root}", f"--cert-dir={node.kubelet_certs}",
            f"--hostname-override={NODE_NAME}", "--v=2", *extra]


def ctr(node, *args, check=True, timeout=60):
    return subprocess.run(["ctr", "--address", str(node.socket), "--namespace", CRI_NAMESPACE, *args],
                          capture_output=True, text=True, check=check, timeout=timeout)


def import_pause_image(node, hello_binary):
    """Build the pause image (byte-stable, so the same binary gives the same digest) and import it."""
    layout = node.base / "pause-layout"
    digest = oci.build_layout(hello_binary, layout, "v1", args=("pause",),
                              annotations={"io.containerd.image.name": PAUSE_IMAGE})
    oci.archive(layout, node.pause_archive)
    ctr(node, "images", "import", "--snapshotter", "overlayfs", str(node.pause_archive))
    return digest


def remove_containers(node):
    """Kill and delete every task and container in containerd's CRI namespace, so no shim or
    container outlives the environment. Returns the number of containers removed."""
    if not node.socket.exists():
        return 0
    try:
        listed = ctr(node, "containers", "list", "--quiet", check=False, timeout=20)
    except subprocess.TimeoutExpired:
        return 0
    ids = listed.stdout.split() if listed.returncode == 0 else []
    for container in ids:
        ctr(node, "tasks", "kill", "--signal", "SIGKILL", container, check=False, timeout=20)
    for container in ids:
        ctr(node, "tasks", "delete", "--force", container, check=False, timeout=30)
        ctr(node, "containers", "delete", container, check=False, timeout=30)
    return len(ids)


def remove_cgroups(node):
    """Remove the environment's pod cgroups (empty once their containers are gone), in every
    hierarchy; returns how many directories went."""
    removed = 0
    for hierarchy in cgroup_hierarchies():
        top = hierarchy / node.cgroup_root.lstrip("/")
        if not top.is_dir():
            continue
        for directory in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True) + [top]:
            try:
                directory.rmdir()
                removed += 1
            except OSError:
                pass
    return removed


def mounts_under(base):
    """Mount points at or below ``base``, deepest first (the order they can be unmounted in)."""
    base = os.path.realpath(base)
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == base or point.startswith(base + "/"):
                found.append(point)
    return sorted(set(found), key=lambda p: p.count("/"), reverse=True)


def unmount_all(base):
    """Unmount everything containerd and the kubelet mounted under ``base``; returns the list."""
    done = []
    for point in mounts_under(base):
        if subprocess.run(["umount", point], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)
        done.append(point)
    return done
