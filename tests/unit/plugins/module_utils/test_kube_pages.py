"""kube.all_pages: a LIST read in pages with limit and continue, without I/O."""

import pytest

from ansible_collections.regcred.k8s.plugins.module_utils.errors import KubeError
from ansible_collections.regcred.k8s.plugins.module_utils.kube import PAGE_SIZE, all_pages


def pages(*bodies):
    """fetch() answering ``bodies`` in turn, and the query parameters it was called with."""
    asked, answers = [], list(bodies)

    def fetch(paging):
        asked.append(paging)
        return answers.pop(0)

    return fetch, asked


def test_one_page_without_continue_is_the_whole_list():
    fetch, asked = pages({"metadata": {"resourceVersion": "7"}, "items": [{"n": 1}, {"n": 2}]})
    assert all_pages(fetch, 500) == [{"n": 1}, {"n": 2}]
    assert asked == [{"limit": 500}]


def test_each_continue_token_asks_for_the_next_page_until_one_has_none():
    fetch, asked = pages({"metadata": {"continue": "c1"}, "items": [{"n": 1}, {"n": 2}]},
                         {"metadata": {"continue": "c2"}, "items": [{"n": 3}, {"n": 4}]},
                         {"metadata": {"continue": ""}, "items": [{"n": 5}]})
    assert all_pages(fetch, 2) == [{"n": index} for index in range(1, 6)]
    assert asked == [{"limit": 2}, {"limit": 2, "continue": "c1"}, {"limit": 2, "continue": "c2"}]


def test_a_filtered_page_may_be_empty_yet_not_the_last():
    # With a field selector the apiserver can answer a page with no matches and a continue token.
    fetch, asked = pages({"metadata": {"continue": "c1"}, "items": []},
                         {"metadata": {}, "items": [{"n": 1}]})
    assert all_pages(fetch, 3) == [{"n": 1}]
    assert len(asked) == 2


@pytest.mark.parametrize("empty", [{"items": None}, {"metadata": None, "items": None}, {}])
def test_a_metadata_only_list_with_nothing_in_it_is_empty(empty):
    fetch, dummy = pages(empty)
    assert all_pages(fetch, PAGE_SIZE) == []


def test_an_error_of_a_later_page_is_not_swallowed():
    answers = [{"metadata": {"continue": "c1"}, "items": [{"n": 1}]}]

    def fetch(paging):
        if "continue" in paging:
            raise RuntimeError("410: the continue token expired")
        return answers.pop(0)

    with pytest.raises(RuntimeError, match="expired"):
        all_pages(fetch, 1)


def expiring(status, first_page_fails=False):
    """fetch() whose continued page fails with ``status`` (or the first page, when asked); an
    unpaged request gets the whole list. The parameters it was called with."""
    asked = []

    def fetch(paging):
        asked.append(paging)
        if "continue" in paging or (first_page_fails and "limit" in paging):
            raise KubeError("The provided continue parameter is too old to display a consistent list result.", status)
        if not paging:
            return {"metadata": {}, "items": [{"n": 1}, {"n": 2}, {"n": 3}]}
        return {"metadata": {"continue": "c1"}, "items": [{"n": 1}]}

    return fetch, asked


def test_an_expired_continue_token_reads_the_whole_list_again_in_one_request():
    fetch, asked = expiring(410)
    assert all_pages(fetch, 1) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert asked == [{"limit": 1}, {"limit": 1, "continue": "c1"}, {}]


@pytest.mark.parametrize("status, first_page_fails", [(410, True), (500, False), (403, False)])
def test_other_errors_and_a_410_of_the_first_page_are_raised(status, first_page_fails):
    fetch, asked = expiring(status, first_page_fails)
    with pytest.raises(KubeError) as raised:
        all_pages(fetch, 1)
    assert raised.value.status == status
    assert {} not in asked
