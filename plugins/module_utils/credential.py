# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one thing every credential provider returns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import collections
import datetime
import json

# Providers import ProviderError from here.
from ansible_collections.regcred.k8s.plugins.module_utils.errors import ProviderError

__all__ = ("Credential", "ProviderError", "token_expiry")

_FIELDS = ("server", "username", "password", "email", "expires_at", "provider")


class Credential(collections.namedtuple("Credential", _FIELDS)):
    """A registry login. ``expires_at`` is an aware UTC datetime, or None when it does not
    expire; ``server`` is the key written into ``.dockerconfigjson``."""

    __slots__ = ()

    def __new__(cls, server, username, password, email=None, expires_at=None, provider=""):
        return super(Credential, cls).__new__(cls, server, username, password, email,
                                              expires_at, provider)

    def __repr__(self):
        # Never show the password, not even in a traceback.
        return "Credential(server=%r, username=%r, provider=%r, expires_at=%r)" % (
            self.server, self.username, self.provider, self.expires_at)


def token_expiry(token):
    """The ``exp`` claim of a JWT as an aware datetime, or None when ``token`` is not a JWT with
    one. The signature is not checked: the expiry only schedules renewal or explains a failed
    pull, and the registry checks the token itself on use."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return datetime.datetime.fromtimestamp(claims["exp"], datetime.timezone.utc)
    except (ValueError, TypeError, KeyError, OverflowError, OSError):
        return None
