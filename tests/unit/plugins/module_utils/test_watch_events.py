"""The event source's pure part: options, event shape, LIST/WATCH bookkeeping and backoff."""

import json

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import watch_events
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError


def obj(name, uid, version, namespace=None, labels=None, **extra):
    meta = {"name": name, "uid": uid, "resourceVersion": version, "labels": labels or {}}
    if namespace:
        meta["namespace"] = namespace
    return dict({"metadata": meta}, **extra)


def test_settings_defaults_and_env_fallback(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", "https://127.0.0.1:6443")
    monkeypatch.setenv("K8S_AUTH_REQUEST_TIMEOUT", "7")
    params = watch_events.settings({"eda_feedback_queue": object()})
    assert params["host"] == "https://127.0.0.1:6443"
    assert params["request_timeout"] == 7.0
    assert params["kinds"] == ["Namespace", "ServiceAccount"]
    assert params["watch_timeout"] == 120
    assert params["batch_window"] == 0.0


@pytest.mark.parametrize("args, field", [
    ({"kinds": ["Secret"]}, "kinds"),
    ({"kinds": []}, "kinds"),
    ({"label_selector": " "}, "label_selector"),
    ({"namespace_selector": "team in (a"}, "namespace_selector"),
    ({"watch_timeout": 0}, "watch_timeout"),
    ({"backoff_initial": 60, "backoff_max": 30}, "backoff_initial"),
    ({"watch_timeout": "soon"}, "watch_timeout"),
    ({"batch_window": -1}, "batch_window"),
    ({"no_such_option": 1}, "no_such_option"),
])
def test_bad_settings_name_the_field(args, field):
    with pytest.raises(InputError) as err:
        watch_events.settings(args)
    assert field in str(err.value)


def test_a_bad_option_never_echoes_the_api_key():
    with pytest.raises(InputError) as err:
        watch_events.settings({"api_key": "s3cr3t-token-value", "watch_timeout": "soon"})
    assert "s3cr3t-token-value" not in str(err.value)


def test_queries():
    params = watch_events.settings({"label_selector": "a=b", "namespace_selector": "team=pay", "watch_timeout": 30})
    assert watch_events.list_query("Namespace", params) == {"labelSelector": "a=b,team=pay"}
    assert watch_events.list_query("ServiceAccount", params) == {"labelSelector": "a=b"}
    assert watch_events.watch_query("ServiceAccount", params, "42") == {
        "labelSelector": "a=b", "watch": "1", "allowWatchBookmarks": "true", "resourceVersion": "42",
        "timeoutSeconds": "30"}
    assert watch_events.list_query("Namespace", watch_events.settings({})) == {}


def test_event_is_metadata_only():
    secretish = obj("build", "u1", "5", namespace="team-a", labels={"x": "y"},
                    secrets=[{"name": "tok"}], data={"token": "c2VjcmV0"})
    event = watch_events.event("ServiceAccount", "ADDED", secretish)
    assert event == {"type": "ADDED", "kind": "ServiceAccount", "name": "build", "namespace": "team-a",
                     "labels": {"x": "y"}, "uid": "u1", "resource_version": "5", "listed": False}
    assert "c2VjcmV0" not in json.dumps(event)
    assert watch_events.event("Namespace", "ADDED", obj("team-a", "u2", "6"))["namespace"] == "team-a"


def test_parse_line():
    line = json.dumps({"type": "ADDED", "object": obj("a", "u", "1")}).encode()
    assert watch_events.parse_line(line) == ("ADDED", obj("a", "u", "1"))
    gone = json.dumps({"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}})
    with pytest.raises(watch_events.Gone, match="too old"):
        watch_events.parse_line(gone)
    with pytest.raises(ValueError, match="HTTP 500"):
        watch_events.parse_line(json.dumps({"type": "ERROR", "object": {"code": 500, "message": "boom"}}))
    for bad in (b"{not json", b"[]", b'{"type": "ADDED"}'):
        with pytest.raises(ValueError):
            watch_events.parse_line(bad)


def test_tracker_list_then_watch_then_relist():
    tracker = watch_events.Tracker("Namespace")
    first = tracker.relist({"metadata": {"resourceVersion": "10"}, "items": [obj("a", "ua", "3"), obj("b", "ub", "4")]})
    assert [(e["type"], e["name"], e["listed"]) for e in first] == [("ADDED", "a", True), ("ADDED", "b", True)]
    assert tracker.version == "10"

    assert tracker.apply("BOOKMARK", {"metadata": {"resourceVersion": "12"}}) == []
    assert tracker.version == "12"
    added = tracker.apply("ADDED", obj("c", "uc", "13"))
    assert [(e["type"], e["name"], e["listed"]) for e in added] == [("ADDED", "c", False)]
    assert tracker.version == "13"
    assert [e["type"] for e in tracker.apply("DELETED", obj("a", "ua", "14"))] == ["DELETED"]

    # After 410 Gone: d was added, b changed, c deleted while the watch was away.
    again = tracker.relist({"metadata": {"resourceVersion": "20"},
                            "items": [obj("b", "ub", "15"), obj("d", "ud", "16")]})
    assert sorted((e["type"], e["name"]) for e in again) == [("ADDED", "d"), ("DELETED", "c"), ("MODIFIED", "b")]
    assert tracker.relist({"metadata": {"resourceVersion": "21"},
                           "items": [obj("b", "ub", "15"), obj("d", "ud", "16")]}) == []
    assert tracker.version == "21"


def test_a_recreated_name_is_a_new_object():
    tracker = watch_events.Tracker("Namespace")
    tracker.relist({"metadata": {"resourceVersion": "1"}, "items": [obj("a", "old", "1")]})
    events = tracker.relist({"metadata": {"resourceVersion": "2"}, "items": [obj("a", "new", "2")]})
    assert sorted((e["type"], e["uid"]) for e in events) == [("ADDED", "new"), ("DELETED", "old")]


@pytest.mark.parametrize("attempt, expected", [(0, 1), (1, 1), (2, 2), (3, 4), (5, 16), (6, 30), (1000, 30)])
def test_backoff_doubles_up_to_the_maximum(attempt, expected):
    assert watch_events.backoff(attempt, 1.0, 30.0) == expected
