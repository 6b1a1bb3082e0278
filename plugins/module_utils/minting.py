# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials from the ``registries`` option, for every module that takes it: check each entry,
then mint it or reuse a token that a store still holds, and verify what was minted.

The flow runs one way: the caller reads its stores (Secrets, an auth file and its sidecar) and
hands ``collect`` what they hold as data (``records.Stored``); ``collect`` decides, here and only here,
whether a fresh token is reused, and returns Credentials. They keep that one form until the
caller renders them (``Collected.entries``, ``Collected.records``) into a Secret or a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import datetime

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig
from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, RegistryError
from ansible_collections.regcred.k8s.plugins.module_utils.provider_catalog import load as load_provider
from ansible_collections.regcred.k8s.plugins.module_utils.records import format_time, parse_time, record, source_id


NEEDS_NO_LOG = (
    "return_secrets: this task would return passwords and tokens, which Ansible shows and logs unless "
    "the task has no_log. Add 'no_log: true' to the task, or set return_secrets: false to get only "
    "registries, user names and expiry (dest still works then). Nothing was minted or written")

_NEVER = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)


class Got(collections.namedtuple("Got", ("credential", "source", "reused"))):
    """One credential of a run: minted now (``reused`` False) or taken from a store."""

    __slots__ = ()


class Collected(collections.namedtuple("Collected", ("got", "warnings"))):
    """What ``collect`` gathered: ``got``, one Got per credential, and sentences to show."""

    __slots__ = ()

    def entries(self):
        """``{server: dockerconfig entry}``: the credentials rendered for a docker config."""
        return dict((g.credential.server, dockerconfig.entry(g.credential.username, g.credential.password,
                                                             g.credential.email)) for g in self.got)

    def records(self):
        """One record per credential, to store next to it; no secret."""
        return [record(g.credential, g.source) for g in self.got]

    def minted(self):
        """The Credentials minted in this run: the ones to verify."""
        return [g.credential for g in self.got if not g.reused]

    def report(self):
        """The records with ``reused``, fit to return."""
        return [dict(record(g.credential, g.source), reused=g.reused) for g in self.got]


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


def fresh(stores, source, refresh_before, now):
    """The Credentials that ``stores`` hold for ``source`` when every one stays valid for longer
    than ``refresh_before``, is readable (its expiry too) and is stored under the user name its
    record names; of several such stores the one whose earliest expiry is latest. None when a new
    mint is needed."""
    best, best_rank = None, None
    for stored in stores:
        mine = [r for r in stored.records if r.get("source") == source]
        expiries = [parse_time(r.get("expires_at")) for r in mine]
        if not mine or any(r.get("expires_at") and e is None for r, e in zip(mine, expiries)):
            continue
        known = [e for e in expiries if e is not None]
        earliest = min(known) if known else None
        if earliest is not None and earliest - refresh_before <= now:
            continue
        # Someone else (docker login, a person) may have stored another account's credential since.
        if not all((stored.entries.get(r["server"]) or {}).get("username") == r.get("username") for r in mine):
            continue
        rank = earliest or _NEVER
        if best is None or rank > best_rank:
            best_rank = rank
            best = [Credential(r["server"], r["username"], stored.entries[r["server"]]["password"],
                               stored.entries[r["server"]].get("email"), e, r.get("provider") or "")
                    for r, e in zip(mine, expiries)]
    return best


def collect(entries_sources, refresh_before, now, context, stores=None):
    """Mint every source, or, for a token-minting one, reuse what ``stores`` (a list of Stored)
    hold for it while fresh (``fresh``).

    Without ``stores`` there is nothing to reuse and nothing to warn about: every run mints anyway.
    Two sources that write the same registry (after normalising the key) are an error, because
    only one of them could end up in the file or Secret.
    """
    got, warnings, owner = [], [], {}
    for entry, field, provider in entries_sources:
        source = source_id(provider.identity(entry))
        reuse = fresh(stores, source, refresh_before, now) if stores is not None and provider.mints_token(entry) else None
        creds = reuse or provider.mint(entry, field, context)
        if reuse is None and stores is not None:
            warnings.extend(
                "%s: the credential for %s expires at %s, within refresh_before; every run will mint "
                "a new one" % (field, c.server, format_time(c.expires_at))
                for c in creds if c.expires_at and c.expires_at - refresh_before <= now)
        for credential in creds:
            key = dockerconfig.normalize_key(credential.server)
            if key in owner:
                raise InputError(field, "%s and %s both write the registry %s" % (owner[key], field, key), prefixed=False)
            owner[key] = field
            got.append(Got(credential, source, reuse is not None))
    return Collected(got, warnings)


def verify(minted, context):
    """Log in to each registry with each credential; RegistryError listing the refusals, if any."""
    # Imported here: the HTTP client it needs costs a tenth of a second, for verify only.
    from ansible_collections.regcred.k8s.plugins.module_utils.registry import verify as verify_credential  # pylint: disable=import-outside-toplevel
    refused = [result.message for result in (verify_credential(c, context) for c in minted) if not result.ok]
    if refused:
        raise RegistryError("verify: " + "; ".join(refused) + ". Nothing was written")
