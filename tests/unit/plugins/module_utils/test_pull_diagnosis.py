import datetime

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig
from ansible_collections.regcred.k8s.plugins.module_utils import keyring
from ansible_collections.regcred.k8s.plugins.module_utils import pull_diagnosis as diag
from ansible_collections.regcred.k8s.plugins.module_utils import pull_secret as ps

UTC = datetime.timezone.utc


def ref():
    return keyring.parse_image("127.0.0.1:5000/regcred/hello:v1")


def test_names_keeps_order_and_drops_repeats_and_blanks():
    assert diag.names([{"name": "b"}, {}, {"name": "a"}, {"name": "b"}]) == ["b", "a"]


def test_pod_images_lists_init_containers_first_and_groups_containers():
    pod = {"spec": {"containers": [{"name": "app", "image": "x"}, {"name": "side", "image": "x"}],
                    "initContainers": [{"name": "init", "image": "y"}]}}
    assert diag.pod_images(pod) == [("y", ["init"]), ("x", ["app", "side"])]


def test_listed_by_creator_reads_managed_fields():
    mine = {"metadata": {"managedFields": [{"fieldsV1": {"f:spec": {"f:imagePullSecrets": {}}}}]},
            "spec": {"imagePullSecrets": [{"name": "a"}]}}
    copied = {"metadata": {"managedFields": [{"fieldsV1": {"f:spec": {"f:containers": {}}}}]},
              "spec": {"imagePullSecrets": [{"name": "a"}]}}
    assert diag.listed_by_creator(mine, {"imagePullSecrets": [{"name": "a"}]}) is True
    assert diag.listed_by_creator(copied, {"imagePullSecrets": [{"name": "a"}]}) is False


def test_expiry_prefers_the_record_of_the_key():
    secret = ps.desired_secret("s", "ns", {"a.io": dockerconfig.entry("u", "p")}, [
        {"server": "a.io", "username": "u", "provider": "ecr", "source": "x", "expires_at": "2030-01-01T00:00:00Z"}], {}, {})
    assert diag.expiry(secret, "a.io", "p") == datetime.datetime(2030, 1, 1, tzinfo=UTC)
    assert diag.expiry(secret, "other.io", "not-a-jwt") is None


def report(pull=None, matches=(), secrets=None):
    return {"secrets": secrets if secrets is not None else [{"name": "regcred", "problem": None, "keys": ["quay.io"]}],
            "matches": list(matches), "pull": pull}


def test_verdicts_in_words():
    assert diag.verdict(ref(), report(secrets=[]), "no Secret offered") == "no Secret offered"
    ok = {"ok": True, "secret": "regcred", "key": "127.0.0.1:5000", "digest": "sha256:ab"}
    assert diag.verdict(ref(), report(pull=ok), "") == "will pull with Secret regcred (key 127.0.0.1:5000) — checked: digest sha256:ab"
    assert "no credential matches 127.0.0.1:5000" in diag.verdict(ref(), report(), "")
    assert "keys for quay.io only" in diag.verdict(ref(), report(), "")
    refused = {"ok": False, "errors": [{"secret": "regcred", "key": "k", "status": 401, "code": "UNAUTHORIZED", "message": "m"}]}
    assert diag.verdict(ref(), report(pull=refused), "") == "registry refused the credential from Secret regcred: HTTP 401 UNAUTHORIZED"
    expired = [{"secret": "regcred", "key": "k", "expired": True, "expires_at": "2015-01-01T00:00:00Z"}]
    assert diag.verdict(ref(), report(matches=expired), "") == "token in Secret regcred expired at 2015-01-01T00:00:00Z"


def test_a_secret_the_kubelet_cannot_read_fails_every_pull_whatever_else_matches():
    secrets = [{"name": "good", "problem": None, "keys": ["127.0.0.1:5000"], "rejected": False},
               {"name": "bad", "problem": "the kubelet cannot read Secret bad and so fails every pull of the pod: x",
                "keys": [], "rejected": True}]
    ok = {"ok": True, "secret": "good", "key": "127.0.0.1:5000", "digest": "sha256:ab"}
    assert diag.verdict(ref(), report(pull=ok, secrets=secrets), "") == (
        "will not pull: the kubelet cannot read Secret bad and so fails every pull of the pod: x")


def test_refusal_for_missing_image_and_unreachable_registry():
    missing = {"secret": "s", "status": 404, "code": "MANIFEST_UNKNOWN", "message": "m"}
    assert diag.refusal(ref(), missing, None).startswith("registry has no image regcred/hello:v1 (HTTP 404 MANIFEST_UNKNOWN)")
    html = {"secret": "s", "status": 404, "code": None, "message": "m (unknown)"}
    assert diag.refusal(ref(), html, None) == "registry answered HTTP 404 with Secret s: m (unknown)"
    down = {"secret": "s", "status": None, "code": None, "message": "connection refused"}
    assert diag.refusal(ref(), down, None) == "could not ask the registry with Secret s: connection refused"
