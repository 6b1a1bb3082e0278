# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes name and size rules, checked before any API call, as the apiserver checks them. Pure.

Patterns are matched with ``fullmatch``: ``$`` would also match before a trailing newline, which
the apiserver refuses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
# the apiserver's limits (k8s.io/apimachinery validation and core.MaxSecretSize)
LABEL_VALUE_MAX = 63
ANNOTATIONS_MAX_BYTES = 256 * 1024
SECRET_DATA_MAX_BYTES = 1024 * 1024


def _shown(value):
    text = str(value)
    return repr(text if len(text) <= 70 else text[:70] + "...")


def _check_name(value, field, pattern, limit, what, characters):
    if not isinstance(value, str) or len(value) > limit or not pattern.fullmatch(value):
        raise InputError(field, "%s is not a valid %s (%s, starting and ending with a letter or digit, at most %d "
                                "characters)" % (_shown(value), what, characters, limit))
    return value


def check_dns_label(value, field):
    """A namespace name: RFC 1123 label, at most 63 characters."""
    return _check_name(value, field, _LABEL, 63, "namespace name", "lower-case letters, digits and '-'")


def check_dns_subdomain(value, field):
    """An object name such as a Secret's: RFC 1123 subdomain, at most 253 characters."""
    return _check_name(value, field, _SUBDOMAIN, 253, "object name", "lower-case letters, digits, '-' and '.'")


def valid_label_key(key):
    """A label or annotation key: an optional DNS-subdomain prefix and '/', then a name."""
    prefix, slash, name = key.rpartition("/")
    return not ((slash and (not prefix or len(prefix) > 253 or not _SUBDOMAIN.fullmatch(prefix)))
                or len(name) > 63 or not _LABEL_NAME.fullmatch(name))


def valid_label_value(value):
    """A label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending
    with a letter or digit."""
    return not value or (len(value) <= LABEL_VALUE_MAX and bool(_LABEL_NAME.fullmatch(value)))


def check_metadata_keys(mapping, field):
    """Label or annotation keys: an optional DNS-subdomain prefix and '/', then a name."""
    for key, value in (mapping or {}).items():
        if not isinstance(key, str):
            raise InputError(field, "%s is not a valid key; keys are strings" % _shown(key))
        if not valid_label_key(key):
            raise InputError(field, "%s is not a valid key" % _shown(key))
        if not isinstance(value, str):
            raise InputError("%s[%s]" % (field, key), "values must be strings; quote %s" % _shown(value))
    return mapping


def check_labels(labels, field):
    """Label keys, and values: at most 63 characters, letters, digits, '-', '_' and '.', starting
    and ending with a letter or digit, or empty."""
    check_metadata_keys(labels, field)
    for key, value in (labels or {}).items():
        if not valid_label_value(value):
            raise InputError("%s[%s]" % (field, key), "%s is not a valid label value (letters, digits, '-', '_' "
                             "and '.', starting and ending with a letter or digit, at most %d characters, or empty)"
                             % (_shown(value), LABEL_VALUE_MAX))
    return labels


def metadata_bytes(mapping):
    """The size the apiserver counts for labels or annotations: keys and values, in bytes."""
    return sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in (mapping or {}).items())


def check_annotations(annotations, field):
    """Annotation keys, and their total size (keys and values) of at most 256 KiB."""
    check_metadata_keys(annotations, field)
    size = metadata_bytes(annotations)
    if size > ANNOTATIONS_MAX_BYTES:
        raise InputError(field, "%d bytes in all, keys and values; the apiserver accepts at most %d"
                         % (size, ANNOTATIONS_MAX_BYTES))
    return annotations


def check_secret_size(data_bytes, field):
    """A Secret's data, decoded and summed over its keys, of at most 1 MiB."""
    if data_bytes > SECRET_DATA_MAX_BYTES:
        raise InputError(field, "the Secret's data would be %d bytes; the apiserver accepts at most %d"
                         % (data_bytes, SECRET_DATA_MAX_BYTES))
