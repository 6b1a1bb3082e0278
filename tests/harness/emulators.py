"""Token endpoints that cannot be reached from here, served on loopback.

- ``registry-token``: the Docker Registry v2 Bearer token server behind the local
  ``docker-registry`` (GET with Basic credentials, and the OAuth2 POST that containerd tries first).
  Its own ``/v2/`` is also a small registry whose API version check answers without
  authentication while every manifest needs a token (as the distribution spec allows: a 200 on
  ``/v2/`` only says the API is there), so that clients must take the challenge from the
  manifest's 401. Repositories under ``html404/`` answer their manifests with an HTML 404 page,
  as a proxy in front of a registry may.
- Google (OAuth2, STS, IAM Credentials, the metadata server and a GCR token endpoint) lives in
  ``emulators_gcp.py``.

The Azure endpoints (Azure AD, IMDS, ACR's token service) are in ``emulators_azure.py``.

Each service serves TLS with the certificate the config's ``tls`` names for it: the cloud token
endpoints under a CA of their own, the registries and their token servers under the registries' CA.

Every token these servers issue is appended to the file named by ``issued_tokens`` in the
config, so leak scans can search for them.

Run: ``python emulators.py SERVICE --config emulators.json --port N``.
"""

import argparse
import base64
import binascii
import fnmatch
import hashlib
import json
import secrets
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

PUBLIC_PREFIX = "public/"


def libtrust_key_id(public_key):
    """docker/libtrust key ID: SHA-256 of the DER public key, 240 bits, base32, ':'-joined."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def parse_scopes(values):
    """['repository:a/b:pull,push', ...] -> [{'type','name','actions'}] (names may hold ':')."""
    scopes = []
    for value in values:
        for item in value.split():
            kind, rest = item.split(":", 1) if ":" in item else (item, "")
            name, actions = rest.rsplit(":", 1) if ":" in rest else ("", rest)
            if kind and name:
                scopes.append({"type": kind, "name": name, "actions": actions.split(",")})
    return scopes


class Handler(BaseHTTPRequestHandler):
    server_version = "regcred-emulator"
    config = {}

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        # Request lines only; query strings may carry tokens.
        print(f"{self.address_string()} {self.command} {urlsplit(self.path).path} "
              f"{args[1] if len(args) > 1 else ''}", flush=True)

    # helpers -----------------------------------------------------------------------------
    def reply(self, status, body=None, headers=None):
        data = json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def form(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def query(self):
        return parse_qs(urlsplit(self.path).query)

    def basic_auth(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, password = base64.b64decode(header[6:]).decode().split(":", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ("", "")
        return user, password

    def bearer(self):
        header = self.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else None

    def issued(self, token):
        path = self.config["issued_tokens"]
        with self.server.issued_lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(token + "\n")
        return token

    def route(self):
        return urlsplit(self.path).path.rstrip("/") or "/"


class RegistryTokenHandler(Handler):
    """Bearer token server: https://distribution.github.io/distribution/spec/auth/token/

    What it grants is the intersection of the requested scope and an access list. The spec: "If
    the client only has a subset of the requested access it must not be considered an error as it
    is not the responsibility of the token server to indicate authorization errors as part of this
    workflow", so a token is issued even for less than was asked, and its ``access`` claim lists
    only the granted actions (docs/content/spec/auth/jwt.md of distribution/distribution: the
    registry checks each request against that claim).

    The config's ``registry.acl`` maps a user name to ``[{"repository": GLOB, "actions": [...]}]``
    (fnmatch globs); an anonymous request (no credentials) may only pull under ``public/``.
    With ``registry.token_only`` the answer carries ``token`` alone, no ``access_token``: the
    spec calls ``access_token`` an alias that token servers may leave out ("For compatibility with
    OAuth 2.0, we will also accept token under the name access_token").
    """

    def _allowed(self, user, repository):
        """The actions the access list lets ``user`` ("" when anonymous) take on ``repository``."""
        if not user:
            return {"pull"} if repository.startswith(PUBLIC_PREFIX) else set()
        rules = self.config["registry"].get("acl", {}).get(user, [])
        return {action for rule in rules if fnmatch.fnmatchcase(repository, rule["repository"])
                for action in rule["actions"]}

    def _grant(self, user, scopes):
        cfg = self.config["registry"]
        access = []
        for scope in scopes:
            if scope["type"] != "repository":
                continue
            allowed = self._allowed(user, scope["name"])
            actions = [action for action in scope["actions"] if action in allowed]
            if actions:
                access.append(dict(scope, actions=actions))
        now = int(time.time())
        claims = {"iss": cfg["issuer"], "sub": user or "", "aud": cfg["service"],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex,
                  "access": access}
        token = jwt.encode(claims, self.server.signing_key, algorithm="ES256",
                           headers={"kid": self.server.key_id})
        return self.issued(token), now, access

    def _valid(self, user, password):
        cfg = self.config["registry"]
        users = dict(cfg.get("users", {}), **{cfg["username"]: cfg["password"]})
        return user in users and secrets.compare_digest(password, users[user])

    # The anonymous-/v2/ registry ---------------------------------------------------------------
    MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                                      "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest()},
                           "layers": []}, sort_keys=True).encode()

    def _may_pull(self, name):
        """Whether the request's Bearer token, issued here, grants pull on ``name``."""
        token = self.bearer()
        if not token:
            return False
        try:
            claims = jwt.decode(token, self.server.signing_key.public_key(), algorithms=["ES256"],
                                audience=self.config["registry"]["service"])
        except jwt.PyJWTError:
            return False
        return any(a.get("type") == "repository" and a.get("name") == name and "pull" in a.get("actions", [])
                   for a in claims.get("access", []))

    def _registry(self, with_body):
        """``/v2/`` and ``/v2/NAME/manifests/REFERENCE`` (https://distribution.github.io/distribution/spec/api/)."""
        path = self.route()
        if path == "/v2":
            return self.reply(200, {})
        name, sep, reference = path[len("/v2/"):].rpartition("/manifests/")
        if not sep:
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
        if not self._may_pull(name):
            challenge = 'Bearer realm="https://%s/token",service="%s",scope="repository:%s:pull"' % (
                self.headers.get("Host"), self.config["registry"]["service"], name)
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                              {"WWW-Authenticate": challenge})
        if name.startswith("html404/"):
            page = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            return self.wfile.write(page if with_body else b"")
        if reference != "v1":
            return self.reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Content-Length", str(len(self.MANIFEST)))
        self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(self.MANIFEST).hexdigest())
        self.end_headers()
        return self.wfile.write(self.MANIFEST if with_body else b"")

    def do_HEAD(self):  # pylint: disable=invalid-name
        if not self.route().startswith("/v2"):
            return self.reply(404, {"error": "not found"})
        return self._registry(with_body=False)

    # The token endpoint -----------------------------------------------------------------------
    def do_GET(self):  # pylint: disable=invalid-name
        if self.route().startswith("/v2"):
            return self._registry(with_body=True)
        if self.route() != "/token":
            return self.reply(404, {"error": "not found"})
        creds = self.basic_auth()
        if creds is not None and not self._valid(*creds):
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                "message": "authentication required"}]},
                              {"WWW-Authenticate": 'Basic realm="regcred-token"'})
        token, now, _access = self._grant(creds[0] if creds else "", parse_scopes(self.query().get("scope", [])))
        answer = {"token": token, "expires_in": 300, "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        if not self.config["registry"].get("token_only"):
            answer["access_token"] = token
        return self.reply(200, answer)

    def do_POST(self):  # pylint: disable=invalid-name
        if self.route() != "/token" or self.config["registry"].get("token_only"):
            # A token_only server has only the GET endpoint of the token spec, not the OAuth2 one
            # (https://distribution.github.io/distribution/spec/auth/oauth/), whose answer needs
            # access_token; clients fall back to GET on this 404.
            return self.reply(404, {"error": "not found"})
        form = self.form()
        if form.get("grant_type") != "password":
            return self.reply(400, {"error": "unsupported_grant_type"})
        user, password = form.get("username", ""), form.get("password", "")
        if not self._valid(user, password):
            return self.reply(401, {"error": "invalid_grant"})
        token, _now, access = self._grant(user, parse_scopes([form.get("scope", "")]))
        # The granted scope, which the OAuth2 answer reports (RFC 6749 section 5.1).
        granted = " ".join("%s:%s:%s" % (a["type"], a["name"], ",".join(a["actions"])) for a in access)
        return self.reply(200, {"access_token": token, "token_type": "Bearer",
                                "expires_in": 300, "scope": granted})


HANDLERS = {"registry-token": RegistryTokenHandler}


def new_server(handlers, service, config, port):
    """A threading server on 127.0.0.1:``port`` for ``handlers[service]`` with ``config``."""
    handler = type(f"{service}-handler", (handlers[service],), {"config": config})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.issued_lock = threading.Lock()
    return server


def load_signing(key_path, cert_path):
    """The ES256 key a token server signs with, and its libtrust key ID (the JWTs' ``kid``)."""
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), None)
    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    return key, libtrust_key_id(cert.public_key())


def serve_tls(server, tls):
    """TLS with the certificate and key ``tls`` names."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls["cert"], tls["key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def build_server(service, config, port):
    server = new_server(HANDLERS, service, config, port)
    if service == "registry-token":
        server.signing_key, server.key_id = load_signing(config["registry"]["signing_key"],
                                                         config["registry"]["signing_cert"])
    return serve_tls(server, config["tls"][service])


def main(handlers=None, build=None, doc=None):
    """``SERVICE --config FILE --port N``: build the server of SERVICE and serve until stopped."""
    handlers, build = handlers or HANDLERS, build or build_server
    parser = argparse.ArgumentParser(description=(doc or __doc__).splitlines()[0])
    parser.add_argument("service", choices=sorted(handlers))
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = json.loads(Path(args.config).read_text(encoding="utf-8"))
    server = build(args.service, config, args.port)
    scheme = "https" if isinstance(server.socket, ssl.SSLSocket) else "http"
    print(f"{args.service} listening on {scheme}://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
