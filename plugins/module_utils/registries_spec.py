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
from ansible_collections.regcred.k8s.plugins.module_utils.provider_catalog import PROVIDERS
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError


def merged_options(providers):
    """One argument spec for a ``registries`` entry from every provider's ``OPTIONS``. An option two
    providers share (``server``, ``auth``) must be declared alike but for its ``choices``, which add
    up; each provider's ``validate`` checks the choices that are its own."""
    merged = {"provider": dict(type="str", required=True, choices=sorted(providers))}
    for name in sorted(providers):
        for option, spec in providers[name].OPTIONS.items():
            known = merged.setdefault(option, dict(spec))
            if dict(known, choices=None) != dict(spec, choices=None):
                raise AssertionError("providers declare the option %r differently" % option)
            if "choices" in spec:
                known["choices"] = sorted(set(known["choices"]) | set(spec["choices"]))
    return merged


REGISTRY_OPTIONS = merged_options(PROVIDERS)

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
    """InputError unless registry_timeout is in range and registry_ca_path, when set, is a CA
    file: checked up front, because a run that contacts no registry would otherwise accept a
    wrong value until the day one does."""
    if params.get("registry_timeout") is not None:
        check_timeout(params["registry_timeout"], "registry_timeout")
    path = params.get("registry_ca_path")
    if path:
        try:
            ssl.create_default_context(cafile=path)
        except (OSError, ValueError) as exc:
            raise InputError("registry_ca_path", "%s cannot be used as a CA file: %s" % (
                path, getattr(exc, "strerror", None) or exc))
