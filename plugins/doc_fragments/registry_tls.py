# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Separate from validate_certs and ca_cert, which keep kubernetes.core's meaning (the API
    # server's TLS), so that one never silently weakens the other.
    DOCUMENTATION = r"""
options:
  registry_validate_certs:
    description:
      - Whether to verify the TLS certificates of registries and token endpoints (registry checks
        and the ACR token exchange).
    type: bool
    default: true
  registry_ca_path:
    description:
      - A CA bundle to verify registries and token endpoints with, instead of the system's trust
        store.
    type: path
"""
