"""Fuzzing: property-based tests of the pure parsers with hypothesis.

- dockerconfig: ``parse`` of arbitrary bytes and JSON structures returns only complete entries of
  the document, which survive a serialize/parse round trip unchanged, or raises DockerConfigError
  naming the field and quoting no password, auth or token of the input; an object, its JSON text
  and its bytes get the same answer; serialize/parse round trip; ``merge`` invariants;
  ``merge_document`` never takes a credential away from an image, as the kubelet matches keys.
- keyring: ``parse_image``, ``index_key``, ``key_matches`` and ``lookup`` never crash on arbitrary
  strings; an accepted image printed and parsed again is the same; a key that matches with case
  matches without; a matching key is offered by ``lookup``, an unusable one never; a valid image's
  own registry (plain, with a scheme, with ``/v2/``, with its repository as a path) is always
  offered for it; printing a parsed image and parsing it again is stable.
- server: every ``server`` that the checker accepts makes a key that the kubelet's matcher
  (``keyring.lookup``, case-sensitive as in the kubelet) offers for some image; every one it
  refuses gets a reason.
- duration: ``parse_duration`` returns whole seconds within range, which read the same again as a
  number, as ``Ns`` and in upper case, or raises ValueError naming the field; valid durations
  round-trip.

The CI run is short and derandomised. ``tests/harness/fuzz_long.py MINUTES`` runs the same
properties (PROPERTIES below) with random seeds for a long campaign.

This fuzzing found three bugs, now fixed and covered by unit tests: ``parse`` raised
AttributeError for a ``credHelpers`` that is not an object and TypeError for an ``auth`` that is
not a string, and ``parse_duration("²")`` raised a ValueError that did not name the field.
"""

import base64
import datetime
import json
import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig, duration, keyring, server

CI = settings(max_examples=300, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# --- strategies ------------------------------------------------------------------------------
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=10), inner, max_size=4), max_leaves=12)
SERVER_KEYS = st.sampled_from(["docker.io", "https://index.docker.io/v1/", "quay.io", "Quay.IO/", "http://quay.io/v2/",
                               "127.0.0.1:5000", "ghcr.io/org", "registry-1.docker.io"]) | st.text(max_size=25)
STRINGS = st.text(max_size=20)
B64 = st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode())
ENTRY_VALUES = st.fixed_dictionaries({}, optional={
    "username": st.none() | STRINGS | st.integers(),
    "password": st.none() | STRINGS | st.integers() | st.lists(STRINGS, max_size=2),
    "auth": st.none() | B64 | STRINGS | JSON_SCALARS | (st.tuples(STRINGS, STRINGS).map(
        lambda t: base64.b64encode(("%s:%s" % t).encode()).decode())),
    "email": st.none() | STRINGS | st.integers(),
    "identitytoken": st.none() | STRINGS,
    "registrytoken": st.none() | STRINGS,
})
ENTRIES_RAW = st.dictionaries(SERVER_KEYS, ENTRY_VALUES | JSON_VALUES, max_size=4)
DOCS = st.fixed_dictionaries({}, optional={
    "auths": ENTRIES_RAW | JSON_VALUES,
    "credsStore": st.none() | STRINGS | st.booleans(),
    "credHelpers": st.none() | st.dictionaries(SERVER_KEYS, STRINGS, max_size=3) | JSON_VALUES,
    "HttpHeaders": JSON_VALUES,
})
SERVERS = st.none() | st.lists(SERVER_KEYS, max_size=3)
GOOD_ENTRIES = st.dictionaries(SERVER_KEYS, st.builds(
    dockerconfig.entry, st.text(min_size=1, max_size=15), st.text(min_size=1, max_size=15),
    st.none() | st.text(min_size=1, max_size=15)), max_size=5)

LOWER = string.ascii_lowercase + string.digits
PATH_COMPONENT = st.from_regex(r"\A[a-z0-9]{1,6}(?:(?:[._]|__|-+)[a-z0-9]{1,6}){0,2}\Z")
DOMAIN_LABEL = st.from_regex(r"\A[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?\Z")
PORTS = st.none() | st.integers(1, 65535).map(str)
HOSTS = st.one_of(
    st.tuples(st.lists(DOMAIN_LABEL, min_size=2, max_size=4).map(".".join), PORTS),
    st.tuples(DOMAIN_LABEL | st.just("localhost"), st.integers(1, 65535).map(str)),
    st.tuples(st.just("localhost"), st.none()),
    st.tuples(st.sampled_from(["[::1]", "[fe80::1]", "[2001:db8::5]"]), st.integers(1, 65535).map(str)),
).map(lambda hp: hp[0] + (":" + hp[1] if hp[1] else ""))
TAGS = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}\Z")
DIGESTS = st.sampled_from(["sha256", "sha512", "blake3"]).flatmap(
    lambda algo: st.text(alphabet="0123456789abcdef", min_size=32, max_size=64).map(lambda h: algo + ":" + h))


@st.composite
def images(draw):
    """A valid image reference: [HOST/]PATH[:TAG][@DIGEST], short enough for the 255 limit."""
    host = draw(st.none() | HOSTS)
    components = draw(st.lists(PATH_COMPONENT, min_size=1, max_size=3))
    if host is None and len(components) > 1 and "." in components[0]:
        components[0] = components[0].replace(".", "-")  # a first component with a dot is a host
    path = "/".join(components)
    text = (host + "/" if host else "") + path
    tag, digest = draw(st.none() | TAGS), draw(st.none() | DIGESTS)
    return text + (":" + tag if tag else "") + ("@" + digest if digest else "")


# keys as people write them: any scheme, Docker Hub's spellings, /v1/ and /v2/, repository paths
MERGE_KEYS = SERVER_KEYS | st.builds(
    lambda scheme, host, path: scheme + host + path,
    st.sampled_from(["", "https://", "http://", "HTTPS://"]),
    HOSTS | st.sampled_from(["docker.io", "index.docker.io", "registry-1.docker.io", "*.io", "*.docker.io", "quay.io"]),
    st.sampled_from(["", "/", "/v1/", "/v2/", "/v1", "/v2/library", "/library", "/library/", "/org"])
    | PATH_COMPONENT.map(lambda c: "/" + c))
MERGE_ENTRIES = st.dictionaries(MERGE_KEYS, st.builds(dockerconfig.entry, st.text(min_size=1, max_size=5),
                                                      st.text(min_size=1, max_size=5)), max_size=5)
MERGE_IMAGES = images() | st.sampled_from(["nginx", "library/nginx", "docker.io/org/app", "index.docker.io/org/app",
                                           "quay.io/org/app", "quay.io/library/x", "127.0.0.1:5000/app",
                                           "registry-1.docker.io/org/app", "localhost/app"])

# Servers near the valid ones: each part drawn from valid and invalid spellings.
SERVER_PARTS = st.tuples(
    st.sampled_from(["", "https://", "http://", "HTTPS://", "Http://", "ftp://", "://", "https:/"]),
    st.sampled_from(["", "", "", "user@", "user:pw@", "@"]),
    HOSTS | st.lists(DOMAIN_LABEL | st.sampled_from(["*", "*x", "a*b", "-a", "a_b", ""]), min_size=1, max_size=4).map(".".join)
    | st.sampled_from(["", "::1", "[::1", "[::1]", "[fe80::1%eth0]", "[::ffff:1.2.3.4]", "localhost", "index.docker.io"]),
    st.sampled_from(["", ":", ":0", ":5000", ":05000", ":65535", ":65536", ":99999", ":5o00", ":5000:1"]),
    st.lists(PATH_COMPONENT | st.sampled_from(["", "v1", "v2", "Org", "a.", "a-", "a__", "a___", "%2F"]),
             max_size=3).map(lambda parts: "/".join([""] + parts) if parts else "")
    | st.sampled_from(["", "/", "/v1/", "/v2/", "/v1//", "/v2/org"]),
    st.sampled_from(["", "", "", "?x=1", "#frag", " ", "\n"]),
).map("".join)


def witness(key):
    """An image that an accepted key must match: its host with globs filled in, and its path
    completed to a repository name (two components for Docker Hub, which adds library/)."""
    authority, slash, path = re.sub(r"\Ahttps?://", "", key).partition("/")
    path = slash + path
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    repository = path[1:]
    if not repository or repository[-1] in "/._-":
        repository += "a"
    host = authority.replace("*", "x")
    if host.lower() in ("docker.io", "index.docker.io") and "/" not in repository:
        repository += "/a"
    return "%s/%s" % (host, repository)


DURATION_PARTS = st.lists(st.tuples(st.sampled_from("dhms"), st.integers(0, 400)), min_size=1, max_size=5)
UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


# --- properties (plain functions: fuzz_long.py runs them with its own settings) ----------------
def secrets_of(value):
    """The password, auth and token strings of a decoded document (6 characters or more, so that
    a short value cannot appear in a message by chance)."""
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("password", "auth", "identitytoken", "registrytoken") and isinstance(item, str) and len(item) >= 6:
                found.add(item)
            found |= secrets_of(item)
    elif isinstance(value, list):
        for item in value:
            found |= secrets_of(item)
    return found


def check_parsed(result, doc):
    """What parse returned: only keys of the document, each a complete entry whose ``auth`` is its
    user name and password, and a serialize/parse round trip that changes nothing."""
    auths = doc.get("auths") if isinstance(doc, dict) else None
    assert set(result) <= set(auths or {})
    for value in result.values():
        assert value == dockerconfig.entry(value["username"], value["password"], value.get("email"))
        assert value["username"] and value["password"]
    assert dockerconfig.parse(dockerconfig.serialize(result)) == result


def check_refused(exc, doc):
    """A refusal names where the problem is and never quotes a secret of the document."""
    assert exc.field and exc.reason and str(exc).startswith(exc.field)
    for secret in secrets_of(doc):
        assert secret not in str(exc), (secret, str(exc))


def decoded(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


def prop_parse_bytes(data):
    try:
        result = dockerconfig.parse(data)
    except dockerconfig.DockerConfigError as exc:
        check_refused(exc, decoded(data))
        return
    check_parsed(result, decoded(data))


def prop_parse_text(text):
    try:
        result = dockerconfig.parse(text, source="content")
    except dockerconfig.DockerConfigError as exc:
        assert str(exc).startswith("content")
        check_refused(exc, decoded(text))
        return
    check_parsed(result, decoded(text))


def prop_parse_json_values(doc):
    outcomes = []
    for content in (doc, json.dumps(doc), json.dumps(doc).encode()):
        try:
            result = dockerconfig.parse(content)
        except dockerconfig.DockerConfigError as exc:
            check_refused(exc, doc)
            outcomes.append(str(exc))
            continue
        check_parsed(result, doc)
        outcomes.append(result)
    # The object, its JSON text and its bytes are one document: one answer (a string is itself
    # read as JSON text, so only its text and bytes must agree).
    assert outcomes[1] == outcomes[2]
    if not isinstance(doc, str):
        assert outcomes[0] == outcomes[1]


def prop_parse_structured(doc, servers):
    """Docker-config-shaped documents: entries are always valid ones, every key is a real key."""
    for content in (doc, json.dumps(doc)):
        try:
            result = dockerconfig.parse(content, servers=servers)
        except dockerconfig.DockerConfigError as exc:
            assert exc.field.startswith("content")
            check_refused(exc, doc)
            continue
        check_parsed(result, doc)
        assert set(result) <= set(doc.get("auths") or {})
        for value in result.values():
            assert isinstance(value["username"], str) and value["username"]
            assert isinstance(value["password"], str) and value["password"]
            decoded = base64.b64decode(value["auth"]).decode()
            assert decoded == "%s:%s" % (value["username"], value["password"])
        if servers is not None:
            wanted = {dockerconfig.normalize_key(s) for s in servers}
            assert {dockerconfig.normalize_key(k) for k in result} == wanted


def prop_serialize_round_trip(entries):
    data = dockerconfig.serialize(entries)
    assert dockerconfig.serialize(json.loads(data)["auths"]) == data
    assert dockerconfig.parse(data) == entries
    assert dockerconfig.parse(data, source="x") == dockerconfig.parse(data.decode())


def prop_merge(existing, managed):
    replaced = dockerconfig.merge(existing, managed, keep_others=False)
    assert replaced == managed
    merged = dockerconfig.merge(existing, managed, keep_others=True)
    for key, value in managed.items():
        assert merged[key] == value
    covered = {dockerconfig.normalize_key(k) for k in managed}
    for key, value in existing.items():
        if dockerconfig.normalize_key(key) not in covered:
            assert merged[key] == value
        elif key not in managed:
            assert key not in merged
    assert set(merged) <= set(existing) | set(managed)
    assert dockerconfig.merge(merged, managed, keep_others=True) == merged
    assert dockerconfig.parse(dockerconfig.serialize(merged)) == merged


def prop_merge_document_keeps_matches(existing, managed, image):
    """A merge never takes a credential away from an image, as the kubelet matches keys: every
    image that some existing key matched still matches a key after the merge, and an existing
    entry goes only for a managed key that the kubelet files under the same name."""
    doc = dockerconfig.load({"auths": existing, "credsStore": "desktop"})
    merged = dockerconfig.merge_document(doc, managed)
    assert merged["credsStore"] == "desktop"
    auths = merged["auths"]
    replaced = {keyring.index_key(k) for k in managed}
    for key, value in existing.items():
        if key in managed:
            continue
        assert auths.get(key) == value or (keyring.index_key(key) is not None and keyring.index_key(key) in replaced)
    assert all(auths[k] == v for k, v in managed.items())
    ref = keyring.parse_image(image)
    before = keyring.lookup(list(existing.items()), ref, ignore_case=False)
    after = keyring.lookup(list(auths.items()), ref, ignore_case=False)
    if any(pair[0] not in managed for pair in before):
        assert after, (before, auths)
    for key, value in before:
        if key in auths and key not in managed:
            assert (key, value) in after


def prop_keyring_arbitrary(text, key):
    try:
        ref = keyring.parse_image(text)
    except ValueError as exc:
        assert str(exc).startswith("image: ")
        ref = keyring.parse_image("nginx")
    else:
        printed = "%s/%s%s%s" % (ref.registry, ref.repository, ":" + ref.tag if ref.tag else "",
                                 "@" + ref.digest if ref.digest else "")
        assert keyring.parse_image(printed) == ref
    assert ref.repository
    indexed = keyring.index_key(key)
    alone = keyring.lookup([(key, 1)], ref)
    if indexed is None:
        assert alone == []
    else:
        exact = keyring.key_matches(indexed, ref, ignore_case=False)
        # A match that respects case is a match that ignores it; a matching key is offered.
        assert not exact or keyring.key_matches(indexed, ref)
        assert keyring.key_matches(indexed, ref) in (True, False)
        if keyring.key_matches(indexed, ref):
            assert alone == [(key, 1)]
    found = keyring.lookup([(key, 1), (text, 2)], ref)
    assert found == [pair for pair in found if pair in ((key, 1), (text, 2))]
    assert len(found) == len(set(found))


def prop_keyring_own_registry(text, other):
    ref = keyring.parse_image(text)
    assert text.startswith(ref.registry) or ref.registry == keyring.DOCKER_HUB
    assert ref.tag or ref.digest
    assert ref.repository == ref.lookup_name.split("/", 1)[1]
    keys = [ref.registry, "https://" + ref.registry, ref.registry + "/v2/", "http://%s/v1/" % ref.registry]
    if ref.registry != keyring.DOCKER_HUB:  # the kubelet files Hub keys with a path under index.docker.io only
        keys.append("%s/%s" % (ref.registry, ref.repository))
    for key in keys:
        # Hub images fall back to index.docker.io only when no other key matches, as in the kubelet.
        found = keyring.lookup(([] if ref.registry == keyring.DOCKER_HUB else [(other, "other")]) + [(key, "own")], ref)
        assert (key, "own") in found, (key, found)
    printed = "%s/%s%s%s" % (ref.registry, ref.repository, ":" + ref.tag if ref.tag else "",
                             "@" + ref.digest if ref.digest else "")
    assert keyring.parse_image(printed) == ref


def prop_server_accepted_is_matched(text):
    found = server.problem(text)
    if found is not None:
        assert isinstance(found, str) and found
        return
    image = keyring.parse_image(witness(text))
    assert keyring.lookup([(text, "own")], image, ignore_case=False) == [(text, "own")], (text, image)


def prop_duration_arbitrary(value):
    try:
        result = duration.parse_duration(value, "refresh_before")
    except ValueError as exc:
        assert str(exc).startswith("refresh_before: ")
        return
    assert datetime.timedelta(0) <= result <= datetime.timedelta(seconds=duration.MAX_SECONDS)
    seconds = int(result.total_seconds())
    assert result == datetime.timedelta(seconds=seconds)
    # What was accepted reads the same again, as a number of seconds and as its own text.
    assert duration.parse_duration(seconds, "f") == result
    assert duration.parse_duration("%ds" % seconds, "f") == result
    if isinstance(value, str):
        assert duration.parse_duration(value.upper(), "f") == result


def prop_duration_error_message(text):
    try:
        result = duration.parse_duration(text, "refresh_before")
    except ValueError as exc:
        assert str(exc).startswith("refresh_before: ")
        return
    assert result >= datetime.timedelta(0)


def prop_duration_round_trip(parts, seconds):
    text = "".join("%d%s" % (n, unit) for unit, n in parts)
    total = sum(n * UNITS[unit] for unit, n in parts)
    assert duration.parse_duration(text, "f") == datetime.timedelta(seconds=total)
    assert duration.parse_duration(text.upper(), "f") == datetime.timedelta(seconds=total)
    assert duration.parse_duration(" %s " % text, "f") == datetime.timedelta(seconds=total)
    assert duration.parse_duration(seconds, "f").total_seconds() == seconds
    assert duration.parse_duration(str(seconds), "f").total_seconds() == seconds
    assert duration.parse_duration("%ds" % seconds, "f").total_seconds() == seconds
    for too_big in (duration.MAX_SECONDS + 1 + seconds, "%dd" % (duration.MAX_SECONDS // 86400 + 1)):
        try:
            duration.parse_duration(too_big, "f")
        except ValueError as exc:
            assert "f: must be at most" in str(exc)
        else:
            raise AssertionError("%r was accepted" % (too_big,))


# (name, property, strategies): the CI tests below and fuzz_long.py use this table.
PROPERTIES = [
    ("parse_bytes", prop_parse_bytes, (st.binary(max_size=200),)),
    ("parse_text", prop_parse_text, (st.text(max_size=200),)),
    ("parse_json_values", prop_parse_json_values, (JSON_VALUES,)),
    ("parse_structured", prop_parse_structured, (DOCS, SERVERS)),
    ("serialize_round_trip", prop_serialize_round_trip, (GOOD_ENTRIES,)),
    ("merge", prop_merge, (GOOD_ENTRIES, GOOD_ENTRIES)),
    ("merge_document_keeps_matches", prop_merge_document_keeps_matches, (MERGE_ENTRIES, MERGE_ENTRIES, MERGE_IMAGES)),
    ("keyring_arbitrary", prop_keyring_arbitrary, (st.text(max_size=80) | images(), st.text(max_size=40) | SERVER_KEYS)),
    ("keyring_own_registry", prop_keyring_own_registry, (images(), SERVER_KEYS)),
    ("server_accepted_is_matched", prop_server_accepted_is_matched,
     (SERVER_PARTS | SERVER_KEYS | st.text(alphabet=string.printable, max_size=30),)),
    ("duration_arbitrary", prop_duration_arbitrary,
     (st.text(max_size=30) | st.integers() | st.floats() | st.booleans() | st.none() | DURATION_PARTS.map(
         lambda p: "".join("%d%s" % (n, u) for u, n in p)),)),
    ("duration_error_message", prop_duration_error_message,
     (st.text(max_size=30) | st.from_regex(r"\A-?[0-9dhmsDHMS ]{0,12}\Z"),)),
    ("duration_round_trip", prop_duration_round_trip, (DURATION_PARTS, st.integers(0, duration.MAX_SECONDS))),
]
BY_NAME = {name: (prop, strategies) for name, prop, strategies in PROPERTIES}


def ci_test(name):
    prop, strategies = BY_NAME[name]
    return CI(given(*strategies)(prop))


test_parse_bytes = ci_test("parse_bytes")
test_parse_text = ci_test("parse_text")
test_parse_json_values = ci_test("parse_json_values")
test_parse_structured = ci_test("parse_structured")
test_serialize_round_trip = ci_test("serialize_round_trip")
test_merge = ci_test("merge")
test_merge_document_keeps_matches = ci_test("merge_document_keeps_matches")
test_keyring_arbitrary = ci_test("keyring_arbitrary")
test_keyring_own_registry = ci_test("keyring_own_registry")
test_server_accepted_is_matched = ci_test("server_accepted_is_matched")
test_duration_arbitrary = ci_test("duration_arbitrary")
test_duration_error_message = ci_test("duration_error_message")
test_duration_round_trip = ci_test("duration_round_trip")


def test_properties_all_have_a_ci_test():
    assert sorted(n[len("test_"):] for n in globals() if n.startswith("test_") and n[5:] in BY_NAME) == sorted(BY_NAME)
