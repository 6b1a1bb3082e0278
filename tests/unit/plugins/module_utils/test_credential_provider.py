# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""credential_provider.py: the kubelet credential provider plugin's config, request, choice of
logins and response."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import json

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import credential_provider as cp
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone.utc)
HUB = "https://index.docker.io/v1/"


def config(*sources, annotation=None, audience=None):
    doc = {"credentials": list(sources)}
    if annotation:
        doc["service_account_annotation"] = annotation
    if audience:
        doc["service_account_audience"] = audience
    return cp.parse_config(json.dumps(doc))


def basic(server, username="u", password="p", **extra):
    return dict(provider="basic", server=server, username=username, password=password, **extra)


def token(namespace, aud=("regcred",)):
    claims = {"aud": list(aud), "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": "puller"}}}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return "eyJhbGciOiJSUzI1NiJ9.%s.c2lnbmF0dXJl" % body


def request(image, sa_token=None, annotations=None):
    doc = {"apiVersion": cp.API_VERSION, "kind": "CredentialProviderRequest", "image": image}
    if sa_token:
        doc["serviceAccountToken"] = sa_token
    if annotations is not None:
        doc["serviceAccountAnnotations"] = annotations
    return cp.parse_request(json.dumps(doc))


def answer(conf, req, files=None):
    return cp.respond(conf, cp.logins(conf, files or {}), req, NOW)


# --- matching like the kubelet ----------------------------------------------------------------

@pytest.mark.parametrize("image, keys", [
    ("quay.io/team-a/app:v1", ["quay.io/team-a", "quay.io"]),
    ("quay.io/team-b/app", ["quay.io"]),
    ("eu.gcr.io/p/app", ["*.gcr.io"]),
    ("gcr.io/p/app", []),
    ("127.0.0.1:5000/regcred/hello:v1", ["127.0.0.1:5000"]),
    ("127.0.0.1:5001/regcred/hello:v1", []),
    ("nginx", [HUB]),
    ("docker.io/library/nginx@sha256:" + "0" * 64, [HUB]),
])
def test_the_logins_given_are_those_the_kubelet_matches_in_its_order(image, keys):
    conf = config(basic("quay.io"), basic("quay.io/team-a", "a"), basic("*.gcr.io"), basic("127.0.0.1:5000"),
                  {"provider": "dockerhub", "username": "hub", "password": "pat"})
    response = answer(conf, request(image))
    assert list(response["auth"]) == keys


def test_response_shape_and_json():
    conf = config(basic("127.0.0.1:5000", "robot", "s3cret"))
    response = answer(conf, request("127.0.0.1:5000/regcred/hello:v1"))
    assert response == {"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderResponse",
                        "cacheKeyType": "Image", "auth": {"127.0.0.1:5000": {"username": "robot", "password": "s3cret"}}}
    assert json.loads(cp.render(response)) == response
    assert cp.render(response).endswith("}\n")


def test_the_first_login_for_a_key_wins():
    conf = config(basic("quay.io", "first"), basic("quay.io", "second"))
    assert answer(conf, request("quay.io/x/y"))["auth"] == {"quay.io": {"username": "first", "password": "p"}}


def test_no_match_is_an_empty_answer_that_is_not_cached():
    response = answer(config(basic("quay.io")), request("ghcr.io/x/y"))
    assert response["auth"] == {} and response["cacheDuration"] == "0s"


# --- cache duration follows expiry -------------------------------------------------------------

@pytest.mark.parametrize("expiries, expected", [
    ([None], None),
    (["2026-11-30T13:00:00Z"], "3540s"),
    (["2026-11-30T13:00:00+01:00"], "0s"),  # 12:00 UTC: expires now
    (["2026-11-30T11:00:00Z"], "0s"),  # already expired: given, never cached
    (["2026-11-30T12:00:30Z"], "0s"),  # inside the margin
    (["2026-12-01T12:00:00Z", "2026-11-30T14:00:00Z"], "7140s"),  # the earliest of the logins given
])
def test_cache_duration_ends_before_the_earliest_expiry(expiries, expected):
    sources = [basic("quay.io" if i == 0 else "quay.io/team", "u%d" % i, **({"expires_at": e} if e else {}))
               for i, e in enumerate(expiries)]
    response = answer(config(*sources), request("quay.io/team/app"))
    assert len(response["auth"]) == len(expiries)
    assert response.get("cacheDuration") == expected


def test_expiry_of_logins_not_given_does_not_count():
    conf = config(basic("quay.io"), basic("ghcr.io", expires_at="2026-11-30T12:10:00Z"))
    assert "cacheDuration" not in answer(conf, request("quay.io/a/b"))


# --- docker_config and dockerhub sources ---------------------------------------------------------

def test_docker_config_source_reads_the_given_file_and_keeps_the_servers_asked_for():
    auth = base64.b64encode(b"bot:tok").decode()
    auths = {"ghcr.io": {"auth": auth}, "quay.io": {"username": "q", "password": "qp"}}
    files = {"/root/.docker/config.json": json.dumps({"auths": auths})}
    conf = config({"provider": "docker_config", "path": "/root/.docker/config.json", "servers": ["ghcr.io"]})
    assert conf.docker_config_paths() == ["/root/.docker/config.json"]
    assert answer(conf, request("ghcr.io/o/app"), files)["auth"] == {"ghcr.io": {"username": "bot", "password": "tok"}}
    assert answer(conf, request("quay.io/o/app"), files)["auth"] == {}


def test_docker_config_errors_name_the_source_not_the_secret():
    conf = config({"provider": "docker_config", "path": "/c.json", "servers": ["ghcr.io"]})
    with pytest.raises(InputError) as error:
        cp.logins(conf, {"/c.json": json.dumps({"auths": {"quay.io": {"auth": base64.b64encode(b"u:hidden").decode()}}})})
    assert "credentials[0].path (/c.json)" in str(error.value) and "hidden" not in str(error.value)


# --- service-account-token mode -------------------------------------------------------------------

ANNOTATION = "regcred.k8s/credential"


def team_config():
    return config(basic("quay.io", "robot-a", name="team-a", namespaces=["team-a"]),
                  basic("quay.io", "robot-b", name="team-b"),
                  basic("quay.io", "robot-any"),
                  annotation=ANNOTATION)


@pytest.mark.parametrize("namespace, annotations, user", [
    ("team-a", {ANNOTATION: "team-a"}, "robot-a"),
    ("team-b", {ANNOTATION: "team-b"}, "robot-b"),
    ("team-c", {ANNOTATION: "team-b"}, "robot-b"),  # team-b's login names no namespaces
    ("team-c", {ANNOTATION: "team-a"}, None),  # team-a's login is for namespace team-a alone
    ("team-a", {}, None),  # no annotation: nothing
    ("team-a", {ANNOTATION: "nobody"}, None),
    ("team-a", {"other": "team-a"}, None),
])
def test_the_service_account_annotation_chooses_the_login(namespace, annotations, user):
    auth = answer(team_config(), request("quay.io/x/y", token(namespace), annotations))["auth"]
    assert [v["username"] for v in auth.values()] == ([user] if user else [])


@pytest.mark.parametrize("sa_token, given", [
    (token("team-b"), True),
    (token("team-b", ["other", "regcred"]), True),
    (token("team-b", []), False),
    (token("team-b", ["other"]), False),
    (None, False),
])
def test_in_token_mode_the_token_must_carry_the_audience(sa_token, given):
    conf = config(basic("quay.io", "robot-b", name="team-b"), annotation=ANNOTATION, audience="regcred")
    auth = answer(conf, request("quay.io/x/y", sa_token, {ANNOTATION: "team-b"}))["auth"]
    assert bool(auth) == given


@pytest.mark.parametrize("claims, audiences", [
    ({"aud": "one"}, ["one"]),
    ({"aud": ["a", 5, "b"]}, ["a", "b"]),
    ({"aud": {"x": 1}}, []),
    ({}, []),
])
def test_token_audiences(claims, audiences):
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert cp.token_audiences("h.%s.s" % body) == audiences


def test_namespaced_logins_need_a_token():
    conf = config(basic("quay.io", namespaces=["team-a"]))
    assert answer(conf, request("quay.io/x/y"))["auth"] == {}
    assert answer(conf, request("quay.io/x/y", "not-a-jwt"))["auth"] == {}
    assert list(answer(conf, request("quay.io/x/y", token("team-a")))["auth"]) == ["quay.io"]


@pytest.mark.parametrize("value", [None, "", "a.b", "a.!!!.c", "a.%s.c" % base64.b64encode(b'{"kubernetes.io": 1}').decode(),
                                   "a.%s.c" % base64.urlsafe_b64encode(b'{"kubernetes.io": {"namespace": 5}}').decode()])
def test_token_namespace_of_anything_else_is_none(value):
    assert cp.token_namespace(value) is None


# --- bad input names the field, never the secret ------------------------------------------------------

@pytest.mark.parametrize("doc, field", [
    ({"credentials": [{"provider": "ecr"}]}, "credentials[0].provider"),
    ({"credentials": [{"provider": "basic", "username": "u", "password": "hidden"}]}, "credentials[0].server"),
    ({"credentials": [basic("q.io", password="")]}, "credentials[0].password"),
    ({"credentials": [basic("q.io", username="a:b", password="hidden")]}, "credentials[0].username"),
    ({"credentials": [basic("q.io", password="hidden", expires_at="tomorrow")]}, "credentials[0].expires_at"),
    ({"credentials": [basic("q.io", password="hidden", expires_at="2026-12-01T00:00:00")]}, "credentials[0].expires_at"),
    ({"credentials": [basic("q.io", password="hidden", namespaces="team-a")]}, "credentials[0].namespaces"),
    ({"credentials": [basic("q.io", password="hidden", servers=["x"])]}, "credentials[0].servers"),
    ({"credentials": [basic("q.io", password="hidden", pasword="typo")]}, "credentials[0]"),
    ({"credentials": [{"provider": "dockerhub", "server": "q.io", "username": "u", "password": "hidden"}]},
     "credentials[0].server"),
    ({"credentials": [{"provider": "docker_config"}]}, "credentials[0].path"),
    ({"credentials": "x"}, "credentials"),
    ({"credentials": [], "service_account_annotation": ""}, "service_account_annotation"),
    ({"credentials": [], "service_account_audience": "regcred"}, "service_account_audience"),
    ({"credentials": [], "service_account_annotation": "a", "service_account_audience": 3}, "service_account_audience"),
    ({"credentials": [], "extra": 1}, "credentials file"),
    ([], "credentials file"),
])
def test_bad_config_names_the_field(doc, field):
    with pytest.raises(InputError) as error:
        cp.parse_config(json.dumps(doc))
    assert error.value.field == field
    assert "hidden" not in str(error.value)


def test_config_that_is_not_json():
    with pytest.raises(InputError, match="not valid JSON"):
        cp.parse_config("{", "/etc/regcred/credentials.json")


@pytest.mark.parametrize("text, field", [
    ("nope", "request"),
    (json.dumps({"kind": "Other"}), "request"),
    (json.dumps({"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1alpha1",
                 "image": "a"}), "request.apiVersion"),
    (json.dumps({"kind": "CredentialProviderRequest", "apiVersion": cp.API_VERSION, "image": "app/UPPER"}),
     "request.image"),
    (json.dumps({"kind": "CredentialProviderRequest", "apiVersion": cp.API_VERSION, "image": "a",
                 "serviceAccountAnnotations": []}), "request.serviceAccountAnnotations"),
])
def test_bad_request_names_the_field(text, field):
    with pytest.raises(InputError) as error:
        cp.parse_request(text)
    assert error.value.field == field


@pytest.mark.parametrize("mode, owner, message", [
    (0o100644, 0, "mode 0644"),
    (0o100640, 0, "mode 0640"),
    (0o100600, 1000, "uid 1000"),
])
def test_the_credentials_file_must_be_private(mode, owner, message):
    with pytest.raises(InputError, match=message):
        cp.check_file_mode("/etc/regcred/credentials.json", mode, owner, 0)


def test_a_private_file_passes():
    assert cp.check_file_mode("/f", 0o100600, 0, 0) is None
    assert cp.check_file_mode("/f", 0o100400, 1000, 1000) is None


def test_logins_never_show_their_password():
    (login,) = cp.logins(config(basic("q.io", password="hidden")), {})
    assert "hidden" not in repr(login)
