import datetime
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils.duration import parse_duration
from ansible_collections.regcred.k8s.plugins.module_utils.names import (
    check_annotations, check_dns_label, check_dns_subdomain, check_labels, check_metadata_keys, check_secret_size)


@pytest.mark.parametrize("value,seconds", [
    (90, 90), ("90", 90), ("45s", 45), ("30m", 1800), ("2h", 7200), ("1h30m", 5400),
    ("1d", 86400), (" 2H ", 7200), (0, 0)])
def test_parse_duration(value, seconds):
    assert parse_duration(value, "refresh_before") == datetime.timedelta(seconds=seconds)


@pytest.mark.parametrize("value,message", [
    ("-5m", "must not be negative"), (-1, "must not be negative"), ("soon", "is not a duration"),
    ("2 hours", "is not a duration"), ("1.5h", "is not a duration"), (True, "is not a duration"),
    ("99999d", "at most"), ("h", "is not a duration")])
def test_parse_duration_errors_name_the_field(value, message):
    with pytest.raises(ValueError, match=message) as exc:
        parse_duration(value, "refresh_before")
    assert str(exc.value).startswith("refresh_before:")


@given(st.text(max_size=50))
def test_property_parse_duration_never_crashes(text):
    try:
        assert parse_duration(text, "f") >= datetime.timedelta(0)
    except ValueError as exc:
        assert str(exc).startswith("f:")


@pytest.mark.parametrize("name", ["a", "team-a", "x" * 63, "0abc"])
def test_valid_namespace_names(name):
    assert check_dns_label(name, "namespace") == name


@pytest.mark.parametrize("name", ["", "A", "team_a", "-a", "a-", "x" * 64, "a.b", None, "team-a\n"])
def test_invalid_namespace_names(name):
    with pytest.raises(ValueError, match="^namespaces\\[0\\]: .* not a valid namespace name"):
        check_dns_label(name, "namespaces[0]")


@pytest.mark.parametrize("name,ok", [("regcred", True), ("a.b-c", True), ("Regcred", False),
                                     ("a..b", False), ("x" * 254, False), ("a_b", False),
                                     ("regcred\n", False), ("a.b\n", False)])
def test_secret_names(name, ok):
    if ok:
        assert check_dns_subdomain(name, "name") == name
    else:
        with pytest.raises(ValueError, match="^name: "):
            check_dns_subdomain(name, "name")


def test_metadata_keys():
    check_metadata_keys({"runai/cluster-wide": "true", "app.kubernetes.io/name": "x", "a": ""}, "labels")
    with pytest.raises(ValueError, match="labels: 'bad key' is not a valid key"):
        check_metadata_keys({"bad key": "x"}, "labels")
    with pytest.raises(ValueError, match=r"labels\[a\]: values must be strings"):
        check_metadata_keys({"a": True}, "labels")
    for key in ("a\n", "example.com\n/a", 5):
        with pytest.raises(ValueError, match="labels: .* is not a valid key"):
            check_metadata_keys({key: "x"}, "labels")


@pytest.mark.parametrize("value", ["", "a", "A.b_c-9", "x" * 63])
def test_valid_label_values(value):
    assert check_labels({"team": value}, "labels") == {"team": value}


@pytest.mark.parametrize("value", ["a b", "x" * 64, "a\n", "-a", "a-", ".a", "a/b", "ä"])
def test_invalid_label_values_name_the_label(value):
    with pytest.raises(ValueError, match=r"^labels\[team\]: .* is not a valid label value"):
        check_labels({"team": value}, "labels")


def test_annotations_total_size_is_that_of_the_apiserver():
    at_limit = {"a": "x" * (256 * 1024 - 1)}
    assert check_annotations(at_limit, "annotations") == at_limit
    with pytest.raises(ValueError, match=r"^annotations: 262145 bytes in all"):
        check_annotations({"a": "x" * (256 * 1024)}, "annotations")
    with pytest.raises(ValueError, match=r"^annotations: 262145 bytes"):  # 262144 characters, but bytes count
        check_annotations({"a": "x" * (256 * 1024 - 2) + "é"}, "annotations")


def test_secret_size_is_that_of_the_apiserver():
    check_secret_size(1024 * 1024, "registries")
    with pytest.raises(ValueError, match=r"^registries: the Secret's data would be 1048577 bytes"):
        check_secret_size(1024 * 1024 + 1, "registries")


@pytest.mark.parametrize("value", ["²", "١٢", "1²h"])
def test_parse_duration_accepts_only_ascii_digits(value):
    with pytest.raises(ValueError, match="^refresh_before: "):
        parse_duration(value, "refresh_before")


@pytest.mark.parametrize("check,value,field", [
    (check_dns_label, "team-a\n", "namespaces[0]"), (check_dns_subdomain, "regcred\n", "name"),
    (check_dns_subdomain, "a.b\n", "secrets[0]")])
def test_names_ending_in_a_newline_are_refused(check, value, field):
    with pytest.raises(ValueError, match="^%s: " % re.escape(field)):
        check(value, field)


def test_metadata_key_ending_in_a_newline_is_refused():
    with pytest.raises(ValueError, match="labels: 'team\\\\n' is not a valid key"):
        check_metadata_keys({"team\n": "a"}, "labels")
