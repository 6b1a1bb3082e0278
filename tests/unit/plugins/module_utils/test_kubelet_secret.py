# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubelet_secret.py: pull Secrets read as the kubelet reads them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import kubelet_secret as ks
from ansible_collections.regcred.k8s.plugins.module_utils.dockerconfig import DockerConfigError


def secret(payload, kind=ks.JSON_TYPE, key=ks.JSON_KEY):
    raw = payload.encode("utf-8") if isinstance(payload, str) else payload
    return {"type": kind, "data": {key: base64.b64encode(raw).decode("ascii")}}


def entries(payload, **kwargs):
    used, found = ks.read(secret(payload, **kwargs))
    assert used
    return dict((k, tuple(v)) for k, v in found.items())


def test_auth_is_decoded_last_and_overrides_the_fields():
    payload = '{"auths":{"q.io":{"auth":"YWI6Yw==","username":"other","password":"x","email":"e"}}}'
    assert entries(payload) == {"q.io": ("ab", "c", "e")}


def test_unpadded_auth_is_accepted():
    assert entries('{"auths":{"q.io":{"auth":"YWI6Yw"}}}') == {"q.io": ("ab", "c", "")}


def test_an_entry_without_credentials_is_kept_next_to_the_others():
    assert entries('{"auths":{"a.io":{},"b.io":{"username":"u","password":"p"},"c.io":null}}') == {
        "a.io": ("", "", ""), "b.io": ("u", "p", ""), "c.io": ("", "", "")}


def test_field_names_match_case_insensitively():
    assert entries('{"Auths":{"q.io":{"Username":"u","PASSWORD":"p","u\u017fername":"v"}}}') == {
        "q.io": ("v", "p", "")}
    assert entries('{"auths":{"q.io":{"Auth":"YTpi"}}}') == {"q.io": ("a", "b", "")}


def test_null_keeps_what_was_there_and_a_later_member_wins():
    assert entries('{"auths":{"q.io":{"auth":"YTpi","auth":null,"username":"x"}}}') == {"q.io": ("a", "b", "")}
    assert entries('{"auths":{"a.io":{}},"Auths":{"b.io":{}}}') == {"a.io": ("", "", ""), "b.io": ("", "", "")}
    assert entries('{"auths":{"a.io":{}},"auths":null}') == {}


def test_legacy_dockercfg():
    assert entries('{"q.io":{"auth":"YTpi"}}', kind=ks.LEGACY_TYPE, key=ks.LEGACY_KEY) == {"q.io": ("a", "b", "")}


@pytest.mark.parametrize("kind, key, payload", [
    ("Opaque", ks.JSON_KEY, "{}"),
    (ks.JSON_TYPE, ks.LEGACY_KEY, "{}"),
    (ks.LEGACY_TYPE, ks.JSON_KEY, "{}"),
    (ks.JSON_TYPE, ks.JSON_KEY, ""),
])
def test_secrets_the_kubelet_skips(kind, key, payload):
    assert ks.read(secret(payload, kind=kind, key=key)) == (False, {})


@pytest.mark.parametrize("payload, reason", [
    ("{", "not valid JSON"),
    ('{"auths":[]}', "cannot unmarshal array into Go struct field DockerConfigJSON.auths"),
    ('{"auths":{"q.io":{"username":5}}}', "cannot unmarshal number into Go struct field dockerConfigEntryWithAuth.username"),
    ('{"auths":{"q.io":"x"}}', "cannot unmarshal string into Go value"),
    ('{"auths":{"q.io":{"auth":"!!"}}}', "illegal base64 data"),
    ('{"auths":{"q.io":{"auth":"YWI="}}}', ks.AUTH_FORMAT),
    ('{"HttpHeaders":{"a":1}}', "HttpHeaders"),
    ("[]", "cannot unmarshal array into Go value of type credentialprovider.DockerConfigJSON"),
    ('{"x":NaN}', "not valid JSON"),
])
def test_secrets_that_make_the_kubelet_fail_the_pull(payload, reason):
    with pytest.raises(DockerConfigError) as info:
        ks.read(secret(payload))
    assert info.value.field == "data[.dockerconfigjson]"
    assert reason in info.value.reason


def test_bytes_that_are_not_utf8_are_kept_and_shown_replaced():
    found = entries('{"auths":{"q.io":{"auth":"%s"}}}' % base64.b64encode(b"\xff:p").decode())
    assert ks.shown(found["q.io"][0]) == u"\ufffd"
    assert found["q.io"][0].encode("utf-8", "surrogateescape") == b"\xff"
