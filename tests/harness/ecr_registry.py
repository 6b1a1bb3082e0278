"""An Amazon ECR private registry on loopback: a real docker-registry that takes the tokens moto issues.

ECR's registry answers ``/v2/`` with a Basic challenge and accepts ``AWS`` as the user name and
the password ``GetAuthorizationToken`` hands out ("Private registry authentication",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html: "a base64-encoded
authorization token containing the username AWS and an encoded password"). The docker-registry
here does the same with its htpasswd auth, which answers ``WWW-Authenticate: Basic realm=...``.

Which password is moto's: moto is the ECR endpoint, and it builds the token of registry
``REGISTRY_ID`` as base64 of ``AWS:<REGISTRY_ID>-auth-token`` (getmoto/moto,
moto/ecr/responses.py, ``get_authorization_token``). The registry's htpasswd holds exactly that
login for ``ACCOUNT``, so only a token moto issued for this account opens it: a token for
another account, or any other password, is refused as ECR refuses it.

Pods and skopeo name the registry ``ACCOUNT.dkr.ecr.REGION.amazonaws.com``, which does not
resolve here; tests map that name to the loopback address (see tests/live/test_ecr.py).
"""

import subprocess

ACCOUNT = "123456789012"
REGION = "us-east-1"
USERNAME = "AWS"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def moto_password(account=ACCOUNT):
    """The password in the token moto issues for ``account`` (moto/ecr/responses.py)."""
    return f"{account}-auth-token"


def auth(paths):
    """The registry's auth section: htpasswd with moto's login for ACCOUNT, realm the ECR host."""
    htpasswd = paths.conf / "htpasswd-ecr"
    subprocess.run(["htpasswd", "-Bci", str(htpasswd), USERNAME], input=moto_password(),
                   text=True, check=True, capture_output=True)
    return {"htpasswd": {"realm": f"https://{HOST}/", "path": str(htpasswd)}}


def write_containerd_mirror(certs_d, address, ca):
    """containerd's hosts.toml that sends pulls of ``HOST`` images to ``address`` (the registry's
    loopback ``host:port``), trusting ``ca``. The image keeps its ECR name, so the kubelet picks
    the Secret's key for ``HOST`` and containerd sends that login to the mirror
    (https://github.com/containerd/containerd/blob/main/docs/hosts.md: "server" is the upstream,
    each ``[host."..."]`` a mirror tried before it)."""
    directory = certs_d / HOST
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "hosts.toml"
    path.write_text(f'server = "https://{HOST}"\n\n[host."https://{address}"]\n'
                    f'  capabilities = ["pull", "resolve"]\n  ca = "{ca}"\n')
    return path
