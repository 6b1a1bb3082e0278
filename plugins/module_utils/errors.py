# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error root of the collection. A module reports a RegcredError as a failed task with its
message; anything else is a bug, reported with its traceback (module.RegcredModule).

No message of these classes ever holds a secret: they name the option, object or endpoint at
fault, never a password, token or payload.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import typing as t


class RegcredError(Exception):
    """Everything that fails a task for a reason the user can act on. ``field`` names the option
    at fault (``registries[2].region``), or is None when no single option is."""

    field: t.Optional[str] = None


class InputError(RegcredError, ValueError):
    """An option has a value the task cannot use; found before any write. The message reads
    ``FIELD: MESSAGE``; with ``prefixed=False`` (or no field) it is ``MESSAGE`` alone, a sentence
    that names the field in its own words. A ValueError too, as the checks it replaces raised."""

    def __init__(self, field: t.Optional[str], message: str, prefixed: bool = True) -> None:
        super().__init__("%s: %s" % (field, message) if field and prefixed else message)
        self.field = field


class StateError(RegcredError):
    """What the cluster or a file holds does not let the task go on: a Secret of another type, a
    ServiceAccount that does not exist. The message names the object."""


class KubeError(RegcredError):
    """A Kubernetes API call failed. ``status`` is the HTTP status (None when the server was not
    reached); the message is the apiserver's own, which never holds Secret data."""

    def __init__(self, message: str, status: t.Optional[int] = None, reason: t.Optional[str] = None,
                 timed_out: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.timed_out = timed_out

    @property
    def fatal(self) -> bool:
        """True when no other request can fare better: the apiserver was not reached, or it did
        not accept the identity. Such an error is about the connection options, never about one object."""
        return self.status in (None, 401)


class ProviderError(RegcredError):
    """A provider could not produce a credential. ``field`` names the option at fault, for
    example ``registries[2].region``; the message never contains a secret."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__("%s: %s" % (field, message))
        self.field = field


class RegistryError(RegcredError):
    """A registry or its token endpoint answered with an error, or could not be reached.

    ``status`` is the HTTP status (None without an answer); ``code`` is the registry's own error
    code, such as ``MANIFEST_UNKNOWN``, when its answer had one.
    """

    def __init__(self, message: str, status: t.Optional[int] = None, code: t.Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
