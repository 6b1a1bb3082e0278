import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import keyring
from ansible_collections.regcred.k8s.plugins.module_utils.credential import ProviderError
from ansible_collections.regcred.k8s.plugins.module_utils.providers import acr, docker_config, ecr, gcr, static
from ansible_collections.regcred.k8s.plugins.module_utils.server import check, problem

# server -> an image whose pull the kubelet offers that key for (case-sensitive, as the kubelet).
GOOD = {
    "registry.example.com": "registry.example.com/app",
    "registry.example.com:5000": "registry.example.com:5000/app",
    "https://index.docker.io/v1/": "nginx",
    "docker.io": "nginx",
    "docker.io/team": "team/app",
    "https://quay.io": "quay.io/org/app",
    "http://quay.io/v2/": "quay.io/org/app",
    "quay.io/org": "quay.io/org/app",
    "https://quay.io/v1/org/": "quay.io/org/app",
    "ghcr.io/org/app-": "ghcr.io/org/app-x",
    "[::1]:5000": "[::1]:5000/app",
    "*.example.com": "eu.example.com/app",
    "*.gcr.io": "eu.gcr.io/project/app",
    "localhost": "localhost/app",
    "localhost:5000": "localhost:5000/app",
    "127.0.0.1:5000": "127.0.0.1:5000/app",
    "Registry.Example.com": "Registry.Example.com/app",
    "registry.example.com:65535": "registry.example.com:65535/app",
}

# server -> a part of the reason. The first six are the wrongly accepted cases of the issue.
BAD = {
    "https://": "has no host",
    "http://": "has no host",
    "user@registry.example.com": "user information",
    ":5000": "has no host",
    "registry.example.com:": "port ''",
    "/": "has no host",
    "/v2/app": "has no host",
    "ftp://registry.example.com": "scheme ftp://",
    "HTTPS://registry.example.com": "scheme HTTPS://",
    "registry.example.com:0": "port '0'",
    ":99999": "has no host",
    "registry.example.com:99999": "port '99999'",
    "registry.example.com:05000": "port '05000'",
    "registry.example.com:5o00": "port '5o00'",
    "a b.example.com": "white space",
    "registry.example.com\n": "white space",
    "registry.example.com?x=1": "query",
    "#frag": "fragment",
    "::1:5000": "IPv6 address must be written in brackets",
    "[::1": "not an IPv6 address",
    "[fe80::1%eth0]:5000": "not an IPv6 address",
    "[::1]x": "needs a port",
    "[::1]": "needs a port",
    "registry": "without a dot or a port",
    "-registry.example.com": "host label '-registry'",
    "registry..example.com": "host label ''",
    "reg_istry.example.com": "host label 'reg_istry'",
    "registry.example.com/Org": "path '/Org'",
    "registry.example.com//app": "path '//app'",
    "https://registry.example.com/v1//": "path '//'",
    "index.docker.io/team": "write docker.io/team",
    "x.io/" + "a" * 260: "longer than an image name",
    "": "non-empty string",
}


@pytest.mark.parametrize("server", sorted(GOOD))
def test_valid_servers_are_kept_and_matched_by_the_kubelet(server):
    assert problem(server) is None
    assert check(server, "registries[0].server") == server
    image = keyring.parse_image(GOOD[server])
    assert keyring.lookup([(server, 1)], image, ignore_case=False) == [(server, 1)]


@pytest.mark.parametrize("server", sorted(BAD))
def test_invalid_servers_name_the_field_and_the_reason(server):
    assert BAD[server] in problem(server)
    with pytest.raises(ProviderError) as exc:
        check(server, "registries[2].server")
    assert str(exc.value).startswith("registries[2].server: ")
    assert exc.value.field == "registries[2].server"


def test_user_information_is_not_echoed():
    with pytest.raises(ProviderError) as exc:
        check("robot:secret-password@registry.example.com", "registries[0].server")
    assert "secret-password" not in str(exc.value)


def test_non_strings_are_refused():
    assert problem(None) and problem(5000)


BASIC = {"provider": "basic", "username": "u", "password": "p"}
GCR = {"provider": "gcr", "auth": "access_token"}
ACR = {"provider": "acr", "auth": "service_principal", "client_id": "i", "client_secret": "s"}
CONFIG = {"provider": "docker_config", "content": {"auths": {"registry.example.com": {"auth": "dTpw"}}}}


@pytest.mark.parametrize("provider,entry,field", [
    (static, dict(BASIC, server="https://"), "registries[3].server"),
    (gcr, dict(GCR, server="user@gcr.io"), "registries[3].server"),
    (gcr, dict(GCR, server="gcr.io:0"), "registries[3].server"),
    (acr, dict(ACR, server="myregistry.azurecr.io:99999"), "registries[3].server"),
    (acr, dict(ACR, server="https://myregistry.azurecr.io"), "registries[3].server"),
    (docker_config, dict(CONFIG, servers=["registry.example.com", "registry.example.com:"]), "registries[3].servers[1]"),
    (ecr, {"provider": "ecr", "region": "eu-west-1", "server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
     "registries[3].server"),
])
def test_every_provider_checks_its_server(provider, entry, field):
    with pytest.raises(ProviderError) as exc:
        provider.validate(entry, "registries[3]")
    assert exc.value.field == field


def test_providers_accept_valid_servers():
    static.validate(dict(BASIC, server="quay.io/org"), "registries[0]")
    static.validate(dict(BASIC, provider="dockerhub"), "registries[0]")
    gcr.validate(dict(GCR, server="europe-docker.pkg.dev"), "registries[0]")
    acr.validate(dict(ACR, server="myregistry.azurecr.io"), "registries[0]")
    docker_config.validate(dict(CONFIG, servers=["https://registry.example.com/v1/"]), "registries[0]")
    ecr.validate({"provider": "ecr", "region": "eu-west-1"}, "registries[0]")


def test_ecr_answer_naming_an_unusable_registry_is_refused():
    import datetime  # pylint: disable=import-outside-toplevel
    data = {"proxyEndpoint": "https://user@x", "authorizationToken": "QVdTOnRvaw==",
            "expiresAt": datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)}
    with pytest.raises(ProviderError) as exc:
        ecr._credentials(data, {"provider": "ecr"}, "registries[0]")  # pylint: disable=protected-access
    assert exc.value.field == "registries[0]" and "no kubelet can use" in str(exc.value)
