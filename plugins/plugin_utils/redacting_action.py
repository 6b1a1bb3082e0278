# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind every module of this collection: run the module, but keep its secrets out
of ANSIBLE_DEBUG output, and name the entry of ``registries`` that is not a dictionary.

With ANSIBLE_DEBUG set, ansible-core prints each module's raw arguments ("done with
_execute_module (...)") and the module's raw output, whatever ``no_log`` says. While our module
runs, this action redacts from those debug lines every value of a ``no_log`` option and every
credential field of a docker config or token response, in this worker process only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

from ansible.module_utils.common.validation import check_type_dict
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.regcred.k8s.plugins.module_utils.k8s_auth_spec import AUTH_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.redaction import redact
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import REGISTRIES_ARG_SPEC

display = Display()


def no_log_options(spec):
    """Names of the options marked no_log, at any depth of suboptions."""
    names = set()
    for name, option in spec.items():
        if option.get("no_log"):
            names.add(name)
        names |= no_log_options(option.get("options") or {})
    return names


SECRET_OPTIONS = frozenset(no_log_options(AUTH_ARG_SPEC) | no_log_options(REGISTRIES_ARG_SPEC))


def _strings(value):
    """A secret value's strings as they may appear in debug text: whole and line by line, and for
    a dict or list (an inline kubeconfig) each string in it. Lines and nested strings shorter than
    8 characters are left out: they are structure (``v1``, ``Config``), and masking them would
    garble the text."""
    if isinstance(value, str):
        return {value} | set(line.strip() for line in value.splitlines() if len(line.strip()) >= 8)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return set(text for item in items for text in _strings(item) if len(text) >= 8)


def secret_values(args):
    """Every value given to a no_log option in ``args``, as it may appear in text."""
    found = set()
    if isinstance(args, dict):
        for key, value in args.items():
            if key in SECRET_OPTIONS and value not in (None, ""):
                if not isinstance(value, str):
                    found.add(json.dumps(value))
                found |= _strings(value)
            else:
                found |= secret_values(value)
    elif isinstance(args, list):
        for item in args:
            found |= secret_values(item)
    return found


@contextlib.contextmanager
def redacted_debug(values):
    original = display.debug

    def debug(msg, host=None):
        return original(redact(msg, values), host=host)

    display.debug = debug
    try:
        yield
    finally:
        del display.debug


def registries_problem(args):
    """The message for an entry of ``registries`` that cannot become a dictionary, or None.

    ansible-core fails such a task with a bare "dictionary requested, could not parse JSON or
    key=value", naming no option: it lists no_log values (_list_no_log_values in
    module_utils/common/parameters.py) before it checks types. The entry itself is not shown; it
    may hold a password.
    """
    registries = args.get("registries")
    entries = [registries] if isinstance(registries, str) else registries
    for index, item in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(item, str):
            try:
                check_type_dict(item)
            except TypeError:
                return ("registries[%d]: each entry must be a dictionary with a provider, such as "
                        "{provider: basic, server: ..., username: ..., password: ...}, not a string" % index)
    return None


class RedactingAction(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(RedactingAction, self).run(tmp, task_vars)
        problem = registries_problem(self._task.args)
        if problem:
            result.update(failed=True, changed=False, msg=problem)
            return result
        # async: the module runs in ansible-core's async wrapper, which returns the job id at once;
        # what follows is ansible.builtin.normal's handling, which an action plugin must repeat.
        wrap_async = self._task.async_val and not self._connection.has_native_async
        with redacted_debug(secret_values(self._task.args)):
            result.update(self._execute_module(module_args=self._task.args, task_vars=task_vars,
                                               wrap_async=wrap_async))
        if not wrap_async:
            # An async job removes its temporary directory itself, when it ends.
            self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return result
