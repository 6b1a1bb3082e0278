# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations such as ``90``, ``45s``, ``30m``, ``2h``, ``1h30m`` or ``1d``. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"([0-9]+)([dhms])")
_WHOLE = re.compile(r"^(?:[0-9]+[dhms])+$")
_DIGITS = re.compile(r"^[0-9]+$")
# Far beyond any token lifetime, and small enough for timedelta.
MAX_SECONDS = 10 * 365 * 86400


def parse_duration(value, field):
    """A non-negative timedelta, or InputError naming ``field``."""
    if isinstance(value, bool):
        raise InputError(field, "%r is not a duration" % (value,))
    if isinstance(value, int):
        seconds = value
    else:
        text = str(value).strip().lower()
        if text.startswith("-"):
            raise InputError(field, "must not be negative")
        # Not str.isdigit(): it accepts digits int() refuses, such as superscripts.
        if _DIGITS.match(text):
            seconds = int(text)
        elif _WHOLE.match(text):
            seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(text))
        else:
            raise InputError(field, "%r is not a duration; use a number of seconds or a form such "
                                    "as 45s, 30m, 2h, 1h30m or 1d" % (value if len(str(value)) < 40
                                                                      else str(value)[:40] + "...",))
    if seconds < 0:
        raise InputError(field, "must not be negative")
    if seconds > MAX_SECONDS:
        raise InputError(field, "must be at most %d days" % (MAX_SECONDS // 86400))
    return datetime.timedelta(seconds=seconds)


def check_timeout(value, field):
    """A timeout option in seconds: more than 0 and at most an hour; InputError naming ``field``."""
    if not 0 < value <= 3600:
        raise InputError(field, "must be more than 0 and at most 3600 seconds, not %s" % (value,))
    return value
