# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``registries`` option, shared by every module that mints credentials.

Documented in the doc fragment ``regcred.k8s.registries``; keep the two in step.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ssl

from ansible_collections.regcred.k8s.plugins.module_utils.duration import check_timeout
from ansible_collections.regcred.k8s.plugins.module_utils.provider_catalog import NAMES

REGISTRY_OPTIONS = dict(
    provider=dict(type="str", required=True, choices=list(NAMES)),
    server=dict(type="str"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    email=dict(type="str"),
    path=dict(type="path"),
    content=dict(type="raw", no_log=True),
    servers=dict(type="list", elements="str"),
    region=dict(type="str"),
    registry_ids=dict(type="list", elements="str"),
    profile=dict(type="str"),
    access_key=dict(type="str", no_log=False),
    secret_key=dict(type="str", no_log=True),
    session_token=dict(type="str", no_log=True),
    assume_role_arn=dict(type="str"),
    endpoint_url=dict(type="str"),
    auth=dict(type="str", choices=["json_key", "json_key_base64", "access_token",
                                   "service_principal", "token_exchange"]),
    service_account_key_file=dict(type="path"),
    service_account_key=dict(type="raw", no_log=True),
    tenant_id=dict(type="str"),
    client_id=dict(type="str"),
    client_secret=dict(type="str", no_log=True),
    authority_host=dict(type="str"),
)

# Documented in the doc fragment regcred.k8s.registry_tls.
REGISTRY_TLS_ARG_SPEC = dict(
    registry_validate_certs=dict(type="bool", default=True),
    registry_ca_path=dict(type="path"),
    registry_timeout=dict(type="float", default=30),
)

REGISTRIES_ARG_SPEC = dict(
    registries=dict(type="list", elements="dict", options=REGISTRY_OPTIONS),
)


def check_registry_tls(params):
    """ValueError unless registry_timeout is in range and registry_ca_path, when set, is a CA
    file: checked up front, because a run that contacts no registry would otherwise accept a
    wrong value until the day one does."""
    if params.get("registry_timeout") is not None:
        check_timeout(params["registry_timeout"], "registry_timeout")
    path = params.get("registry_ca_path")
    if path:
        try:
            ssl.create_default_context(cafile=path)
        except (OSError, ValueError) as exc:
            raise ValueError("registry_ca_path: %s cannot be used as a CA file: %s" % (path, getattr(exc, "strerror", None) or exc))
