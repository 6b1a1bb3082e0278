# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubelet_flags.py: kubelet flags in an environment file such as /etc/default/kubelet."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.regcred.k8s.plugins.module_utils import kubelet_flags as kf
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError

VAR = "KUBELET_EXTRA_ARGS"
CONFIG = "--image-credential-provider-config"
BIN = "--image-credential-provider-bin-dir"
OURS = {CONFIG: "/etc/kubernetes/cp.yaml", BIN: "/usr/libexec/cp"}
GONE = {CONFIG: None, BIN: None}


@pytest.mark.parametrize("text, args", [
    ("", []),
    ("KUBELET_EXTRA_ARGS=\n", []),
    ('KUBELET_EXTRA_ARGS="--v=2 --node-ip=10.0.0.1"\n', ["--v=2", "--node-ip=10.0.0.1"]),
    ("KUBELET_EXTRA_ARGS='--v=2'\n", ["--v=2"]),
    ("KUBELET_EXTRA_ARGS=--v=2  --max-pods 50\n", ["--v=2", "--max-pods", "50"]),
    ('# comment\nOTHER="--x"\nKUBELET_EXTRA_ARGS="--a"\nKUBELET_EXTRA_ARGS="--b"\n', ["--b"]),
])
def test_args_of_reads_the_last_assignment_as_systemd_splits_it(text, args):
    assert kf.args_of(text, VAR) == args


def test_set_on_an_empty_file_adds_the_variable():
    assert kf.with_flags("", VAR, OURS) == (
        'KUBELET_EXTRA_ARGS="--image-credential-provider-bin-dir=/usr/libexec/cp '
        '--image-credential-provider-config=/etc/kubernetes/cp.yaml"\n')


def test_other_flags_and_lines_are_kept():
    text = '# managed by hand\nKUBELET_EXTRA_ARGS="--v=2 --node-labels=a=b"\nHTTP_PROXY=x\n'
    new = kf.with_flags(text, VAR, OURS)
    assert new.splitlines()[0] == "# managed by hand" and new.splitlines()[2] == "HTTP_PROXY=x"
    assert kf.args_of(new, VAR) == ["--v=2", "--node-labels=a=b", BIN + "=/usr/libexec/cp", CONFIG + "=/etc/kubernetes/cp.yaml"]
    assert kf.with_flags(new, VAR, GONE) == '# managed by hand\nKUBELET_EXTRA_ARGS="--v=2 --node-labels=a=b"\nHTTP_PROXY=x\n'


@pytest.mark.parametrize("before", [
    'KUBELET_EXTRA_ARGS="--image-credential-provider-config=/old --v=2"',
    'KUBELET_EXTRA_ARGS="--image-credential-provider-config /old --v=2"',
    'KUBELET_EXTRA_ARGS="--image-credential-provider-config --v=2"',
])
def test_an_existing_flag_is_replaced_in_either_form(before):
    new = kf.with_flags(before + "\n", VAR, {CONFIG: "/new"})
    assert kf.args_of(new, VAR) == ["--v=2", CONFIG + "=/new"]


def test_setting_twice_changes_nothing_the_second_time():
    once = kf.with_flags('KUBELET_EXTRA_ARGS="--v=2"', VAR, OURS)
    assert kf.with_flags(once, VAR, OURS) == once


def test_an_unchanged_file_is_returned_byte_for_byte():
    text = "KUBELET_EXTRA_ARGS='--v=2 --image-credential-provider-config=/x'"  # no final newline, single quotes
    assert kf.with_flags(text, VAR, {CONFIG: "/x"}) == text


def test_removing_from_a_file_without_the_variable_changes_nothing():
    assert kf.with_flags("OTHER=1", VAR, GONE) == "OTHER=1"
    assert kf.with_flags("", VAR, GONE) == ""


@pytest.mark.parametrize("variable, flags, field", [
    ("KUBELET EXTRA", OURS, "variable"),
    ("", OURS, "variable"),
    (VAR, {"image-credential-provider-config": "/x"}, "flags"),
    (VAR, {"--Bad": "/x"}, "flags"),
    (VAR, {CONFIG: "/path with space"}, CONFIG),
    (VAR, {CONFIG: '/a"b'}, CONFIG),
    (VAR, {CONFIG: "/a$HOME"}, CONFIG),
    (VAR, {CONFIG: ""}, CONFIG),
])
def test_bad_input_names_the_field(variable, flags, field):
    with pytest.raises(InputError) as error:
        kf.with_flags("", variable, flags)
    assert error.value.field == field


WORD = st.from_regex(r"--[a-z]{1,8}(=[a-z0-9/]{1,8})?", fullmatch=True)


@given(st.lists(WORD, max_size=6), st.sampled_from(['"', "'", ""]))
def test_set_then_remove_gives_back_the_other_flags(others, quote):
    others = [a for a in others if not a.startswith("--image-credential-provider")]
    text = "KUBELET_EXTRA_ARGS=%s%s%s\n" % (quote, " ".join(others), quote)
    added = kf.with_flags(text, VAR, OURS)
    assert kf.args_of(added, VAR)[:len(others)] == others
    assert kf.args_of(kf.with_flags(added, VAR, GONE), VAR) == others
