# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import ecr_hosts

ALL = ["standard", "fips", "dualstack"]


@pytest.mark.parametrize("host, parsed", [
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", ("123456789012", "eu-west-1", "amazonaws.com")),
    ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", ("123456789012", "us-gov-west-1", "amazonaws.com")),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", ("123456789012", "cn-north-1", "amazonaws.com.cn")),
    ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", ("123456789012", "us-iso-east-1", "c2s.ic.gov")),
    ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", ("123456789012", "us-isob-east-1", "sc2s.sgov.gov")),
    ("123456789012.dkr-ecr.ap-south-1.on.aws", ("123456789012", "ap-south-1", "amazonaws.com")),
    ("123456789012.DKR.ECR.eu-west-1.amazonaws.com", ("123456789012", "eu-west-1", "amazonaws.com")),
    ("12345678901.dkr.ecr.eu-west-1.amazonaws.com", None),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example", None),
    ("123456789012.dkr.ecr.eu-west-1.example.com", None),
    ("public.ecr.aws", None),
    ("127.0.0.1:5000", None),
])
def test_parse_follows_the_kubelet_credential_provider_pattern(host, parsed):
    assert ecr_hosts.parse(host) == parsed


@pytest.mark.parametrize("host", [
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com",
    "123456789012.dkr-ecr.eu-west-1.on.aws",
])
def test_every_form_of_a_registry_gives_the_same_names(host):
    assert ecr_hosts.hosts(host, ALL) == ["123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                                          "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com",
                                          "123456789012.dkr-ecr.eu-west-1.on.aws"]


def test_other_partitions_keep_their_suffix():
    assert ecr_hosts.hosts("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", ["standard", "fips"]) == [
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012.dkr.ecr-fips.cn-north-1.amazonaws.com.cn"]


@pytest.mark.parametrize("host", ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                                  "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"])
def test_dualstack_is_refused_outside_the_aws_partition(host):
    with pytest.raises(ValueError, match="dual-stack"):
        ecr_hosts.hosts(host, ["dualstack"])


def test_an_unknown_host_has_no_forms():
    with pytest.raises(ValueError, match="not an ECR host name"):
        ecr_hosts.hosts("ecr.internal.example:5000", ["standard"])


def test_an_unknown_form_is_refused():
    with pytest.raises(ValueError, match="not a host form"):
        ecr_hosts.hosts("123456789012.dkr.ecr.eu-west-1.amazonaws.com", ["ipv6"])
