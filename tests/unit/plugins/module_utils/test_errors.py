import pytest

from ansible_collections.regcred.k8s.plugins.module_utils import credential, errors
from ansible_collections.regcred.k8s.plugins.module_utils.auth_file import AuthFileError
from ansible_collections.regcred.k8s.plugins.module_utils.dockerconfig import DockerConfigError
from ansible_collections.regcred.k8s.plugins.module_utils.duration import parse_duration
from ansible_collections.regcred.k8s.plugins.module_utils.kube import KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.registry import RegistryAuthError


def test_input_error_names_the_field_path():
    exc = errors.InputError("registries[2].region", "is required for provider ecr")
    assert str(exc) == "registries[2].region: is required for provider ecr"
    assert exc.field == "registries[2].region"
    assert isinstance(exc, errors.RegcredError) and isinstance(exc, ValueError)


def test_input_error_with_a_sentence_of_its_own():
    exc = errors.InputError("namespace_selector", "namespace_selector 'a=b' matches no namespace", prefixed=False)
    assert str(exc) == "namespace_selector 'a=b' matches no namespace" and exc.field == "namespace_selector"
    assert str(errors.InputError(None, "one of namespace or namespaces is required")) == \
        "one of namespace or namespaces is required"


def test_every_error_of_the_collection_has_the_one_root():
    for exc in (errors.StateError("Secret x has type 'Opaque'"), KubeError("forbidden (HTTP 403)", 403),
                credential.ProviderError("registries[0].region", "unknown"), RegistryAuthError("refused", 401),
                DockerConfigError("data[.dockerconfigjson]", "is not base64"), AuthFileError("cannot read x")):
        assert isinstance(exc, errors.RegcredError), exc


def test_provider_error_is_importable_as_providers_import_it_and_keeps_its_constructor():
    assert credential.ProviderError is errors.ProviderError
    exc = credential.ProviderError("registries[1].tenant_id", "is required for provider acr")
    assert str(exc) == "registries[1].tenant_id: is required for provider acr"
    assert exc.field == "registries[1].tenant_id"


def test_input_errors_of_files_and_documents_carry_their_field():
    assert DockerConfigError("content.auths[a.io]", "must be an object").field == "content.auths[a.io]"
    exc = AuthFileError("/x is not valid JSON")
    assert (exc.field, str(exc)) == ("dest", "dest: /x is not valid JSON")
    with pytest.raises(errors.InputError) as caught:
        parse_duration("soon", "refresh_before")
    assert caught.value.field == "refresh_before"


def test_kube_error_is_fatal_only_for_the_connection():
    assert KubeError("cannot reach").fatal and KubeError("unauthorized", 401).fatal
    assert not KubeError("forbidden", 403).fatal and not KubeError("not found", 404).fatal
    assert KubeError("conflict", 409, "Conflict").reason == "Conflict"


def test_registry_error_keeps_status_and_code():
    exc = RegistryAuthError("denied", 403, "DENIED")
    assert (exc.status, exc.code, str(exc)) == (403, "DENIED", "denied")
