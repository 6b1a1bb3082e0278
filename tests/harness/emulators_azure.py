"""Azure endpoints that cannot be reached from here, served on loopback.

- ``azure-ad``: Microsoft Entra ID (Azure AD) v2.0 for one tenant: OpenID discovery and the
  client-credentials grant with a client secret (a service principal) or a client assertion (a
  Kubernetes service account token, for workload identity). TLS under the cloud CA.
- ``azure-imds``: the Instance Metadata Service token endpoint of managed identities. Plain http,
  as the real one on 169.254.169.254 (clients are pointed here with AZURE_POD_IDENTITY_AUTHORITY_HOST).
- ``azure``: the token service of ACR login servers: ``/oauth2/exchange`` (Azure AD token ->
  refresh token) and ``/oauth2/token`` (access tokens). The login servers themselves are
  docker-registry instances with ``auth: token`` whose realm is this service; the access tokens
  are the JWTs docker-registry checks (ES256, the key of a certificate in its rootcertbundle).

Azure AD tokens are HS256 JWTs under a secret the three services share (config ``azure.signing_secret``).
Every token issued is appended to the config's ``issued_tokens`` file.

Run: ``python emulators_azure.py SERVICE --config emulators.json --port N``.
"""

import secrets
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization

import emulators
from emulators import Handler, load_signing, new_server, parse_scopes, serve_tls

# The user name that goes with an ACR refresh token.
ACR_USERNAME = "00000000-0000-0000-0000-000000000000"
# https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation-create-trust
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACR_AUDIENCE = "https://containerregistry.azure.net"
ARM_AUDIENCE = "https://management.azure.com"
# What a role assignment lets an identity do on a registry
# (https://learn.microsoft.com/en-us/azure/container-registry/container-registry-roles).
ROLE_ACTIONS = {"AcrPull": {"pull"}, "AcrPush": {"pull", "push"}, "owner": {"pull", "push", "delete"}}


def resource_of(value):
    """``https://x/.default`` or ``https://x/`` -> ``https://x``: the audience the token is for."""
    value = value or ""
    if value.endswith("/.default"):
        value = value[:-len("/.default")]
    return value.rstrip("/")


def aad_error(status, error, code, description):
    """An Azure AD error body (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes)."""
    return status, {"error": error, "error_description": f"AADSTS{code}: {description}\r\nTrace ID: "
                    f"{uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}", "error_codes": [code]}


def unknown_resource(resource, tenant):
    # AADSTS500011, as Azure AD answers a scope whose resource has no service principal in the tenant.
    return aad_error(400, "invalid_resource", 500011,
                     f"The resource principal named {resource} was not found in the tenant named {tenant}. "
                     "This can happen if the application has not been installed by the administrator of the "
                     "tenant or consented to by any user in the tenant.")


class AzureHandler(Handler):
    """What the three services share: the Azure AD token format."""

    def aad_token(self, principal, resource, lifetime=3600):
        cfg = self.config["azure"]
        now = int(time.time())
        claims = {"kind": "aad", "tid": cfg["tenant_id"], "oid": principal, "aud": resource,
                  "iss": f"https://sts.windows.net/{cfg['tenant_id']}/", "iat": now, "nbf": now,
                  "exp": now + lifetime, "jti": uuid.uuid4().hex}
        return self.issued(jwt.encode(claims, bytes.fromhex(cfg["signing_secret"]), algorithm="HS256"))

    def aad_claims(self, token):
        try:
            claims = jwt.decode(token or "", bytes.fromhex(self.config["azure"]["signing_secret"]),
                                algorithms=["HS256"], options={"verify_aud": False})
        except jwt.PyJWTError:
            return None
        return claims if claims.get("kind") == "aad" else None

    def send(self, answer):
        return self.reply(*answer)


class EntraHandler(AzureHandler):
    """https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow"""

    def do_GET(self):  # pylint: disable=invalid-name
        # OpenID discovery, which MSAL reads before the token request
        # (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc).
        cfg, path = self.config["azure"], self.route()
        tenant, sep, rest = path.lstrip("/").partition("/")
        if not sep or rest != "v2.0/.well-known/openid-configuration":
            return self.reply(404, {"error": "not_found"})
        if tenant != cfg["tenant_id"]:
            return self.send(self.unknown_tenant(tenant))
        base = f"https://{self.headers.get('Host')}/{tenant}"
        return self.reply(200, {"token_endpoint": f"{base}/oauth2/v2.0/token",
                                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                "issuer": f"{base}/v2.0", "token_endpoint_auth_methods_supported":
                                    ["client_secret_post", "private_key_jwt", "client_secret_basic"]})

    @staticmethod
    def unknown_tenant(tenant):
        return aad_error(400, "invalid_tenant", 90002,
                         f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
                         "are signing into the correct cloud.")

    def do_POST(self):  # pylint: disable=invalid-name
        cfg, path, form = self.config["azure"], self.route(), self.form()
        tenant, sep, rest = path.lstrip("/").partition("/")
        if not sep or rest != "oauth2/v2.0/token":
            return self.reply(404, {"error": "not_found"})
        if tenant != cfg["tenant_id"]:
            return self.send(self.unknown_tenant(tenant))
        if form.get("grant_type") != "client_credentials":
            return self.send(aad_error(400, "unsupported_grant_type", 70003,
                                       "The app requested an unsupported grant type."))
        principal = self.client(form)
        if not isinstance(principal, str):
            return self.send(principal)
        resource = resource_of(form.get("scope"))
        if resource not in (ACR_AUDIENCE, ARM_AUDIENCE):
            return self.send(unknown_resource(resource, tenant))
        token = self.aad_token(principal, resource)
        return self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                "access_token": token})

    def client(self, form):
        """The principal the request authenticates as, or an error answer."""
        cfg = self.config["azure"]
        client_id = form.get("client_id", "")
        if form.get("client_assertion_type") == ASSERTION_TYPE:
            return self.federated(client_id, form.get("client_assertion", ""))
        if client_id != cfg["client_id"]:
            return aad_error(400, "unauthorized_client", 700016,
                             f"Application with identifier '{client_id}' was not found in the directory "
                             f"'{cfg['tenant_id']}'.")
        if not secrets.compare_digest(form.get("client_secret", ""), cfg["client_secret"]):
            return aad_error(401, "invalid_client", 7000215,
                             "Invalid client secret provided. Ensure the secret being sent in the request is the "
                             f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.")
        return client_id

    def federated(self, client_id, assertion):
        """A client assertion checked against the app's federated identity credential: the issuer's key,
        the issuer, the subject and the audience api://AzureADTokenExchange
        (https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation)."""
        fed = self.config["azure"]["workload"]
        if client_id != fed["client_id"]:
            return aad_error(400, "unauthorized_client", 700016,
                             f"Application with identifier '{client_id}' was not found in the directory.")
        try:
            claims = jwt.decode(assertion, self.server.issuer_key, algorithms=["RS256"],
                                options={"verify_aud": False, "require": ["exp", "iss", "sub", "aud"]})
        except jwt.ExpiredSignatureError:
            return aad_error(400, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        except jwt.PyJWTError:
            return aad_error(401, "invalid_client", 700027, "Client assertion failed signature validation.")
        if claims["iss"] != fed["issuer"] or claims["sub"] != fed["subject"]:
            return aad_error(400, "invalid_client", 70021,
                             "No matching federated identity record found for presented assertion. Assertion "
                             f"Issuer: '{claims['iss']}'. Assertion Subject: '{claims['sub']}'.")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if EXCHANGE_AUDIENCE not in audiences:
            return aad_error(400, "invalid_client", 700212,
                             "No matching federated identity record found for presented assertion audience "
                             f"'{','.join(audiences)}'.")
        return client_id


class ImdsHandler(AzureHandler):
    """https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token"""

    def do_GET(self):  # pylint: disable=invalid-name
        if self.route() != "/metadata/identity/oauth2/token":
            return self.reply(404, {"error": "not_found"})
        # IMDS refuses requests without the header (a guard against SSRF) and without api-version.
        if self.headers.get("Metadata", "").lower() != "true":
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Required metadata header not specified"})
        query = {k: v[0] for k, v in self.query().items()}
        if not query.get("api-version"):
            return self.reply(400, {"error": "invalid_request",
                                    "error_description": "Required query variable 'api-version' is missing"})
        identities = self.config["azure"]["managed_identities"]
        wanted = [(k, query[k]) for k in ("client_id", "object_id", "msi_res_id", "mi_res_id") if query.get(k)]
        if wanted:
            key, value = wanted[0]
            field = "resource_id" if key.endswith("res_id") else key
            found = [i for i in identities["user_assigned"] if i.get(field, "").lower() == value.lower()]
            if not found:
                return self.reply(400, {"error": "invalid_request",
                                        "error_description": "Identity not found"})
            principal = found[0]["client_id"]
        else:
            principal = identities["system_assigned"]["client_id"]
        resource = resource_of(query.get("resource"))
        if resource not in (ACR_AUDIENCE, ARM_AUDIENCE):
            status, body = unknown_resource(resource, self.config["azure"]["tenant_id"])
            return self.reply(status, body)
        now = int(time.time())
        return self.reply(200, {"access_token": self.aad_token(principal, resource), "client_id": principal,
                                "expires_in": "3599", "expires_on": str(now + 3599), "ext_expires_in": "3599",
                                "not_before": str(now), "resource": query.get("resource"), "token_type": "Bearer"})


class AcrTokenHandler(AzureHandler):
    """ACR's token service (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md): an Azure AD
    token for a refresh token, a refresh token (or a service principal, or the admin user) for an
    access token scoped to what the identity's role assignments allow."""

    def registry(self, service):
        return self.config["acr"]["registries"].get(service)

    def unauthorized(self, message):
        return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": message}]})

    def do_POST(self):  # pylint: disable=invalid-name
        path, form = self.route(), self.form()
        if path == "/oauth2/exchange":
            return self.exchange(form)
        if path == "/oauth2/token":
            if form.get("grant_type") == "refresh_token":
                principal = self.refresh_principal(form.get("refresh_token"), form.get("service"))
            elif form.get("grant_type") == "password":
                principal = self.basic_principal(form.get("username", ""), form.get("password", ""),
                                                 form.get("service"))
            else:
                return self.reply(400, {"error": "unsupported_grant_type"})
            return self.access_token(principal, form.get("service"), [form.get("scope", "")])
        return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})

    def do_GET(self):  # pylint: disable=invalid-name
        if self.route() != "/oauth2/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        creds = self.basic_auth()
        query = self.query()
        service = (query.get("service") or [""])[0]
        principal = self.basic_principal(*creds, service) if creds else None
        return self.access_token(principal, service, query.get("scope", []))

    def exchange(self, form):
        # cloud-provider-azure's azure_acr_helper.go sends access_token_refresh_token; the ACR docs access_token.
        if form.get("grant_type") not in ("access_token", "access_token_refresh_token"):
            return self.reply(400, {"errors": [{"code": "UNSUPPORTED_GRANT_TYPE", "message": "unsupported grant type"}]})
        registry = self.registry(form.get("service"))
        if registry is None:
            return self.unauthorized("the service is not a registry of this token server")
        aad = self.aad_claims(form.get("access_token"))
        if aad is None or aad["aud"] not in (ACR_AUDIENCE, ARM_AUDIENCE):
            return self.unauthorized("invalid Azure AD access token")
        if aad["aud"] == ARM_AUDIENCE and not registry["arm_audience"]:
            # https://learn.microsoft.com/en-us/azure/container-registry/container-registry-disable-authentication-as-arm
            return self.unauthorized("ARM audience token authentication is disabled for this registry; "
                                     "use a token for https://containerregistry.azure.net")
        now = int(time.time())
        claims = {"kind": "acr-refresh", "sub": aad["oid"], "tenant": aad["tid"], "aud": form["service"],
                  "iat": now, "nbf": now, "exp": now + 3 * 3600, "jti": uuid.uuid4().hex}
        token = jwt.encode(claims, bytes.fromhex(self.config["azure"]["signing_secret"]), algorithm="HS256")
        return self.reply(200, {"refresh_token": self.issued(token)})

    def refresh_principal(self, token, service):
        try:
            claims = jwt.decode(token or "", bytes.fromhex(self.config["azure"]["signing_secret"]),
                                algorithms=["HS256"], audience=service or "")
        except jwt.PyJWTError:
            return None
        return claims["sub"] if claims.get("kind") == "acr-refresh" else None

    def basic_principal(self, user, password, service):
        """A refresh token (with the null GUID user), a service principal or the admin user
        (https://learn.microsoft.com/en-us/azure/container-registry/container-registry-authentication)."""
        acr, azure = self.config["acr"], self.config["azure"]
        if user == ACR_USERNAME:
            return self.refresh_principal(password, service)
        if user == azure["client_id"] and secrets.compare_digest(password, azure["client_secret"]):
            return user
        if user == acr["admin_user"] and secrets.compare_digest(password, acr["admin_password"]):
            return "admin"
        return None

    def access_token(self, principal, service, scopes):
        registry = self.registry(service)
        if principal is None or registry is None:
            return self.unauthorized("authentication required")
        allowed = ROLE_ACTIONS.get("owner" if principal == "admin" else registry["roles"].get(principal), set())
        access = []
        for scope in parse_scopes(scopes):
            actions = [a for a in scope["actions"] if a in allowed]
            if scope["type"] == "repository" and actions:
                access.append(dict(scope, actions=actions))
        now = int(time.time())
        claims = {"iss": self.config["acr"]["issuer"], "sub": principal, "aud": service, "exp": now + 1200,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        token = self.issued(jwt.encode(claims, self.server.signing_key, algorithm="ES256",
                                       headers={"kid": self.server.key_id}))
        return self.reply(200, {"access_token": token, "token": token})


HANDLERS = {"azure-ad": EntraHandler, "azure-imds": ImdsHandler, "azure": AcrTokenHandler}


def build_server(service, config, port):
    server = new_server(HANDLERS, service, config, port)
    if service == "azure-ad":
        pem = Path(config["azure"]["workload"]["issuer_public_key"]).read_bytes()
        server.issuer_key = serialization.load_pem_public_key(pem)
    if service == "azure":
        server.signing_key, server.key_id = load_signing(config["acr"]["signing_key"], config["acr"]["signing_cert"])
    # IMDS is plain http, as on 169.254.169.254.
    return serve_tls(server, config["tls"][service]) if service in config["tls"] else server


if __name__ == "__main__":
    emulators.main(HANDLERS, build_server, __doc__)
