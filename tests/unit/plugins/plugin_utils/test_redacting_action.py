from ansible_collections.regcred.k8s.plugins.module_utils.redaction import MASK, redact
from ansible_collections.regcred.k8s.plugins.plugin_utils.redacting_action import (
    SECRET_OPTIONS, registries_problem, secret_values)


def test_secret_options_come_from_the_argument_specs():
    assert {"password", "client_secret", "secret_key", "session_token", "service_account_key",
            "content", "api_key"} <= SECRET_OPTIONS
    assert "username" not in SECRET_OPTIONS and "server" not in SECRET_OPTIONS


def test_secret_values_walks_nested_registries():
    args = {"name": "x", "api_key": "k8s-token-value", "registries": [
        {"provider": "basic", "username": "u", "password": "p4ssw0rd-value"},
        {"provider": "gcr", "service_account_key": {"private_key": "-----BEGIN-----\nABCDEFGHIJ\n"}}]}
    found = secret_values(args)
    assert {"k8s-token-value", "p4ssw0rd-value"} <= found
    assert any("ABCDEFGHIJ" in v for v in found)
    assert "u" not in found and "x" not in found


def test_redact_masks_values_their_escaped_forms_and_credential_fields():
    text = ("done with _execute_module (m, {'password': 'p4ss\\nword'}) "
            '{"auths": {"a.io": {"auth": "dTpw", "password": "minted-token"}}}')
    out = redact(text, {"p4ss\nword"})
    assert "p4ss" not in out and "dTpw" not in out and "minted-token" not in out
    assert out.count(MASK) == 3


def test_registries_problem_names_the_entry_that_is_no_dictionary_without_showing_it():
    problem = registries_problem({"registries": [{"provider": "basic"}, "secret-looking-0123456789"]})
    assert problem.startswith("registries[1]: ") and "secret-looking" not in problem
    assert registries_problem({"registries": "registry.example.com"}).startswith("registries[0]: ")


def test_registries_problem_leaves_what_ansible_converts_or_reports_itself():
    assert registries_problem({"registries": [{"provider": "basic"}, "provider=basic server=a.io"]}) is None
    assert registries_problem({"registries": [42]}) is None
    assert registries_problem({"name": "x"}) is None


def test_secret_values_of_an_inline_kubeconfig_are_its_long_strings():
    token, key = "t0ken-" + "x" * 20, "LS0tLS1CRUdJTi" + "k" * 30
    kubeconfig = {"apiVersion": "v1", "kind": "Config",
                  "users": [{"name": "me", "user": {"token": token, "client-key-data": key}}]}
    found = secret_values({"name": "regcred", "kubeconfig": kubeconfig})
    assert {token, key} <= found
    assert not {"v1", "Config", "me", "regcred"} & found
    text = redact("args: %r" % {"kubeconfig": kubeconfig}, found)
    assert token not in text and key not in text and "'v1'" in text
