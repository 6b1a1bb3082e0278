# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kubelet_env_flags
short_description: Set or remove kubelet flags in an environment file
version_added: 1.1.0
author:
  - regcred.k8s maintainers
description:
  - Returns the text of an environment file, such as C(/etc/default/kubelet) on a kubeadm node,
    with the given flags set in (or removed from) one variable, such as C(KUBELET_EXTRA_ARGS),
    that the kubelet's systemd unit expands into its command line.
  - Every other line, and every other flag of that variable, stays as it is. A flag is replaced
    in both of its forms (C(--name=value) and C(--name value)) and written as C(--name=value).
    The file is read as systemd reads an C(EnvironmentFile); the last assignment of the variable wins.
  - Returns the input unchanged when nothing changes, so a task that writes it reports no change.
options:
  _input:
    description: The file's current text; empty when the file does not exist.
    type: str
    required: true
  variable:
    description: The variable that holds the flags.
    type: str
    required: true
  flags:
    description:
      - Flags to set, as a dictionary of flag names (such as C(--image-credential-provider-config)) and values.
        A value of C(null) removes the flag.
      - Values must not contain whitespace, quotes, C(\), C($) or C(`).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Point the kubelet at the credential provider config
  ansible.builtin.copy:
    dest: /etc/default/kubelet
    content: >-
      {{ current | regcred.k8s.kubelet_env_flags('KUBELET_EXTRA_ARGS',
         {'--image-credential-provider-config': '/etc/kubernetes/credential-provider.yaml',
          '--image-credential-provider-bin-dir': '/usr/libexec/kubernetes/credential-provider'}) }}
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The file's new text.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError
from ansible_collections.regcred.k8s.plugins.module_utils.kubelet_flags import with_flags


def kubelet_env_flags(text, variable, flags):
    try:
        return with_flags(text, variable, dict(flags))
    except InputError as exc:
        raise AnsibleFilterError("kubelet_env_flags: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"kubelet_env_flags": kubelet_env_flags}
