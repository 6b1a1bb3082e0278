# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection version, sent in the User-Agent so audit logs show which task made a request.
A unit test keeps it equal to galaxy.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

COLLECTION_VERSION = "1.0.0"


def user_agent(module_name):
    return "regcred.k8s/%s (%s)" % (COLLECTION_VERSION, module_name)
