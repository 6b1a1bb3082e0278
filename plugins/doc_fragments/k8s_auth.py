# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Same names and environment variables as kubernetes.core, so module_defaults and
    # inventories written for it work here too.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or its content as a dictionary.
      - Default is E(KUBECONFIG) or C(~/.kube/config); inside a pod with neither, the pod's
        ServiceAccount.
      - A user with client certificates, a token or a token file is read without importing the
        kubernetes Python library, which keeps a task's start-up short. A user that runs a
        credential plugin (C(exec), C(auth-provider)), and an E(KUBECONFIG) that lists several
        files, are loaded by that library.
      - The environment variable E(K8S_AUTH_KUBECONFIG) sets it too.
    type: raw
  context:
    description:
      - The kubeconfig context to use.
      - The environment variable E(K8S_AUTH_CONTEXT) sets it too.
    type: str
  host:
    description:
      - The URL of the API server. With O(api_key) or O(client_cert) the kubeconfig is not read.
      - The environment variable E(K8S_AUTH_HOST) sets it too.
    type: str
  api_key:
    description:
      - A bearer token for the API server.
      - The environment variable E(K8S_AUTH_API_KEY) sets it too.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's certificate.
      - The environment variable E(K8S_AUTH_VERIFY_SSL) sets it too.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - The CA certificate that signed the API server's certificate.
      - The environment variable E(K8S_AUTH_SSL_CA_CERT) sets it too.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - A client certificate to authenticate with.
      - The environment variable E(K8S_AUTH_CERT_FILE) sets it too.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - The key of O(client_cert).
      - The environment variable E(K8S_AUTH_KEY_FILE) sets it too.
    type: path
    aliases: [key_file]
  proxy:
    description:
      - An HTTP proxy URL for the API server.
      - The environment variable E(K8S_AUTH_PROXY) sets it too.
    type: str
  impersonate_user:
    description:
      - Act as this user (the identity needs the C(impersonate) verb).
      - The environment variable E(K8S_AUTH_IMPERSONATE_USER) sets it too.
    type: str
  impersonate_groups:
    description:
      - Act as a member of these groups.
      - The environment variable E(K8S_AUTH_IMPERSONATE_GROUPS) sets it too.
    type: list
    elements: str
  request_timeout:
    description:
      - Seconds to wait for a connection to the API server, and again for each answer.
      - When not set, 20 seconds. A read (C(GET), C(LIST)) that gets no answer is tried three
        times in all, so an API server that accepts connections but does not answer fails the
        task in about a minute. A write is sent once; when its answer does not come, the task
        fails without sending it again.
      - After one request has timed out, the requests still to be made fail at once with the
        same message, instead of waiting each in turn.
      - Between 0 and 3600, 0 excluded.
      - The environment variable E(K8S_AUTH_REQUEST_TIMEOUT) sets it too.
    type: float
requirements:
  - kubernetes >= 31.0.0 (Python library)
"""
