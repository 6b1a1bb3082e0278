# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The imagePullSecrets a ServiceAccount should have. Pure.

Entries that others wrote are kept, in their order, whatever the state: ``present`` only
appends, ``absent`` only removes the listed names, and ``exact`` is the one state that replaces
the list. Duplicates of the names this task manages are removed; foreign entries are left as
they are.
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
