"""Batches of the event source: a lone namespace goes at once, a burst goes as few events."""

from ansible_collections.regcred.k8s.plugins.module_utils.event_batches import Batcher


def ev(name, kind="Namespace", event_type="ADDED"):
    return {"type": event_type, "kind": kind, "name": name, "namespace": name if kind == "Namespace" else "team"}


def names(events):
    return [[item["name"] for item in event["batch"]] for event in events]


def test_without_a_window_every_event_goes_at_once_as_it_is():
    batcher = Batcher(0)
    assert batcher.add(ev("a"), 0.0) == [ev("a")]
    assert batcher.add(ev("b"), 0.1) == [ev("b")]
    assert batcher.due(100.0) == [] and batcher.next_due() is None


def test_a_lone_namespace_goes_at_once_as_a_batch_of_one():
    batcher = Batcher(2.0)
    (event,) = batcher.add(ev("a"), 10.0)
    assert event == dict(ev("a"), batch=[ev("a")])
    assert batcher.next_due() is None
    # Long after the window closed, the next one goes at once too.
    assert names(batcher.add(ev("b"), 12.5)) == [["b"]]


def test_a_burst_goes_as_the_first_event_then_one_batch_per_window():
    batcher = Batcher(2.0)
    assert names(batcher.add(ev("a"), 0.0)) == [["a"]]
    for index, name in enumerate("bcd"):
        assert batcher.add(ev(name), 0.5 + index * 0.5) == []
    assert batcher.next_due() == 2.0
    assert batcher.due(1.9) == []
    (held,) = batcher.due(2.0)
    assert names([held]) == [["b", "c", "d"]]
    assert {key: held[key] for key in ("type", "kind", "name", "namespace")} == ev("b")
    # The batch opened a new window: the next event is held until it closes.
    assert batcher.add(ev("e"), 2.5) == [] and batcher.next_due() == 4.0
    assert names(batcher.due(4.0)) == [["e"]]
    assert batcher.due(6.0) == [] and names(batcher.add(ev("f"), 6.0)) == [["f"]]


def test_types_are_batched_apart_and_service_accounts_never():
    batcher = Batcher(2.0)
    batcher.add(ev("a"), 0.0)
    assert batcher.add(ev("b"), 0.1) == []
    assert names(batcher.add(ev("a", event_type="DELETED"), 0.2)) == [["a"]]
    assert batcher.add(ev("builder", kind="ServiceAccount"), 0.3) == [ev("builder", kind="ServiceAccount")]
    assert batcher.add(ev("c", event_type="DELETED"), 0.4) == []
    assert [(event["type"], [item["name"] for item in event["batch"]]) for event in batcher.due(2.2)] == [
        ("ADDED", ["b"]), ("DELETED", ["c"])]
