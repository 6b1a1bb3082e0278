"""Label selectors are parsed before they are sent; a blank one is refused, never sent as 'everything'."""

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils.label_selector import parse_selector
from ansible_collections.regcred.k8s.plugins.module_utils.namespaces import validate


@pytest.mark.parametrize("text, expected", [
    ("team", [("team", "exists", [])]),
    ("!team", [("team", "!", [])]),
    ("team=pay", [("team", "=", ["pay"])]),
    ("team==pay", [("team", "=", ["pay"])]),
    ("team!=pay", [("team", "!=", ["pay"])]),
    ("team=", [("team", "=", [""])]),
    (" team in (a, b ,c) ", [("team", "in", ["a", "b", "c"])]),
    ("team notin (a)", [("team", "notin", ["a"])]),
    ("tier>2,tier<10", [("tier", ">", ["2"]), ("tier", "<", ["10"])]),
    ("example.com/team=pay,env", [("example.com/team", "=", ["pay"]), ("env", "exists", [])]),
    ("runai/queue", [("runai/queue", "exists", [])]),
])
def test_valid_selectors_parse(text, expected):
    assert parse_selector(text, "namespace_selector") == expected


@pytest.mark.parametrize("text", ["", " ", "   ", "\t\n"])
def test_blank_selectors_are_refused_naming_the_field(text):
    with pytest.raises(ValueError, match=r"^service_account_selector: is blank"):
        parse_selector(text, "service_account_selector")


@pytest.mark.parametrize("text, fragment", [
    ("team=pay,", "expected a label key"),
    (",team", "expected a label key"),
    ("team pay", "expected an operator"),
    ("team=pay=x", "expected ','"),
    ("team in a", "expected '('"),
    ("team in ()", "needs at least one value"),
    ("team in (a", "expected ',' or ')'"),
    ("team>x", "needs a whole number"),
    ("-team=a", "not a valid label key"),
    ("team=-a", "not a valid label value"),
    ("team=" + "a" * 64, "not a valid label value"),
    ("a" * 64, "not a valid label key"),
    ("/team", "not a valid label key"),
    ("Bad_Prefix/team", "not a valid label key"),
    ("team\n", None),  # a trailing newline is white space to the apiserver: valid
])
def test_malformed_selectors_fail_before_any_request(text, fragment):
    if fragment is None:
        assert parse_selector(text, "namespace_selector") == [("team", "exists", [])]
        return
    with pytest.raises(ValueError) as raised:
        parse_selector(text, "namespace_selector")
    assert str(raised.value).startswith("namespace_selector: ")
    assert fragment in str(raised.value)


def test_namespace_validation_refuses_a_blank_selector_before_any_other_check():
    with pytest.raises(ValueError, match="^namespace_selector: is blank"):
        validate({"namespace_selector": "  ", "exclude_namespaces": []})
