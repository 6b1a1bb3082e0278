"""The raw lower bound, and the resets between benchmark runs: the Python kubernetes client alone.

python raw.py ACTION NAMES_FILE [--secret NAME] [--workers N]

ACTION is one of
  create     one dockerconfigjson Secret per namespace (what every tool under test ends up writing)
  noop       one cluster-wide LIST of the Secret by name, checked against the namespaces: the
             least a rerun can read to know that nothing needs writing
  attach     a merge patch of imagePullSecrets on each namespace's ``default`` ServiceAccount
  delete     delete the Secret in each namespace (404 is fine)
  detach     reset each ``default`` ServiceAccount's imagePullSecrets
  namespaces create the namespaces, then wait until each has its ``default`` ServiceAccount
  drop       delete the namespaces

Requests go out from a thread pool of ``--workers`` threads sharing one connection pool of the
same size, and bodies are not decoded into model classes, so the client does as little as it
can. Prints one JSON line: {"seconds": time spent in the requests, "requests": count}.
"""

import argparse
import base64
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

REGISTRY = "registry.bench.invalid"


def pull_secret(name):
    auth = base64.b64encode(b"bench:bench-password").decode()
    config_json = json.dumps({"auths": {REGISTRY: {"username": "bench", "password": "bench-password", "auth": auth}}})
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": name},
            "data": {".dockerconfigjson": base64.b64encode(config_json.encode()).decode()}}


def core_api(workers):
    cfg = client.Configuration()
    config.load_kube_config(client_configuration=cfg)
    cfg.connection_pool_maxsize = workers
    return client.CoreV1Api(client.ApiClient(cfg))


def ignore_status(status, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ApiException as exc:
        if exc.status != status:
            raise


def each(names, workers, work):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, names))
    return len(names)


def wait_for_default_accounts(api, names):
    wanted = set(names)
    while True:
        listed = api.list_service_account_for_all_namespaces(field_selector="metadata.name=default",
                                                             _preload_content=False)
        have = {item["metadata"]["namespace"] for item in json.loads(listed.data)["items"]}
        if wanted <= have:
            return
        time.sleep(0.5)


def run(action, names, secret, workers):
    """The number of requests ``action`` made."""
    api = core_api(workers)
    raw = {"_preload_content": False}
    if action == "create":
        body = pull_secret(secret)
        return each(names, workers, lambda ns: api.create_namespaced_secret(ns, body, **raw))
    if action == "noop":
        listed = api.list_secret_for_all_namespaces(field_selector="metadata.name=%s" % secret, **raw)
        found = {item["metadata"]["namespace"]: item for item in json.loads(listed.data)["items"]}
        expected = pull_secret(secret)["data"]
        stale = [ns for ns in names if ns not in found or found[ns].get("data") != expected]
        if stale:
            raise SystemExit("noop: %d namespaces lack the Secret, e.g. %s" % (len(stale), stale[0]))
        return 1
    if action == "attach":
        patch = {"imagePullSecrets": [{"name": secret}]}
        return each(names, workers, lambda ns: api.patch_namespaced_service_account("default", ns, patch, **raw))
    if action == "delete":
        return each(names, workers, lambda ns: ignore_status(404, api.delete_namespaced_secret, secret, ns, **raw))
    if action == "detach":
        patch = {"imagePullSecrets": None}
        return each(names, workers, lambda ns: api.patch_namespaced_service_account("default", ns, patch, **raw))
    if action == "namespaces":
        count = each(names, workers, lambda ns: ignore_status(
            409, api.create_namespace, {"metadata": {"name": ns, "labels": {"regcred-bench": "true"}}}, **raw))
        wait_for_default_accounts(api, names)
        return count
    if action == "drop":
        return each(names, workers, lambda ns: ignore_status(404, api.delete_namespace, ns, **raw))
    raise SystemExit("unknown action %r" % action)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action")
    parser.add_argument("names_file")
    parser.add_argument("--secret", default="bench-raw")
    parser.add_argument("--workers", type=int, default=50)
    args = parser.parse_args(argv)
    with open(args.names_file, encoding="utf-8") as handle:
        names = handle.read().split()
    start = time.perf_counter()
    requests = run(args.action, names, args.secret, args.workers)
    print(json.dumps({"seconds": time.perf_counter() - start, "requests": requests}))


if __name__ == "__main__":
    sys.exit(main())
