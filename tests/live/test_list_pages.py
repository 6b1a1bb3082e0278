"""Cluster-wide LISTs are read in pages (limit and continue) and still return every object.

The modules use kube.PAGE_SIZE (500); here the same reads run with a page of 3, so a handful of
namespaces spans several pages."""

import uuid

import testenv

from ansible_collections.regcred.k8s.plugins.module_utils import namespaces
from ansible_collections.regcred.k8s.plugins.module_utils.kube import Kube
from ansible_collections.regcred.k8s.plugins.module_utils.secret_store import SecretStore

AGENT = "regcred-live-tests (list pages)"  # not the modules' agent, so AuditLog counts leave it out
COUNT, PAGE = 7, 3


def test_a_list_over_more_objects_than_a_page_returns_all_of_them(env, admin, make_namespace):
    label = "pages-%s" % uuid.uuid4().hex[:8]
    names = sorted(make_namespace("pages", labels={"regcred-pages": label}) for index in range(COUNT))
    secret = "paged-%s" % label
    for name in names:
        admin.create_namespaced_secret(name, {"metadata": {"name": secret}, "stringData": {"k": "v"}})
    kube = Kube({"kubeconfig": env["KUBECONFIG"]}, AGENT, page_size=PAGE)
    try:
        audit = testenv.AuditLog(env)
        selected = namespaces.select(kube, {"namespace_selector": "regcred-pages=%s" % label})
        found, errors = SecretStore(kube, secret, parallel=4).read_many(names)
    finally:
        kube.close()
    assert selected.names == names
    assert errors == {}
    assert sorted(ns for ns, item in found.items() if item and item["metadata"]["name"] == secret) == names
    events = audit.events(AGENT)
    lists = [e for e in events if e["verb"] == "list"]
    assert len(lists) == len(events)
    namespace_pages = [e for e in lists if e["objectRef"]["resource"] == "namespaces"]
    # ceil(7 / 3) pages of the labelled namespaces; the Secrets by name span at least as many
    assert len(namespace_pages) == -(-COUNT // PAGE)
    assert len(lists) - len(namespace_pages) >= -(-COUNT // PAGE)
    assert all("limit=%d" % PAGE in e["requestURI"] for e in lists)
