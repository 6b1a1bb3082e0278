# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.regcred.k8s.plugins.module_utils.minting import NEEDS_NO_LOG
from ansible_collections.regcred.k8s.plugins.plugin_utils.redacting_action import RedactingAction


class ActionModule(RedactingAction):
    """Refuses to return secrets from a task without no_log. The module itself cannot tell: it
    receives ``no_log or no_target_syslog`` as one flag, while the task's own setting is here."""

    def run(self, tmp=None, task_vars=None):
        if boolean(self._task.args.get("return_secrets", True), strict=False) and not self._task.no_log:
            return {"failed": True, "changed": False, "msg": NEEDS_NO_LOG}
        return super(ActionModule, self).run(tmp, task_vars)
