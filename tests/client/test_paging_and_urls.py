"""Paging plans over $top/$skip, URL and query building: pure, no server."""

from __future__ import annotations

import pytest

from py3cx import F
from py3cx._base_client import Pager, api_path, page_rows, query_string
from py3cx._exceptions import APIError


def rows(n: int) -> list[dict[str, object]]:
    return [{"Id": i} for i in range(n)]


def test_a_short_page_asks_again_and_an_empty_page_ends() -> None:
    # a PBX may cap its page size: a short page is not the end of the collection
    pager = Pager(page_size=10)
    assert pager.next() == (10, 0)
    pager.record(rows(10), None)
    assert pager.next() == (10, 10)
    pager.record(rows(3), None)
    assert pager.next() == (10, 13)
    pager.record([], None)
    assert pager.next() is None


def test_a_short_page_that_reaches_the_count_ends_paging() -> None:
    pager = Pager(page_size=10)
    pager.record(rows(10), 13)
    pager.record(rows(3), None)
    assert pager.next() is None


def test_a_page_larger_than_asked_ends_paging() -> None:
    # the PBX ignored $top and sent everything: asking again would repeat it
    pager = Pager(page_size=10)
    pager.record(rows(25), None)
    assert pager.next() is None


def test_an_empty_first_page_ends_paging() -> None:
    pager = Pager(page_size=10)
    page = pager.record([], None)
    assert page.rows == [] and page.skip == 0
    assert pager.next() is None


def test_a_known_count_saves_the_last_empty_request() -> None:
    pager = Pager(page_size=5)
    first = pager.record(rows(5), 10)
    assert first.count == 10
    second = pager.record(rows(5), None)
    assert second.count == 10 and second.skip == 5
    assert pager.next() is None


def test_top_caps_the_total_and_skip_is_the_start() -> None:
    pager = Pager(page_size=4, skip=100, limit=6)
    assert pager.next() == (4, 100)
    pager.record(rows(4), None)
    assert pager.next() == (2, 104)
    pager.record(rows(2), None)
    assert pager.next() is None


def test_top_zero_asks_for_nothing() -> None:
    assert Pager(page_size=4, limit=0).next() is None


def test_page_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Pager(page_size=0)


def test_collection_bodies_give_rows_and_count() -> None:
    assert page_rows({"value": rows(2), "@odata.count": 7}, "GET", "/x") == (rows(2), 7)
    assert page_rows({"@odata.context": "c", "value": []}, "GET", "/x") == ([], None)
    assert page_rows(rows(1), "GET", "/callcontrol") == (rows(1), None)


def test_a_single_entity_cannot_be_paged() -> None:
    with pytest.raises(APIError) as caught:
        page_rows({"Id": 1}, "GET", "/xapi/v1/Defs")
    assert caught.value.hint is not None


def test_relative_paths_live_under_xapi_v1_and_absolute_ones_at_the_root() -> None:
    assert api_path("Users") == "/xapi/v1/Users"
    assert api_path("Users(Number='100')/Groups") == "/xapi/v1/Users(Number='100')/Groups"
    assert api_path("/callcontrol/100/participants") == "/callcontrol/100/participants"
    assert api_path("/xapi/v1/Defs") == "/xapi/v1/Defs"


def test_query_uses_percent_20_for_spaces_never_plus() -> None:
    text = query_string(filter=F("LastName") == "van der Berg", orderby="SegmentStartTime desc", top=5)
    assert "+" not in text
    assert "$filter=LastName%20eq%20'van%20der%20Berg'" in text
    assert "$orderby=SegmentStartTime%20desc" in text
    assert "$top=5" in text


def test_filter_values_are_escaped_once() -> None:
    text = query_string(filter=F("LastName") == "O'Brien & Co #1")
    assert "O''Brien%20%26%20Co%20%231" in text


def test_extra_params_are_encoded_like_options() -> None:
    text = query_string(count=True, params={"culture": "de DE", "flag": True, "skipme": None})
    assert "$count=true" in text
    assert "culture=de%20DE" in text
    assert "flag=true" in text
    assert "skipme" not in text


def test_no_options_no_query() -> None:
    assert query_string() == ""


def test_a_count_sent_as_a_string_is_a_count() -> None:
    # OData servers asked for IEEE754-compatible numbers send 64-bit counts as strings
    assert page_rows({"value": rows(2), "@odata.count": "7"}, "GET", "/x") == (rows(2), 7)
    assert page_rows({"value": rows(2), "@odata.count": 7.0}, "GET", "/x") == (rows(2), 7)
    assert page_rows({"value": [], "@odata.count": "many"}, "GET", "/x") == ([], None)
    assert page_rows({"value": [], "@odata.count": True}, "GET", "/x") == ([], None)
