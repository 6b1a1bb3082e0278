from pathlib import Path

import yaml

from ansible_collections.regcred.k8s.plugins.module_utils.version import COLLECTION_VERSION, user_agent


def test_version_matches_galaxy_yml():
    galaxy = yaml.safe_load((Path(__file__).resolve().parents[4] / "galaxy.yml").read_text())
    assert COLLECTION_VERSION == galaxy["version"]
    assert user_agent("x") == "regcred.k8s/%s (x)" % galaxy["version"]
