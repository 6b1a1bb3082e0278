# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes connection options, with kubernetes.core's names and K8S_AUTH_* variables.

Kept apart from kube.py so that controller-side code can read the spec without importing the
kubernetes client. Documented in the doc fragment ``regcred.k8s.k8s_auth``.

An option that is not given is read from the environment as kubernetes.core 6.x reads it
(``_create_auth_spec`` and ``_create_headers`` of its ``module_utils/k8s/client.py``):
``K8S_AUTH_<option>``, then, when that is unset or empty, ``K8S_AUTH_<kubernetes client name>``
(``K8S_AUTH_VALIDATE_CERTS`` then ``K8S_AUTH_VERIFY_SSL``, and so on); a boolean is false only for
``0``, ``false`` and ``no`` in any case, and true for any other text; a list is split on commas,
empty items dropped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.errors import AnsibleFallbackNotFound

# The only texts kubernetes.core reads as false in a K8S_AUTH_* boolean (lower-cased).
FALSE_WORDS = ("0", "false", "no")
PROXY_HEADER_ENV = "K8S_AUTH_PROXY_HEADERS_"


def env_value(*names):
    """The first of ``names`` set to a non-empty text, or else the last one's text (possibly empty)."""
    value = None
    for name in names:
        value = value or os.environ.get(name)
    if value is None:
        raise AnsibleFallbackNotFound
    return value


def env_bool(*names):
    return env_value(*names).lower() not in FALSE_WORDS


def env_list(*names):
    return [item for item in env_value(*names).split(",") if item != ""]


def env_proxy_headers():
    """``proxy_headers`` from the K8S_AUTH_PROXY_HEADERS_<suboption> variables that are set."""
    headers = dict((key, os.environ[PROXY_HEADER_ENV + key.upper()]) for key in PROXY_HEADERS_SPEC
                   if PROXY_HEADER_ENV + key.upper() in os.environ)
    if not headers:
        raise AnsibleFallbackNotFound
    return headers


# Sent to the proxy only (urllib3.util.make_headers), like kubernetes.core's proxy_headers.
PROXY_HEADERS_SPEC = dict(
    proxy_basic_auth=dict(type="str", no_log=True),
    basic_auth=dict(type="str", no_log=True),
    user_agent=dict(type="str"),
)

AUTH_ARG_SPEC = dict(
    # A kubeconfig given inline holds tokens and keys; kubernetes.core declares it no_log as well.
    kubeconfig=dict(type="raw", no_log=True, fallback=(env_value, ["K8S_AUTH_KUBECONFIG"])),
    context=dict(type="str", fallback=(env_value, ["K8S_AUTH_CONTEXT"])),
    host=dict(type="str", fallback=(env_value, ["K8S_AUTH_HOST"])),
    api_key=dict(type="str", no_log=True, fallback=(env_value, ["K8S_AUTH_API_KEY"])),
    username=dict(type="str", fallback=(env_value, ["K8S_AUTH_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_value, ["K8S_AUTH_PASSWORD"])),
    validate_certs=dict(type="bool", aliases=["verify_ssl"],
                        fallback=(env_bool, ["K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"])),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=(env_value, ["K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"])),
    client_cert=dict(type="path", aliases=["cert_file"],
                     fallback=(env_value, ["K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"])),
    client_key=dict(type="path", aliases=["key_file"], no_log=False,
                    fallback=(env_value, ["K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"])),
    proxy=dict(type="str", fallback=(env_value, ["K8S_AUTH_PROXY"])),
    no_proxy=dict(type="str", fallback=(env_value, ["K8S_AUTH_NO_PROXY"])),
    proxy_headers=dict(type="dict", options=PROXY_HEADERS_SPEC, fallback=(env_proxy_headers,)),
    persist_config=dict(type="bool", fallback=(env_bool, ["K8S_AUTH_PERSIST_CONFIG"])),
    impersonate_user=dict(type="str", fallback=(env_value, ["K8S_AUTH_IMPERSONATE_USER"])),
    impersonate_groups=dict(type="list", elements="str", fallback=(env_list, ["K8S_AUTH_IMPERSONATE_GROUPS"])),
    request_timeout=dict(type="float", fallback=(env_value, ["K8S_AUTH_REQUEST_TIMEOUT"])),
)
