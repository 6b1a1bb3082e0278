from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils.sa_plan import annotation_changes, desired_entries, managed_annotations, names


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


OURS = "regcred.k8s/credential"
THEIRS = "eks.amazonaws.com/role-arn"


def test_present_sets_only_the_keys_given():
    current = {THEIRS: "arn:aws:iam::1:role/x", OURS: "old"}
    assert annotation_changes(current, {OURS: "harbor"}, "present") == {OURS: "harbor"}
    assert annotation_changes(None, {OURS: "harbor"}, "exact") == {OURS: "harbor"}


def test_present_with_the_value_already_set_changes_nothing():
    assert annotation_changes({OURS: "harbor", THEIRS: "r"}, {OURS: "harbor"}, "present") == {}


def test_absent_removes_a_key_only_while_it_has_our_value():
    assert annotation_changes({OURS: "harbor", THEIRS: "r"}, {OURS: "harbor"}, "absent") == {OURS: None}
    assert annotation_changes({OURS: "someone-else"}, {OURS: "harbor"}, "absent") == {}
    assert annotation_changes({THEIRS: "r"}, {OURS: "harbor"}, "absent") == {}
    assert annotation_changes(None, {OURS: "harbor"}, "absent") == {}


def test_managed_annotations_shows_only_the_managed_keys():
    assert managed_annotations({OURS: "harbor", THEIRS: "r"}, [OURS, "other/key"]) == {OURS: "harbor", "other/key": None}
    assert managed_annotations(None, [OURS]) == {OURS: None}


def merged(current, patch):
    """The annotations after a JSON merge patch of them (RFC 7386: null removes a key)."""
    result = dict(current)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


keys = st.sampled_from(["a", "b", "x/c", "x/d"])
values = st.sampled_from(["1", "2", ""])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values), st.dictionaries(keys, values, min_size=1),
       st.sampled_from(["present", "absent", "exact"]))
def test_property_annotations(current, wanted, state):
    patch = annotation_changes(current, wanted, state)
    after = merged(current, patch)
    assert set(patch) <= set(wanted)  # keys not given are never touched
    assert annotation_changes(after, wanted, state) == {}  # idempotent
    assert {k: v for k, v in after.items() if k not in wanted} == {k: v for k, v in current.items() if k not in wanted}
    for key, value in wanted.items():
        if state == "absent":
            assert after.get(key) != value and (key not in current or current[key] == value or after[key] == current[key])
        else:
            assert after[key] == value
