"""The Amazon ECR Public API (``ecr-public``), served on loopback: ``GetAuthorizationToken`` only.

moto, which serves the ECR API here, has no ``ecr-public`` service (moto 5.2 answers its
requests with a 500), so this emulator stands in for ``api.ecr-public.us-east-1.amazonaws.com``.
It follows botocore's service model (botocore/data/ecr-public/2020-10-30/service-2.json):

- protocol ``json`` 1.1: ``POST /`` with ``X-Amz-Target: SpencerFrontendService.<Operation>``
  and ``Content-Type: application/x-amz-json-1.1``; errors are ``{"__type": CODE, "message": ...}``
  with status 400 (the AWS JSON 1.1 protocol,
  https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html);
- ``GetAuthorizationToken`` takes no parameters and answers ``{"authorizationData":
  {"authorizationToken", "expiresAt"}}``: base64 of ``AWS:<password>``, valid 12 hours
  ("Registry authentication in Amazon ECR public",
  https://docs.aws.amazon.com/AmazonECR/latest/public/public-registry-auth.html), ``expiresAt`` in
  epoch seconds as the JSON protocol writes timestamps.

Requests must be signed with Signature Version 4 for the service ``ecr-public`` in ``us-east-1``
(the only region the API is in, as the page above says), with the access key this emulator is
configured with; the signature is recomputed with botocore's own signer and compared, as AWS does
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html). An unknown access key is
``UnrecognizedClientException``, a wrong signature or scope ``InvalidSignatureException``, as the
service answers. IAM (``ecr-public:GetAuthorizationToken``, ``sts:GetServiceBearerToken``) is not
emulated: the configured key may do everything.

The same process serves ``ecr-public-token``, the token endpoint of an ECR-Public-like registry
(a docker-registry with ``auth: token``), under the registries' CA on a port of its own.
public.ecr.aws answers ``/v2/`` with ``Bearer realm="https://public.ecr.aws/token/",
service="public.ecr.aws"``, and its token endpoint takes Basic ``AWS:<password>`` from
``GetAuthorizationToken`` ("Registry authentication in Amazon ECR public", above: the token is used
as a docker login for ``public.ecr.aws`` with the user ``AWS``). This endpoint follows the
distribution token spec (https://distribution.github.io/distribution/spec/auth/token/, GET only):
a login is valid only when its password is one this process issued and has not expired; it
grants pull and push on every repository (the AWS key may do everything, see above). Real ECR
Public also answers anonymous pulls of public repositories; here only repositories under
``public/`` are anonymous (emulators.RegistryTokenHandler), so the test image, outside
``public/``, stands for a repository that needs the token, and a pull of it proves the token
opened it.

Run: ``python emulators_ecr.py --config emulators.json --port N --token-port M``.
"""

import argparse
import base64
import hmac
import json
import re
import secrets
import threading
import time
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import emulators

SERVICE, REGION = "ecr-public", "us-east-1"
HOST, USERNAME = "public.ecr.aws", "AWS"
TARGET_PREFIX = "SpencerFrontendService."
TOKEN_LIFETIME = 12 * 3600
_AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/([0-9]{8})/([^/]+)/([^/]+)/aws4_request, "
                            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})")


class EcrPublicHandler(emulators.Handler):
    """``SpencerFrontendService.GetAuthorizationToken``, SigV4-checked."""

    def error(self, code, message, status=400):
        return self.reply(status, {"__type": code, "message": message})

    def _signature_problem(self, body):
        """``(code, message)`` when the request is not signed by the configured key for ecr-public
        in us-east-1, else None."""
        cfg = self.config["ecr_public"]
        found = _AUTHORIZATION.fullmatch(self.headers.get("Authorization", ""))
        if not found:
            return "MissingAuthenticationTokenException", "Missing Authentication Token"
        access_key, _day, region, service, signed, signature = found.groups()
        if access_key != cfg["access_key"]:
            return "UnrecognizedClientException", "The security token included in the request is invalid."
        if (region, service) != (REGION, SERVICE):
            return "InvalidSignatureException", ("Credential should be scoped to a valid region and service: "
                                                 "%s/%s is not %s/%s" % (region, service, REGION, SERVICE))
        headers = {name: self.headers.get(name, "") for name in signed.split(";")}
        request = AWSRequest(method="POST", url="https://%s%s" % (self.headers.get("Host"), self.path),
                             headers=headers, data=body)
        request.context["timestamp"] = self.headers.get("X-Amz-Date", "")
        signer = SigV4Auth(Credentials(access_key, cfg["secret_key"]), SERVICE, REGION)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, signature):
            return "InvalidSignatureException", ("The request signature we calculated does not match the "
                                                 "signature you provided.")
        return None

    def do_POST(self):  # pylint: disable=invalid-name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.route() != "/" or self.headers.get("Content-Type", "").split(";")[0] != "application/x-amz-json-1.1":
            return self.error("UnknownOperationException", "")
        problem = self._signature_problem(body)
        if problem:
            return self.error(*problem)
        if self.headers.get("X-Amz-Target") != TARGET_PREFIX + "GetAuthorizationToken":
            return self.error("UnknownOperationException", "")
        password = self.issued(secrets.token_urlsafe(48))
        expires_at = time.time() + TOKEN_LIFETIME
        self.server.passwords[password] = expires_at
        return self.reply(200, {"authorizationData": {
            "authorizationToken": base64.b64encode((USERNAME + ":" + password).encode()).decode(),
            "expiresAt": expires_at}})


def login_valid(passwords, user, password, now):
    """Whether ``user:password`` is a login of an issued token unexpired at ``now``; ``passwords``
    maps each issued password to its ``expiresAt``."""
    expires_at = passwords.get(password)
    return user == USERNAME and expires_at is not None and now < expires_at


class EcrPublicTokenHandler(emulators.RegistryTokenHandler):
    """The registry token endpoint of public.ecr.aws: Basic ``AWS:<password>`` of an unexpired
    ``GetAuthorizationToken`` answer of this process; anything else is a 401."""

    def _valid(self, user, password):
        return login_valid(self.server.passwords, user, password, time.time())


def build_servers(config, port, token_port):
    """The ECR Public API on ``port`` (cloud CA) and its registry's token endpoint on
    ``token_port`` (registries' CA), sharing the passwords issued so far."""
    passwords = {}
    api = emulators.new_server({"ecr-public": EcrPublicHandler}, "ecr-public", config, port)
    token_config = dict(config, registry=config["ecr_public"]["registry"])
    token = emulators.new_server({"ecr-public-token": EcrPublicTokenHandler}, "ecr-public-token", token_config,
                                 token_port)
    token.signing_key, token.key_id = emulators.load_signing(token_config["registry"]["signing_key"],
                                                             token_config["registry"]["signing_cert"])
    for server in (api, token):
        server.passwords = passwords
    return [emulators.serve_tls(api, config["tls"]["ecr-public"]),
            emulators.serve_tls(token, config["tls"]["ecr-public-token"])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token-port", type=int, required=True)
    args = parser.parse_args()
    config = json.loads(Path(args.config).read_text(encoding="utf-8"))
    api, token = build_servers(config, args.port, args.token_port)
    threading.Thread(target=token.serve_forever, daemon=True).start()
    print(f"ecr-public https://127.0.0.1:{args.port}, ecr-public-token https://127.0.0.1:{args.token_port}",
          flush=True)
    api.serve_forever()


if __name__ == "__main__":
    main()
