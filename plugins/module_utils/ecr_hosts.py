# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host names an Amazon ECR private registry is pulled through. Pure.

One registry (an account in a region) answers under several names, and the kubelet matches a
``.dockerconfigjson`` key against the image's host as written, so a Secret needs a key for each
name that pods use:

- ``standard``: ``<account>.dkr.ecr.<region>.<suffix>``, where the suffix is the partition's:
  ``amazonaws.com`` (aws, aws-us-gov), ``amazonaws.com.cn`` (aws-cn), ``c2s.ic.gov`` (aws-iso)
  and ``sc2s.sgov.gov`` (aws-iso-b);
- ``fips``: ``<account>.dkr.ecr-fips.<region>.<suffix>``;
- ``dualstack``: ``<account>.dkr-ecr.<region>.on.aws``, in the aws partition only.

The forms and partitions are those of the kubelet's ECR credential provider
(kubernetes/cloud-provider-aws, cmd/ecr-credential-provider/main.go, ``ecrPattern``:
``^(\\d{12})\\.dkr\\.ecr(\\-fips)?\\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\\.(amazonaws\\.com(\\.cn)?|sc2s\\.sgov\\.gov|c2s\\.ic\\.gov)$``)
and of AWS's "Making requests to Amazon ECR registries"
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html), which names the
dual-stack registry host ``<registry-id>.dkr-ecr.<aws-region>.on.aws``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

FORMS = ("standard", "fips", "dualstack")
_SUFFIXES = r"amazonaws\.com(?:\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov"
_ECR_HOST = re.compile(r"([0-9]{12})\.dkr\.ecr(-fips)?\.([a-z0-9][a-z0-9-]*)\.(%s)" % _SUFFIXES)
_DUALSTACK_HOST = re.compile(r"([0-9]{12})\.dkr-ecr\.([a-z0-9][a-z0-9-]*)\.on\.aws")
# The partition whose registries also answer under on.aws.
_DUALSTACK_SUFFIX = "amazonaws.com"


def parse(host):
    """``(account, region, suffix)`` of an ECR registry host, or None when ``host`` is none.
    ``suffix`` is the partition's DNS suffix (``amazonaws.com`` for a dual-stack host)."""
    host = host.lower()
    found = _ECR_HOST.fullmatch(host)
    if found:
        return found.group(1), found.group(3), found.group(4)
    found = _DUALSTACK_HOST.fullmatch(host)
    if found:
        return found.group(1), found.group(2), _DUALSTACK_SUFFIX
    return None


def hosts(host, forms):
    """The registry's names in ``forms``, in that order, or ValueError saying why a form has none.

    ``host`` is the registry ECR named (its ``proxyEndpoint`` without the scheme)."""
    parsed = parse(host)
    if parsed is None:
        raise ValueError("ECR named the registry %r, which is not an ECR host name "
                         "(<account>.dkr.ecr.<region>.amazonaws.com or a partition's variant), so "
                         "its other forms are unknown" % host)
    account, region, suffix = parsed
    names = []
    for form in forms:
        if form == "standard":
            names.append("%s.dkr.ecr.%s.%s" % (account, region, suffix))
        elif form == "fips":
            names.append("%s.dkr.ecr-fips.%s.%s" % (account, region, suffix))
        elif form == "dualstack":
            if suffix != _DUALSTACK_SUFFIX:
                raise ValueError("ECR has no dual-stack registry host for %s (partition suffix %s); "
                                 "<account>.dkr-ecr.<region>.on.aws is in the aws partition only"
                                 % (host, suffix))
            names.append("%s.dkr-ecr.%s.on.aws" % (account, region))
        else:
            raise ValueError("%r is not a host form; use %s" % (form, ", ".join(FORMS)))
    return names
