# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubelet flags in an environment file, such as ``KUBELET_EXTRA_ARGS`` in ``/etc/default/kubelet``
(kubeadm's packages) that the kubelet's systemd unit expands into its command line. Pure.

The file is read as systemd reads an ``EnvironmentFile``: ``NAME=VALUE`` lines, the value
optionally in single or double quotes; the last assignment of a name wins. The unit expands an
unbraced ``$NAME`` into words split at whitespace, which is how the value's flags are read here.

with_flags() sets or removes named flags in one variable and keeps everything else of the file
as it is, other flags of that variable included: a flag is replaced in both of pflag's forms
(``--name=value`` and ``--name value``), and the result always uses ``--name=value``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FLAG = re.compile(r"^--[a-z0-9][a-z0-9-]*$")
_PLAIN = re.compile(r"^[^\s\"'\\$`]*$")


def _assignment(line, variable):
    """The value text of ``line`` when it assigns ``variable``, else None."""
    name, sep, value = line.strip().partition("=")
    return value.strip() if sep and name.strip() == variable else None


def args_of(text, variable):
    """The words of ``variable``'s last assignment in the file ``text`` (an empty list without one)."""
    value = None
    for line in (text or "").splitlines():
        found = _assignment(line, variable)
        if found is not None:
            value = found
    if value and len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return (value or "").split()


def _without(args, name):
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
            if not arg.startswith("-"):
                continue
        if arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            kept.append(arg)
    return kept


def check(variable, flags):
    """InputError naming the variable or flag that cannot be written safely."""
    if not isinstance(variable, str) or not _NAME.match(variable):
        raise InputError("variable", "%r is not an environment variable name" % (variable,))
    for name, value in flags.items():
        if not isinstance(name, str) or not _FLAG.match(name):
            raise InputError("flags", "%r is not a long flag such as --image-credential-provider-config" % (name,))
        if value is not None and (not isinstance(value, str) or not value or not _PLAIN.match(value)):
            raise InputError(name, "must be a non-empty value without whitespace, quotes, '\\', '$' or '`'")


def with_flags(text, variable, flags):
    """The file ``text`` with each flag of ``flags`` (``{"--name": value}``) set to its value in
    ``variable``, or removed where the value is None. A file without the variable gets a line for
    it only when a flag is set."""
    check(variable, flags)
    text = text or ""
    args = args_of(text, variable)
    for name in flags:
        args = _without(args, name)
    args += ["%s=%s" % (name, value) for name, value in sorted(flags.items()) if value is not None]
    line = '%s="%s"' % (variable, " ".join(args))
    lines = text.splitlines()
    positions = [i for i, current in enumerate(lines) if _assignment(current, variable) is not None]
    if positions:
        if args_of(text, variable) == args:
            return text
        lines[positions[-1]] = line
    elif any(value is not None for value in flags.values()):
        lines.append(line)
    else:
        return text
    return "\n".join(lines) + "\n"
