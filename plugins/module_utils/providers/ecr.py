# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Amazon ECR: a 12-hour token from ``GetAuthorizationToken``, one credential per registry."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.regcred.k8s.plugins.module_utils import ecr_hosts
from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential, ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.providers import aws, require
from ansible_collections.regcred.k8s.plugins.module_utils.server import problem as server_problem

# The options this provider reads from a registries[] entry; registries_spec merges every provider's.
OPTIONS = dict(
    aws.CREDENTIAL_OPTIONS,
    region=dict(type="str"),
    registry_ids=dict(type="list", elements="str"),
    host_forms=dict(type="list", elements="str", choices=list(ecr_hosts.FORMS)),
)


# botocore's own rule for region names; checking it here fails before any credential lookup.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# GetAuthorizationTokenRegistryIdList in botocore's service model (data/ecr/2015-09-21/service-2.json):
# "min": 1, "max": 10. ECR refuses a longer list; it is refused here before any credential lookup.
MAX_REGISTRY_IDS = 10


def validate(entry, field):
    require(entry, field, ["region"])
    if entry.get("server") is not None:
        raise ProviderError(field + ".server", "must be left out for provider ecr, which writes the registries "
                                               "ECR names in its answer; choose them with registry_ids")
    if not _REGION.fullmatch(entry["region"]):
        raise ProviderError(field + ".region", "%r is not an AWS region name" % entry["region"])
    registry_ids = entry.get("registry_ids") or []
    if len(registry_ids) > MAX_REGISTRY_IDS:
        raise ProviderError(field + ".registry_ids", "names %d registries; ECR's GetAuthorizationToken takes at "
                                                     "most %d: split them over several entries"
                            % (len(registry_ids), MAX_REGISTRY_IDS))
    for index, registry_id in enumerate(registry_ids):
        if not _ACCOUNT_ID.fullmatch(registry_id or ""):
            raise ProviderError("%s.registry_ids[%d]" % (field, index),
                                "%r is not a 12-digit AWS account ID" % registry_id)
    forms = entry.get("host_forms") or []
    if len(set(forms)) != len(forms):
        raise ProviderError(field + ".host_forms", "names a form twice")
    aws.validate_credentials(entry, field)


def mints_token(entry):  # pylint: disable=unused-argument
    return True


def identity(entry):
    result = dict(aws.credential_identity(entry), provider=entry["provider"], region=entry["region"],
                  registry_ids=sorted(entry.get("registry_ids") or []))
    if entry.get("host_forms"):
        # Only when set: the identity of an entry written before host_forms existed stays the same.
        result["host_forms"] = entry["host_forms"]
    return result


def _credentials(data, entry, field):
    server = data["proxyEndpoint"].split("://", 1)[-1].rstrip("/")
    try:
        # Without host_forms, the registry as ECR names it (a FIPS API endpoint names its FIPS host).
        servers = ecr_hosts.hosts(server, entry["host_forms"]) if entry.get("host_forms") else [server]
    except ValueError as exc:
        raise ProviderError(field + ".host_forms", str(exc))
    for name in servers:
        found = server_problem(name)
        if found:
            raise ProviderError(field, "ECR named a registry that no kubelet can use, %r: %s" % (name, found))
    username, password = aws.decode_token(data["authorizationToken"], server, field, "ECR")
    expires_at = data["expiresAt"].astimezone(datetime.timezone.utc)
    return [Credential(name, username, password, None, expires_at, "ecr") for name in servers]


def mint(entry, field, context):
    request = {"registryIds": entry["registry_ids"]} if entry.get("registry_ids") else {}
    # The only request parameter: ECR's InvalidParameter and not-found errors are about it.
    response = aws.get_authorization_token(entry, field, context, "ecr", entry["region"], request,
                                           field + ".registry_ids" if request else None)
    return [credential for data in response["authorizationData"] for credential in _credentials(data, entry, field)]
