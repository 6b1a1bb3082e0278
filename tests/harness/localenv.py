"""The local environment: a real Kubernetes control plane, two registries and cloud emulators.

    localenv.py up     start everything (idempotent) and write env.sh
    localenv.py up --node
                       the same, plus a node: containerd and a kubelet that run real pods, on a
                       CNI bridge of the environment's own (the Node is Ready)
    localenv.py up --clusters N
                       the same, plus clusters 2 to N: an etcd and a kube-apiserver each, with
                       their own admin kubeconfig (conf/cluster-N.kubeconfig); the first cluster
                       is the one above, unchanged
    localenv.py down   stop every process it started, by PID, and remove its data (and the
                       node's bridge, veths and netns)
    localenv.py env    print the path of env.sh
    localenv.py restart-kubelet
                       stop the node's kubelet and start it again with the flags its environment
                       file (node/kubelet.env, KUBELET_EXTRA_ARGS) now holds, as systemd restarts a
                       kubeadm node's kubelet; it does not wait for the kubelet to be healthy
    localenv.py status show what runs (exit status 0 when all of it does; with --node, only
                       when the environment has a node)

Everything listens on 127.0.0.1 only. State lives in ``tests/output/localenv/`` (or
``$REGCRED_LOCALENV_DIR``): ``state.json`` (ports and PIDs), ``env.sh``, ``pki/`` and ``logs/``;
with the node also ``node/`` (containerd's and the kubelet's roots, see node.py).
"""

import base64
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import certifi
import boto3
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# pylint: disable=wrong-import-position
import binaries  # noqa: E402
import ecr_registry  # noqa: E402
import emulators_ecr  # noqa: E402
import node as nodes  # noqa: E402
import oci  # noqa: E402
from pki import LOOPBACK_NAMES, KeyPair, Pki, google_service_account_key  # noqa: E402

ROOT = HERE.parent.parent
STATE_DIR = Path(os.environ.get("REGCRED_LOCALENV_DIR", ROOT / "tests" / "output" / "localenv"))
PORT_NAMES = ("etcd", "etcd_peer", "apiserver", "controller_manager", "registry_basic",
              "registry_bearer", "registry_token", "moto", "google", "azure_ad", "azure",
              "gce_metadata", "gcr_token", "registry_gcr", "google_proxy",
              "azure_imds", "registry_acr", "registry_acr_strict",
              "registry_ecr", "ecr_public", "ecr_public_token", "registry_ecr_public")
NODE_PORT_NAMES = ("kubelet", "kubelet_healthz")
REGISTRY_SERVICE = "regcred-registry"
TOKEN_ISSUER = "regcred-token-server"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
TEST_REPOSITORY, TEST_TAG = "regcred/hello", "v1"
RESTRICTED_USER = "regcred-restricted"
# The ACR-like registries: docker-registry instances behind the ACR token service emulator;
# "strict" has ARM audience token authentication disabled.
ACR_REGISTRIES = ("registry_acr", "registry_acr_strict")
ACR_ISSUER = "regcred-acr-token-service"
# The ECR-Public-like registry: a docker-registry behind the ECR Public emulator's token endpoint.
ECR_PUBLIC_ISSUER = "regcred-ecr-public-token"
# The ServiceAccount whose tokens the emulated Azure AD app trusts (its federated identity credential).
WORKLOAD_NAMESPACE, WORKLOAD_SERVICE_ACCOUNT = "default", "regcred-acr-workload"
ALLOWED_NAMESPACE, DENIED_NAMESPACE = "regcred-allowed", "regcred-denied"
READY_TIMEOUT = 120
# The AWS keys moto and the ECR Public emulator take (moto takes any).
AWS_ACCESS_KEY_ID = AWS_SECRET_ACCESS_KEY = "testing"
# Popen objects of this invocation: right after fork, /proc/PID/cmdline still shows the Python
# parent, so start-up checks ask the Popen object, not /proc.
STARTED = {}


def log(message):
    print(f"[localenv {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Paths:
    def __init__(self, base):
        self.base = Path(base)
        self.state = self.base / "state.json"
        self.env = self.base / "env.sh"
        self.logs = self.base / "logs"
        self.pki = self.base / "pki"
        self.data = self.base / "data"
        self.conf = self.base / "conf"
        self.cert_dir = self.base / "registry-certs"


def free_ports(names):
    socks = []
    try:
        while len(socks) < len(names):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return {name: sock.getsockname()[1] for name, sock in zip(names, socks)}
    finally:
        for sock in socks:
            sock.close()


# processes --------------------------------------------------------------------------------
def alive(pid, argv):
    """True if ``pid`` runs exactly ``argv``; a reused PID runs something else."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return cmdline.rstrip("\0").split("\0") == argv


def start(paths, state, name, argv, env=None):
    argv = [str(a) for a in argv]
    logfile = open(paths.logs / f"{name}.log", "ab")  # pylint: disable=consider-using-with
    proc = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, **(env or {})))
    logfile.close()
    state["processes"][name] = {"pid": proc.pid, "argv": argv}
    STARTED[name] = proc
    save_state(paths, state)
    return proc


def stop_pid(pid, argv, grace=10.0):
    if not alive(pid, argv):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not alive(pid, argv):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def save_state(paths, state):
    tmp = paths.state.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(paths.state)


def load_state(paths):
    try:
        return json.loads(paths.state.read_text())
    except (OSError, ValueError):
        return None


def tail(path, lines=25):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until(paths, name, probe, timeout=READY_TIMEOUT):
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if STARTED[name].poll() is not None:
            raise RuntimeError(f"{name} exited during start-up; last log lines:\n"
                               f"{tail(paths.logs / f'{name}.log')}")
        try:
            if probe():
                return
        except (OSError, urllib.error.URLError, ssl.SSLError) as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"{name} not ready after {timeout} s ({last}); last log lines:\n"
                       f"{tail(paths.logs / f'{name}.log')}")


def http_status(url, context=None):
    try:
        with urllib.request.urlopen(url, context=context, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def etcd_ready(ports):
    return lambda: http_status(f"http://127.0.0.1:{ports['etcd']}/health") == 200


def apiserver_ready(ports, ca, admin_cert, admin_key):
    """A probe of /readyz as the admin (the endpoint needs an authenticated identity)."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(admin_cert), str(admin_key))
    return lambda: http_status(f"https://127.0.0.1:{ports['apiserver']}/readyz", context) == 200


# configuration ----------------------------------------------------------------------------
def kubeconfig(path, server, ca, cert=None, key=None, user="user"):
    creds = {"client-certificate": str(cert), "client-key": str(key)}
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "regcred-local",
        "clusters": [{"name": "regcred-local",
                      "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": user, "user": creds}],
        "contexts": [{"name": "regcred-local",
                      "context": {"cluster": "regcred-local", "user": user}}],
    }
    Path(path).write_text(yaml.safe_dump(doc))
    os.chmod(path, 0o600)
    return Path(path)


def registry_config(paths, name, port, serving, auth):
    conf = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {"filesystem": {"rootdirectory": str(paths.data / name)},
                    "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16),
                 "tls": {"certificate": str(serving.cert), "key": str(serving.key)}},
        "auth": auth,
    }
    path = paths.conf / f"{name}.yml"
    path.write_text(yaml.safe_dump(conf))
    return path


def prepare(paths, ports, creds, with_node=False):
    """Write PKI, config files and kubeconfigs for a fresh environment."""
    pki = Pki(paths.pki)
    serving = pki.issue("serving", ("127.0.0.1", "localhost", "kubernetes",
                                    "kubernetes.default", "kubernetes.default.svc"))
    admin = pki.issue("admin", ("admin.regcred.invalid",), "regcred-admin", "system:masters")
    restricted = pki.issue("restricted", ("restricted.regcred.invalid",), RESTRICTED_USER)
    manager = pki.issue("controller-manager", ("controller-manager.regcred.invalid",),
                        "system:kube-controller-manager")
    signing = pki.issue("token-signing", ("token.regcred.invalid",), TOKEN_ISSUER)
    pki.rsa_key("service-account")
    paths.cert_dir.mkdir(exist_ok=True)
    shutil.copy(pki.ca_cert, paths.cert_dir / "ca.crt")

    server = f"https://127.0.0.1:{ports['apiserver']}"
    files = {
        "ca": pki.ca_cert, "serving": serving, "signing": signing,
        "admin_kubeconfig": kubeconfig(paths.conf / "admin.kubeconfig", server, pki.ca_cert,
                                       admin.cert, admin.key, "regcred-admin"),
        "restricted_kubeconfig": kubeconfig(paths.conf / "restricted.kubeconfig", server,
                                            pki.ca_cert, restricted.cert, restricted.key,
                                            RESTRICTED_USER),
        "manager_kubeconfig": kubeconfig(paths.conf / "controller-manager.kubeconfig", server,
                                         pki.ca_cert, manager.cert, manager.key,
                                         "system:kube-controller-manager"),
        "admin_cert": admin,
    }
    if with_node:
        kubelet = pki.issue("node", (nodes.NODE_NAME,), f"system:node:{nodes.NODE_NAME}", "system:nodes")
        files["node_kubeconfig"] = kubeconfig(paths.conf / "node.kubeconfig", server, pki.ca_cert,
                                              kubelet.cert, kubelet.key, f"system:node:{nodes.NODE_NAME}")
    tokens = paths.conf / "tokens.csv"
    tokens.write_text(f'{creds["admin_token"]},regcred-admin-token,1001,"system:masters"\n'
                      f'{creds["restricted_token"]},{RESTRICTED_USER},1002\n')
    os.chmod(tokens, 0o600)
    files["tokens"] = tokens

    htpasswd = paths.conf / "htpasswd"
    subprocess.run(["htpasswd", "-Bci", str(htpasswd), creds["registry_user"]],
                   input=creds["registry_password"], text=True, check=True, capture_output=True)
    files["registry_basic"] = registry_config(
        paths, "registry-basic", ports["registry_basic"], serving,
        {"htpasswd": {"realm": "regcred-basic", "path": str(htpasswd)}})
    files["registry_bearer"] = registry_config(
        paths, "registry-bearer", ports["registry_bearer"], serving,
        {"token": {"realm": f"https://127.0.0.1:{ports['registry_token']}/token",
                   "service": REGISTRY_SERVICE, "issuer": TOKEN_ISSUER,
                   "rootcertbundle": str(signing.cert)}})

    # The ECR-like registry: the logins moto issues open it (ecr_registry.py).
    files["registry_ecr"] = registry_config(paths, "registry-ecr", ports["registry_ecr"], serving,
                                            ecr_registry.auth(paths))

    # Cloud token endpoints (Google, Azure AD, AWS) are served under a CA of their own, which the
    # SDKs trust through REQUESTS_CA_BUNDLE and AWS_CA_BUNDLE, as behind a TLS-inspecting proxy.
    # The registries' CA is not in that bundle, so registry TLS options cannot stand in for it.
    cloud = Pki(paths.pki / "cloud")
    cloud_serving = cloud.issue("cloud-serving", LOOPBACK_NAMES + GOOGLE_HOSTS)
    files["cloud_ca"], files["cloud_serving"] = cloud.ca_cert, cloud_serving
    files["cloud_trust"] = paths.pki / "cloud-trust.pem"
    files["cloud_trust"].write_bytes(Path(certifi.where()).read_bytes() + b"\n" + cloud.ca_cert.read_bytes())

    ecr_public_signing = prepare_ecr_public(paths, pki, ports, serving, files)
    gcp = prepare_gcp(paths, pki, ports, serving)
    files.update(gcp.pop("files"))
    registry_tls = {"cert": str(serving.cert), "key": str(serving.key)}
    cloud_tls = {"cert": str(cloud_serving.cert), "key": str(cloud_serving.key)}
    emulators = {
        "issued_tokens": str(paths.base / "issued-tokens.txt"),
        "tls": {"registry-token": registry_tls, "gcr-token": registry_tls, "google": cloud_tls,
                "azure": registry_tls, "azure-ad": cloud_tls, "ecr-public": cloud_tls,
                "ecr-public-token": registry_tls},
        "registry": {"username": creds["registry_user"], "password": creds["registry_password"],
                     # The test user may pull and push everywhere (the token server's access list).
                     "acl": {creds["registry_user"]: [{"repository": "*", "actions": ["pull", "push"]}]},
                     "service": REGISTRY_SERVICE, "issuer": TOKEN_ISSUER,
                     "signing_key": str(signing.key), "signing_cert": str(signing.cert)},
        "gcp": gcp["gcp"], "gcr": gcp["gcr"],
        "ecr_public": {"access_key": AWS_ACCESS_KEY_ID, "secret_key": AWS_SECRET_ACCESS_KEY,
                       "registry": ecr_public_signing},
    }
    emulators.update(azure_config(paths, ports, creds, pki))
    for name in ACR_REGISTRIES:
        files[name] = registry_config(
            paths, name.replace("_", "-"), ports[name], serving,
            {"token": {"realm": f"https://127.0.0.1:{ports['azure']}/oauth2/token",
                       "service": f"127.0.0.1:{ports[name]}", "issuer": ACR_ISSUER,
                       "rootcertbundle": emulators["acr"]["signing_cert"]}})
    files["emulators"] = paths.conf / "emulators.json"
    files["emulators"].write_text(json.dumps(emulators, indent=2))
    os.chmod(files["emulators"], 0o600)
    return files


def prepare_ecr_public(paths, pki, ports, serving, files):
    """The ECR-Public-like registry's config (its challenge names the emulator's token endpoint and
    the service public.ecr.aws) and what that endpoint signs with (emulators_ecr.py)."""
    signing = pki.issue("ecr-public-token-signing", ("ecr-public-token.regcred.invalid",), ECR_PUBLIC_ISSUER)
    files["registry_ecr_public"] = registry_config(
        paths, "registry-ecr-public", ports["registry_ecr_public"], serving,
        {"token": {"realm": f"https://127.0.0.1:{ports['ecr_public_token']}/token/",
                   "service": emulators_ecr.HOST, "issuer": ECR_PUBLIC_ISSUER,
                   "rootcertbundle": str(signing.cert)}})
    return {"service": emulators_ecr.HOST, "issuer": ECR_PUBLIC_ISSUER, "token_only": True,
            "acl": {emulators_ecr.USERNAME: [{"repository": "*", "actions": ["pull", "push"]}]},
            "signing_key": str(signing.key), "signing_cert": str(signing.cert)}


def azure_config(paths, ports, creds, pki):
    """The emulators_azure.py part of the config: one tenant with a service principal, an app
    whose federated credential trusts the cluster's ServiceAccount tokens, managed identities,
    and the role assignments (AcrPull) of all of them on both ACR-like registries."""
    signing = pki.issue("acr-token-signing", ("acr-token.regcred.invalid",), ACR_ISSUER)
    system, user = creds["azure_mi_client_id"], creds["azure_user_mi_client_id"]
    roles = {creds["azure_client_id"]: "AcrPull", creds["azure_workload_client_id"]: "AcrPull",
             system: "AcrPull", user: "AcrPull"}
    return {
        "azure": dict({k: creds[f"azure_{k}"] for k in ("tenant_id", "client_id", "client_secret")},
                      signing_secret=secrets.token_hex(32),
                      workload={"client_id": creds["azure_workload_client_id"],
                                "issuer": SERVICE_ACCOUNT_ISSUER,
                                "subject": f"system:serviceaccount:{WORKLOAD_NAMESPACE}:{WORKLOAD_SERVICE_ACCOUNT}",
                                "issuer_public_key": str(paths.pki / "service-account.pub")},
                      managed_identities={"system_assigned": {"client_id": system},
                                          "user_assigned": [{"client_id": user,
                                                             "resource_id": azure_user_identity(creds)}]}),
        "acr": {"issuer": ACR_ISSUER, "signing_key": str(signing.key), "signing_cert": str(signing.cert),
                "admin_user": "regcredacr", "admin_password": creds["azure_acr_admin_password"],
                # The user-assigned identity has no role on the strict registry: it may exchange
                # tokens there (Azure AD knows it), and pull nothing.
                "registries": {f"127.0.0.1:{ports[name]}": {
                    "arm_audience": name != "registry_acr_strict",
                    "roles": {k: v for k, v in roles.items() if name == "registry_acr" or k != user}}
                    for name in ACR_REGISTRIES}},
    }


def azure_user_identity(creds):
    return ("/subscriptions/%s/resourceGroups/regcred/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
            "regcred-pull" % creds["azure_subscription_id"])


def new_credentials():
    return {
        "registry_user": "regcred",
        "registry_password": secrets.token_urlsafe(18),
        "admin_token": secrets.token_urlsafe(24),
        "restricted_token": secrets.token_urlsafe(24),
        "azure_tenant_id": "11111111-2222-3333-4444-" + secrets.token_hex(6),
        "azure_client_id": "aaaaaaaa-bbbb-cccc-dddd-" + secrets.token_hex(6),
        "azure_client_secret": secrets.token_urlsafe(24),
        "azure_workload_client_id": "bbbbbbbb-cccc-dddd-eeee-" + secrets.token_hex(6),
        "azure_mi_client_id": "cccccccc-dddd-eeee-ffff-" + secrets.token_hex(6),
        "azure_user_mi_client_id": "dddddddd-eeee-ffff-0000-" + secrets.token_hex(6),
        "azure_subscription_id": "eeeeeeee-ffff-0000-1111-" + secrets.token_hex(6),
        "azure_acr_admin_password": secrets.token_urlsafe(24),
    }


# Google Cloud: the emulators of emulators_gcp.py and a GCR-like registry behind their token endpoint
GCP_PROJECT, GCP_PROJECT_NUMBER = "regcred-local", "424242424242"
GCP_POOL = f"projects/{GCP_PROJECT_NUMBER}/locations/global/workloadIdentityPools/regcred-pool"
GCP_WIF_PROVIDER = f"//iam.googleapis.com/{GCP_POOL}/providers/regcred-kubernetes"
GCR_ISSUER = "regcred-gcr-token"
# Google hosts whose names google-auth fixes (an authorized_user file's token endpoint, IAM
# Credentials for an impersonated_service_account file): reached through the emulator's HTTPS
# proxy, as behind a TLS-inspecting proxy, so the cloud serving certificate names them too.
GOOGLE_HOSTS = ("oauth2.googleapis.com", "sts.googleapis.com", "iamcredentials.googleapis.com")
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def gcp_account(name):
    return f"{name}@{GCP_PROJECT}.iam.gserviceaccount.com"


def prepare_gcp(paths, pki, ports, serving):
    """Service-account keys, an authorized_user file, the emulators' IAM policy and the GCR-like
    registry's config. Returns ``{"files", "gcp", "gcr"}`` (``gcp``/``gcr``: emulator config)."""
    google = f"https://127.0.0.1:{ports['google']}"
    files, accounts = {}, {}
    for name in ("puller", "pusher", "outsider"):
        path = paths.conf / ("gcp-key.json" if name == "puller" else f"gcp-{name}-key.json")
        key = google_service_account_key(pki, path, f"{google}/token", GCP_PROJECT, name)
        accounts[key["client_email"]] = {"key_file": str(path), "private_key_id": key["private_key_id"]}
        files["gcp_key" if name == "puller" else f"gcp_{name}_key"] = path
    client_id = f"{GCP_PROJECT_NUMBER}-regcred.apps.googleusercontent.com"
    client_secret, refresh_token = secrets.token_urlsafe(18), "1//" + secrets.token_urlsafe(40)
    user = "developer@regcred.example"
    files["gcp_authorized_user"] = paths.conf / "gcp-authorized-user.json"
    files["gcp_authorized_user"].write_text(json.dumps({
        "type": "authorized_user", "client_id": client_id, "client_secret": client_secret,
        "refresh_token": refresh_token, "account": user, "universe_domain": "googleapis.com"}, indent=2))
    os.chmod(files["gcp_authorized_user"], 0o600)
    pool = f"principalSet://iam.googleapis.com/{GCP_POOL}/*"
    target = gcp_account("reader-target")
    signing = pki.issue("gcr-token-signing", ("gcr-token.regcred.invalid",), GCR_ISSUER)
    service = f"127.0.0.1:{ports['registry_gcr']}"
    files["registry_gcr"] = registry_config(
        paths, "registry-gcr", ports["registry_gcr"], serving,
        {"token": {"realm": f"https://127.0.0.1:{ports['gcr_token']}/v2/token", "service": service,
                   "issuer": GCR_ISSUER, "rootcertbundle": str(signing.cert)}})
    gcp = {
        "service_accounts": accounts,
        "oauth_clients": {client_id: client_secret},
        "users": {refresh_token: {"client_id": client_id, "email": user, "scopes": [CLOUD_PLATFORM]}},
        # The Kubernetes apiserver is the pool's OIDC issuer, its key uploaded as the provider's JWKS.
        "workload_identity_provider": {
            "name": GCP_WIF_PROVIDER, "allowed_audiences": ["https:" + GCP_WIF_PROVIDER],
            "issuer": "https://kubernetes.default.svc.cluster.local",
            "jwks_key": str(paths.pki / "service-account.pub")},
        "service_account_policies": {target: {"roles/iam.serviceAccountTokenCreator": [f"user:{user}"],
                                              "roles/iam.workloadIdentityUser": [pool]}},
        "registry_policy": {
            "roles/artifactregistry.reader": [f"serviceAccount:{gcp_account(n)}" for n in ("puller", "node", "reader-target")]
            + [f"user:{user}", pool],
            "roles/artifactregistry.writer": [f"serviceAccount:{gcp_account('pusher')}"]},
        "metadata": {"email": gcp_account("node"), "project_id": GCP_PROJECT, "scopes": [CLOUD_PLATFORM]},
        "proxy_hosts": list(GOOGLE_HOSTS),
    }
    gcr = {"issuer": GCR_ISSUER, "service": service, "signing_key": str(signing.key), "signing_cert": str(signing.cert)}
    return {"files": files, "gcp": gcp, "gcr": gcr}


def start_gcp(paths, state, files):
    ports = state["ports"]
    listeners = ("google", "gce_metadata", "gcr_token", "google_proxy")
    start(paths, state, "google", [sys.executable, HERE / "emulators_gcp.py", "--config", files["emulators"]]
          + [f"--{name.replace('_', '-')}-port={ports[name]}" for name in listeners])
    cloud_tls = ssl.create_default_context(cafile=files["cloud_ca"])
    wait_until(paths, "google", lambda: http_status(f"https://127.0.0.1:{ports['google']}/", cloud_tls) > 0)
    start(paths, state, "registry-gcr", ["/usr/bin/docker-registry", "serve", files["registry_gcr"]])
    tls = ssl.create_default_context(cafile=str(files["ca"]))
    wait_until(paths, "registry-gcr", lambda: http_status(f"https://127.0.0.1:{ports['registry_gcr']}/v2/", tls) == 401)


def push_gcr_image(paths, state, files):
    """The test image into the GCR-like registry, as the pusher service account (_json_key)."""
    host = f"127.0.0.1:{state['ports']['registry_gcr']}"
    key = Path(files["gcp_pusher_key"]).read_text(encoding="utf-8").strip()
    authfile = paths.conf / "registry-gcr-auth.json"
    authfile.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(f"_json_key:{key}".encode()).decode()}}}))
    os.chmod(authfile, 0o600)
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-authfile", str(authfile), "--dest-cert-dir", str(paths.cert_dir),
                    f"oci:{paths.data / 'image-layout'}:{TEST_TAG}", f"docker://{host}/{TEST_REPOSITORY}:{TEST_TAG}"],
                   check=True, capture_output=True, text=True)
    log(f"pushed {TEST_REPOSITORY}:{TEST_TAG} to the GCR-like registry {host}")


def gcp_env(ports, files):
    """env.sh variables of the Google emulators (docs/local-environment.md)."""
    return {
        "REGCRED_GOOGLE_ENDPOINT": f"https://127.0.0.1:{ports['google']}",
        "REGCRED_GOOGLE_PROXY": f"http://127.0.0.1:{ports['google_proxy']}",
        "REGCRED_GCE_METADATA_HOST": f"127.0.0.1:{ports['gce_metadata']}",
        "REGCRED_GCR_REGISTRY": f"127.0.0.1:{ports['registry_gcr']}",
        "REGCRED_GCP_OUTSIDER_KEY_FILE": files["gcp_outsider_key"],
        "REGCRED_GCP_AUTHORIZED_USER_FILE": files["gcp_authorized_user"],
        "REGCRED_GCP_WIF_PROVIDER": GCP_WIF_PROVIDER,
        "REGCRED_GCP_IMPERSONATION_TARGET": gcp_account("reader-target"),
    }


# services ---------------------------------------------------------------------------------
def etcd_argv(bins, paths, ports, suffix=""):
    """etcd of the first cluster (``suffix`` "") or of cluster N (``suffix`` "-N")."""
    return [
        bins["etcd"], "--name=regcred", f"--data-dir={paths.data / ('etcd' + suffix)}",
        f"--listen-client-urls=http://127.0.0.1:{ports['etcd']}",
        f"--advertise-client-urls=http://127.0.0.1:{ports['etcd']}",
        f"--listen-peer-urls=http://127.0.0.1:{ports['etcd_peer']}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{ports['etcd_peer']}",
        f"--initial-cluster=regcred=http://127.0.0.1:{ports['etcd_peer']}",
        "--unsafe-no-fsync=true", "--log-level=warn"]


def apiserver_argv(bins, paths, ports, serving, ca, tokens, suffix=""):
    """kube-apiserver of the first cluster or of cluster N; each has its own etcd and audit log,
    all share the PKI, so one CA and one admin certificate reach every cluster."""
    pki = paths.pki
    return [
        bins["kube-apiserver"], "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
        f"--secure-port={ports['apiserver']}", f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
        f"--tls-cert-file={serving.cert}", f"--tls-private-key-file={serving.key}",
        f"--client-ca-file={ca}", f"--token-auth-file={tokens}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=ServiceAccount,NamespaceLifecycle,NodeRestriction",
        f"--service-account-key-file={pki / 'service-account.pub'}",
        f"--service-account-signing-key-file={pki / 'service-account.key'}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        "--service-cluster-ip-range=10.96.0.0/24", "--allow-privileged=true",
        f"--cert-dir={paths.data / ('apiserver' + suffix + '-certs')}", "--v=1",
        f"--audit-policy-file={HERE / 'manifests' / 'audit-policy.yaml'}",
        f"--audit-log-path={paths.logs / ('audit' + suffix + '.log')}", "--audit-log-maxsize=0"]


def start_control_plane(paths, state, bins, files):
    ports, ca = state["ports"], files["ca"]
    start(paths, state, "etcd", etcd_argv(bins, paths, ports))
    wait_until(paths, "etcd", etcd_ready(ports))
    log("etcd ready")

    pki = paths.pki
    start(paths, state, "kube-apiserver", apiserver_argv(bins, paths, ports, files["serving"], ca, files["tokens"]))
    wait_until(paths, "kube-apiserver", apiserver_ready(ports, ca, files["admin_cert"].cert, files["admin_cert"].key))
    log("kube-apiserver ready")

    kubeconfig_path = files["manager_kubeconfig"]
    start(paths, state, "kube-controller-manager", [
        bins["kube-controller-manager"], f"--kubeconfig={kubeconfig_path}",
        f"--authentication-kubeconfig={kubeconfig_path}",
        f"--authorization-kubeconfig={kubeconfig_path}",
        "--bind-address=127.0.0.1", f"--secure-port={ports['controller_manager']}",
        f"--cert-dir={paths.data / 'controller-manager-certs'}",
        "--leader-elect=false", "--use-service-account-credentials=true",
        "--controllers=serviceaccount-controller,serviceaccount-token-controller,"
        "namespace-controller,garbage-collector-controller,root-ca-certificate-publisher-controller",
        f"--service-account-private-key-file={pki / 'service-account.key'}",
        f"--root-ca-file={ca}", "--v=1"])
    insecure = ssl.create_default_context(cafile=str(ca))
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # self-signed serving cert
    wait_until(paths, "kube-controller-manager",
               lambda: http_status(f"https://127.0.0.1:{ports['controller_manager']}/healthz",
                                   insecure) == 200)
    log("kube-controller-manager ready")


def start_registries_and_emulators(paths, state, files):
    ports, ca = state["ports"], str(files["ca"])
    tls = ssl.create_default_context(cafile=ca)
    cloud_tls = ssl.create_default_context(cafile=files["cloud_ca"])
    start_gcp(paths, state, files)
    for service, trust, script in (("registry-token", tls, "emulators.py"),
                                   ("azure-ad", cloud_tls, "emulators_azure.py"), ("azure", tls, "emulators_azure.py"),
                                   ("azure-imds", None, "emulators_azure.py")):
        port = ports[service.replace("-", "_")]
        start(paths, state, service, [sys.executable, HERE / script, service,
                                      "--config", files["emulators"], "--port", port])
        wait_until(paths, service, lambda p=port, t=trust: http_status(
            f"{'https' if t else 'http'}://127.0.0.1:{p}/", t) > 0)
    # moto records the requests it answers only while a test has started its recorder
    # (/moto-api/recorder/start-recording); the record goes to the logs, not to the working directory.
    start(paths, state, "moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", ports["moto"],
                                 "--ssl-cert", files["cloud_serving"].cert, "--ssl-key", files["cloud_serving"].key],
          env={"MOTO_RECORDER_FILEPATH": str(paths.logs / "moto-recording.jsonl")})
    wait_until(paths, "moto",
               lambda: http_status(f"https://127.0.0.1:{ports['moto']}/moto-api/", cloud_tls) == 200)
    start(paths, state, "ecr-public", [sys.executable, HERE / "emulators_ecr.py", "--config", files["emulators"],
                                       "--port", ports["ecr_public"], "--token-port", ports["ecr_public_token"]])
    wait_until(paths, "ecr-public",
               lambda: http_status(f"https://127.0.0.1:{ports['ecr_public']}/", cloud_tls) > 0
               and http_status(f"https://127.0.0.1:{ports['ecr_public_token']}/", tls) > 0)
    for name in ("registry-basic", "registry-bearer", "registry-ecr", "registry-ecr-public") + tuple(n.replace("_", "-") for n in ACR_REGISTRIES):
        port = ports[name.replace("-", "_")]
        start(paths, state, name, ["/usr/bin/docker-registry", "serve", files[name.replace("-", "_")]])
        wait_until(paths, name,
                   lambda p=port: http_status(f"https://127.0.0.1:{p}/v2/", tls) == 401)
    log("registries, token server, moto, Google and Azure emulators ready")


def kubectl(bins, files, *args, stdin=None):
    return subprocess.run([str(bins["kubectl"]), f"--kubeconfig={files['admin_kubeconfig']}", *args],
                          input=stdin, text=True, check=True, capture_output=True).stdout


def bootstrap_cluster(bins, files):
    kubectl(bins, files, "apply", "-f", str(HERE / "manifests" / "restricted-rbac.yaml"))
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        found = subprocess.run([str(bins["kubectl"]), f"--kubeconfig={files['admin_kubeconfig']}",
                                "-n", ALLOWED_NAMESPACE, "get", "serviceaccount", "default"],
                               capture_output=True, check=False)
        if found.returncode == 0:
            return
        time.sleep(0.3)
    raise RuntimeError("the controller-manager did not create the default ServiceAccount")


def push_test_image(paths, bins, state, creds):
    layout = paths.data / "image-layout"
    digest = oci.build_layout(bins["hello"], layout, TEST_TAG)
    authfile = paths.conf / "registry-auth.json"
    token = base64.b64encode(
        f"{creds['registry_user']}:{creds['registry_password']}".encode()).decode()
    logins = {f"127.0.0.1:{state['ports'][k]}": token for k in ("registry_basic", "registry_bearer")}
    logins[f"127.0.0.1:{state['ports']['registry_ecr']}"] = base64.b64encode(
        f"{ecr_registry.USERNAME}:{ecr_registry.moto_password()}".encode()).decode()
    logins[f"127.0.0.1:{state['ports']['registry_ecr_public']}"] = ecr_public_login(paths, state)
    hosts = list(logins)
    authfile.write_text(json.dumps({"auths": {h: {"auth": t} for h, t in logins.items()}}))
    os.chmod(authfile, 0o600)
    for host in hosts:
        subprocess.run(["skopeo", "copy", "--quiet", "--dest-authfile", str(authfile),
                        "--dest-cert-dir", str(paths.cert_dir), f"oci:{layout}:{TEST_TAG}",
                        f"docker://{host}/{TEST_REPOSITORY}:{TEST_TAG}"],
                       check=True, capture_output=True, text=True)
    push_to_acr_registries(paths, state, creds, layout)
    log(f"pushed {TEST_REPOSITORY}:{TEST_TAG} ({digest[:19]}…) to the registries")
    return digest


def ecr_public_login(paths, state):
    """An ``authorizationToken`` of the ECR Public emulator: the only logins its registry takes."""
    client = boto3.client("ecr-public", region_name=emulators_ecr.REGION,
                          endpoint_url=f"https://127.0.0.1:{state['ports']['ecr_public']}",
                          aws_access_key_id=AWS_ACCESS_KEY_ID, aws_secret_access_key=AWS_SECRET_ACCESS_KEY,
                          verify=str(paths.pki / "cloud" / "ca.crt"))
    return client.get_authorization_token()["authorizationData"]["authorizationToken"]


def push_to_acr_registries(paths, state, creds, layout):
    """The test image into the ACR-like registries, as the registry's admin user (AcrPush and more)."""
    for name in ACR_REGISTRIES:
        host = f"127.0.0.1:{state['ports'][name]}"
        subprocess.run(["skopeo", "copy", "--quiet", "--dest-creds", f"regcredacr:{creds['azure_acr_admin_password']}",
                        "--dest-cert-dir", str(paths.cert_dir), f"oci:{layout}:{TEST_TAG}",
                        f"docker://{host}/{TEST_REPOSITORY}:{TEST_TAG}"],
                       check=True, capture_output=True, text=True)


def start_node(paths, state, bins, files):
    """containerd with the CRI plugin and the CNI network, the pause image, and a kubelet
    registered as a Node that is Ready."""
    node = nodes.NodePaths(paths.base)
    node.make()
    ports = state["ports"]
    registries = [f"127.0.0.1:{ports[k]}" for k in ("registry_basic", "registry_bearer", "registry_gcr", "registry_ecr") + ACR_REGISTRIES]
    nodes.write_containerd_config(node, registries, files["ca"])
    ecr_registry.write_containerd_mirror(node.certs_d, f"127.0.0.1:{ports['registry_ecr']}", files["ca"])
    log(f"CNI network {node.network.name}: bridge {node.network.bridge}, pods in {node.network.subnet} "
        f"({nodes.write_cni_config(node)})")
    began = time.monotonic()
    start(paths, state, "containerd", ["containerd", "--config", node.containerd_config])
    wait_until(paths, "containerd", lambda: node.socket.exists() and nodes.ctr(node, "version", check=False).returncode == 0)
    log(f"containerd ready ({time.monotonic() - began:.1f} s); importing the pause image")
    log(f"imported {nodes.PAUSE_IMAGE} ({nodes.import_pause_image(node, bins['hello'])[:19]}…)")
    nodes.make_cgroup_root(node)
    nodes.write_kubelet_config(node, ports, files["ca"])
    nodes.write_kubelet_env(node)
    start(paths, state, "kubelet", nodes.kubelet_argv(bins["kubelet"], node, files["node_kubeconfig"]))
    log(f"kubelet started; waiting for Node {nodes.NODE_NAME} to register and report its runtime")
    wait_until(paths, "kubelet", lambda: http_status(f"http://127.0.0.1:{ports['kubelet_healthz']}/healthz") == 200)
    wait_until(paths, "kubelet", lambda: node_status(bins, files, "{.status.nodeInfo.containerRuntimeVersion}").startswith("containerd://"))
    log(f"node {nodes.NODE_NAME} registered ({time.monotonic() - began:.1f} s after containerd started)")
    wait_until(paths, "kubelet", lambda: node_status(bins, files, '{.status.conditions[?(@.type=="Ready")].status}') == "True")
    log(f"node {nodes.NODE_NAME} Ready ({time.monotonic() - began:.1f} s after containerd started)")


def node_status(bins, files, jsonpath):
    """A field of the Node's object, by kubectl's ``jsonpath``; empty while the Node does not exist."""
    found = subprocess.run([str(bins["kubectl"]), f"--kubeconfig={files['admin_kubeconfig']}", "get", "node",
                            nodes.NODE_NAME, "-o", f"jsonpath={jsonpath}"],
                           capture_output=True, text=True, check=False, timeout=30)
    return found.stdout if found.returncode == 0 else ""


def write_env(paths, state, files):
    ports, creds = state["ports"], state["credentials"]
    values = {
        "KUBECONFIG": files["admin_kubeconfig"],
        "REGCRED_RESTRICTED_KUBECONFIG": files["restricted_kubeconfig"],
        "REGCRED_KUBE_HOST": f"https://127.0.0.1:{ports['apiserver']}",
        "REGCRED_KUBE_CA": files["ca"],
        "REGCRED_ADMIN_TOKEN": creds["admin_token"],
        "REGCRED_RESTRICTED_TOKEN": creds["restricted_token"],
        "REGCRED_RESTRICTED_USER": RESTRICTED_USER,
        "REGCRED_ALLOWED_NAMESPACE": ALLOWED_NAMESPACE,
        "REGCRED_DENIED_NAMESPACE": DENIED_NAMESPACE,
        "REGCRED_KUBECTL": state["binaries"]["kubectl"],
        "REGCRED_REGISTRY_BASIC": f"127.0.0.1:{ports['registry_basic']}",
        "REGCRED_REGISTRY_BEARER": f"127.0.0.1:{ports['registry_bearer']}",
        "REGCRED_REGISTRY_TOKEN_REALM": f"https://127.0.0.1:{ports['registry_token']}/token",
        "REGCRED_REGISTRY_USER": creds["registry_user"],
        "REGCRED_REGISTRY_PASSWORD": creds["registry_password"],
        "REGCRED_REGISTRY_CA": files["ca"],
        "REGCRED_REGISTRY_CERT_DIR": paths.cert_dir,
        "REGCRED_REGISTRY_HTPASSWD": paths.conf / "htpasswd",
        "REGCRED_TEST_IMAGE": f"{TEST_REPOSITORY}:{TEST_TAG}",
        "REGCRED_TEST_IMAGE_DIGEST": state["image_digest"],
        "AWS_ENDPOINT_URL_ECR": f"https://127.0.0.1:{ports['moto']}",
        "AWS_ENDPOINT_URL_ECR_PUBLIC": f"https://127.0.0.1:{ports['ecr_public']}",
        "REGCRED_ECR_REGISTRY": f"127.0.0.1:{ports['registry_ecr']}",
        "REGCRED_ECR_REGISTRY_HOST": ecr_registry.HOST,
        "REGCRED_ECR_PUBLIC_REGISTRY": f"127.0.0.1:{ports['registry_ecr_public']}",
        "REGCRED_ECR_PUBLIC_TOKEN_REALM": f"https://127.0.0.1:{ports['ecr_public_token']}/token/",
        # What the SDKs of the cloud token endpoints trust: the system store plus the cloud CA.
        "REQUESTS_CA_BUNDLE": files["cloud_trust"],
        "AWS_CA_BUNDLE": files["cloud_trust"],
        "REGCRED_CLOUD_CA": files["cloud_ca"],
        "REGCRED_AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
        "REGCRED_AWS_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
        "REGCRED_AWS_REGION": "us-east-1",
        "REGCRED_GCP_KEY_FILE": files["gcp_key"],
        **gcp_env(ports, files),
        "REGCRED_AZURE_AUTHORITY": f"https://127.0.0.1:{ports['azure_ad']}",
        "REGCRED_AZURE_REGISTRY": f"127.0.0.1:{ports['registry_acr']}",
        "REGCRED_AZURE_REGISTRY_STRICT": f"127.0.0.1:{ports['registry_acr_strict']}",
        "REGCRED_AZURE_TOKEN_SERVICE": f"127.0.0.1:{ports['azure']}",
        "REGCRED_AZURE_IMDS": f"http://127.0.0.1:{ports['azure_imds']}",
        "REGCRED_AZURE_MI_CLIENT_ID": creds["azure_mi_client_id"],
        "REGCRED_AZURE_USER_MI_CLIENT_ID": creds["azure_user_mi_client_id"],
        "REGCRED_AZURE_USER_MI_RESOURCE_ID": azure_user_identity(creds),
        "REGCRED_AZURE_WORKLOAD_CLIENT_ID": creds["azure_workload_client_id"],
        "REGCRED_AZURE_WORKLOAD_SERVICE_ACCOUNT": f"{WORKLOAD_NAMESPACE}/{WORKLOAD_SERVICE_ACCOUNT}",
        "REGCRED_AZURE_TENANT_ID": creds["azure_tenant_id"],
        "REGCRED_AZURE_CLIENT_ID": creds["azure_client_id"],
        "REGCRED_AZURE_CLIENT_SECRET": creds["azure_client_secret"],
        "REGCRED_AZURE_CA": files["ca"],
        "REGCRED_ISSUED_TOKENS": paths.base / "issued-tokens.txt",
        "REGCRED_LOCALENV_STATE": paths.state,
        "REGCRED_AUDIT_LOG": paths.logs / "audit.log",
    }
    if state.get("node"):
        values["REGCRED_NODE_NAME"] = nodes.NODE_NAME
        values["REGCRED_NODE_KUBECONFIG"] = files["node_kubeconfig"]
        node = nodes.NodePaths(paths.base)
        values["REGCRED_NODE_DIR"] = node.base
        values["REGCRED_NODE_POD_SUBNET"] = node.network.subnet
        values["REGCRED_KUBELET"] = state["binaries"]["kubelet"]
        values["REGCRED_KUBELET_HEALTHZ"] = f"http://127.0.0.1:{ports['kubelet_healthz']}/healthz"
    lines = ["# Written by scripts/localenv up; source it to reach the local environment."]
    lines += [f"export {k}={shlex.quote(str(v))}" for k, v in values.items()]
    paths.env.write_text("\n".join(lines) + "\n")
    os.chmod(paths.env, 0o600)


# commands ---------------------------------------------------------------------------------
def running(paths):
    state = load_state(paths)
    if not state or not state.get("complete"):
        return None
    if all(alive(p["pid"], p["argv"]) for p in state["processes"].values()):
        return state
    return None


def up(paths, with_node=False):
    began = time.monotonic()
    current = running(paths)
    if current and (current.get("node") or not with_node):
        log(f"already up; environment in {paths.env}")
        return
    if current:
        log("already up, but without the node; restarting it with the node")
        down(paths)
    elif load_state(paths):
        log("a previous environment is incomplete or partly stopped; restarting it cleanly")
        down(paths)
    steps = 6 if with_node else 5
    missing = [tool for tool in nodes.SYSTEM_TOOLS if with_node and not shutil.which(tool)]
    missing += [f"the CNI plugin {name} in {nodes.CNI_BIN_DIR}" for name in nodes.missing_cni_plugins() if with_node]
    if missing:
        raise RuntimeError(f"the node needs {', '.join(missing)}: run scripts/install-system-deps")
    log(f"step 1/{steps}: Go binaries (cached after the first build)")
    bins = binaries.ensure(with_kubelet=with_node, log=log)
    for sub in (paths.data, paths.conf, paths.pki):
        shutil.rmtree(sub, ignore_errors=True)
    for sub in (paths.logs, paths.data, paths.conf, paths.pki):
        sub.mkdir(parents=True, exist_ok=True)
    state = {"ports": free_ports(PORT_NAMES + (NODE_PORT_NAMES if with_node else ())), "processes": {},
             "complete": False, "node": with_node, "credentials": new_credentials(),
             "binaries": {k: str(v) for k, v in bins.items()}}
    save_state(paths, state)
    os.chmod(paths.state, 0o600)
    log(f"step 2/{steps}: certificates, kubeconfigs and registry configs")
    files = prepare(paths, state["ports"], state["credentials"], with_node)
    try:
        log(f"step 3/{steps}: etcd, kube-apiserver, kube-controller-manager")
        start_control_plane(paths, state, bins, files)
        log(f"step 4/{steps}: registries and cloud emulators")
        start_registries_and_emulators(paths, state, files)
        log(f"step 5/{steps}: RBAC for the restricted identity, test image")
        bootstrap_cluster(bins, files)
        state["image_digest"] = push_test_image(paths, bins, state, state["credentials"])
        push_gcr_image(paths, state, files)
        if with_node:
            log(f"step 6/{steps}: the node (containerd, pause image, kubelet)")
            start_node(paths, state, bins, files)
    except Exception:
        log(f"start-up failed; logs are in {paths.logs}. Stopping what was started.")
        down(paths)
        raise
    state["files"] = {k: str(v.cert if hasattr(v, "cert") else v) for k, v in files.items()}
    state["complete"] = True
    save_state(paths, state)
    write_env(paths, state, files)
    log(f"up in {time.monotonic() - began:.1f} s; source {paths.env}")


def down(paths):
    state = load_state(paths)
    if not state:
        log("nothing to stop")
        return
    node = nodes.NodePaths(paths.base)
    for name, info in reversed(list(state["processes"].items())):
        if name == "containerd" and alive(info["pid"], info["argv"]):
            # Containers outlive both the kubelet and containerd (their shims keep them), so they go first.
            log(f"removed {nodes.remove_containers(node)} containers from containerd")
        if stop_pid(info["pid"], info["argv"]):
            log(f"stopped {name} (pid {info['pid']})")
    if node.base.exists():
        nodes.remove_cgroups(node)
        unmounted = nodes.unmount_all(node.base)
        if unmounted:
            log(f"unmounted {len(unmounted)} mounts under {node.base}")
        shutil.rmtree(node.base, ignore_errors=True)
    if state.get("node"):
        ports, bridges, cached = nodes.remove_network(node)
        if ports or bridges or cached:
            log(f"deleted bridge {node.network.bridge} with {ports} ports left on it, and {cached} cached CNI results")
    shutil.rmtree(paths.data, ignore_errors=True)
    for path in (paths.state, paths.env):
        path.unlink(missing_ok=True)


def status(paths, with_node=False):
    """Exit status 0 when everything runs (and, with ``with_node``, the environment has a node)."""
    state = load_state(paths)
    if not state:
        print("down")
        return 1
    for name, info in state["processes"].items():
        print(f"{name:24} pid {info['pid']:>7}  {'running' if alive(info['pid'], info['argv']) else 'STOPPED'}")
    print(f"node: {nodes.NODE_NAME}" if state.get("node") else "node: none (scripts/localenv up --node starts one)")
    current = running(paths)
    return 0 if current and (current.get("node") or not with_node) else 1


# single processes, for fault tests -----------------------------------------------------------
def stop_process(name, paths=None):
    """Stop one process of the running environment by its PID from state.json (SIGTERM, then
    SIGKILL after 10 s). Returns True when it was running."""
    paths = paths or Paths(STATE_DIR)
    info = load_state(paths)["processes"][name]
    return stop_pid(info["pid"], info["argv"])


@contextlib.contextmanager
def paused(name, paths=None):
    """Freeze one process of the running environment (SIGSTOP, by its PID from state.json) for
    the ``with`` block: its port still accepts connections, and nothing answers. SIGCONT on the
    way out, whatever happens inside, so a failing test leaves the environment running."""
    paths = paths or Paths(STATE_DIR)
    info = load_state(paths)["processes"][name]
    if not alive(info["pid"], info["argv"]):
        raise RuntimeError(f"{name} does not run (pid {info['pid']})")
    os.kill(info["pid"], signal.SIGSTOP)
    try:
        yield info["pid"]
    finally:
        os.kill(info["pid"], signal.SIGCONT)


def add_clusters(count, paths=None):
    """Clusters 2 to ``count`` next to the first one of the running environment, each with its own
    etcd, kube-apiserver, ports, audit log and admin kubeconfig (no controller-manager). Clusters
    that run already are kept. Returns the admin kubeconfigs of clusters 1 to ``count``."""
    paths = paths or Paths(STATE_DIR)
    state = load_state(paths)
    files = state["files"]
    serving = Path(files["serving"])
    serving = KeyPair(serving, serving.with_suffix(".key"))
    admin = Path(files["admin_cert"])
    clusters = state.setdefault("clusters", {})
    for index in range(2, count + 1):
        suffix = f"-{index}"
        if f"cluster{suffix}" in clusters:
            continue
        ports = free_ports(("etcd", "etcd_peer", "apiserver"))
        start(paths, state, "etcd" + suffix, etcd_argv(state["binaries"], paths, ports, suffix))
        wait_until(paths, "etcd" + suffix, etcd_ready(ports))
        start(paths, state, "kube-apiserver" + suffix,
              apiserver_argv(state["binaries"], paths, ports, serving, files["ca"], files["tokens"], suffix))
        wait_until(paths, "kube-apiserver" + suffix, apiserver_ready(ports, files["ca"], admin, admin.with_suffix(".key")))
        config = kubeconfig(paths.conf / f"cluster{suffix}.kubeconfig", f"https://127.0.0.1:{ports['apiserver']}",
                            files["ca"], admin, admin.with_suffix(".key"), "regcred-admin")
        clusters[f"cluster{suffix}"] = {"ports": ports, "kubeconfig": str(config)}
        save_state(paths, state)
        log(f"cluster{suffix} ready: kubeconfig {config}")
    return [files["admin_kubeconfig"]] + [clusters[f"cluster-{i}"]["kubeconfig"] for i in range(2, count + 1)]


def restart(name, paths=None):
    """Start one process again with exactly the argv stored in state.json, record its new PID
    there and wait until it is ready (kube-apiserver: /readyz as admin; etcd: /health). Does
    nothing when it still runs. Returns the PID."""
    paths = paths or Paths(STATE_DIR)
    state = load_state(paths)
    info = state["processes"][name]
    if alive(info["pid"], info["argv"]):
        return info["pid"]
    proc = start(paths, state, name, info["argv"])
    files = state["files"]
    base, index = name.rpartition("-")[::2]
    if index.isdigit():  # a process of cluster N (add_clusters)
        ports = state["clusters"]["cluster-" + index]["ports"]
    else:
        base, ports = name, state["ports"]
    if base == "kube-apiserver":
        admin_cert = Path(files["admin_cert"])
        wait_until(paths, name, apiserver_ready(ports, files["ca"], admin_cert, admin_cert.with_suffix(".key")))
    elif base == "etcd":
        wait_until(paths, name, etcd_ready(ports))
    else:
        began = time.monotonic()
        wait_until(paths, name, lambda: time.monotonic() - began > 2)
    log(f"restarted {name} (pid {proc.pid})")
    return proc.pid


def restart_kubelet(paths=None):
    """Stop the kubelet by its PID and start it again, reading its environment file anew, as
    ``systemctl restart kubelet`` does on a node. Returns the new PID."""
    paths = paths or Paths(STATE_DIR)
    state = load_state(paths)
    if not state or not state.get("node"):
        raise RuntimeError("the local environment has no node: start it with 'scripts/localenv up --node'")
    info = state["processes"]["kubelet"]
    stop_pid(info["pid"], info["argv"])
    node = nodes.NodePaths(paths.base)
    proc = start(paths, state, "kubelet", nodes.kubelet_argv(info["argv"][0], node, state["files"]["node_kubeconfig"]))
    log(f"restarted the kubelet (pid {proc.pid}) with {nodes.FLAGS_VARIABLE} from {node.kubelet_env}")
    return proc.pid


def main(argv):
    paths = Paths(STATE_DIR)
    command = argv[1] if len(argv) > 1 else "help"
    if command == "up":
        paths.base.mkdir(parents=True, exist_ok=True)
        up(paths, with_node="--node" in argv[2:])
        if "--clusters" in argv[2:]:
            add_clusters(int(argv[argv.index("--clusters") + 1]), paths)
    elif command == "down":
        down(paths)
    elif command == "env":
        print(paths.env)
    elif command == "restart-kubelet":
        restart_kubelet(paths)
    elif command == "status":
        return status(paths, with_node="--node" in argv[2:])
    else:
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
