import json

import pytest
from ansible.module_utils._internal import _traceback
from ansible.module_utils.testing import patch_module_args

from ansible_collections.regcred.k8s.plugins.module_utils import module as shell
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.k8s_auth_spec import AUTH_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.namespaces import NAMESPACE_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.reconcile import RUN_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.redaction import MASK
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import REGISTRY_TLS_ARG_SPEC

OWN = {"name": dict(type="str", required=True), "secret": dict(type="str", no_log=True)}


def test_merged_spec_adds_only_the_shared_sets_asked_for():
    assert shell.merged_spec(OWN, kube=False) == OWN
    full = shell.merged_spec(OWN, kube=True, namespaces=True, run_options=True, registry_tls=True)
    for shared in (OWN, AUTH_ARG_SPEC, NAMESPACE_ARG_SPEC, RUN_ARG_SPEC, REGISTRY_TLS_ARG_SPEC):
        assert all(full[name] == spec for name, spec in shared.items())
    assert set(full) == set(OWN) | set(AUTH_ARG_SPEC) | set(NAMESPACE_ARG_SPEC) | set(RUN_ARG_SPEC) | \
        set(REGISTRY_TLS_ARG_SPEC)
    assert "registry_timeout" not in shell.merged_spec(OWN, kube=True)


@pytest.mark.parametrize("params, message", [
    ({"parallel": 0}, "parallel: must be between 1 and 100"),
    ({"parallel": 101}, "parallel: must be between 1 and 100"),
    ({"registry_timeout": 0, "registry_ca_path": None}, "registry_timeout: must be more than 0"),
    ({"registry_timeout": 10, "registry_ca_path": "/nonexistent/ca.pem"}, "registry_ca_path: /nonexistent/ca.pem"),
])
def test_shared_range_checks_name_the_option(params, message):
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(")):
        shell.check_shared(params)


def test_shared_range_checks_accept_the_bounds_and_absent_options():
    shell.check_shared({"parallel": 1})
    shell.check_shared({"parallel": 100, "registry_timeout": 3600, "registry_ca_path": None})
    shell.check_shared({})


def leaky(secret):
    config = json.dumps({"auths": {"a.io": {"password": "from-a-file", "auth": "c2VjcmV0"}}})
    raise KeyError("token %s in %s" % (secret, config))


def test_bug_report_has_the_traceback_without_secrets():
    with pytest.raises(KeyError) as caught:
        leaky("hunter2-api-key")
    msg, trace = shell.bug_report(caught.value, {"hunter2-api-key"})
    assert msg.startswith("unexpected error, please report it with the traceback (exception): KeyError: ")
    assert "in leaky" in trace and "Traceback (most recent call last)" in trace
    for text in (msg, trace):
        assert "hunter2-api-key" not in text and "from-a-file" not in text and "c2VjcmV0" not in text
        assert MASK in text


def run_module(capsys, args, check, execute, **options):
    with patch_module_args(args), pytest.raises(SystemExit) as ended:
        shell.RegcredModule("test_module", OWN, **options).run(check, execute)
    return ended.value.code, json.loads(capsys.readouterr().out)


def test_a_regcred_error_fails_the_task_with_its_message_only(capsys):
    def execute(kube, checked):
        raise InputError("name", "is taken")
    code, out = run_module(capsys, {"name": "x"}, lambda params: None, execute, kube=False)
    assert code == 1 and out["failed"] and out["msg"] == "name: is taken"


def test_a_regcred_error_traceback_is_scrubbed_too(capsys, tracebacks):
    def execute(kube, checked):
        raise KubeError('refused %s for {"password": "from-a-file"}' % kube_args["secret"])
    kube_args = {"name": "x", "secret": "hunter2-task-password"}
    code, out = run_module(capsys, kube_args, lambda params: None, execute, kube=False)
    assert "KubeError" in out["exception"]
    assert "hunter2-task-password" not in json.dumps(out) and "from-a-file" not in out["exception"]


def test_an_input_error_from_the_checks_fails_before_execute(capsys):
    ran = []

    def check(params):
        raise InputError("name", "must be lower case")
    code, out = run_module(capsys, {"name": "X"}, check, lambda kube, checked: ran.append(1), kube=False)
    assert out["msg"] == "name: must be lower case" and ran == []


def test_the_shared_checks_run_before_the_module_checks(capsys):
    code, out = run_module(capsys, {"name": "x", "parallel": 0}, lambda params: 1 / 0,
                           lambda kube, checked: None, kube=False, run_options=True)
    assert out["msg"] == "parallel: must be between 1 and 100"


def test_failure_results_go_with_the_failure(capsys):
    def execute(kube, checked):
        module_ref[0].failure_results = lambda: {"namespaces": {"a": {"result": "failed"}}}
        raise KubeError("forbidden (HTTP 403)", 403)
    module_ref = []
    with patch_module_args({"name": "x"}), pytest.raises(SystemExit):
        module_ref.append(shell.RegcredModule("test_module", OWN, kube=False))
        module_ref[0].run(lambda params: None, execute)
    out = json.loads(capsys.readouterr().out)
    assert out["msg"] == "forbidden (HTTP 403)" and out["namespaces"] == {"a": {"result": "failed"}}


@pytest.fixture(name="tracebacks")
def tracebacks_fixture(monkeypatch):
    """Ansible asks for tracebacks of errors (ANSIBLE_DISPLAY_TRACEBACK=error)."""
    monkeypatch.setattr(_traceback, "is_traceback_enabled", lambda event: True)


def test_a_bug_is_reported_with_a_scrubbed_traceback(capsys, tracebacks):
    def execute(kube, checked):
        leaky(kube_args["secret"])
    kube_args = {"name": "x", "secret": "hunter2-task-password"}
    code, out = run_module(capsys, kube_args, lambda params: "checked", execute, kube=False)
    assert code == 1 and out["msg"].startswith("unexpected error, please report it with the traceback")
    assert "KeyError" in out["msg"] and "in leaky" in out["exception"]
    text = json.dumps(out)
    assert "hunter2-task-password" not in text and "from-a-file" not in text


def test_execute_gets_what_the_checks_returned(capsys):
    seen = []

    def execute(kube, checked):
        seen.append((kube, checked))
        module_ref[0].exit_json(changed=False)
    module_ref = []
    with patch_module_args({"name": "x"}), pytest.raises(SystemExit) as ended:
        module_ref.append(shell.RegcredModule("test_module", OWN, kube=False))
        module_ref[0].run(lambda params: params["name"] * 2, execute)
    assert ended.value.code == 0 and seen == [(None, "xx")]
