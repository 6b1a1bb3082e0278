"""Unit tests for the node's configuration (tests/harness/node.py): its CNI network and containerd's config."""

import ipaddress
import tomllib

import node


def test_each_node_directory_has_its_own_network(tmp_path):
    one, two = node.NodePaths(tmp_path / "a").network, node.NodePaths(tmp_path / "b").network
    assert len({one.name, two.name}) == 2 and len({one.bridge, two.bridge}) == 2 and one.subnet != two.subnet
    again = node.NodePaths(tmp_path / "a").network
    assert (again.name, again.bridge, again.subnet) == (one.name, one.bridge, one.subnet)
    for network in (one, two):
        assert len(network.bridge) <= 15, "Linux limits interface names to 15 characters"
        assert network.subnet.prefixlen == 24 and network.subnet.subnet_of(ipaddress.ip_network("10.64.0.0/10"))


def test_subnets_spread_over_the_whole_range():
    low, high = node.Network.of("0" * 64), node.Network.of("f" * 64)
    assert str(low.subnet) == "10.64.0.0/24"
    assert str(high.subnet) == "10.127.255.0/24"


def test_the_conflist_keeps_pods_on_their_bridge(tmp_path):
    network = node.NodePaths(tmp_path).network
    conflist = node.cni_conflist(network, tmp_path / "ipam")
    assert conflist["name"] == network.name
    bridge, loopback = conflist["plugins"]
    assert loopback == {"type": "loopback"}
    assert bridge["type"] == "bridge" and bridge["bridge"] == network.bridge
    assert not bridge["isGateway"] and not bridge["isDefaultGateway"] and not bridge["ipMasq"]
    assert bridge["ipam"] == {"type": "host-local", "ranges": [[{"subnet": str(network.subnet)}]], "routes": [],
                              "dataDir": str(tmp_path / "ipam")}


def test_containerd_runs_the_debian_plugins_with_the_nodes_network(tmp_path):
    paths = node.NodePaths(tmp_path)
    paths.make()
    config = tomllib.loads(node.write_containerd_config(paths, ["127.0.0.1:5000"], "/ca.crt").read_text())
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["cni"] == {"bin_dir": "/usr/lib/cni", "conf_dir": str(paths.cni_conf), "max_conf_num": 1}
    assert cri["netns_mounts_under_state_dir"] is True
    written = node.write_cni_config(paths)
    assert written.parent == paths.cni_conf and written.suffix == ".conflist"


def test_missing_cni_plugins_are_named(tmp_path):
    (tmp_path / "bridge").write_bytes(b"")
    assert node.missing_cni_plugins(tmp_path) == ["host-local", "loopback"]


def test_the_cached_results_of_the_nodes_sandboxes_go_with_their_loopback_ones():
    ours, theirs = "a" * 64, "b" * 64
    names = [f"regcred-1234567890-{ours}-eth0", f"cni-loopback-{ours}-lo",
             f"regcred-0987654321-{theirs}-eth0", f"cni-loopback-{theirs}-lo", "unrelated"]
    assert node.cached_results("regcred-1234567890", names) == names[:2]
    assert node.cached_results("regcred-1234567890", names[2:]) == []
