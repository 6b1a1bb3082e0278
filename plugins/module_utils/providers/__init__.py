# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential providers, one file each. A provider module defines:

- ``REQUIRED``: the options an entry of this provider must set;
- ``mints_token(entry)``: True when this entry yields a short-lived token minted over the
  network; only then may a stored one be reused while fresh (``refresh_before``). Static
  credentials are rebuilt every run, so a rotated password is never kept stale;
- ``validate(entry, field)``: pure checks, raising ProviderError before any I/O;
- ``identity(entry)``: the non-secret inputs that decide which credential it makes, so a stored
  token minted from other inputs is recognised as stale;
- ``mint(entry, field, context)``: a list of Credential; may do I/O.

A provider's SDK is imported inside ``mint`` only, so using one provider never pays for the
others' imports. ``provider_catalog`` maps provider names to these modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError


class MintContext:
    """What providers that talk to an endpoint share: a timeout, and the TLS settings for
    registries. Cloud token endpoints (Azure AD, Google, AWS) keep their SDK's own trust."""

    def __init__(self, validate_certs=True, ca_path=None, timeout=30):
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout

    @classmethod
    def from_params(cls, params):
        """From the registry_validate_certs, registry_ca_path and registry_timeout options
        (REGISTRY_TLS_ARG_SPEC)."""
        return cls(params["registry_validate_certs"], params["registry_ca_path"], params["registry_timeout"])

    def timed_out(self, server, attempts=1):
        """The message for an endpoint that did not answer in time; names the option to change."""
        return "%s timed out: no answer within %g s%s; registry_timeout sets how long to wait" % (
            server, self.timeout, " (%d attempts)" % attempts if attempts > 1 else "")

    @property
    def requests_verify(self):
        """The ``verify`` argument of requests for a registry: a CA file, or a bool."""
        return self.ca_path or self.validate_certs


def require(entry, field, names):
    """ProviderError for the first of ``names`` that ``entry`` leaves empty."""
    for name in names:
        value = entry.get(name)
        if value is None or (isinstance(value, (str, list, dict)) and not value):
            raise ProviderError("%s.%s" % (field, name),
                                "is required for provider %s" % entry.get("provider"))
