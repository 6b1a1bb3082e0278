# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provider names and the modules that implement them.

The imports are static on purpose: Ansible ships a module with only the module_utils it
imports by name, so a dynamic import would find nothing on the managed host. Importing a
provider module is cheap; each imports its SDK only when it mints.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.providers import acr, docker_config, ecr, ecr_public, gcr, static

PROVIDERS = {
    "acr": acr,
    "basic": static,
    "docker_config": docker_config,
    "dockerhub": static,
    "ecr": ecr,
    "ecr_public": ecr_public,
    "gcr": gcr,
}
NAMES = tuple(sorted(PROVIDERS))


def load(name, field="provider"):
    if name not in PROVIDERS:
        raise ProviderError(field, "unknown provider %r; use one of %s" % (name, ", ".join(NAMES)))
    return PROVIDERS[name]
