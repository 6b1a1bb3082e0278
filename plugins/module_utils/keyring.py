# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which registry keys of a pod's pull Secrets the kubelet offers for an image, in its order. Pure.

Image names are parsed as the kubelet parses them (``ParseNormalizedNamed`` of
github.com/distribution/reference) and keys are matched as in
``pkg/credentialprovider/keyring.go``:

- a key gets ``https://`` unless it starts with ``https://`` or ``http://`` in lower case (so
  ``HTTPS://quay.io`` names the host ``HTTPS:`` and never matches); Go's url.Parse cuts it into
  host and (unescaped) path, and a key it rejects is ignored; a path starting with ``/v1/`` or
  ``/v2/`` loses that prefix, and a path of ``/`` is dropped;
- a key matches an image when both hosts have the same number of dot-separated labels and each
  label of the key matches as a Go ``path/filepath.Match`` pattern (``*.gcr.io`` matches
  ``eu.gcr.io``, not ``gcr.io`` nor ``a.b.gcr.io``; ``[^x]`` negates a class, ``[!x]`` does not),
  the ports are equal (or both absent), and the key's path is a plain string prefix of the
  image's path;
- the keys of all Secrets form one index sorted in reverse lexical order, so ``quay.io/org``
  is tried before ``quay.io`` and ``eu.gcr.io`` before ``*.gcr.io``; a key held by several Secrets
  is tried once per Secret, in the pod's order;
- only when no key matches does a Docker Hub image (and, as in the kubelet, any name whose first
  component has no ``.`` or ``:``) fall back to the key ``index.docker.io`` (which is how
  ``https://index.docker.io/v1/`` is indexed).

The kubelet sees Docker Hub images as ``docker.io/...``, so ``docker.io`` and ``*.io`` keys match
them directly. This module reports their registry as ``index.docker.io``, the name kubectl's
default key uses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re

from ansible_collections.regcred.k8s.plugins.module_utils import gostd
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError

DOCKER_HUB = "index.docker.io"
# What distribution/reference calls Docker Hub; the kubelet matches keys against this name.
_HUB_NAME = "docker.io"
_NAME_MAX = 255

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = r"(?:%s(?:\.%s)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?" % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT)
_REFERENCE = re.compile(
    r"(?P<name>(?:(?P<domain>%s)/)?(?P<path>%s(?:/%s)*))"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
    % (_DOMAIN, _PATH_COMPONENT, _PATH_COMPONENT), re.ASCII)
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")


class ImageRef(collections.namedtuple("ImageRef", ("registry", "repository", "tag", "digest"))):
    """A parsed image. ``registry`` is ``host[:port]`` (``index.docker.io`` for Docker Hub);
    ``repository`` has no host and carries ``library/`` for official Docker Hub images."""

    __slots__ = ()

    @property
    def reference(self):
        """What the runtime asks the registry for: the digest when there is one, else the tag."""
        return self.digest or self.tag

    @property
    def lookup_name(self):
        """The name the kubelet looks keys up with: no tag or digest, Docker Hub as docker.io."""
        return "%s/%s" % (_HUB_NAME if self.registry == DOCKER_HUB else self.registry, self.repository)


def _split_domain(name):
    """(domain, remainder) as distribution's splitDockerDomain cuts a name."""
    first, slash, rest = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, rest = _HUB_NAME, name
    else:
        domain = first
    if domain == DOCKER_HUB:
        domain = _HUB_NAME
    if domain == _HUB_NAME and "/" not in rest:
        rest = "library/" + rest
    return domain, rest


def parse_image(text, field="image"):
    """The ImageRef of an image as written in a pod; InputError naming ``field`` otherwise."""
    def invalid(why):
        return InputError(field, "%r is not a valid image reference (%s)" % (text, why))

    if not isinstance(text, str) or not text:
        raise invalid("it is empty")
    if _IMAGE_ID.fullmatch(text):
        raise invalid("a 64-character hexadecimal string is an image ID, not a name")
    domain, rest = _split_domain(text)
    remote = rest.split(":", 1)[0].split("@", 1)[0]
    if remote.lower() != remote:
        raise invalid("the repository name must be lower case")
    found = _REFERENCE.fullmatch("%s/%s" % (domain, rest))
    if not found or found.group("domain") != domain:
        raise invalid("expected [HOST[:PORT]/]NAME[:TAG][@DIGEST] with a lower-case NAME")
    if len(found.group("name")) > _NAME_MAX:
        raise invalid("the name is longer than %d characters" % _NAME_MAX)
    registry = DOCKER_HUB if domain == _HUB_NAME else domain
    return ImageRef(registry, found.group("path"), found.group("tag") or ("latest" if not found.group("digest") else None),
                    found.group("digest"))


def _raw(text):
    return text.encode("utf-8", "surrogateescape")


def _text(raw):
    return raw.decode("utf-8", "surrogateescape")


def _labels_and_port(host):
    """The kubelet's SplitURL: host labels and port; no port when net.SplitHostPort fails."""
    try:
        host, port = gostd.split_host_port(host)
    except gostd.GoError:
        port = b""
    return host.split(b"."), port


def index_key(key):
    """The form under which the kubelet files a ``.dockerconfigjson`` key, or None when Go's
    url.Parse rejects it (the kubelet then ignores the entry)."""
    raw = _raw(key)
    if not raw.startswith((b"https://", b"http://")):
        raw = b"https://" + raw
    try:
        host, path = gostd.url_host_path(raw)
    except gostd.GoError:
        return None
    if path.startswith((b"/v2/", b"/v1/")):
        path = path[3:]
    return _text(host + path if path and path != b"/" else host)


def key_matches(indexed, image, ignore_case=True):
    """Whether an index_key() matches an ImageRef, by the kubelet's URLsMatch. ``ignore_case``
    compares host names case-insensitively, as DNS does; the kubelet compares them as written."""
    try:
        key_host, key_path = gostd.url_host_path(b"https://" + _raw(indexed))
        image_host, image_path = gostd.url_host_path(b"https://" + _raw(image.lookup_name))
    except gostd.GoError:
        return False
    if ignore_case:
        key_host, image_host = key_host.lower(), image_host.lower()
    (key_labels, key_port), (image_labels, image_port) = _labels_and_port(key_host), _labels_and_port(image_host)
    if key_port != image_port or len(key_labels) != len(image_labels) or not image_path.startswith(key_path):
        return False
    try:
        return all(gostd.filepath_match(pattern, label) for pattern, label in zip(key_labels, image_labels))
    except gostd.GoError:
        return False


def _is_default_registry_match(lookup_name):
    """The kubelet's isDefaultRegistryMatch; it also holds for names such as ``localhost/app``."""
    first = lookup_name.partition("/")[0]
    return first == _HUB_NAME or bool(first) and "." not in first and ":" not in first


def lookup(entries, image, ignore_case=True):
    """The entries the kubelet offers for ``image``, in the order it tries them.

    ``entries`` are ``(key, item)`` pairs in the order the kubelet adds them: Secret by Secret as
    the pod lists them. Returns the matching pairs, unchanged.
    """
    by_index = collections.OrderedDict()
    for key, item in entries:
        indexed = index_key(key)
        if indexed is not None:
            by_index.setdefault(indexed, []).append((key, item))
    found = [pair for indexed in sorted(by_index, key=_raw, reverse=True) if key_matches(indexed, image, ignore_case)
             for pair in by_index[indexed]]
    if found or not _is_default_registry_match(image.lookup_name):
        return found
    return [pair for indexed, pairs in by_index.items()
            if (indexed.lower() if ignore_case else indexed) == DOCKER_HUB for pair in pairs]
