# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a registry ``server`` makes a ``.dockerconfigjson`` key that a kubelet can use. Pure.

The kubelet (``pkg/credentialprovider/keyring.go``) puts ``https://`` before a key unless it
starts with exactly ``https://`` or ``http://`` (lower case), cuts it with Go's ``url.Parse``,
and matches the host label by label as globs, the port as a string and the path as a plain
prefix of the image's repository. A key that no image can match is accepted there without a
word and never used; here it is an error, so the mistake shows before anything is written:

- a host is required: a DNS name (labels may use ``*`` globs), an IPv4 address or an IPv6
  address in brackets with a port (without one, the kubelet reads the brackets as a glob); a name without a dot or port other than ``localhost`` is what image
  references read as a Docker Hub namespace, so no image ever names such a registry;
- the scheme, when given, is ``https://`` or ``http://`` in lower case;
- the port, when given, is 1 to 65535 in digits, without leading zeros (images write it so);
- no user information, query, fragment, white space or control characters;
- a path is a prefix of a repository name (lower-case components), after ``/v1/`` or ``/v2/``,
  which the kubelet drops; ``index.docker.io`` takes no path (the kubelet only ever looks
  up that host without one).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# A DNS label as image references allow it, where '*' may stand for any run of characters.
_LABEL = re.compile(r"[A-Za-z0-9*](?:[A-Za-z0-9*-]*[A-Za-z0-9*])?")
_IPV6 = re.compile(r"[a-fA-F0-9:]+")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
# What a key's path may be: a prefix of a repository name such as "org/app", where each
# component is lower-case letters and digits joined by '.', '_', '__' or dashes.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_PREFIX = re.compile(r"(?:%s/)*(?:%s(?:[._]|__|-+)?)?" % (_COMPONENT, _COMPONENT))
# The longest image name is 255 characters; a key must leave room for one more character.
_MAX_LENGTH = 254
_HUB_INDEX = "index.docker.io"


def _is_ipv6(address):
    """Whether ``address`` is an IPv6 address as image references write it: hexadecimal digits
    and ':' only, so no zone and no embedded IPv4 address."""
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return bool(_IPV6.fullmatch(address))


def _host_problem(authority):
    """Why ``host[:port]`` cannot be a registry in an image reference, or None."""
    if authority.startswith("["):
        address, bracket, port = authority[1:].partition("]")
        if not (bracket and _is_ipv6(address)):
            return "has %r, which is not an IPv6 address in brackets such as [::1]:5000" % authority
        if not port.startswith(":"):
            # Without a port, the kubelet keeps the brackets and reads them as a glob class.
            return "needs a port after the IPv6 address, as in [::1]:5000: the kubelet never matches it without one"
        port = port[1:]
        labels = None
    else:
        if authority.count(":") > 1:
            return "an IPv6 address must be written in brackets, for example [::1]:5000"
        host, colon, port = authority.partition(":")
        port = port if colon else None
        if not host:
            return "has no host"
        labels = host.split(".")
        bad = [label for label in labels if not _LABEL.fullmatch(label)]
        if bad:
            return ("has a host label %r that is not a DNS label (letters, digits and '-', with '*' as a "
                    "glob; no '-' at either end, no empty label)" % bad[0])
    if port is not None and not (_PORT.fullmatch(port) and int(port) <= 65535):
        return "has port %r; a port is 1 to 65535, in digits without leading zeros" % port
    if labels is not None and len(labels) == 1 and port is None and labels[0] != "localhost":
        return ("has a host without a dot or a port, which image references read as a Docker Hub "
                "namespace: no image names this registry; add the domain or the port")
    return None


def problem(server):
    """Why ``server`` makes a key that no kubelet can use, or None when it is fine."""
    if not isinstance(server, str) or not server:
        return "must be a non-empty string"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in server):
        return "must not contain white space or control characters"
    rest = server
    scheme = _SCHEME.match(server)
    if scheme:
        if scheme.group(1) not in ("https", "http"):
            return ("has the scheme %s://; only https:// and http:// (in lower case, as the kubelet "
                    "reads them) are allowed" % scheme.group(1))
        rest = server[scheme.end():]
    elif "://" in server:
        return "has '://' without an https or http scheme before it"
    if "?" in rest or "#" in rest:
        return "must not contain a query ('?') or a fragment ('#')"
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        return "must not contain user information ('user@'); give the user name as username"
    if not authority:
        return "has no host"
    found = _host_problem(authority)
    if found:
        return found
    path = slash + path
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    if path == "/":
        path = ""
    if path and not _PATH_PREFIX.fullmatch(path[1:]):
        return ("has the path %r, which is no repository's prefix (lower-case components such as "
                "/org/app, joined by '/')" % path)
    if path and authority.lower() == _HUB_INDEX:
        return "names %s with a repository path, which the kubelet never uses; write docker.io%s" % (
            _HUB_INDEX, path)
    if len(authority) + len(path) > _MAX_LENGTH:
        return "is longer than an image name can be (%d characters for host and path)" % _MAX_LENGTH
    return None


def check(server, field):
    """``server`` unchanged, or ProviderError naming ``field`` with the reason. The value is
    shown unless it may carry a password as user information."""
    found = problem(server)
    if found:
        shown = "" if not isinstance(server, str) or "@" in server else "%r " % server
        raise ProviderError(field, "%s%s" % (shown, found))
    return server
