# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the AWS providers (``ecr``, ``ecr_public``) share: the credential chain options, one
``GetAuthorizationToken`` call through boto3 with its errors named by option, and the decoding
of the token. Not a provider itself: ``provider_catalog`` does not list it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import re

from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError

# The options of the credential chain, read by every AWS provider.
CREDENTIAL_OPTIONS = dict(
    profile=dict(type="str"),
    access_key=dict(type="str", no_log=False),
    secret_key=dict(type="str", no_log=True),
    session_token=dict(type="str", no_log=True),
    assume_role_arn=dict(type="str"),
    endpoint_url=dict(type="str"),
)

# GetAuthorizationToken and AssumeRole change nothing, so a timed-out call is sent once more.
_ATTEMPTS = 2
# Error codes about who the caller is or what it may do, rather than about the request.
_CREDENTIAL_CODES = frozenset([
    "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
    "SignatureDoesNotMatch", "ExpiredTokenException", "ExpiredToken", "AccessDenied",
    "AccessDeniedException", "IncompleteSignature",
])


def validate_credentials(entry, field):
    """The checks of the credential chain options, before any I/O."""
    if entry.get("access_key") and not entry.get("secret_key"):
        raise ProviderError(field + ".secret_key", "is required with access_key")
    if entry.get("secret_key") and not entry.get("access_key"):
        raise ProviderError(field + ".access_key", "is required with secret_key")
    if entry.get("session_token") and not entry.get("access_key"):
        raise ProviderError(field + ".session_token", "needs access_key and secret_key")
    endpoint = entry.get("endpoint_url")
    if endpoint is not None and not re.fullmatch(r"https?://[^\s/?#]+(?:[/?#]\S*)?", endpoint):
        # Not echoed: a URL may carry user information.
        raise ProviderError(field + ".endpoint_url", "must be an http:// or https:// URL")


def credential_identity(entry):
    """The non-secret credential chain inputs that decide who asks for the token."""
    return {name: entry.get(name) for name in ("profile", "access_key", "assume_role_arn", "endpoint_url")}


def _endpoint_field(entry, field):
    for name in ("endpoint_url", "region"):
        if entry.get(name):
            return "%s.%s" % (field, name)
    return field


def _credential_field(entry, field, role=True):
    """The option that chose the identity AWS acted as; the default chain falls to access_key,
    whose documentation describes that chain."""
    names = ("assume_role_arn", "access_key", "profile") if role else ("access_key", "profile")
    for name in names:
        if entry.get(name):
            return "%s.%s" % (field, name)
    return field + ".access_key"


def client_error(exc, field, session):
    """ProviderError for a botocore ClientError, without the credentials AWS may quote."""
    error = exc.response.get("Error", {})
    message = error.get("Message") or ""
    # Signature errors quote the canonical request, which holds the session token header. The
    # request was signed, so the session has resolved (and cached) its credentials, from whatever
    # source: environment, profile or role.
    credentials = session.get_credentials()
    for secret in (credentials.secret_key, credentials.token) if credentials else ():
        if secret:
            message = message.replace(secret, "********")
    return ProviderError(field, "AWS refused %s (%s): %s"
                         % (exc.operation_name, error.get("Code", "Unknown"), message.split("\n", 1)[0]))


def _assume_role(session, entry, field, region, client_options):
    """A session acting as ``assume_role_arn``, with the credentials STS hands out for it."""
    import boto3
    from botocore.exceptions import ClientError

    sts = session.client("sts", **client_options)
    try:
        credentials = sts.assume_role(RoleArn=entry["assume_role_arn"],
                                      RoleSessionName="regcred-k8s")["Credentials"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        target = field + ".assume_role_arn"
        if code in _CREDENTIAL_CODES and code not in ("AccessDenied", "AccessDeniedException"):
            # Not the role refusing this caller: the caller's own credentials are bad.
            target = _credential_field(entry, field, role=False)
        # "from None": the chained ClientError would print the unscrubbed message in a traceback.
        raise client_error(exc, target, session) from None
    return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"],
                                 aws_session_token=credentials["SessionToken"],
                                 region_name=region)


def get_authorization_token(entry, field, context, service, region, request=None, request_field=None):
    """The answer of ``service``'s (``ecr`` or ``ecr-public``) GetAuthorizationToken in ``region``.

    ``request`` holds the call's parameters; errors AWS reports about the request itself (not
    about the caller) name ``request_field`` when it is set."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import (BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError,
                                     NoCredentialsError, PartialCredentialsError, ProfileNotFound, ReadTimeoutError)

    client_options = {
        # botocore's default is five attempts, more than two and a half minutes for a silent endpoint.
        "config": Config(connect_timeout=context.timeout, read_timeout=context.timeout,
                         retries={"total_max_attempts": _ATTEMPTS, "mode": "standard"}),
        # botocore's own CA lookup (AWS_CA_BUNDLE, ca_bundle in the profile): registry TLS options
        # are for registries, and turning them off must not turn off the check of an AWS endpoint.
        "verify": None,
    }
    try:
        session = boto3.session.Session(profile_name=entry.get("profile"),
                                        aws_access_key_id=entry.get("access_key"),
                                        aws_secret_access_key=entry.get("secret_key"),
                                        aws_session_token=entry.get("session_token"),
                                        region_name=region)
        if entry.get("assume_role_arn"):
            session = _assume_role(session, entry, field, region, client_options)
        # endpoint_url=None lets botocore apply AWS_ENDPOINT_URL_ECR (or _ECR_PUBLIC) and the config file.
        client = session.client(service, endpoint_url=entry.get("endpoint_url"), **client_options)
        return client.get_authorization_token(**(request or {}))
    except ProfileNotFound:
        raise ProviderError(field + ".profile", "profile %r is not in the AWS config or credentials "
                                                "files" % entry["profile"])
    except (NoCredentialsError, PartialCredentialsError):
        # Raised before any request, so about the caller's own credentials, never the role's.
        raise ProviderError(_credential_field(entry, field, role=False),
                            "no AWS credentials found: set access_key and secret_key, or profile, "
                            "or provide them through the environment, web identity or an instance role")
    except (ConnectTimeoutError, ReadTimeoutError) as exc:
        raise ProviderError(_endpoint_field(entry, field), "the AWS endpoint " + context.timed_out(
            exc.kwargs.get("endpoint_url"), _ATTEMPTS))
    except EndpointConnectionError as exc:
        raise ProviderError(_endpoint_field(entry, field), "cannot reach the AWS endpoint %s"
                            % exc.kwargs.get("endpoint_url"))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in _CREDENTIAL_CODES:
            target = _credential_field(entry, field)
        else:
            target = request_field or field
        raise client_error(exc, target, session) from None
    except BotoCoreError as exc:
        # botocore builds these messages from names, paths and endpoints, never from credentials.
        raise ProviderError(field, "AWS: %s" % exc)


def decode_token(token, server, field, service):
    """``(username, password)`` from a base64 ``user:password`` authorization token."""
    try:
        username, sep, password = base64.b64decode(token).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, TypeError):
        username, sep, password = "", "", ""
    if not sep:
        raise ProviderError(field, "%s returned an authorization token for %s that is not base64 of "
                                   "user:password" % (service, server))
    return username, password
