"""execution-environment.yml, rendered by ansible-builder into the build context a container engine
would build (``ansible-builder create``, no engine needed), installs exactly one collection tarball.
ansible-builder copies whatever its glob matches, none or several; the Dockerfile step that picks
the tarball is run here on that context, as the image build runs it: with none or two tarballs it
fails and says why, with one it puts it where the galaxy requirements expect it."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# What execution-environment.yml reads from the repository.
INPUTS = ("execution-environment.yml", "requirements.txt", "bindep.txt", "scripts/ee-one-collection")
STEP = re.compile(r"^RUN (sh /build/scripts/ee-one-collection .*)$", re.M)


def build_context(tmp_path, tarballs):
    """The build context ansible-builder renders with ``tarballs`` next to execution-environment.yml."""
    project = tmp_path / "project"
    for name in INPUTS:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, project / name)
    for name in tarballs:
        (project / name).write_text("the tarball " + name)
    context = tmp_path / "context"
    builder = Path(sys.executable).parent / "ansible-builder"
    subprocess.run([str(builder), "create", "-f", "execution-environment.yml", "-c", str(context)], cwd=project,
                   check=True, capture_output=True, text=True, timeout=120)
    return context


def run_collection_step(context):
    """The Dockerfile's step that picks the tarball, on the context copied to /build as the step before it does."""
    dockerfile = (context / "Dockerfile").read_text()
    assert "\nCOPY _build/ /build/\n" in dockerfile
    steps = STEP.findall(dockerfile)
    assert len(steps) == 1, dockerfile
    command = steps[0].replace("/build/", str(context / "_build") + "/")
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30, check=False)


def test_one_tarball_is_installed(tmp_path):
    context = build_context(tmp_path, ["regcred-k8s-1.1.0.tar.gz"])
    step = run_collection_step(context)
    assert step.returncode == 0, step.stderr
    installed = context / "_build" / "regcred-k8s.tar.gz"
    assert installed.read_text() == "the tarball regcred-k8s-1.1.0.tar.gz"
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"] == [{"name": "/build/regcred-k8s.tar.gz", "type": "file"}]


@pytest.mark.parametrize("tarballs,message", [
    ([], r"no regcred-k8s-\*\.tar\.gz next to it; run 'ansible-galaxy collection build --force' there first"),
    (["regcred-k8s-1.0.0.tar.gz", "regcred-k8s-1.1.0.tar.gz"],
     r"2 collection tarballs next to it \( regcred-k8s-1\.0\.0\.tar\.gz regcred-k8s-1\.1\.0\.tar\.gz \); "
     r"delete all but the one to install"),
])
def test_none_or_several_tarballs_stop_the_build(tmp_path, tarballs, message):
    context = build_context(tmp_path, tarballs)
    step = run_collection_step(context)
    assert step.returncode == 1
    assert re.search(message, step.stderr), step.stderr
    assert not (context / "_build" / "regcred-k8s.tar.gz").exists()
