"""Google Cloud, emulated on loopback: one process, four listeners that share the tokens issued.

- ``google`` (HTTPS, cloud CA): Google's OAuth2 token endpoint (the jwt-bearer grant of a
  service-account key, the refresh_token grant of an ``authorized_user`` file), ``/tokeninfo``,
  the Security Token Service's token exchange (``/v1/token``, workload identity federation) and
  IAM Credentials' ``generateAccessToken`` (service-account impersonation). Credential files
  point here through their ``token_uri``, ``token_url`` and ``service_account_impersonation_url``.
- ``gce-metadata`` (plain http, as the real one on 169.254.169.254): the Compute Engine metadata
  server's service-account endpoints; google-auth reaches it through ``GCE_METADATA_HOST`` and
  ``GCE_METADATA_IP``.
- ``gcr-token`` (HTTPS, registries' CA): the token endpoint of a GCR / Artifact Registry host,
  the realm of a docker-registry that trusts the tokens it signs. It takes the Basic credentials
  gcr.io takes and grants the requested pull/push only as far as the identity's IAM roles go.

Access tokens are opaque, as Google's are; each is appended to the issued-tokens file (leak scans
search for them). The IAM policy (who may pull, push, impersonate) is in the config's ``gcp``.

- ``google-proxy`` (plain http): an HTTPS proxy to ``google`` for the Google host names that
  google-auth fixes (``oauth2.googleapis.com`` for ``authorized_user`` files,
  ``iamcredentials.googleapis.com`` for ``impersonated_service_account`` files); clients reach
  it through ``HTTPS_PROXY``.

Run: ``python emulators_gcp.py --config emulators.json --google-port N --gce-metadata-port M
--gcr-token-port K --google-proxy-port P``.
"""

import argparse
import base64
import json
import secrets
import select
import socket
import ssl
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from emulators import Handler, libtrust_key_id, parse_scopes

GOOGLE_TOKEN_AUD = "https://oauth2.googleapis.com/token"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
IAM_SCOPE = "https://www.googleapis.com/auth/iam"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
JWT_TYPES = ("urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token")
# IAM roles and what they allow on an Artifact Registry repository
# (https://cloud.google.com/artifact-registry/docs/access-control#roles).
REGISTRY_ACTIONS = {"roles/artifactregistry.reader": {"pull"}, "roles/artifactregistry.writer": {"pull", "push"}}
# Roles that carry iam.serviceAccounts.getAccessToken on a service account
# (https://cloud.google.com/iam/docs/service-account-permissions#token-creator-role and
# https://cloud.google.com/iam/docs/workload-identity-federation#impersonation).
TOKEN_CREATOR_ROLES = ("roles/iam.serviceAccountTokenCreator", "roles/iam.workloadIdentityUser")
TOKEN_LIFETIME = 3599


def member_matches(member, principal):
    """IAM member syntax (https://cloud.google.com/iam/docs/principal-identifiers): an exact
    principal, or ``principalSet://.../workloadIdentityPools/POOL/*`` for every identity of a pool."""
    if member.startswith("principalSet://") and member.endswith("/*"):
        return principal.startswith("principal://" + member[len("principalSet://"):-1] + "subject/")
    return member == principal


class Tokens:
    """The access tokens issued by any of the listeners: token -> principal, scopes, expiry."""

    def __init__(self):
        self.lock = threading.Lock()
        self.issued = {}

    def add(self, principal, scopes, lifetime=TOKEN_LIFETIME):
        token = "ya29.local-" + secrets.token_urlsafe(48)
        with self.lock:
            self.issued[token] = {"principal": principal, "scopes": list(scopes), "exp": time.time() + lifetime}
        return token

    def lookup(self, token):
        """The token's grant while it is valid; None for an unknown or expired token."""
        with self.lock:
            grant = self.issued.get(token or "")
        return grant if grant and grant["exp"] > time.time() else None


class GcpHandler(Handler):
    server_version = "regcred-gcp-emulator"

    @property
    def gcp(self):
        return self.config["gcp"]

    def new_token(self, principal, scopes, lifetime=TOKEN_LIFETIME):
        return self.issued(self.server.tokens.add(principal, scopes, lifetime))

    def json_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return None

    def google_error(self, code, status, message):
        """Google APIs' error body (https://cloud.google.com/apis/design/errors#http_mapping)."""
        return self.reply(code, {"error": {"code": code, "message": message, "status": status}})

    def roles_of(self, principal, policy):
        return {role for role, members in policy.items() if any(member_matches(m, principal) for m in members)}


class GoogleHandler(GcpHandler):
    """oauth2.googleapis.com, sts.googleapis.com and iamcredentials.googleapis.com in one listener."""

    def do_GET(self):  # pylint: disable=invalid-name
        if self.route() == "/tokeninfo":
            return self.tokeninfo(self.query().get("access_token", [""])[0])
        return self.reply(404, {"error": "not_found"})

    def do_POST(self):  # pylint: disable=invalid-name
        path = self.route()
        if path == "/token":
            form = self.form()
            grant = form.get("grant_type")
            if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
                return self.jwt_bearer(form)
            if grant == "refresh_token":
                return self.refresh_grant(form)
            return self.reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "})
        if path == "/tokeninfo":
            return self.tokeninfo(self.form().get("access_token", ""))
        if path == "/v1/token":
            return self.token_exchange(self.form())
        prefix, suffix = "/v1/projects/-/serviceAccounts/", ":generateAccessToken"
        if path.startswith(prefix) and path.endswith(suffix):
            return self.generate_access_token(unquote(path[len(prefix):-len(suffix)]))
        return self.reply(404, {"error": "not_found"})

    def jwt_bearer(self, form):
        """The service-account key's signed assertion (https://developers.google.com/identity/protocols/oauth2/service-account#httprest):
        signed with a key Google holds for that account (the header's kid), aud the token URL,
        iss the account, a scope."""
        assertion = form.get("assertion", "")
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            account = self.gcp["service_accounts"].get(unverified.get("iss"), {})
            if jwt.get_unverified_header(assertion).get("kid") != account.get("private_key_id"):
                return self.reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            claims = jwt.decode(assertion, self.server.public_keys[unverified["iss"]], algorithms=["RS256"],
                                audience=GOOGLE_TOKEN_AUD, issuer=unverified["iss"])
        except (jwt.PyJWTError, KeyError) as exc:
            return self.reply(400, {"error": "invalid_grant", "error_description": str(exc)})
        if not claims.get("scope"):
            return self.reply(400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token "
                                                                                   "audience provided."})
        token = self.new_token("serviceAccount:" + claims["iss"], claims["scope"].split())
        return self.reply(200, {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"})

    def refresh_grant(self, form):
        """An authorized_user file's refresh token (https://developers.google.com/identity/protocols/oauth2/web-server#offline):
        the OAuth client must authenticate, the refresh token must be the client's, and the
        scopes asked for must be among those the user granted."""
        user = self.gcp["users"].get(form.get("refresh_token", ""))
        client = self.gcp["oauth_clients"].get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(client, form.get("client_secret", "")):
            return self.reply(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
        if user is None or user["client_id"] != form["client_id"]:
            return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        scopes = form.get("scope", "").split() or user["scopes"]
        if not set(scopes) <= set(user["scopes"]):
            return self.reply(400, {"error": "invalid_scope",
                                    "error_description": "The requested scopes are not among those granted."})
        token = self.new_token("user:" + user["email"], scopes)
        return self.reply(200, {"access_token": token, "expires_in": TOKEN_LIFETIME, "scope": " ".join(scopes),
                                "token_type": "Bearer"})

    def tokeninfo(self, token):
        """https://oauth2.googleapis.com/tokeninfo: what an access token is for, or invalid_token."""
        grant = self.server.tokens.lookup(token)
        if grant is None:
            return self.reply(400, {"error": "invalid_token", "error_description": "Invalid Value"})
        body = {"scope": " ".join(grant["scopes"]), "exp": str(int(grant["exp"])),
                "expires_in": str(int(grant["exp"] - time.time())), "access_type": "online"}
        kind, name = grant["principal"].split(":", 1)
        if kind in ("serviceAccount", "user"):
            body.update(email=name, email_verified="true")
        return self.reply(200, body)

    def token_exchange(self, form):
        """STS token exchange (https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token):
        the audience names a workload identity pool provider Google knows; the subject token is
        an OIDC token signed by the provider's issuer (its uploaded JWKS), for one of the
        provider's allowed audiences (by default its own https://iam.googleapis.com/... name,
        https://cloud.google.com/iam/docs/workload-identity-federation-with-other-providers)."""
        provider = self.gcp["workload_identity_provider"]
        if form.get("grant_type") != TOKEN_EXCHANGE:
            return self.reply(400, {"error": "invalid_request", "error_description": "Invalid value for \"grant_type\"."})
        if form.get("requested_token_type") != ACCESS_TOKEN_TYPE:
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Invalid value for \"requested_token_type\"."})
        if form.get("subject_token_type") not in JWT_TYPES:
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Invalid value for \"subject_token_type\"."})
        if form.get("audience") != provider["name"]:
            return self.reply(400, {"error": "invalid_target", "error_description": "The target service indicated by "
                                    "the \"audience\" parameters is invalid. This might either be because the pool or "
                                    "provider is disabled or deleted or because it doesn't exist."})
        try:
            claims = jwt.decode(form.get("subject_token", ""), self.server.oidc_key, algorithms=["RS256"],
                                audience=provider["allowed_audiences"], issuer=provider["issuer"],
                                options={"require": ["exp", "iat", "sub"]})
        except jwt.InvalidAudienceError:
            return self.reply(400, {"error": "invalid_grant", "error_description": "The audience in ID Token does "
                                    "not match the expected audience."})
        except jwt.PyJWTError as exc:
            return self.reply(400, {"error": "invalid_grant", "error_description": "ID Token is invalid: %s" % exc})
        scopes = form.get("scope", "").split()
        # google.subject = assertion.sub (the provider's attribute mapping).
        principal = "principal://iam.googleapis.com/%s/subject/%s" % (
            provider["name"].split("/", 3)[3].rsplit("/providers/", 1)[0], claims["sub"])
        token = self.new_token(principal, scopes, min(TOKEN_LIFETIME, int(claims["exp"] - time.time())))
        return self.reply(200, {"access_token": token, "issued_token_type": ACCESS_TOKEN_TYPE,
                                "token_type": "Bearer", "expires_in": TOKEN_LIFETIME})

    def generate_access_token(self, target):
        """IAM Credentials generateAccessToken
        (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken):
        the caller's own access token, with the iam or cloud-platform scope (the method's
        authorization scopes), whose principal holds
        iam.serviceAccounts.getAccessToken on the target; a scope; at most one hour."""
        grant = self.server.tokens.lookup(self.bearer())
        if grant is None:
            return self.google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                                     "Expected OAuth 2 access token, login cookie or other valid authentication "
                                     "credential.")
        if not set(grant["scopes"]) & {CLOUD_PLATFORM, IAM_SCOPE}:
            return self.google_error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
        policy = self.gcp["service_account_policies"].get(target)
        if policy is None or not self.roles_of(grant["principal"], policy) & set(TOKEN_CREATOR_ROLES):
            return self.google_error(403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' "
                                     "denied on resource (or it may not exist).")
        body = self.json_body()
        if not isinstance(body, dict) or not body.get("scope"):
            return self.google_error(400, "INVALID_ARGUMENT", "Scope required.")
        lifetime = str(body.get("lifetime", "3600s"))
        seconds = int(lifetime[:-1]) if lifetime.endswith("s") and lifetime[:-1].isdigit() else -1
        if not 0 < seconds <= 3600:
            return self.google_error(400, "INVALID_ARGUMENT", "The lifetime must be between 1s and 3600s.")
        token = self.new_token("serviceAccount:" + target, body["scope"], seconds)
        expire = datetime.fromtimestamp(time.time() + seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.reply(200, {"accessToken": token, "expireTime": expire})


class MetadataHandler(GcpHandler):
    """The Compute Engine metadata server (https://cloud.google.com/compute/docs/metadata/querying-metadata):
    every request needs ``Metadata-Flavor: Google`` and none may carry ``X-Forwarded-For``
    (403 otherwise); every answer carries ``Metadata-Flavor: Google``, which google-auth's
    detection checks (google/auth/compute_engine/_metadata.py, ping)."""

    def text(self, status, body, content_type="application/text"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # pylint: disable=invalid-name
        if self.headers.get("Metadata-Flavor") != "Google" or self.headers.get("X-Forwarded-For"):
            return self.text(403, "Missing required header \"Metadata-Flavor\": \"Google\"\n")
        metadata = self.gcp["metadata"]
        path = self.route()
        if path == "/":
            return self.text(200, "computeMetadata/\n")
        if path == "/computeMetadata/v1/project/project-id":
            return self.text(200, metadata["project_id"])
        if path == "/computeMetadata/v1/universe/universe-domain":
            return self.text(200, "googleapis.com")
        prefix = "/computeMetadata/v1/instance/service-accounts/"
        account, what = (path[len(prefix):].split("/", 1) + [""])[:2] if path.startswith(prefix) else ("", "")
        if account not in ("default", metadata["email"]):
            return self.text(404, "Not Found\n")
        if what == "" and self.query().get("recursive") == ["true"]:
            return self.reply_flavored({"aliases": ["default"], "email": metadata["email"],
                                        "scopes": metadata["scopes"]})
        if what == "token":
            # The instance's scopes bound what a token may carry; "scopes" narrows them.
            asked = ",".join(self.query().get("scopes", [])).split(",")
            scopes = [s for s in asked if s] or metadata["scopes"]
            if not set(scopes) <= set(metadata["scopes"]):
                return self.text(400, "The requested scopes are not enabled for this instance.\n")
            token = self.new_token("serviceAccount:" + metadata["email"], scopes)
            return self.reply_flavored({"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"})
        return self.text(404, "Not Found\n")

    def reply_flavored(self, body):
        return self.text(200, json.dumps(body), "application/json")


class GcrTokenHandler(GcpHandler):
    """The token endpoint of a gcr.io / Artifact Registry host (the registry's Bearer realm,
    https://distribution.github.io/distribution/spec/auth/token/). It takes the Basic
    credentials Artifact Registry documents
    (https://cloud.google.com/artifact-registry/docs/docker/authentication): ``oauth2accesstoken``
    with a valid Google access token, ``_json_key`` / ``_json_key_base64`` with a service-account
    key Google holds. Bad credentials get a 401 (distribution's token spec); valid ones a token
    granting the requested actions only as far as the principal's roles reach."""

    def do_POST(self):  # pylint: disable=invalid-name
        # GCR has no OAuth2 POST token flow: "Registries without support for POST may return 404
        # for POST /v2/token. As of September 2017, GCR is known to return 404." (containerd,
        # core/remotes/docker/authorizer.go); clients then ask with a GET.
        return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})

    def do_GET(self):  # pylint: disable=invalid-name
        if self.route() != "/v2/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        creds = self.basic_auth()
        principal = self.principal(*creds) if creds else ""
        if principal is None:
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication failed"}]},
                              {"WWW-Authenticate": 'Basic realm="gcr"'})
        allowed = set()
        for role in self.roles_of(principal, self.gcp["registry_policy"]) if principal else ():
            allowed |= REGISTRY_ACTIONS.get(role, set())
        access = []
        for scope in parse_scopes(self.query().get("scope", [])):
            actions = [a for a in scope["actions"] if a in allowed]
            if scope["type"] == "repository" and actions:
                access.append(dict(scope, actions=actions))
        cfg, now = self.config["gcr"], int(time.time())
        claims = {"iss": cfg["issuer"], "sub": principal, "aud": self.query().get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        if claims["aud"] != cfg["service"]:
            return self.reply(400, {"errors": [{"code": "UNSUPPORTED", "message": "unknown service"}]})
        token = self.issued(jwt.encode(claims, self.server.signing_key, algorithm="ES256",
                                       headers={"kid": self.server.key_id}))
        return self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})

    def principal(self, user, password):
        """The IAM principal the Basic credentials stand for, or None when they prove none."""
        if user == "oauth2accesstoken":
            grant = self.server.tokens.lookup(password)
            return grant["principal"] if grant and CLOUD_PLATFORM in grant["scopes"] else None
        if user in ("_json_key", "_json_key_base64"):
            try:
                text = base64.b64decode(password, validate=True).decode() if user == "_json_key_base64" else password
                key = json.loads(text)
                account = self.gcp["service_accounts"][key["client_email"]]
                private = serialization.load_pem_private_key(key["private_key"].encode(), None)
            except (ValueError, TypeError, KeyError, AttributeError):
                return None
            same = private.public_key().public_numbers() == self.server.public_keys[key["client_email"]].public_numbers()
            if key.get("type") == "service_account" and key.get("private_key_id") == account["private_key_id"] and same:
                return "serviceAccount:" + key["client_email"]
        return None


class ProxyHandler(GcpHandler):
    """An HTTPS proxy (CONNECT, RFC 9110 section 9.3.6) that takes the Google hosts google-auth
    fixes (``proxy_hosts``) to the ``google`` listener, whose certificate names them, as a
    TLS-inspecting proxy does; requests reach it through HTTPS_PROXY. Any other host: 403."""

    def do_CONNECT(self):  # pylint: disable=invalid-name
        host, port = self.path.rsplit(":", 1) if ":" in self.path else (self.path, "")
        if host not in self.gcp["proxy_hosts"] or port != "443":
            return self.reply(403, {"error": "this proxy only reaches the emulated Google hosts"})
        with socket.create_connection(("127.0.0.1", self.server.google_port), timeout=30) as upstream:
            self.send_response(200, "Connection Established")
            self.end_headers()
            sockets = [self.connection, upstream]
            while True:
                readable = select.select(sockets, [], [], 30)[0]
                if not readable:
                    return None
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return None
                    (upstream if source is self.connection else self.connection).sendall(data)


def listen(handler, config, port, tls, shared):
    server = ThreadingHTTPServer(("127.0.0.1", port), type("gcp-handler", (handler,), {"config": config}))
    server.issued_lock = threading.Lock()
    for name, value in shared.items():
        setattr(server, name, value)
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls["cert"], tls["key"])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def build_servers(config, google_port, metadata_port, gcr_token_port, proxy_port):
    gcp, gcr = config["gcp"], config["gcr"]
    public_keys = {}
    for email, account in gcp["service_accounts"].items():
        key = json.loads(Path(account["key_file"]).read_text(encoding="utf-8"))
        public_keys[email] = serialization.load_pem_private_key(key["private_key"].encode(), None).public_key()
    oidc_key = serialization.load_pem_public_key(Path(gcp["workload_identity_provider"]["jwks_key"]).read_bytes())
    signing_key = serialization.load_pem_private_key(Path(gcr["signing_key"]).read_bytes(), None)
    key_id = libtrust_key_id(x509.load_pem_x509_certificate(Path(gcr["signing_cert"]).read_bytes()).public_key())
    shared = {"tokens": Tokens(), "public_keys": public_keys, "oidc_key": oidc_key,
              "signing_key": signing_key, "key_id": key_id, "google_port": google_port}
    return [listen(GoogleHandler, config, google_port, config["tls"]["google"], shared),
            listen(MetadataHandler, config, metadata_port, None, shared),
            listen(GcrTokenHandler, config, gcr_token_port, config["tls"]["gcr-token"], shared),
            listen(ProxyHandler, config, proxy_port, None, shared)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--google-port", type=int, required=True)
    parser.add_argument("--gce-metadata-port", type=int, required=True)
    parser.add_argument("--gcr-token-port", type=int, required=True)
    parser.add_argument("--google-proxy-port", type=int, required=True)
    args = parser.parse_args()
    config = json.loads(Path(args.config).read_text(encoding="utf-8"))
    servers = build_servers(config, args.google_port, args.gce_metadata_port, args.gcr_token_port,
                            args.google_proxy_port)
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"google https://127.0.0.1:{args.google_port}, gce-metadata http://127.0.0.1:{args.gce_metadata_port}, "
          f"gcr-token https://127.0.0.1:{args.gcr_token_port}, proxy http://127.0.0.1:{args.google_proxy_port}",
          flush=True)
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
