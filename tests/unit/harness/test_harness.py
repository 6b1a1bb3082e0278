"""Unit tests for the pure parts of the test harness."""

import hashlib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "harness"))

# pylint: disable=wrong-import-position
import junit_summary  # noqa: E402
import oci  # noqa: E402
from emulators import parse_scopes  # noqa: E402
from emulators_ecr import login_valid  # noqa: E402
from testenv import task_output  # noqa: E402


def test_parse_scopes_keeps_colons_in_repository_names():
    assert parse_scopes(["repository:localhost:5000/a/b:pull,push", "registry:catalog:*"]) == [
        {"type": "repository", "name": "localhost:5000/a/b", "actions": ["pull", "push"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]


def test_parse_scopes_splits_space_separated_post_scopes():
    assert [s["name"] for s in parse_scopes(["repository:a:pull repository:b:pull"])] == ["a", "b"]


def test_parse_scopes_ignores_malformed_items():
    assert parse_scopes(["", "repository", "repository:"]) == []


def test_ecr_public_token_endpoint_takes_only_unexpired_issued_logins():
    passwords = {"issued": 1000.0}
    assert login_valid(passwords, "AWS", "issued", 999.0)
    assert not login_valid(passwords, "AWS", "issued", 1000.0)
    assert not login_valid(passwords, "aws", "issued", 999.0)
    assert not login_valid(passwords, "AWS", "forged", 0.0)


def test_oci_layout_is_byte_stable(tmp_path):
    binary = tmp_path / "bin"
    binary.write_bytes(b"\x7fELF not really")
    first = oci.build_layout(binary, tmp_path / "one", "v1")
    second = oci.build_layout(binary, tmp_path / "two", "v1")
    assert first == second
    index = json.loads((tmp_path / "one" / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "v1"
    manifest = (tmp_path / "one" / "blobs" / "sha256" / first[7:]).read_bytes()
    assert "sha256:" + hashlib.sha256(manifest).hexdigest() == first


def test_junit_summary_counts_and_fails_on_nothing(tmp_path, capsys):
    (tmp_path / "a.xml").write_text(
        '<testsuites><testsuite><testcase name="a"/><testcase name="b"><failure/></testcase>'
        '<testcase name="c"><skipped/></testcase></testsuite></testsuites>')
    assert junit_summary.count(tmp_path) == (1, 1, 1)
    assert junit_summary.main(["x", str(tmp_path)]) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert junit_summary.main(["x", str(empty)]) == 1
    assert "0 passed, 0 failed" in capsys.readouterr().out


def test_junit_summary_counts_rescued_integration_tasks_only_when_the_step_passed(tmp_path, capsys):
    (tmp_path / "integration").mkdir()
    (tmp_path / "integration" / "t.xml").write_text(
        '<testsuites><testsuite><testcase name="ok"/><testcase name="negative"><failure/></testcase>'
        '</testsuite></testsuites>')
    assert junit_summary.main(["x", str(tmp_path)]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out
    assert junit_summary.main(["x", str(tmp_path), "integration"]) == 1
    assert "1 passed, 2 failed" in capsys.readouterr().out


def test_the_ecr_mirror_sends_ecr_images_to_the_loopback_registry(tmp_path):
    import tomllib  # pylint: disable=import-outside-toplevel

    import ecr_registry  # pylint: disable=import-outside-toplevel

    path = ecr_registry.write_containerd_mirror(tmp_path, "127.0.0.1:5005", "/ca.crt")
    assert path == tmp_path / "123456789012.dkr.ecr.us-east-1.amazonaws.com" / "hosts.toml"
    hosts = tomllib.loads(path.read_text())
    assert hosts["server"] == "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert hosts["host"] == {"https://127.0.0.1:5005": {"capabilities": ["pull", "resolve"], "ca": "/ca.crt"}}


PLAY_OUTPUT = """
PLAY [localhost] ***************************************************************

TASK [bad-a] *******************************************************************
fatal: [localhost]: FAILED! => {"changed": false, "msg": "name: a"}
...ignoring

TASK [bad-a-too] ***************************************************************
fatal: [localhost]: FAILED! => {"changed": false, "msg": "name: b"}
...ignoring

TASK [save the result] *********************************************************
changed: [localhost]

PLAY RECAP *********************************************************************
localhost                  : ok=3    changed=1    unreachable=0    failed=0
"""


def test_task_output_is_the_part_of_one_task():
    assert '"name: a"' in task_output(PLAY_OUTPUT, "bad-a") and "name: b" not in task_output(PLAY_OUTPUT, "bad-a")
    assert '"name: b"' in task_output(PLAY_OUTPUT, "bad-a-too") and "save" not in task_output(PLAY_OUTPUT, "bad-a-too")
    assert "changed: [localhost]" in task_output(PLAY_OUTPUT, "save the result")
    assert "PLAY RECAP" not in task_output(PLAY_OUTPUT, "save the result")


def test_task_output_of_a_task_that_printed_nothing_is_an_error():
    with pytest.raises(AssertionError, match="bad-b"):
        task_output(PLAY_OUTPUT, "bad-b")


def test_task_output_until_another_task_takes_the_tasks_in_between():
    part = task_output(PLAY_OUTPUT, "bad-a", until="save the result")
    assert '"name: a"' in part and '"name: b"' in part and "changed: [localhost]" not in part
