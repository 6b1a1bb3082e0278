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
  registry_timeout:
    description:
      - Seconds to wait for a connection, and again for each answer, from registries, their token
        endpoints and the cloud endpoints that mint credentials (Amazon ECR and STS, the Google
        token endpoint, Azure AD and the ACR token exchange).
      - A registry or endpoint that accepts connections but does not answer fails the task after
        this time (Amazon's endpoints after two attempts), with a message that names it.
      - Between 0 and 3600, 0 excluded.
    type: float
    default: 30
"""
