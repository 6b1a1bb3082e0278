# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""keyring.py: image names as the kubelet parses them, and its registry-key matching and order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils import keyring

DIGEST = "sha256:" + "0123456789abcdef" * 4


def keys_for(image, *keys, ignore_case=True):
    """The keys the kubelet offers for ``image``, in its order."""
    return [key for key, item in keyring.lookup([(k, None) for k in keys], keyring.parse_image(image), ignore_case)]


# --- image references ------------------------------------------------------------------------

@pytest.mark.parametrize("text, registry, repository, tag, digest", [
    ("nginx", "index.docker.io", "library/nginx", "latest", None),
    ("nginx:1.25", "index.docker.io", "library/nginx", "1.25", None),
    ("library/nginx", "index.docker.io", "library/nginx", "latest", None),
    ("bitnami/redis:7", "index.docker.io", "bitnami/redis", "7", None),
    ("docker.io/nginx", "index.docker.io", "library/nginx", "latest", None),
    ("docker.io/bitnami/redis", "index.docker.io", "bitnami/redis", "latest", None),
    ("index.docker.io/nginx:alpine", "index.docker.io", "library/nginx", "alpine", None),
    ("index.docker.io/org/app", "index.docker.io", "org/app", "latest", None),
    ("quay.io/org/app:v1.2.3-rc_1", "quay.io", "org/app", "v1.2.3-rc_1", None),
    ("127.0.0.1:5000/regcred/hello:v1", "127.0.0.1:5000", "regcred/hello", "v1", None),
    ("localhost/app", "localhost", "app", "latest", None),
    ("localhost:5000/a/b/c", "localhost:5000", "a/b/c", "latest", None),
    ("[::1]:5000/app", "[::1]:5000", "app", "latest", None),
    ("Registry.Example.COM/team/app", "Registry.Example.COM", "team/app", "latest", None),
    ("ghcr.io/o/app@" + DIGEST, "ghcr.io", "o/app", None, DIGEST),
    ("ghcr.io/o/app:1.0@" + DIGEST, "ghcr.io", "o/app", "1.0", DIGEST),
    ("nginx@" + DIGEST, "index.docker.io", "library/nginx", None, DIGEST),
    ("eu.gcr.io/p/my__app.x-y", "eu.gcr.io", "p/my__app.x-y", "latest", None),
])
def test_parse_image(text, registry, repository, tag, digest):
    ref = keyring.parse_image(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert ref.reference == (digest or tag)


def test_lookup_name_is_the_kubelets():
    assert keyring.parse_image("nginx").lookup_name == "docker.io/library/nginx"
    assert keyring.parse_image("index.docker.io/org/app:1").lookup_name == "docker.io/org/app"
    assert keyring.parse_image("quay.io/org/app@" + DIGEST).lookup_name == "quay.io/org/app"


@pytest.mark.parametrize("text, why", [
    ("", "empty"),
    ("Bad Image!", "lower case"),
    ("quay.io/Org/app", "lower case"),
    ("quay.io/org/app:", "expected"),
    ("quay.io/org/app:-tag", "expected"),
    ("quay.io//app", "expected"),
    ("quay.io/org/app@sha256:abc", "expected"),
    ("registry:port/app", "expected"),
    ("app:" + "t" * 129, "expected"),
    ("-app", "expected"),
    ("0123456789abcdef" * 4, "image ID"),
    ("quay.io/" + "a" * 250, "longer than 255"),
])
def test_invalid_images_name_the_field(text, why):
    with pytest.raises(ValueError) as info:
        keyring.parse_image(text, "image[2]")
    message = str(info.value)
    assert message.startswith("image[2]: %r is not a valid image reference" % text)
    assert why in message


# --- key normalisation -----------------------------------------------------------------------

@pytest.mark.parametrize("key, indexed", [
    ("https://index.docker.io/v1/", "index.docker.io"),
    ("index.docker.io", "index.docker.io"),
    ("docker.io", "docker.io"),
    ("http://quay.io/", "quay.io"),
    # the scheme prefix check is case-sensitive: this is host "HTTPS:" with path "//quay.io"
    ("HTTPS://quay.io", "HTTPS://quay.io"),
    ("quay.io/v2/", "quay.io"),
    ("quay.io/v2/org", "quay.io/org"),
    ("quay.io/org/", "quay.io/org/"),
    ("127.0.0.1:5000", "127.0.0.1:5000"),
    ("https://user@reg.example.com/team", "reg.example.com/team"),
    # no host: filed all the same, and never matched
    ("", ""),
    ("https://", ""),
    ("/path-only", "/path-only"),
    ("quay.io/o%72g", "quay.io/org"),
    # Go's url.Parse rejects these, so the kubelet ignores the entry
    ("e[a-z].gcr.io", None),
    ("q[^x]ay.io", None),
    ("quay.io\\org", None),
    ("quay.io/%zz", None),
    ("[::1", None),
    ("[1.2.3.4]:5000", None),
    ("quay.io/org?x#y", "quay.io/org"),
])
def test_index_key(key, indexed):
    assert keyring.index_key(key) == indexed


# --- matching: (image, keys in the Secret, keys the kubelet offers in order) -----------------

MATCHES = [
    # globs: one label per *, same number of labels
    ("eu.gcr.io/p/app", ["*.gcr.io"], ["*.gcr.io"]),
    ("gcr.io/p/app", ["*.gcr.io"], []),
    ("a.b.gcr.io/p/app", ["*.gcr.io"], []),
    ("eu.gcr.io/p/app", ["eu.*.io"], ["eu.*.io"]),
    ("my-reg.azurecr.io/app", ["*.azurecr.io"], ["*.azurecr.io"]),
    ("k8s.example.io/app", ["k8s.*"], []),
    ("registry.k8s.io/app", ["*.*.io"], ["*.*.io"]),
    ("app1.k8s.io/x", ["app*.k8s.io"], ["app*.k8s.io"]),
    ("eu.gcr.io/p/app", ["e[a-z].gcr.io"], []),  # Go's url.Parse rejects a '[' inside a host
    ("qxay.io/app", ["q[!x]ay.io"], []),  # and so is any class in a host, [!x] and [^x] alike
    ("quay.io/app", ["q[^x]ay.io"], []),
    ("quay.io/app", ["HTTPS://quay.io"], []),
    # "?" starts the URL's query, for the kubelet too, so this key names the host "e"
    ("eu.gcr.io/p/app", ["e?.gcr.io"], []),
    # ports: equal, or both absent
    ("127.0.0.1:5000/r/app", ["127.0.0.1:5000"], ["127.0.0.1:5000"]),
    ("127.0.0.1:5000/r/app", ["127.0.0.1"], []),
    ("127.0.0.1/r/app", ["127.0.0.1:5000"], []),
    ("127.0.0.1:5000/r/app", ["127.0.0.1:5001"], []),
    ("127.0.0.1:5000/r/app", ["https://127.0.0.1:5000/v2/"], ["https://127.0.0.1:5000/v2/"]),
    ("10.0.0.7:443/r/app", ["10.0.0.*:443"], ["10.0.0.*:443"]),
    ("[::1]:5000/app", ["[::1]:5000"], ["[::1]:5000"]),
    ("reg.example.com:5000/app", ["*.example.com:5000"], ["*.example.com:5000"]),
    # paths: a plain string prefix of the image's path
    ("quay.io/org/app", ["quay.io/org"], ["quay.io/org"]),
    ("quay.io/other/app", ["quay.io/org"], []),
    ("quay.io/organisation/app", ["quay.io/org"], ["quay.io/org"]),
    ("quay.io/organisation/app", ["quay.io/org/"], []),
    ("quay.io/org/app", ["quay.io/org/app"], ["quay.io/org/app"]),
    ("quay.io/org/app", ["quay.io/org/app/extra"], []),
    # Docker Hub
    ("nginx", ["https://index.docker.io/v1/"], ["https://index.docker.io/v1/"]),
    ("nginx", ["index.docker.io"], ["index.docker.io"]),
    ("nginx", ["docker.io"], ["docker.io"]),
    ("library/nginx", ["https://index.docker.io/v1/"], ["https://index.docker.io/v1/"]),
    ("docker.io/org/app", ["https://index.docker.io/v1/"], ["https://index.docker.io/v1/"]),
    ("index.docker.io/org/app", ["docker.io"], ["docker.io"]),
    ("docker.io/org/app", ["docker.io/org"], ["docker.io/org"]),
    ("docker.io/org/app", ["docker.io/other"], []),
    ("quay.io/org/app", ["https://index.docker.io/v1/", "docker.io"], []),
    # the kubelet: index.docker.io is a fallback, used only when no other key matches
    ("nginx", ["https://index.docker.io/v1/", "docker.io"], ["docker.io"]),
    ("nginx", ["index.docker.io/library"], []),
    ("nginx", ["*.io"], ["*.io"]),
    ("localhost/app", ["https://index.docker.io/v1/"], ["https://index.docker.io/v1/"]),
    # upper case in hosts compares case-insensitively
    ("Quay.IO/org/app", ["quay.io"], ["quay.io"]),
    ("quay.io/org/app", ["QUAY.io"], ["QUAY.io"]),
    ("nginx", ["https://Index.Docker.IO/v1/"], ["https://Index.Docker.IO/v1/"]),
    # order: reverse lexical, so longer paths and exact labels come before shorter and globs
    ("quay.io/org/app", ["quay.io", "quay.io/org", "quay.io/org/app"], ["quay.io/org/app", "quay.io/org", "quay.io"]),
    ("eu.gcr.io/p/app", ["*.gcr.io", "eu.gcr.io", "gcr.io"], ["eu.gcr.io", "*.gcr.io"]),
    ("127.0.0.1:5000/r/app", ["127.0.0.1:5000", "127.0.0.1:5000/r", "http://127.0.0.1:5000/v1/"],
     ["127.0.0.1:5000/r", "127.0.0.1:5000", "http://127.0.0.1:5000/v1/"]),
    ("quay.io/org/app", ["ghcr.io", "quay.io"], ["quay.io"]),
]


@pytest.mark.parametrize("image, keys, expected", MATCHES)
def test_lookup(image, keys, expected):
    assert keys_for(image, *keys) == expected


def test_the_table_has_enough_cases():
    assert len(MATCHES) >= 30


def test_case_is_kept_when_asked():
    assert keys_for("quay.io/org/app", "QUAY.io", ignore_case=False) == []
    assert keys_for("Quay.IO/org/app", "Quay.IO", ignore_case=False) == ["Quay.IO"]
    assert keys_for("nginx", "https://Index.docker.io/v1/", ignore_case=False) == []


def test_the_same_key_in_several_secrets_is_tried_once_per_secret_in_pod_order():
    entries = [("quay.io", "first"), ("quay.io/org", "first"), ("https://quay.io/v1/", "second"),
               ("quay.io", "third"), ("ghcr.io", "third")]
    found = keyring.lookup(entries, keyring.parse_image("quay.io/org/app"))
    assert found == [("quay.io/org", "first"), ("quay.io", "first"), ("https://quay.io/v1/", "second"),
                     ("quay.io", "third")]


def test_the_docker_hub_fallback_keeps_every_secret():
    entries = [("https://index.docker.io/v1/", "a"), ("quay.io", "b"), ("index.docker.io", "c")]
    assert keyring.lookup(entries, keyring.parse_image("nginx")) == [
        ("https://index.docker.io/v1/", "a"), ("index.docker.io", "c")]


def test_keys_without_a_usable_host_never_match():
    assert keys_for("quay.io/org/app", "[::1", "", "/quay.io", "quay.io") == ["quay.io"]


# --- properties ------------------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
COMPONENT = st.from_regex(r"[a-z0-9]{1,6}([._-][a-z0-9]{1,6})?", fullmatch=True)
HOST = st.lists(LABEL, min_size=2, max_size=4).map(".".join).filter(lambda h: h not in ("docker.io", "index.docker.io"))
PORT = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: ":%d" % p))
IMAGES = st.builds(lambda host, port, path, tag: "%s%s/%s:%s" % (host, port, "/".join(path), tag),
                   HOST, PORT, st.lists(COMPONENT, min_size=1, max_size=3),
                   st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}", fullmatch=True))


@given(IMAGES, st.sampled_from(["", "https://", "http://"]), st.sampled_from(["", "/", "/v1/", "/v2/"]))
def test_a_key_made_of_the_images_own_host_always_matches(image, scheme, suffix):
    ref = keyring.parse_image(image)
    key = scheme + ref.registry + suffix
    assert keys_for(image, key) == [key]


@given(IMAGES, st.data())
def test_every_prefix_of_the_repository_matches_most_specific_first(image, data):
    ref = keyring.parse_image(image)
    components = ref.repository.split("/")
    depth = data.draw(st.integers(0, len(components)))
    keys = [ref.registry + "".join("/" + c for c in components[:n]) for n in range(depth + 1)]
    assert keys_for(image, *data.draw(st.permutations(keys))) == sorted(keys, reverse=True)


@given(IMAGES, LABEL)
def test_a_key_with_another_number_of_labels_never_matches(image, extra):
    ref = keyring.parse_image(image)
    assert keys_for(image, extra + "." + ref.registry, "*." + ref.registry) == []


@given(st.text(max_size=40), IMAGES)
def test_any_key_text_is_either_ignored_or_matched_without_error(key, image):
    assert keys_for(image, key) in ([], [key])
