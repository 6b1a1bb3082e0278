import base64
import datetime
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig as dc
from ansible_collections.regcred.k8s.plugins.module_utils import minting
from ansible_collections.regcred.k8s.plugins.module_utils import pull_secret as ps
from ansible_collections.regcred.k8s.plugins.module_utils.records import record
from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential
from ansible_collections.regcred.k8s.plugins.module_utils.secret_store import restorable

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)


def stored(entries, records, labels=None, annotations=None, **extra):
    secret = ps.desired_secret("regcred", "ns", entries, records, labels, annotations)
    secret["metadata"].update({"resourceVersion": "7", "uid": "u-1"})
    secret.update(extra)
    return secret


def token_record(server, expires, source="s1"):
    return record(Credential(server, "AWS", "tok", expires_at=expires, provider="ecr"), source)


def test_desired_secret_is_byte_stable_and_annotated():
    entries = {"b.io": dc.entry("u", "p"), "a.io": dc.entry("v", "q")}
    records = [token_record("b.io", NOW + 3 * HOUR), token_record("a.io", NOW + 2 * HOUR, "s2")]
    one = ps.desired_secret("regcred", "ns", entries, records, {"l": "1"}, {"a": "2"})
    two = ps.desired_secret("regcred", "ns", dict(reversed(list(entries.items()))), records[::-1], {"l": "1"}, {"a": "2"})
    assert one == two
    assert one["type"] == "kubernetes.io/dockerconfigjson"
    assert base64.b64decode(one["data"][".dockerconfigjson"]) == dc.serialize(entries)
    assert one["metadata"]["annotations"][ps.ANNOTATION_EXPIRES] == "2026-11-22T14:00:00Z"
    assert "tok" not in one["metadata"]["annotations"][ps.ANNOTATION_CREDENTIALS]


def test_plan_create_unchanged_update():
    entries = {"a.io": dc.entry("u", "p")}
    desired = ps.desired_secret("regcred", "ns", entries, [], {"team": "x"}, {})
    assert ps.plan(None, desired, False)[0] == ps.CREATE
    current = stored(entries, [], {"team": "x", "foreign": "kept"}, {"other/owner": "y"})
    assert ps.plan(current, desired, False) == (ps.UNCHANGED, None, None)
    new = ps.desired_secret("regcred", "ns", {"a.io": dc.entry("u", "p2")}, [], {"team": "x"}, {})
    action, body = ps.plan(current, new, False)[:2]
    assert action == ps.UPDATE
    assert body["metadata"]["resourceVersion"] == "7"
    assert body["metadata"]["labels"] == {"team": "x", "foreign": "kept", ps.LABEL_MANAGED: "true"}
    assert body["metadata"]["annotations"]["other/owner"] == "y"


def test_plan_type_conflict_and_immutable_need_force():
    desired = ps.desired_secret("regcred", "ns", {"a.io": dc.entry("u", "p")}, [], {}, {})
    opaque = {"type": "Opaque", "metadata": {"name": "regcred"}, "data": {"x": "eA=="}}
    action, body, reason = ps.plan(opaque, desired, False, adopt=True)
    assert action == ps.CONFLICT and body is None and "'Opaque'" in reason and "force=true" in reason
    assert ps.plan(opaque, desired, True, adopt=True)[0] == ps.REPLACE
    frozen = stored({"a.io": dc.entry("u", "old")}, [], immutable=True)
    assert ps.plan(frozen, desired, False)[0] == ps.CONFLICT
    assert ps.plan(frozen, desired, True)[0] == ps.REPLACE
    same = stored({"a.io": dc.entry("u", "p")}, [], immutable=True)
    assert ps.plan(same, desired, False)[0] == ps.UNCHANGED


def test_secrets_we_did_not_write_are_left_alone_unless_adopted():
    desired = ps.desired_secret("regcred", "ns", {"a.io": dc.entry("u", "p")}, [], {}, {})
    assert desired["metadata"]["labels"][ps.LABEL_MANAGED] == "true"
    theirs = {"type": ps.SECRET_TYPE, "metadata": {"name": "regcred", "labels": {"app": "x"}},
              "data": {ps.DATA_KEY: base64.b64encode(dc.serialize({"q.io": dc.entry("t", "s")})).decode()}}
    opaque = {"type": "Opaque", "metadata": {"name": "regcred"}, "data": {"x": "eA=="}}
    for secret in (theirs, opaque):
        assert not ps.owned(secret)
        for force in (False, True):
            action, body, reason = ps.plan(secret, desired, force)
            assert (action, body) == (ps.NOT_OURS, None) and "adopt=true" in reason
            assert ps.plan_absent(secret, force)[:2] == (ps.NOT_OURS, None)
    action, body = ps.plan(theirs, desired, False, adopt=True)[:2]
    assert action == ps.UPDATE and body["metadata"]["labels"] == {"app": "x", ps.LABEL_MANAGED: "true"}
    assert ps.plan_absent(theirs, False, adopt=True) == (ps.DELETE, theirs, None)
    assert ps.plan_absent(opaque, False, adopt=True)[0] == ps.CONFLICT
    assert ps.plan_absent(opaque, True, adopt=True)[0] == ps.DELETE
    assert ps.plan_absent(None, False) == (ps.ABSENT, None, None)


def test_secrets_of_earlier_releases_are_ours():
    older = stored({"a.io": dc.entry("u", "p")}, [])
    del older["metadata"]["labels"][ps.LABEL_MANAGED]
    assert ps.owned(older)
    assert ps.plan_absent(older, False) == (ps.DELETE, older, None)
    assert ps.owned({"metadata": {"labels": {ps.LABEL_MANAGED: "true"}}})
    assert not ps.owned({"metadata": {"labels": {ps.LABEL_MANAGED: "false"}}})


def reusable(secrets, source, refresh_before, now):
    """The entries and records minting would reuse from ``secrets``, or None."""
    creds = minting.fresh(ps.stores(secrets), source, refresh_before, now)
    if creds is None:
        return None
    return dict((c.server, dc.entry(c.username, c.password, c.email)) for c in creds), [record(c, source) for c in creds]


def test_reusable_respects_refresh_window_and_source():
    entries = {"1.dkr.ecr": dc.entry("AWS", "tok")}
    fresh = stored(entries, [token_record("1.dkr.ecr", NOW + 10 * HOUR)])
    got = reusable([fresh], "s1", 6 * HOUR, NOW)
    assert got[0] == entries
    assert reusable([fresh], "s1", 11 * HOUR, NOW) is None
    assert reusable([fresh], "other-source", HOUR, NOW) is None


def test_reusable_needs_the_recorded_user_in_the_secret():
    edited = stored({"x": dc.entry("someone", "else")}, [token_record("x", NOW + 10 * HOUR)])
    assert reusable([edited], "s1", HOUR, NOW) is None


def test_reusable_picks_latest_expiry_and_skips_broken_secrets():
    older = stored({"x": dc.entry("AWS", "old")}, [token_record("x", NOW + 7 * HOUR)])
    newer = stored({"x": dc.entry("AWS", "new")}, [token_record("x", NOW + 11 * HOUR)])
    missing_payload = stored({}, [token_record("x", NOW + 12 * HOUR)])
    wrong_type = dict(newer, type="Opaque")
    got = reusable([older, missing_payload, wrong_type, newer], "s1", HOUR, NOW)
    assert got[0]["x"]["password"] == "new"


def test_reusable_never_expiring_credential():
    secret = stored({"gcr.io": dc.entry("_json_key", "{}")},
                    [record(Credential("gcr.io", "_json_key", "{}", provider="gcr"), "s1")])
    assert reusable([secret], "s1", 100 * HOUR, NOW) is not None


def test_diff_shows_which_credentials_change_but_no_secret():
    old = stored({"a.io": dc.entry("u", "old-secret"), "b.io": dc.entry("v", "same")}, [])
    new = ps.desired_secret("regcred", "ns", {"a.io": dc.entry("u", "new-secret"), "b.io": dc.entry("v", "same"),
                                              "c.io": dc.entry("w", "added-secret")}, [], {}, {})
    before, after = ps.diff(old, ps.plan(old, new, False)[1])
    assert after["registries"]["a.io"] == {"username": "u", "credential": "changed"}
    assert after["registries"]["b.io"]["credential"] == "unchanged"
    assert after["registries"]["c.io"]["credential"] == "added"
    text = json.dumps([before, after])
    for secret in ("old-secret", "new-secret", "same", "added-secret", old["data"][".dockerconfigjson"]):
        assert secret not in text
    assert ps.diff(old, None)[1] == {}


servers = st.from_regex(r"[a-z]{1,8}\.io", fullmatch=True)
entry_maps = st.dictionaries(servers, st.builds(dc.entry, st.sampled_from(["u", "v"]), st.text(min_size=1, max_size=8)),
                             min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(entry_maps, entry_maps, st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "2"])))
def test_property_applying_a_plan_converges(current_entries, wanted_entries, labels):
    current = stored(current_entries, [], {"foreign": "x"})
    desired = ps.desired_secret("regcred", "ns", wanted_entries, [], labels, {})
    action, body = ps.plan(current, desired, False)[:2]
    after = current if action == ps.UNCHANGED else body
    assert ps.plan(after, desired, False)[0] == ps.UNCHANGED
    # Labels others set stay, the task's are laid over them, and ours marks the Secret as managed.
    assert after["metadata"]["labels"] == dict({"foreign": "x"}, **labels, **{ps.LABEL_MANAGED: "true"})


def with_payload(raw, **extra):
    return dict({"type": ps.SECRET_TYPE, "metadata": {"name": "regcred", "resourceVersion": "3"},
                 "data": {ps.DATA_KEY: base64.b64encode(raw).decode()}}, **extra)


def test_merged_payload_keeps_the_stored_bytes_when_nothing_changes():
    raw = json.dumps({"auths": {"a.io": dc.entry("u", "p"), "b.io": {"identitytoken": "t"}}, "credsStore": "x"},
                     indent=4).encode()
    assert ps.merged_payload(with_payload(raw), {"a.io": dc.entry("u", "p")}) == raw
    changed = json.loads(ps.merged_payload(with_payload(raw), {"a.io": dc.entry("u", "new")}))
    assert changed == {"auths": {"a.io": dc.entry("u", "new"), "b.io": {"identitytoken": "t"}}, "credsStore": "x"}


def test_a_copied_payload_is_stored_as_it_is():
    raw = b'{ "auths": {"a.io": {"auth": "dTpw", "identitytoken": "t"}}, "HttpHeaders": {"X": "y"} }'
    desired = ps.desired_secret("regcred", "ns", {}, [], {}, {}, raw)
    assert base64.b64decode(desired["data"][ps.DATA_KEY]) == raw
    assert ps.plan(with_payload(raw, metadata=desired["metadata"]), desired, False)[0] == ps.UNCHANGED


def test_plan_refuses_a_body_over_the_apiserver_limits_naming_the_field():
    big = ps.desired_secret("regcred", "ns", {"a.io": dc.entry("u", "p" * (800 * 1024))}, [], {}, {})
    for existing in (None, stored({"a.io": dc.entry("u", "p")}, [])):
        with pytest.raises(ValueError, match=r"^data\[\.dockerconfigjson\]: the Secret's data would be \d+ bytes"):
            ps.plan(existing, big, False)
    crowded = stored({"a.io": dc.entry("u", "p")}, [], annotations={"other/notes": "n" * (256 * 1024 - 100)})
    with pytest.raises(ValueError, match=r"^annotations: \d+ bytes in all"):
        ps.plan(crowded, ps.desired_secret("regcred", "ns", {"a.io": dc.entry("u", "q")}, [], {}, {"mine": "x" * 200}),
                False)


def test_restorable_drops_only_what_the_apiserver_sets():
    secret = {"type": "Opaque", "immutable": True, "data": {"k": "dg=="}, "status": {},
              "metadata": {"name": "regcred", "namespace": "ns", "uid": "u", "resourceVersion": "9",
                           "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{}], "generation": 1,
                           "labels": {"l": "1"}, "annotations": {"a": "2"}, "finalizers": ["x/y"]}}
    assert restorable(secret) == {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "immutable": True, "data": {"k": "dg=="},
        "metadata": {"name": "regcred", "namespace": "ns", "labels": {"l": "1"}, "annotations": {"a": "2"},
                     "finalizers": ["x/y"]}}
    assert secret["metadata"]["uid"] == "u"


def test_copies_of_one_secret_are_read_once_and_different_ones_each():
    one = stored({"x": dc.entry("AWS", "tok")}, [token_record("x", NOW + 7 * HOUR)])
    other = stored({"x": dc.entry("AWS", "tok2")}, [token_record("x", NOW + 7 * HOUR)])
    relabelled = stored({"x": dc.entry("AWS", "tok")}, [token_record("x", NOW + 9 * HOUR)])
    copies = [dict(one, metadata=dict(one["metadata"], namespace="ns-%d" % i)) for i in range(50)]
    found = ps.stores(copies + [other, relabelled, one])
    assert [s.entries["x"]["password"] for s in found] == ["tok", "tok2", "tok"]
    assert [s.records[0]["expires_at"] for s in found] == ["2026-11-22T19:00:00Z"] * 2 + ["2026-11-22T21:00:00Z"]
