# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entries copied from a Docker (or Podman) config file, or from its content given inline."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential, ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.dockerconfig import DockerConfigError, parse
from ansible_collections.regcred.k8s.plugins.module_utils.server import check as check_server

# The options this provider reads from a registries[] entry; registries_spec merges every provider's.
OPTIONS = dict(
    path=dict(type="path"),
    content=dict(type="raw", no_log=True),
    servers=dict(type="list", elements="str"),
)

MAX_BYTES = 4 * 1024 * 1024  # a config.json is a few KiB; refuse to slurp anything huge


def _read(entry, field):
    if entry.get("path") and entry.get("content") is not None:
        raise ProviderError(field + ".path", "path and content are mutually exclusive")
    if entry.get("path"):
        try:
            with open(entry["path"], "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except (IOError, OSError) as exc:
            raise ProviderError(field + ".path", "cannot read %s: %s" % (entry["path"], exc.strerror or exc))
        if len(data) > MAX_BYTES:
            raise ProviderError(field + ".path", "is larger than %d bytes" % MAX_BYTES)
        return data, field + ".path"
    content = entry.get("content")
    if content is None or content == "":
        raise ProviderError(field + ".path", "one of path or content is required for provider docker_config")
    if isinstance(content, dict):
        content = json.dumps(content)
    if not isinstance(content, str):
        raise ProviderError(field + ".content", "must be a JSON string or a dictionary")
    if len(content) > MAX_BYTES:
        raise ProviderError(field + ".content", "is larger than %d bytes" % MAX_BYTES)
    return content, field + ".content"


def _entries(entry, field):
    data, source = _read(entry, field)
    try:
        found = parse(data, source, entry.get("servers"))
    except DockerConfigError as exc:
        raise ProviderError(exc.field, exc.reason)
    if not found:
        raise ProviderError(source, "holds no registry entries; writing it would empty the Secret")
    return found


def validate(entry, field):
    for index, server in enumerate(entry.get("servers") or []):
        check_server(server, "%s.servers[%d]" % (field, index))
    _entries(entry, field)


def mints_token(entry):  # pylint: disable=unused-argument
    return False


def identity(entry):
    return {"provider": "docker_config", "path": entry.get("path"),
            "servers": sorted(entry.get("servers") or [])}


def mint(entry, field, context):  # pylint: disable=unused-argument
    return [Credential(server, values["username"], values["password"], values.get("email"),
                       None, "docker_config")
            for server, values in sorted(_entries(entry, field).items())]
