"""Differential tests: the collection's pure code against the kubelet's own (kubelet-oracle).

For generated pods (their pull Secrets and images) both must agree on: whether the pull fails
because of a Secret, which Secrets are used, every entry's user name, password and e-mail, how
each image is named for the lookup, and which keys match it, in which order. Host names compare
as the kubelet compares them (``ignore_case=False``); pull_secret_info's case-insensitive mode is a
documented difference that it reports as such.

Every case that ever disagreed is kept in oracle_corpus.jsonl and replayed first. A new
disagreement is appended there, so that it stays a regression test once fixed.
"""

import base64
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils import keyring
from ansible_collections.regcred.k8s.plugins.module_utils import kubelet_secret
from ansible_collections.regcred.k8s.plugins.module_utils import registry
from ansible_collections.regcred.k8s.plugins.module_utils.dockerconfig import DockerConfigError

CORPUS = Path(__file__).with_name("oracle_corpus.jsonl")
# A case is one image looked up in one pod's pull Secrets. Each generated pod is asked for its own
# image and for images made from its keys' hosts and fixed ones (IMAGES_PER_POD in all), so the
# examples below give at least MINIMUM cases per run.
EXAMPLES = {"keys": 1300, "payloads": 1000, "legacy": 300}
IMAGES_PER_POD = 9
MINIMUM = 20000
RUN = settings(derandomize=False, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
generated = {"count": 0}


def _b(text):
    return text.encode("utf-8", "surrogateescape")


def ours(case):
    """What our code concludes, in the oracle's answer format (minus error texts)."""
    secrets, error = [], None
    for secret in case["secrets"]:
        data = dict((k, v) for k, v in secret["data"].items())
        try:
            used, entries = kubelet_secret.read({"type": secret["type"], "data": data})
        except DockerConfigError:
            secrets.append({"used": True, "error": True, "entries": {}})
            error = True if error is None else error
            continue
        secrets.append({"used": used, "error": False, "entries": dict(
            (k, [_b(e.username), _b(e.password), _b(e.email)]) for k, e in entries.items())})
    images = []
    for text in case["images"]:
        try:
            ref = keyring.parse_image(text)
        except ValueError:
            images.append({"repo": None, "matches": []})
            continue
        matches = []
        if not error:
            offered = [(key, (i, entry)) for i, secret in enumerate(secrets)
                       for key, entry in sorted(secret["entries"].items(), key=lambda item: _b(item[0]))]
            matches = [[i, key, entry[0], entry[1]] for key, (i, entry) in keyring.lookup(offered, ref, ignore_case=False)]
        images.append({"repo": ref.lookup_name, "matches": matches})
    return {"error": bool(error), "secrets": secrets, "images": images}


def theirs(answer):
    """The oracle's answer in the same form."""
    def raw(value):
        return base64.b64decode(value or "")

    secrets = [{"used": s["used"], "error": s["error"] is not None,
                "entries": dict((k, [raw(e["username"]), raw(e["password"]), raw(e["email"])])
                                for k, e in s["entries"].items())} for s in answer["secrets"] or []]
    images = [{"repo": i["repo"],
               "matches": [[m["secret"], m["key"], raw(m["username"]), raw(m["password"])] for m in i["matches"]]}
              for i in answer["images"] or []]
    return {"error": answer["error"] is not None, "secrets": secrets, "images": images}


def check(oracle, case):
    """Assert agreement; a disagreement is added to the corpus before the test fails."""
    generated["count"] += len(case["images"])
    answer = theirs(oracle.ask(dict(case, op="pull")))
    mine = ours(case)
    if answer != mine:
        line = json.dumps(case, sort_keys=True)
        known = CORPUS.read_text(encoding="utf-8").splitlines() if CORPUS.exists() else []
        if line not in known:
            with CORPUS.open("a", encoding="utf-8") as corpus:
                corpus.write(line + "\n")
    assert answer == mine, json.dumps(case)


def secret(kind, key, payload):
    return {"type": kind, "data": {key: base64.b64encode(payload).decode("ascii")}}


# --- generators ----------------------------------------------------------------------------------

LOWER = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)
LABEL = st.one_of(LOWER, LOWER.map(str.upper), st.sampled_from(["io", "com", "gcr", "quay", "Quay", "eu"]))
GLOB = st.sampled_from(["*", "?", "[a-z]", "[^x]", "[!x]", "[^a-z]*", "e[a-z]", "q[^x]ay", "q[!x]ay", "\\*", "a\\",
                        "[", "[]", "[a-", "*u*", "[\\]]", "\u017f", "[a-\\z]"])
PORT = st.sampled_from(["", "", ":5000", ":443", ":", ":0x1", "::5000"])
IPV6 = st.sampled_from(["[::1]", "[fe80::1%25eth0]", "[::ffff:127.0.0.1]", "[1.2.3.4]", "[::1", "[zz::1]"])
HOST = st.one_of(
    st.lists(LABEL, min_size=2, max_size=4).map(".".join),
    st.sampled_from(["localhost", "docker.io", "index.docker.io", "registry-1.docker.io", "Docker.IO"]),
    IPV6,
)
PATH = st.sampled_from(["", "", "/", "/v1/", "/v2/", "/v1", "/v2", "/org", "/org/", "/v2/org", "/v1/org/app",
                        "/org/app", "/Org", "/o%72g", "/%zz", "/%2525", "/org?x", "/org#frag", "/a\\b", "/org@x"])
SCHEME = st.sampled_from(["", "", "https://", "http://", "HTTPS://", "Https://", "hTTp://", "https:/", "ftp://"])
COMPONENT = st.from_regex(r"[a-z0-9]{1,5}([._-][a-z0-9]{1,4})?", fullmatch=True)


@st.composite
def image_and_keys(draw):
    host = draw(HOST)
    port = draw(st.sampled_from(["", "", ":5000"]))
    repo = draw(st.lists(st.sampled_from(["org", "app", "library", "o"]) | COMPONENT, min_size=1, max_size=3))
    tag = draw(st.sampled_from(["", ":1.0", ":latest", "@sha256:" + "ab" * 32]))
    image = draw(st.sampled_from([
        "%s%s/%s%s" % (host, port, "/".join(repo), tag),
        "/".join(repo) + tag,
        repo[-1] + tag,
    ]))
    keys = []
    for unused_index in range(draw(st.integers(1, 4))):
        labels = host.split(".")
        if draw(st.booleans()) and len(labels) > 1:
            labels[draw(st.integers(0, len(labels) - 1))] = draw(GLOB)
        key_host = draw(st.sampled_from([".".join(labels)] * 3 + [host.upper(), host, draw(HOST)]))
        key_port = draw(st.sampled_from([port, draw(PORT)]))
        path = draw(st.sampled_from([draw(PATH), "", "/" + "/".join(repo[:draw(st.integers(0, len(repo)))])]))
        keys.append(draw(SCHEME) + key_host + key_port + path)
    return image, keys


def _json(value):
    return json.dumps(value, ensure_ascii=False)


def _obj(pairs):
    return "{" + ",".join("%s:%s" % (_json(k), v) for k, v in pairs) + "}"


USER = st.sampled_from(["u", "robot$ci", "user:x", "", "\u00fc", "a b"])
PASSWORD = st.sampled_from(["p", "", "pa:ss", "p=", "\u20ac"])


@st.composite
def auth_value(draw):
    """An "auth" field: padded or unpadded base64 of user:password, with or without a colon, or junk."""
    text = draw(USER) + draw(st.sampled_from([":", ""])) + draw(PASSWORD)
    raw = text.encode("utf-8") if draw(st.integers(0, 9)) else b"\xff\xfeu:p"
    encoded = base64.b64encode(raw).decode("ascii")
    form = draw(st.sampled_from(["padded", "unpadded", "newline", "space", "junk", "urlsafe", "empty"]))
    if form == "unpadded":
        encoded = encoded.rstrip("=")
    elif form == "newline":
        encoded = encoded[:4] + "\n" + encoded[4:]
    elif form == "space":
        encoded += " "
    elif form == "junk":
        encoded = draw(st.sampled_from(["!!", "YWI6Yw=", "=", "YQ==YQ==", "Y", "YWI6Yw==\r\n", "\u00e9"]))
    elif form == "urlsafe":
        encoded = base64.urlsafe_b64encode(b"\xfb\xff:?").decode("ascii")
    elif form == "empty":
        encoded = ""
    return encoded


FIELD = {
    "username": st.sampled_from(["username", "Username", "USERNAME", "u\u017fername", "user"]),
    "password": st.sampled_from(["password", "Password", "PASSWORD", "pass"]),
    "email": st.sampled_from(["email", "Email"]),
    "auth": st.sampled_from(["auth", "Auth", "AUTH", "auths"]),
}


@st.composite
def entry_json(draw):
    form = draw(st.sampled_from(["fields", "auth", "both", "empty", "null", "broken", "dup"]))
    if form == "empty":
        return "{}"
    if form == "null":
        return "null"
    if form == "broken":
        return draw(st.sampled_from(['"x"', "[]", "1", '{"username": 5}', '{"auth": true}', '{"password": []}']))
    pairs = []
    if form in ("fields", "both", "dup"):
        pairs += [(draw(FIELD["username"]), _json(draw(USER))), (draw(FIELD["password"]), _json(draw(PASSWORD)))]
    if form in ("auth", "both", "dup"):
        pairs.append((draw(FIELD["auth"]), _json(draw(auth_value()))))
    if form == "dup":
        pairs.append((draw(st.sampled_from(["auth", "username"])), draw(st.sampled_from(["null", '""', '"x"']))))
    if draw(st.booleans()):
        pairs.append((draw(FIELD["email"]), _json("e@x")))
    return _obj(draw(st.permutations(pairs)))


KEY = st.one_of(
    st.sampled_from(["quay.io", "https://index.docker.io/v1/", "docker.io", "HTTPS://quay.io", "q[^x]ay.io",
                     "q[!x]ay.io", "quay.io/org", "127.0.0.1:5000", "*.gcr.io", "", "Quay.io"]),
    image_and_keys().map(lambda pair: pair[1][0]),
)


@st.composite
def auths_json(draw):
    pairs = [(draw(KEY), draw(entry_json())) for unused_index in range(draw(st.integers(0, 3)))]
    return _obj(pairs)


@st.composite
def payload(draw):
    form = draw(st.sampled_from(["normal", "normal", "headers", "dup", "null", "wrong", "broken", "bytes"]))
    name = draw(st.sampled_from(["auths", "auths", "Auths", "AUTHS", "auth", "\u212auths"]))
    auths = draw(auths_json())
    if form == "headers":
        text = _obj([(name, auths), (draw(st.sampled_from(["HttpHeaders", "httpheaders"])),
                                     draw(st.sampled_from(['{"a":"b"}', '{"a":1}', "null", "[]"])))])
    elif form == "dup":
        text = _obj([(name, auths), (draw(st.sampled_from(["auths", "Auths"])),
                                     draw(st.sampled_from(["null", "{}", draw(auths_json())])))])
    elif form == "null":
        text = draw(st.sampled_from(["null", '{"auths":null}', "{}", "[]", '"x"', '{"auths":[]}', '{"auths":1}']))
    elif form == "wrong":
        text = _obj([(name, auths), ("x", draw(st.sampled_from(["1e999", "[1,{}]", "NaN", "-0", "01"])))])
    elif form == "broken":
        whole = _obj([(name, auths)])
        text = whole[:draw(st.integers(0, max(0, len(whole) - 1)))]
    else:
        text = _obj([(name, auths)])
    raw = text.encode("utf-8")
    if form == "bytes":
        raw = _obj([(name, auths)]).encode("utf-8").replace(b'"u"', b'"\xc3u\xed\xa0\x80"').replace(b"quay", b"q\xffay")
    return raw


@st.composite
def pull_case(draw, legacy=False):
    image, keys = draw(image_and_keys())
    secrets = []
    for unused_index in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["kubernetes.io/dockerconfigjson"] * 6 + ["kubernetes.io/dockercfg", "Opaque"]))
        if legacy:
            kind = "kubernetes.io/dockercfg"
        key = {"kubernetes.io/dockercfg": ".dockercfg"}.get(kind, ".dockerconfigjson")
        if draw(st.integers(0, 9)) == 0:
            key = draw(st.sampled_from([".dockercfg", ".dockerconfigjson", "config.json"]))
        if kind == "kubernetes.io/dockercfg" and key == ".dockercfg":
            raw = draw(st.one_of(auths_json().map(lambda t: t.encode("utf-8")), st.sampled_from([b"null", b"[]", b"{"])))
        elif draw(st.booleans()):
            raw = draw(payload())
        else:
            raw = _obj([("auths", _obj([(k, entry_json_simple(draw)) for k in keys]))]).encode("utf-8")
        if draw(st.integers(0, 19)) == 0:
            raw = b""
        secrets.append(secret(kind, key, raw))
    return {"secrets": secrets, "images": images_for(image, keys)}


FIXED_IMAGES = ["nginx", "quay.io/org/app", "localhost/app", "Quay.io/org/app", "docker.io/org/app", "eu.gcr.io/p/a",
                "127.0.0.1:5000/r/app", "[::1]:5000/app", "BAD IMAGE", "index.docker.io/org/app:1"]


def images_for(image, keys):
    """IMAGES_PER_POD images for one pod: its own, one at each key's host and path, then fixed ones."""
    found = [image]
    for key in keys:
        rest = key.split("://", 1)[-1]
        found.append(rest.rstrip("/") + "/team/app:1")
    for extra in FIXED_IMAGES:
        if len(found) >= IMAGES_PER_POD:
            break
        found.append(extra)
    return found[:IMAGES_PER_POD]


def entry_json_simple(draw):
    return _obj([("username", _json(draw(USER))), ("password", _json(draw(PASSWORD)))])


# --- tests ---------------------------------------------------------------------------------------

def corpus_cases():
    if not CORPUS.exists():
        return []
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", corpus_cases())
def test_every_case_that_ever_disagreed_agrees_now(oracle, case):
    check(oracle, case)


@settings(RUN, max_examples=EXAMPLES["keys"])
@given(image_and_keys(), st.data())
def test_keys_match_as_the_kubelet_matches_them(oracle, image_keys, data):
    image, keys = image_keys
    secrets = [{"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": base64.b64encode(
        _obj([("auths", _obj([(k, entry_json_simple(data.draw)) for k in chunk]))]).encode("utf-8")).decode()}}
        for chunk in (keys[:2], keys[2:]) if chunk]
    check(oracle, {"secrets": secrets, "images": images_for(image, keys)})


@settings(RUN, max_examples=EXAMPLES["payloads"])
@given(pull_case())
def test_secrets_are_read_as_the_kubelet_reads_them(oracle, case):
    check(oracle, case)


@settings(RUN, max_examples=EXAMPLES["legacy"])
@given(pull_case(legacy=True))
def test_legacy_dockercfg_secrets_are_read_as_the_kubelet_reads_them(oracle, case):
    check(oracle, case)


def test_enough_cases_were_generated(oracle):
    assert generated["count"] >= MINIMUM, generated
    assert oracle.asked >= sum(EXAMPLES.values())


# --- registry challenges -------------------------------------------------------------------------

TOKEN68 = st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}", fullmatch=True)
QUOTED = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=20).map(
    lambda v: '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"'))


@st.composite
def challenge_header(draw):
    """One WWW-Authenticate value as registries send it: a scheme and comma-separated parameters."""
    scheme = draw(st.sampled_from(["Bearer", "bearer", "BASIC", "Basic", "Digest"]))
    params = draw(st.lists(st.tuples(st.sampled_from(["realm", "Realm", "service", "scope", "error", "x"]),
                                     st.one_of(TOKEN68, QUOTED.filter(lambda v: v != '""'))),
                           max_size=4, unique_by=lambda p: p[0].lower()))
    separator = draw(st.sampled_from([",", ", ", " ,"]))
    return scheme + " " + separator.join("%s=%s" % pair for pair in params)


@settings(RUN, max_examples=500)
@given(challenge_header())
def test_challenges_are_read_as_distribution_reads_them(oracle, header):
    """registry.parse_challenge against distribution's registry/client/auth/challenge."""
    expected = oracle.ask({"op": "challenge", "headers": [header]})["challenges"]
    assert [registry.parse_challenge(header)] == [(c["scheme"], c["params"]) for c in expected], header
