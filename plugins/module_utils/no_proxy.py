# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the ``no_proxy`` option exempts the API server from ``proxy``.

The rules are those of the kubernetes Python client (``kubernetes.client.rest``) that kubernetes.core
hands its ``no_proxy`` to, so a list written for kubernetes.core selects the same servers here. The
environment's NO_PROXY is not read, as kubernetes.core does not read it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
from urllib.parse import urlparse


def _in_network(address, entry):
    try:
        return address in ipaddress.ip_network(entry, strict=False)
    except ValueError:  # a name, not an address or a network
        return False


def bypasses_proxy(url, no_proxy):
    """True when ``url`` is exempt by ``no_proxy``: comma-separated entries, each ``*``, an IP
    address or CIDR network, a host name or domain (a leading dot is optional; subdomains match),
    or ``host:port``; case and blanks around entries do not matter. A URL without a host name is
    never proxied."""
    parsed = urlparse(url)
    if not parsed.hostname:
        return True
    host, host_and_port = parsed.hostname.lower(), parsed.netloc.lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (entry.strip().lower() for entry in (no_proxy or "").split(",")):
        if not entry:
            continue
        if entry == "*" or (address is not None and _in_network(address, entry)):
            return True
        entry = entry.lstrip(".")
        if any(name == entry or name.endswith("." + entry) for name in (host, host_and_port)):
            return True
    return False
