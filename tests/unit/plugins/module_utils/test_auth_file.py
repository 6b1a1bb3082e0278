import base64
import datetime
import json
import multiprocessing
import os
import stat
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils import auth_file as af
from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig as dc
from ansible_collections.regcred.k8s.plugins.module_utils import minting
from ansible_collections.regcred.k8s.plugins.module_utils.records import record
from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)


def auth(user, password):
    return base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def token_record(server, expires, username="AWS", source="s1"):
    return record(Credential(server, username, "tok", expires_at=expires, provider="ecr"), source)


FOREIGN = {
    "auths": {"quay.io": {"auth": auth("q", "x")}, "docker.io": {"auth": auth("hub", "old")},
              "ghcr.io": {}},
    "credHelpers": {"ghcr.io": "gh"},
    "credsStore": "desktop",
    "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
    "HttpHeaders": {"User-Agent": "x"},
}


def test_merge_keeps_other_keys_and_entries_and_replaces_the_same_registry():
    merged = af.merge(FOREIGN, {"https://index.docker.io/v1/": dc.entry("hub", "new"),
                                "a.io": dc.entry("me", "pw", "me@example.com")})
    for key in ("credHelpers", "credsStore", "proxies", "HttpHeaders"):
        assert merged[key] == FOREIGN[key]
    assert merged["auths"]["quay.io"] == FOREIGN["auths"]["quay.io"]
    assert merged["auths"]["ghcr.io"] == {}
    assert "docker.io" not in merged["auths"]
    # only auth, as docker login and podman login write it: no plain password, no email
    assert merged["auths"]["https://index.docker.io/v1/"] == {"auth": auth("hub", "new")}
    assert merged["auths"]["a.io"] == {"auth": auth("me", "pw")}
    assert list(merged["auths"]) == sorted(merged["auths"])
    assert "docker.io" in FOREIGN["auths"], "the input must not be changed"


def test_merge_replaces_an_entry_with_an_identity_token():
    doc = {"auths": {"a.io": {"auth": auth("u", "p"), "identitytoken": "idt"}}}
    assert af.merge(doc, {"a.io": dc.entry("u", "p")})["auths"]["a.io"] == {"auth": auth("u", "p")}


servers = st.sampled_from(["a.io", "https://a.io/", "A.IO/v2/", "b.io:5000", "docker.io",
                           "https://index.docker.io/v1/", "ghcr.io/org"])
plain = st.text(st.characters(codec="utf-8", exclude_characters=":"), min_size=1, max_size=8)
logins = st.builds(dc.entry, plain, st.text(min_size=1, max_size=8))
raw_entries = st.one_of(st.builds(lambda u, p: {"auth": auth(u, p)}, plain, plain), st.just({}),
                        st.fixed_dictionaries({"identitytoken": plain}))
docs = st.fixed_dictionaries({"auths": st.dictionaries(servers, raw_entries, max_size=5)},
                             optional={"credHelpers": st.dictionaries(servers, plain, max_size=2),
                                       "proxies": st.just({"default": {"noProxy": "*.local"}})})


@settings(max_examples=200, deadline=None)
@given(docs, st.dictionaries(servers, logins, max_size=3))
def test_merge_twice_is_merge_once(doc, entries):
    # One managed entry per registry, as minting.collect guarantees.
    managed = dict((dc.normalize_key(s), (s, e)) for s, e in entries.items())
    entries = dict(managed.values())
    once = af.merge(doc, entries)
    assert af.merge(once, entries) == once
    assert all(v == {"auth": entries[k]["auth"]} for k, v in once["auths"].items() if k in entries)
    assert af.parse(af.serialize(once), "f") == once
    assert set(af.changes(once, entries).values()) <= {af.UNCHANGED}
    others = dict((k, v) for k, v in doc.items() if k != "auths")
    assert dict((k, v) for k, v in once.items() if k != "auths") == others


def test_changes_added_changed_unchanged():
    doc = {"auths": {"a.io": {"auth": auth("u", "p")}, "docker.io": {"auth": auth("h", "p")},
                     "c.io": {"auth": auth("u", "old")}}}
    entries = {"a.io": dc.entry("u", "p"), "https://index.docker.io/v1/": dc.entry("h", "p"),
               "c.io": dc.entry("u", "new"), "d.io": dc.entry("u", "p")}
    assert af.changes(doc, entries) == {"a.io": "unchanged", "https://index.docker.io/v1/": "changed",
                                        "c.io": "changed", "d.io": "added"}


def test_diff_shows_users_and_changes_but_no_secret():
    doc = {"auths": {"a.io": {"auth": auth("u", "s3cret-old")}, "ghcr.io": {}}, "credsStore": "desktop"}
    entries = {"a.io": dc.entry("u", "s3cret-new"), "b.io": dc.entry("AWS", "t0ken-value")}
    records = [token_record("b.io", NOW + HOUR), record(Credential("a.io", "u", "x", provider="basic"), "s2")]
    before, after = af.diff(doc, af.merge(doc, entries), entries, records)
    assert before == {"auths": {"a.io": {"username": "u"}, "ghcr.io": {"username": None}}}
    assert after == {"auths": {
        "a.io": {"username": "u", "credential": "changed", "expires_at": None},
        "b.io": {"username": "AWS", "credential": "added", "expires_at": "2026-11-22T13:00:00Z"},
        "ghcr.io": {"username": None}}}
    shown = json.dumps([before, after])
    for secret in ("s3cret-old", "s3cret-new", "t0ken-value", auth("u", "s3cret-new"), auth("AWS", "t0ken-value")):
        assert secret not in shown


def reusable(doc, records, source, refresh_before, now):
    """The entries and records minting would reuse from the file ``doc`` and its sidecar, or None."""
    creds = minting.fresh([af.stored(doc, records)], source, refresh_before, now)
    if creds is None:
        return None
    return dict((c.server, dc.entry(c.username, c.password, c.email)) for c in creds), [record(c, source) for c in creds]


def test_reusable_needs_fresh_records_and_the_same_user_in_the_file():
    doc = {"auths": {"b.io": {"auth": auth("AWS", "tok-1")}, "c.io": {"auth": auth("AWS", "tok-2")}}}
    records = [token_record("b.io", NOW + 7 * HOUR), token_record("c.io", NOW + 8 * HOUR),
               token_record("x.io", NOW + 9 * HOUR, source="other")]
    entries, mine = reusable(doc, records, "s1", 6 * HOUR, NOW)
    assert entries == {"b.io": dc.entry("AWS", "tok-1"), "c.io": dc.entry("AWS", "tok-2")}
    assert mine == records[:2]
    assert reusable(doc, records, "s1", 7 * HOUR, NOW) is None, "one token is due"
    assert reusable(doc, records, "nope", 6 * HOUR, NOW) is None
    relogged = {"auths": dict(doc["auths"], **{"c.io": {"auth": auth("someone", "else")}})}
    assert reusable(relogged, records, "s1", 6 * HOUR, NOW) is None
    gone = {"auths": {"b.io": doc["auths"]["b.io"]}}
    assert reusable(gone, records, "s1", 6 * HOUR, NOW) is None
    garbled = [dict(records[0], expires_at="soon"), records[1]]
    assert reusable(doc, garbled, "s1", 6 * HOUR, NOW) is None
    never = [dict(records[0], expires_at=None)]
    assert reusable(doc, never, "s1", 6 * HOUR, NOW)[0] == {"b.io": dc.entry("AWS", "tok-1")}


def test_merge_records_keeps_other_tasks_records_while_their_entry_exists():
    old = [token_record("b.io", NOW, source="old"), token_record("z.io", NOW, source="z"),
           token_record("gone.io", NOW, source="g"), token_record("https://index.docker.io/v1/", NOW, source="h")]
    new = [token_record("b.io", NOW + HOUR), token_record("docker.io", NOW + HOUR, source="h2")]
    doc = {"auths": {"b.io": {}, "z.io": {}, "docker.io": {}}}
    merged = af.merge_records(old, new, doc)
    assert [(r["server"], r["source"]) for r in merged] == [("b.io", "s1"), ("docker.io", "h2"), ("z.io", "z")]


@pytest.mark.parametrize("data", [b"", b"  \n", b'{"auths": {}}'])
def test_parse_empty_and_minimal(data):
    assert af.parse(data, "f") in ({}, {"auths": {}})


@pytest.mark.parametrize("data,words", [
    (b"{not json", "not valid JSON"), (b"[]", "JSON object"), (b'{"auths": []}', "auths must be an object"),
    (b"\xff\xfe", "not valid JSON"),
])
def test_parse_errors_name_dest_and_the_file(data, words):
    with pytest.raises(af.AuthFileError, match=r"^dest: /x/config.json.*" + words):
        af.parse(data, "/x/config.json")


@pytest.mark.parametrize("data", [b"", b"garbage", b"[]", b'{"credentials": {}}', b'{"credentials": [1, {"x": 1}]}'])
def test_unreadable_sidecar_means_no_records(data):
    assert af.parse_sidecar(data) == []


def test_sidecar_round_trip_holds_no_secret():
    records = [token_record("b.io", NOW + HOUR)]
    data = af.serialize_sidecar(records)
    assert af.parse_sidecar(data) == records
    assert b"tok" not in data
    assert set(json.loads(data)["credentials"][0]) == {"server", "username", "provider", "source", "expires_at"}


# I/O --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [0o400, 0o444, 0o640, 0o644, 0o600])
def test_write_atomic_keeps_the_mode_and_leaves_no_temp(tmp_path, mode):
    target = tmp_path / "config.json"
    target.write_text("{}")
    target.chmod(mode)
    af.write_atomic(str(target), b'{"auths": {}}')
    assert target.read_bytes() == b'{"auths": {}}'
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert os.listdir(tmp_path) == ["config.json"]


def test_write_atomic_new_file_is_0600(tmp_path):
    target = tmp_path / "config.json"
    af.write_atomic(str(target), b"{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize("linked", ["config.json", "config.json.regcred.json"])
def test_read_refuses_a_hard_linked_file_or_sidecar(tmp_path, linked):
    (tmp_path / linked).write_text("{}")
    os.link(str(tmp_path / linked), str(tmp_path / "other"))
    with pytest.raises(af.AuthFileError, match="^dest: .*%s has 2 hard links" % linked):
        af.read(str(tmp_path / "config.json"))


def test_write_atomic_failure_names_dest_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "config.json"
    target.write_text("old")
    (tmp_path / "sub").mkdir()
    with pytest.raises(af.AuthFileError, match="^dest: cannot write"):
        af.write_atomic(str(tmp_path / "sub"), b"new")  # a rename onto a directory fails
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["config.json", "sub"]


def test_make_parents_creates_each_missing_directory_0700(tmp_path):
    af.make_parents(str(tmp_path / "a" / "b" / "auth.json"))
    for directory in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_read_missing_file_and_directory(tmp_path):
    assert af.read(str(tmp_path / "none.json")) == ({}, [])
    with pytest.raises(af.AuthFileError, match="is a directory"):
        af.read(str(tmp_path))


def _hold(path, ready, seconds):
    with af.locked(path):
        ready.set()
        time.sleep(seconds)


def test_locked_excludes_another_process(tmp_path):
    path = str(tmp_path / "config.json")
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(path, ready, 1.0))
    holder.start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        with af.locked(path):
            waited = time.monotonic() - started
    finally:
        holder.join(10)
    assert waited > 0.5
    assert not os.path.exists(af.lock_path(path))


def test_lock_file_is_removed_after_a_failure(tmp_path):
    path = str(tmp_path / "config.json")
    with pytest.raises(RuntimeError):
        with af.locked(path):
            assert os.path.exists(af.lock_path(path))
            raise RuntimeError("mint failed")
    assert os.listdir(tmp_path) == []


def test_a_waiter_on_a_removed_lock_file_locks_the_new_one(tmp_path):
    """Three in a row: the second waits on the first's file, which is removed; meanwhile the
    third creates a new one. The second must not hold a lock beside the third. (A thread, not a
    process: a forked child would inherit the first's descriptor and keep its lock.)"""
    path = str(tmp_path / "config.json")
    first = af._lock(af.lock_path(path))  # pylint: disable=protected-access
    ready = threading.Event()
    second = threading.Thread(target=_hold, args=(path, ready, 0.1))
    second.start()
    try:
        time.sleep(0.3)  # the second now waits on the first's file
        os.unlink(af.lock_path(path))
        with af.locked(path):  # the third takes a new file while the second still waits
            os.close(first)  # releases the removed file: the second finds it stale
            assert not ready.wait(0.5), "two holders at once"
        assert ready.wait(10)
    finally:
        second.join(10)
    assert not os.path.exists(af.lock_path(path))
