import ssl

import pytest
import trustme
import urllib3

from ansible_collections.regcred.k8s.plugins.module_utils.kube import DEFAULT_REQUEST_TIMEOUT, READ_ATTEMPTS, Kube, KubeError, core_path
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


@pytest.mark.parametrize("value", [0, -1, 3601])
def test_request_timeout_out_of_range_is_named(value):
    with pytest.raises(KubeError, match="request_timeout: must be more than 0 and at most 3600 seconds"):
        Kube(dict(EXPLICIT, request_timeout=value), "test")


@pytest.mark.parametrize("value, seconds", [(None, DEFAULT_REQUEST_TIMEOUT), (2.5, 2.5)])
def test_every_request_has_a_connect_and_a_read_timeout(value, seconds):
    kube = Kube(dict(EXPLICIT, request_timeout=value), "test")
    timeout = kube.pool.connection_pool_kw["timeout"]
    assert (timeout.connect_timeout, timeout.read_timeout) == (seconds, seconds)


def test_only_reads_are_retried():
    retries = Kube(EXPLICIT, "test").read_retries
    assert retries.allowed_methods == frozenset(["GET"])
    assert (retries.total, retries.connect, retries.read, retries.status) == (READ_ATTEMPTS - 1,) * 3 + (0,)
    assert retries.backoff_factor > 0


def test_a_timeout_names_the_server_and_the_option():
    kube = Kube(dict(EXPLICIT, request_timeout=7), "test")
    cause = urllib3.exceptions.ReadTimeoutError(None, "/api", "Read timed out.")
    error = kube._unreached(urllib3.exceptions.MaxRetryError(None, "/api", cause), kube.read_retries)
    assert error.timed_out and error.status is None and error.fatal
    assert str(error) == ("the Kubernetes API at https://127.0.0.1:6443 (set by host or kubeconfig) timed out: no answer "
                          "within 7 s (3 attempts); request_timeout (or K8S_AUTH_REQUEST_TIMEOUT) sets how long to wait")
    write = kube._unreached(urllib3.exceptions.ConnectTimeoutError(None, "timed out"), False)
    assert write.timed_out and "within 7 s;" in str(write)


def test_after_a_timeout_no_request_waits_again():
    kube = Kube(dict(EXPLICIT, host="https://192.0.2.1:6443"), "test")  # never contacted
    kube.silent = "the Kubernetes API at https://192.0.2.1:6443 (set by host or kubeconfig) timed out"
    for method in ("GET", "PUT"):
        with pytest.raises(KubeError, match="^the Kubernetes API at https://192.0.2.1:6443 .* timed out$") as caught:
            kube.request(method, "/api/v1/namespaces", body={} if method == "PUT" else None)
        assert caught.value.timed_out


def test_an_untrusted_certificate_names_the_apiserver_options():
    kube = Kube(EXPLICIT, "test")
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cause.verify_code, cause.verify_message = 20, "unable to get local issuer certificate"
    error = kube._unreached(urllib3.exceptions.MaxRetryError(None, "/api", urllib3.exceptions.SSLError(cause)), True)
    assert not error.timed_out
    assert "https://127.0.0.1:6443" in str(error) and "unable to get local issuer certificate" in str(error)
    assert "set ca_cert" in str(error) and "validate_certs to false" in str(error)
    assert "ca_path" not in str(error) and "registry_" not in str(error)


@pytest.mark.parametrize("value", [0, -2, 3601])
def test_registry_timeout_out_of_range_is_named(value):
    with pytest.raises(ValueError, match="^registry_timeout: must be more than 0 and at most 3600 seconds"):
        check_registry_tls({"registry_timeout": value, "registry_ca_path": None})


def test_a_certificate_for_another_name_names_host_and_tls_server_name():
    kube = Kube(EXPLICIT, "test")
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cause.verify_code, cause.verify_message = 62, "Hostname mismatch, certificate is not valid for 'x.example'."
    error = kube._unreached(urllib3.exceptions.SSLError(cause), False)
    assert "is not for that name (Hostname mismatch" in str(error)
    assert "host, or the kubeconfig's tls-server-name" in str(error) and "ca_cert" not in str(error)


def test_a_refused_connection_is_no_timeout():
    kube = Kube(EXPLICIT, "test")
    cause = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    error = kube._unreached(urllib3.exceptions.MaxRetryError(None, "/api", cause), kube.read_retries)
    assert not error.timed_out and error.fatal
    assert str(error).startswith("cannot reach the Kubernetes API at https://127.0.0.1:6443 (set by host or kubeconfig): ")
    assert str(error).endswith("Failed to establish a new connection: [Errno 111] Connection refused")
