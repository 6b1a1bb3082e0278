import pytest
import trustme

from ansible_collections.regcred.k8s.plugins.module_utils.kube import Kube, KubeError, core_path
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import check_registry_tls

EXPLICIT = {"host": "https://127.0.0.1:6443", "api_key": "token-0123456789"}


@pytest.mark.parametrize("status, fatal", [(None, True), (401, True), (403, False), (404, False), (500, False)])
def test_only_an_unreached_or_unauthenticated_apiserver_is_fatal(status, fatal):
    assert KubeError("x", status).fatal is fatal


@pytest.mark.parametrize("option", ["ca_cert", "client_cert", "client_key"])
def test_a_missing_connection_file_is_named_before_any_request(tmp_path, option):
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(KubeError, match="%s: %s is not a file" % (option, missing)):
        Kube(dict(EXPLICIT, **{option: missing}), "test")


def test_a_proxy_that_is_no_url_is_named():
    with pytest.raises(KubeError, match=r"\(kubeconfig, context, host, proxy\): .*not a url"):
        Kube(dict(EXPLICIT, proxy="not a url"), "test")


def test_registry_ca_path_is_checked_up_front(tmp_path):
    missing = tmp_path / "missing.crt"
    with pytest.raises(ValueError, match="^registry_ca_path: %s cannot be used as a CA file: No such file" % missing):
        check_registry_tls({"registry_ca_path": str(missing)})
    not_pem = tmp_path / "empty.crt"
    not_pem.write_text("not a certificate")
    with pytest.raises(ValueError, match="^registry_ca_path: "):
        check_registry_tls({"registry_ca_path": str(not_pem)})
    check_registry_tls({"registry_ca_path": None})


def test_a_client_certificate_without_its_key_is_named(tmp_path):
    cert_only = tmp_path / "cert.pem"
    trustme.CA().cert_pem.write_to_path(str(cert_only))
    with pytest.raises(KubeError, match="client_cert and client_key: %s cannot be loaded" % cert_only):
        Kube(dict(EXPLICIT, client_cert=str(cert_only)), "test")


def test_impersonated_groups_need_a_user():
    with pytest.raises(KubeError, match="impersonate_groups: needs impersonate_user"):
        Kube(dict(EXPLICIT, impersonate_groups=["auditors"]), "test")
    Kube(dict(EXPLICIT, impersonate_user="alice", impersonate_groups=["auditors"]), "test").close()


@pytest.mark.parametrize("segments, expected", [
    (("namespaces", "team-a", "secrets", "regcred"), "/api/v1/namespaces/team-a/secrets/regcred"),
    (("namespaces", "a/../../namespaces/b", "secrets"), "/api/v1/namespaces/a%2F..%2F..%2Fnamespaces%2Fb/secrets"),
    (("namespaces", "a?b#c d", "secrets"), "/api/v1/namespaces/a%3Fb%23c%20d/secrets"),
])
def test_core_path_escapes_every_segment(segments, expected):
    assert core_path(*segments) == expected
