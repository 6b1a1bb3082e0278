"""playbooks/fleet.yml against three clusters of the local environment: one healthy, one stopped
(its apiserver gone: connections refused) and one silent (its apiserver frozen with SIGSTOP:
connections accepted, never answered).

The healthy cluster converges, the recap names the two others as failed, the silent one fails
within its timeout (K8S_AUTH_REQUEST_TIMEOUT, as an AWX job would set it), and a rerun on the
healthy cluster is a no-op with zero writes.
"""

import re
import subprocess
import time
import uuid
from pathlib import Path

import yaml

import localenv
import testenv

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 2  # K8S_AUTH_REQUEST_TIMEOUT of the run, seconds
# Three attempts of a read and the back-off between them; Ansible's own start-up on top.
BUDGET = 3 * TIMEOUT + 2
OVERHEAD = 45


def recap(output):
    """{host: {"ok": n, "changed": n, "failed": n, ...}} from the PLAY RECAP."""
    hosts = {}
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        match = re.match(r"(\S+)\s*:\s*(.*)$", line.strip())
        if match:
            hosts[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return hosts


def run_fleet(env, inventory, limit=None):
    command = testenv.playbook_command(ROOT / "playbooks" / "fleet.yml")
    command[command.index("-i") + 1] = str(inventory)
    if limit:
        command += ["--limit", limit]
    began = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False,
                          env=testenv.ansible_env(env, extra_env={"K8S_AUTH_REQUEST_TIMEOUT": str(TIMEOUT)}))
    return proc.stdout + proc.stderr, time.monotonic() - began


def test_fleet_with_one_cluster_stopped_and_one_silent(env, admin, make_namespace, tmp_path):
    healthy, stopped, silent = localenv.add_clusters(3)
    namespace = make_namespace("fleet")
    testenv.wait_for_default(admin, namespace)
    secret = f"fleet-{uuid.uuid4().hex[:6]}"
    inventory = tmp_path / "fleet.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"clusters": {
        "vars": {"pull_secrets_verify": False, "pull_secrets_no_log": False, "pull_secrets_secrets": [
            {"name": secret, "namespaces": [namespace], "registries": [
                {"provider": "basic", "server": "fleet.regcred.invalid", "username": "fleet",
                 "password": "fleet-password-0123456789"}]}]},
        "hosts": {"healthy": {"fleet_kubeconfig": str(healthy)},
                  "stopped": {"fleet_kubeconfig": str(stopped)},
                  "silent": {"fleet_kubeconfig": str(silent)}}}}}}))
    try:
        assert localenv.stop_process("kube-apiserver-2")
        with localenv.paused("kube-apiserver-3"):
            output, elapsed = run_fleet(env, inventory)
    finally:
        localenv.restart("kube-apiserver-2")
    hosts = recap(output)
    assert set(hosts) == {"healthy", "stopped", "silent"}, output[-3000:]
    assert hosts["healthy"]["failed"] == 0 and hosts["healthy"]["changed"] >= 1, output[-3000:]
    assert hosts["stopped"]["failed"] == 1 and hosts["silent"]["failed"] == 1, output[-3000:]
    silent_server = yaml.safe_load(Path(silent).read_text())["clusters"][0]["cluster"]["server"]
    assert f"{silent_server} (set by host or kubeconfig) timed out" in output, output[-3000:]
    assert "Connection refused" in output, output[-3000:]
    # The free strategy runs the clusters side by side: the whole run waits for the silent one only.
    print(f"fleet run with a silent cluster: {elapsed:.1f} s")
    assert elapsed < BUDGET + OVERHEAD, elapsed
    assert "Traceback" not in output, output[-3000:]
    stored = admin.read_namespaced_secret(secret, namespace)
    assert stored.type == "kubernetes.io/dockerconfigjson"
    attached = [ref.name for ref in admin.read_namespaced_service_account("default", namespace).image_pull_secrets]
    assert attached == [secret]

    audit = testenv.AuditLog(env)
    rerun = run_fleet(env, inventory, limit="healthy")[0]
    hosts = recap(rerun)
    assert set(hosts) == {"healthy"}, rerun[-3000:]
    assert hosts["healthy"]["changed"] == 0 and hosts["healthy"]["failed"] == 0, rerun[-3000:]
    for module in ("registry_pull_secret", "sa_image_pull_secrets"):
        assert audit.writes(testenv.agent(module)) == 0, module
    assert admin.read_namespaced_secret(secret, namespace).metadata.resource_version == stored.metadata.resource_version
