# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials from the ``registries`` option, for every module that takes it: check each entry,
then mint it or reuse a token that a store still holds, and verify what was minted.

Where a token is stored is the caller's business (a Secret, an auth file and its sidecar); it
hands ``collect`` a function that finds a fresh one for a source.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, RegistryError
from ansible_collections.regcred.k8s.plugins.module_utils.provider_catalog import load as load_provider
from ansible_collections.regcred.k8s.plugins.module_utils.pull_secret import format_time, record, source_id


NEEDS_NO_LOG = (
    "return_secrets: this task would return passwords and tokens, which Ansible shows and logs unless "
    "the task has no_log. Add 'no_log: true' to the task, or set return_secrets: false to get only "
    "registries, user names and expiry (dest still works then). Nothing was minted or written")


class Collected(collections.namedtuple("Collected", ("entries", "records", "minted", "report", "warnings"))):
    """What ``collect`` gathered.

    ``entries``: ``{server: dockerconfig entry}``; ``records``: one ``pull_secret.record`` per
    credential (no secret); ``minted``: the Credentials minted in this run (the ones to verify);
    ``report``: the records with ``reused``, fit to return; ``warnings``: sentences to show.
    """

    __slots__ = ()


def sources(registries):
    """``[(entry, field, provider module)]`` for the ``registries`` option, after each provider's
    checks, which need no I/O. Raises ProviderError naming the field, e.g. ``registries[1].region``."""
    result = []
    for index, entry in enumerate(registries or []):
        field = "registries[%d]" % index
        provider = load_provider(entry["provider"], field + ".provider")
        provider.validate(entry, field)
        result.append((entry, field, provider))
    return result


def collect(entries_sources, refresh_before, now, context, stored=None):
    """Mint every source, or reuse what ``stored(source_id)`` returns for a token-minting one: an
    ``(entries, records)`` pair still valid for longer than ``refresh_before``, or None.

    Without ``stored`` there is nothing to reuse and nothing to warn about: every run mints anyway.
    Two sources that write the same registry (after normalising the key) are an error, because
    only one of them could end up in the file or Secret.
    """
    entries, records, minted, report, warnings, owner = {}, [], [], [], [], {}
    for entry, field, provider in entries_sources:
        source = source_id(provider.identity(entry))
        reuse = stored(source) if stored is not None and provider.mints_token(entry) else None
        if reuse:
            got, got_records = reuse
            report.extend(dict(r, reused=True) for r in got_records)
        else:
            creds = provider.mint(entry, field, context)
            got = dict((c.server, dockerconfig.entry(c.username, c.password, c.email)) for c in creds)
            got_records = [record(c, source) for c in creds]
            minted.extend(creds)
            report.extend(dict(r, reused=False) for r in got_records)
            if stored is not None:
                warnings.extend(
                    "%s: the credential for %s expires at %s, within refresh_before; every run will mint "
                    "a new one" % (field, c.server, format_time(c.expires_at))
                    for c in creds if c.expires_at and c.expires_at - refresh_before <= now)
        for server in got:
            key = dockerconfig.normalize_key(server)
            if key in owner:
                raise InputError(field, "%s and %s both write the registry %s" % (owner[key], field, key), prefixed=False)
            owner[key] = field
        entries.update(got)
        records.extend(got_records)
    return Collected(entries, records, minted, report, warnings)


def verify(minted, context):
    """Log in to each registry with each credential; RegistryError listing the refusals, if any."""
    # Imported here: the HTTP client it needs costs a tenth of a second, for verify only.
    from ansible_collections.regcred.k8s.plugins.module_utils.registry import verify as verify_credential  # pylint: disable=import-outside-toplevel
    refused = [result.message for result in (verify_credential(c, context) for c in minted) if not result.ok]
    if refused:
        raise RegistryError("verify: " + "; ".join(refused) + ". Nothing was written")
