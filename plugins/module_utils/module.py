# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shell every module of this collection runs in.

RegcredModule is an AnsibleModule that merges the shared option sets (Kubernetes connection,
namespace selection, run options, registry TLS), checks their ranges before any I/O, owns the
Kubernetes connection, and turns the one error root (errors.RegcredError) into ``fail_json``.
Anything else that escapes is a bug: it is reported with its traceback, scrubbed of every no_log
value of the task and of every credential field.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import traceback
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError, RegcredError
from ansible_collections.regcred.k8s.plugins.module_utils.k8s_auth_spec import AUTH_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.namespaces import (NAMESPACE_ARG_SPEC,
                                                                             NAMESPACE_MUTUALLY_EXCLUSIVE)
from ansible_collections.regcred.k8s.plugins.module_utils.reconcile import RUN_ARG_SPEC
from ansible_collections.regcred.k8s.plugins.module_utils.redaction import redact
from ansible_collections.regcred.k8s.plugins.module_utils.registries_spec import (REGISTRY_TLS_ARG_SPEC,
                                                                                  check_registry_tls)
from ansible_collections.regcred.k8s.plugins.module_utils.version import user_agent

PARALLEL_MAX = 100


def merged_spec(own: t.Dict[str, dict], kube: bool = True, namespaces: bool = False, run_options: bool = False,
                registry_tls: bool = False) -> t.Dict[str, dict]:
    """A module's own options with the shared sets it asks for."""
    spec = dict(own)
    for wanted, shared in ((namespaces, NAMESPACE_ARG_SPEC), (run_options, RUN_ARG_SPEC),
                           (registry_tls, REGISTRY_TLS_ARG_SPEC), (kube, AUTH_ARG_SPEC)):
        if wanted:
            spec.update(shared)
    return spec


def check_shared(params: t.Mapping[str, t.Any]) -> None:
    """The range checks of the shared options a task has; InputError naming the option."""
    if "parallel" in params and not 1 <= params["parallel"] <= PARALLEL_MAX:
        raise InputError("parallel", "must be between 1 and %d" % PARALLEL_MAX)
    if "registry_timeout" in params:
        check_registry_tls(params)


def scrubbed_traceback(exc: BaseException, secrets: t.Iterable[str]) -> str:
    """The traceback of ``exc`` without any of ``secrets`` or a credential field."""
    return redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), secrets)


def bug_report(exc: BaseException, secrets: t.Iterable[str]) -> t.Tuple[str, str]:
    """``(msg, exception)`` for ``fail_json`` after an unexpected exception: its one-line summary
    and its traceback, both without any of ``secrets`` or a credential field."""
    summary = redact("%s: %s" % (exc.__class__.__name__, exc), secrets)
    return ("unexpected error, please report it with the traceback (exception): %s" % summary,
            scrubbed_traceback(exc, secrets))


class RegcredModule(AnsibleModule):
    """An AnsibleModule with the collection's shared options, checks and error handling.

    ``name`` is the module's name (sent in the User-Agent); ``kube`` adds the Kubernetes connection
    options, ``namespaces`` the namespace selection, ``run_options`` parallel, fail_fast and
    ignore_failures, ``registry_tls`` the registry TLS options. Check mode is always supported.
    """

    def __init__(self, name, argument_spec, kube=True, namespaces=False, run_options=False, registry_tls=False,
                 mutually_exclusive=None, **kwargs):
        exclusive = list(mutually_exclusive or []) + (NAMESPACE_MUTUALLY_EXCLUSIVE if namespaces else [])
        super().__init__(
            argument_spec=merged_spec(argument_spec, kube, namespaces, run_options, registry_tls),
            mutually_exclusive=exclusive, supports_check_mode=True, **kwargs)
        self.module_name = name
        self.uses_kube = kube
        # Extra return values for a failed task, such as the results per namespace so far.
        self.failure_results = dict

    def fail_on(self, exc: BaseException) -> t.NoReturn:
        """fail_json for ``exc``: its message for a RegcredError, a bug report otherwise. The
        traceback, scrubbed, is in ``exception`` whenever Ansible asks modules for tracebacks
        (ANSIBLE_DISPLAY_TRACEBACK); fail_json would otherwise take the raw one."""
        if isinstance(exc, RegcredError):
            msg, trace = str(exc), scrubbed_traceback(exc, self.no_log_values)
        else:
            msg, trace = bug_report(exc, self.no_log_values)
        self.fail_json(msg=msg, exception=trace, **self.failure_results())

    @contextlib.contextmanager
    def guard(self):
        """Run the body; any exception ends the task through ``fail_on``."""
        try:
            yield
        except Exception as exc:  # pylint: disable=broad-except
            self.fail_on(exc)

    @contextlib.contextmanager
    def kube(self):
        """The Kubernetes client for this task (request_timeout, pool sized by parallel), closed on exit."""
        # Imported here: kube.py needs urllib3 and PyYAML, which modules without Kubernetes do not.
        from ansible_collections.regcred.k8s.plugins.module_utils.kube import Kube, fail_if_missing  # pylint: disable=import-outside-toplevel
        fail_if_missing(self)
        client = Kube(self.params, user_agent(self.module_name), pool_size=self.params.get("parallel") or 10)
        try:
            yield client
        finally:
            client.close()

    def run(self, check: t.Callable[[dict], t.Any], execute: t.Callable[[t.Any, t.Any], None]) -> None:
        """The life of a task: ``check(params)`` (no I/O) and the shared range checks, then
        ``execute(kube)`` (``kube`` is None for a module without Kubernetes options). A RegcredError
        or a bug from either fails the task (``fail_on``); ``execute`` ends it with exit_json."""
        with self.guard():
            check_shared(self.params)
            checked = check(self.params)
            if not self.uses_kube:
                execute(None, checked)
                return
            with self.kube() as client:
                execute(client, checked)
