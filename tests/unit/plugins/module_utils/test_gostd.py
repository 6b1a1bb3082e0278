# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""gostd.py: the Go standard library behaviour the kubelet's key matching relies on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import gostd


@pytest.mark.parametrize("pattern, name, matched", [
    (b"*", b"eu", True),
    (b"e?", b"eu", True),
    (b"[a-z]u", b"eu", True),
    (b"[^x]", b"q", True),      # ^ negates in Go
    (b"[^x]", b"x", False),
    (b"[!x]", b"q", False),     # ! does not: it is one more member of the class
    (b"[!x]", b"!", True),
    (b"[!x]", b"x", True),
    (b"\\*", b"*", True),
    (b"\\*", b"a", False),
    (b"a*b*c", b"axxbyyc", True),
    (b"a*", b"a/b", False),
    (b"", b"", True),
    (b"\xc3\xbc", b"\xc3\xbc", True),
    (b"?", b"\xc3\xbc", True),
])
def test_filepath_match(pattern, name, matched):
    assert gostd.filepath_match(pattern, name) is matched


@pytest.mark.parametrize("pattern", [b"[", b"[]", b"[a-", b"a\\", b"[\\", b"[x-]"])
def test_a_malformed_pattern_is_an_error(pattern):
    with pytest.raises(gostd.GoError):
        gostd.filepath_match(pattern, b"ab")


@pytest.mark.parametrize("url, host, path", [
    (b"https://quay.io", b"quay.io", b""),
    (b"https://quay.io:5000/v2/org", b"quay.io:5000", b"/v2/org"),
    (b"https://u:p@quay.io/a%20b?q#f", b"quay.io", b"/a b"),
    (b"https://HTTPS://quay.io", b"HTTPS:", b"//quay.io"),
    (b"https://[::1]:5000/x", b"[::1]:5000", b"/x"),
    (b"https://[fe80::1%25eth0]/", b"[fe80::1%eth0]", b"/"),
    (b"https://a:1:2", b"a:1:2", b""),     # GODEBUG=urlstrictcolons=0: the last colon starts the port
    (b"https://%c3%bc.io", b"\xc3\xbc.io", b""),
])
def test_url_host_path(url, host, path):
    assert gostd.url_host_path(url) == (host, path)


@pytest.mark.parametrize("url", [b"https://q[a]y.io", b"https://q^y.io", b"https://a\\b", b"https://a:b",
                                 b"https://%41.io", b"https://x/%zz", b"https://[::1", b"https://[1.2.3.4]",
                                 b"https://x\x7f", b"https://a b@x", b"https://x#%z"])
def test_url_parse_errors(url):
    with pytest.raises(gostd.GoError):
        gostd.url_host_path(url)


@pytest.mark.parametrize("hostport, parts", [
    (b"a:1", (b"a", b"1")), (b"[::1]:5", (b"::1", b"5")), (b"a:", (b"a", b"")),
])
def test_split_host_port(hostport, parts):
    assert gostd.split_host_port(hostport) == parts


@pytest.mark.parametrize("hostport", [b"a", b"a:1:2", b"[::1]", b"[::1]x:1", b"a]:1"])
def test_split_host_port_errors(hostport):
    with pytest.raises(gostd.GoError):
        gostd.split_host_port(hostport)


@pytest.mark.parametrize("text, padded, decoded", [
    (b"YWI6Yw==", True, b"ab:c"),
    (b"YWI6Yw", False, b"ab:c"),
    (b"YWI6\r\nYw==", True, b"ab:c"),
    (b"YR==", True, b"a"),     # non-zero trailing bits are accepted
    (b"", False, b""),
])
def test_b64decode(text, padded, decoded):
    assert gostd.b64decode(text, padded) == decoded


@pytest.mark.parametrize("text, padded", [
    (b"YWI6Yw", True), (b"YWI6Yw==", False), (b"Y", False), (b"YQ==YQ==", True), (b"YW I=", True),
    (b"YWI6Yw-_", False),
])
def test_b64decode_errors(text, padded):
    with pytest.raises(gostd.GoError):
        gostd.b64decode(text, padded)


def test_go_text_replaces_each_invalid_byte():
    assert gostd.go_text(b"a\xff\xe2\x82b\xc3\xbc") == u"a\ufffd\ufffd\ufffdb\u00fc"


def test_trim_space():
    assert gostd.trim_space(u"\u00a0 x=\n\u3000") == u"x="
