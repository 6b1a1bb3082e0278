import pytest

from ansible_collections.regcred.k8s.plugins.module_utils.namespaces import choose, list_query, validate


def ns(name, phase="Active"):
    return {"metadata": {"name": name}, "status": {"phase": phase}}


def test_choose_all_minus_excluded_and_terminating():
    sel = choose([ns("b"), ns("a"), ns("kube-system"), ns("gone", "Terminating")], None, ["kube-system"])
    assert sel.names == ["a", "b"]
    assert sel.skipped == {"kube-system": "excluded by exclude_namespaces", "gone": "namespace is terminating"}
    assert sel.missing == []


def test_choose_listed_reports_missing_and_drops_repeats():
    sel = choose([ns("a"), ns("b")], ["b", "zz", "b"], [])
    assert sel.names == ["b"]
    assert sel.missing == ["zz"]


def test_choose_without_list_permission_trusts_the_list():
    assert choose(None, ["x", "y"], ["y"]).names == ["x"]


def test_choose_selector_matching_nothing_is_an_error():
    with pytest.raises(ValueError, match="namespace_selector 'team=none' matches no namespace"):
        choose([], None, [], "team=none")


@pytest.mark.parametrize("params,message", [
    ({}, "one of namespace, namespaces, namespace_selector or all_namespaces is required"),
    ({"namespaces": []}, "namespaces: must list at least one namespace"),
    ({"namespaces": ["ok", "Not_OK"]}, r"namespaces\[1\]: 'Not_OK'"),
    ({"namespace": "UPPER"}, "namespace: 'UPPER'"),
    ({"all_namespaces": True, "exclude_namespaces": ["bad name"]}, r"exclude_namespaces\[0\]"),
])
def test_validate_names_the_field(params, message):
    with pytest.raises(ValueError, match=message):
        validate(params)


def test_validate_returns_the_listed_namespaces():
    assert validate({"namespaces": ["a", "b"]}) == ["a", "b"]
    assert validate({"namespace": "a"}) == ["a"]
    assert validate({"all_namespaces": True}) is None


@pytest.mark.parametrize("params, query", [
    ({"namespace": "a"}, {"fieldSelector": "metadata.name=a"}),
    ({"namespaces": ["a", "a"]}, {"fieldSelector": "metadata.name=a"}),
    ({"namespaces": ["a", "b"]}, {}),
    ({"all_namespaces": True}, {}),
    ({"namespace_selector": "team=a"}, {"labelSelector": "team=a"}),
])
def test_one_listed_namespace_is_listed_by_name(params, query):
    assert list_query(params, validate(params)) == query
