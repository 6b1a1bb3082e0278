# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  namespace:
    description:
      - One namespace to act on.
      - One of O(namespace), O(namespaces), O(namespace_selector) and O(all_namespaces) is
        required.
    type: str
  namespaces:
    description:
      - The namespaces to act on. A listed namespace that does not exist is reported as failed.
    type: list
    elements: str
  namespace_selector:
    description:
      - A label selector, such as V(team=payments) or V(env in (prod,stage\)); every namespace
        that matches. Matching no namespace at all is an error.
      - The selector is parsed with the apiserver's grammar before any request; a blank or malformed
        one fails naming this option, so a selector of only spaces never selects every namespace.
    type: str
  all_namespaces:
    description:
      - Act on every namespace.
    type: bool
    default: false
  exclude_namespaces:
    description:
      - Namespaces to leave alone, for example V(kube-system). They are reported as skipped.
      - Namespaces that are being deleted are always skipped.
    type: list
    elements: str
    default: []
  ignore_failures:
    description:
      - Do not fail the task when some namespaces fail; they are still reported in the
        C(namespaces) return value.
    type: bool
    default: false
  fail_fast:
    description:
      - Stop starting new namespaces after the first failure; those not started are reported as
        skipped.
    type: bool
    default: false
  parallel:
    description:
      - How many namespaces to write at once (1 to 100).
      - Each write in flight holds one connection to the apiserver. Against a small apiserver that
        shares its cores with etcd (a test or edge cluster), 10 to 20 finish as fast as 100 and cost it
        less CPU; a remote apiserver, where each request waits on the network, gains from more.
    type: int
    default: 10
"""
