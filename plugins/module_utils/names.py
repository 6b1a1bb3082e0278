# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes name rules, checked before any API call. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")


def _shown(value):
    text = str(value)
    return repr(text if len(text) <= 70 else text[:70] + "...")


def check_dns_label(value, field):
    """A namespace name: RFC 1123 label, at most 63 characters."""
    if not isinstance(value, str) or len(value) > 63 or not _LABEL.match(value):
        raise ValueError("%s: %s is not a valid namespace name (lower-case letters, digits and "
                         "'-', starting and ending with a letter or digit, at most 63 characters)"
                         % (field, _shown(value)))
    return value


def check_dns_subdomain(value, field):
    """An object name such as a Secret's: RFC 1123 subdomain, at most 253 characters."""
    if not isinstance(value, str) or len(value) > 253 or not _SUBDOMAIN.match(value):
        raise ValueError("%s: %s is not a valid object name (lower-case letters, digits, '-' and "
                         "'.', starting and ending with a letter or digit, at most 253 characters)"
                         % (field, _shown(value)))
    return value


def check_metadata_keys(mapping, field):
    """Label or annotation keys: an optional DNS-subdomain prefix and '/', then a name."""
    for key, value in (mapping or {}).items():
        prefix, slash, name = key.rpartition("/")
        if (slash and (not prefix or len(prefix) > 253 or not _SUBDOMAIN.match(prefix))) \
                or len(name) > 63 or not _LABEL_NAME.match(name):
            raise ValueError("%s: %s is not a valid key" % (field, _shown(key)))
        if not isinstance(value, str):
            raise ValueError("%s[%s]: values must be strings; quote %s" % (field, key, _shown(value)))
    return mapping
