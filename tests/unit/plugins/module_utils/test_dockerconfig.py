import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig as dc


def test_entry_matches_kubectl_layout():
    assert dc.entry("bot", "s3cret", "bot@example.com") == {
        "username": "bot", "password": "s3cret", "email": "bot@example.com",
        "auth": base64.b64encode(b"bot:s3cret").decode()}
    assert "email" not in dc.entry("bot", "s3cret")


def test_serialize_is_byte_stable_and_sorted():
    a = dc.serialize({"b.io": dc.entry("u", "p"), "a.io": dc.entry("u", "p")})
    b = dc.serialize({"a.io": dc.entry("u", "p"), "b.io": dc.entry("u", "p")})
    assert a == b
    assert a.startswith(b'{"auths":{"a.io":{"auth":')
    assert b" " not in a


@pytest.mark.parametrize("key,expected", [
    ("https://index.docker.io/v1/", "docker.io"),
    ("docker.io", "docker.io"),
    ("registry-1.docker.io", "docker.io"),
    ("HTTPS://Quay.IO/", "quay.io"),
    ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
    ("ghcr.io/org", "ghcr.io/org"),
    # only a leading /v1/ or /v2/ goes, as in the kubelet; a repository path stays as it is
    ("gcr.io/v1", "gcr.io/v1"),
    ("gcr.io/v2", "gcr.io/v2"),
    ("gcr.io/v1/", "gcr.io"),
    ("gcr.io/v2/proj/v1", "gcr.io/proj/v1"),
    ("quay.io/org/v1", "quay.io/org/v1"),
    ("quay.io/org/", "quay.io/org/"),
    ("quay.io/", "quay.io"),
])
def test_normalize_key(key, expected):
    assert dc.normalize_key(key) == expected


def test_parse_fills_username_and_password_from_auth():
    raw = json.dumps({"auths": {"quay.io": {"auth": base64.b64encode(b"me:pw:with:colons").decode()}}})
    assert dc.parse(raw) == {"quay.io": dc.entry("me", "pw:with:colons")}


def test_parse_keeps_only_listed_servers_and_requires_them():
    raw = {"auths": {"https://index.docker.io/v1/": dc.entry("a", "b"), "ghcr.io": dc.entry("c", "d")}}
    assert list(dc.parse(raw, servers=["docker.io"])) == ["https://index.docker.io/v1/"]
    with pytest.raises(dc.DockerConfigError, match=r"quay.io.*has no entry"):
        dc.parse(raw, servers=["quay.io"])


@pytest.mark.parametrize("doc,message", [
    ({"auths": {"x.io": {"auth": "!!!"}}}, "not base64"),
    ({"auths": {"x.io": {"auth": base64.b64encode(b"nocolon").decode()}}}, "username:password"),
    ({"auths": {"x.io": {"identitytoken": "t"}}}, "identity token"),
    ({"auths": {"x.io": {}}, "credsStore": "desktop"}, "credential helper"),
    ({"credHelpers": {"gcr.io": "gcloud"}}, "credential helper"),
    ({"auths": []}, "must be an object"),
    ([1, 2], "must be a JSON object"),
])
def test_parse_errors_name_the_field(doc, message):
    with pytest.raises(dc.DockerConfigError, match=message) as exc:
        dc.parse(json.dumps(doc), "registries[0].content")
    assert str(exc.value).startswith("registries[0].content")


def test_parse_refuses_a_wanted_server_kept_by_a_helper():
    doc = {"auths": {"ghcr.io": dc.entry("a", "b")}, "credHelpers": {"gcr.io": "gcloud"}}
    with pytest.raises(dc.DockerConfigError, match="credential helper"):
        dc.parse(doc, servers=["gcr.io"])
    assert list(dc.parse(doc)) == ["ghcr.io"]


def test_parse_rejects_invalid_json_and_non_utf8():
    with pytest.raises(dc.DockerConfigError, match="not valid JSON"):
        dc.parse('{"auths": ')
    with pytest.raises(dc.DockerConfigError, match="not UTF-8"):
        dc.parse(b"\xff\xfe")


def test_merge_keeps_foreign_entries_and_replaces_same_registry():
    existing = {"docker.io": dc.entry("old", "x"), "quay.io": dc.entry("q", "y")}
    managed = {"https://index.docker.io/v1/": dc.entry("new", "z")}
    expected = {"quay.io": dc.entry("q", "y"), "https://index.docker.io/v1/": dc.entry("new", "z")}
    assert dc.merge(existing, managed, True) == expected
    assert dc.merge(existing, managed, False) == managed


def test_load_gives_the_object_with_an_auths_object():
    assert dc.load('{"credsStore": "desktop"}') == {"credsStore": "desktop", "auths": {}}
    with pytest.raises(dc.DockerConfigError, match=r"^data.auths: must be an object"):
        dc.load({"auths": None}, "data")


def test_merge_document_keeps_what_it_does_not_manage_exactly():
    other = {"username": "field-user", "password": "field-pw", "auth": base64.b64encode(b"auth-user:auth-pw").decode()}
    doc = dc.load({"auths": {"other.io": other, "quay.io": {"identitytoken": "tok"}, "x.io": dc.entry("old", "o")},
                   "credsStore": "desktop", "HttpHeaders": {"User-Agent": "a"}})
    managed = {"x.io": dc.entry("new", "n")}
    merged = dc.merge_document(doc, managed)
    assert merged == dict(doc, auths={"other.io": other, "quay.io": {"identitytoken": "tok"}, "x.io": dc.entry("new", "n")})
    assert doc["auths"]["x.io"] == dc.entry("old", "o")  # the input is left alone


@pytest.mark.parametrize("existing,managed,kept", [
    # the kubelet files these under one key: the managed spelling replaces the old one
    ("https://quay.io/", "quay.io", False),
    ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000", False),
    ("https://index.docker.io/v1/", "index.docker.io", False),
    # and these under different ones: the old key still serves images the new one does not
    ("https://index.docker.io/v1/", "registry-1.docker.io", True),
    ("docker.io", "https://index.docker.io/v1/", True),
    ("Quay.io", "quay.io", True),
    ("quay.io/org", "quay.io", True),
    ("gcr.io/v1", "gcr.io", True),
])
def test_merge_document_replaces_only_the_same_kubelet_key(existing, managed, kept):
    merged = dc.merge_document(dc.load({"auths": {existing: dc.entry("old", "o")}}), {managed: dc.entry("new", "n")})
    assert (existing in merged["auths"]) is kept
    assert merged["auths"][managed] == dc.entry("new", "n")


def test_user_of_reports_only_a_usable_user():
    assert dc.user_of({"auth": base64.b64encode(b"me:pw").decode()}) == "me"
    assert dc.user_of({"identitytoken": "tok"}) is None


def test_redact_never_shows_secrets():
    shown = dc.redact({"a.io": dc.entry("user", "hunter2", "e@x")})
    assert shown == {"a.io": {"username": "user", "email": "e@x"}}
    assert "hunter2" not in json.dumps(shown)


names = st.text(alphabet=st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), min_size=1, max_size=20)
secrets = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
servers = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,5}){1,2}(:[0-9]{2,5})?", fullmatch=True)
configs = st.dictionaries(servers, st.builds(dc.entry, names, secrets), max_size=5)


@settings(max_examples=200, deadline=None)
@given(configs)
def test_property_serialize_parse_round_trip(entries):
    assert dc.parse(dc.serialize(entries)) == entries
    assert dc.serialize(dc.parse(dc.serialize(entries))) == dc.serialize(entries)


@settings(max_examples=200, deadline=None)
@given(configs, configs, st.booleans())
def test_property_merge_contains_all_managed_and_is_idempotent(existing, managed, keep):
    merged = dc.merge(existing, managed, keep)
    for key, value in managed.items():
        assert merged[key] == value
    assert dc.merge(merged, managed, keep) == merged
    if not keep:
        assert merged == managed


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_property_parse_fails_only_with_docker_config_error(blob):
    try:
        dc.parse(blob)
    except dc.DockerConfigError:
        pass


@pytest.mark.parametrize("doc,field", [
    ({"credHelpers": [1]}, "content.credHelpers"),
    ({"auths": {"x.io": {"auth": 5}}}, "content.auths[x.io].auth"),
])
def test_parse_rejects_wrong_types_found_by_fuzzing(doc, field):
    with pytest.raises(dc.DockerConfigError) as exc:
        dc.parse(doc, "content")
    assert exc.value.field == field
