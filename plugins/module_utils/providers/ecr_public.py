# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Amazon ECR Public: a 12-hour token from ``ecr-public`` ``GetAuthorizationToken``, for ``public.ecr.aws``.

The call takes no parameters (botocore's service model, data/ecr-public/2020-10-30/service-2.json:
``GetAuthorizationTokenRequest`` has no members) and answers one ``authorizationData`` without a
``proxyEndpoint``: the token is for the one public registry, ``public.ecr.aws``. AWS serves the
API in us-east-1 only ("When authenticating to a public registry, always authenticate to the
us-east-1 Region", https://docs.aws.amazon.com/AmazonECR/latest/public/public-registry-auth.html),
so the region is not an option. The call needs ``ecr-public:GetAuthorizationToken`` and
``sts:GetServiceBearerToken`` (the operation's documentation in the same model).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.regcred.k8s.plugins.module_utils.credential import Credential, ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.providers import aws

OPTIONS = dict(aws.CREDENTIAL_OPTIONS)

REGION = "us-east-1"
SERVER = "public.ecr.aws"


def validate(entry, field):
    if entry.get("region") not in (None, REGION):
        raise ProviderError(field + ".region", "ECR Public's API is in %s only; leave region out" % REGION)
    for name, why in (("server", "the token is for %s only" % SERVER),
                      ("registry_ids", "ECR Public's GetAuthorizationToken takes none"),
                      ("host_forms", "%s has one name" % SERVER)):
        if entry.get(name):
            raise ProviderError("%s.%s" % (field, name), "must be left out for provider ecr_public: " + why)
    aws.validate_credentials(entry, field)


def mints_token(entry):  # pylint: disable=unused-argument
    return True


def identity(entry):
    return dict(aws.credential_identity(entry), provider=entry["provider"])


def mint(entry, field, context):
    data = aws.get_authorization_token(entry, field, context, "ecr-public", REGION)["authorizationData"]
    username, password = aws.decode_token(data["authorizationToken"], SERVER, field, "ECR Public")
    return [Credential(SERVER, username, password, None,
                       data["expiresAt"].astimezone(datetime.timezone.utc), "ecr_public")]
