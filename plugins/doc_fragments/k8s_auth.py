# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Same names and environment variables as kubernetes.core, so module_defaults and
    # inventories written for it work here too.
    DOCUMENTATION = r"""
notes:
  - The connection options and their E(K8S_AUTH_*) variables are those of kubernetes.core, read
    the same way. A variable sets an option that the task does not give. Where an option has two
    names (O(validate_certs) and C(verify_ssl)), E(K8S_AUTH_<name>) of either name sets it; the
    option's own name comes first unless its variable is empty. A boolean variable is false for
    C(0), C(false) and C(no) in any case, and true for any other text (C(off) too). A list
    variable is split on commas; empty items are dropped. The differences from kubernetes.core
    are listed in the collection's docs/kubernetes-connection.md.
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
      - The URL of the API server. With O(api_key), O(client_cert), or O(username) and O(password),
        the kubeconfig is not read.
      - The environment variable E(K8S_AUTH_HOST) sets it too.
    type: str
  api_key:
    description:
      - A bearer token for the API server.
      - The environment variable E(K8S_AUTH_API_KEY) sets it too.
    type: str
  username:
    description:
      - A user name for HTTP basic authentication, with O(password).
      - Sent only when no token is (neither O(api_key) nor one from the kubeconfig). Kubernetes
        1.19 and later ignore basic authentication and treat the request as anonymous
        (C(system:anonymous)); an authenticating proxy in front of the API server may accept it.
      - The environment variable E(K8S_AUTH_USERNAME) sets it too.
    type: str
  password:
    description:
      - The password of O(username). Needed with O(username), and O(username) with it.
      - The environment variable E(K8S_AUTH_PASSWORD) sets it too.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's certificate.
      - The environment variables E(K8S_AUTH_VALIDATE_CERTS) and E(K8S_AUTH_VERIFY_SSL) set it too.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - The CA certificate that signed the API server's certificate.
      - The environment variables E(K8S_AUTH_CA_CERT) and E(K8S_AUTH_SSL_CA_CERT) set it too.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - A client certificate to authenticate with.
      - The environment variables E(K8S_AUTH_CLIENT_CERT) and E(K8S_AUTH_CERT_FILE) set it too.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - The key of O(client_cert).
      - The environment variables E(K8S_AUTH_CLIENT_KEY) and E(K8S_AUTH_KEY_FILE) set it too.
    type: path
    aliases: [key_file]
  proxy:
    description:
      - An HTTP proxy URL for the API server.
      - The environment variable E(K8S_AUTH_PROXY) sets it too. E(HTTPS_PROXY) is not read.
    type: str
  no_proxy:
    description:
      - Comma-separated API server addresses that O(proxy) does not apply to, each C(*), an IP
        address, a CIDR network, a host name or domain (its subdomains match; a leading dot is
        optional), or C(host:port). Example C(localhost,.internal,10.0.0.0/8).
      - The environment variable E(K8S_AUTH_NO_PROXY) sets it too. E(NO_PROXY) is not read.
    type: str
  proxy_headers:
    description:
      - Headers sent to O(proxy) (in its C(CONNECT) request), never to the API server.
      - The environment variables E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH),
        E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH) and E(K8S_AUTH_PROXY_HEADERS_USER_AGENT) set it too,
        when the task does not give O(proxy_headers).
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for a C(Proxy-Authorization) header.
        type: str
      basic_auth:
        description:
          - C(user:password) for an C(Authorization) header.
        type: str
      user_agent:
        description:
          - A C(User-Agent) header.
        type: str
  persist_config:
    description:
      - Whether a token that the kubernetes Python library refreshes for a kubeconfig user with an
        C(auth-provider) (C(oidc) or C(gcp)) is written back to the kubeconfig file, so that a
        refresh token that changed stays usable.
      - When not set, false, and the kubeconfig file is never written.
      - The environment variable E(K8S_AUTH_PERSIST_CONFIG) sets it too.
    type: bool
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
