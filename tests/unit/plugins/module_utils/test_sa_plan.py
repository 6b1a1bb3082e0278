from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils.sa_plan import desired_entries, names


def entries(*items):
    return [{"name": n} for n in items]


def test_present_appends_missing_and_keeps_others_in_order():
    assert names(desired_entries(entries("theirs", "b"), ["a", "b"], "present")) == ["theirs", "b", "a"]


def test_present_removes_duplicates_of_managed_names_only():
    current = entries("a", "x", "a", "x")
    assert names(desired_entries(current, ["a"], "present")) == ["a", "x", "x"]


def test_absent_removes_only_listed_names():
    assert names(desired_entries(entries("a", "theirs", "a"), ["a"], "absent")) == ["theirs"]
    assert desired_entries([], ["a"], "absent") == []


def test_exact_replaces_the_list():
    assert names(desired_entries(entries("theirs"), ["b", "a", "b"], "exact")) == ["b", "a"]


def test_entries_without_a_name_are_kept():
    assert desired_entries([{}], ["a"], "present") == [{}, {"name": "a"}]


lists = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=8)


@settings(max_examples=300, deadline=None)
@given(lists, lists, st.sampled_from(["present", "absent", "exact"]))
def test_property_invariants(current, secrets, state):
    after = names(desired_entries(entries(*current), secrets, state))
    managed = set(secrets)
    assert names(desired_entries(entries(*after), secrets, state)) == after  # idempotent
    for name in managed:
        assert after.count(name) <= 1  # no duplicates of managed names
    if state == "present":
        assert managed <= set(after)
        assert [n for n in current if n not in managed] == [n for n in after if n not in managed]
    if state == "absent":
        assert not managed & set(after)
        assert [n for n in current if n not in managed] == after
    if state == "exact":
        assert after == list(dict.fromkeys(secrets))
