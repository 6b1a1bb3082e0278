# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of credential fields in text that may quote a docker config or a token response: a
traceback, a debug line. Used by the modules (module.RegcredModule) and by the action plugins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import typing as t

MASK = "********"
_CREDENTIAL_FIELD = re.compile(
    r'("(?:password|auth|identitytoken|registrytoken|token|access_token|refresh_token)"\s*:\s*")'
    r'(?:[^"\\]|\\.)*(")')


def redact(text: str, values: t.Iterable[str]) -> str:
    """``text`` with each of ``values`` masked, as it is and as JSON or repr quote it, and the value
    of every JSON credential field (``"password": "..."``)."""
    for value in sorted(values, key=len, reverse=True):
        for form in (value, json.dumps(value)[1:-1], repr(value)[1:-1]):
            if form:
                text = text.replace(form, MASK)
    return _CREDENTIAL_FIELD.sub(r"\1" + MASK + r"\2", text)
