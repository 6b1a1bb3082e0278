# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The imagePullSecrets a ServiceAccount should have. Pure.

Entries that others wrote are kept, in their order, whatever the state: ``present`` only
appends, ``absent`` only removes the listed names, and ``exact`` is the one state that replaces
the list. Duplicates of the names this task manages are removed; foreign entries are left as
they are.

Annotations are planned the same way: only the keys given are touched. ``present`` and ``exact``
set them to the values given; ``absent`` removes a key only while it still has the value given,
so a value that someone else has set since is left alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def names(entries):
    return [e.get("name") for e in entries or []]


def desired_entries(current, secrets, state):
    """The new imagePullSecrets list for ``current`` (list of {"name": ...})."""
    managed = set(secrets)
    if state == "exact":
        return [{"name": n} for n in dict.fromkeys(secrets)]
    result, seen = [], set()
    for entry in current or []:
        name = entry.get("name")
        if name in managed:
            if state == "absent" or name in seen:
                continue
            seen.add(name)
        result.append(entry)
    if state == "present":
        result.extend({"name": n} for n in dict.fromkeys(secrets) if n not in seen)
    return result


def annotation_changes(current, wanted, state):
    """The merge patch of ``metadata.annotations`` (key: new value, or None to remove it) that
    brings the keys of ``wanted`` to ``state`` on a ServiceAccount whose annotations are
    ``current``; empty when nothing needs to change. Other keys never appear in it."""
    current = current or {}
    if state == "absent":
        return dict((key, None) for key, value in wanted.items() if key in current and current[key] == value)
    return dict((key, value) for key, value in wanted.items() if current.get(key) != value)


def managed_annotations(annotations, keys):
    """The values of ``keys`` among ``annotations`` (None for an absent key), for reports and diffs
    that show only what this task manages."""
    annotations = annotations or {}
    return dict((key, annotations.get(key)) for key in keys)
