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
      - Whether to verify the TLS certificates of registries and their token servers (registry
        checks, the ACR token exchange).
      - Cloud token endpoints (Amazon ECR and STS, Google's token endpoint, Azure AD) are always
        verified, with their SDK's trust store (the system store, or the bundle C(AWS_CA_BUNDLE) or
        C(REQUESTS_CA_BUNDLE) names); this option does not turn their check off.
    type: bool
    default: true
  registry_ca_path:
    description:
      - A CA bundle to verify registries and their token servers with, instead of the system's trust
        store.
      - It does not apply to cloud token endpoints; behind a TLS-inspecting proxy, point
        C(AWS_CA_BUNDLE) and C(REQUESTS_CA_BUNDLE) at a bundle that holds the proxy's CA.
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
