# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a store (a pull Secret's annotation, an auth file's sidecar) records about each credential
it holds: server, user name, provider, expiry and ``source``, a hash of the non-secret inputs that
minted it. Never a secret. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import datetime
import hashlib
import json
import typing as t

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Stored(collections.namedtuple("Stored", ("records", "entries"))):
    """What one store holds: its ``records`` (``record``) and its entries (``{server: dockerconfig
    entry}``), read by the caller and handed to minting.collect as data."""

    __slots__ = ()


def source_id(identity: t.Any) -> str:
    """A short stable hash of a provider entry's non-secret inputs."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def format_time(value: t.Optional[datetime.datetime]) -> t.Optional[str]:
    """An aware datetime as UTC ISO 8601 (``2026-11-22T18:00:00Z``); None stays None."""
    if value is None:
        return None
    return value.astimezone(datetime.timezone.utc).strftime(TIME_FORMAT)


def parse_time(value: t.Any) -> t.Optional[datetime.datetime]:
    """The aware datetime of a ``format_time`` string; None when empty or unreadable."""
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, TIME_FORMAT).replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def record(credential: t.Any, source: str) -> t.Dict[str, t.Any]:
    """The record of one Credential minted from ``source``."""
    return {"server": credential.server, "username": credential.username,
            "provider": credential.provider, "source": source,
            "expires_at": format_time(credential.expires_at)}
