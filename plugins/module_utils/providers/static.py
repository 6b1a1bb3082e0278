# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Username and password (or a personal access token) for Docker Hub or any v2 registry."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential, ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.dockerconfig import DOCKER_HUB_KEY
from ansible_collections.regcred.k8s.plugins.module_utils.providers import require
from ansible_collections.regcred.k8s.plugins.module_utils.server import check as check_server

# The options this provider reads from a registries[] entry; registries_spec merges every provider's.
OPTIONS = dict(
    server=dict(type="str"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    email=dict(type="str"),
)


def _server(entry):
    return DOCKER_HUB_KEY if entry["provider"] == "dockerhub" else entry["server"]


def validate(entry, field):
    require(entry, field, ["username", "password"] + (["server"] if entry["provider"] == "basic" else []))
    if entry["provider"] == "dockerhub" and entry.get("server") not in (None, DOCKER_HUB_KEY):
        raise ProviderError(field + ".server", "must be left out for provider dockerhub, which "
                                               "always writes the key %s" % DOCKER_HUB_KEY)
    if ":" in entry["username"]:
        raise ProviderError(field + ".username", "must not contain ':'")
    if entry["provider"] == "basic":
        check_server(entry["server"], field + ".server")


def mints_token(entry):  # pylint: disable=unused-argument
    return False


def identity(entry):
    return {"provider": entry["provider"], "server": _server(entry), "username": entry["username"]}


def mint(entry, field, context):  # pylint: disable=unused-argument
    return [Credential(_server(entry), entry["username"], entry["password"], entry.get("email"),
                       None, entry["provider"])]
