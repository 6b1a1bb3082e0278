"""Leak scan: run the modules' scenarios at -vvvv and with ANSIBLE_DEBUG, in normal, check and
diff mode, and on failure paths; then search everything Ansible printed, every result and every
file written for each secret used, in plain and encoded forms. Zero hits allowed.

Writes tests/output/reliability/leak-scan.json (bytes scanned, secrets searched) for the summary.
"""

import base64
import json
import secrets
from pathlib import Path

import pytest
import yaml

import testenv

OUT = Path(__file__).resolve().parents[1] / "output" / "reliability"
STATS = {"runs": 0, "bytes": 0, "hits": []}
MODES = {
    "vvvv": {"verbosity": 4},
    "check-diff": {"verbosity": 4, "check": True, "diff": True},
    "debug": {"extra_env": {"ANSIBLE_DEBUG": "1"}, "diff": True},
}


def inline_kubeconfigs(env):
    """The admin kubeconfig given inline twice, as a playbook may template it: once with the admin's
    token, once with the client certificate and key as data. Returns (token form, key form, secrets)."""
    config = yaml.safe_load(Path(env["KUBECONFIG"]).read_text())
    user = config["users"][0]["user"]
    cluster = config["clusters"][0]["cluster"]
    key_pem = Path(user["client-key"]).read_text()

    def inline(credentials):
        data = dict(cluster, **{"certificate-authority-data": base64.b64encode(
            Path(cluster["certificate-authority"]).read_bytes()).decode()})
        data.pop("certificate-authority")
        return {"apiVersion": "v1", "kind": "Config", "current-context": "inline",
                "clusters": [{"name": "inline", "cluster": data}],
                "users": [{"name": "inline", "user": credentials}],
                "contexts": [{"name": "inline", "context": {"cluster": "inline", "user": "inline"}}]}

    with_token = inline({"token": env["REGCRED_ADMIN_TOKEN"]})
    key_data = base64.b64encode(key_pem.encode()).decode()
    with_key = inline({"client-certificate-data": base64.b64encode(Path(user["client-certificate"]).read_bytes()).decode(),
                       "client-key-data": key_data})
    key_lines = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    return with_token, with_key, {env["REGCRED_ADMIN_TOKEN"], key_data, key_lines[1]}


def scenarios(env, namespace):
    user, password = env["REGCRED_REGISTRY_USER"], env["REGCRED_REGISTRY_PASSWORD"]
    hub_password = "hub-" + secrets.token_urlsafe(16)
    inline_password = "inline-" + secrets.token_urlsafe(16)
    aws_secret = "aws-" + secrets.token_urlsafe(24)
    key_text = Path(env["REGCRED_GCP_KEY_FILE"]).read_text()
    gcp_private_key = json.loads(key_text)["private_key"]
    basic = [{"provider": "basic", "server": env[k], "username": user, "password": password}
             for k in ("REGCRED_REGISTRY_BASIC", "REGCRED_REGISTRY_BEARER")]
    inline = json.dumps({"auths": {"quay.io": {"auth": base64.b64encode(f"robot:{inline_password}".encode()).decode()}}})
    plain = {password, hub_password, inline_password, aws_secret, env["REGCRED_AZURE_CLIENT_SECRET"],
             f"{user}:{password}", f"robot:{inline_password}", f"ci-bot:{hub_password}", key_text.strip(),
             gcp_private_key.split("\n")[1]}
    acr = {"provider": "acr", "server": env["REGCRED_AZURE_REGISTRY"], "auth": "token_exchange",
           "tenant_id": env["REGCRED_AZURE_TENANT_ID"], "client_id": env["REGCRED_AZURE_CLIENT_ID"],
           "client_secret": env["REGCRED_AZURE_CLIENT_SECRET"], "authority_host": env["REGCRED_AZURE_AUTHORITY"]}
    with_token, with_key, connection_secrets = inline_kubeconfigs(env)
    plain |= connection_secrets
    # The connection's own secrets: a password the apiserver ignores (the task fails as anonymous),
    # and proxy credentials for a proxy that is not there (the task fails to connect).
    kube_password, proxy_password = "kube-" + secrets.token_urlsafe(16), "proxy-" + secrets.token_urlsafe(16)
    plain |= {kube_password, proxy_password, f"alice:{kube_password}", f"proxy-user:{proxy_password}"}
    apiserver = {"host": env["REGCRED_KUBE_HOST"], "ca_cert": env["REGCRED_KUBE_CA"]}
    module = "regcred.k8s.registry_pull_secret"
    cases = {
        "basic-verified": (module, {"name": "leak-basic", "namespace": namespace, "registries": basic, "verify": True,
                                    "registry_ca_path": env["REGCRED_REGISTRY_CA"]}),
        "dockerhub-and-inline": (module, {"name": "leak-mixed", "namespace": namespace, "registries": [
            {"provider": "dockerhub", "username": "ci-bot", "password": hub_password},
            {"provider": "docker_config", "content": inline}]}),
        "gcr-key-and-token": (module, {"name": "leak-gcr", "namespace": namespace, "refresh_before": "2h", "registries": [
            {"provider": "gcr", "server": "gcr.io", "auth": "json_key", "service_account_key_file": env["REGCRED_GCP_KEY_FILE"]},
            {"provider": "gcr", "server": "europe-docker.pkg.dev", "auth": "access_token",
             "service_account_key": key_text}]}),
        "ecr": (module, {"name": "leak-ecr", "namespace": namespace, "registries": [
            {"provider": "ecr", "region": env["REGCRED_AWS_REGION"], "registry_ids": ["123456789012"],
             "access_key": "AKIALEAKSCAN", "secret_key": aws_secret, "host_forms": ["standard", "dualstack"]}]}),
        # The ECR Public emulator checks the signature, so this secret is refused: the refusal must not show it.
        "failure-ecr-public-signature": (module, {"name": "leak-ecr-public", "namespace": namespace, "registries": [
            {"provider": "ecr_public", "access_key": env["REGCRED_AWS_ACCESS_KEY_ID"], "secret_key": aws_secret,
             "endpoint_url": env["AWS_ENDPOINT_URL_ECR_PUBLIC"]}]}),
        "acr-exchange": (module, {"name": "leak-acr", "namespace": namespace, "refresh_before": "4h",
                                  "registry_ca_path": env["REGCRED_AZURE_CA"], "verify": True, "registries": [acr]}),
        "failure-wrong-password": (module, {"name": "leak-fail", "namespace": namespace, "verify": True,
                                            "registry_ca_path": env["REGCRED_REGISTRY_CA"],
                                            "registries": [dict(basic[1], password=password + "-wrong")]}),
        "failure-wrong-client-secret": (module, {"name": "leak-fail2", "namespace": namespace, "registry_ca_path":
                                                 env["REGCRED_AZURE_CA"], "registries": [
                                                     dict(acr, client_secret=env["REGCRED_AZURE_CLIENT_SECRET"] + "x")]}),
        "absent": (module, {"name": "leak-basic", "namespace": namespace, "state": "absent"}),
        "attach-to-service-account": ("regcred.k8s.sa_image_pull_secrets",
                                      {"namespace": namespace, "secrets": ["leak-mixed"]}),
        "inline-kubeconfig-with-token": (module, {"name": "leak-inline", "namespace": namespace, "kubeconfig": with_token,
                                                  "registries": [basic[0]]}),
        "inline-kubeconfig-with-key": ("regcred.k8s.sa_image_pull_secrets", {
            "namespace": namespace, "secrets": ["leak-inline"], "kubeconfig": with_key}),
        "inline-kubeconfig-failure": (module, {"name": "leak-inline", "namespace": "leak-no-such-namespace",
                                               "kubeconfig": with_token, "registries": [basic[0]]}),
        "failure-kube-basic-auth": (module, dict(apiserver, name="leak-basic-auth", namespace=namespace,
                                                 username="alice", password=kube_password, registries=[basic[0]])),
        "failure-kube-proxy-headers": (module, dict(
            apiserver, name="leak-proxy", namespace=namespace, api_key=env["REGCRED_ADMIN_TOKEN"], registries=[basic[0]],
            proxy="http://127.0.0.1:9", request_timeout=5,
            proxy_headers={"proxy_basic_auth": f"proxy-user:{proxy_password}", "basic_auth": f"alice:{kube_password}"})),
        "credentials-to-auth-file": ("regcred.k8s.registry_credentials", {
            "return_secrets": False, "dest": "DEST", "registries": basic + [
                {"provider": "dockerhub", "username": "ci-bot", "password": hub_password}]}),
        "credentials-returned-with-no-log": ("regcred.k8s.registry_credentials", {
            "registries": [{"provider": "acr", **{k: v for k, v in acr.items() if k != "provider"}}],
            "registry_ca_path": env["REGCRED_AZURE_CA"]}, {"no_log": True}),
        "credentials-refused-without-no-log": ("regcred.k8s.registry_credentials", {"registries": basic}),
    }
    plain.add(password + "-wrong")
    plain.add(env["REGCRED_AZURE_CLIENT_SECRET"] + "x")
    return cases, plain


def payloads(admin, namespace):
    """Every .dockerconfigjson stored in the namespace, as base64 and decoded."""
    found = set()
    for secret in admin.list_namespaced_secret(namespace).items:
        data = (secret.data or {}).get(".dockerconfigjson")
        if data:
            found.add(data)
            decoded = base64.b64decode(data).decode()
            found.add(decoded)
            for entry in json.loads(decoded)["auths"].values():
                found.update({entry["auth"], entry["password"]})
    return found


def scan(texts, needles):
    return [(name, needle[:6] + "...") for name, text in texts for needle in needles if needle in text]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_no_secret_in_any_output(env, admin, make_namespace, tmp_path, mode):
    namespace = make_namespace("leak")
    cases, plain = scenarios(env, namespace)
    issued_before = set(Path(env["REGCRED_ISSUED_TOKENS"]).read_text().split())
    tasks = {}
    for name, (module, args, *keywords) in cases.items():
        if args.get("dest") == "DEST":
            args = dict(args, dest=str(testenv.workdir(tmp_path, name) / "auth.json"))
        tasks[name] = (module, args, *keywords)
    extra = dict(MODES[mode].get("extra_env", {}), AWS_ENDPOINT_URL_ECR=env["AWS_ENDPOINT_URL_ECR"])
    # The scenarios in their order as tasks of one play: later ones use what earlier ones wrote.
    runs = testenv.run_tasks(env, tasks, tmp_path, **dict(MODES[mode], extra_env=extra))
    run = next(iter(runs.values()))
    texts = [(f"{mode}/stdout", run.play_stdout), (f"{mode}/stderr", run.stderr)]
    # Every result but that of the no_log task that asked for the credentials, and every file the
    # run wrote, but the input (play.yml), the auth files that hold the credentials by design and
    # the results, just read.
    texts += [(f"{mode}/{name}/result", json.dumps(runs[name].result)) for name, case in cases.items()
              if not case[2:] or not case[2].get("no_log")]
    texts += [(f"{mode}/{p.relative_to(tmp_path)}", p.read_text(errors="replace"))
              for p in tmp_path.rglob("*") if p.is_file() and p.name not in {"play.yml", "auth.json", "result.json"}]
    STATS["runs"] += len(runs)
    assert any(cases) and texts
    issued = set(Path(env["REGCRED_ISSUED_TOKENS"]).read_text().split()) - issued_before
    assert issued, "the scenarios should have made the local endpoints issue tokens"
    needles = set()
    for value in plain | issued | payloads(admin, namespace):
        needles |= testenv.secret_forms(value)
    hits = scan(texts, needles)
    STATS["bytes"] += sum(len(text.encode()) for name, text in texts)
    STATS["secrets"] = STATS.get("secrets", 0) + len(needles)
    STATS["hits"] += hits
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "leak-scan.json").write_text(json.dumps(
        {"runs": STATS["runs"], "bytes_scanned": STATS["bytes"], "secrets_searched": STATS["secrets"],
         "hits": len(STATS["hits"])}, indent=2))
    assert not hits, hits
