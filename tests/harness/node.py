"""The optional node of the local environment: containerd with its CRI plugin, and a kubelet.

localenv.py starts and stops the processes; this module writes their configuration, builds the
pause image and cleans up what containers leave behind. Everything lives under one directory
(``<state>/node``), so several environments on one machine do not share containerd's or the
kubelet's state, sockets or mounts. Pods name the node in ``spec.nodeName``: there is no scheduler.

The node is Ready: containerd's CRI plugin runs Debian's CNI plugins (containernetworking-plugins,
/usr/lib/cni) with one conflist in the node's own directory: ``bridge`` with ``host-local`` IPAM,
then ``loopback``. Each environment has its own bridge and a private /24, both derived from the
node directory's hash, as its cgroup root is. The bridge has no address (``isGateway`` false), the
pods get no routes but their subnet's and there is no ``ipMasq``: a pod reaches only the other pods
of its bridge, and the machine's routing table does not change. The netns are mounted under
containerd's state directory (not /var/run/netns) and host-local keeps its leases in the node
directory, so ``localenv down`` removes them with it; it also deletes the bridge (and any port
still on it) by name and libcni's cached results of the environment's network.
"""

import hashlib
import ipaddress
import json
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
SYSTEM_TOOLS = ("containerd", "containerd-shim-runc-v2", "runc", "ctr", "ip")
# Debian's containernetworking-plugins, and the plugins the conflist uses.
CNI_BIN_DIR = Path("/usr/lib/cni")
CNI_PLUGINS = ("bridge", "host-local", "loopback")
# Where libcni (inside containerd) caches each ADD's result, as <network>-<sandbox>-<interface>;
# only a CNI DEL through libcni removes an entry, and containers removed with ctr never get one.
CNI_CACHE = Path("/var/lib/cni/results")
# The pods' subnets: 10.64.0.0/10 holds 16384 /24s, one chosen per environment by its hash.
POD_SUBNETS = ipaddress.ip_network("10.64.0.0/10")
# The kubelet's extra flags come from an environment file, as systemd passes them to a kubeadm
# node's kubelet (/etc/default/kubelet), so that the kubelet_credential_provider role can wire it.
FLAGS_VARIABLE = "KUBELET_EXTRA_ARGS"


class Network:
    """The pod network of one environment: the CNI network's name, its bridge and its /24."""

    def __init__(self, name, bridge, subnet):
        self.name, self.bridge, self.subnet = name, bridge, subnet

    @classmethod
    def of(cls, digest):
        """From the hex ``digest`` of the node directory: the bridge name within Linux's 15
        characters, the subnet from digits the names do not use."""
        index = int(digest[-4:], 16) % 2 ** (24 - POD_SUBNETS.prefixlen)
        subnet = ipaddress.ip_network((int(POD_SUBNETS.network_address) + (index << 8), 24))
        return cls("regcred-" + digest[:10], "regcred" + digest[:8], subnet)


class NodePaths:
    def __init__(self, base):
        self.base = Path(base) / "node"
        self.containerd_root = self.base / "containerd" / "root"
        self.containerd_state = self.base / "containerd" / "state"
        self.socket = self.base / "containerd" / "containerd.sock"
        self.certs_d = self.base / "containerd" / "certs.d"
        self.containerd_config = self.base / "containerd" / "config.toml"
        self.runc_root = self.base / "runc"
        self.cni_conf = self.base / "cni" / "net.d"
        self.cni_ipam = self.base / "cni" / "ipam"
        self.kubelet_root = self.base / "kubelet"
        self.kubelet_config = self.base / "kubelet.yaml"
        self.kubelet_env = self.base / "kubelet.env"
        self.kubelet_certs = self.base / "kubelet-pki"
        self.pod_logs = self.base / "pod-logs"
        self.pause_archive = self.base / "pause.tar"
        digest = hashlib.sha256(str(self.base.resolve()).encode()).hexdigest()
        # The kubelet's cgroup root, one per environment, so that two nodes on one machine never
        # share their pod cgroups (by default both would use /kubepods).
        self.cgroup_root = "/regcred-" + digest[:10]
        self.network = Network.of(digest)

    def make(self):
        # A Unix socket path has at most 107 bytes; the kubelet's deepest is under device-plugins/.
        deepest = self.kubelet_root / "device-plugins" / "kubelet.sock"
        if len(str(deepest)) > 107:
            raise RuntimeError(f"the node's socket paths would be too long under {self.base}; "
                               "set REGCRED_LOCALENV_DIR to a shorter directory")
        for path in (self.containerd_root, self.containerd_state, self.certs_d, self.runc_root,
                     self.cni_conf, self.cni_ipam, self.kubelet_root, self.kubelet_certs, self.pod_logs):
            path.mkdir(parents=True, exist_ok=True)


def write_containerd_config(node, registries, ca):
    """containerd's config: CRI with cgroupfs, the pause image, and registry hosts trusting ``ca``.

    ``restrict_oom_score_adj``: runc sets the sandbox's oom_score_adj to -998, and lowering it
    needs CAP_SYS_RESOURCE, which a root process inside a container or VM sandbox may lack; with
    the option, containers never get a lower score than containerd's own.
    ``netns_mounts_under_state_dir``: the pods' netns are mounted under ``state``, so they are the
    environment's own and unmounted with its directory."""
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
  netns_mounts_under_state_dir = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{node.runc_root}"

[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{node.cni_conf}"
  max_conf_num = 1

[{cri}.registry]
  config_path = "{node.certs_d}"
""")
    return node.containerd_config


def cni_conflist(network, ipam_dir):
    """The CNI network: a bridge without an address, host-local leases in ``ipam_dir`` and no
    routes, so pods reach the bridge's other pods and nothing else; then loopback."""
    return {
        "cniVersion": "1.0.0", "name": network.name,
        "plugins": [
            {"type": "bridge", "bridge": network.bridge, "isGateway": False, "isDefaultGateway": False,
             "ipMasq": False, "hairpinMode": False,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": str(network.subnet)}]], "routes": [],
                      "dataDir": str(ipam_dir)}},
            {"type": "loopback"},
        ],
    }


def write_cni_config(node):
    path = node.cni_conf / "10-regcred.conflist"
    path.write_text(json.dumps(cni_conflist(node.network, node.cni_ipam), indent=2))
    return path


def missing_cni_plugins(bin_dir=CNI_BIN_DIR):
    return [name for name in CNI_PLUGINS if not (Path(bin_dir) / name).is_file()]


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


def bridge_ports(bridge):
    """The links enslaved to ``bridge`` (the pods' host-side veths); none when it does not exist."""
    listed = subprocess.run(["ip", "-j", "link", "show", "master", bridge], capture_output=True, text=True,
                            check=False, timeout=20)
    return [link["ifname"] for link in json.loads(listed.stdout or "[]")] if listed.returncode == 0 else []


def remove_network(node):
    """Delete what the pods' network left outside the node directory: veths still on the bridge
    (their netns are gone once unmounted, and the veths with them), the bridge, and libcni's cached
    results of the node's sandboxes. Returns (ports, bridges, cache entries) removed."""
    ports = bridge_ports(node.network.bridge)
    for port in ports:
        subprocess.run(["ip", "link", "delete", port], capture_output=True, check=False, timeout=20)
    bridge = subprocess.run(["ip", "link", "delete", node.network.bridge, "type", "bridge"],
                            capture_output=True, check=False, timeout=20).returncode == 0
    cached = cached_results(node.network.name, [p.name for p in CNI_CACHE.glob("*")])
    for name in cached:
        (CNI_CACHE / name).unlink(missing_ok=True)
    return len(ports), int(bridge), len(cached)


def cached_results(network, names):
    """Of libcni's cache entries ``names`` (<network>-<sandbox id>-<interface>), those of the
    sandboxes on ``network``: theirs, and those of containerd's own loopback network
    (``cni-loopback``) for the same sandboxes."""
    def sandbox(name):
        parts = name.rsplit("-", 2)
        return parts[1] if len(parts) == 3 else None

    ours = {sandbox(name) for name in names if name.startswith(network + "-")} - {None}
    return [name for name in names if sandbox(name) in ours]
