"""Certificates and keys for the local environment.

One throw-away CA signs every serving and client certificate, so tests, skopeo and the
modules need to trust a single ca.crt. trustme does the X.509 work.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


def _write(path, data, mode=0o600):
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


class Pki:
    """Creates the CA once per state directory and issues certificates from it."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca_cert = self.dir / "ca.crt"
        self._ca = trustme.CA(organization_name="regcred.k8s local environment")
        self._ca.cert_pem.write_to_path(str(self.ca_cert))

    def issue(self, name, identities=LOOPBACK_NAMES, common_name=None, organization=None):
        leaf = self._ca.issue_cert(*identities, common_name=common_name,
                                   organization_name=organization)
        cert = _write(self.dir / f"{name}.crt",
                      b"".join(blob.bytes() for blob in leaf.cert_chain_pems), 0o644)
        key = _write(self.dir / f"{name}.key", leaf.private_key_pem.bytes())
        return KeyPair(cert, key)

    def rsa_key(self, name):
        """An RSA key pair as PEM files: <name>.key (PKCS#8) and <name>.pub."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        _write(self.dir / f"{name}.pub", public, 0o644)
        return _write(self.dir / f"{name}.key", private), private.decode()


def google_service_account_key(pki, path, token_uri, project="regcred-local", account="puller"):
    """A service-account key file in Google's format whose token_uri points at loopback."""
    private_pem = pki.rsa_key(f"gcp-{account}")[1]
    email = f"{account}@{project}.iam.gserviceaccount.com"
    key = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": os.urandom(20).hex(),
        "private_key": private_pem,
        "client_email": email,
        "client_id": str(int.from_bytes(os.urandom(8), "big")),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
        "universe_domain": "googleapis.com",
    }
    _write(Path(path), json.dumps(key, indent=2).encode())
    return key
